// A small stand-in for `dvcstage view`, for the browser tests (docs/panel-host.md): it runs
// the real language server (`python -m dvcstage_lsp`, JSON-RPC over stdio), serves the page,
// the bundle and the workspace's files, and bridges one WebSocket per page to the server,
// rewriting file:// URIs to /files/<root>/<path>. No dependencies beyond vscode-jsonrpc.
import { spawn, execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, existsSync, mkdtempSync, readFileSync, statSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { dirname, extname, join, resolve, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from "vscode-jsonrpc/node";

const here = dirname(fileURLToPath(import.meta.url));
const extRoot = resolve(here, "..", "..");
const repoRoot = resolve(extRoot, "..");

export function python() {
  if (process.env.DVCSTAGE_PYTHON) return process.env.DVCSTAGE_PYTHON;
  const venv = join(repoRoot, ".venv", "bin", "python");
  return existsSync(venv) ? venv : "python3";
}

/** Logs the test run into a fresh folder; returns the folder and the facts the script printed. */
export function makeWorkspace(dir = mkdtempSync(join(tmpdir(), "dvcstage-panel-")), { bench = false } = {}) {
  const args = [join(here, "make_workspace.py"), dir, ...(bench ? ["--bench"] : [])];
  // cwd: the workspace, so that DVCLive's dvc.yaml lands there and not in the caller's folder
  const out = execFileSync(python(), args, { encoding: "utf8", cwd: dir });
  return { dir, facts: JSON.parse(out.trim().split("\n").pop()) };
}

/** The workspace tests' workspace (make_runs.py): four runs and a broken one; the facts. */
export function makeRuns(dir = mkdtempSync(join(tmpdir(), "dvcstage-runs-")), steps = 10) {
  const out = execFileSync(python(), [join(here, "make_runs.py"), dir, "--steps", String(steps)], { encoding: "utf8", cwd: dir });
  return { dir, facts: JSON.parse(out.trim().split("\n").pop()) };
}

/** Logs `count` more steps of "pred" into a workspace made by makeWorkspace; returns the steps. */
export function logMore(dir, count) {
  const out = execFileSync(python(), [join(here, "make_workspace.py"), dir, "--more", String(count)], { encoding: "utf8", cwd: dir });
  return JSON.parse(out.trim().split("\n").pop()).steps;
}

const TYPES = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".css": "text/css", ".json": "application/json",
  ".png": "image/png", ".jpg": "image/jpeg", ".gif": "image/gif", ".wav": "audio/wav", ".mp4": "video/mp4",
  ".webm": "video/webm", ".tsv": "text/tab-separated-values", ".pdb": "chemical/x-pdb", ".sdf": "chemical/x-mdl-sdfile",
};

function page(host) {
  const nonce = randomBytes(18).toString("base64").replace(/[^A-Za-z0-9]/g, "");
  const csp = [
    "default-src 'none'", "img-src 'self' data: blob:", "media-src 'self' blob:", `script-src 'nonce-${nonce}'`,
    `style-src 'self' 'nonce-${nonce}'`, "font-src 'self'", `connect-src 'self' ws://${host}`, "frame-src 'self' blob:", "worker-src blob:",
  ].join("; ");
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta http-equiv="Content-Security-Policy" content="${csp}">
  <link rel="stylesheet" href="/panel.css">
</head>
<body data-transport="websocket" data-endpoint="/ws">
  <div id="app"></div>
  <script nonce="${nonce}" src="/panel.js"></script>
</body>
</html>
`;
}

// -- a stand-in for VS Code's webview: an outer page (the "extension host") holding the panel
// in an iframe whose acquireVsCodeApi() posts to it, as VS Code's webview does. The outer page
// forwards requests over the WebSocket, posts answers and notifications into the frame, keeps
// getState/setState and records saveState messages (window.__saved).
function vscodeOuterPage(host) {
  const nonce = randomBytes(18).toString("base64").replace(/[^A-Za-z0-9]/g, "");
  const csp = `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src ws://${host}; frame-src 'self'`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="${csp}">
<style nonce="${nonce}">html, body { margin: 0; height: 100%; } iframe { border: 0; width: 100%; height: 100%; display: block; }</style></head>
<body><iframe id="active-frame" src="/vscode-inner"></iframe>
<script nonce="${nonce}">
window.__state = undefined;
window.__saved = [];
window.__fromPanel = [];
const frame = document.getElementById("active-frame");
const ws = new WebSocket("ws://" + location.host + "/ws");
const queue = [];
ws.onopen = () => { for (const m of queue.splice(0)) ws.send(m); };
ws.onmessage = (e) => frame.contentWindow.postMessage(JSON.parse(e.data), location.origin);
window.addEventListener("message", (e) => {
  if (e.source !== frame.contentWindow) return;
  window.__fromPanel.push(e.data);
  if (e.data && e.data.kind === "saveState") { window.__saved.push(e.data.state); return; }
  const text = JSON.stringify(e.data);
  if (ws.readyState === 1) ws.send(text); else queue.push(text);
});
window.hostPost = (message) => frame.contentWindow.postMessage(message, location.origin);
</script></body></html>
`;
}

function vscodeInnerPage() {
  const nonce = randomBytes(18).toString("base64").replace(/[^A-Za-z0-9]/g, "");
  const csp = [
    "default-src 'none'", "img-src 'self' data: blob:", "media-src 'self' blob:", `script-src 'nonce-${nonce}'`,
    `style-src 'self' 'nonce-${nonce}'`, "font-src 'self'", "connect-src 'self'", "frame-src 'self' blob:", "worker-src blob:",
  ].join("; ");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="${csp}">
<link rel="stylesheet" href="/panel.css"></head>
<body data-transport="vscode"><div id="app"></div>
<script nonce="${nonce}">
window.acquireVsCodeApi = () => ({
  postMessage: (m) => parent.postMessage(m, location.origin),
  getState: () => parent.__state,
  setState: (s) => { parent.__state = s; },
});
</script>
<script nonce="${nonce}" src="/panel.js"></script>
</body></html>
`;
}

// -- a minimal WebSocket server (RFC 6455, text frames, no extensions) -----------------------
function acceptWebSocket(req, socket, onText) {
  const key = req.headers["sec-websocket-key"];
  const accept = createHash("sha1").update(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest("base64");
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
  let buffer = Buffer.alloc(0);
  let parts = [];
  socket.on("data", (chunk) => {
    buffer = Buffer.concat([buffer, chunk]);
    for (;;) {
      if (buffer.length < 2) return;
      const fin = buffer[0] & 0x80;
      const opcode = buffer[0] & 0x0f;
      let len = buffer[1] & 0x7f;
      let at = 2;
      if (len === 126) { if (buffer.length < 4) return; len = buffer.readUInt16BE(2); at = 4; }
      else if (len === 127) { if (buffer.length < 10) return; len = Number(buffer.readBigUInt64BE(2)); at = 10; }
      const masked = buffer[1] & 0x80;
      const maskAt = at;
      if (masked) at += 4;
      if (buffer.length < at + len) return;
      const payload = Buffer.from(buffer.subarray(at, at + len));
      if (masked) for (let i = 0; i < len; i++) payload[i] ^= buffer[maskAt + (i % 4)];
      buffer = buffer.subarray(at + len);
      if (opcode === 8) { socket.end(); return; }
      if (opcode === 9) { socket.write(frame(payload, 10)); continue; }
      if (opcode === 1 || opcode === 0) {
        parts.push(payload);
        if (fin) { onText(Buffer.concat(parts).toString("utf8")); parts = []; }
      }
    }
  });
  return { send: (text) => socket.writable && socket.write(frame(Buffer.from(text, "utf8"), 1)), socket };
}

function frame(payload, opcode) {
  const len = payload.length;
  const head = len < 126 ? Buffer.from([0x80 | opcode, len]) : len < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
  if (len >= 126 && len < 65536) { head[0] = 0x80 | opcode; head[1] = 126; head.writeUInt16BE(len, 2); }
  else if (len >= 65536) { head[0] = 0x80 | opcode; head[1] = 127; head.writeBigUInt64BE(BigInt(len), 2); }
  return Buffer.concat([head, payload]);
}

// -- the host -------------------------------------------------------------------------------
export async function startHost({ workspace, port = 0, log = () => {}, cacheDir = mkdtempSync(join(tmpdir(), "dvcstage-lsp-cache-")) }) {
  const roots = { w0: resolve(workspace) };
  roots.cache = cacheDir;
  const server = spawn(python(), ["-m", "dvcstage_lsp", "--cache-dir", cacheDir, "--rescan-interval", "0.5"], {
    cwd: workspace,
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, PYTHONPATH: [join(repoRoot, "lsp"), repoRoot, process.env.PYTHONPATH].filter(Boolean).join(":") },
  });
  let stderr = "";
  server.stderr.on("data", (d) => { stderr = (stderr + d).slice(-4000); log(String(d)); });
  const connection = createMessageConnection(new StreamMessageReader(server.stdout), new StreamMessageWriter(server.stdin));
  const sockets = new Set();
  const toUrl = (value) => rewrite(value, (uri) => {
    const path = fileURLToPath(uri);
    for (const [name, root] of Object.entries(roots)) {
      if (path === root || path.startsWith(root + sep)) {
        return `/files/${name}/` + path.slice(root.length + 1).split(sep).map(encodeURIComponent).join("/");
      }
    }
    return undefined;
  });
  connection.onNotification((method, params) => {
    if (!method.startsWith("dvcstage/")) return;
    const text = JSON.stringify({ kind: "notification", method, params: toUrl(params) });
    for (const s of sockets) s.send(text);
  });
  connection.onRequest(() => null); // client/registerCapability, workspace/codeLens/refresh, ...
  connection.listen();
  await connection.sendRequest("initialize", {
    processId: process.pid,
    rootUri: pathToFileURL(roots.w0).href,
    workspaceFolders: [{ uri: pathToFileURL(roots.w0).href, name: "ws" }],
    capabilities: {},
  });
  connection.sendNotification("initialized", {});

  const http = createServer((req, res) => {
    const url = new URL(req.url, "http://x");
    const send = (status, type, body) => { res.writeHead(status, { "content-type": type, "cache-control": "no-store" }); res.end(body); };
    if (url.pathname === "/favicon.ico") return send(204, "text/plain", "");
    if (url.pathname === "/") return send(200, TYPES[".html"], page(req.headers.host));
    if (url.pathname === "/vscode") return send(200, TYPES[".html"], vscodeOuterPage(req.headers.host));
    if (url.pathname === "/vscode-inner") return send(200, TYPES[".html"], vscodeInnerPage());
    if (url.pathname === "/panel.js" || url.pathname === "/panel.css") {
      return send(200, TYPES[extname(url.pathname)], readFileSync(join(extRoot, "dist", "webview", url.pathname.slice(1))));
    }
    const m = /^\/files\/([a-z0-9]+)\/(.+)$/.exec(url.pathname);
    if (m && roots[m[1]]) {
      const root = roots[m[1]];
      const file = resolve(root, decodeURIComponent(m[2]));
      if (!file.startsWith(root + sep) || !existsSync(file) || !statSync(file).isFile()) return send(404, "text/plain", "not found");
      res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream", "cache-control": "no-store" });
      return createReadStream(file).pipe(res);
    }
    send(404, "text/plain", "not found");
  });
  http.on("upgrade", (req, socket) => {
    if (new URL(req.url, "http://x").pathname !== "/ws") return socket.destroy();
    const ws = acceptWebSocket(req, socket, async (text) => {
      let msg;
      try { msg = JSON.parse(text); } catch { return; }
      if (msg.kind !== "request") return;
      const reply = (body) => ws.send(JSON.stringify({ kind: "response", id: msg.id, ...body }));
      if (typeof msg.method !== "string" || !msg.method.startsWith("dvcstage/")) {
        return reply({ error: { code: -32601, message: `${msg.method} is not forwarded` } });
      }
      try {
        reply({ result: toUrl(await connection.sendRequest(msg.method, msg.params ?? null)) });
      } catch (err) {
        reply({ error: { code: err.code ?? -32603, message: err.message ?? String(err) } });
      }
    });
    sockets.add(ws);
    socket.on("close", () => sockets.delete(ws));
    socket.on("error", () => sockets.delete(ws));
  });
  await new Promise((ok) => http.listen(port, "127.0.0.1", ok));
  const url = `http://127.0.0.1:${http.address().port}/`;
  return {
    url,
    stderr: () => stderr,
    async close() {
      for (const s of sockets) s.socket.destroy();
      http.close();
      try { await Promise.race([connection.sendRequest("shutdown"), new Promise((ok) => setTimeout(ok, 2000))]); connection.sendNotification("exit"); } catch {}
      setTimeout(() => server.kill(), 500).unref();
    },
  };
}

function rewrite(value, convert, depth = 0) {
  if (depth > 64 || typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) return value.map((v) => rewrite(v, convert, depth + 1));
  const out = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = k === "uri" && typeof v === "string" && v.startsWith("file://") ? (convert(v) ?? v) : rewrite(v, convert, depth + 1);
  }
  return out;
}

// `node host.mjs [workspace]`: serve a workspace (a fresh test one by default) for a look by hand.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const workspace = process.argv[2] ?? makeWorkspace().dir;
  const host = await startHost({ workspace, port: Number(process.env.PORT ?? 0) });
  console.log(`${host.url}  (workspace ${workspace})`);
}
