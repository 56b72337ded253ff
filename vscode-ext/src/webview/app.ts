// The workspace: a toolbar (runs, the shared step slider, play, follow-live, a filter, the
// charts' smoothing), the runs table, then the panels in sections by key prefix, each section
// a responsive grid that can be folded. Panels can be resized, dragged elsewhere in their
// section and shown fullscreen; the layout is kept per workspace (store.ts). Talks to the host
// only through a Transport.
import type { DvcstageChangedNotificationParams } from "../protocol/generated/protocol-changed";
import type { DvcstageMediaResult } from "../protocol/generated/protocol-media-result";
import type { DvcstageRunsResult, Run } from "../protocol/generated/protocol-runs-result";
import type { DvcstageSummaryResult, RunSummary } from "../protocol/generated/protocol-summary-result";
import { assignRunColors, RUN_PALETTE } from "./colors";
import { checkbox, el, range, swatch } from "./dom";
import { icon, iconButton } from "./icons";
import { arrangeSections, emptyLayout, moveKey, sectionOf, sizeOf, type PanelSize, type SavedLayout } from "./layout";
import { MediaLoader } from "./loader";
import { MediaPanel } from "./panel";
import type { FrameHost, PanelFrame } from "./panel-frame";
import { runTitle, shortLabels } from "./runs";
import { RunsTable } from "./runs-table";
import { indexAtOrBefore, MediaState, moveStep, type PanelInfo } from "./state";
import type { LayoutStore } from "./store";
import type { Transport } from "./transport";
import { filesCell } from "./views/files";
import { MetricPanel } from "./views/metric";
import { FACTORIES } from "./views/registry";
import { errorText } from "./views/types";

export const PLAY_INTERVAL_MS = 400;
/** Narrowest a grid column gets before the grid has one column fewer. */
export const MIN_COLUMN_WIDTH = 300;
export const GRID_GAP = 10;
/** Workspace runs' summaries are asked again at most this often while they change. */
export const SUMMARY_INTERVAL_MS = 2000;

export class App {
  readonly state = new MediaState();
  readonly loader: MediaLoader;
  layout: SavedLayout = emptyLayout();
  readonly summaries = new Map<string, RunSummary>();
  private labels = new Map<string, string>();
  private titles = new Map<string, string>();
  private readonly panels = new Map<string, PanelFrame>();
  private readonly workspace = el("main", { class: "workspace" });
  private readonly slider = el("input", { type: "range", min: "0", max: "0", step: "1", id: "shared-step", class: "shared-slider", "aria-label": "step of every panel" });
  private readonly stepLabel = el("span", { class: "step-label" });
  private readonly playButton = iconButton("play", "Play the steps (Space)", "icon-button play");
  private readonly runsButton = el("button", { class: "runs-button", type: "button", "aria-expanded": "false", title: "The runs: choose, sort, filter, group" });
  private readonly runsDrawer = el("div", { class: "runs-drawer", hidden: "" });
  private readonly runsTable: RunsTable;
  private readonly columnsHeader = el("div", { class: "columns-header" });
  private readonly statusEl = el("div", { class: "status", role: "status" });
  private readonly filter = el("input", { type: "search", placeholder: "Filter panels", class: "filter", "aria-label": "filter panels by key" });
  private readonly extra = el("div", { class: "toolbar-extra" });
  private readonly moreButton = iconButton("menu", "More controls", "icon-button more-button");
  private readonly noMatch = el("p", { class: "empty no-match", hidden: "" });
  private readonly observer: IntersectionObserver;
  private columns = 1;
  private playing: ReturnType<typeof setInterval> | undefined;
  private requeries = new Map<string, Promise<void>>();
  /** Runs that were shown when they were removed: shown again if they come back. */
  private readonly vanished = new Set<string>();
  private summaryTimer: ReturnType<typeof setTimeout> | undefined;
  private started = false;
  /** performance.now() when the first panels were laid out (measured by the bench). */
  firstPaint: number | undefined;

