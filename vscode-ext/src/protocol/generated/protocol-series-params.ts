// Generated from schemas/protocol-series-params.schema.json by scripts/gen-types.mjs (npm run gen-types). Do not edit.

/**
 * A histogram key (plots/histograms/<key>.tsv) or a metric name (plots/metrics/<name>.tsv).
 */
export interface DvcstageSeriesParams {
  /**
   * A run id from dvcstage/runs (workspace:<dir> for a run in the workspace).
   */
  run: string;
  key: string;
  kind: "histogram" | "metric";
  /**
   * Position within a list logged under one key at one step.
   */
  item?: number;
}
