// One image with its masks and boxes on two canvases: `base` (the image, masks composited
// over it) and `over` (boxes and labels). Both are drawn in screen space from the view (zoom
// and pan shared by a panel's columns), so lines stay thin at any zoom. The stage takes the
// size its box is given (CSS) and fits the image inside; nothing moves when an image loads.
import { boxesAt, boxLabel, groupDash, isBoxVisible, placeLabels, type Rect } from "./boxes";
import { classColor, className, textColorOn } from "./colors";
import type { ImageBundle } from "./loader";
import { compositeMasks, isBackground } from "./masks";
import { maskOpacity, type OverlaySettings } from "./state";
import { el } from "./dom";

/** Zoom and pan of a panel; every stage of the panel draws with the same view. */
export class SharedView {
  zoom = 1;
  /** Pan in units of the displayed image's size (so columns of different sizes agree). */
  panX = 0;
  panY = 0;
  private readonly listeners = new Set<() => void>();
  listen(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
  changed(): void {
    for (const fn of this.listeners) fn();
  }
  reset(): void {
    this.zoom = 1;
    this.panX = 0;
    this.panY = 0;
    this.changed();
  }
}

function hiddenIds(settings: OverlaySettings, mask: string): Set<number> {
  const out = new Set<number>();
  const prefix = `${mask}\u0000`;
  for (const k of settings.hiddenMaskClasses) if (k.startsWith(prefix)) out.add(Number(k.slice(prefix.length)));
  return out;
}

/** What the masks' composite depends on: each mask's opacity and hidden classes. */
function maskSignature(bundle: ImageBundle, settings: OverlaySettings): string {
  return bundle.masks.map((m) => `${m.name}=${maskOpacity(settings, m.name)}:${[...hiddenIds(settings, m.name)].sort().join(",")}`).join("|");
}

const composites = new WeakMap<ImageBundle, { signature: string; canvas: HTMLCanvasElement | null }>();

/** The masks of a bundle composited for the current settings, made once per settings. */
export function masksCanvas(bundle: ImageBundle, settings: OverlaySettings): HTMLCanvasElement | null {
  if (!bundle.masks.length) return null;
  const signature = maskSignature(bundle, settings);
  const cached = composites.get(bundle);
  if (cached && cached.signature === signature) return cached.canvas;
  const first = bundle.masks[0]?.map;
  const width = first?.width ?? bundle.width;
  const height = first?.height ?? bundle.height;
  const layers = bundle.masks.map((m) => ({ map: m.map, labels: m.labels, opacity: maskOpacity(settings, m.name), hidden: hiddenIds(settings, m.name) }));
  let canvas: HTMLCanvasElement | null = null;
  if (layers.some((l) => l.opacity > 0)) {
    canvas = cached?.canvas ?? document.createElement("canvas");
    canvas.width = width;
    canvas.height = height;
    canvas.getContext("2d")?.putImageData(new ImageData(compositeMasks(layers, width, height), width, height), 0, 0);
  }
  composites.set(bundle, { signature, canvas });
  return canvas;
}

/** Prepares what drawing a (prefetched) bundle needs, so that its step change only draws. */
export function warmBundle(bundle: ImageBundle, settings: OverlaySettings): void {
  masksCanvas(bundle, settings);
}

/** Images drawn narrower than this (table thumbnails) get boxes without labels: a label would
 * cover the picture. Hovering still shows each box's label and scores. */
export const MIN_LABELLED_WIDTH = 160;
export const LABEL_HEIGHT = 15;

/** A stage waiting this long for its next image is dimmed. */
export const STALE_AFTER_MS = 250;

export class ImageStage {
  readonly el: HTMLElement;
  readonly base: HTMLCanvasElement;
  readonly over: HTMLCanvasElement;
  private readonly tip: HTMLElement;
  private bundle: ImageBundle | undefined;
  private cssWidth = 0;
  private cssHeight = 0;
  private scale = 1;
  private ox = 0;
  private oy = 0;
  private readonly unlisten: () => void;
  private readonly resize: ResizeObserver;
  private staleTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly settings: OverlaySettings,
    private readonly view: SharedView,
  ) {
    this.base = el("canvas", { class: "stage-base" });
    this.over = el("canvas", { class: "stage-over" });
    this.tip = el("div", { class: "tooltip", hidden: "" });
    this.el = el("div", { class: "stage" }, this.base, this.over, this.tip);
    this.unlisten = view.listen(() => this.draw());
    this.resize = new ResizeObserver(() => this.layout());
    this.resize.observe(this.el);
    this.bindPointer();
  }

  dispose(): void {
    this.clearLoading();
    this.unlisten();
    this.resize.disconnect();
  }

  get current(): ImageBundle | undefined {
    return this.bundle;
  }

