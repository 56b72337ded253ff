import assert from "node:assert/strict";
import { test } from "node:test";
import {
  answerRequest,
  isUnderRoots,
  notificationMessage,
  openMediaArgs,
  parsePanelMessage,
  rewriteFileUris,
  type UriConverter,
} from "../../src/extension/bridge";

/** A stand-in for webview.asWebviewUri. */
const fakeWebview: UriConverter = (uri) => uri.replace("file://", "https://file+.vscode-resource.vscode-cdn.net");

test("every uri key holding a file:// URI is rewritten, at any depth; nothing else is", () => {
  const result = {
    run: "workspace:dvclive",
    uri: "file:///w/dvclive/a.png",
    folder: "file:///w",
    files: [
      { role: "image", path: "plots/images/pred/1.png", uri: "file:///w/dvclive/plots/images/pred/1.png" },
      { role: "sidecar", uri: "https://example.com/x.json" },
      { uri: 42 },
    ],
    links: [{ pointer: "/masks/truth/path", uri: "file:///w/m.png", nested: [[{ uri: "file:///w/deep.png" }]] }],
    sidecar: { caption: "file:///not-a-uri-key", uris: ["file:///w/list.png"] },
    nothing: null,
  };
  const before = structuredClone(result);
  const out = rewriteFileUris(result, fakeWebview);
  assert.deepEqual(result, before, "the input is not changed");
  assert.equal(out.uri, "https://file+.vscode-resource.vscode-cdn.net/w/dvclive/a.png");
  assert.equal(out.folder, "file:///w");
  assert.equal(out.files[0]?.uri, "https://file+.vscode-resource.vscode-cdn.net/w/dvclive/plots/images/pred/1.png");
  assert.equal(out.files[1]?.uri, "https://example.com/x.json");
  assert.equal(out.files[2]?.uri, 42);
  assert.equal(out.links[0]?.uri, "https://file+.vscode-resource.vscode-cdn.net/w/m.png");
  assert.equal(out.links[0]?.nested[0]?.[0]?.uri, "https://file+.vscode-resource.vscode-cdn.net/w/deep.png");
  assert.equal(out.sidecar.caption, "file:///not-a-uri-key");
  assert.deepEqual(out.sidecar.uris, ["file:///w/list.png"]);
  assert.equal(out.nothing, null);
});

test("a converter that declines leaves the URI as it is", () => {
  const out = rewriteFileUris({ uri: "file:///etc/passwd" }, () => undefined);
  assert.equal(out.uri, "file:///etc/passwd");
});

test("isUnderRoots: inside, the root itself, siblings with a common prefix, traversal, non-file URIs", () => {
  const roots = ["/w/project", "/cache/lsp-cache"];
  assert.equal(isUnderRoots("file:///w/project/dvclive/plots/a.png", roots), true);
  assert.equal(isUnderRoots("file:///cache/lsp-cache/x/y.png", roots), true);
  assert.equal(isUnderRoots("file:///w/project", roots), true);
  assert.equal(isUnderRoots("file:///w/project2/a.png", roots), false);
  assert.equal(isUnderRoots("file:///w/project/../secret.png", roots), false);
  assert.equal(isUnderRoots("file:///w/project/%2E%2E/secret.png", roots), false);
  assert.equal(isUnderRoots("file:///w/project/with%20space.png", roots), true);
  assert.equal(isUnderRoots("file:///etc/passwd", roots), false);
  assert.equal(isUnderRoots("https://example.com/a.png", roots), false);
  assert.equal(isUnderRoots("file:///w/project/a.png", []), false);
});

test("parsePanelMessage accepts requests only", () => {
  assert.deepEqual(parsePanelMessage({ kind: "request", id: 1, method: "dvcstage/runs", params: {} }), {
    kind: "request",
    id: 1,
    method: "dvcstage/runs",
    params: {},
  });
  assert.equal(parsePanelMessage({ kind: "request", id: 1 }), undefined);
  assert.equal(parsePanelMessage({ kind: "request", id: null, method: "dvcstage/runs" }), undefined);
  assert.equal(parsePanelMessage({ kind: "response", id: 1, result: {} }), undefined);
  assert.equal(parsePanelMessage("dvcstage/runs"), undefined);
  assert.equal(parsePanelMessage(null), undefined);
});

test("answerRequest forwards dvcstage/* methods and rewrites the result", async () => {
  const sent: [string, unknown][] = [];
  const send = async (method: string, params: unknown) => {
    sent.push([method, params]);
    return { run: "workspace:r", files: [{ uri: "file:///w/r/1.png" }] };
  };
  const answer = await answerRequest({ kind: "request", id: 7, method: "dvcstage/item", params: { run: "workspace:r", key: "pred", step: 1 } }, send, fakeWebview);
  assert.deepEqual(sent, [["dvcstage/item", { run: "workspace:r", key: "pred", step: 1 }]]);
  assert.deepEqual(answer, {
    kind: "response",
    id: 7,
    result: { run: "workspace:r", files: [{ uri: "https://file+.vscode-resource.vscode-cdn.net/w/r/1.png" }] },
  });
  const noParams = await answerRequest({ kind: "request", id: "a", method: "dvcstage/runs" }, send, fakeWebview);
  assert.equal(sent[1]?.[1], null, "missing params are sent as null");
  assert.equal(noParams.kind === "response" && noParams.id, "a");
});

