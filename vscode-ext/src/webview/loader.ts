// Loads items, images and masks once and keeps them (least recently used first out), so
// that moving a slider to a step that was prefetched draws at once, without a round trip.
import type { DvcstageItemResult } from "../protocol/generated/protocol-item-result";
import type { ImageSidecar } from "../protocol/generated/image-sidecar";
import type { Transport } from "./transport";
import { readBoxes, type PixelBox } from "./boxes";
import { classesIn, decodeClassPng, PngError, type ClassIdMap } from "./masks";
import { itemProblems, loadProblem, ProblemError, type Problem } from "./problems";

export type ItemResult = DvcstageItemResult;

export interface LoadedMask {
  name: string;
  labels: Record<string, string | undefined>;
  map: ClassIdMap;
  /** The class ids present, ascending (for the toggles). */
  classes: number[];
}

export interface ImageBundle {
  step: number;
  /** Decoded and ready to draw (an ImageBitmap where the browser can make one). */
  image: ImageBitmap | HTMLImageElement;
  width: number;
  height: number;
  sidecar: ImageSidecar | null;
  boxes: PixelBox[];
  masks: LoadedMask[];
  caption: string | undefined;
  /** What could not be shown (a missing mask, an invalid sidecar, malformed boxes). */
  problems: Problem[];
}

/** Where an image's files are, for naming them in problems (relative to the run folder). */
export interface BundleFiles {
  image: string;
  sidecar?: string;
}

/** A promise that remembers its value, so a ready entry can be used synchronously. */
export interface Entry<T> {
  promise: Promise<T>;
  value?: T;
  error?: unknown;
}

class LruCache<T> {
  private readonly map = new Map<string, Entry<T>>();
  constructor(private readonly limit: number) {}

  get(key: string, make: () => Promise<T>): Entry<T> {
    let entry = this.map.get(key);
    if (entry) {
      this.map.delete(key);
      this.map.set(key, entry);
      return entry;
    }
    const e: Entry<T> = { promise: make() };
    e.promise.then(
      (v) => (e.value = v),
      (err: unknown) => {
        e.error = err;
        if (this.map.get(key) === e) this.map.delete(key); // let a later try load it again
      },
    );
    entry = e;
    this.map.set(key, entry);
    while (this.map.size > this.limit) {
      const oldest = this.map.keys().next().value as string;
      this.map.delete(oldest);
    }
    return entry;
  }

  peek(key: string): Entry<T> | undefined {
    return this.map.get(key);
  }

  deleteWhere(test: (key: string) => boolean): void {
    for (const key of [...this.map.keys()]) if (test(key)) this.map.delete(key);
  }
}

export function itemKey(run: string, key: string, step: number, item?: number): string {
  return `${run}\u0000${key}\u0000${item ?? ""}\u0000${step}`;
}

export async function loadImage(url: string): Promise<HTMLImageElement> {
  const img = new Image();
  img.decoding = "async";
  img.src = url;
  await img.decode();
  return img;
}

/** A class-id PNG; other encodings go through the browser's decoder (first channel). */
export async function loadMask(url: string): Promise<ClassIdMap> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  try {
    return await decodeClassPng(bytes);
  } catch (err) {
    if (!(err instanceof PngError)) throw err;
    const bitmap = await createImageBitmap(new Blob([bytes as BlobPart]), { colorSpaceConversion: "none", premultiplyAlpha: "none" });
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const ctx = canvas.getContext("2d");
    if (!ctx) throw new Error("no 2d context");
    ctx.drawImage(bitmap, 0, 0);
    const rgba = ctx.getImageData(0, 0, bitmap.width, bitmap.height).data;
    const ids = new Uint16Array(bitmap.width * bitmap.height);
    for (let i = 0; i < ids.length; i++) ids[i] = rgba[i * 4] as number;
    return { width: bitmap.width, height: bitmap.height, ids };
  }
}

export async function fetchJson<T>(url: string): Promise<T> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return (await response.json()) as T;
}

export async function fetchText(url: string): Promise<string> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.text();
}

/**
 * An image with its sidecar's boxes and masks. `maskUrl` maps a mask name to its URL (from
 * the item's `links`, or resolved against the sidecar's URL in a table). An image that cannot
 * be loaded or decoded is a ProblemError; a mask or box that cannot be shown, a problem of the
 * bundle.
 */
