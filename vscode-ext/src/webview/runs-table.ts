// The runs table: every run (workspace, commits, experiments) with a checkbox that shows it
// as a column, its colour, short name, kind and last step, then its params and final metrics
// as sortable columns; a filter (`train.lr=0.05`, `loss<0.3`, or any text) and a grouping by a
// param, whose group rows choose all their runs at once.
import type { Run } from "../protocol/generated/protocol-runs-result";
import type { RunSummary } from "../protocol/generated/protocol-summary-result";
import { el, swatch } from "./dom";
import { columnId, formatValue, groupRuns, runMatches, sortRuns, summaryColumns, valueOf, type Column } from "./runs";

export interface RunsTableModel {
  runs: readonly Run[];
  summaries: ReadonlyMap<string, RunSummary>;
  chosen: ReadonlySet<string>;
  labels: ReadonlyMap<string, string>;
  titles: ReadonlyMap<string, string>;
  color(run: string): string;
  sort: { column: string; dir: 1 | -1 } | undefined;
  filter: string;
  group: string;
}

export interface RunsTableEvents {
  toggle(run: string, on: boolean): void;
  choose(runs: string[], on: boolean): void;
  sort(column: string | undefined, dir: 1 | -1): void;
  filter(text: string): void;
  group(param: string): void;
}

const NAME: Column = { kind: "param", name: "" };

export class RunsTable {
  readonly el = el("div", { class: "runs-table-box" });
  private readonly filterInput = el("input", { type: "search", class: "runs-filter", placeholder: "Filter runs: text, train.lr=0.05, loss<0.3", "aria-label": "filter runs" });
  private readonly groupSelect = el("select", { class: "runs-group", "aria-label": "group runs by a param" });
  private readonly count = el("span", { class: "note runs-count" });
  private readonly tableEl = el("table", { class: "runs-table" });
  private model: RunsTableModel | undefined;

  constructor(private readonly events: RunsTableEvents) {
    this.filterInput.addEventListener("input", () => events.filter(this.filterInput.value));
    this.groupSelect.addEventListener("change", () => events.group(this.groupSelect.value));
    const all = el("button", { class: "small", type: "button", title: "Show every run the filter keeps" }, "Choose shown");
    const none = el("button", { class: "small", type: "button", title: "Hide every run the filter keeps" }, "Clear shown");
    all.addEventListener("click", () => events.choose(this.visibleRuns().map((r) => r.id), true));
    none.addEventListener("click", () => events.choose(this.visibleRuns().map((r) => r.id), false));
    this.el.append(el("div", { class: "runs-tools" }, this.filterInput, this.groupSelect, all, none, this.count), el("div", { class: "runs-scroll" }, this.tableEl));
  }

  private visibleRuns(): Run[] {
    const m = this.model;
    if (!m) return [];
    return m.runs.filter((r) => runMatches(r, m.summaries.get(r.id), m.labels.get(r.id) ?? r.id, m.filter));
  }

  render(model: RunsTableModel): void {
    this.model = model;
    if (document.activeElement !== this.filterInput) this.filterInput.value = model.filter;
    const summaries = model.runs.map((r) => model.summaries.get(r.id)).filter((s): s is RunSummary => s !== undefined);
    const columns = summaryColumns(summaries);
    const params = [...new Set(summaries.flatMap((s) => Object.keys(s.params)))].sort();
    this.groupSelect.replaceChildren(el("option", { value: "" }, "no grouping"), ...params.map((p) => el("option", { value: p }, `group by ${p}`)));
    this.groupSelect.value = params.includes(model.group) ? model.group : "";
    const sortColumn = model.sort ? (model.sort.column === "name" ? NAME : columns.find((c) => columnId(c) === model.sort?.column)) : undefined;
    const shown = sortRuns(this.visibleRuns(), model.summaries, sortColumn, model.sort?.dir ?? 1, model.labels);
    this.count.textContent = `${shown.length === model.runs.length ? model.runs.length : `${shown.length} of ${model.runs.length}`} runs · ${model.chosen.size} shown`;

    const header = (label: string, id: string | undefined, title: string, cls = ""): HTMLElement => {
      const th = el("th", { class: `sortable ${cls}`, title, scope: "col" }, label);
      if (id && model.sort?.column === id) th.classList.add(model.sort.dir === 1 ? "asc" : "desc");
      th.addEventListener("click", () => {
        const same = model.sort !== undefined && model.sort.column === id;
        const dir = same && model.sort?.dir === 1 ? -1 : 1;
        this.events.sort(same && model.sort?.dir === -1 ? undefined : id, dir);
      });
      return th;
    };
    const head = el(
      "tr",
      {},
      el("th", { class: "pick" }, ""),
      header("Run", "name", "Sort by name"),
      el("th", {}, "Kind"),
      el("th", { class: "num" }, "Steps"),
      ...columns.map((c) => header(c.name, columnId(c), `${c.kind === "param" ? "Parameter" : "Final metric"} ${c.name}: click to sort`, `num ${c.kind}`)),
    );
    const row = (run: Run): HTMLElement => {
      const on = model.chosen.has(run.id);
      const input = el("input", { type: "checkbox", "aria-label": `show ${model.labels.get(run.id) ?? run.id}` });
      input.checked = on;
      input.addEventListener("change", () => this.events.toggle(run.id, input.checked));
      const tr = el(
        "tr",
        { class: on ? "chosen" : "", "data-run": run.id },
        el("td", { class: "pick" }, input),
        el("td", { class: "run-cell", title: model.titles.get(run.id) ?? run.id }, on ? swatch(model.color(run.id)) : el("span", { class: "swatch empty" }), model.labels.get(run.id) ?? run.id),
        // only on the git remote: fetched when chosen
        el("td", { class: "kind" }, run.remote ? el("span", { class: "remote", title: `Only on the git remote ${run.remote}: fetched when chosen` }, `${run.kind} on ${run.remote}`) : run.kind),
        el("td", { class: "num" }, run.lastStep === null ? "—" : String(run.lastStep)),
        ...columns.map((c) => {
          const v = valueOf(model.summaries.get(run.id), c);
          return el("td", { class: `num ${c.kind}`, "data-column": columnId(c) }, formatValue(v));
        }),
      );
      tr.addEventListener("click", (event) => {
        if ((event.target as HTMLElement).closest("input")) return;
        this.events.toggle(run.id, !on);
      });
      return tr;
    };
    const body = el("tbody");
    if (model.group) {
      for (const g of groupRuns(shown, model.summaries, model.group)) {
        const all = g.runs.every((r) => model.chosen.has(r.id));
        const input = el("input", { type: "checkbox", "aria-label": `show every run with ${model.group} = ${g.value}` });
        input.checked = all;
        input.addEventListener("change", () => this.events.choose(g.runs.map((r) => r.id), input.checked));
        body.append(el("tr", { class: "group-row", "data-group": g.value }, el("td", { class: "pick" }, input), el("td", { colspan: String(3 + columns.length) }, el("strong", {}, `${model.group} = ${g.value}`), el("span", { class: "note" }, ` ${g.runs.length} runs`))));
        for (const r of g.runs) body.append(row(r));
      }
    } else for (const r of shown) body.append(row(r));
    if (!shown.length) body.append(el("tr", {}, el("td", { colspan: String(4 + columns.length), class: "empty" }, model.runs.length ? "No run matches the filter." : "No runs yet.")));
    this.tableEl.replaceChildren(el("thead", {}, head), body);
  }
}
