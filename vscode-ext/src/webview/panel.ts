// A media key's panel: its own step slider in the header (and overlay toggles for images and
// tables, log counts for histograms), then one cell per chosen run, each headed by the run's
// colour and short name, and by the step it shows when that is not the one selected (a run
// that logged every 10 steps shows step 10 while the slider is at 15).
import { checkbox, el, swatch } from "./dom";
import { OverlayControls } from "./controls";
import type { MediaLoader } from "./loader";
import { SharedView } from "./overlay";
import { PanelFrame, type FrameHost } from "./panel-frame";
import type { PanelSize } from "./layout";
import { indexAtOrBefore, type MediaState, type PanelInfo } from "./state";
import type { Transport } from "./transport";
import { PanelShared, type Cell, type CellFactory } from "./views/types";

export interface PanelDeps {
  transport: Transport;
  loader: MediaLoader;
  state: MediaState;
  factories: Record<string, CellFactory>;
  fallback: CellFactory;
  runLabel(run: string): string;
  runTitle(run: string): string;
  runColor(run: string): string;
  /** The panel's own slider moved. */
  moved(): void;
  /** Log scale of a key, and its change (kept with the layout). */
  isLog(key: string): boolean;
  setLog(key: string, on: boolean): void;
}

interface CellSlot {
  cell: Cell;
  el: HTMLElement;
  flag: HTMLElement;
}

/** The text of a cell's step flag (and its longer title): empty when it shows the step selected. */
export function stepFlag(shown: number | undefined, target: number | undefined): string {
  if (shown === undefined || target === undefined || shown === target) return "";
  return `shows step ${shown}`;
}

export function stepFlagTitle(shown: number, target: number): string {
  return shown < target ? `No step ${target} in this run: step ${shown} is the nearest before it` : `No step ${target} in this run: step ${shown} is its first`;
}

export class MediaPanel extends PanelFrame {
  private readonly slider: HTMLInputElement;
  private readonly stepLabel: HTMLElement;
  private readonly cellsEl: HTMLElement;
  private readonly view = new SharedView();
  private readonly shared = new PanelShared();
  private readonly controls: OverlayControls | undefined;
  private cells = new Map<string, CellSlot>();
  private columnsSignature = "";

  constructor(
    info: PanelInfo,
    size: PanelSize,
    host: FrameHost,
    private readonly deps: PanelDeps,
  ) {
    super(info, size, host);
    const settings = deps.state.overlay(info.key);
    this.slider = el("input", { type: "range", min: "0", max: "0", step: "1", class: "panel-slider", "aria-label": `step of ${info.key}` });
    this.slider.addEventListener("input", () => {
      const step = this.info.steps[Number(this.slider.value)];
      if (step !== undefined) this.pickStep(step);
    });
    this.stepLabel = el("span", { class: "step-label" });
    if (info.kind === "histogram") {
      this.shared.log = deps.isLog(info.key);
      const log = checkbox("log counts", this.shared.log, (on) => {
        this.shared.log = on;
        deps.setLog(info.key, on);
        this.shared.changed();
      }, "toggle log-toggle");
      this.tools.append(log);
    }
    this.tools.append(this.slider, this.stepLabel);
    this.cellsEl = el("div", { class: "cells" });
    if (info.kind === "image" || info.kind === "table") {
      this.controls = new OverlayControls(settings, this.view, () => this.redraw());
      this.body.append(this.controls.el);
    }
    this.body.append(this.cellsEl);
  }

  private pickStep(step: number): void {
    this.deps.state.setPanelStep(this.info.key, step);
    this.deps.loader.moved(this.deps.state.streak >= 2);
    this.update();
    this.deps.moved();
  }

  protected override rows(): number {
    const template = getComputedStyle(this.cellsEl).gridTemplateColumns.split(" ").filter(Boolean).length || 1;
    return Math.ceil(this.cells.size / template);
  }

  private ensureCells(): void {
    const cols = this.deps.state.columns;
    const sig = cols.map((run) => `${run}=${this.deps.runColor(run)}:${this.deps.runLabel(run)}`).join("\u0000");
    if (sig === this.columnsSignature) return;
    this.columnsSignature = sig;
    const next = new Map<string, CellSlot>();
    for (const run of cols) next.set(run, this.cells.get(run) ?? this.makeCell(run));
    for (const [run, slot] of this.cells) if (!next.has(run)) slot.cell.dispose?.();
    this.cells = next;
    this.cellsEl.classList.toggle("single", cols.length === 1);
    this.cellsEl.replaceChildren(
      ...cols.map((run) => {
        const slot = next.get(run) as CellSlot;
        const head = el("div", { class: "cell-run", title: this.deps.runTitle(run) }, swatch(this.deps.runColor(run)), el("span", { class: "run-name" }, this.deps.runLabel(run)), slot.flag);
        slot.el.replaceChildren(head, el("div", { class: "cell-body" }, slot.cell.el));
        return slot.el;
      }),
    );
  }

  private makeCell(run: string): CellSlot {
    const factory = this.deps.factories[this.info.kind] ?? this.deps.fallback;
    const cell = factory({
      transport: this.deps.transport,
      loader: this.deps.loader,
      state: this.deps.state,
      run,
      key: this.info.key,
      settings: this.deps.state.overlay(this.info.key),
      view: this.view,
      shared: this.shared,
      discovered: (bundle) => this.controls?.discover(bundle),
      pickStep: (step) => this.pickStep(step),
    });
    return { cell, el: el("div", { class: "cell", "data-run": run }), flag: el("span", { class: "step-flag", hidden: "" }) };
  }

  /** Brings slider and cells to the state's step. Cells load only while the panel is on screen. */
  update(): void {
    const { state } = this.deps;
    const steps = this.info.steps;
    const selected = state.selectedStep(this.info.key);
    const index = selected === null ? steps.length - 1 : Math.max(0, indexAtOrBefore(steps, selected));
    this.slider.max = String(Math.max(0, steps.length - 1));
    this.slider.value = String(index);
    this.slider.disabled = steps.length < 2;
    const shown = steps[index];
    this.stepLabel.textContent = shown === undefined ? "" : `step ${shown}${selected === null && state.follow ? " (latest)" : ""} · ${steps.length} steps`;
    this.el.classList.toggle("own-step", state.panelStep.has(this.info.key));
    this.ensureCells(); // every cell's place is taken at once: nothing moves as panels load
    if (!this.visible) return;
    const target = selected ?? shown;
    for (const [run, slot] of this.cells) {
      const step = state.cellStep(run, this.info.key);
      const text = stepFlag(step, target);
      slot.flag.textContent = text;
      slot.flag.hidden = text === "";
      if (text && step !== undefined && target !== undefined) slot.flag.title = stepFlagTitle(step, target);
      slot.el.dataset.step = step === undefined ? "" : String(step);
      slot.cell.show(step, state.keyEntry(run, this.info.key));
    }
  }

  override redraw(): void {
    for (const slot of this.cells.values()) slot.cell.redraw?.();
  }

  override refresh(): void {
    for (const slot of this.cells.values()) slot.cell.refresh?.();
  }

  override dispose(): void {
    for (const slot of this.cells.values()) slot.cell.dispose?.();
  }

  protected override layoutChanged(): void {
    requestAnimationFrame(() => this.redraw());
  }
}
