// What every media kind's view gets and gives: one cell per (run, key) column.
import type { MediaLoader } from "../loader";
import type { KeyEntry, MediaState, OverlaySettings } from "../state";
import type { Transport } from "../transport";
import type { SharedView } from "../overlay";
import type { ImageBundle } from "../loader";

/**
 * What the cells of one panel share besides zoom: log counts, and a histogram value and count
 * range that every column reports into, so that columns draw on one scale and compare.
 */
export class PanelShared {
  /** Log counts (histograms). */
  log = false;
  private readonly extents = new Map<string, { lo: number; hi: number; max: number }>();
  private readonly listeners = new Set<() => void>();

  /** A column's extent; listeners hear of it when it widens the shared one. */
  report(run: string, lo: number, hi: number, max: number): void {
    const before = this.extent();
    this.extents.set(run, { lo, hi, max });
    const after = this.extent();
    if (!before || !after || before.lo !== after.lo || before.hi !== after.hi || before.max !== after.max) this.changed();
  }

  forget(run: string): void {
    if (this.extents.delete(run)) this.changed();
  }

  /** The union of every column's extent. */
  extent(): { lo: number; hi: number; max: number } | undefined {
    let out: { lo: number; hi: number; max: number } | undefined;
    for (const e of this.extents.values()) out = out ? { lo: Math.min(out.lo, e.lo), hi: Math.max(out.hi, e.hi), max: Math.max(out.max, e.max) } : { ...e };
    return out;
  }

  listen(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  changed(): void {
    for (const fn of this.listeners) fn();
  }
}

export interface CellContext {
  transport: Transport;
  loader: MediaLoader;
  state: MediaState;
  run: string;
  key: string;
  settings: OverlaySettings;
  view: SharedView;
  shared: PanelShared;
  /** An image was shown: its groups, classes and masks feed the panel's toggles. */
  discovered(bundle: ImageBundle): void;
  /** Show a step in this panel (a histogram's heatmap column was picked). */
  pickStep(step: number): void;
}

export interface Cell {
  readonly el: HTMLElement;
  /** Show the item at `step` (undefined: the run has no such key). */
  show(step: number | undefined, entry: KeyEntry | undefined): void;
  /** Overlay settings changed: draw again from what is loaded. */
  redraw?(): void;
  /** The key's data changed (e.g. a histogram series got a step). */
  refresh?(): void;
  dispose?(): void;
}

export type CellFactory = (ctx: CellContext) => Cell;

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
