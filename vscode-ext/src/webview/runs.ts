// Run identity, as plain data (unit-tested): a short label for each run (the experiment's
// name, the commit's ref or sha, the workspace run's folder; the folder added where two runs
// would read alike), the params and metrics shown as columns of the runs table, their
// sorting, filtering and grouping.
import type { Run } from "../protocol/generated/protocol-runs-result";
import type { RunSummary, Value } from "../protocol/generated/protocol-summary-result";

/** The name that tells a run apart without its folder. */
function baseLabel(run: Run): string {
  if (run.kind === "experiment") return run.refs?.[0] ?? run.revision.slice(0, 7);
  if (run.kind === "commit") return run.refs?.find((r) => r !== "HEAD") ?? run.refs?.[0] ?? run.revision.slice(0, 7);
  return run.dir;
}

/** Short labels by run id: unique among `runs`. */
export function shortLabels(runs: readonly Run[]): Map<string, string> {
  const base = new Map(runs.map((r) => [r.id, baseLabel(r)]));
  const count = new Map<string, number>();
  for (const label of base.values()) count.set(label, (count.get(label) ?? 0) + 1);
  const out = new Map<string, string>();
  for (const run of runs) {
    let label = base.get(run.id) as string;
    if ((count.get(label) ?? 0) > 1 && run.kind !== "workspace") label = `${label} · ${run.dir}`;
    if ([...out.values()].includes(label)) label = `${label} · ${run.revision.slice(0, 7)}`;
    out.set(run.id, label);
  }
  return out;
}

/** A long description: kind, ref names, sha, folder. */
export function runTitle(run: Run): string {
  if (run.kind === "workspace") return `${run.dir} (workspace)`;
  const where = run.remote ? ` on ${run.remote}: fetched when chosen` : "";
  return `${run.label} (${run.kind} ${run.revision.slice(0, 7)}${where})`;
}

export type Column = { kind: "param" | "metric"; name: string };

export function columnId(c: Column): string {
  return `${c.kind}:${c.name}`;
}

/**
 * The params and metrics columns: params whose value differs between runs first (they tell
 * the runs apart), then the rest; metrics after params. At most `max` in all.
 */
export function summaryColumns(summaries: readonly RunSummary[], max = 16): Column[] {
  const params = new Map<string, Set<string>>();
  const metrics = new Set<string>();
  for (const s of summaries) {
    for (const [k, v] of Object.entries(s.params)) {
      const seen = params.get(k) ?? new Set<string>();
      seen.add(JSON.stringify(v));
      params.set(k, seen);
    }
    for (const k of Object.keys(s.metrics)) metrics.add(k);
  }
  const varying = [...params].filter(([, v]) => v.size > 1 || summaries.length === 1).map(([k]) => k).sort();
  const fixed = [...params].filter(([, v]) => !(v.size > 1 || summaries.length === 1)).map(([k]) => k).sort();
  const metricNames = [...metrics].sort((a, b) => (a === "step" ? 1 : b === "step" ? -1 : a < b ? -1 : 1));
  const out: Column[] = [...varying.map((name) => ({ kind: "param" as const, name })), ...metricNames.map((name) => ({ kind: "metric" as const, name })), ...fixed.map((name) => ({ kind: "param" as const, name }))];
  return out.slice(0, max);
}

export function valueOf(summary: RunSummary | undefined, column: Column): Value | undefined {
  if (!summary) return undefined;
  return column.kind === "param" ? summary.params[column.name] : summary.metrics[column.name];
}

export function formatValue(v: Value | undefined): string {
  if (v === undefined || v === null) return "";
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(4)));
  return String(v);
}

/** Runs sorted by a column (numbers by value, text by locale, missing last), else as listed. */
export function sortRuns(runs: readonly Run[], summaries: ReadonlyMap<string, RunSummary>, column: Column | undefined, dir: 1 | -1, labels: ReadonlyMap<string, string>): Run[] {
  if (!column) return [...runs];
  const key = (r: Run): Value | undefined => (column.kind === "param" && column.name === "") ? labels.get(r.id) : valueOf(summaries.get(r.id), column);
  return [...runs].sort((a, b) => {
    const va = key(a);
    const vb = key(b);
    const ma = va === undefined || va === null;
    const mb = vb === undefined || vb === null;
    if (ma || mb) return ma === mb ? 0 : ma ? 1 : -1;
    const c = typeof va === "number" && typeof vb === "number" ? va - vb : String(va).localeCompare(String(vb), undefined, { numeric: true });
    return c * dir;
  });
}

/**
 * Whether a run passes a filter: words that must all match. `name=value` (or `name>value`,
 * `name<value`) tests a param or metric; other words are looked for in the label, kind and
 * values.
 */
export function runMatches(run: Run, summary: RunSummary | undefined, label: string, filter: string): boolean {
  const words = filter.trim().split(/\s+/).filter(Boolean);
  const values: Record<string, Value | undefined> = { ...(summary?.params ?? {}), ...(summary?.metrics ?? {}) };
  return words.every((word) => {
    const m = /^([^=<>]+)(=|<|>)(.*)$/.exec(word);
    if (m) {
      const [, name, op, want] = m as unknown as [string, string, string, string];
      const v = values[name];
      if (v === undefined || v === null) return false;
      if (op === "=") return formatValue(v).toLowerCase() === want.toLowerCase() || String(v).toLowerCase() === want.toLowerCase();
      const n = Number(want);
      return typeof v === "number" && Number.isFinite(n) && (op === "<" ? v < n : v > n);
    }
    const text = `${label} ${run.label} ${run.kind} ${Object.values(values).map(formatValue).join(" ")}`.toLowerCase();
    return text.includes(word.toLowerCase());
  });
}

/** Runs in groups by a param's value (groups in order of their first run). */
export function groupRuns(runs: readonly Run[], summaries: ReadonlyMap<string, RunSummary>, param: string): { value: string; runs: Run[] }[] {
  const groups = new Map<string, Run[]>();
  for (const run of runs) {
    const v = summaries.get(run.id)?.params[param];
    const key = v === undefined ? "(not set)" : formatValue(v);
    const list = groups.get(key) ?? [];
    list.push(run);
    groups.set(key, list);
  }
  return [...groups].map(([value, list]) => ({ value, runs: list }));
}
