// Histograms: the key's whole series as a heatmap over steps (each step's counts scaled to its
// own largest bin) and the selected step's bars below. Click the heatmap to pick a step.
import type { DvcstageSeriesResult } from "../../protocol/generated/protocol-series-result";
import { el } from "../dom";
import { errorText, type Cell, type CellContext } from "./types";

type Step = NonNullable<DvcstageSeriesResult["steps"]>[number];

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

export function histogramCell(ctx: CellContext): Cell {
  const heat = el("canvas", { class: "heatmap" });
  const bars = el("canvas", { class: "bars" });
  const axis = el("div", { class: "axis" });
  const caption = el("div", { class: "caption" });
  const root = el("div", { class: "histogram" }, heat, axis, bars, caption);
  let series: Step[] = [];
  let shown: number | undefined;
  let loading: Promise<void> | undefined;
  let stale = true;

  const load = (): Promise<void> => {
    if (loading) return loading;
    stale = false;
    loading = ctx.transport
      .request<DvcstageSeriesResult>("dvcstage/series", { run: ctx.run, key: ctx.key, kind: "histogram" })
      .then(
        (result) => {
          series = result.steps ?? [];
          draw();
        },
        (err: unknown) => {
          caption.textContent = errorText(err);
          caption.classList.add("error");
        },
      )
      .finally(() => {
        loading = undefined;
        if (stale) void load();
      });
    return loading;
  };

  const range = (): [number, number] => {
    let lo = Infinity;
    let hi = -Infinity;
    for (const s of series) for (const b of s.bins) {
      lo = Math.min(lo, b.low);
      hi = Math.max(hi, b.high);
    }
    return lo < hi ? [lo, hi] : [lo - 0.5, lo + 0.5];
  };

  const sized = (canvas: HTMLCanvasElement): CanvasRenderingContext2D | null => {
    const dpr = window.devicePixelRatio || 1;
    const w = canvas.clientWidth;
    const h = canvas.clientHeight;
    if (!w || !h) return null;
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
    const c = canvas.getContext("2d");
    c?.setTransform(dpr, 0, 0, dpr, 0, 0);
    return c;
  };

  const draw = (): void => {
    if (!series.length) return;
    const [lo, hi] = range();
    const hc = sized(heat);
    if (hc) {
      const w = heat.clientWidth;
      const h = heat.clientHeight;
      hc.clearRect(0, 0, w, h);
      const cw = w / series.length;
      series.forEach((s, i) => {
        const max = Math.max(1e-12, ...s.bins.map((b) => b.count));
        for (const b of s.bins) {
          if (b.count <= 0) continue;
          const [r, g, bl] = rampColor(b.count / max);
          hc.fillStyle = `rgb(${r | 0},${g | 0},${bl | 0})`;
          // Values grow upwards.
          const y0 = h - ((b.high - lo) / (hi - lo)) * h;
          const y1 = h - ((b.low - lo) / (hi - lo)) * h;
          hc.fillRect(i * cw, y0, Math.ceil(cw), Math.max(1, y1 - y0));
        }
      });
      const at = series.findIndex((s) => s.step === shown);
      if (at >= 0) {
        hc.strokeStyle = "#fff";
        hc.lineWidth = 1.5;
        hc.strokeRect(at * cw + 0.75, 0.75, Math.max(1, cw - 1.5), h - 1.5);
      }
    }
    axis.replaceChildren(el("span", {}, `steps ${series[0]?.step} … ${series[series.length - 1]?.step}`), el("span", {}, `values ${fmt(lo)} … ${fmt(hi)}`));
    const bc = sized(bars);
    const current = series.find((s) => s.step === shown) ?? series[series.length - 1];
    if (bc && current) {
      const w = bars.clientWidth;
      const h = bars.clientHeight;
      bc.clearRect(0, 0, w, h);
      const max = Math.max(1e-12, ...current.bins.map((b) => b.count));
      bc.fillStyle = getComputedStyle(root).getPropertyValue("--accent").trim() || "#4493f8";
      for (const b of current.bins) {
        const x0 = ((b.low - lo) / (hi - lo)) * w;
        const x1 = ((b.high - lo) / (hi - lo)) * w;
        const bh = (b.count / max) * (h - 2);
        bc.fillRect(x0, h - bh, Math.max(1, x1 - x0 - 1), bh);
      }
      const total = current.bins.reduce((n, b) => n + b.count, 0);
      caption.textContent = `step ${current.step} · ${current.bins.length} bins · ${fmt(total)} values`;
      caption.classList.remove("error");
    }
  };

  heat.addEventListener("click", (event) => {
    if (!series.length) return;
    const rect = heat.getBoundingClientRect();
    const s = series[Math.min(series.length - 1, Math.floor(((event.clientX - rect.left) / rect.width) * series.length))];
    if (s) heat.dispatchEvent(new CustomEvent("dvcstage-pick-step", { bubbles: true, detail: { key: ctx.key, step: s.step } }));
  });
  const resize = new ResizeObserver(() => draw());
  resize.observe(root);

  return {
    el: root,
    show(step) {
      if (step === undefined) {
        root.replaceChildren(el("div", { class: "empty" }, "not logged in this run"));
        return;
      }
      shown = step;
      if (stale || !series.some((s) => s.step === step)) void load();
      else draw();
    },
    refresh() {
      stale = true;
      void load();
    },
    dispose() {
      resize.disconnect();
    },
  };
}

function fmt(v: number): string {
  return Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(2) : String(Number(v.toPrecision(4)));
}
