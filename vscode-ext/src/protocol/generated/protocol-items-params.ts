// Generated from schemas/protocol-items-params.schema.json by scripts/gen-types.mjs (npm run gen-types). Do not edit.

/**
 * Several items at once (every cell on screen at a step, or the steps loaded ahead): each entry is the params of one dvcstage/item.
 */
export interface DvcstageItemsParams {
  /**
   * @minItems 1
   * @maxItems 256
   */
  items: [DvcstageItemParams, ...DvcstageItemParams[]];
}
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
