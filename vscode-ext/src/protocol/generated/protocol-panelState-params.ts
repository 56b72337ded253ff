// Generated from schemas/protocol-panelState-params.schema.json by scripts/gen-types.mjs (npm run gen-types). Do not edit.

/**
 * Without state: read the saved layout. With state: save it (replacing what was saved).
 */
export type DvcstagePanelStateParams = null | {
  /**
   * The panel's layout, as the panel wrote it (at most 1 MiB as JSON).
   */
  state?: {};
};
