// Tables: virtualised rows (only those on screen are in the DOM), sortable columns, a filter
// (text in one column or any, and a class present in the row's image boxes), grouping by a
// column, and media cells drawn small -- images with their boxes and masks (click one to see
// it large), audio players, links for the rest. Narrow panels scroll sideways.
import type { Cell as TableCell, Table } from "../../protocol/generated/table";
import type { ImageSidecar } from "../../protocol/generated/image-sidecar";
import { readBoxes } from "../boxes";
import { el } from "../dom";
import { iconButton } from "../icons";
import { fetchJson, loadImageBundle, sidecarUrl, type ImageBundle } from "../loader";
import { ImageStage, SharedView } from "../overlay";
import type { OverlaySettings } from "../state";
import { itemCell } from "./audio";
import type { Cell, CellContext } from "./types";

type MediaRef = Extract<TableCell, { _type: string }>;
export type SortOrder = { column: number; dir: 1 | -1 } | undefined;

export const ROW_HEIGHT = 28;
export const MEDIA_ROW_HEIGHT = 72;
const OVERSCAN = 6;
/** Sidecars read for the class filter (the first rows'). */
export const MAX_CLASS_SIDECARS = 2000;

function isMedia(cell: TableCell | undefined): cell is MediaRef {
  return typeof cell === "object" && cell !== null;
}

/** Row order for a sort: numbers by value, text by locale, media by path; empty cells last. */
export function sortRows(rows: readonly TableCell[][], order: SortOrder, among?: readonly number[]): number[] {
  const index = among ? [...among] : rows.map((_, i) => i);
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

export function formatValue(v: TableCell | undefined): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
  if (typeof v === "object") return v.path;
  return String(v);
}

export interface RowFilter {
  /** Text to find (case-insensitive); "" for any. */
  text: string;
  /** The column searched, or -1 for every column. */
  column: number;
  /** A class that must be among the row's image boxes (or masks), or "" for any. */
  cls: string;
}

/** The rows passing a filter. `classesOf(row)` gives the classes in a row's images. */
export function filterRows(rows: readonly TableCell[][], filter: RowFilter, classesOf: (row: number) => ReadonlySet<string> | undefined): number[] {
  const text = filter.text.trim().toLowerCase();
  const out: number[] = [];
  rows.forEach((row, i) => {
    if (text) {
      const cells = filter.column >= 0 ? [row[filter.column]] : row;
      if (!cells.some((c) => formatValue(c).toLowerCase().includes(text))) return;
    }
    if (filter.cls && !classesOf(i)?.has(filter.cls)) return;
    out.push(i);
  });
  return out;
}

export type Entry = { group: string; count: number } | { row: number };

/** Rows in groups by a column's value (groups in order of their first row), each after its heading. */
export function groupRows(rows: readonly TableCell[][], order: readonly number[], column: number): Entry[] {
  const groups = new Map<string, number[]>();
  for (const i of order) {
    const value = formatValue(rows[i]?.[column]) || "(empty)";
    const list = groups.get(value) ?? [];
    list.push(i);
    groups.set(value, list);
  }
  const out: Entry[] = [];
  for (const [group, list] of groups) {
    out.push({ group, count: list.length });
    for (const row of list) out.push({ row });
  }
  return out;
}

/** A large view of one image with its overlays, over the page (Escape or click closes it). */
export function openLightbox(bundle: ImageBundle, settings: OverlaySettings, title: string): void {
  document.querySelector(".lightbox")?.remove();
  const stage = new ImageStage(settings, new SharedView());
  const close = iconButton("close", "Close (Escape)", "icon-button lightbox-close");
  const box = el("div", { class: "lightbox", role: "dialog", "aria-label": title }, el("div", { class: "lightbox-frame" }, el("div", { class: "lightbox-head" }, el("strong", {}, title), close), stage.el));
  const done = (): void => {
    stage.dispose();
    box.remove();
    removeEventListener("keydown", onKey, true);
  };
  const onKey = (event: KeyboardEvent): void => {
    if (event.key === "Escape") {
      event.stopPropagation();
      done();
    }
  };
  close.addEventListener("click", done);
  box.addEventListener("click", (event) => event.target === box && done());
  addEventListener("keydown", onKey, true);
  document.body.append(box);
  requestAnimationFrame(() => stage.show(bundle));
  close.focus();
}

export class TableView {
  readonly el: HTMLElement;
  private readonly scroller: HTMLElement;
  private readonly sizer: HTMLElement;
  private readonly head: HTMLElement;
  private readonly footer: HTMLElement;
  private readonly tools: HTMLElement;
  private readonly classSelect: HTMLSelectElement;
  private entries: Entry[] = [];
  private sort: SortOrder;
  private filter: RowFilter = { text: "", column: -1, cls: "" };
  private groupBy = -1;
  private rowHeight = ROW_HEIGHT;
  private rendered = new Map<number, { row: HTMLElement; stages: ImageStage[] }>();
  private readonly bundles = new Map<string, Promise<ImageBundle>>();
  private readonly rowClasses = new Map<number, Set<string>>();
  private classesLoading: Promise<void> | undefined;
  private template = "";
  private minWidth = 0;

