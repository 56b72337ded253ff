// Generated from schemas/protocol-summary-result.schema.json by scripts/gen-types.mjs (npm run gen-types). Do not edit.

/**
 * A number, string, boolean or null (a list or other object as its JSON text).
 */
export type Value = number | string | boolean | null;

/**
 * Each run's parameters (the nearest params.yaml above the run folder, then the run folder's own params.yaml, flattened with '.') and final metrics (the run folder's metrics.json, flattened with '/'), read from the run's own revision.
 */
export interface DvcstageSummaryResult {
  runs: RunSummary[];
}
export interface RunSummary {
  /**
   * The run id.
   */
  run: string;
  /**
   * Parameters by dotted name (train.lr).
   */
  params: {
    [k: string]: Value | undefined;
  };
  /**
   * Final metrics by name (loss, train/acc, step).
   */
  metrics: {
    [k: string]: Value | undefined;
  };
  /**
   * Files that exist but could not be read or parsed, and why.
   */
  problems: string[];
}
