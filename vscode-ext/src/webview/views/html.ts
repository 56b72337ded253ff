// Logged HTML in a sandboxed frame: scripts may run, but in an opaque origin (no
// allow-same-origin), so the page cannot reach the panel, its host, cookies or storage.
import type { HTMLSidecar } from "../../protocol/generated/html";
import { el } from "../dom";
import { fetchText, fileUrl } from "../loader";
import { loadProblem, problemBadge } from "../problems";
import { facts, itemCell } from "./audio";
import type { Cell, CellContext } from "./types";

/** Heights a logged page's frame takes: its content's, within these bounds. */
export const MIN_HTML_HEIGHT = 60;
export const MAX_HTML_HEIGHT = 720;

/**
 * A script added at the end of every logged page: it tells the panel the page's height, so
 * that the frame fits its content. The panel reads nothing else from the frame (isFrameHeight).
 */
export const HEIGHT_REPORTER =
  "<script>(function(){var h=-1;function s(){var n=Math.ceil(document.documentElement.scrollHeight);" +
  "if(n!==h){h=n;parent.postMessage({dvcstageHtmlHeight:n},\"*\");}}addEventListener(\"load\",s);" +
  "if(window.ResizeObserver)new ResizeObserver(s).observe(document.documentElement);s();})();</script>";

/** The height a frame reported, if `event` is that frame's report. */
export function isFrameHeight(event: Pick<MessageEvent, "source" | "data">, frame: HTMLIFrameElement): number | undefined {
  if (event.source === null || event.source !== frame.contentWindow) return undefined;
  const h = (event.data as { dvcstageHtmlHeight?: unknown } | null)?.dvcstageHtmlHeight;
  return typeof h === "number" && Number.isFinite(h) ? Math.min(MAX_HTML_HEIGHT, Math.max(MIN_HTML_HEIGHT, Math.ceil(h))) : undefined;
}

/** The sandbox flags of every logged-HTML frame. Never add allow-same-origin. */
export const HTML_SANDBOX = "allow-scripts";

/**
 * The policy put first in every logged page. It is enforced together with the panel's own
 * (a `srcdoc` frame inherits that), so a resource must pass both: inline scripts and styles
 * only, images and media from `data:`/`blob:` only -- no URL at all, even for a script that
 * carries the panel's nonce.
 */
export const LOGGED_HTML_CSP =
  "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; " +
  "img-src data: blob:; media-src data: blob:; font-src data:";

/**
 * A frame given `srcdoc` inherits the panel's Content-Security-Policy, which allows only
 * scripts and styles carrying the page's nonce (docs/panel-host.md). The logged page's inline
 * `<script>` and `<style>` elements get that nonce so that they work -- inside the sandbox,
 * where it opens nothing of the panel. Scripts with `src` get none, and {@link LOGGED_HTML_CSP},
 * added first, refuses every URL: nothing is loaded from the network or from other files.
 */
export function withNonce(html: string, nonce: string | undefined): string {
  const tagged = !nonce
    ? html
    : html.replace(/<(script|style)\b([^>]*)>/gi, (tag, name: string, attrs: string) => {
        if (/\bnonce\s*=/i.test(attrs) || (name.toLowerCase() === "script" && /\bsrc\s*=/i.test(attrs))) return tag;
        return `<${name} nonce="${nonce}"${attrs}>`;
      });
  return withPolicy(tagged);
}

/** `html` with {@link LOGGED_HTML_CSP} as its first element (after a doctype, if any). */
export function withPolicy(html: string): string {
  const meta = `<meta http-equiv="Content-Security-Policy" content="${LOGGED_HTML_CSP}">`;
  const doctype = /^\s*<!doctype[^>]*>/i.exec(html);
  if (!doctype) return meta + html;
  return doctype[0] + meta + html.slice(doctype[0].length);
}

export function htmlCell(ctx: CellContext): Cell {
  const nonce = document.querySelector<HTMLScriptElement>("script[nonce]")?.nonce || undefined;
  let unlisten: (() => void) | undefined;
  const cell = itemCell(ctx, "html", "html", (item) => {
    const side = item.sidecar as HTMLSidecar | null;
    const url = fileUrl(item, "html");
    const frame = el("iframe", { class: "html-frame", sandbox: HTML_SANDBOX, referrerpolicy: "no-referrer", title: `${ctx.key} step ${item.step}` });
    const info = facts([side?.caption, side ? `${side.bytes} bytes` : undefined]);
    unlisten?.();
    const onMessage = (event: MessageEvent): void => {
      const height = isFrameHeight(event, frame);
      if (height === undefined) return;
      frame.style.height = `${height}px`;
      frame.dataset.contentHeight = String(height);
    };
    window.addEventListener("message", onMessage);
    unlisten = () => window.removeEventListener("message", onMessage);
    if (url) {
      fetchText(url).then(
        (text) => (frame.srcdoc = withNonce(text + HEIGHT_REPORTER, nonce)),
        (err: unknown) => info.replaceChildren(problemBadge(loadProblem(item.files.find((f) => f.role === "html")?.path ?? "page", err, false))),
      );
    }
    return [frame, info];
  });
  return { ...cell, dispose: () => unlisten?.() };
}
