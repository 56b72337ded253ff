// One key's panel: a header with its own step slider (and overlay toggles for images),
// then one cell per chosen run, side by side.
import { el } from "./dom";
import { OverlayControls } from "./controls";
import type { MediaLoader } from "./loader";
import { SharedView } from "./overlay";
import { indexAtOrBefore, type MediaState, type PanelInfo } from "./state";
import type { Transport } from "./transport";
import type { Cell, CellFactory } from "./views/types";

export interface PanelDeps {
  transport: Transport;
  loader: MediaLoader;
  state: MediaState;
  factories: Record<string, CellFactory>;
  fallback: CellFactory;
  runLabel(run: string): string;
  /** The panel's own slider moved. */
  moved(): void;
}

export class Panel {
  readonly el: HTMLElement;
  private readonly slider: HTMLInputElement;
  private readonly stepLabel: HTMLElement;
  private readonly body: HTMLElement;
  private readonly view = new SharedView();
  private readonly controls: OverlayControls | undefined;
  private cells = new Map<string, Cell>();
  private columns = "";
  private info: PanelInfo;
  visible = false;

  constructor(
    info: PanelInfo,
    private readonly deps: PanelDeps,
  ) {
    this.info = info;
    const settings = deps.state.overlay(info.key);
    this.slider = el("input", { type: "range", min: "0", max: "0", step: "1", class: "panel-slider", "aria-label": `step of ${info.key}` });
    this.slider.addEventListener("input", () => {
      const step = this.info.steps[Number(this.slider.value)];
      if (step === undefined) return;
      deps.state.setPanelStep(this.info.key, step);
      this.update();
      deps.moved();
    });
    this.stepLabel = el("span", { class: "step-label" });
    const header = el(
      "header",
      {},
      el("h2", { title: info.key }, info.key),
      el("span", { class: `badge kind-${info.kind}` }, info.kind),
      el("span", { class: "spacer" }),
      this.slider,
      this.stepLabel,
    );
    this.body = el("div", { class: "cells" });
    this.el = el("section", { class: "panel", "data-key": info.key, "data-kind": info.kind }, header);
    if (info.kind === "image" || info.kind === "table") {
      this.controls = new OverlayControls(settings, this.view, () => this.redraw());
      this.el.append(this.controls.el);
    }
    this.el.append(this.body);
    // A view picked a step (a histogram's heatmap column): move this panel there.
    this.el.addEventListener("dvcstage-pick-step", (event) => {
      const step = (event as CustomEvent<{ step: number }>).detail.step;
      deps.state.setPanelStep(this.info.key, step);
      this.update();
      deps.moved();
    });
  }

  get key(): string {
    return this.info.key;
  }

  setInfo(info: PanelInfo): void {
    this.info = info;
  }

  private ensureCells(): void {
    const cols = this.deps.state.columns;
    const sig = cols.join("\u0000");
    if (sig === this.columns) return;
    this.columns = sig;
    const next = new Map<string, Cell>();
    for (const run of cols) {
      const kept = this.cells.get(run);
      if (kept) next.set(run, kept);
      else next.set(run, this.makeCell(run));
    }
    for (const [run, cell] of this.cells) if (!next.has(run)) cell.dispose?.();
    this.cells = next;
    this.body.style.gridTemplateColumns = `repeat(${Math.max(1, cols.length)}, minmax(0, 1fr))`;
    this.body.replaceChildren(
      ...cols.map((run) => el("div", { class: "cell", "data-run": run }, el("div", { class: "cell-run" }, this.deps.runLabel(run)), (next.get(run) as Cell).el)),
    );
  }

  private makeCell(run: string): Cell {
    const factory = this.deps.factories[this.info.kind] ?? this.deps.fallback;
    return factory({
      transport: this.deps.transport,
      loader: this.deps.loader,
      state: this.deps.state,
      run,
      key: this.info.key,
      settings: this.deps.state.overlay(this.info.key),
      view: this.view,
      discovered: (bundle) => this.controls?.discover(bundle),
    });
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
    if (!this.visible) return;
    this.ensureCells();
    for (const [run, cell] of this.cells) cell.show(state.cellStep(run, this.info.key), state.keyEntry(run, this.info.key));
  }

  redraw(): void {
    for (const cell of this.cells.values()) cell.redraw?.();
  }

  refresh(): void {
    for (const cell of this.cells.values()) cell.refresh?.();
  }

  dispose(): void {
    for (const cell of this.cells.values()) cell.dispose?.();
  }
}
