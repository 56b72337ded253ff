// What every media kind's view gets and gives: one cell per (run, key) column.
import type { MediaLoader } from "../loader";
import type { KeyEntry, MediaState, OverlaySettings } from "../state";
import type { Transport } from "../transport";
import type { SharedView } from "../overlay";
import type { ImageBundle } from "../loader";

export interface CellContext {
  transport: Transport;
  loader: MediaLoader;
  state: MediaState;
  run: string;
  key: string;
  settings: OverlaySettings;
  view: SharedView;
  /** An image was shown: its groups, classes and masks feed the panel's toggles. */
  discovered(bundle: ImageBundle): void;
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
