// Generated from schemas/protocol-media-params.schema.json by scripts/gen-types.mjs (npm run gen-types). Do not edit.

/**
 * Which run.
 */
export interface DvcstageMediaParams {
  /**
   * A run id from dvcstage/runs (workspace:<dir> for a run in the workspace).
   */
  run: string;
}
