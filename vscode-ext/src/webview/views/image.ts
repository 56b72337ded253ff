// Image cells: the image (or the list of images) of one run at the selected step, with
// overlays; the next and previous steps are loaded ahead so that slider moves draw at once.
import { el } from "../dom";
import type { ImageBundle } from "../loader";
import { ImageStage, warmBundle } from "../overlay";
import { neighbourSteps, type KeyEntry } from "../state";
import { errorText, type Cell, type CellContext } from "./types";

/** Steps loaded ahead on each side of the shown one. */
export const PREFETCH_RADIUS = 2;
/** List items shown per step (the rest are counted). */
export const MAX_ITEMS = 24;

interface Slot {
  item: number | undefined;
  stage: ImageStage;
  caption: HTMLElement;
  wanted: number | undefined;
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
    slots = items.map((item) => {
      const stage = new ImageStage(ctx.settings, ctx.view, many ? 200 : undefined);
      const caption = el("div", { class: "caption" });
      return { item, stage, caption, wanted: undefined };
    });
    grid.replaceChildren(...slots.map((s) => el("figure", {}, s.stage.el, s.caption)));
    note.textContent = entry.items && entry.items.length > MAX_ITEMS ? `${entry.items.length - MAX_ITEMS} more items not shown` : "";
  };

  const present = (slot: Slot, bundle: ImageBundle): void => {
    slot.stage.show(bundle);
    const stepText = `step ${bundle.step}`;
    const parts = [bundle.caption === stepText ? undefined : bundle.caption, slot.item !== undefined ? `#${slot.item}` : undefined, stepText];
    slot.caption.textContent = parts.filter(Boolean).join(" · ");
    slot.caption.classList.remove("error");
    ctx.discovered(bundle);
  };

  return {
    el: root,
    show(step, entry) {
      if (step === undefined || !entry) {
        shape = "";
        grid.replaceChildren(el("div", { class: "empty" }, "not logged in this run"));
        return;
      }
      makeSlots(entry);
      for (const slot of slots) {
        slot.wanted = step;
        const ready = ctx.loader.peekImage(ctx.run, ctx.key, step, slot.item);
        if (ready) present(slot, ready);
        else {
          slot.stage.el.classList.add("loading");
          ctx.loader.imageBundle(ctx.run, ctx.key, step, slot.item).promise.then(
            (bundle) => {
              if (slot.wanted === step) present(slot, bundle);
            },
            (err: unknown) => {
              if (slot.wanted !== step) return;
              slot.caption.textContent = `step ${step}: ${errorText(err)}`;
              slot.caption.classList.add("error");
            },
          );
        }
        if (ready || slot.stage.current) slot.stage.el.classList.remove("loading");
      }
      // Load ahead (the first items only, to bound the work per move).
      for (const s of neighbourSteps(entry.steps, step, PREFETCH_RADIUS)) {
        for (const slot of slots.slice(0, 8)) {
          ctx.loader.imageBundle(ctx.run, ctx.key, s, slot.item).promise.then(
            (b) => warmBundle(b, ctx.settings),
            () => undefined,
          );
        }
      }
    },
    redraw() {
      for (const s of slots) s.stage.draw();
    },
    dispose() {
      for (const s of slots) s.stage.dispose();
    },
  };
}