  constructor(
    private readonly root: HTMLElement,
    private readonly transport: Transport,
    private readonly store?: LayoutStore,
  ) {
    this.loader = new MediaLoader(transport);
    this.observer = new IntersectionObserver((entries) => this.onVisibility(entries), { rootMargin: "400px 0px" });
    this.runsTable = new RunsTable({
      toggle: (run, on) => void this.toggleRun(run, on),
      choose: (runs, on) => void this.chooseRuns(runs, on),
      sort: (column, dir) => {
        if (column === undefined) delete this.layout.runSort;
        else this.layout.runSort = { column, dir };
        this.saveLayout();
        this.renderRuns();
      },
      filter: (text) => {
        this.layout.runFilter = text;
        this.saveLayout();
        this.renderRuns();
      },
      group: (param) => {
        this.layout.runGroup = param;
        this.saveLayout();
        this.renderRuns();
      },
    });
    this.runsDrawer.append(this.runsTable.el);
    this.buildToolbar();
    transport.onNotification((method, params) => {
      if (method === "dvcstage/changed") void this.onChanged(params as DvcstageChangedNotificationParams);
    });
    transport.onCommand((command, args) => {
      if (command === "openMedia") void this.openMedia(args as { run?: string; key?: string });
      if (command === "refresh") void this.start();
      if (command === "showRuns") void this.showRuns((args as { runs?: unknown } | null)?.runs);
    });
    transport.onStatus((status, detail) => {
      this.setStatus(status === "closed" ? (detail ?? "disconnected") : "");
      if (status === "open" && this.state.runs.length) void this.start();
    });
    new ResizeObserver(() => this.fitColumns()).observe(this.workspace);
  }

  private buildToolbar(): void {
    const prev = iconButton("prev", "Previous step (←)", "icon-button stepper");
    const next = iconButton("next", "Next step (→)", "icon-button stepper");
    prev.addEventListener("click", () => this.step(-1));
    next.addEventListener("click", () => this.step(1));
    this.slider.addEventListener("input", () => {
      const step = this.state.allSteps()[Number(this.slider.value)];
      if (step !== undefined) this.setSharedStep(step);
    });
    this.playButton.addEventListener("click", () => this.togglePlay());
    const follow = checkbox("Follow live", this.state.follow, (on) => {
      this.state.setFollow(on);
      this.updateAll();
    });
    follow.title = "At the last step, show new steps as training writes them";
    const smoothValue = el("output", {}, this.layout.smoothing.toFixed(2));
    const smoothing = range("Smoothing", 0, 0.99, 0.01, this.layout.smoothing, (v) => {
      this.layout.smoothing = v;
      smoothValue.textContent = v.toFixed(2);
      this.saveLayout();
      for (const p of this.panels.values()) if (p instanceof MetricPanel) p.update();
    }, "range smoothing");
    smoothing.el.title = "Exponential smoothing of metric charts (the raw curve stays faint)";
    smoothing.el.append(smoothValue);
    this.smoothingInput = smoothing.input;
    this.smoothingValue = smoothValue;
    this.runsButton.addEventListener("click", () => this.setRunsOpen(this.runsDrawer.hidden));
    this.moreButton.addEventListener("click", () => {
      const open = this.extra.classList.toggle("open");
      this.moreButton.setAttribute("aria-expanded", String(open));
    });
    this.filter.addEventListener("input", () => this.applyFilter());
    document.addEventListener("keydown", (event) => this.onKey(event));
    this.extra.append(follow, this.filter, smoothing.el);
    const bar = el("div", { class: "toolbar" }, this.runsButton, prev, this.slider, next, this.playButton, this.stepLabel, this.moreButton, this.extra);
    this.root.replaceChildren(el("div", { class: "top" }, bar, this.columnsHeader, this.runsDrawer), this.statusEl, this.workspace);
  }

  private smoothingInput: HTMLInputElement | undefined;
  private smoothingValue: HTMLElement | undefined;

  private setRunsOpen(open: boolean): void {
    this.runsDrawer.hidden = !open;
    this.runsButton.setAttribute("aria-expanded", String(open));
    this.runsButton.classList.toggle("on", open);
    if (this.layout.runsOpen !== open) {
      this.layout.runsOpen = open;
      this.saveLayout();
    }
    if (open) this.renderRuns();
  }

  async start(): Promise<void> {
    this.setStatus("Loading runs…");
    try {
      const [result, saved] = await Promise.all([
        this.transport.request<DvcstageRunsResult>("dvcstage/runs", {}),
        !this.started && this.store ? this.store.load() : Promise.resolve(undefined),
      ]);
      if (saved) this.applySavedLayout(saved);
      this.state.setRuns(result.runs, this.started ? undefined : this.layout.columns);
      this.relabel();
      this.assignColors();
      await Promise.all(this.state.columns.map((run) => this.loadMedia(run)));
      if (!this.started && this.layout.step !== undefined && this.layout.step !== null) this.state.setSharedStep(this.layout.step);
      this.started = true;
      this.setStatus(result.runs.length ? "" : "No runs yet: log media with dvcstage.Live and they appear here.");
    } catch (err) {
      this.setStatus(`Could not list runs: ${errorText(err)}`);
    }
    this.renderRuns();
    this.rebuild();
    void this.loadSummaries();
  }

