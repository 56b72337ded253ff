// Image cells: the image (or the list of images) of one run at the selected step, with
// overlays and the problems of its files; the steps the slider may move to next are loaded
// ahead (more of them in the direction it last moved, further while it is scrubbed, fewer
// after a jump: state.ts loadAheadWindow) so that slider moves draw at once.
import { el } from "../dom";
import { DroppedError, type ImageBundle } from "../loader";
import { ImageStage, warmBundle } from "../overlay";
import { loadProblem, problemList, ProblemError, type Problem } from "../problems";
import { stepsAhead, type KeyEntry } from "../state";
import type { Cell, CellContext } from "./types";

/** List items shown per step (the rest are counted). */
export const MAX_ITEMS = 24;

interface Slot {
  item: number | undefined;
  stage: ImageStage;
  caption: HTMLElement;
  problems: HTMLElement;
  wanted: number | undefined;
}

/** The caption shown under an image: its own caption and list position, once each. */
export function captionText(caption: string | undefined, item: number | undefined): string {
  return [caption, item !== undefined ? `#${item}` : undefined].filter(Boolean).join(" · ");
}

export function imageCell(ctx: CellContext): Cell {
  const root = el("div", { class: "cell-image" });
  const grid = el("div", { class: "image-list" });
  const note = el("div", { class: "note" });
  root.append(grid, note);
  let slots: Slot[] = [];
  let shape = "";

  const makeSlots = (entry: KeyEntry): void => {
    const items = entry.items ? entry.items.slice(0, MAX_ITEMS) : [undefined];
    const next = items.map(String).join(",");
    if (next === shape) return;
    shape = next;
    for (const s of slots) s.stage.dispose();
    const many = items.length > 1;
    grid.classList.toggle("many", many);
    root.classList.toggle("many", many);
    slots = items.map((item) => {
      const stage = new ImageStage(ctx.settings, ctx.view);
      stage.setLoading();
      return { item, stage, caption: el("div", { class: "caption" }), problems: el("div", { class: "slot-problems" }), wanted: undefined };
    });
    grid.replaceChildren(...slots.map((s) => el("figure", {}, s.stage.el, s.problems, s.caption)));
    note.textContent = entry.items && entry.items.length > MAX_ITEMS ? `${entry.items.length - MAX_ITEMS} more items not shown` : "";
  };

  const showProblems = (slot: Slot, problems: Problem[]): void => {
    slot.problems.replaceChildren(...(problems.length ? [problemList(problems)] : []));
  };

  const present = (slot: Slot, bundle: ImageBundle): void => {
    slot.stage.show(bundle);
    slot.stage.el.classList.remove("failed");
    slot.caption.textContent = captionText(bundle.caption, slot.item);
    showProblems(slot, bundle.problems);
    ctx.discovered(bundle);
  };

  const fail = (slot: Slot, step: number, err: unknown): void => {
    const problem = err instanceof ProblemError ? err.problem : loadProblem(`${ctx.key} step ${step}`, err, false);
    slot.stage.clearLoading();
    slot.stage.el.classList.add("failed");
    slot.stage.el.dataset.failedStep = String(step);
    slot.caption.textContent = captionText(undefined, slot.item);
    showProblems(slot, [problem]);
  };

  /** Shows the slot's image at `step` now if it is loaded, else in the frame that draws the
   * move's images (and only if the slot still wants that step then: a newer move wins over an
   * older load). */
  const demand = (slot: Slot, step: number): void => {
    const ready = ctx.loader.peekImage(ctx.run, ctx.key, step, slot.item);
    if (ready) {
      present(slot, ready);
      return;
    }
    if (slot.stage.current) slot.stage.setLoading();
    ctx.loader.frames.wait(
      ctx.loader.demandImage(ctx.run, ctx.key, step, slot.item).promise,
      () => slot.wanted === step,
      (bundle) => present(slot, bundle),
      (err) => {
        if (err instanceof DroppedError) demand(slot, step); // dropped while no cell asked: ask again
        else fail(slot, step, err);
      },
    );
  };

  return {
    el: root,
    show(step, entry) {
      if (step === undefined || !entry) {
        shape = "";
        for (const s of slots) s.stage.dispose();
        slots = [];
        grid.replaceChildren(el("div", { class: "empty" }, "not logged in this run"));
        return;
      }
      makeSlots(entry);
      for (const slot of slots) {
        slot.wanted = step;
        demand(slot, step);
      }
      // Load ahead (the first items only, to bound the work per move), once what is shown is in
      // (meanwhile, while the slider is scrubbed: loader.ts).
      const reach = ctx.state.loadAhead();
      const ahead = stepsAhead(entry.steps, step, ctx.state.direction, reach.ahead, reach.behind);
      ahead.forEach((s, rank) => {
        for (const slot of slots.slice(0, 8)) ctx.loader.prefetchImage(ctx.run, ctx.key, s, slot.item, (b) => warmBundle(b, ctx.settings), rank + 1);
      });
    },
    redraw() {
      for (const s of slots) s.stage.draw();
    },
    dispose() {
      for (const s of slots) s.stage.dispose();
    },
  };
}
