// The panel: a toolbar (runs as columns, the shared step slider, play, follow-live, a key
// filter) above one Panel per key. Talks to the host only through a Transport.
import type { DvcstageChangedNotificationParams } from "../protocol/generated/protocol-changed";
import type { DvcstageMediaResult } from "../protocol/generated/protocol-media-result";
import type { DvcstageRunsResult, Run } from "../protocol/generated/protocol-runs-result";
import { checkbox, el } from "./dom";
import { MediaLoader } from "./loader";
import { Panel } from "./panel";
import { indexAtOrBefore, MediaState, moveStep } from "./state";
import type { Transport } from "./transport";
import { filesCell } from "./views/files";
import { FACTORIES } from "./views/registry";
import { errorText } from "./views/types";

export const PLAY_INTERVAL_MS = 400;

export class App {
  readonly state = new MediaState();
  readonly loader: MediaLoader;
  private readonly panels = new Map<string, Panel>();
  private readonly panelsEl = el("main", { class: "panels" });
  private readonly slider = el("input", { type: "range", min: "0", max: "0", step: "1", id: "shared-step", class: "shared-slider", "aria-label": "step of every panel" });
  private readonly stepLabel = el("span", { class: "step-label" });
  private readonly playButton = el("button", { class: "play", title: "Play the steps (Space)", "aria-label": "play" }, "▶");
  private readonly runsMenu = el("div", { class: "runs-menu" });
  private readonly runsButton = el("button", { class: "runs-button", "aria-haspopup": "true" }, "Runs");
  private readonly columnsHeader = el("div", { class: "columns-header" });
  private readonly statusEl = el("div", { class: "status", role: "status" });
  private readonly filter = el("input", { type: "search", placeholder: "Filter keys", class: "filter" });
  private readonly observer: IntersectionObserver;
  private playing: ReturnType<typeof setInterval> | undefined;
  private requeries = new Map<string, Promise<void>>();

  constructor(
    private readonly root: HTMLElement,
    private readonly transport: Transport,
  ) {
    this.loader = new MediaLoader(transport);
    this.observer = new IntersectionObserver((entries) => this.onVisibility(entries), { rootMargin: "400px 0px" });
    this.buildToolbar();
    transport.onNotification((method, params) => {
      if (method === "dvcstage/changed") void this.onChanged(params as DvcstageChangedNotificationParams);
    });
    transport.onCommand((command, args) => {
      if (command === "openMedia") void this.openMedia(args as { run?: string; key?: string });
      if (command === "refresh") void this.start();
    });
    transport.onStatus((status, detail) => {
      this.setStatus(status === "closed" ? (detail ?? "disconnected") : "");
      if (status === "open" && this.state.runs.length) void this.start();
    });
  }

  private buildToolbar(): void {
    const prev = el("button", { class: "stepper", title: "Previous step (←)", "aria-label": "previous step" }, "‹");
    const next = el("button", { class: "stepper", title: "Next step (→)", "aria-label": "next step" }, "›");
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
    this.runsButton.addEventListener("click", () => this.runsMenu.classList.toggle("open"));
    document.addEventListener("click", (event) => {
      const t = event.target as Node;
      if (!this.runsMenu.contains(t) && t !== this.runsButton) this.runsMenu.classList.remove("open");
    });
    this.filter.addEventListener("input", () => this.applyFilter());
    document.addEventListener("keydown", (event) => this.onKey(event));
    const bar = el(
      "div",
      { class: "toolbar" },
      el("div", { class: "runs-picker" }, this.runsButton, this.runsMenu),
      prev,
      this.slider,
      next,
      this.playButton,
      this.stepLabel,
      follow,
      this.filter,
    );
    this.root.replaceChildren(el("div", { class: "top" }, bar, this.columnsHeader), this.statusEl, this.panelsEl);
  }

  async start(): Promise<void> {
    this.setStatus("Loading runs…");
    try {
      const result = await this.transport.request<DvcstageRunsResult>("dvcstage/runs", {});
      this.state.setRuns(result.runs);
      await Promise.all(this.state.columns.map((run) => this.loadMedia(run)));
      this.setStatus(result.runs.length ? "" : "No runs yet: log media with dvcstage.Live and they appear here.");
    } catch (err) {
      this.setStatus(`Could not list runs: ${errorText(err)}`);
    }
    this.renderRuns();
    this.rebuild();
  }

  private async loadMedia(run: string): Promise<void> {
    try {
      const media = await this.transport.request<DvcstageMediaResult>("dvcstage/media", { run });
      this.state.setMedia(media);
    } catch (err) {
      this.setStatus(`${run}: ${errorText(err)}`);
    }
  }

  runLabel(run: string): string {
    const r = this.state.runs.find((x) => x.id === run);
    if (!r) return run;
    return r.kind === "workspace" ? r.label : `${r.label} (${r.kind} ${r.revision.slice(0, 7)}${r.remote ? ` on ${r.remote}` : ""})`;
  }

