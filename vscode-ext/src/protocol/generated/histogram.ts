// Generated from schemas/histogram.schema.json by scripts/gen-types.mjs (npm run gen-types). Do not edit.

/**
 * A histogram as Histogram.to_summary() writes it into metrics.json (W&B's summary form): counts in values, bin edges in bins, len(bins) == len(values) + 1 (checked by the writer; JSON Schema cannot compare lengths). Histograms logged at steps have no per-step sidecar: each key's steps are rows of one append-only TSV series, plots/histograms/<key>.tsv (<key>/<item>.tsv for list items), with the header step, bin, low, high, count.
 */
export interface HistogramSummaryForm {
  _type: "histogram";
  /**
   * The count of each bin: integers from np.histogram, or floats (densities) given through np_histogram.
   *
   * @minItems 1
   * @maxItems 512
   */
  values: [number, ...number[]];
  /**
   * The bin edges, strictly increasing.
   *
   * @minItems 2
   * @maxItems 513
   */
  bins: [number, number, ...number[]];
}
