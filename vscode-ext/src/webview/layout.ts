// The workspace's layout as plain data (no DOM; unit-tested): keys grouped into sections by
// their prefix (`val/pred` -> section `val`), the order of panels within a section (images
// first, then charts, ...; or the order the user dragged them into), panel sizes, folded
// sections, and the whole saved state (docs/panel-host.md: saved per workspace).

/** A key's kind, and "metric" for a metric chart. */
export interface PanelSpec {
  key: string;
  kind: string;
}

export interface PanelSize {
  /** Grid columns the panel spans (1..MAX_SPAN). */
  span: number;
  /** Height of one row of its cells, in CSS pixels. */
  height: number;
}

export interface Section<T extends PanelSpec = PanelSpec> {
  /** The prefix ("" for keys without one). */
  name: string;
  panels: T[];
}

/** Everything the panel saves for a workspace. Version 1; unknown members are kept. */
export interface SavedLayout {
  v: 1;
  /** Folded sections. */
  collapsed: string[];
  /** Section -> keys in the order the user put them (keys not listed follow, by kind). */
  order: Record<string, string[]>;
  /** Key -> size the user chose. */
  sizes: Record<string, PanelSize>;
  /** The chosen runs (columns); absent: the default choice. */
  columns?: string[];
  /** Run -> slot in RUN_PALETTE. */
  colors: Record<string, number>;
  /** Metric charts: exponential smoothing weight 0..0.99. */
  smoothing: number;
  /** Keys shown with a logarithmic y axis (metrics) or log counts (histograms). */
  logScale: string[];
  /** The shared slider's step (null: the latest). */
  step?: number | null;
  /** The runs table: sort, filter text, grouping param, open or not. */
  runSort?: { column: string; dir: 1 | -1 };
  runFilter?: string;
  runGroup?: string;
  runsOpen?: boolean;
}

export const MAX_SPAN = 4;
export const MIN_HEIGHT = 120;
export const MAX_HEIGHT = 1200;

/** Kinds in the order their panels come within a section: pictures first, sound last. */
export const KIND_ORDER = ["image", "metric", "histogram", "table", "video", "object3d", "html", "molecule", "audio"];

export function emptyLayout(): SavedLayout {
  return { v: 1, collapsed: [], order: {}, sizes: {}, colors: {}, smoothing: 0.6, logScale: [] };
}

/** A saved layout read back (anything malformed is dropped, member by member). */
export function readLayout(value: unknown): SavedLayout {
  const out = emptyLayout();
  if (typeof value !== "object" || value === null) return out;
  const v = value as Record<string, unknown>;
  const strings = (x: unknown): string[] => (Array.isArray(x) ? x.filter((s): s is string => typeof s === "string") : []);
  out.collapsed = strings(v.collapsed);
  out.logScale = strings(v.logScale);
  if (typeof v.order === "object" && v.order !== null) {
    for (const [k, keys] of Object.entries(v.order)) out.order[k] = strings(keys);
  }
  if (typeof v.sizes === "object" && v.sizes !== null) {
    for (const [k, size] of Object.entries(v.sizes as Record<string, unknown>)) {
      const s = size as Partial<PanelSize> | null;
      if (s && typeof s.span === "number" && typeof s.height === "number") out.sizes[k] = clampSize({ span: s.span, height: s.height });
    }
  }
  if (Array.isArray(v.columns)) out.columns = strings(v.columns);
  if (typeof v.colors === "object" && v.colors !== null) {
    for (const [k, slot] of Object.entries(v.colors as Record<string, unknown>)) if (typeof slot === "number" && slot >= 0) out.colors[k] = Math.floor(slot);
  }
  if (typeof v.smoothing === "number" && v.smoothing >= 0 && v.smoothing < 1) out.smoothing = v.smoothing;
  if (typeof v.step === "number" || v.step === null) out.step = v.step;
  const sort = v.runSort as { column?: unknown; dir?: unknown } | undefined;
  if (sort && typeof sort.column === "string" && (sort.dir === 1 || sort.dir === -1)) out.runSort = { column: sort.column, dir: sort.dir };
  if (typeof v.runFilter === "string") out.runFilter = v.runFilter;
  if (typeof v.runGroup === "string") out.runGroup = v.runGroup;
  if (typeof v.runsOpen === "boolean") out.runsOpen = v.runsOpen;
  return out;
}

export function clampSize(size: PanelSize): PanelSize {
  return {
    span: Math.min(MAX_SPAN, Math.max(1, Math.round(size.span))),
    height: Math.min(MAX_HEIGHT, Math.max(MIN_HEIGHT, Math.round(size.height))),
  };
}

/** The section of a key: the part before its first "/" ("" when it has none). */
export function sectionOf(key: string): string {
  const at = key.indexOf("/");
  return at > 0 ? key.slice(0, at) : "";
}

/** The size a panel starts with. */
export function defaultSize(kind: string): PanelSize {
  switch (kind) {
    case "image":
      return { span: 2, height: 300 };
    case "table":
      return { span: 2, height: 340 };
    case "metric":
      return { span: 1, height: 240 };
    case "histogram":
      return { span: 2, height: 260 };
    case "audio":
      return { span: 1, height: 150 };
    case "html":
      return { span: 2, height: 260 };
    default:
      return { span: 1, height: 300 };
  }
}

export function sizeOf(layout: SavedLayout, spec: PanelSpec): PanelSize {
  return layout.sizes[spec.key] ?? defaultSize(spec.kind);
}

function kindRank(kind: string): number {
  const i = KIND_ORDER.indexOf(kind);
  return i < 0 ? KIND_ORDER.length : i;
}

/**
 * Sections in order (by name, the keys without a prefix last), each with its panels:
 * first those the user ordered, in that order, then the rest by kind (images first) and key.
 */
export function arrangeSections<T extends PanelSpec>(specs: readonly T[], layout: SavedLayout): Section<T>[] {
  const bySection = new Map<string, T[]>();
  for (const spec of specs) {
    const name = sectionOf(spec.key);
    const list = bySection.get(name) ?? [];
    list.push(spec);
    bySection.set(name, list);
  }
  const names = [...bySection.keys()].sort((a, b) => (a === "" ? 1 : b === "" ? -1 : a < b ? -1 : a > b ? 1 : 0));
  return names.map((name) => {
    const panels = bySection.get(name) as T[];
    const saved = layout.order[name] ?? [];
    const rank = new Map(saved.map((k, i) => [k, i]));
    panels.sort((a, b) => {
      const ra = rank.get(a.key);
      const rb = rank.get(b.key);
      if (ra !== undefined || rb !== undefined) return (ra ?? Infinity) - (rb ?? Infinity);
      return kindRank(a.kind) - kindRank(b.kind) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
    });
    return { name, panels };
  });
}

/** The section's key order after moving `key` to stand before `before` (or last). */
export function moveKey(order: readonly string[], key: string, before: string | undefined): string[] {
  const out = order.filter((k) => k !== key);
  const at = before === undefined ? -1 : out.indexOf(before);
  if (at < 0) out.push(key);
  else out.splice(at, 0, key);
  return out;
}
