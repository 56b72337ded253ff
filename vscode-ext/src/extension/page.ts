// The webview's page (docs/panel-host.md): a nonce'd script, the bundled stylesheet and a
// strict Content-Security-Policy; nothing inline, nothing from the network. Pure.
import { randomBytes } from "node:crypto";

export interface PageInput {
  /** `webview.cspSource`. */
  cspSource: string;
  nonce: string;
  /** `asWebviewUri` of dist/webview/panel.js and panel.css. */
  scriptUri: string;
  styleUri: string;
  /** The panel's saved layout (JSON), given back to it in <body data-state>. */
  state?: string;
}

export function makeNonce(): string {
  return randomBytes(18).toString("base64").replace(/[^A-Za-z0-9]/g, "");
}

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  const s = cspSource;
  return [
    "default-src 'none'",
    `img-src ${s} data: blob:`,
    `media-src ${s} blob:`,
    `script-src 'nonce-${nonce}'`,
    `style-src ${s} 'nonce-${nonce}'`,
    `font-src ${s}`,
    `connect-src ${s}`,
    `frame-src ${s} blob:`,
    "worker-src blob:",
  ].join("; ");
}

export function panelHtml(input: PageInput): string {
  const csp = contentSecurityPolicy(input.cspSource, input.nonce);
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta http-equiv="Content-Security-Policy" content="${escapeAttr(csp)}">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <link rel="stylesheet" href="${escapeAttr(input.styleUri)}">
</head>
<body data-transport="vscode"${input.state ? ` data-state="${escapeAttr(input.state)}"` : ""}>
  <div id="app"></div>
  <script nonce="${escapeAttr(input.nonce)}" src="${escapeAttr(input.scriptUri)}"></script>
</body>
</html>
`;
}

function escapeAttr(value: string): string {
  return value.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
