// Tables: virtualised rows (only those on screen are in the DOM), sortable columns, and media
// cells drawn small -- images with their boxes and masks, audio players, links for the rest.
import type { Cell as TableCell, Table } from "../../protocol/generated/table";
import type { ImageSidecar } from "../../protocol/generated/image-sidecar";
import { el } from "../dom";
import { fetchJson, loadImageBundle, sidecarUrl, type ImageBundle } from "../loader";
import { ImageStage, SharedView } from "../overlay";
import { itemCell } from "./audio";
import type { Cell, CellContext } from "./types";

type MediaRef = Extract<TableCell, { _type: string }>;
export type SortOrder = { column: number; dir: 1 | -1 } | undefined;

export const ROW_HEIGHT = 28;
export const MEDIA_ROW_HEIGHT = 72;
const OVERSCAN = 6;

function isMedia(cell: TableCell | undefined): cell is MediaRef {
  return typeof cell === "object" && cell !== null;
}

/** Row order for a sort: numbers by value, text by locale, media by path; empty cells last. */
export function sortRows(rows: readonly TableCell[][], order: SortOrder): number[] {
  const index = rows.map((_, i) => i);
  if (!order) return index;
  const { column, dir } = order;
  const rank = (v: TableCell | undefined): [number, number | string] => {
    if (v === null || v === undefined) return [3, 0];
    if (typeof v === "number") return [0, v];
    if (typeof v === "boolean") return [0, v ? 1 : 0];
    if (typeof v === "string") return [1, v];
    return [2, v.path];
  };
  return index.sort((a, b) => {
    const [ra, va] = rank(rows[a]?.[column]);
    const [rb, vb] = rank(rows[b]?.[column]);
    if (ra !== rb) return ra - rb; // empty cells last in both directions
    if (ra === 3) return a - b;
    const c = typeof va === "number" && typeof vb === "number" ? va - vb : String(va).localeCompare(String(vb), undefined, { numeric: true });
    return c === 0 ? a - b : c * dir;
  });
}

/** The rows [first, last) to render for a scroll position. */
export function visibleRows(scrollTop: number, viewport: number, rowHeight: number, count: number, overscan = OVERSCAN): [number, number] {
  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const last = Math.min(count, Math.ceil((scrollTop + viewport) / rowHeight) + overscan);
  return [first, last];
}

function formatValue(v: TableCell | undefined): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
  return String(v);
}

export class TableView {
  readonly el: HTMLElement;
  private readonly scroller: HTMLElement;
  private readonly sizer: HTMLElement;
  private readonly head: HTMLElement;
  private readonly footer: HTMLElement;
  private order: number[] = [];
  private sort: SortOrder;
  private rowHeight = ROW_HEIGHT;
  private rendered = new Map<number, { row: HTMLElement; stages: ImageStage[] }>();
  private readonly bundles = new Map<string, Promise<ImageBundle>>();
  private template = "";

  constructor(
    private readonly table: Table,
    private readonly baseUrl: string,
    private readonly ctx: CellContext,
  ) {
    this.head = el("div", { class: "thead" });
    this.sizer = el("div", { class: "sizer" });
    this.scroller = el("div", { class: "scroller" }, this.head, this.sizer);
    this.footer = el("div", { class: "footer" });
    this.el = el("div", { class: "table-view" }, this.scroller, this.footer);
    const media = table.data.some((row) => row.some(isMedia));
    this.rowHeight = media ? MEDIA_ROW_HEIGHT : ROW_HEIGHT;
    this.template = table.columns.map((_, c) => (table.data.some((r) => isMedia(r[c])) ? "minmax(96px, 1.5fr)" : "minmax(60px, 1fr)")).join(" ");
    this.head.style.gridTemplateColumns = this.template;
    this.renderHead();
    this.order = sortRows(table.data, undefined);
    this.sizer.style.height = `${this.order.length * this.rowHeight}px`;
    this.footer.textContent = `${table.data.length} rows × ${table.columns.length} columns`;
    this.scroller.addEventListener("scroll", () => this.renderRows(), { passive: true });
    new ResizeObserver(() => this.renderRows()).observe(this.scroller);
  }

  private renderHead(): void {
    this.head.replaceChildren(
      ...this.table.columns.map((name, c) => {
        const th = el("div", { class: "th", title: `Sort by ${name}`, role: "columnheader" }, name);
        if (this.sort?.column === c) th.classList.add(this.sort.dir === 1 ? "asc" : "desc");
        th.addEventListener("click", () => this.sortBy(c));
        return th;
      }),
    );
  }

