// What the panel shows, as plain data: the runs, the chosen columns, each run's keys and
// steps, the shared step and per-panel steps, follow-live, and each key's overlay settings.
// No DOM here; the view reads this and calls the methods below (unit-tested in test/unit).
import type { Run } from "../protocol/generated/protocol-runs-result";
import type { DvcstageMediaResult } from "../protocol/generated/protocol-media-result";
import type { DvcstageChangedNotificationParams } from "../protocol/generated/protocol-changed";

export type KeyEntry = DvcstageMediaResult["keys"][number];

/** Settings of one key's overlays; shared by every column so that columns compare alike. */
export interface OverlaySettings {
  hiddenGroups: Set<string>;
  hiddenClasses: Set<string>;
  /** Boxes scoring below this are hidden (boxes without a score always show). */
  scoreThreshold: number;
  /** mask name -> opacity 0..1 */
  maskOpacity: Map<string, number>;
  /** `${mask}\u0000${classId}` of hidden mask classes. */
  hiddenMaskClasses: Set<string>;
  showCaptions: boolean;
}

export const DEFAULT_MASK_OPACITY = 0.5;

export function newOverlaySettings(): OverlaySettings {
  return {
    hiddenGroups: new Set(),
    hiddenClasses: new Set(),
    scoreThreshold: 0,
    maskOpacity: new Map(),
    hiddenMaskClasses: new Set(),
    showCaptions: true,
  };
}

export function maskOpacity(settings: OverlaySettings, mask: string): number {
  return settings.maskOpacity.get(mask) ?? DEFAULT_MASK_OPACITY;
}

/** Sorted union of ascending step lists. */
export function unionSteps(lists: Iterable<readonly number[]>): number[] {
  const all = new Set<number>();
  for (const list of lists) for (const s of list) all.add(s);
  return [...all].sort((a, b) => a - b);
}

