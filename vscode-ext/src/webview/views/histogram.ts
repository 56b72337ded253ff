// Histograms: the key's whole series as a heatmap over steps (x: step, y: value; each step's
// counts scaled to its own largest bin) with the selected step marked, and that step's bars
// below (x: value, y: count). Both have axes with ticks; hovering reads out step, bin range and
// count; every column of the panel draws on one value and count range (PanelShared), so runs
// compare; counts may be shown on a log scale. Click the heatmap to show a step.
import type { DvcstageSeriesResult } from "../../protocol/generated/protocol-series-result";
import { axisStyle, drawAxis, formatTick, logTicks, niceTicks, sizedContext, type Plot } from "../axes";
import { el } from "../dom";
import { loadProblem, problemBadge } from "../problems";
import { errorText, type Cell, type CellContext } from "./types";

type Step = NonNullable<DvcstageSeriesResult["steps"]>[number];
type Bin = Step["bins"][number];

/** A perceptual ramp (viridis, 6 stops) for 0..1. */
const RAMP: [number, number, number][] = [
  [68, 1, 84], [65, 68, 135], [42, 120, 142], [34, 168, 132], [122, 209, 81], [253, 231, 37],
];
export function rampColor(t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, t)) * (RAMP.length - 1);
  const i = Math.min(RAMP.length - 2, Math.floor(x));
  const f = x - i;
  const a = RAMP[i] as [number, number, number];
  const b = RAMP[i + 1] as [number, number, number];
  return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f];
}

/** The value range and largest count of a series. */
export function seriesExtent(series: readonly Step[]): { lo: number; hi: number; max: number } | undefined {
  let lo = Infinity;
  let hi = -Infinity;
  let max = 0;
  for (const s of series) for (const b of s.bins) {
    lo = Math.min(lo, b.low);
    hi = Math.max(hi, b.high);
    max = Math.max(max, b.count);
  }
  if (!(lo <= hi)) return undefined;
  return lo < hi ? { lo, hi, max } : { lo: lo - 0.5, hi: hi + 0.5, max };
}

/** A count as a 0..1 height or colour: linear, or log(1 + count) when `log`. */
export function countScale(count: number, max: number, log: boolean): number {
  if (max <= 0 || count <= 0) return 0;
  return log ? Math.log1p(count) / Math.log1p(max) : count / max;
}

/** The bin of a step that holds `value`, if any. */
export function binAt(step: Step, value: number): Bin | undefined {
  return step.bins.find((b) => value >= b.low && value < b.high) ?? step.bins.find((b) => value === b.high);
}

const MARGIN = { left: 44, right: 6, top: 4, bottom: 16 };