  private applySavedLayout(saved: SavedLayout): void {
    this.layout = saved;
    if (this.smoothingInput && this.smoothingValue) {
      this.smoothingInput.value = String(saved.smoothing);
      this.smoothingValue.textContent = saved.smoothing.toFixed(2);
    }
    if (saved.runsOpen) this.setRunsOpen(true);
  }

  private async loadMedia(run: string): Promise<void> {
    try {
      const media = await this.transport.request<DvcstageMediaResult>("dvcstage/media", { run });
      this.state.setMedia(media);
    } catch (err) {
      this.setStatus(`${run}: ${errorText(err)}`);
    }
  }

  /** Params and final metrics of every run, for the runs table (never holds up the panels). */
  private async loadSummaries(runs?: string[]): Promise<void> {
    try {
      const result = await this.transport.request<DvcstageSummaryResult>("dvcstage/summary", runs ? { runs } : {});
      for (const s of result.runs) this.summaries.set(s.run, s);
      this.renderRuns();
    } catch {
      /* an older server: the runs table shows no params */
    }
  }

  private relabel(): void {
    this.labels = shortLabels(this.state.runs);
    this.titles = new Map(this.state.runs.map((r) => [r.id, runTitle(r)]));
  }

  private assignColors(): void {
    const slots = assignRunColors(this.state.columns, this.layout.colors);
    const changed = Object.entries(slots).some(([run, slot]) => this.layout.colors[run] !== slot);
    this.layout.colors = { ...this.layout.colors, ...slots };
    if (changed) this.saveLayout();
  }

  runLabel(run: string): string {
    return this.labels.get(run) ?? run;
  }

  runColor(run: string): string {
    return RUN_PALETTE[(this.layout.colors[run] ?? 0) % RUN_PALETTE.length] as string;
  }

  private renderRuns(): void {
    const chosen = this.state.columns;
    this.runsButton.replaceChildren(icon("runs"), el("span", {}, ` Runs (${chosen.length}/${this.state.runs.length})`));
    document.body.classList.toggle("one-column", chosen.length === 1);
    this.columnsHeader.replaceChildren(
      ...chosen.map((run) => {
        const item = el("button", { class: "column-title", type: "button", title: this.titles.get(run) ?? run, "data-run": run }, swatch(this.runColor(run)), this.runLabel(run));
        item.addEventListener("click", () => this.setRunsOpen(true));
        return item;
      }),
    );
    if (this.runsDrawer.hidden) return;
    this.runsTable.render({
      runs: this.state.runs,
      summaries: this.summaries,
      chosen: new Set(chosen),
      labels: this.labels,
      titles: this.titles,
      color: (run) => this.runColor(run),
      sort: this.layout.runSort,
      filter: this.layout.runFilter ?? "",
      group: this.layout.runGroup ?? "",
    });
  }

  async toggleRun(run: string, on: boolean): Promise<void> {
    await this.chooseRuns([run], on);
  }

  private async chooseRuns(runs: string[], on: boolean): Promise<void> {
    for (const run of runs) this.state.toggleColumn(run, on);
    this.assignColors();
    this.saveLayout();
    this.renderRuns();
    await Promise.all(this.state.columns.filter((r) => !this.state.hasMedia(r)).map((r) => this.loadMedia(r)));
    this.state.invalidate();
    this.renderRuns();
    this.rebuild();
  }

  private async showRuns(runs: unknown): Promise<void> {
    if (!Array.isArray(runs)) return;
    if (!this.started) await this.start();
    this.state.setColumns(runs.filter((r): r is string => typeof r === "string"));
    await this.chooseRuns([], true);
  }

  private frameHost(): FrameHost {
    return {
      resized: (key, size) => {
        this.layout.sizes[key] = size;
        this.saveLayout();
        this.panels.get(key)?.redraw();
      },
      moved: (key, before) => this.movePanel(key, before),
      nudged: (key, delta) => {
        const section = sectionOf(key);
        const keys = this.sectionKeys(section);
        const at = keys.indexOf(key);
        const target = at + delta;
        if (at < 0 || target < 0 || target >= keys.length) return;
        this.movePanel(key, delta < 0 ? keys[target] : keys[target + 1]);
      },
      grid: () => {
        const width = this.workspace.clientWidth - 16;
        return { columns: this.columns, columnWidth: (width - GRID_GAP * (this.columns - 1)) / this.columns, gap: GRID_GAP };
      },
    };
  }

