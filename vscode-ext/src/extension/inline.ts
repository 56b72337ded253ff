// Small images sent inside the `dvcstage/items` answer that names them (`files[].data`, base64,
// as `dvcstage view` does: dvcstage/view/inline.py), so that the panel does not fetch each one
// through the webview's resource loader (a round trip through VS Code per picture). Only a
// regular file whose real path (symbolic links followed) lies inside the roots the webview may
// load from is read; anything else is left to be fetched, and the panel shows why it fails.
import { promises as fs } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { isUnderRoots } from "./bridge";

export const ITEMS = "dvcstage/items";
/** One image at most (larger ones are fetched), and one answer at most. */
export const INLINE_MAX_BYTES = 64 * 1024;
export const INLINE_TOTAL_BYTES = 4 * 1024 * 1024;

/** Reads a file's bytes if it may be sent and holds at most `limit`; else undefined. */
export type SmallFileReader = (fileUri: string, limit: number) => Promise<Uint8Array | undefined>;

/** A reader for files inside `roots` (absolute paths, as the webview's localResourceRoots). */
export function readerWithin(roots: readonly string[]): SmallFileReader {
  let resolved: Promise<string[]> | undefined;
  return async (fileUri, limit) => {
    try {
      const real = await fs.realpath(fileURLToPath(fileUri));
      resolved ??= Promise.all(roots.map((r) => fs.realpath(r).catch(() => r)));
      const realRoots = await resolved;
      if (!isUnderRoots(pathToFileURL(real).href, realRoots)) return undefined;
      const info = await fs.stat(real);
      if (!info.isFile() || info.size > limit) return undefined;
      const data = await fs.readFile(real);
      return data.byteLength <= limit ? data : undefined;
    } catch {
      return undefined; // missing, unreadable: fetched, and the panel says why
    }
  };
}

interface FileLike {
  role?: unknown;
  uri?: unknown;
  bytes?: unknown;
  exists?: unknown;
  data?: unknown;
}

/**
 * Attaches `data` to the small existing images of a `dvcstage/items` `result` (in place; its
 * URIs still `file://`). Other methods and shapes are left alone.
 */
export async function inlineImages(method: string, result: unknown, read: SmallFileReader): Promise<void> {
  if (method !== ITEMS || typeof result !== "object" || result === null) return;
  const items = (result as { items?: unknown }).items;
  if (!Array.isArray(items)) return;
  let budget = INLINE_TOTAL_BYTES;
  const wanted: FileLike[] = [];
  for (const answer of items) {
    const files = (answer as { result?: { files?: unknown } } | null)?.result?.files;
    if (!Array.isArray(files)) continue;
    for (const file of files as FileLike[]) {
      if (typeof file !== "object" || file === null || file.role !== "image" || file.exists !== true) continue;
      if (typeof file.uri !== "string" || !file.uri.startsWith("file://")) continue;
      if (typeof file.bytes !== "number" || file.bytes > Math.min(INLINE_MAX_BYTES, budget)) continue;
      budget -= file.bytes;
      wanted.push(file);
    }
  }
  const contents = await Promise.all(wanted.map((f) => read(f.uri as string, INLINE_MAX_BYTES)));
  let total = 0;
  wanted.forEach((file, i) => {
    const data = contents[i];
    if (!data || total + data.byteLength > INLINE_TOTAL_BYTES) return;
    total += data.byteLength;
    file.data = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("base64");
  });
}
