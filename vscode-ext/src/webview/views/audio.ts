// Audio clips and videos: the browser's own players (GIFs as images), with the item's facts.
import type { AudioClipSidecar } from "../../protocol/generated/audio";
import type { VideoSidecar } from "../../protocol/generated/video";
import { el } from "../dom";
import { fileUrl, type ItemResult } from "../loader";
import { errorText, type Cell, type CellContext } from "./types";

/** A cell that loads the item at the step and renders it with `render`, keeping the last one. */
export function itemCell(ctx: CellContext, cls: string, render: (item: ItemResult) => Node[]): Cell {
  const root = el("div", { class: cls });
  let wanted: number | undefined;
  let shownKey = "";
  return {
    el: root,
    show(step) {
      wanted = step;
      if (step === undefined) {
        shownKey = "";
        root.replaceChildren(el("div", { class: "empty" }, "not logged in this run"));
        return;
      }
      ctx.loader.item(ctx.run, ctx.key, step).promise.then(
        (item) => {
          if (wanted !== step) return;
          const key = `${step}\u0000${item.time ?? ""}`;
          if (key === shownKey) return; // playing media keeps playing
          shownKey = key;
          root.replaceChildren(...render(item));
        },
        (err: unknown) => {
          if (wanted === step) root.replaceChildren(el("div", { class: "error" }, errorText(err)));
        },
      );
    },
    refresh() {
      shownKey = "";
    },
  };
}

function facts(parts: (string | undefined | false)[]): HTMLElement {
  return el("div", { class: "facts" }, parts.filter(Boolean).join(" · "));
}

export function audioCell(ctx: CellContext): Cell {
  return itemCell(ctx, "audio", (item) => {
    const side = item.sidecar as AudioClipSidecar | null;
    const url = fileUrl(item, "audio");
    const player = el("audio", { controls: "", preload: "metadata" });
    if (url) player.src = url;
    return [
      player,
      facts([
        side?.caption,
        `step ${item.step}`,
        side?.format,
        side?.sample_rate ? `${side.sample_rate} Hz` : undefined,
        side?.channels ? `${side.channels} ch` : undefined,
        typeof side?.duration_s === "number" ? `${side.duration_s.toFixed(2)} s` : undefined,
      ]),
    ];
  });
}

export function videoCell(ctx: CellContext): Cell {
  return itemCell(ctx, "video", (item) => {
    const side = item.sidecar as VideoSidecar | null;
    const url = fileUrl(item, "video") ?? "";
    const gif = side?.format === "gif" || url.toLowerCase().endsWith(".gif");
    const media = gif ? el("img", { class: "gif", alt: `${ctx.key} step ${item.step}` }) : el("video", { controls: "", preload: "metadata", loop: "" });
    media.src = url;
    return [
      media,
      facts([
        side?.caption,
        `step ${item.step}`,
        side?.format,
        side?.width && side?.height ? `${side.width}×${side.height}` : undefined,
        side?.fps ? `${side.fps} fps` : undefined,
        side?.frames ? `${side.frames} frames` : undefined,
      ]),
    ];
  });
}
