// Generated from schemas/protocol-changed.schema.json by scripts/gen-types.mjs (npm run gen-types). Do not edit.

/**
 * Sent when new lines land in a run's media index (or a run appears, or its index is replaced), and when runs of git revisions or DVC experiments appear or disappear. Ask dvcstage/item for the new items.
 */
export interface DvcstageChangedNotificationParams {
  /**
   * A run id from dvcstage/runs.
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
   * The run was not known before. Workspace runs: items lists everything it holds. Revision and experiment runs: items is empty (ask dvcstage/media).
   */
  new?: true;
  /**
   * The index was replaced (or the run id now names another commit): re-query the run.
   */
  reset?: true;
  /**
   * More items arrived than listed.
   */
  truncated?: true;
  /**
   * The run is gone: a workspace run's index (or its whole folder) was deleted; a revision's or experiment's ref was deleted or fell out of the listed revisions. lastStep is null and items empty; if the run comes back it is announced as new.
   */
  removed?: true;
  /**
   * The run's kind; sent for commit and experiment runs.
   */
  kind?: "workspace" | "commit" | "experiment";
}