  constructor(
    private readonly table: Table,
    private readonly baseUrl: string,
    private readonly ctx: CellContext,
  ) {
    this.head = el("div", { class: "thead" });
    this.sizer = el("div", { class: "sizer" });
    this.scroller = el("div", { class: "scroller" }, this.head, this.sizer);
    this.footer = el("div", { class: "footer" });
    const media = table.data.some((row) => row.some(isMedia));
    this.rowHeight = media ? MEDIA_ROW_HEIGHT : ROW_HEIGHT;
    const mins = table.columns.map((_, c) => (table.data.some((r) => isMedia(r[c])) ? 96 : 72));
    this.template = table.columns.map((_, c) => `minmax(${mins[c]}px, ${mins[c] === 96 ? 1.5 : 1}fr)`).join(" ");
    this.minWidth = mins.reduce((a, b) => a + b, 0);
    this.head.style.gridTemplateColumns = this.template;
    this.head.style.minWidth = `${this.minWidth}px`;
    this.sizer.style.minWidth = `${this.minWidth}px`;

    const text = el("input", { type: "search", class: "table-filter", placeholder: "Filter rows", "aria-label": "filter rows" });
    const column = el("select", { class: "table-filter-column", "aria-label": "column to filter" }, el("option", { value: "-1" }, "any column"), ...table.columns.map((name, c) => el("option", { value: String(c) }, name)));
    this.classSelect = el("select", { class: "table-filter-class", "aria-label": "class in the row's images" }, el("option", { value: "" }, "any class"));
    const group = el("select", { class: "table-group", "aria-label": "group rows by" }, el("option", { value: "-1" }, "no grouping"), ...table.columns.map((name, c) => el("option", { value: String(c) }, `group by ${name}`)));
    text.addEventListener("input", () => this.setFilter({ ...this.filter, text: text.value }));
    column.addEventListener("change", () => this.setFilter({ ...this.filter, column: Number(column.value) }));
    this.classSelect.addEventListener("change", () => this.setFilter({ ...this.filter, cls: this.classSelect.value }));
    group.addEventListener("change", () => {
      this.groupBy = Number(group.value);
      this.rebuild();
    });
    const hasImages = table.data.some((row) => row.some((c) => isMedia(c) && c._type === "image"));
    this.tools = el("div", { class: "table-tools" }, text, column, ...(hasImages ? [this.classSelect] : []), group);
    if (hasImages) this.classSelect.addEventListener("focus", () => void this.loadClasses(), { once: true });
    this.el = el("div", { class: "table-view" }, this.tools, this.scroller, this.footer);
    this.renderHead();
    this.rebuild();
    this.scroller.addEventListener("scroll", () => this.renderRows(), { passive: true });
    new ResizeObserver(() => this.renderRows()).observe(this.scroller);
    if (hasImages) void this.loadClasses();
  }

  /** Reads the sidecars of image cells (the first MAX_CLASS_SIDECARS) for the class filter. */
  loadClasses(): Promise<void> {
    this.classesLoading ??= (async () => {
      const jobs: (() => Promise<void>)[] = [];
      this.table.data.forEach((row, r) => {
        for (const cell of row) {
          if (!isMedia(cell) || cell._type !== "image" || jobs.length >= MAX_CLASS_SIDECARS) continue;
          const sidecar = this.sidecarUrlOf(cell);
          if (!sidecar) continue;
          jobs.push(async () => {
            const doc = await fetchJson<ImageSidecar>(sidecar).catch(() => null);
            const classes = this.rowClasses.get(r) ?? new Set<string>();
            for (const b of readBoxes(doc, 1, 1).boxes) classes.add(b.label);
            for (const m of Object.values(doc?.masks ?? {})) for (const name of Object.values(m?.class_labels ?? {})) if (name) classes.add(name);
            this.rowClasses.set(r, classes);
          });
        }
      });
      let next = 0;
      await Promise.all(Array.from({ length: 8 }, async () => {
        while (next < jobs.length) await (jobs[next++] as () => Promise<void>)();
      }));
      const all = new Set<string>();
      for (const set of this.rowClasses.values()) for (const c of set) all.add(c);
      const chosen = this.classSelect.value;
      this.classSelect.replaceChildren(el("option", { value: "" }, "any class"), ...[...all].sort().map((c) => el("option", { value: c }, `with ${c}`)));
      this.classSelect.value = chosen;
      this.classSelect.dataset.ready = "true";
    })();
    return this.classesLoading;
  }

