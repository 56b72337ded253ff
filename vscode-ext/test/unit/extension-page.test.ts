import assert from "node:assert/strict";
import { test } from "node:test";
import { contentSecurityPolicy, makeNonce, panelHtml } from "../../src/extension/page";

const input = {
  cspSource: "https://*.vscode-cdn.net",
  nonce: "abc123",
  scriptUri: "https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview/panel.js",
  styleUri: "https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview/panel.css",
};

test("the CSP is the one docs/panel-host.md gives for VS Code", () => {
  assert.equal(
    contentSecurityPolicy(input.cspSource, "N"),
    "default-src 'none'; img-src https://*.vscode-cdn.net data: blob:; media-src https://*.vscode-cdn.net blob:; " +
      "script-src 'nonce-N'; style-src https://*.vscode-cdn.net 'nonce-N'; font-src https://*.vscode-cdn.net; " +
      "connect-src https://*.vscode-cdn.net; frame-src https://*.vscode-cdn.net blob:; worker-src blob:",
  );
});

test("the page: CSP meta first, the bundle's stylesheet and nonce'd script, nothing inline", () => {
  const html = panelHtml(input);
  const head = html.slice(0, html.indexOf("</head>"));
  assert.ok(head.indexOf('http-equiv="Content-Security-Policy"') < head.indexOf("<link"), "the CSP comes before any resource");
  assert.match(html, /content="default-src 'none'; [^"]*script-src 'nonce-abc123'/);
  assert.match(html, /<link rel="stylesheet" href="https:\/\/file\+\.vscode-resource\.vscode-cdn\.net\/ext\/dist\/webview\/panel\.css">/);
  assert.match(html, /<script nonce="abc123" src="https:\/\/file\+\.vscode-resource\.vscode-cdn\.net\/ext\/dist\/webview\/panel\.js"><\/script>/);
  assert.match(html, /<body data-transport="vscode">\s*<div id="app"><\/div>/);
  assert.equal((html.match(/<script/g) ?? []).length, 1);
  assert.doesNotMatch(html, /<style|\sstyle="|\son\w+="|unsafe-inline|unsafe-eval|http:\/\//);
});

test("attribute values are escaped", () => {
  const html = panelHtml({ ...input, scriptUri: 'x" onload="alert(1)' });
  assert.match(html, /src="x&quot; onload=&quot;alert\(1\)"/);
});

test("nonces are long, distinct and attribute-safe", () => {
  const a = makeNonce();
  const b = makeNonce();
  assert.notEqual(a, b);
  assert.match(a, /^[A-Za-z0-9]{16,}$/);
});

test("the saved layout goes back to the page in <body data-state>, escaped", () => {
  const html = panelHtml({ cspSource: "vscode-resource:", nonce: "abc", scriptUri: "s.js", styleUri: "s.css", state: '{"a":"<x>\\"y"}' });
  assert.match(html, /<body data-transport="vscode" data-state="\{&quot;a&quot;:&quot;&lt;x&gt;\\&quot;y&quot;\}">/);
  assert.doesNotMatch(panelHtml({ cspSource: "c", nonce: "n", scriptUri: "s", styleUri: "t" }), /data-state/);
});
