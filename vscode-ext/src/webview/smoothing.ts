// Smoothing of metric curves, as TensorBoard does it: an exponential moving average with its
// start-up bias removed (so the first points are not pulled towards zero). Pure.

/** `values` smoothed with weight `weight` (0: none, up to 0.999); nulls stay null and are skipped. */
export function smooth(values: readonly (number | null)[], weight: number): (number | null)[] {
  if (!(weight > 0)) return [...values];
  const w = Math.min(0.999, weight);
  let last = 0;
  let n = 0;
  return values.map((v) => {
    if (v === null || !Number.isFinite(v)) return null;
    last = last * w + (1 - w) * v;
    n++;
    return last / (1 - w ** n);
  });
}

/**
 * Series of several runs on one x axis (uPlot's aligned data): the union of their steps, and
 * each run's values at those steps (null where it logged none).
 */
export function alignSeries(series: readonly { steps: readonly number[]; values: readonly (number | null)[] }[]): { x: number[]; ys: (number | null)[][] } {
  const all = new Set<number>();
  for (const s of series) for (const step of s.steps) all.add(step);
  const x = [...all].sort((a, b) => a - b);
  const at = new Map(x.map((step, i) => [step, i]));
  const ys = series.map((s) => {
    const y: (number | null)[] = new Array(x.length).fill(null);
    s.steps.forEach((step, i) => (y[at.get(step) as number] = s.values[i] ?? null));
    return y;
  });
  return { x, ys };
}

/** The index of the x value nearest `value` in ascending `xs` (-1 when empty). */
export function nearestIndex(xs: readonly number[], value: number): number {
  if (!xs.length) return -1;
  let lo = 0;
  let hi = xs.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((xs[mid] as number) < value) lo = mid + 1;
    else hi = mid;
  }
  if (lo > 0 && Math.abs((xs[lo - 1] as number) - value) <= Math.abs((xs[lo] as number) - value)) return lo - 1;
  return lo;
}