export function histogramCell(ctx: CellContext): Cell {
  const heat = el("canvas", { class: "heatmap" });
  const bars = el("canvas", { class: "bars" });
  const caption = el("div", { class: "caption readout" });
  const tip = el("div", { class: "tooltip", hidden: "" });
  const root = el("div", { class: "histogram" }, heat, bars, caption, tip);
  let series: Step[] = [];
  let shown: number | undefined;
  let loading: Promise<void> | undefined;
  let stale = true;
  let heatCache: { key: string; bitmap: HTMLCanvasElement } | undefined;

  const load = (): Promise<void> => {
    if (loading) return loading;
    stale = false;
    loading = ctx.transport
      .request<DvcstageSeriesResult>("dvcstage/series", { run: ctx.run, key: ctx.key, kind: "histogram" })
      .then(
        (result) => {
          series = result.steps ?? [];
          heatCache = undefined;
          const extent = seriesExtent(series);
          if (extent) ctx.shared.report(ctx.run, extent.lo, extent.hi, extent.max);
          draw();
        },
        (err: unknown) => {
          caption.replaceChildren(problemBadge(loadProblem(`plots/histograms/${ctx.key}.tsv`, err, false)));
          caption.dataset.error = errorText(err);
        },
      )
      .finally(() => {
        loading = undefined;
        if (stale) void load();
      });
    return loading;
  };

  const plotOf = (w: number, h: number): Plot => ({ x: MARGIN.left, y: MARGIN.top, w: Math.max(10, w - MARGIN.left - MARGIN.right), h: Math.max(10, h - MARGIN.top - MARGIN.bottom) });
  const range = (): { lo: number; hi: number; max: number } => ctx.shared.extent() ?? seriesExtent(series) ?? { lo: 0, hi: 1, max: 1 };
  const currentStep = (): Step | undefined => series.find((s) => s.step === shown) ?? series[series.length - 1];

  /** The heatmap without its marker, drawn once per series, size, range and scale. */
  const heatImage = (w: number, h: number): HTMLCanvasElement => {
    const { lo, hi } = range();
    const dpr = window.devicePixelRatio || 1;
    const key = `${w}x${h}@${dpr}:${lo}:${hi}:${ctx.shared.log}:${series.length}`;
    if (heatCache?.key === key) return heatCache.bitmap;
    const canvas = document.createElement("canvas");
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
    const c = canvas.getContext("2d");
    const plot = plotOf(w, h);
    if (c) {
      c.setTransform(dpr, 0, 0, dpr, 0, 0);
      const cw = plot.w / series.length;
      series.forEach((s, i) => {
        const max = Math.max(1e-12, ...s.bins.map((b) => b.count));
        for (const b of s.bins) {
          if (b.count <= 0) continue;
          const [r, g, bl] = rampColor(countScale(b.count, max, ctx.shared.log));
          c.fillStyle = `rgb(${r | 0},${g | 0},${bl | 0})`;
          const y0 = plot.y + plot.h - ((b.high - lo) / (hi - lo)) * plot.h;
          const y1 = plot.y + plot.h - ((b.low - lo) / (hi - lo)) * plot.h;
          c.fillRect(plot.x + i * cw, y0, Math.ceil(cw), Math.max(1, y1 - y0));
        }
      });
      const style = axisStyle(root);
      const first = series[0]?.step ?? 0;
      const last = series[series.length - 1]?.step ?? 0;
      const stepTicks = niceTicks(first, last, Math.max(2, Math.floor(plot.w / 60))).filter((t) => Number.isInteger(t));
      const stepAt = (step: number): number => {
        const i = series.findIndex((s) => s.step >= step);
        return plot.x + (i < 0 ? series.length - 0.5 : i + 0.5) * cw;
      };
      drawAxis(c, plot, "bottom", stepTicks, stepAt, style);
      drawAxis(c, plot, "left", niceTicks(lo, hi, Math.max(2, Math.floor(plot.h / 28))), (v) => plot.y + plot.h - ((v - lo) / (hi - lo)) * plot.h, style);
    }
    heatCache = { key, bitmap: canvas };
    return canvas;
  };

  const draw = (): void => {
    if (!series.length) return;
    const { lo, hi, max } = range();
    root.dataset.range = `${lo}:${hi}:${max}`; // read by tests: every column of a panel draws on one range
    const hc = sizedContext(heat);
    if (hc) {
      const { ctx: c, w, h } = hc;
      c.drawImage(heatImage(w, h), 0, 0, w, h);
      const plot = plotOf(w, h);
      const at = series.findIndex((s) => s.step === (currentStep()?.step ?? -1));
      if (at >= 0) {
        // A dark and a light outline, in whole pixels: seen on both themes and on every colour of the ramp.
        const cw = plot.w / series.length;
        const x0 = Math.round(plot.x + at * cw);
        const x1 = Math.max(x0 + 2, Math.round(plot.x + (at + 1) * cw));
        const y0 = Math.round(plot.y);
        const y1 = Math.round(plot.y + plot.h);
        const frame = (x: number, y: number, w: number, h: number, t: number, color: string): void => {
          c.fillStyle = color;
          c.fillRect(x, y, w, t);
          c.fillRect(x, y + h - t, w, t);
          c.fillRect(x, y, t, h);
          c.fillRect(x + w - t, y, t, h);
        };
        frame(x0 - 2, y0, x1 - x0 + 4, y1 - y0, 2, "#000");
        frame(x0, y0 + 2, x1 - x0, y1 - y0 - 4, 1, "#fff");
      }
      heat.dataset.markerColumn = String(at);
    }
    const bc = sizedContext(bars);
    const current = currentStep();
    if (bc && current) {
      const { ctx: c, w, h } = bc;
      const plot = plotOf(w, h);
      const log = ctx.shared.log;
      const yOf = (count: number): number => plot.y + plot.h - countScale(count, max, log) * plot.h;
      const style = axisStyle(root);
      const countTicks = log ? [0, ...logTicks(1, max)] : niceTicks(0, max, Math.max(2, Math.floor(plot.h / 24)));
      drawAxis(c, plot, "left", countTicks, yOf, style, true);
      drawAxis(c, plot, "bottom", niceTicks(lo, hi, Math.max(2, Math.floor(plot.w / 60))), (v) => plot.x + ((v - lo) / (hi - lo)) * plot.w, style);
      c.fillStyle = getComputedStyle(root).getPropertyValue("--accent").trim() || "#4493f8";
      for (const b of current.bins) {
        const x0 = plot.x + ((b.low - lo) / (hi - lo)) * plot.w;
        const x1 = plot.x + ((b.high - lo) / (hi - lo)) * plot.w;
        const y = yOf(b.count);
        c.fillRect(x0, y, Math.max(1, x1 - x0 - 1), plot.y + plot.h - y);
      }
      const total = current.bins.reduce((n, b) => n + b.count, 0);
      caption.textContent = `step ${current.step} · ${current.bins.length} bins · ${formatTick(total)} values${log ? " · log counts" : ""}`;
      bars.dataset.step = String(current.step);
    }
  };

  const readout = (event: MouseEvent, text: string | undefined): void => {
    if (!text) {
      tip.hidden = true;
      return;
    }
    tip.textContent = text;
    tip.hidden = false;
    const rect = root.getBoundingClientRect();
    tip.style.left = `${Math.max(0, Math.min(event.clientX - rect.left + 12, rect.width - 180))}px`;
    tip.style.top = `${event.clientY - rect.top + 12}px`;
  };
  const binText = (step: number, b: Bin | undefined): string | undefined =>
    b ? `step ${step} · [${formatTick(b.low)}, ${formatTick(b.high)}) · count ${formatTick(b.count)}` : undefined;

  const heatPoint = (event: MouseEvent): { step: Step; value: number } | undefined => {
    if (!series.length) return undefined;
    const rect = heat.getBoundingClientRect();
    const plot = plotOf(rect.width, rect.height);
    const x = event.clientX - rect.left - plot.x;
    const y = event.clientY - rect.top - plot.y;
    if (x < 0 || x > plot.w || y < 0 || y > plot.h) return undefined;
    const step = series[Math.min(series.length - 1, Math.floor((x / plot.w) * series.length))];
    const { lo, hi } = range();
    return step ? { step, value: hi - (y / plot.h) * (hi - lo) } : undefined;
  };
  heat.addEventListener("mousemove", (event) => {
    const at = heatPoint(event);
    readout(event, at ? (binText(at.step.step, binAt(at.step, at.value)) ?? `step ${at.step.step} · no values at ${formatTick(at.value)}`) : undefined);
  });
  bars.addEventListener("mousemove", (event) => {
    const current = currentStep();
    if (!current) return;
    const rect = bars.getBoundingClientRect();
    const plot = plotOf(rect.width, rect.height);
    const { lo, hi } = range();
    const value = lo + ((event.clientX - rect.left - plot.x) / plot.w) * (hi - lo);
    readout(event, binText(current.step, binAt(current, value)));
  });
  for (const c of [heat, bars]) c.addEventListener("mouseleave", () => (tip.hidden = true));
  heat.addEventListener("click", (event) => {
    const at = heatPoint(event);
    if (at) ctx.pickStep(at.step.step);
  });
  const resize = new ResizeObserver(() => draw());
  resize.observe(root);
  const unlisten = ctx.shared.listen(() => {
    heatCache = undefined;
    draw();
  });

  return {
    el: root,
    show(step) {
      if (step === undefined) {
        root.replaceChildren(el("div", { class: "empty" }, "not logged in this run"));
        ctx.shared.forget(ctx.run);
        return;
      }
      if (!root.contains(heat)) root.replaceChildren(heat, bars, caption, tip);
      shown = step;
      if (stale || !series.some((s) => s.step === step)) void load();
      else draw();
    },
    redraw() {
      heatCache = undefined;
      draw();
    },
    refresh() {
      stale = true;
      void load();
    },
    dispose() {
      resize.disconnect();
      unlisten();
      ctx.shared.forget(ctx.run);
    },
  };
}
