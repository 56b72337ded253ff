// Logged HTML in a sandboxed frame: scripts may run, but in an opaque origin (no
// allow-same-origin), so the page cannot reach the panel, its host, cookies or storage.
import type { HTMLSidecar } from "../../protocol/generated/html";
import { el } from "../dom";
import { fetchText, fileUrl } from "../loader";
import { itemCell } from "./audio";
import { errorText, type Cell, type CellContext } from "./types";

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
  return itemCell(ctx, "html", (item) => {
    const side = item.sidecar as HTMLSidecar | null;
    const url = fileUrl(item, "html");
    const frame = el("iframe", { class: "html-frame", sandbox: HTML_SANDBOX, referrerpolicy: "no-referrer", title: `${ctx.key} step ${item.step}` });
    const info = el("div", { class: "facts" }, [side?.caption, `step ${item.step}`, side ? `${side.bytes} bytes` : undefined].filter(Boolean).join(" · "));
    if (url) {
      fetchText(url).then(
        (text) => (frame.srcdoc = withNonce(text, nonce)),
        (err: unknown) => info.replaceChildren(el("span", { class: "error" }, errorText(err))),
      );
    }
    return [frame, info];
  });
}