test("answerRequest refuses other methods with -32601 and never calls the server", async () => {
  let called = false;
  const send = async () => {
    called = true;
    return null;
  };
  for (const method of ["textDocument/hover", "shutdown", "exit", "dvcstage", "workspace/executeCommand"]) {
    const answer = await answerRequest({ kind: "request", id: 1, method }, send, fakeWebview);
    assert.ok(answer.kind === "response" && "error" in answer && answer.error.code === -32601, method);
  }
  assert.equal(called, false);
});

test("answerRequest passes the server's errors through", async () => {
  const serverError = Object.assign(new Error("unknown run: workspace:nope"), { code: -32001, data: { run: "workspace:nope" } });
  const answer = await answerRequest({ kind: "request", id: 3, method: "dvcstage/media", params: { run: "workspace:nope" } }, async () => {
    throw serverError;
  }, fakeWebview);
  assert.deepEqual(answer, { kind: "response", id: 3, error: { code: -32001, message: "unknown run: workspace:nope", data: { run: "workspace:nope" } } });
  const plain = await answerRequest({ kind: "request", id: 4, method: "dvcstage/runs" }, async () => {
    throw new Error("connection closed");
  }, fakeWebview);
  assert.deepEqual(plain, { kind: "response", id: 4, error: { code: -32603, message: "connection closed" } });
  const notRunning = await answerRequest({ kind: "request", id: 5, method: "dvcstage/runs" }, async () => {
    throw { code: -32099, message: "dvcstage is not installed" };
  }, fakeWebview);
  assert.deepEqual(notRunning, { kind: "response", id: 5, error: { code: -32099, message: "dvcstage is not installed" } });
});

test("notifications keep their params, with URIs rewritten", () => {
  const params = { run: "workspace:r", lastStep: 3, items: [{ key: "pred", step: 3, kind: "image" }], uri: "file:///w/x" };
  assert.deepEqual(notificationMessage("dvcstage/changed", params, fakeWebview), {
    kind: "notification",
    method: "dvcstage/changed",
    params: { ...params, uri: "https://file+.vscode-resource.vscode-cdn.net/w/x" },
  });
});

test("openMediaArgs takes the code lens argument", () => {
  assert.deepEqual(openMediaArgs({ run: "workspace:r", key: "pred", extra: 1 }), { run: "workspace:r", key: "pred" });
  assert.equal(openMediaArgs({ run: "workspace:r" }), undefined);
  assert.equal(openMediaArgs(undefined), undefined);
});

test("the panel's layout is kept only from a well-formed saveState message", async () => {
  const { parseSaveState, MAX_STATE_BYTES } = await import("../../src/extension/bridge");
  assert.equal(parseSaveState({ kind: "saveState", state: { v: 1, columns: ["a"] } }), '{"v":1,"columns":["a"]}');
  assert.equal(parseSaveState({ kind: "saveState", state: [1] }), undefined);
  assert.equal(parseSaveState({ kind: "request", id: 1, method: "dvcstage/runs" }), undefined);
  assert.equal(parseSaveState({ kind: "saveState", state: { big: "x".repeat(MAX_STATE_BYTES) } }), undefined);
});

test("the VS Code host sends small images inside a dvcstage/items answer: real files inside the roots only", async () => {
  const { mkdtempSync, mkdirSync, writeFileSync, symlinkSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const { pathToFileURL } = await import("node:url");
  const { INLINE_MAX_BYTES, inlineImages, readerWithin } = await import("../../src/extension/inline");
  const top = mkdtempSync(join(tmpdir(), "dvcstage-inline-"));
  const ws = join(top, "ws");
  mkdirSync(ws);
  const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);
  writeFileSync(join(ws, "small.png"), png);
  writeFileSync(join(ws, "big.png"), Buffer.alloc(INLINE_MAX_BYTES + 1));
  writeFileSync(join(top, "secret.png"), png);
  symlinkSync(join(top, "secret.png"), join(ws, "out.png")); // inside by name, outside for real
  symlinkSync(join(ws, "small.png"), join(ws, "in.png"));
  const file = (name: string, bytes: number, exists = true) => ({ role: "image", uri: pathToFileURL(join(ws, name)).href, bytes, exists });
  const result = {
    items: [
      { result: { files: [file("small.png", png.length), { role: "sidecar", uri: pathToFileURL(join(ws, "small.png")).href, bytes: 11, exists: true }] } },
      { result: { files: [file("big.png", INLINE_MAX_BYTES + 1)] } },
      { result: { files: [file("big.png", 10)] } }, // the index lies about its size: still refused
      { result: { files: [file("out.png", png.length)] } },
      { result: { files: [file("in.png", png.length)] } },
      { result: { files: [file("gone.png", 5, false)] } },
      { error: { code: -32003, message: "no such step" } },
    ],
  };
  const send = async () => result;
  const answer = await answerRequest({ kind: "request", id: 1, method: "dvcstage/items", params: { items: [] } }, send, fakeWebview, (method, r) => inlineImages(method, r, readerWithin([ws])));
  assert.ok(answer.kind === "response" && "result" in answer);
  const items = (answer.result as { items: { result?: { files: { uri: string; data?: string }[] } }[] }).items;
  const data = items.map((a) => (a.result ? a.result.files.map((f) => f.data) : []));
  assert.deepEqual(data, [[png.toString("base64"), undefined], [undefined], [undefined], [undefined], [png.toString("base64")], [undefined], []]);
  const firstUri = items[0]?.result?.files[0]?.uri ?? "";
  assert.ok(firstUri.startsWith("https://file+.vscode-resource"), "URIs are still rewritten");
  // Other methods are left alone.
  const single = { files: [file("small.png", png.length)] };
  await inlineImages("dvcstage/item", single, readerWithin([ws]));
  assert.equal((single.files[0] as { data?: string }).data, undefined);
});
