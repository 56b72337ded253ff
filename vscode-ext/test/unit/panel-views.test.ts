import assert from "node:assert/strict";
import { test } from "node:test";
import { sortRows, visibleRows } from "../../src/webview/views/table";
import { boxEdges, samplePoints, MAX_POINTS } from "../../src/webview/views/object3d";
import { HTML_SANDBOX, LOGGED_HTML_CSP, withNonce, withPolicy } from "../../src/webview/views/html";
import { rampColor } from "../../src/webview/views/histogram";
import { textColorOn } from "../../src/webview/colors";

test("table rows sort by numbers, text and media; empty cells last either way", () => {
  const media = { _type: "image" as const, path: "b.png", files: ["b.png"] };
  const rows = [[3, "b"], [null, "a"], [1, "c"], [2, null], [10, media]];
  assert.deepEqual(sortRows(rows, undefined), [0, 1, 2, 3, 4]);
  assert.deepEqual(sortRows(rows, { column: 0, dir: 1 }), [2, 3, 0, 4, 1]);
  assert.deepEqual(sortRows(rows, { column: 0, dir: -1 }), [4, 0, 3, 2, 1]);
  assert.deepEqual(sortRows(rows, { column: 1, dir: 1 }), [1, 0, 2, 4, 3]);
  assert.deepEqual(sortRows([["x10"], ["x9"]], { column: 0, dir: 1 }), [1, 0]); // numeric collation
});

test("only the rows in view (plus a margin) are rendered", () => {
  assert.deepEqual(visibleRows(0, 280, 28, 400, 0), [0, 10]);
  assert.deepEqual(visibleRows(2800, 280, 28, 400, 2), [98, 112]);
  assert.deepEqual(visibleRows(100000, 280, 28, 400, 2), [3569, 400].map((v, i) => (i === 0 ? Math.max(0, Math.floor(100000 / 28) - 2) : v)) as [number, number]);
});

test("point clouds above 300,000 points are sampled evenly", () => {
  assert.equal(MAX_POINTS, 300_000);
  assert.deepEqual(samplePoints(1000), { indices: undefined, drawn: 1000 });
  const { indices, drawn } = samplePoints(10, 4);
  assert.equal(drawn, 4);
  assert.deepEqual([...(indices ?? [])], [0, 2, 5, 7]);
});

test("a 3D box's 12 edges from its corners in any order", () => {
  const corners = [[0, 0, 0], [2, 0, 0], [0, 1, 0], [2, 1, 0], [0, 0, 3], [2, 0, 3], [0, 1, 3], [2, 1, 3]];
  const shuffled = [5, 2, 7, 0, 3, 6, 1, 4].map((i) => corners[i] as number[]);
  const edges = boxEdges(shuffled);
  assert.equal(edges.length, 12);
  for (const [a, b] of edges) {
    const diff = (shuffled[a] as number[]).filter((v, k) => v !== (shuffled[b] as number[])[k]).length;
    assert.equal(diff, 1, "an edge changes one coordinate");
  }
});

test("logged HTML: inline scripts and styles get the nonce, scripts with src do not", () => {
  assert.equal(HTML_SANDBOX, "allow-scripts");
  const html = '<style>a{}</style><script>x()</script><SCRIPT type="module">y()</SCRIPT><script src="https://x/y.js"></script><script nonce="z">w()</script>';
  const meta = `<meta http-equiv="Content-Security-Policy" content="${LOGGED_HTML_CSP}">`;
  assert.equal(
    withNonce(html, "N"),
    meta +
      '<style nonce="N">a{}</style><script nonce="N">x()</script><SCRIPT nonce="N" type="module">y()</SCRIPT><script src="https://x/y.js"></script><script nonce="z">w()</script>',
  );
  assert.equal(withNonce(html, undefined), meta + html);
  // the policy comes first, but after a doctype (which keeps the page out of quirks mode)
  assert.equal(withPolicy("<!DOCTYPE html>\n<p>x</p>"), `<!DOCTYPE html>${meta}\n<p>x</p>`);
  assert.doesNotMatch(LOGGED_HTML_CSP, /https?:|\*|'self'/);
});

test("colour helpers", () => {
  assert.deepEqual(rampColor(0), [68, 1, 84]);
  assert.deepEqual(rampColor(1), [253, 231, 37]);
  assert.equal(textColorOn("#ffe119"), "#000");
  assert.equal(textColorOn("#4363d8"), "#fff");
});