  private sectionKeys(section: string): string[] {
    const grid = this.workspace.querySelector<HTMLElement>(`.key-section[data-section="${CSS.escape(section)}"] .grid`);
    return grid ? [...grid.children].map((c) => (c as HTMLElement).dataset.key ?? "") : [];
  }

  /** Puts `key` before `before` in its section (only within one section). */
  private movePanel(key: string, before: string | undefined): void {
    const section = sectionOf(key);
    if (before !== undefined && sectionOf(before) !== section) return;
    this.layout.order[section] = moveKey(this.sectionKeys(section), key, before);
    this.saveLayout();
    this.rebuild();
  }

  private makePanel(info: PanelInfo, size: PanelSize): PanelFrame {
    const isLog = (key: string): boolean => this.layout.logScale.includes(key);
    const setLog = (key: string, on: boolean): void => {
      this.layout.logScale = on ? [...new Set([...this.layout.logScale, key])] : this.layout.logScale.filter((k) => k !== key);
      this.saveLayout();
    };
    if (info.kind === "metric") {
      return new MetricPanel(info, size, this.frameHost(), {
        transport: this.transport,
        state: this.state,
        runLabel: (run) => this.runLabel(run),
        runColor: (run) => this.runColor(run),
        smoothing: () => this.layout.smoothing,
        isLog,
        setLog,
        pickStep: (step) => this.setSharedStep(step),
        cursorStep: () => this.cursorStep(),
      });
    }
    return new MediaPanel(info, size, this.frameHost(), {
      transport: this.transport,
      loader: this.loader,
      state: this.state,
      factories: FACTORIES,
      fallback: filesCell,
      runLabel: (run) => this.runLabel(run),
      runTitle: (run) => this.titles.get(run) ?? run,
      runColor: (run) => this.runColor(run),
      moved: () => this.updateToolbar(),
      isLog,
      setLog,
    });
  }

  /** The step the charts' cursor stands at: the shared slider's (its last stop when following). */
  cursorStep(): number | undefined {
    if (this.state.sharedStep !== null) return this.state.sharedStep;
    const steps = this.state.allSteps();
    return steps[steps.length - 1];
  }

  /** Makes the sections and panels match the keys of the chosen columns. */
  private rebuild(): void {
    const infos = this.state.panels();
    const keep = new Set(infos.map((p) => p.key));
    for (const [key, panel] of this.panels) {
      const info = infos.find((i) => i.key === key);
      if (!keep.has(key) || info?.kind !== panel.kind) {
        this.observer.unobserve(panel.el);
        panel.dispose();
        this.panels.delete(key);
      }
    }
    const sections = arrangeSections(infos, this.layout);
    const nodes: HTMLElement[] = [];
    for (const section of sections) {
      const collapsed = this.layout.collapsed.includes(section.name);
      const grid = el("div", { class: "grid" });
      for (const info of section.panels) {
        let panel = this.panels.get(info.key);
        if (!panel) {
          panel = this.makePanel(info, sizeOf(this.layout, info));
          this.panels.set(info.key, panel);
          this.observer.observe(panel.el);
        } else panel.setInfo(info);
        panel.setColumns(this.columns);
        grid.append(panel.el);
      }
      const toggle = el(
        "button",
        { class: "section-toggle", type: "button", "aria-expanded": String(!collapsed), title: collapsed ? "Show this section" : "Fold this section" },
        icon("chevron", 12),
        el("span", { class: "section-name" }, section.name || "Top level"),
        el("span", { class: "section-count" }, `${section.panels.length}`),
      );
      toggle.addEventListener("click", () => this.toggleSection(section.name));
      const node = el("div", { class: `key-section${collapsed ? " collapsed" : ""}`, "data-section": section.name }, el("h2", { class: "section-head" }, toggle), grid);
      nodes.push(node);
    }
    this.workspace.replaceChildren(...nodes, this.noMatch);
    if (!infos.length && this.state.runs.length) {
      this.workspace.append(el("p", { class: "empty" }, "The chosen runs hold no media and no metrics yet."));
    }
    this.applyFilter();
    this.updateAll();
    if (this.firstPaint === undefined && infos.length) {
      this.firstPaint = performance.now();
      this.root.dataset.ready = "true";
    }
  }

