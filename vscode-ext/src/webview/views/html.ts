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
 * A frame given `srcdoc` inherits the panel's Content-Security-Policy, which allows only
 * scripts and styles carrying the page's nonce (docs/panel-host.md). The logged page's inline
 * `<script>` and `<style>` elements get that nonce so that they work -- inside the sandbox,
 * where it opens nothing of the panel. Scripts with `src` get none: nothing is loaded from the
 * network or from other files.
 */
export function withNonce(html: string, nonce: string | undefined): string {
  if (!nonce) return html;
  return html.replace(/<(script|style)\b([^>]*)>/gi, (tag, name: string, attrs: string) => {
    if (/\bnonce\s*=/i.test(attrs) || (name.toLowerCase() === "script" && /\bsrc\s*=/i.test(attrs))) return tag;
    return `<${name} nonce="${nonce}"${attrs}>`;
  });
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
