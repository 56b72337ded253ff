// The frame every panel of the workspace has: a header (a grip to drag it elsewhere in its
// section, its key and kind, controls of its own, fullscreen), a body, and a handle at its
// lower right corner to resize it (columns spanned, height of a row). Its size is reserved
// before anything loads, so the page does not move while images and charts arrive.
import { el } from "./dom";
import { icon, iconButton } from "./icons";
import { clampSize, type PanelSize } from "./layout";
import type { PanelInfo } from "./state";

/** What a panel may ask of the workspace around it. */
export interface FrameHost {
  /** The user resized the panel. */
  resized(key: string, size: PanelSize): void;
  /** The user moved the panel before `before` (undefined: to the end) of its section. */
  moved(key: string, before: string | undefined): void;
  /** The user moved it one place earlier (-1) or later (+1) with the keyboard. */
  nudged(key: string, delta: -1 | 1): void;
  /** The grid's column width and gap, for turning a drag into a span. */
  grid(): { columns: number; columnWidth: number; gap: number };
}

/** The MIME type a dragged panel carries (its key). */
export const PANEL_DRAG_TYPE = "application/x-dvcstage-panel";

export abstract class PanelFrame {
  readonly el: HTMLElement;
  readonly header: HTMLElement;
  readonly body: HTMLElement;
  protected readonly tools: HTMLElement;
  private readonly fullscreenButton: HTMLButtonElement;
  private size: PanelSize;
  private gridColumns = 1;
  info: PanelInfo;
  visible = false;

  constructor(info: PanelInfo, size: PanelSize, protected readonly frameHost: FrameHost) {
    this.info = info;
    this.size = size;
    const grip = iconButton("grip", `Drag to move ${info.key} (or Alt+←/→)`, "icon-button grip");
    grip.draggable = true;
    this.fullscreenButton = iconButton("fullscreen", "Fullscreen (Escape leaves)", "icon-button fullscreen");
    this.tools = el("span", { class: "panel-tools" });
    this.header = el(
      "header",
      {},
      grip,
      el("h2", { title: info.key }, info.key),
      el("span", { class: `badge kind-${info.kind}` }, info.kind === "metric" ? "chart" : info.kind),
      el("span", { class: "spacer" }),
      this.tools,
      this.fullscreenButton,
    );
    this.body = el("div", { class: "panel-body" });
    const handle = el("div", { class: "resize-handle", title: "Drag to resize", role: "separator", "aria-label": `resize ${info.key}` });
    this.el = el("section", { class: "panel", "data-key": info.key, "data-kind": info.kind }, this.header, this.body, handle);
    this.applySize();
    this.fullscreenButton.addEventListener("click", () => this.setFullscreen(!this.el.classList.contains("fullscreen")));
    this.el.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && this.el.classList.contains("fullscreen")) {
        event.stopPropagation();
        this.setFullscreen(false);
      }
    });
    grip.addEventListener("keydown", (event) => {
      if (!event.altKey || (event.key !== "ArrowLeft" && event.key !== "ArrowRight")) return;
      event.preventDefault();
      event.stopPropagation();
      this.frameHost.nudged(this.info.key, event.key === "ArrowLeft" ? -1 : 1);
      grip.focus();
    });
    this.bindDrag(grip);
    this.bindResize(handle);
  }

  get key(): string {
    return this.info.key;
  }

  get kind(): string {
    return this.info.kind;
  }

  setInfo(info: PanelInfo): void {
    this.info = info;
  }

  /** The grid has `columns` columns now: a panel never spans more. */
  setColumns(columns: number): void {
    this.gridColumns = columns;
    this.applySize();
  }

  setSize(size: PanelSize): void {
    this.size = clampSize(size);
    this.applySize();
  }

  private applySize(): void {
    const span = Math.min(this.size.span, Math.max(1, this.gridColumns));
    this.el.style.gridColumn = `span ${span}`;
    this.el.style.setProperty("--row-h", `${this.size.height}px`);
    this.el.dataset.span = String(span);
  }

  setFullscreen(on: boolean): void {
    this.el.classList.toggle("fullscreen", on);
    document.body.classList.toggle("has-fullscreen", on);
    this.fullscreenButton.replaceChildren(icon(on ? "exit" : "fullscreen"));
    this.fullscreenButton.title = on ? "Leave fullscreen (Escape)" : "Fullscreen (Escape leaves)";
    if (on) this.el.focus();
    this.layoutChanged();
  }

  /** The panel's size or place changed: views that measure themselves draw again. */
  protected layoutChanged(): void {}

  private bindDrag(grip: HTMLElement): void {
    grip.addEventListener("dragstart", (event) => {
      event.dataTransfer?.setData(PANEL_DRAG_TYPE, this.info.key);
      event.dataTransfer?.setDragImage(this.el, 12, 12);
      if (event.dataTransfer) event.dataTransfer.effectAllowed = "move";
      this.el.classList.add("dragging");
    });
    grip.addEventListener("dragend", () => this.el.classList.remove("dragging"));
    this.el.addEventListener("dragover", (event) => {
      if (!event.dataTransfer?.types.includes(PANEL_DRAG_TYPE)) return;
      event.preventDefault();
      this.el.classList.add("drop-target");
    });
    this.el.addEventListener("dragleave", () => this.el.classList.remove("drop-target"));
    this.el.addEventListener("drop", (event) => {
      this.el.classList.remove("drop-target");
      const key = event.dataTransfer?.getData(PANEL_DRAG_TYPE);
      if (!key || key === this.info.key) return;
      event.preventDefault();
      this.frameHost.moved(key, this.info.key);
    });
  }

  private bindResize(handle: HTMLElement): void {
    handle.addEventListener("pointerdown", (event) => {
      event.preventDefault();
      handle.setPointerCapture(event.pointerId);
      const start = { x: event.clientX, y: event.clientY, width: this.el.getBoundingClientRect().width, size: { ...this.size } };
      const rows = Math.max(1, this.rows());
      const move = (e: PointerEvent): void => {
        const { columnWidth, gap, columns } = this.frameHost.grid();
        const width = start.width + (e.clientX - start.x);
        const span = Math.min(columns, Math.max(1, Math.round((width + gap) / (columnWidth + gap))));
        this.size = clampSize({ span, height: start.size.height + (e.clientY - start.y) / rows });
        this.applySize();
        this.layoutChanged();
      };
      const up = (): void => {
        handle.removeEventListener("pointermove", move);
        handle.removeEventListener("pointerup", up);
        handle.removeEventListener("pointercancel", up);
        this.frameHost.resized(this.info.key, this.size);
      };
      handle.addEventListener("pointermove", move);
      handle.addEventListener("pointerup", up);
      handle.addEventListener("pointercancel", up);
    });
  }

  /** Rows of cells the body shows (a drag changes the height of each). */
  protected rows(): number {
    return 1;
  }

  abstract update(): void;
  redraw(): void {}
  refresh(): void {}
  dispose(): void {}
}