  private toggleSection(name: string): void {
    const collapsed = this.layout.collapsed.includes(name);
    this.layout.collapsed = collapsed ? this.layout.collapsed.filter((n) => n !== name) : [...this.layout.collapsed, name];
    this.saveLayout();
    const node = this.workspace.querySelector<HTMLElement>(`.key-section[data-section="${CSS.escape(name)}"]`);
    node?.classList.toggle("collapsed", !collapsed);
    const button = node?.querySelector(".section-toggle");
    button?.setAttribute("aria-expanded", String(collapsed));
    button?.setAttribute("title", collapsed ? "Fold this section" : "Show this section");
  }

  /** The grid's column count follows the workspace's width (one column in a sidebar). */
  private fitColumns(): void {
    const width = this.workspace.clientWidth - 16;
    const columns = Math.max(1, Math.floor((width + GRID_GAP) / (MIN_COLUMN_WIDTH + GRID_GAP)));
    if (columns === this.columns) return;
    this.columns = columns;
    this.workspace.style.setProperty("--cols", String(columns));
    for (const panel of this.panels.values()) panel.setColumns(columns);
  }

  private onVisibility(entries: IntersectionObserverEntry[]): void {
    for (const entry of entries) {
      const key = (entry.target as HTMLElement).dataset.key ?? "";
      const panel = this.panels.get(key);
      if (!panel) continue;
      const was = panel.visible;
      panel.visible = entry.isIntersecting;
      if (panel.visible && !was) panel.update();
    }
  }

  private applyFilter(): void {
    const text = this.filter.value.trim().toLowerCase();
    let shown = 0;
    for (const panel of this.panels.values()) {
      const hide = text !== "" && !panel.key.toLowerCase().includes(text);
      panel.el.hidden = hide;
      if (!hide) shown++;
    }
    for (const section of this.workspace.querySelectorAll<HTMLElement>(".key-section")) {
      section.hidden = ![...section.querySelectorAll<HTMLElement>("section.panel")].some((p) => !p.hidden);
    }
    this.noMatch.hidden = !(text !== "" && shown === 0 && this.panels.size > 0);
    this.noMatch.textContent = `No panel matches “${this.filter.value.trim()}”. Clear the filter to see all ${this.panels.size}.`;
  }

  setSharedStep(step: number): void {
    this.state.setSharedStep(step);
    this.loader.moved(this.state.streak >= 2);
    this.layout.step = this.state.sharedStep;
    this.saveLayout();
    this.updateAll();
  }

  private step(delta: number): void {
    const steps = this.state.allSteps();
    const next = moveStep(steps, this.state.sharedStep, delta);
    if (next !== undefined) this.setSharedStep(next);
  }

  private togglePlay(): void {
    if (this.playing !== undefined) {
      clearInterval(this.playing);
      this.playing = undefined;
      this.playButton.replaceChildren(icon("play"));
      this.playButton.title = "Play the steps (Space)";
      this.playButton.setAttribute("aria-label", "play");
      this.playButton.classList.remove("on");
      return;
    }
    const steps = this.state.allSteps();
    if (this.state.sharedStep === null || this.state.sharedStep === steps[steps.length - 1]) {
      if (steps[0] !== undefined) this.setSharedStep(steps[0]); // start over
    }
    this.playButton.replaceChildren(icon("pause"));
    this.playButton.title = "Pause (Space)";
    this.playButton.setAttribute("aria-label", "pause");
    this.playButton.classList.add("on");
    this.playing = setInterval(() => {
      const all = this.state.allSteps();
      const at = this.state.sharedStep;
      if (at === null || at >= (all[all.length - 1] ?? 0)) {
        this.togglePlay();
        return;
      }
      this.step(1);
    }, PLAY_INTERVAL_MS);
  }

