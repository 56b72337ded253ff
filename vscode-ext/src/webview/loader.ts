// Loads items, images and masks once and keeps them (least recently used first out, within a
// bound on the decoded pixels), so that moving a slider to a step that was loaded ahead draws at
// once, without a round trip. Items asked for together go to the host as one request
// (batch.ts); images are decoded off the main thread (decode.ts), in the order load-queue.ts
// keeps: what is on screen first, then what is loaded ahead, nearest step first, dropped when
// the slider moved on before its turn.
import type { DvcstageItemResult } from "../protocol/generated/protocol-item-result";
import type { ImageSidecar } from "../protocol/generated/image-sidecar";
import type { Transport } from "./transport";
import { AHEAD_BATCH, ItemBatcher } from "./batch";
import { readBoxes, type PixelBox } from "./boxes";
import { DroppedError, LoadQueue, ON_SCREEN, type Ticket } from "./load-queue";
import { classesIn, decodeClassPng, PngError, type ClassIdMap } from "./masks";
import { base64Bytes, decodeCounts, decodeImage, type DecodedImage } from "./decode";
import { FramePresenter } from "./present";
import { itemProblems, loadProblem, ProblemError, type Problem } from "./problems";

export type ItemResult = DvcstageItemResult;
export { DroppedError };
export type { DecodedImage };

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
  /** The image's bytes, base64, when the host sent them with the item (not fetched then). */
  imageData?: string;
}

/** A promise that remembers its value, so a ready entry can be used synchronously. */
export interface Entry<T> {
  promise: Promise<T>;
  value?: T;
  error?: unknown;
}

/** Least recently used first out, at most `limit` entries and `maxBytes` of `size(value)`. */
export class LruCache<T> {
  private readonly map = new Map<string, Entry<T>>();
  private readonly sizes = new Map<Entry<T>, number>();
  /** The sizes of the values held (those loaded). */
  bytes = 0;

  constructor(
    private readonly limit: number,
    private readonly size: (value: T) => number = () => 0,
    private readonly maxBytes = Infinity,
  ) {}

  get(key: string, make: () => Promise<T>): Entry<T> {
    let entry = this.map.get(key);
    if (entry) {
      this.map.delete(key);
      this.map.set(key, entry);
      return entry;
    }
    const e: Entry<T> = { promise: make() };
    e.promise.then(
      (v) => {
        e.value = v;
        if (this.map.get(key) !== e) return; // forgotten meanwhile
        const n = this.size(v);
        this.sizes.set(e, n);
        this.bytes += n;
        this.trim();
      },
      (err: unknown) => {
        e.error = err;
        if (this.map.get(key) === e) this.map.delete(key); // let a later try load it again
      },
    );
    entry = e;
    this.map.set(key, entry);
    this.trim();
    return entry;
  }

  peek(key: string): Entry<T> | undefined {
    return this.map.get(key);
  }

  get count(): number {
    return this.map.size;
  }

  deleteWhere(test: (key: string) => boolean): void {
    for (const key of [...this.map.keys()]) if (test(key)) this.remove(key);
  }

  private remove(key: string): void {
    const e = this.map.get(key);
    if (!e) return;
    this.map.delete(key);
    this.bytes -= this.sizes.get(e) ?? 0;
    this.sizes.delete(e);
  }

  private trim(): void {
    while (this.map.size > this.limit || (this.bytes > this.maxBytes && this.map.size > 1)) {
      const oldest = this.map.keys().next().value as string;
      this.remove(oldest);
    }
  }
}

export function itemKey(run: string, key: string, step: number, item?: number): string {
  return `${run}\u0000${key}\u0000${item ?? ""}\u0000${step}`;
}

/**
 * The image at `url` (or the `data` the host sent with its item, base64), decoded off the main
 * thread (decode.ts). `file` names it in problems: a 404 is a missing file, bytes the browser
 * cannot decode an undecodable one.
 */
export async function loadImage(url: string, file: string = url, data?: string): Promise<DecodedImage> {
  const bytes = data === undefined ? await fetchBytes(url, file) : base64Bytes(data);
  try {
    return await decodeImage(bytes);
  } catch (err) {
    throw new ProblemError(loadProblem(file, err, true));
  }
}

/** The bytes of `url` (a missing or unreadable file is a ProblemError naming `file`). */
async function fetchBytes(url: string, file: string): Promise<Uint8Array<ArrayBuffer>> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (err) {
    throw new ProblemError(loadProblem(file, err, false));
  }
  if (response.status === 404) throw new ProblemError({ kind: "missing", file, message: "not on disk (not pulled, or deleted)" });
  if (!response.ok) throw new ProblemError({ kind: "unreadable", file, message: `HTTP ${response.status}` });
  return new Uint8Array(await response.arrayBuffer());
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
  const { image, width, height } = await loadImage(imageUrl, files.image, files.imageData);
  const masks = await Promise.all(maskJobs);
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

/** Images fetched and decoded at once (those sent with their items need no connection; Chromium
 * opens at most 6 to a host for the others). */
