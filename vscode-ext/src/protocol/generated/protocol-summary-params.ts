// Generated from schemas/protocol-summary-params.schema.json by scripts/gen-types.mjs (npm run gen-types). Do not edit.

/**
 * The runs whose parameters and final metrics are wanted; every known run when runs is absent (null or an empty object).
 */
export type DvcstageSummaryParams = null | {
  /**
   * Run ids from dvcstage/runs.
   */
  runs?: string[];
};