  /** Ascending, then descending, then as logged. */
  sortBy(column: number): void {
    if (this.sort?.column !== column) this.sort = { column, dir: 1 };
    else if (this.sort.dir === 1) this.sort = { column, dir: -1 };
    else this.sort = undefined;
    this.order = sortRows(this.table.data, this.sort);
    this.renderHead();
    this.clearRows();
    this.renderRows();
  }

  private clearRows(): void {
    for (const { row, stages } of this.rendered.values()) {
      for (const s of stages) s.dispose();
      row.remove();
    }
    this.rendered.clear();
  }

  renderRows(): void {
    const headHeight = this.head.offsetHeight;
    const [first, last] = visibleRows(Math.max(0, this.scroller.scrollTop - headHeight), this.scroller.clientHeight || 400, this.rowHeight, this.order.length);
    for (const [pos, r] of this.rendered) {
      if (pos < first || pos >= last) {
        for (const s of r.stages) s.dispose();
        r.row.remove();
        this.rendered.delete(pos);
      }
    }
    for (let pos = first; pos < last; pos++) {
      if (this.rendered.has(pos)) continue;
      const index = this.order[pos] as number;
      const stages: ImageStage[] = [];
      const row = el("div", { class: "tr", "data-row": String(index) });
      row.style.top = `${pos * this.rowHeight}px`;
      row.style.height = `${this.rowHeight}px`;
      row.style.gridTemplateColumns = this.template;
      const data = this.table.data[index] ?? [];
      this.table.columns.forEach((_, c) => row.append(this.renderCell(data[c], stages)));
      this.sizer.append(row);
      this.rendered.set(pos, { row, stages });
    }
  }

  private renderCell(value: TableCell | undefined, stages: ImageStage[]): HTMLElement {
    if (!isMedia(value)) {
      const td = el("div", { class: typeof value === "number" ? "td num" : "td", title: formatValue(value) }, formatValue(value));
      return td;
    }
    const url = new URL(value.path, this.baseUrl).href;
    if (value._type === "image") {
      const stage = new ImageStage(this.ctx.settings, new SharedView(), this.rowHeight - 6);
      stages.push(stage);
      this.imageBundle(value).then(
        (b) => {
          stage.show(b);
          this.ctx.discovered(b);
        },
        () => stage.el.replaceChildren(el("span", { class: "error" }, "missing image")),
      );
      return el("div", { class: "td media" }, stage.el);
    }
    if (value._type === "audio") {
      const audio = el("audio", { controls: "", preload: "none" });
      audio.src = url;
      return el("div", { class: "td media" }, audio);
    }
    return el("div", { class: "td" }, el("a", { href: url, target: "_blank", rel: "noopener" }, `${value._type}: ${value.path.split("/").pop() ?? ""}`));
  }

  redraw(): void {
    for (const r of this.rendered.values()) for (const s of r.stages) s.draw();
  }

  private imageBundle(ref: MediaRef): Promise<ImageBundle> {
    let job = this.bundles.get(ref.path);
    if (!job) {
      const imageUrl = new URL(ref.path, this.baseUrl).href;
      const stem = ref.path.replace(/\.[^./]+$/, "");
      const sidecarPath = ref.files.find((f) => f === `${stem}.json`);
      job = (async () => {
        const sidecarUrl = sidecarPath ? new URL(sidecarPath, this.baseUrl).href : undefined;
        const sidecar = sidecarUrl ? await fetchJson<ImageSidecar>(sidecarUrl).catch(() => null) : null;
        return loadImageBundle(0, imageUrl, sidecar, (_name, path) => (sidecarUrl ? new URL(path, sidecarUrl).href : undefined));
      })();
      this.bundles.set(ref.path, job);
    }
    return job;
  }
}

export function tableCell(ctx: CellContext): Cell {
  let view: TableView | undefined;
  const cell = itemCell(ctx, "table", (item) => {
    const table = item.sidecar as Table | null;
    const url = sidecarUrl(item);
    if (!table || !url) return [el("div", { class: "error" }, item.problems.join("; ") || "the table could not be read")];
    view = new TableView(table, new URL(url, location.href).href, ctx);
    return [view.el, el("div", { class: "facts" }, [table.caption, `step ${item.step}`].filter(Boolean).join(" · "))];
  });
  return { ...cell, redraw: () => view?.redraw() };
}