export const FETCH_CONCURRENCY = 16;
/** Loads ahead started together (one request of items) and in flight at most, while the
 * slider is scrubbed (a request answered while the one before is decoded), and otherwise (a
 * jump, a move of its own: the host answers what is in flight before the next jump's items,
 * so that is kept short). */
export const PREFETCH_CHUNK = AHEAD_BATCH;
export const PREFETCH_WAVE = 2 * AHEAD_BATCH;
export const PREFETCH_CHUNK_SETTLED = AHEAD_BATCH / 2;
export const PREFETCH_WAVE_SETTLED = AHEAD_BATCH / 2;
/** Decoded pixels kept (RGBA bytes), and at most this many images. */
export const IMAGE_CACHE_BYTES = 256 * 1024 * 1024;
export const IMAGE_CACHE_ENTRIES = 4096;
/** Decoded pixels loaded ahead per slider move, at most (well within the cache). */
export const PREFETCH_BYTES = 64 * 1024 * 1024;

/** The bytes a bundle holds decoded: its pixels and its masks' class ids. */
export function bundleBytes(b: ImageBundle): number {
  return b.width * b.height * 4 + b.masks.reduce((n, m) => n + m.map.ids.byteLength, 0);
}

interface Prefetch {
  key: string;
  rank: number;
  seq: number;
  start(): Promise<unknown>;
}

