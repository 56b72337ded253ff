// Audio clips and videos: the browser's own players (GIFs as images) with the item's facts,
// and for audio a waveform (click it to seek; a line follows playback).
import type { AudioClipSidecar } from "../../protocol/generated/audio";
import type { VideoSidecar } from "../../protocol/generated/video";
import { sizedContext } from "../axes";
import { el } from "../dom";
import { fileUrl, type ItemResult } from "../loader";
import { itemProblems, loadProblem, problemList, type Problem } from "../problems";
import type { Cell, CellContext } from "./types";

/**
 * A cell that loads the item at the step and renders it with `render`, keeping the last one.
 * When the file of role `primary` is missing, the cell says so instead; other problems of the
 * item are listed under what it shows.
 */
export function itemCell(ctx: CellContext, cls: string, primary: string, render: (item: ItemResult) => Node[]): Cell {
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
          const problems: Problem[] = itemProblems(item);
          const main = item.files.find((f) => f.role === primary);
          if (main && problems.some((p) => p.kind === "missing" && p.file === main.path)) {
            root.replaceChildren(problemList(problems));
            return;
          }
          root.replaceChildren(...render(item), ...(problems.length ? [problemList(problems)] : []));
        },
        (err: unknown) => {
          if (wanted === step) root.replaceChildren(problemList([loadProblem(`${ctx.key} step ${step}`, err, false)]));
        },
      );
    },
    refresh() {
      shownKey = "";
    },
  };
}

export function facts(parts: (string | undefined | false)[]): HTMLElement {
  return el("div", { class: "facts" }, parts.filter(Boolean).join(" · "));
}

/** Smallest and largest sample of each of `columns` slices of the first channel. */
export function peaks(samples: Float32Array, columns: number): { min: Float32Array; max: Float32Array } {
  const min = new Float32Array(columns);
  const max = new Float32Array(columns);
  const per = samples.length / columns;
  for (let c = 0; c < columns; c++) {
    const from = Math.floor(c * per);
    const to = Math.max(from + 1, Math.floor((c + 1) * per));
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = from; i < to && i < samples.length; i++) {
      const v = samples[i] as number;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    min[c] = lo === Infinity ? 0 : lo;
    max[c] = hi === -Infinity ? 0 : hi;
  }
  return { min, max };
}

/** A waveform over an <audio> player: drawn from the decoded file; click to seek. */
export function waveform(url: string, player: HTMLAudioElement): HTMLElement {
  const canvas = el("canvas", { class: "waveform", title: "Click to play from here" });
  const box = el("div", { class: "waveform-box" }, canvas);
  let samples: Float32Array | undefined;
  const draw = (): void => {
    const sized = sizedContext(canvas);
    if (!sized || !samples) return;
    const { ctx, w, h } = sized;
    const css = getComputedStyle(box);
    const { min, max } = peaks(samples, Math.max(1, Math.floor(w)));
    const played = player.duration > 0 ? (player.currentTime / player.duration) * w : 0;
    for (let x = 0; x < min.length; x++) {
      ctx.fillStyle = x < played ? css.getPropertyValue("--accent").trim() || "#4493f8" : css.getPropertyValue("--muted").trim() || "#888";
      const top = h / 2 - ((max[x] as number) * h) / 2;
      const bottom = h / 2 - ((min[x] as number) * h) / 2;
      ctx.fillRect(x, top, 1, Math.max(1, bottom - top));
    }
  };
  void fetch(url)
    .then((r) => (r.ok ? r.arrayBuffer() : Promise.reject(new Error(`HTTP ${r.status}`))))
    .then((bytes) => new OfflineAudioContext(1, 1, 44100).decodeAudioData(bytes))
    .then(
      (buffer) => {
        samples = buffer.getChannelData(0);
        canvas.dataset.samples = String(samples.length);
        draw();
      },
      () => box.classList.add("no-waveform"),
    );
  let frame = 0;
  const follow = (): void => {
    draw();
    if (!player.paused) frame = requestAnimationFrame(follow);
  };
  player.addEventListener("play", () => (frame = requestAnimationFrame(follow)));
  player.addEventListener("pause", () => cancelAnimationFrame(frame));
  player.addEventListener("seeked", draw);
  canvas.addEventListener("click", (event) => {
    if (!(player.duration > 0)) return;
    const rect = canvas.getBoundingClientRect();
    player.currentTime = ((event.clientX - rect.left) / rect.width) * player.duration;
    draw();
  });
  new ResizeObserver(draw).observe(canvas);
  return box;
}

export function audioCell(ctx: CellContext): Cell {
  return itemCell(ctx, "audio", "audio", (item) => {
    const side = item.sidecar as AudioClipSidecar | null;
    const url = fileUrl(item, "audio");
    const player = el("audio", { controls: "", preload: "metadata" });
    if (url) player.src = url;
    return [
      ...(url ? [waveform(url, player)] : []),
      player,
      facts([
        side?.caption,
        side?.format,
        side?.sample_rate ? `${side.sample_rate} Hz` : undefined,
        side?.channels ? `${side.channels} ch` : undefined,
        typeof side?.duration_s === "number" ? `${side.duration_s.toFixed(2)} s` : undefined,
      ]),
    ];
  });
}

export function videoCell(ctx: CellContext): Cell {
  return itemCell(ctx, "video", "video", (item) => {
    const side = item.sidecar as VideoSidecar | null;
    const url = fileUrl(item, "video") ?? "";
    const gif = side?.format === "gif" || url.toLowerCase().endsWith(".gif");
    const media = gif ? el("img", { class: "gif", alt: `${ctx.key} step ${item.step}` }) : el("video", { controls: "", preload: "metadata", loop: "" });
    media.src = url;
    return [
      media,
      facts([
        side?.caption,
        side?.format,
        side?.width && side?.height ? `${side.width}×${side.height}` : undefined,
        side?.fps ? `${side.fps} fps` : undefined,
        side?.frames ? `${side.frames} frames` : undefined,
      ]),
    ];
  });
}