  /**
   * The stage waits for another image (class `loading`); it is dimmed (`stale`) only if that
   * takes longer than STALE_AFTER_MS. Dimming at once would change the page's compositing on
   * every slider move (an opacity below 1 is a compositor effect), which costs Chromium more
   * than drawing the images, and would flicker on loads that take a frame or two.
   */
  setLoading(): void {
    this.el.classList.add("loading");
    if (this.staleTimer === undefined) {
      this.staleTimer = setTimeout(() => {
        this.staleTimer = undefined;
        if (this.el.classList.contains("loading")) this.el.classList.add("stale");
      }, STALE_AFTER_MS);
    }
  }

  /** Done waiting (drawn, or failed). */
  clearLoading(): void {
    this.el.classList.remove("loading", "stale");
    if (this.staleTimer !== undefined) clearTimeout(this.staleTimer);
    this.staleTimer = undefined;
  }

  show(bundle: ImageBundle): void {
    this.bundle = bundle;
    this.clearLoading();
    if (this.cssWidth === 0) this.layout(false);
    this.draw();
  }

  /** Takes the size of the stage's box (set by CSS) for both canvases. */
  private layout(redraw = true): void {
    const width = this.el.clientWidth;
    const height = this.el.clientHeight;
    if (width === 0 || height === 0) return;
    if (width === this.cssWidth && height === this.cssHeight) return;
    this.cssWidth = width;
    this.cssHeight = height;
    const dpr = window.devicePixelRatio || 1;
    for (const c of [this.base, this.over]) {
      c.width = Math.round(width * dpr);
      c.height = Math.round(height * dpr);
      c.style.width = `${width}px`;
      c.style.height = `${height}px`;
    }
    if (redraw) this.draw();
  }

  private transform(): void {
    const b = this.bundle;
    if (!b) return;
    const fit = Math.min(this.cssWidth / b.width, this.cssHeight / b.height);
    this.scale = fit * this.view.zoom;
    const w = b.width * this.scale;
    const h = b.height * this.scale;
    this.ox = (this.cssWidth - w) / 2 + this.view.panX * w;
    this.oy = (this.cssHeight - h) / 2 + this.view.panY * h;
    // Read by tests and by the measurement script: image pixel (x, y) is at (ox + x*scale, oy + y*scale).
    this.over.dataset.scale = String(this.scale);
    this.over.dataset.ox = String(this.ox);
    this.over.dataset.oy = String(this.oy);
  }

  draw(): void {
    if (!this.bundle) return;
    if (this.cssWidth === 0) this.layout(false);
    if (this.cssWidth === 0) return;
    this.transform();
    this.drawBase();
    this.drawBoxes();
    this.el.dataset.step = String(this.bundle.step);
    this.el.dispatchEvent(new CustomEvent("dvcstage-drawn", { bubbles: true, detail: { step: this.bundle.step, time: performance.now() } }));
  }