export class MediaLoader {
  private readonly items = new LruCache<ItemResult>(8192);
  private readonly images = new LruCache<ImageBundle>(IMAGE_CACHE_ENTRIES, bundleBytes, IMAGE_CACHE_BYTES);
  readonly batcher: ItemBatcher;
  /** Image fetches and decodes, on screen first; a move of the slider starts a generation. */
  readonly queue = new LoadQueue(FETCH_CONCURRENCY);
  /** Draws the images a move brings in together (see present.ts). */
  readonly frames = new FramePresenter();
  /** The tickets of image loads not finished yet, by item key (claimed again by later moves). */
  private readonly tickets = new Map<string, Ticket>();
  /** Loads ahead, not started yet (nearest first): dropped when the step moves. */
  private pending: Prefetch[] = [];
  private readonly pendingKeys = new Set<string>();
  private sorted = true;
  private seq = 0;
  private prefetching = 0;
  /** Bytes loaded ahead in this generation (estimated until they are decoded). */
  private aheadBytes = 0;
  /** Decoded bytes of an image, averaged over those loaded (the estimate of one not loaded). */
  private meanBytes = 64 * 1024;
  /** Loads of what is on screen, in flight: loads ahead wait for them. */
  private demanded = 0;
  /** Whether the slider is being scrubbed (moves of a stop or two in a row): loads ahead then
   * go on while what is shown loads, else they wait for it. */
  private scrubbing = false;
  private pumpScheduled = false;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly transport: Transport) {
    this.batcher = new ItemBatcher(transport);
  }

  /** The slider moved: loads ahead not started are for the old neighbourhood, and queued
   * image loads that the cells do not ask for again (in this task) are dropped. `scrubbing`:
   * the move continues a streak of small moves (MediaState.streak). */
  moved(scrubbing = false): void {
    this.scrubbing = scrubbing;
    this.queue.next();
    this.frames.moved();
    this.pending = [];
    this.pendingKeys.clear();
    this.aheadBytes = 0;
    this.pump();
  }

  /** An image that is shown now: loaded at once, ahead of any load ahead. */
  demandImage(run: string, key: string, step: number, item?: number): Entry<ImageBundle> {
    const k = itemKey(run, key, step, item);
    const known = this.images.peek(k);
    if (known) {
      const ticket = this.tickets.get(k);
      if (ticket) this.queue.claim(ticket, ON_SCREEN);
      return known;
    }
    this.demanded++;
    const entry = this.imageBundle(run, key, step, item, ON_SCREEN);
    entry.promise.then(this.demandDone, this.demandDone);
    return entry;
  }

  private readonly demandDone = (): void => {
    this.demanded--;
    this.pump();
  };

  /**
   * Loads an image ahead (a step the slider may move to next), once the loads of what is shown
   * are done. `rank` orders loads ahead over every cell: 1 for the step next in the direction
   * of the last move, larger for steps further off.
   */
  prefetchImage(run: string, key: string, step: number, item: number | undefined, then: (b: ImageBundle) => void, rank = 1): void {
    const k = itemKey(run, key, step, item);
    const known = this.images.peek(k);
    if (known) {
      const ticket = this.tickets.get(k);
      if (ticket) this.queue.claim(ticket, rank);
      return;
    }
    if (this.pendingKeys.has(k)) return;
    this.pendingKeys.add(k);
    this.sorted = false;
    this.pending.push({
      key: k,
      rank,
      seq: this.seq++,
      start: () => {
        const generation = this.queue.generation;
        const estimate = this.meanBytes;
        return this.imageBundle(run, key, step, item, rank).promise.then((b) => {
          if (this.queue.generation === generation) this.aheadBytes += bundleBytes(b) - estimate;
          then(b);
        });
      },
    });
    // Once every cell of the task has said what it wants ahead (all ranks known).
    if (!this.pumpScheduled) {
      this.pumpScheduled = true;
      queueMicrotask(() => {
        this.pumpScheduled = false;
        this.pump();
      });
    }
  }

  private pump(): void {
    const [chunk, wave] = this.scrubbing ? [PREFETCH_CHUNK, PREFETCH_WAVE] : [PREFETCH_CHUNK_SETTLED, PREFETCH_WAVE_SETTLED];
    // Loads ahead start a whole request's worth at a time (one started as each finishes would
    // be a request of one item each), as many as the wave holds.
    if ((this.demanded === 0 || this.scrubbing) && this.pending.length) {
      if (!this.sorted) this.pending.sort((a, b) => a.rank - b.rank || a.seq - b.seq);
      this.sorted = true;
      while (this.prefetching + chunk <= wave && this.pending.length && this.aheadBytes < PREFETCH_BYTES) {
        const stop = this.prefetching + chunk;
        while (this.prefetching < stop && this.pending.length && this.aheadBytes < PREFETCH_BYTES) {
          const job = this.pending.shift() as Prefetch;
          this.pendingKeys.delete(job.key);
          if (this.images.peek(job.key)) continue; // shown (or asked for) meanwhile
          this.prefetching++;
          this.aheadBytes += this.meanBytes;
          job.start().then(this.prefetchDone, this.prefetchDone);
        }
      }
    }
    if (this.demanded === 0 && this.prefetching === 0 && !this.pending.length) for (const ok of this.idleWaiters.splice(0)) ok();
  }

  private readonly prefetchDone = (): void => {
    this.prefetching--;
    this.pump();
  };

  /** Resolves once nothing is loading (for measurements). */
  idle(): Promise<void> {
    if (this.demanded === 0 && this.prefetching === 0 && !this.pending.length) return Promise.resolve();
    return new Promise((ok) => this.idleWaiters.push(ok));
  }

  /** An item's answer, asked together with the other items asked in this task. */
  item(run: string, key: string, step: number, item?: number, ahead = false): Entry<ItemResult> {
    const params = item === undefined ? { run, key, step } : { run, key, step, item };
    return this.items.get(itemKey(run, key, step, item), () => this.batcher.request(params, ahead));
  }

  /** The image of an image item with its overlays, loaded once. */
  imageBundle(run: string, key: string, step: number, item?: number, rank = ON_SCREEN): Entry<ImageBundle> {
    const k = itemKey(run, key, step, item);
    return this.images.get(k, async () => {
      const ticket = this.queue.ticket(rank);
      this.tickets.set(k, ticket);
      try {
        const result = await this.item(run, key, step, item, rank !== ON_SCREEN).promise;
        const file = result.files.find((f) => f.role === "image");
        const url = fileUrl(result, "image");
        const known = itemProblems(result);
        if (!file || !url) throw new ProblemError({ kind: "missing", file: `${key} step ${step}`, message: "the index lists no image file" });
        if (!file.exists) throw new ProblemError(known.find((p) => p.file === file.path) ?? { kind: "missing", file: file.path, message: "not on disk (not pulled, or deleted)" });
        const sidecar = (result.sidecar as ImageSidecar | null) ?? null;
        const sidecarFile = result.files.find((f) => f.role === "sidecar")?.path;
        const bundle = await this.queue.run(ticket, () =>
          loadImageBundle(
            step,
            url,
            sidecar,
            (name) => {
              const pointer = `/masks/${name.replace(/~/g, "~0").replace(/\//g, "~1")}/path`;
              const link = result.links.find((l) => l.pointer === pointer);
              if (link && !link.exists) return undefined; // named below, from the server's answer
              return link?.uri ?? result.files.find((f) => f.role === "mask" && f.name === name)?.uri;
            },
            { image: file.path, ...(sidecarFile ? { sidecar: sidecarFile } : {}), ...(file.data !== undefined ? { imageData: file.data } : {}) },
          ),
        );
        bundle.problems.unshift(...known.filter((p) => !bundle.problems.some((q) => q.file === p.file && q.message === p.message)));
        this.meanBytes += (bundleBytes(bundle) - this.meanBytes) / 8;
        return bundle;
      } finally {
        if (this.tickets.get(k) === ticket) this.tickets.delete(k);
      }
    });
  }

  peekImage(run: string, key: string, step: number, item?: number): ImageBundle | undefined {
    return this.images.peek(itemKey(run, key, step, item))?.value;
  }

  /** How the images were decoded so far: by ImageDecoder, or from a Blob (for tests). */
  get decodes(): { decoder: number; blob: number; element: number } {
    return { ...decodeCounts };
  }

  /** What the image cache holds (for tests and measurements). */
  cached(): { images: number; bytes: number } {
    return { images: this.images.count, bytes: this.images.bytes };
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
