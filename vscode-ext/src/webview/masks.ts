// Segmentation masks: PNGs of class ids (8- or 16-bit grayscale, dvcstage/media/masks.py)
// decoded exactly (no colour management, no 16 -> 8 bit loss) and coloured per class.
import { classColor, className, rgbOf } from "./colors";

export interface ClassIdMap {
  width: number;
  height: number;
  ids: Uint16Array;
}

export class PngError extends Error {}

function u32(b: Uint8Array, at: number): number {
  return ((b[at] as number) << 24 | (b[at + 1] as number) << 16 | (b[at + 2] as number) << 8 | (b[at + 3] as number)) >>> 0;
}

async function inflate(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data as BlobPart]).stream().pipeThrough(new DecompressionStream("deflate"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/**
 * Decodes a grayscale (colour type 0), non-interlaced PNG of 8 or 16 bits into class ids.
 * Throws PngError for anything else (the caller falls back to the browser's decoder).
 */
export async function decodeClassPng(bytes: Uint8Array): Promise<ClassIdMap> {
  const sig = [137, 80, 78, 71, 13, 10, 26, 10];
  if (bytes.length < 33 || sig.some((v, i) => bytes[i] !== v)) throw new PngError("not a PNG");
  let at = 8;
  let width = 0;
  let height = 0;
  let depth = 0;
  const idat: Uint8Array[] = [];
  while (at + 8 <= bytes.length) {
    const len = u32(bytes, at);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    const data = bytes.subarray(at + 8, at + 8 + len);
    if (type === "IHDR") {
      width = u32(data, 0);
      height = u32(data, 4);
      depth = data[8] as number;
      const colorType = data[9];
      const interlace = data[12];
      if (colorType !== 0 || (depth !== 8 && depth !== 16) || interlace !== 0) {
        throw new PngError(`colour type ${colorType}, depth ${depth}, interlace ${interlace}`);
      }
    } else if (type === "IDAT") idat.push(data);
    else if (type === "IEND") break;
    at += 12 + len;
  }
  if (!width || !height || !idat.length) throw new PngError("no image data");
  const total = idat.reduce((n, d) => n + d.length, 0);
  const joined = new Uint8Array(total);
  let off = 0;
  for (const d of idat) {
    joined.set(d, off);
    off += d.length;
  }
  const raw = await inflate(joined);
  const bpp = depth / 8;
  const stride = width * bpp;
  if (raw.length < height * (stride + 1)) throw new PngError("truncated image data");
  const cur = new Uint8Array(stride);
  const prev = new Uint8Array(stride);
  const ids = new Uint16Array(width * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let i = 0; i < stride; i++) {
      const x = line[i] as number;
      const a = i >= bpp ? (cur[i - bpp] as number) : 0;
      const b = prev[i] as number;
      const c = i >= bpp ? (prev[i - bpp] as number) : 0;
      let v: number;
      switch (filter) {
        case 0: v = x; break;
        case 1: v = x + a; break;
        case 2: v = x + b; break;
        case 3: v = x + ((a + b) >> 1); break;
        case 4: v = x + paeth(a, b, c); break;
        default: throw new PngError(`filter ${filter}`);
      }
      cur[i] = v & 255;
    }
    const row = y * width;
    if (bpp === 1) for (let i = 0; i < width; i++) ids[row + i] = cur[i] as number;
    else for (let i = 0; i < width; i++) ids[row + i] = ((cur[2 * i] as number) << 8) | (cur[2 * i + 1] as number);
    prev.set(cur);
  }
  return { width, height, ids };
}

/** Class ids present in a mask, ascending. */
export function classesIn(mask: ClassIdMap): number[] {
  const seen = new Uint8Array(65536);
  for (let i = 0; i < mask.ids.length; i++) seen[mask.ids[i] as number] = 1;
  const out: number[] = [];
  for (let id = 0; id < seen.length; id++) if (seen[id]) out.push(id);
  return out;
}

/**
 * Whether a class is drawn by default: id 0 is the background unless it has a label other
 * than "background".
 */
export function isBackground(classId: number, labels: Record<string, string | undefined>): boolean {
  if (classId !== 0) return false;
  const label = labels["0"];
  return label === undefined || /^(background|bg|none|unlabel(l)?ed|void)$/i.test(label);
}

/**
 * RGBA pixels of a mask: each class in its colour (alpha 255), hidden classes and the
 * background transparent. Opacity is applied when compositing (globalAlpha).
 */
export function colorizeMask(mask: ClassIdMap, labels: Record<string, string | undefined>, hidden: ReadonlySet<number>): Uint8ClampedArray<ArrayBuffer> {
  const out = new Uint8ClampedArray(mask.width * mask.height * 4);
  const lut = new Map<number, [number, number, number] | null>();
  for (let i = 0; i < mask.ids.length; i++) {
    const id = mask.ids[i] as number;
    let rgb = lut.get(id);
    if (rgb === undefined) {
      rgb = hidden.has(id) || isBackground(id, labels) ? null : rgbOf(classColor(className(labels, id), id));
      lut.set(id, rgb);
    }
    if (rgb === null) continue;
    const o = i * 4;
    out[o] = rgb[0];
    out[o + 1] = rgb[1];
    out[o + 2] = rgb[2];
    out[o + 3] = 255;
  }
  return out;
}

/** One mask to composite: its class ids, labels, opacity and hidden classes. */
export interface MaskLayer {
  map: ClassIdMap;
  labels: Record<string, string | undefined>;
  opacity: number;
  hidden: ReadonlySet<number>;
}

/**
 * RGBA pixels of several masks over one image, `width` x `height` (masks of another size are
 * sampled nearest). Where masks overlap their colours mix by opacity and the pixel's alpha is
 * the largest opacity, not a stack: two masks at 0.5 leave the picture half visible, as one
 * does. Drawn over the image with no further alpha.
 */
export function compositeMasks(layers: readonly MaskLayer[], width: number, height: number): Uint8ClampedArray<ArrayBuffer> {
  const out = new Uint8ClampedArray(width * height * 4);
  const shown = layers.filter((l) => l.opacity > 0);
  if (!shown.length) return out;
  const luts = shown.map((l) => {
    const lut = new Map<number, [number, number, number] | null>();
    return (id: number): [number, number, number] | null => {
      let rgb = lut.get(id);
      if (rgb === undefined) {
        rgb = l.hidden.has(id) || isBackground(id, l.labels) ? null : rgbOf(classColor(className(l.labels, id), id));
        lut.set(id, rgb);
      }
      return rgb;
    };
  });
  const same = shown.map((l) => l.map.width === width && l.map.height === height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      let r = 0;
      let g = 0;
      let b = 0;
      let weight = 0;
      let alpha = 0;
      for (let k = 0; k < shown.length; k++) {
        const layer = shown[k] as MaskLayer;
        const m = layer.map;
        const at = same[k] ? i : Math.min(m.height - 1, Math.floor((y * m.height) / height)) * m.width + Math.min(m.width - 1, Math.floor((x * m.width) / width));
        const rgb = (luts[k] as (id: number) => [number, number, number] | null)(m.ids[at] as number);
        if (!rgb) continue;
        r += rgb[0] * layer.opacity;
        g += rgb[1] * layer.opacity;
        b += rgb[2] * layer.opacity;
        weight += layer.opacity;
        if (layer.opacity > alpha) alpha = layer.opacity;
      }
      if (weight === 0) continue;
      const o = i * 4;
      out[o] = r / weight;
      out[o + 1] = g / weight;
      out[o + 2] = b / weight;
      out[o + 3] = Math.round(alpha * 255);
    }
  }
  return out;
}
