// Generated from schemas/protocol-changed.schema.json by scripts/gen-types.mjs (npm run gen-types). Do not edit.

/**
 * Sent when new lines land in a run's media index (or a run appears, or its index is replaced). Ask dvcstage/item for the new items.
 */
export interface DvcstageChangedNotificationParams {
  /**
   * A run id from dvcstage/runs (workspace:<dir> for a run in the workspace).
   */
  run: string;
  lastStep: number | null;
  /**
   * In index order; at most 1000 (the last ones).
   */
  items: {
    key: string;
    step: number;
    kind: string;
    /**
     * Position within a list logged under one key at one step.
     */
    item?: number;
  }[];
  /**
   * The run was not known before: items lists everything it holds.
   */
  new?: true;
  /**
   * The index was replaced or removed: re-query the run.
   */
  reset?: true;
  /**
   * More items arrived than listed.
   */
  truncated?: true;
}