  setFilter(filter: RowFilter): void {
    this.filter = filter;
    if (filter.cls) void this.loadClasses().then(() => this.rebuild());
    this.rebuild();
  }

  private rebuild(): void {
    const passing = filterRows(this.table.data, this.filter, (r) => this.rowClasses.get(r));
    const order = sortRows(this.table.data, this.sort, passing);
    this.entries = this.groupBy >= 0 ? groupRows(this.table.data, order, this.groupBy) : order.map((row) => ({ row }));
    this.sizer.style.height = `${this.entries.length * this.rowHeight}px`;
    const shown = order.length;
    const total = this.table.data.length;
    this.footer.textContent = `${shown === total ? `${total} rows` : `${shown} of ${total} rows`} × ${this.table.columns.length} columns`;
    this.sizer.classList.toggle("no-match", shown === 0);
    this.sizer.dataset.empty = shown === 0 ? `No row matches the filter.` : "";
    this.clearRows();
    this.renderRows();
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
    this.renderHead();
    this.rebuild();
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
    const [first, last] = visibleRows(Math.max(0, this.scroller.scrollTop - headHeight), this.scroller.clientHeight || 400, this.rowHeight, this.entries.length);
    for (const [pos, r] of this.rendered) {
      if (pos < first || pos >= last) {
        for (const s of r.stages) s.dispose();
        r.row.remove();
        this.rendered.delete(pos);
      }
    }
    for (let pos = first; pos < last; pos++) {
      if (this.rendered.has(pos)) continue;
      const entry = this.entries[pos] as Entry;
      const stages: ImageStage[] = [];
      let row: HTMLElement;
      if ("group" in entry) {
        row = el("div", { class: "tr group-row", "data-group": entry.group }, el("strong", {}, entry.group), el("span", { class: "note" }, ` ${entry.count} rows`));
      } else {
        row = el("div", { class: "tr", "data-row": String(entry.row) });
        row.style.gridTemplateColumns = this.template;
        const data = this.table.data[entry.row] ?? [];
        this.table.columns.forEach((name, c) => row.append(this.renderCell(data[c], stages, `row ${entry.row} · ${name}`)));
      }
      row.style.top = `${pos * this.rowHeight}px`;
      row.style.height = `${this.rowHeight}px`;
      row.style.minWidth = `${this.minWidth}px`;
      this.sizer.append(row);
      this.rendered.set(pos, { row, stages });
    }
  }

  private sidecarUrlOf(ref: MediaRef): string | undefined {
    const stem = ref.path.replace(/\.[^./]+$/, "");
    const sidecarPath = ref.files.find((f) => f === `${stem}.json`);
    return sidecarPath ? new URL(sidecarPath, this.baseUrl).href : undefined;
  }

  private renderCell(value: TableCell | undefined, stages: ImageStage[], title: string): HTMLElement {
    if (!isMedia(value)) {
      return el("div", { class: typeof value === "number" ? "td num" : "td", title: formatValue(value) }, formatValue(value));
    }
    const url = new URL(value.path, this.baseUrl).href;
    if (value._type === "image") {
      const stage = new ImageStage(this.ctx.settings, new SharedView());
      stages.push(stage);
      const td = el("div", { class: "td media", title: "Click to enlarge" }, stage.el);
      this.imageBundle(value).then(
        (b) => {
          stage.show(b);
          this.ctx.discovered(b);
          td.addEventListener("click", () => openLightbox(b, this.ctx.settings, title));
          td.classList.add("zoomable");
        },
        () => stage.el.replaceChildren(el("span", { class: "error" }, `missing ${value.path}`)),
      );
      return td;
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
      const sidecar = this.sidecarUrlOf(ref);
      job = (async () => {
        const doc = sidecar ? await fetchJson<ImageSidecar>(sidecar).catch(() => null) : null;
        return loadImageBundle(0, imageUrl, doc, (_name, path) => (sidecar ? new URL(path, sidecar).href : undefined), { image: ref.path });
      })();
      this.bundles.set(ref.path, job);
    }
    return job;
  }
}

export function tableCell(ctx: CellContext): Cell {
  let view: TableView | undefined;
  const cell = itemCell(ctx, "table", "sidecar", (item) => {
    const table = item.sidecar as Table | null;
    const url = sidecarUrl(item);
    if (!table || !url) return [el("div", { class: "error" }, item.problems.join("; ") || "the table could not be read")];
    view = new TableView(table, new URL(url, location.href).href, ctx);
    return [view.el, ...(table.caption ? [el("div", { class: "facts" }, table.caption)] : [])];
  });
  return { ...cell, redraw: () => view?.redraw() };
}