/** Index of the largest step <= target in ascending `steps`; -1 if every step is larger. */
export function indexAtOrBefore(steps: readonly number[], target: number): number {
  let lo = 0;
  let hi = steps.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if ((steps[mid] as number) <= target) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/**
 * The step a run shows for the selected step: the latest step at or before it (a run that
 * logged every 10 steps shows step 10 while the slider is at 15), else its first step.
 * `null` selects the run's last step. `undefined` when the run has no steps.
 */
export function stepToShow(steps: readonly number[], selected: number | null): number | undefined {
  if (steps.length === 0) return undefined;
  if (selected === null) return steps[steps.length - 1];
  const i = indexAtOrBefore(steps, selected);
  return steps[i < 0 ? 0 : i];
}

/** The step `delta` places away from `current` in `steps` (clamped), for arrows and play. */
export function moveStep(steps: readonly number[], current: number | null, delta: number): number | undefined {
  if (steps.length === 0) return undefined;
  const at = current === null ? steps.length - 1 : Math.max(0, indexAtOrBefore(steps, current));
  const i = Math.min(steps.length - 1, Math.max(0, at + delta));
  return steps[i];
}

/**
 * Steps worth loading ahead of `step`, the likeliest next first: `ahead` steps in the direction
 * the slider last moved (1: forward, -1: back) and `behind` steps the other way, a step behind
 * counting as far as two ahead (next, next+1, previous, next+2, next+3, previous-1, ...).
 */
export function stepsAhead(steps: readonly number[], step: number, direction: 1 | -1, ahead: number, behind: number): number[] {
  const i = indexAtOrBefore(steps, step);
  const out: { step: number; cost: number; back: number }[] = [];
  // At a step the run lacks (i points before it), the next one forward is i + 1.
  const exact = i >= 0 && steps[i] === step;
  for (let d = 1; d <= Math.max(ahead, behind); d++) {
    const forward = steps[i + d];
    const backIndex = exact ? i - d : i - d + 1;
    const back = backIndex >= 0 && backIndex < steps.length ? steps[backIndex] : undefined;
    const [next, previous] = direction > 0 ? [forward, back] : [back, forward];
    if (d <= ahead && next !== undefined) out.push({ step: next, cost: d, back: 0 });
    if (d <= behind && previous !== undefined) out.push({ step: previous, cost: 2 * d, back: 1 });
  }
  return out.sort((a, b) => a.cost - b.cost || a.back - b.back).map((x) => x.step);
}

/** Steps loaded ahead in the direction of the last move, and the other way, when settled. */
export const PREFETCH_AHEAD = 8;
export const PREFETCH_BEHIND = 2;
/** Steps loaded ahead at most, while the slider keeps moving one stop at a time. */
export const PREFETCH_AHEAD_MAX = 24;
/** Steps loaded ahead (and behind) after a jump: the next move is as likely another jump. */
export const AFTER_JUMP_AHEAD = 2;
export const AFTER_JUMP_BEHIND = 1;

/**
 * How many steps to load ahead and behind, from `streak`, the moves of one or two stops in
 * the same direction in a row (0 after a jump): each such move reaches two steps further, up
 * to PREFETCH_AHEAD_MAX, so a slider that is scrubbed is loaded further in its direction of
 * travel; a jump loads its nearest neighbours only.
 */
export function loadAheadWindow(streak: number): { ahead: number; behind: number } {
  if (streak <= 0) return { ahead: AFTER_JUMP_AHEAD, behind: AFTER_JUMP_BEHIND };
  return { ahead: Math.min(PREFETCH_AHEAD_MAX, PREFETCH_AHEAD + 2 * (streak - 1)), behind: PREFETCH_BEHIND };
}

/** A move of at most this many stops continues a streak (a drag may skip a stop). */
export const STREAK_STOPS = 2;

export interface PanelInfo {
  key: string;
  /** The media kind, or "metric" for a metric chart. */
  kind: string;
  /** Union of the key's steps over the columns (empty for metrics: their steps come with the series). */
  steps: number[];
  /** For a metric chart: the metric's name (its key, unless a media key has that name). */
  metric?: string;
}

export class MediaState {
  runs: Run[] = [];
  /** Run ids shown side by side, in order. */
  columns: string[] = [];
  private readonly keysByRun = new Map<string, Map<string, KeyEntry>>();
  /** Run -> its DVCLive metric names (plots/metrics/<name>.tsv). */
  private readonly metricsByRun = new Map<string, string[]>();
  /** panels() and allSteps(), kept until the runs, columns or keys change. */
  private cached: { panels?: PanelInfo[]; steps?: number[] } = {};
  /** The shared slider's step; null follows the latest step. */
  sharedStep: number | null = null;
  /** Keys whose own slider was moved since the shared one: key -> step (null: latest). */
  readonly panelStep = new Map<string, number | null>();
  /** While true, a slider at the last step stays at the last step as new steps arrive. */
  follow = true;
  /** The direction of the last slider move (1: forward, -1: back): what is loaded ahead. */
  direction: 1 | -1 = 1;
  /** Moves of at most STREAK_STOPS stops in one direction in a row; 0 after a jump (see
   * loadAheadWindow). 1 before any move: the settled window. */
  streak = 1;
  readonly overlays = new Map<string, OverlaySettings>();
  /** The key a code lens asked for (scrolled to and highlighted). */
  focusKey: string | undefined;

  setRuns(runs: Run[], wanted?: readonly string[]): void {
    this.runs = runs;
    const known = new Set(runs.map((r) => r.id));
    const keep = (wanted ?? this.columns).filter((id) => known.has(id));
    this.columns = keep.length ? this.inRunOrder(keep) : defaultColumns(runs);
    this.invalidate();
  }

  /** Shows exactly these runs (those known), in the order of the runs list. */
  setColumns(ids: readonly string[]): void {
    const known = new Set(this.runs.map((r) => r.id));
    this.columns = this.inRunOrder(ids.filter((id) => known.has(id)));
    this.invalidate();
  }

  private inRunOrder(ids: readonly string[]): string[] {
    const rank = new Map(this.runs.map((r, i) => [r.id, i]));
    return [...new Set(ids)].sort((a, b) => (rank.get(a) ?? Infinity) - (rank.get(b) ?? Infinity));
  }

  setMedia(result: Pick<DvcstageMediaResult, "run" | "keys"> & { metrics?: DvcstageMediaResult["metrics"] }): void {
    this.keysByRun.set(result.run, new Map(result.keys.map((k) => [k.key, { ...k, steps: [...k.steps] }])));
    this.metricsByRun.set(result.run, (result.metrics ?? []).map((m) => m.name));
    this.invalidate();
  }

  /** The metric names of a run. */
  metricNames(run: string): string[] {
    return this.metricsByRun.get(run) ?? [];
  }

  /** Forget panels() and allSteps() (call after changing runs, columns or keys). */
  invalidate(): void {
    this.cached = {};
  }

  hasMedia(run: string): boolean {
    return this.keysByRun.has(run);
  }

  keyEntry(run: string, key: string): KeyEntry | undefined {
    return this.keysByRun.get(run)?.get(key);
  }

  toggleColumn(run: string, on: boolean): void {
    const has = this.columns.includes(run);
    if (on && !has) this.columns = this.inRunOrder([...this.columns, run]);
    if (!on && has) this.columns = this.columns.filter((id) => id !== run);
    this.invalidate();
  }

  /**
   * The panels shown: every key of any column (kind from the first column having it) and
   * every metric of any column, sorted by key.
   */
  panels(): PanelInfo[] {
    if (this.cached.panels) return this.cached.panels;
    const byKey = new Map<string, { kind: string; lists: number[][] }>();
    for (const run of this.columns) {
      for (const entry of this.keysByRun.get(run)?.values() ?? []) {
        const slot = byKey.get(entry.key) ?? { kind: entry.kind, lists: [] };
        slot.lists.push(entry.steps);
        byKey.set(entry.key, slot);
      }
    }
    const infos: PanelInfo[] = [...byKey.entries()].map(([key, { kind, lists }]) => ({ key, kind, steps: unionSteps(lists) }));
    const metrics = new Set<string>();
    for (const run of this.columns) for (const name of this.metricNames(run)) metrics.add(name);
    for (const name of metrics) infos.push({ key: byKey.has(name) ? `${name} (metric)` : name, kind: "metric", steps: [], metric: name });
    this.cached.panels = infos.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return this.cached.panels;
  }

  /** Every step of every shown key: the shared slider's stops. */
  allSteps(): number[] {
    this.cached.steps ??= unionSteps(this.panels().map((p) => p.steps));
    return this.cached.steps;
  }

  /** The step selected for a key (its own slider, else the shared one); null = latest. */
  selectedStep(key: string): number | null {
    return this.panelStep.has(key) ? (this.panelStep.get(key) ?? null) : this.sharedStep;
  }

  /** The step a (run, key) cell shows, or undefined when that run lacks the key. */
  cellStep(run: string, key: string): number | undefined {
    const entry = this.keyEntry(run, key);
    return entry ? stepToShow(entry.steps, this.selectedStep(key)) : undefined;
  }

  /** Moves the shared slider (and with it every panel). At the last step it follows new steps. */
  setSharedStep(step: number): void {
    const steps = this.allSteps();
    this.turn(this.sharedStep, step, steps);
    this.sharedStep = this.atLatest(step, steps) ? null : step;
    this.panelStep.clear();
  }

  setPanelStep(key: string, step: number): void {
    const steps = this.panels().find((p) => p.key === key)?.steps ?? [];
    this.turn(this.selectedStep(key), step, steps);
    this.panelStep.set(key, this.atLatest(step, steps) ? null : step);
  }

  /** Notes the direction and the streak of a move from `from` (null: the last step) to `to`. */
  private turn(from: number | null, to: number, steps: readonly number[]): void {
    const at = from ?? steps[steps.length - 1];
    if (at === undefined || to === at) return;
    const direction = to > at ? 1 : -1;
    const stops = Math.abs(indexAtOrBefore(steps, to) - indexAtOrBefore(steps, at));
    if (stops > STREAK_STOPS) this.streak = 0;
    else this.streak = direction === this.direction ? this.streak + 1 : 1;
    this.direction = direction;
  }

  /** The steps to load ahead and behind now (loadAheadWindow of the streak). */
  loadAhead(): { ahead: number; behind: number } {
    return loadAheadWindow(this.streak);
  }

  private atLatest(step: number, steps: readonly number[]): boolean {
    const last = steps[steps.length - 1];
    return this.follow && last !== undefined && step >= last;
  }

  setFollow(on: boolean): void {
    this.follow = on;
    if (!on) {
      // Pin "latest" to the step it is now.
      const steps = this.allSteps();
      if (this.sharedStep === null && steps.length) this.sharedStep = steps[steps.length - 1] as number;
      for (const p of this.panels()) {
        if (this.panelStep.has(p.key) && this.panelStep.get(p.key) === null && p.steps.length) {
          this.panelStep.set(p.key, p.steps[p.steps.length - 1] as number);
        }
      }
    }
  }

  /**
   * Applies a `dvcstage/changed` notification. Returns whether the run's key list must be
   * asked again (a new run, a reset, a truncated list or a key not seen before) and the
   * (key, step) pairs that were written, so that cached items can be dropped.
   */
  applyChanged(params: DvcstageChangedNotificationParams): { requery: boolean; written: { key: string; step: number; item?: number }[] } {
    const keys = this.keysByRun.get(params.run);
    let requery = !keys || params.new === true || params.reset === true || params.truncated === true;
    this.invalidate();
    for (const item of params.items) {
      const entry = keys?.get(item.key);
      if (!entry) {
        requery = true;
        continue;
      }
      if (!entry.steps.includes(item.step)) {
        entry.steps.push(item.step);
        entry.steps.sort((a, b) => a - b);
      }
      if (item.item !== undefined) {
        const items = entry.items ?? [];
        if (!items.includes(item.item)) {
          items.push(item.item);
          items.sort((a, b) => a - b);
          entry.items = items;
        }
      }
    }
    return { requery, written: params.items.map(({ key, step, item }) => (item === undefined ? { key, step } : { key, step, item })) };
  }

  overlay(key: string): OverlaySettings {
    let s = this.overlays.get(key);
    if (!s) {
      s = newOverlaySettings();
      this.overlays.set(key, s);
    }
    return s;
  }
}

/** The columns shown first: the workspace runs (at most four), else the first run. */
export function defaultColumns(runs: readonly Run[]): string[] {
  const workspace = runs.filter((r) => r.kind === "workspace").slice(0, 4);
  if (workspace.length) return workspace.map((r) => r.id);
  return runs.filter((r) => !r.remote).slice(0, 1).map((r) => r.id); // a remote run is fetched when chosen
}
