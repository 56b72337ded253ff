// Generated from schemas/protocol-item-params.schema.json by scripts/gen-types.mjs (npm run gen-types). Do not edit.

/**
 * One item: run, key, step and (for lists) the position.
 */
export interface DvcstageItemParams {
  /**
   * A run id from dvcstage/runs (workspace:<dir> for a run in the workspace).
   */
  run: string;
  key: string;
  step: number;
  /**
   * Position within a list logged under one key at one step.
   */
  item?: number;
}
