// The webview bridge, without VS Code: which panel messages are forwarded to the language
// server, how answers and errors are shaped, and how `file://` URIs become URLs the webview
// may load (docs/panel-host.md). extension's media-view.ts supplies the real transport.
import { fileURLToPath } from "node:url";
import { isAbsolute, relative, sep } from "node:path";

export const METHOD_PREFIX = "dvcstage/";

/** JSON-RPC error codes the host itself produces (the server's own codes pass through). */
export const ErrorCode = {
  MethodNotFound: -32601,
  InvalidRequest: -32600,
  InternalError: -32603,
  /** The language server is not running (dvcstage missing, crashed, or stopped). */
  ServerNotRunning: -32099,
} as const;

export interface PanelRequest {
  kind: "request";
  id: number | string;
  method: string;
  params?: unknown;
}

export interface ResponseError {
  code: number;
  message: string;
  data?: unknown;
}

export type HostMessage =
  | { kind: "response"; id: number | string; result: unknown }
  | { kind: "response"; id: number | string; error: ResponseError }
  | { kind: "notification"; method: string; params: unknown }
  | { kind: "command"; command: string; args: unknown };

/** A panel message we understand, or undefined (ignored). */
export function parsePanelMessage(raw: unknown): PanelRequest | undefined {
  if (typeof raw !== "object" || raw === null) return undefined;
  const msg = raw as Record<string, unknown>;
  if (msg.kind !== "request") return undefined;
  const id = msg.id;
  if (typeof id !== "number" && typeof id !== "string") return undefined;
  if (typeof msg.method !== "string") return undefined;
  return { kind: "request", id, method: msg.method, params: msg.params };
}

/** Turns a `file://` URI into a URL the page can load, or undefined to leave it as it is. */
export type UriConverter = (fileUri: string) => string | undefined;

/**
 * A copy of `value` where the value of every `uri` key that holds a `file://` URI is
 * replaced by `convert(uri)` (kept when `convert` returns undefined).
 */
export function rewriteFileUris<T>(value: T, convert: UriConverter): T {
  return rewrite(value, convert, 0) as T;
}

function rewrite(value: unknown, convert: UriConverter, depth: number): unknown {
  if (depth > 64 || typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) return value.map((v) => rewrite(v, convert, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (key === "uri" && typeof v === "string" && v.startsWith("file://")) {
      out[key] = convert(v) ?? v;
    } else {
      out[key] = rewrite(v, convert, depth + 1);
    }
  }
  return out;
}

/** Whether a `file://` URI names a file inside one of `roots` (absolute paths). */
export function isUnderRoots(fileUri: string, roots: readonly string[]): boolean {
  let path: string;
  try {
    path = fileURLToPath(fileUri);
  } catch {
    return false;
  }
  return roots.some((root) => {
    const rel = relative(root, path);
    return rel === "" || (!rel.startsWith(`..${sep}`) && rel !== ".." && !isAbsolute(rel));
  });
}

/** Sends a request to the language server; rejects with the server's error. */
export type RequestSender = (method: string, params: unknown) => Promise<unknown>;

/** Attaches what the host sends inside an answer (small images: inline.ts), in place. */
export type AnswerFiller = (method: string, result: unknown) => Promise<void>;

/** Answers one panel request: forwards `dvcstage/*` methods and rewrites URIs in the result
 * (after `fill`, which sees the server's `file://` URIs). */
export async function answerRequest(
  request: PanelRequest,
  send: RequestSender,
  convert: UriConverter,
  fill?: AnswerFiller,
): Promise<HostMessage> {
  const { id, method } = request;
  if (!method.startsWith(METHOD_PREFIX)) {
    return { kind: "response", id, error: { code: ErrorCode.MethodNotFound, message: `method not forwarded: ${method}` } };
  }
  try {
    const result = await send(method, request.params ?? null);
    if (fill) await fill(method, result);
    return { kind: "response", id, result: rewriteFileUris(result ?? null, convert) };
  } catch (err) {
    return { kind: "response", id, error: toResponseError(err) };
  }
}

/** A JSON-RPC error from whatever `send` threw (a vscode-jsonrpc ResponseError has code/message/data). */
export function toResponseError(err: unknown): ResponseError {
  if (typeof err === "object" && err !== null) {
    const e = err as { code?: unknown; message?: unknown; data?: unknown };
    const message = typeof e.message === "string" ? e.message : String(err);
    if (typeof e.code === "number") {
      return e.data === undefined ? { code: e.code, message } : { code: e.code, message, data: e.data };
    }
    return { code: ErrorCode.InternalError, message };
  }
  return { code: ErrorCode.InternalError, message: String(err) };
}

/** The host → panel notification for a server notification. */
export function notificationMessage(method: string, params: unknown, convert: UriConverter): HostMessage {
  return { kind: "notification", method, params: rewriteFileUris(params ?? null, convert) };
}

/** `{run, key}` from the `dvcstage.openMedia` code lens argument, or undefined. */
export function openMediaArgs(arg: unknown): { run: string; key: string } | undefined {
  if (typeof arg !== "object" || arg === null) return undefined;
  const { run, key } = arg as Record<string, unknown>;
  return typeof run === "string" && typeof key === "string" ? { run, key } : undefined;
}

/** Most bytes of panel layout the host keeps (the panel's own limit is far below). */
export const MAX_STATE_BYTES = 1024 * 1024;

/** The layout of a `{"kind": "saveState", "state": {...}}` panel message, as JSON text; else undefined. */
export function parseSaveState(raw: unknown): string | undefined {
  if (typeof raw !== "object" || raw === null) return undefined;
  const msg = raw as Record<string, unknown>;
  if (msg.kind !== "saveState" || typeof msg.state !== "object" || msg.state === null || Array.isArray(msg.state)) return undefined;
  const text = JSON.stringify(msg.state);
  return text.length <= MAX_STATE_BYTES ? text : undefined;
}