  private onKey(event: KeyboardEvent): void {
    const t = event.target as HTMLElement | null;
    if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable)) return;
    if (document.querySelector(".lightbox")) return;
    if (event.key === "ArrowRight" || event.key === "ArrowLeft") {
      if (event.altKey) return; // moves a focused panel (its grip)
      event.preventDefault();
      this.step(event.key === "ArrowRight" ? 1 : -1);
    } else if (event.key === " " || event.key === "k") {
      if (t?.tagName === "BUTTON") return;
      event.preventDefault();
      this.togglePlay();
    } else if (event.key === "End") {
      const steps = this.state.allSteps();
      const last = steps[steps.length - 1];
      if (last !== undefined) this.setSharedStep(last);
    } else if (event.key === "Home") {
      const first = this.state.allSteps()[0];
      if (first !== undefined) this.setSharedStep(first);
    } else if (event.key === "Escape") {
      for (const p of this.panels.values()) if (p.el.classList.contains("fullscreen")) p.setFullscreen(false);
      if (!this.runsDrawer.hidden) this.setRunsOpen(false);
      this.extra.classList.remove("open");
    }
  }

  private updateToolbar(): void {
    const steps = this.state.allSteps();
    const selected = this.state.sharedStep;
    const index = selected === null ? steps.length - 1 : Math.max(0, indexAtOrBefore(steps, selected));
    this.slider.max = String(Math.max(0, steps.length - 1));
    this.slider.value = String(index);
    this.slider.disabled = steps.length < 2;
    const shown = steps[index];
    const latest = selected === null && this.state.follow;
    const exact = selected === null || shown === selected;
    this.stepLabel.textContent = shown === undefined ? "no steps" : `step ${exact ? shown : selected}${latest ? " · latest" : ""}`;
    this.stepLabel.classList.toggle("live", latest);
  }

  updateAll(): void {
    this.updateToolbar();
    for (const panel of this.panels.values()) panel.update();
  }

  private async onChanged(params: DvcstageChangedNotificationParams): Promise<void> {
    const known = this.state.runs.find((r) => r.id === params.run);
    // a remote run that was reset has just been fetched: list the runs again
    if (!known || params.new || params.removed || (params.reset && known.remote)) {
      const label = this.runLabel(params.run);
      const shown = this.state.columns.includes(params.run);
      if (params.removed) {
        this.loader.forgetRun(params.run);
        if (shown) this.vanished.add(params.run);
      }
      const back = params.new === true && this.vanished.delete(params.run);
      await this.start(); // lists the runs again: a run that is gone loses its column
      if (params.removed && shown) this.setStatus(`${label} is gone (its folder or index was deleted, or its experiment removed): its column is hidden until it comes back.`);
      if (back && this.state.runs.some((r) => r.id === params.run)) await this.toggleRun(params.run, true);
      return;
    }
    const run = this.state.runs.find((r) => r.id === params.run);
    if (run) run.lastStep = params.lastStep;
    if (params.reset) this.loader.forgetRun(params.run);
    const { requery, written } = this.state.applyChanged(params);
    for (const w of written) this.loader.forget(params.run, w.key, w.step);
    const shown = this.state.columns.includes(params.run);
    if (run?.kind === "workspace") this.summaryLater(params.run);
    if (requery && shown) {
      // One query at a time per run; changes during it are caught by the next notification.
      if (!this.requeries.has(params.run)) {
        const job = this.loadMedia(params.run).finally(() => this.requeries.delete(params.run));
        this.requeries.set(params.run, job);
        await job;
      }
      this.rebuild();
    } else if (shown) {
      for (const info of this.state.panels()) this.panels.get(info.key)?.setInfo(info);
      const touched = new Set(written.map((w) => w.key));
      for (const key of touched) this.panels.get(key)?.refresh();
      for (const panel of this.panels.values()) if (panel instanceof MetricPanel && panel.visible) panel.refresh();
      this.updateAll();
    }
    this.renderRuns();
  }

  private summaryLater(run: string): void {
    if (this.summaryTimer !== undefined) return;
    this.summaryTimer = setTimeout(() => {
      this.summaryTimer = undefined;
      void this.loadSummaries([run]);
    }, SUMMARY_INTERVAL_MS);
  }

  async openMedia(args: { run?: string; key?: string }): Promise<void> {
    if (args.run && !this.state.columns.includes(args.run)) {
      if (!this.state.runs.length) await this.start();
      if (this.state.runs.some((r) => r.id === args.run)) await this.toggleRun(args.run, true);
    }
    if (!args.key) return;
    this.state.focusKey = args.key;
    this.filter.value = "";
    this.applyFilter();
    const panel = this.panels.get(args.key);
    if (!panel) {
      this.setStatus(`Nothing logged under ${args.key} in the chosen runs yet.`);
      return;
    }
    const section = sectionOf(args.key);
    if (this.layout.collapsed.includes(section)) this.toggleSection(section);
    for (const p of this.panels.values()) p.el.classList.toggle("focused", p === panel);
    panel.el.scrollIntoView({ block: "start" });
  }

  private saveLayout(): void {
    this.layout.columns = [...this.state.columns];
    this.store?.save(this.layout);
  }

  private setStatus(text: string): void {
    this.statusEl.textContent = text;
    this.statusEl.hidden = text === "";
  }
}
