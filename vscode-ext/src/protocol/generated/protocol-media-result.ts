// Generated from schemas/protocol-media-result.schema.json by scripts/gen-types.mjs (npm run gen-types). Do not edit.

/**
 * Each key of a run with its kind and the steps it was logged at, and the run's metric series.
 */
export interface DvcstageMediaResult {
  /**
   * A run id from dvcstage/runs (workspace:<dir> for a run in the workspace).
   */
  run: string;
  keys: {
    key: string;
    /**
     * image, histogram, audio, video, table, html, object3d or molecule.
     */
    kind: string;
    /**
     * Ascending.
     */
    steps: number[];
    /**
     * Present when a list was logged under the key: the positions seen.
     *
     * Items: Position within a list logged under one key at one step.
     */
    items?: number[];
  }[];
  metrics: {
    /**
     * plots/metrics/<name>.tsv; ask dvcstage/series with kind metric.
     */
    name: string;
    uri: string;
  }[];
}
