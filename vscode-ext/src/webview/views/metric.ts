// A metric chart (DVCLive's plots/metrics/<name>.tsv, through dvcstage/series): every chosen
// run's curve in the run's colour, smoothed (the raw curve stays faint behind), a linear or
// log y axis, a readout of every run's value at the hovered step, and the step cursor shared
// with the step slider: the slider moves the cursor, and a click on the chart moves every
// media panel to that step. Drag across the chart to zoom; double-click to zoom out. uPlot.
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { DvcstageSeriesResult } from "../../protocol/generated/protocol-series-result";
import { formatTick } from "../axes";
import { checkbox, el, swatch } from "../dom";
import type { PanelSize } from "../layout";
import { PanelFrame, type FrameHost } from "../panel-frame";
import { loadProblem, problemList, type Problem } from "../problems";
import { alignSeries, nearestIndex, smooth } from "../smoothing";
import type { MediaState, PanelInfo } from "../state";
import type { Transport } from "../transport";

export interface MetricDeps {
  transport: Transport;
  state: MediaState;
  runLabel(run: string): string;
  runColor(run: string): string;
  smoothing(): number;
  isLog(key: string): boolean;
  setLog(key: string, on: boolean): void;
  /** A point was clicked: show its step everywhere. */
  pickStep(step: number): void;
  /** The step the cursor stands at (the shared slider's). */
  cursorStep(): number | undefined;
}

interface Loaded {
  steps: number[];
  values: (number | null)[];
}

