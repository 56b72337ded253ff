// Generated from schemas/protocol-series-result.schema.json by scripts/gen-types.mjs (npm run gen-types). Do not edit.

/**
 * A histogram's bins per step (the last block of each step) or a metric's points, ascending by step.
 */
export type DvcstageSeriesResult = {
  /**
   * A run id from dvcstage/runs (workspace:<dir> for a run in the workspace).
   */
  run: string;
  key: string;
  kind: "histogram" | "metric";
  uri: string;
  steps?: {
    step: number;
    bins: {
      low: number;
      high: number;
      count: number;
    }[];
  }[];
  points?: {
    step: number;
    /**
     * null when not a finite number.
     */
    value: number | null;
  }[];
} & (
  | {
      kind?: "histogram";
    }
  | {
      kind?: "metric";
    }
);