  private renderRuns(): void {
    const groups: [string, Run[]][] = [
      ["Workspace", this.state.runs.filter((r) => r.kind === "workspace")],
      ["Commits", this.state.runs.filter((r) => r.kind === "commit")],
      ["Experiments", this.state.runs.filter((r) => r.kind === "experiment")],
    ];
    this.runsMenu.replaceChildren(
      ...groups
        .filter(([, runs]) => runs.length)
        .map(([title, runs]) =>
          el(
            "fieldset",
            {},
            el("legend", {}, title),
            ...runs.map((r) => {
              const box = checkbox(
                r.remote // only on the git remote: fetched when opened
                  ? el("span", { title: `Only on the git remote ${r.remote}: fetched when chosen` }, r.label, el("small", { class: "remote" }, ` on ${r.remote}`))
                  : el("span", {}, r.label, el("small", {}, ` ${r.lastStep === null ? "empty" : `last step ${r.lastStep}`} · ${r.items} items`)),
                this.state.columns.includes(r.id),
                (on) => void this.toggleRun(r.id, on),
              );
              box.dataset.run = r.id;
              return box;
            }),
          ),
        ),
    );
    this.runsButton.textContent = `Runs (${this.state.columns.length}/${this.state.runs.length}) ▾`;
    document.body.classList.toggle("one-column", this.state.columns.length === 1);
    this.columnsHeader.style.gridTemplateColumns = `repeat(${Math.max(1, this.state.columns.length)}, minmax(0, 1fr))`;
    this.columnsHeader.replaceChildren(...this.state.columns.map((run) => el("div", { class: "column-title", title: run }, this.runLabel(run))));
  }

  private async toggleRun(run: string, on: boolean): Promise<void> {
    this.state.toggleColumn(run, on);
    if (on && !this.state.hasMedia(run)) await this.loadMedia(run);
    this.renderRuns();
    this.rebuild();
  }

  /** Makes the panels match the keys of the chosen columns. */
  private rebuild(): void {
    const infos = this.state.panels();
    const keep = new Set(infos.map((p) => p.key));
    for (const [key, panel] of this.panels) {
      if (!keep.has(key)) {
        this.observer.unobserve(panel.el);
        panel.dispose();
        this.panels.delete(key);
      }
    }
    const ordered: HTMLElement[] = [];
    for (const info of infos) {
      let panel = this.panels.get(info.key);
      if (!panel) {
        panel = new Panel(info, {
          transport: this.transport,
          loader: this.loader,
          state: this.state,
          factories: FACTORIES,
          fallback: filesCell,
          runLabel: (run) => this.runLabel(run),
          moved: () => this.updateToolbar(),
        });
        this.panels.set(info.key, panel);
        this.observer.observe(panel.el);
      } else panel.setInfo(info);
      ordered.push(panel.el);
    }
    this.panelsEl.replaceChildren(...ordered);
    if (!infos.length && this.state.runs.length) {
      this.panelsEl.append(el("p", { class: "empty" }, "The chosen runs hold no media yet."));
    }
    this.applyFilter();
    this.updateAll();
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
    for (const panel of this.panels.values()) panel.el.hidden = text !== "" && !panel.key.toLowerCase().includes(text);
  }

  setSharedStep(step: number): void {
    this.state.setSharedStep(step);
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
      this.playButton.textContent = "▶";
      this.playButton.classList.remove("on");
      return;
    }
    const steps = this.state.allSteps();
    if (this.state.sharedStep === null || this.state.sharedStep === steps[steps.length - 1]) {
      if (steps[0] !== undefined) this.setSharedStep(steps[0]); // start over
    }
    this.playButton.textContent = "⏸";
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
    if (event.key === "ArrowRight" || event.key === "ArrowLeft") {
      event.preventDefault();
      this.step(event.key === "ArrowRight" ? 1 : -1);
    } else if (event.key === " " || event.key === "k") {
      event.preventDefault();
      this.togglePlay();
    } else if (event.key === "End") {
      const steps = this.state.allSteps();
      const last = steps[steps.length - 1];
      if (last !== undefined) this.setSharedStep(last);
    } else if (event.key === "Home") {
      const first = this.state.allSteps()[0];
      if (first !== undefined) this.setSharedStep(first);
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
    this.stepLabel.textContent = shown === undefined ? "no steps" : `step ${shown}${latest ? " · latest" : ""}`;
    this.stepLabel.classList.toggle("live", latest);
  }

  updateAll(): void {
    this.updateToolbar();
    for (const panel of this.panels.values()) panel.update();
  }

  private async onChanged(params: DvcstageChangedNotificationParams): Promise<void> {
    const known = this.state.runs.find((r) => r.id === params.run);
    if (!known || params.new || (params.reset && known.remote)) {
      await this.start();
      return;
    }
    const run = this.state.runs.find((r) => r.id === params.run);
    if (run) run.lastStep = params.lastStep;
    if (params.reset) this.loader.forgetRun(params.run);
    const { requery, written } = this.state.applyChanged(params);
    for (const w of written) this.loader.forget(params.run, w.key, w.step);
    const shown = this.state.columns.includes(params.run);
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
      this.updateAll();
    }
    this.renderRuns();
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
    for (const p of this.panels.values()) p.el.classList.toggle("focused", p === panel);
    panel.el.scrollIntoView({ block: "start" });
  }

  private setStatus(text: string): void {
    this.statusEl.textContent = text;
    this.statusEl.hidden = text === "";
  }
}