  drawBase(): void {
    const b = this.bundle;
    const ctx = this.base.getContext("2d");
    if (!b || !ctx) return;
    const dpr = window.devicePixelRatio || 1;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, this.base.width, this.base.height);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.imageSmoothingEnabled = this.scale < 2;
    const w = b.width * this.scale;
    const h = b.height * this.scale;
    ctx.drawImage(b.image, this.ox, this.oy, w, h);
    const masks = masksCanvas(b, this.settings);
    if (masks) {
      ctx.imageSmoothingEnabled = false;
      ctx.drawImage(masks, this.ox, this.oy, w, h);
    }
  }

  drawBoxes(): void {
    const b = this.bundle;
    const ctx = this.over.getContext("2d");
    if (!b || !ctx) return;
    const dpr = window.devicePixelRatio || 1;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, this.over.width, this.over.height);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.lineWidth = 2;
    ctx.font = "11px system-ui, sans-serif";
    ctx.textBaseline = "top";
    const s = this.scale;
    const groups = [...new Set(b.boxes.map((x) => x.group))];
    const labels: { text: string; color: string; box: Rect; w: number; h: number }[] = [];
    const labelled = this.settings.showCaptions && b.width * s >= MIN_LABELLED_WIDTH;
    for (const box of b.boxes) {
      if (!isBoxVisible(box, this.settings)) continue;
      const color = classColor(box.label, box.classId);
      // Whole pixels: a 2 px line on a pixel boundary is crisp, and lands where the box says.
      const x = Math.round(this.ox + box.x0 * s);
      const y = Math.round(this.oy + box.y0 * s);
      const w = Math.round(this.ox + box.x1 * s) - x;
      const h = Math.round(this.oy + box.y1 * s) - y;
      ctx.strokeStyle = color;
      ctx.setLineDash(groupDash(box.group, groups));
      ctx.strokeRect(x, y, w, h);
      if (labelled) {
        const text = boxLabel(box);
        labels.push({ text, color, box: { x, y, w, h }, w: ctx.measureText(text).width + 6, h: LABEL_HEIGHT });
      }
    }
    ctx.setLineDash([]);
    // Labels after every box so that no box line crosses a label; none covers another.
    const spots = placeLabels(labels, { w: this.cssWidth, h: this.cssHeight });
    // Read by tests: the labels drawn and where.
    this.over.dataset.labels = JSON.stringify(labels.flatMap((l, i) => (spots[i] ? [{ text: l.text, ...spots[i] }] : [])));
    labels.forEach(({ text, color }, i) => {
      const spot = spots[i];
      if (!spot) return;
      ctx.fillStyle = color;
      ctx.fillRect(spot.x, spot.y, spot.w, spot.h);
      ctx.fillStyle = textColorOn(color);
      ctx.fillText(text, spot.x + 3, spot.y + 2);
    });
  }

  /** Image pixel under a mouse event. */
  private imagePoint(event: MouseEvent): [number, number] {
    const rect = this.over.getBoundingClientRect();
    return [(event.clientX - rect.left - this.ox) / this.scale, (event.clientY - rect.top - this.oy) / this.scale];
  }

  private bindPointer(): void {
    let drag: { x: number; y: number; panX: number; panY: number } | undefined;
    this.over.addEventListener("mousemove", (event) => {
      if (drag && this.bundle) {
        const w = this.bundle.width * this.scale;
        const h = this.bundle.height * this.scale;
        this.view.panX = drag.panX + (event.clientX - drag.x) / w;
        this.view.panY = drag.panY + (event.clientY - drag.y) / h;
        this.view.changed();
        return;
      }
      this.hover(event);
    });
    this.over.addEventListener("mouseleave", () => {
      this.tip.hidden = true;
      drag = undefined;
    });
    this.over.addEventListener("mousedown", (event) => {
      if (this.view.zoom > 1) drag = { x: event.clientX, y: event.clientY, panX: this.view.panX, panY: this.view.panY };
    });
    window.addEventListener("mouseup", () => (drag = undefined));
    this.over.addEventListener("dblclick", () => this.view.reset());
    this.over.addEventListener(
      "wheel",
      (event) => {
        if (!(event.ctrlKey || event.metaKey || event.altKey) || !this.bundle) return;
        event.preventDefault();
        const [px, py] = this.imagePoint(event);
        const zoom = Math.min(64, Math.max(1, this.view.zoom * Math.exp(-event.deltaY * 0.002)));
        // Keep the image point under the cursor where it is.
        const fit = this.scale / this.view.zoom;
        const rect = this.over.getBoundingClientRect();
        const mx = event.clientX - rect.left;
        const my = event.clientY - rect.top;
        const w = this.bundle.width * fit * zoom;
        const h = this.bundle.height * fit * zoom;
        this.view.zoom = zoom;
        this.view.panX = (mx - px * fit * zoom - (this.cssWidth - w) / 2) / w;
        this.view.panY = (my - py * fit * zoom - (this.cssHeight - h) / 2) / h;
        if (zoom === 1) {
          this.view.panX = 0;
          this.view.panY = 0;
        }
        this.view.changed();
      },
      { passive: false },
    );
  }

  private hover(event: MouseEvent): void {
    const b = this.bundle;
    if (!b) return;
    const [x, y] = this.imagePoint(event);
    const rows: HTMLElement[] = [];
    for (const box of boxesAt(b.boxes, x, y, this.settings)) {
      const name = box.caption && box.caption !== box.label ? `${box.label} — ${box.caption}` : box.label;
      const scores = Object.entries(box.scores).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(", ");
      const swatch = el("span", { class: "swatch" });
      swatch.style.background = classColor(box.label, box.classId);
      rows.push(el("div", { class: "tip-box" }, swatch, el("strong", {}, name), ` · ${box.group}`, scores ? ` · ${scores}` : ""));
    }
    const px = Math.floor(x);
    const py = Math.floor(y);
    if (px >= 0 && py >= 0 && px < b.width && py < b.height) {
      for (const m of b.masks) {
        const mx = Math.floor((px * m.map.width) / b.width);
        const my = Math.floor((py * m.map.height) / b.height);
        const id = m.map.ids[my * m.map.width + mx];
        if (id !== undefined && !isBackground(id, m.labels)) rows.push(el("div", {}, `mask ${m.name}: ${className(m.labels, id)}`));
      }
    }
    if (!rows.length) {
      this.tip.hidden = true;
      return;
    }
    this.tip.replaceChildren(...rows);
    this.tip.hidden = false;
    const rect = this.el.getBoundingClientRect();
    const left = Math.min(event.clientX - rect.left + 12, rect.width - 200);
    this.tip.style.left = `${Math.max(0, left)}px`;
    const top = event.clientY - rect.top + 12;
    this.tip.style.top = `${Math.max(0, Math.min(top, rect.height - 16 * rows.length - 12))}px`;
  }
}