/** A colour with an alpha, from "#rrggbb". */
function faint(hex: string, alpha: number): string {
  const n = Number.parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},${alpha})`;
}

export class MetricPanel extends PanelFrame {
  private readonly chartEl = el("div", { class: "chart" });
  private readonly tip = el("div", { class: "tooltip chart-tip", hidden: "" });
  private readonly note = el("div", { class: "chart-note" });
  private readonly cursor = el("div", { class: "step-cursor", hidden: "" });
  private plot: uPlot | undefined;
  private readonly loaded = new Map<string, Loaded | Problem>();
  private readonly pending = new Map<string, Promise<void>>();
  private runs: string[] = [];
  private x: number[] = [];
  private signature = "";
  private readonly resize: ResizeObserver;

  constructor(
    info: PanelInfo,
    size: PanelSize,
    host: FrameHost,
    private readonly deps: MetricDeps,
  ) {
    super(info, size, host);
    const log = checkbox("log", deps.isLog(info.key), (on) => {
      deps.setLog(info.key, on);
      this.rebuild();
    }, "toggle log-toggle");
    log.title = "Logarithmic y axis";
    this.tools.append(log);
    this.body.append(el("div", { class: "chart-box" }, this.chartEl, this.tip), this.note);
    this.resize = new ResizeObserver(() => this.fit());
    this.resize.observe(this.chartEl);
    const scheme = matchMedia("(prefers-color-scheme: dark)");
    scheme.addEventListener("change", () => this.rebuild());
    new MutationObserver(() => this.rebuild()).observe(document.body, { attributes: true, attributeFilter: ["class"] });
  }

  private get name(): string {
    return this.info.metric ?? this.info.key;
  }

  /** Runs shown: the chosen runs that have this metric. */
  private wantedRuns(): string[] {
    return this.deps.state.columns.filter((run) => this.deps.state.metricNames(run).includes(this.name));
  }

  private load(run: string): Promise<void> {
    let job = this.pending.get(run);
    if (job) return job;
    job = this.deps.transport
      .request<DvcstageSeriesResult>("dvcstage/series", { run, key: this.name, kind: "metric" })
      .then(
        (result) => {
          const points = result.points ?? [];
          this.loaded.set(run, { steps: points.map((p) => p.step), values: points.map((p) => (typeof p.value === "number" ? p.value : null)) });
        },
        (err: unknown) => {
          this.loaded.set(run, loadProblem(`plots/metrics/${this.name}.tsv`, err, false));
        },
      )
      .finally(() => this.pending.delete(run));
    this.pending.set(run, job);
    return job;
  }

  update(): void {
    if (!this.visible) return;
    const runs = this.wantedRuns();
    const missing = runs.filter((r) => !this.loaded.has(r));
    if (missing.length) {
      void Promise.all(missing.map((r) => this.load(r))).then(() => this.update());
      if (!this.plot) return;
    }
    const sig = `${runs.map((r) => `${r}=${this.deps.runColor(r)}`).join(",")}|${this.deps.smoothing()}|${this.deps.isLog(this.info.key)}|${runs.map((r) => this.loaded.has(r)).join("")}`;
    if (sig !== this.signature) {
      this.signature = sig;
      this.runs = runs;
      this.rebuild();
    }
    this.placeCursor();
  }

  override refresh(): void {
    for (const run of this.wantedRuns()) this.loaded.delete(run);
    this.signature = "";
    this.update();
  }

  override redraw(): void {
    this.signature = "";
    this.update();
  }

  private rebuild(): void {
    this.plot?.destroy();
    this.plot = undefined;
    const log = this.deps.isLog(this.info.key);
    const weight = this.deps.smoothing();
    const shown = this.runs.filter((r) => {
      const l = this.loaded.get(r);
      return l !== undefined && "steps" in l;
    });
    const problems = this.runs.map((r) => this.loaded.get(r)).filter((l): l is Problem => l !== undefined && "kind" in l);
    this.note.replaceChildren(...(problems.length ? [problemList(problems)] : []));
    if (!shown.length) return;
    const data = shown.map((r) => this.loaded.get(r) as Loaded);
    const positive = (v: number | null): number | null => (v === null || (log && v <= 0) ? null : v);
    const { x, ys } = alignSeries(data.map((d) => ({ steps: d.steps, values: d.values.map(positive) })));
    this.x = x;
    const series: uPlot.Series[] = [{ label: "step" }];
    const columns: (number | null)[][] = [];
    shown.forEach((run, i) => {
      const color = this.deps.runColor(run);
      const raw = ys[i] as (number | null)[];
      if (weight > 0) {
        series.push({ label: `${this.deps.runLabel(run)} (raw)`, stroke: faint(color, 0.28), width: 1, spanGaps: true, points: { show: false } });
        columns.push(raw);
      }
      series.push({ label: this.deps.runLabel(run), stroke: color, width: 1.75, spanGaps: true, points: { show: false } });
      columns.push(weight > 0 ? smooth(raw, weight) : raw);
    });
    const css = getComputedStyle(this.el);
    const muted = css.getPropertyValue("--muted").trim() || "#888";
    const grid = css.getPropertyValue("--grid").trim() || "rgba(128,128,128,0.2)";
    const axis = { stroke: muted, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1, size: 4 }, font: "10px system-ui, sans-serif" };
    const { width, height } = this.chartSize();
    const opts: uPlot.Options = {
      width,
      height,
      legend: { show: false },
      scales: { x: { time: false }, y: log ? { distr: 3, log: 10 } : { auto: true } },
      axes: [
        { ...axis, values: (_u, vals) => vals.map((v) => (v === null ? "" : formatTick(v))) },
        { ...axis, size: 46, values: (_u, vals) => vals.map((v) => (v === null ? "" : formatTick(v))) },
      ],
      series,
      cursor: { drag: { x: true, y: false, setScale: true }, points: { size: 7, fill: (u, i) => String(u.series[i]?.stroke ?? muted) }, focus: { prox: 24 } },
      hooks: {
        setCursor: [(u) => this.readout(u)],
        setScale: [() => this.placeCursor()],
        setSize: [() => this.placeCursor()],
      },
    };
    this.plot = new uPlot(opts, [x, ...columns] as uPlot.AlignedData, this.chartEl);
    this.plot.over.append(this.cursor);
    this.bindClick(this.plot);
    this.chartEl.dataset.runs = shown.join(" ");
    this.chartEl.dataset.points = String(x.length);
    this.placeCursor();
  }

  private chartSize(): { width: number; height: number } {
    return { width: Math.max(120, this.chartEl.clientWidth), height: Math.max(80, this.chartEl.clientHeight) };
  }

  private fit(): void {
    if (!this.plot) {
      if (this.visible && this.runs.length) this.rebuild();
      return;
    }
    const size = this.chartSize();
    if (size.width !== this.plot.width || size.height !== this.plot.height) this.plot.setSize(size);
  }

  protected override layoutChanged(): void {
    requestAnimationFrame(() => this.fit());
  }

  /** Moves the shared step cursor to the slider's step. */
  placeCursor(): void {
    const u = this.plot;
    const step = this.deps.cursorStep();
    if (!u || step === undefined || !this.x.length) {
      this.cursor.hidden = true;
      return;
    }
    const min = u.scales.x?.min ?? -Infinity;
    const max = u.scales.x?.max ?? Infinity;
    const at = Math.min(Math.max(step, this.x[0] as number), this.x[this.x.length - 1] as number);
    if (at < min || at > max) {
      this.cursor.hidden = true;
      return;
    }
    this.cursor.hidden = false;
    this.cursor.style.left = `${Math.round(u.valToPos(at, "x"))}px`;
    this.cursor.dataset.step = String(at);
  }

  private readout(u: uPlot): void {
    const idx = u.cursor.idx;
    if (idx === null || idx === undefined || u.cursor.left === undefined || u.cursor.left < 0) {
      this.tip.hidden = true;
      return;
    }
    const step = u.data[0][idx];
    const rows: HTMLElement[] = [el("div", { class: "tip-step" }, `step ${step}`)];
    const weight = this.deps.smoothing();
    const perRun = weight > 0 ? 2 : 1;
    this.runs
      .filter((r) => {
        const l = this.loaded.get(r);
        return l !== undefined && "steps" in l;
      })
      .forEach((run, i) => {
        const value = u.data[1 + i * perRun + perRun - 1]?.[idx];
        const raw = weight > 0 ? u.data[1 + i * perRun]?.[idx] : undefined;
        if (value === null || value === undefined) return;
        rows.push(
          el("div", { class: "tip-run" }, swatch(this.deps.runColor(run)), el("span", {}, this.deps.runLabel(run)), el("strong", {}, formatTick(value)), raw !== undefined && raw !== null ? el("span", { class: "note" }, ` raw ${formatTick(raw)}`) : ""),
        );
      });
    this.tip.replaceChildren(...rows);
    this.tip.hidden = false;
    const left = (u.cursor.left ?? 0) + u.over.offsetLeft;
    const box = this.chartEl.getBoundingClientRect();
    this.tip.style.left = `${Math.min(left + 14, Math.max(0, box.width - 190))}px`;
    this.tip.style.top = `${Math.max(0, (u.cursor.top ?? 0) + u.over.offsetTop - 10)}px`;
  }

  private bindClick(u: uPlot): void {
    let down: { x: number; y: number } | undefined;
    u.over.addEventListener("mousedown", (e) => (down = { x: e.clientX, y: e.clientY }));
    u.over.addEventListener("click", (e) => {
      if (!down || Math.abs(e.clientX - down.x) > 3 || Math.abs(e.clientY - down.y) > 3) return; // a drag: a zoom
      const rect = u.over.getBoundingClientRect();
      const value = u.posToVal(e.clientX - rect.left, "x");
      const i = nearestIndex(this.x, value);
      const step = this.x[i];
      if (step !== undefined) this.deps.pickStep(step);
    });
    u.over.addEventListener("mouseleave", () => (this.tip.hidden = true));
  }

  override dispose(): void {
    this.resize.disconnect();
    this.plot?.destroy();
  }
}
