// Axis ticks and labels for the panel's own canvas charts (histograms): "nice" steps
// (1, 2, 5 × 10^k), short number formats, and drawing an axis along a plot rectangle.

/** About `count` round values covering [lo, hi], ascending. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [];
  if (hi < lo) [lo, hi] = [hi, lo];
  if (hi === lo) return [lo];
  const raw = (hi - lo) / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  const first = Math.ceil(lo / step - 1e-9) * step;
  const out: number[] = [];
  for (let v = first; v <= hi + step * 1e-9 && out.length < 50; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : Number(v.toPrecision(12)));
  return out;
}

/** Ticks for a log axis: powers of ten within [lo, hi] (lo > 0). */
export function logTicks(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(Math.max(lo, 1e-300))); e <= Math.ceil(Math.log10(Math.max(hi, lo))); e++) {
    const v = 10 ** e;
    if (v >= lo * 0.999 && v <= hi * 1.001) out.push(v);
  }
  return out;
}

/** A short label: 0.0123, 1.5k, 2e-5, 12M. */
export function formatTick(v: number): string {
  const a = Math.abs(v);
  if (v === 0) return "0";
  if (a >= 1e6 && a < 1e9 && Number.isInteger(v / 1e6 * 100)) return `${Number((v / 1e6).toPrecision(3))}M`;
  if (a >= 1e4 && a < 1e6) return `${Number((v / 1e3).toPrecision(3))}k`;
  if (a >= 1e9 || a < 1e-3) return v.toExponential(1).replace("e+", "e");
  return String(Number(v.toPrecision(3)));
}

export interface Plot {
  /** The plot area inside the canvas, CSS pixels. */
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface AxisStyle {
  color: string;
  grid: string;
  font?: string;
}

/** Ticks and labels below (`side` bottom) or left of the plot; `at` maps a value to pixels. */
export function drawAxis(ctx: CanvasRenderingContext2D, plot: Plot, side: "bottom" | "left", ticks: readonly number[], at: (v: number) => number, style: AxisStyle, grid = false): void {
  ctx.save();
  ctx.font = style.font ?? "10px system-ui, sans-serif";
  ctx.fillStyle = style.color;
  ctx.strokeStyle = style.color;
  ctx.lineWidth = 1;
  ctx.beginPath();
  if (side === "bottom") {
    ctx.moveTo(plot.x, plot.y + plot.h + 0.5);
    ctx.lineTo(plot.x + plot.w, plot.y + plot.h + 0.5);
  } else {
    ctx.moveTo(plot.x - 0.5, plot.y);
    ctx.lineTo(plot.x - 0.5, plot.y + plot.h);
  }
  ctx.stroke();
  ctx.textAlign = side === "bottom" ? "center" : "right";
  ctx.textBaseline = side === "bottom" ? "top" : "middle";
  let lastEnd = -Infinity;
  for (const v of ticks) {
    const p = Math.round(at(v)) + 0.5;
    const label = formatTick(v);
    ctx.beginPath();
    if (side === "bottom") {
      if (p < plot.x - 1 || p > plot.x + plot.w + 1) continue;
      ctx.moveTo(p, plot.y + plot.h);
      ctx.lineTo(p, plot.y + plot.h + 4);
      ctx.stroke();
      const w = ctx.measureText(label).width;
      if (p - w / 2 > lastEnd + 4) {
        ctx.fillText(label, Math.min(Math.max(p, plot.x + w / 2), plot.x + plot.w - w / 2 + 8), plot.y + plot.h + 5);
        lastEnd = p + w / 2;
      }
      if (grid) {
        ctx.save();
        ctx.strokeStyle = style.grid;
        ctx.beginPath();
        ctx.moveTo(p, plot.y);
        ctx.lineTo(p, plot.y + plot.h);
        ctx.stroke();
        ctx.restore();
      }
    } else {
      if (p < plot.y - 1 || p > plot.y + plot.h + 1) continue;
      ctx.moveTo(plot.x - 4, p);
      ctx.lineTo(plot.x, p);
      ctx.stroke();
      ctx.fillText(label, plot.x - 6, Math.min(Math.max(p, plot.y + 5), plot.y + plot.h - 4));
      if (grid) {
        ctx.save();
        ctx.strokeStyle = style.grid;
        ctx.beginPath();
        ctx.moveTo(plot.x, p);
        ctx.lineTo(plot.x + plot.w, p);
        ctx.stroke();
        ctx.restore();
      }
    }
  }
  ctx.restore();
}

/** The theme's text and grid colours, read from the panel's CSS variables. */
export function axisStyle(element: Element): AxisStyle {
  const css = getComputedStyle(element);
  return { color: css.getPropertyValue("--muted").trim() || "#888", grid: css.getPropertyValue("--grid").trim() || "#8883" };
}

/** A canvas sized to its CSS box (device pixels), its 2-D context in CSS pixels; null if not laid out. */
export function sizedContext(canvas: HTMLCanvasElement): { ctx: CanvasRenderingContext2D; w: number; h: number } | null {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth;
  const h = canvas.clientHeight;
  if (!w || !h) return null;
  const pw = Math.round(w * dpr);
  const ph = Math.round(h * dpr);
  if (canvas.width !== pw) canvas.width = pw;
  if (canvas.height !== ph) canvas.height = ph;
  const ctx = canvas.getContext("2d");
  if (!ctx) return null;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  return { ctx, w, h };
}
