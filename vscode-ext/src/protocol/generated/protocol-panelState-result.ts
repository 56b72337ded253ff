// Generated from schemas/protocol-panelState-result.schema.json by scripts/gen-types.mjs (npm run gen-types). Do not edit.

/**
 * The layout saved for this workspace, or null when none was saved.
 */
export interface DvcstagePanelStateResult {
  state: {} | null;
}