export async function loadImageBundle(
  step: number,
  imageUrl: string,
  sidecar: ImageSidecar | null,
  maskUrl: (name: string, path: string) => string | undefined,
  files: BundleFiles = { image: imageUrl },
): Promise<ImageBundle> {
  const problems: Problem[] = [];
  const sidecarFile = files.sidecar ?? "sidecar";
  const maskEntries = sidecar && typeof sidecar.masks === "object" && sidecar.masks !== null ? Object.entries(sidecar.masks) : [];
  const maskJobs = maskEntries.map(async ([name, mask]) => {
    if (!mask || typeof mask.path !== "string") {
      problems.push({ kind: "invalid-sidecar", file: sidecarFile, message: `masks.${name} has no path` });
      return undefined;
    }
    const url = maskUrl(name, mask.path);
    if (!url) return undefined;
    try {
      const map = await loadMask(url);
      const labels = typeof mask.class_labels === "object" && mask.class_labels !== null ? mask.class_labels : {};
      return { name, labels, map, classes: classesIn(map) };
    } catch (err) {
      const folder = sidecarFile.includes("/") ? sidecarFile.slice(0, sidecarFile.lastIndexOf("/") + 1) : "";
      problems.push(loadProblem(`${folder}${mask.path}`, err, false));
      return undefined; // the image still shows
    }
  });
  let element: HTMLImageElement;
  try {
    element = await loadImage(imageUrl);
  } catch (err) {
    // <img> says nothing about why: ask once more to tell a missing file from a broken one.
    const status = await fetch(imageUrl, { method: "HEAD" }).then((r) => r.status, () => 0);
    throw new ProblemError(status === 404 ? { kind: "missing", file: files.image, message: "not on disk (not pulled, or deleted)" } : loadProblem(files.image, err, true));
  }
  const masks = await Promise.all(maskJobs);
  const width = element.naturalWidth;
  const height = element.naturalHeight;
  // A bitmap draws without further decoding work on the step change itself.
  const image = typeof createImageBitmap === "function" ? await createImageBitmap(element).catch(() => element) : element;
  const read = readBoxes(sidecar, width, height);
  for (const message of read.problems) problems.push({ kind: "invalid-sidecar", file: sidecarFile, message });
  return {
    step,
    image,
    width,
    height,
    sidecar,
    boxes: read.boxes,
    masks: masks.filter((m): m is LoadedMask => m !== undefined),
    caption: typeof sidecar?.caption === "string" ? sidecar.caption : undefined,
    problems,
  };
}

/** The URL of a file of an item by role (first match). */
export function fileUrl(item: ItemResult, role: string): string | undefined {
  return item.files.find((f) => f.role === role && f.exists)?.uri ?? item.files.find((f) => f.role === role)?.uri;
}

/** The URL of the item's own sidecar (a table's items also list their media cells' sidecars). */
export function sidecarUrl(item: ItemResult): string | undefined {
  const sidecars = item.files.filter((f) => f.role === "sidecar");
  const schema = item.kind === "image" ? "image-sidecar" : item.kind;
  return (sidecars.find((f) => f.schema === schema) ?? sidecars[sidecars.length - 1])?.uri;
}

/** Loads ahead at most this many at once, and only while nothing on screen is waited for. */
export const PREFETCH_CONCURRENCY = 6;

