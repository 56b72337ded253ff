// The fallback cell: the item's files as links, for kinds without a view of their own.
import { el } from "../dom";
import { errorText, type Cell, type CellContext } from "./types";

export function filesCell(ctx: CellContext): Cell {
  const root = el("div", { class: "cell-files" });
  let wanted: number | undefined;
  return {
    el: root,
    show(step) {
      wanted = step;
      if (step === undefined) {
        root.replaceChildren(el("div", { class: "empty" }, "not logged in this run"));
        return;
      }
      ctx.loader.item(ctx.run, ctx.key, step).promise.then(
        (item) => {
          if (wanted !== step) return;
          root.replaceChildren(
            el("div", { class: "caption" }, `${item.kind} · step ${item.step}`),
            el("ul", {}, ...item.files.map((f) => el("li", {}, el("a", { href: f.uri, target: "_blank", rel: "noopener" }, f.path), ` ${f.role}`))),
          );
        },
        (err: unknown) => root.replaceChildren(el("div", { class: "error" }, errorText(err))),
      );
    },
  };
}