export class MediaLoader {
  private readonly items = new LruCache<ItemResult>(2048);
  private readonly images = new LruCache<ImageBundle>(640);
  /** Loads ahead, not started yet: dropped when the step moves (see clearPrefetch). */
  private queue: { key: string; start: () => Promise<unknown> }[] = [];
  private prefetching = 0;
  /** Loads of what is on screen, in flight: loads ahead wait for them. */
  private demanded = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly transport: Transport) {}

  /** An image that is shown now: loaded at once, ahead of any load ahead. */
  demandImage(run: string, key: string, step: number, item?: number): Entry<ImageBundle> {
    const known = this.images.peek(itemKey(run, key, step, item));
    if (known) return this.imageBundle(run, key, step, item);
    this.demanded++;
    const entry = this.imageBundle(run, key, step, item);
    entry.promise.then(this.demandDone, this.demandDone);
    return entry;
  }

  private readonly demandDone = (): void => {
    this.demanded--;
    this.pump();
  };

  /** Loads an image ahead (a neighbouring step), when the loads of what is shown are done. */
  prefetchImage(run: string, key: string, step: number, item: number | undefined, then: (b: ImageBundle) => void): void {
    const k = itemKey(run, key, step, item);
    if (this.images.peek(k) || this.queue.some((q) => q.key === k)) return;
    this.queue.push({ key: k, start: () => this.imageBundle(run, key, step, item).promise.then(then) });
    this.pump();
  }

  /** The step moved: loads ahead not started yet are for the old neighbourhood. */
  clearPrefetch(): void {
    this.queue = [];
    this.pump();
  }

  private pump(): void {
    while (this.demanded === 0 && this.prefetching < PREFETCH_CONCURRENCY && this.queue.length) {
      const job = this.queue.shift() as { start: () => Promise<unknown> };
      this.prefetching++;
      job.start().then(this.prefetchDone, this.prefetchDone);
    }
    if (this.demanded === 0 && this.prefetching === 0 && !this.queue.length) for (const ok of this.idleWaiters.splice(0)) ok();
  }

  private readonly prefetchDone = (): void => {
    this.prefetching--;
    this.pump();
  };

  /** Resolves once nothing is loading (for measurements). */
  idle(): Promise<void> {
    if (this.demanded === 0 && this.prefetching === 0 && !this.queue.length) return Promise.resolve();
    return new Promise((ok) => this.idleWaiters.push(ok));
  }

  item(run: string, key: string, step: number, item?: number): Entry<ItemResult> {
    const params = item === undefined ? { run, key, step } : { run, key, step, item };
    return this.items.get(itemKey(run, key, step, item), () => this.transport.request<ItemResult>("dvcstage/item", params));
  }

  /** The image of an image item with its overlays, loaded once. */
  imageBundle(run: string, key: string, step: number, item?: number): Entry<ImageBundle> {
    return this.images.get(itemKey(run, key, step, item), async () => {
      const result = await this.item(run, key, step, item).promise;
      const file = result.files.find((f) => f.role === "image");
      const url = fileUrl(result, "image");
      const known = itemProblems(result);
      if (!file || !url) throw new ProblemError({ kind: "missing", file: `${key} step ${step}`, message: "the index lists no image file" });
      if (!file.exists) throw new ProblemError(known.find((p) => p.file === file.path) ?? { kind: "missing", file: file.path, message: "not on disk (not pulled, or deleted)" });
      const sidecar = (result.sidecar as ImageSidecar | null) ?? null;
      const sidecarFile = result.files.find((f) => f.role === "sidecar")?.path;
      const bundle = await loadImageBundle(
        step,
        url,
        sidecar,
        (name) => {
          const pointer = `/masks/${name.replace(/~/g, "~0").replace(/\//g, "~1")}/path`;
          const link = result.links.find((l) => l.pointer === pointer);
          if (link && !link.exists) return undefined; // named below, from the server's answer
          return link?.uri ?? result.files.find((f) => f.role === "mask" && f.name === name)?.uri;
        },
        sidecarFile ? { image: file.path, sidecar: sidecarFile } : { image: file.path },
      );
      bundle.problems.unshift(...known.filter((p) => !bundle.problems.some((q) => q.file === p.file && q.message === p.message)));
      return bundle;
    });
  }

  peekImage(run: string, key: string, step: number, item?: number): ImageBundle | undefined {
    return this.images.peek(itemKey(run, key, step, item))?.value;
  }

  /** Forgets what was cached for items that were written again. */
  forget(run: string, key: string, step?: number): void {
    const prefix = `${run}\u0000${key}\u0000`;
    const test = (k: string): boolean => k.startsWith(prefix) && (step === undefined || k.endsWith(`\u0000${step}`));
    this.items.deleteWhere(test);
    this.images.deleteWhere(test);
  }

  forgetRun(run: string): void {
    const prefix = `${run}\u0000`;
    this.items.deleteWhere((k) => k.startsWith(prefix));
    this.images.deleteWhere((k) => k.startsWith(prefix));
  }
}
