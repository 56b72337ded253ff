// The workspace's pure parts: sections and order, saved layouts, run labels and colours, the
// runs table's sort/filter/group, smoothing, axes, masks composited, boxes' labels and styles,
// problems, the host check of messages.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Run } from "../../src/protocol/generated/protocol-runs-result";
import type { RunSummary } from "../../src/protocol/generated/protocol-summary-result";
import { formatTick, logTicks, niceTicks } from "../../src/webview/axes";
import { boxLabel, groupDash, isTruthGroup, placeLabels, readBoxes, type PixelBox } from "../../src/webview/boxes";
import { assignRunColors, classColor, contrast, PALETTE, RUN_PALETTE } from "../../src/webview/colors";
import { arrangeSections, clampSize, defaultSize, emptyLayout, moveKey, readLayout, sectionOf } from "../../src/webview/layout";
import { compositeMasks } from "../../src/webview/masks";
import { stepFlag, stepFlagTitle } from "../../src/webview/panel";
import { itemProblems, loadProblem } from "../../src/webview/problems";
import { groupRuns, runMatches, shortLabels, sortRuns, summaryColumns } from "../../src/webview/runs";
import { alignSeries, nearestIndex, smooth } from "../../src/webview/smoothing";
import { isFromHost } from "../../src/webview/transport";
import { peaks } from "../../src/webview/views/audio";
import { binAt, countScale, seriesExtent } from "../../src/webview/views/histogram";
import { isFrameHeight, MAX_HTML_HEIGHT } from "../../src/webview/views/html";
import { filterRows, groupRows } from "../../src/webview/views/table";

test("keys fall into sections by prefix; images come first, then the user's order", () => {
  assert.equal(sectionOf("val/pred"), "val");
  assert.equal(sectionOf("loss"), "");
  assert.equal(sectionOf("/odd"), "");
  const specs = [
    { key: "val/voice", kind: "audio" },
    { key: "val/loss", kind: "metric" },
    { key: "val/pred", kind: "image" },
    { key: "train/loss", kind: "metric" },
    { key: "loss", kind: "metric" },
    { key: "val/grads", kind: "histogram" },
  ];
  const layout = emptyLayout();
  const sections = arrangeSections(specs, layout);
  assert.deepEqual(sections.map((s) => s.name), ["train", "val", ""]);
  assert.deepEqual(sections[1]?.panels.map((p) => p.key), ["val/pred", "val/loss", "val/grads", "val/voice"]);
  layout.order.val = moveKey(["val/pred", "val/loss", "val/grads", "val/voice"], "val/voice", "val/pred");
  assert.deepEqual(arrangeSections(specs, layout)[1]?.panels.map((p) => p.key), ["val/voice", "val/pred", "val/loss", "val/grads"]);
  assert.deepEqual(moveKey(["a", "b", "c"], "a", undefined), ["b", "c", "a"]);
});

test("a saved layout is read back member by member; sizes are clamped", () => {
  const read = readLayout({ v: 1, collapsed: ["val", 3], sizes: { a: { span: 9, height: 5 }, b: "x" }, colors: { r: 2, s: -1 }, smoothing: 2, step: null, runSort: { column: "param:lr", dir: -1 }, extra: true });
  assert.deepEqual(read.collapsed, ["val"]);
  assert.deepEqual(read.sizes, { a: { span: 4, height: 120 } });
  assert.deepEqual(read.colors, { r: 2 });
  assert.equal(read.smoothing, 0.6);
  assert.equal(read.step, null);
  assert.deepEqual(read.runSort, { column: "param:lr", dir: -1 });
  assert.deepEqual(readLayout("nonsense"), emptyLayout());
  assert.deepEqual(clampSize({ span: 0, height: 5000 }), { span: 1, height: 1200 });
  assert.equal(defaultSize("image").span, 2);
});

function run(id: string, kind: Run["kind"], dir: string, refs?: string[]): Run {
  return { id, kind, dir, label: `${refs?.join(", ") ?? dir}: ${dir}`, revision: kind === "workspace" ? "workspace" : "a1b2c3d4e5f6", lastStep: 3, folder: "file:///w", items: 1, ...(refs ? { refs } : {}) };
}

test("runs get short labels, unique among the runs", () => {
  const runs = [run("workspace:dvclive", "workspace", "dvclive"), run("workspace:runs/b", "workspace", "runs/b"), run("experiment:lr-0.2:dvclive", "experiment", "dvclive", ["lr-0.2"]), run("experiment:lr-0.2:other", "experiment", "other", ["lr-0.2"]), run("commit:a1b2c3d:dvclive", "commit", "dvclive", ["HEAD", "main"])];
  const labels = shortLabels(runs);
  assert.equal(labels.get("experiment:lr-0.2:dvclive"), "lr-0.2 · dvclive");
  assert.equal(labels.get("experiment:lr-0.2:other"), "lr-0.2 · other");
  assert.equal(labels.get("commit:a1b2c3d:dvclive"), "main");
  assert.equal(labels.get("workspace:runs/b"), "runs/b");
  assert.equal(new Set(labels.values()).size, runs.length);
});

test("run colours are stable: a run keeps its colour, a new run takes a free one", () => {
  const first = assignRunColors(["a", "b"], {});
  assert.deepEqual(first, { a: 0, b: 1 });
  assert.deepEqual(assignRunColors(["b", "c"], first), { b: 1, c: 0 });
  assert.deepEqual(assignRunColors(["c", "a", "b"], { a: 0, b: 1, c: 0 }), { c: 0, a: 2, b: 1 });
});

test("every class and run colour reads on white and on a dark background (3:1)", () => {
  for (const c of [...PALETTE, ...RUN_PALETTE]) {
    assert.ok(contrast(c, "#ffffff") >= 3, `${c} on white: ${contrast(c, "#ffffff").toFixed(2)}`);
    assert.ok(contrast(c, "#181a1f") >= 3, `${c} on dark: ${contrast(c, "#181a1f").toFixed(2)}`);
  }
  assert.equal(classColor("car", 3), PALETTE[3]);
  assert.equal(classColor("anything", 3), classColor("else", 3), "by id, not by name");
});

test("the runs table sorts, filters and groups by params and metrics", () => {
  const runs = [run("workspace:a", "workspace", "a"), run("workspace:b", "workspace", "b"), run("workspace:c", "workspace", "c")];
  const s = (id: string, lr: number, loss: number | null): RunSummary => ({ run: id, params: { "train.lr": lr, "train.seed": 0 }, metrics: loss === null ? {} : { loss }, problems: [] });
  const summaries = new Map([["workspace:a", s("workspace:a", 0.1, 0.5)], ["workspace:b", s("workspace:b", 0.01, 0.2)], ["workspace:c", s("workspace:c", 0.1, null)]]);
  const labels = shortLabels(runs);
  const columns = summaryColumns([...summaries.values()]);
  assert.deepEqual(columns.map((c) => `${c.kind}:${c.name}`), ["param:train.lr", "metric:loss", "param:train.seed"]);
  assert.deepEqual(sortRuns(runs, summaries, columns[1], 1, labels).map((r) => r.id), ["workspace:b", "workspace:a", "workspace:c"]);
  assert.deepEqual(sortRuns(runs, summaries, columns[1], -1, labels).map((r) => r.id), ["workspace:a", "workspace:b", "workspace:c"], "missing values last");
  assert.ok(runMatches(runs[0] as Run, summaries.get("workspace:a"), "a", "train.lr=0.1"));
  assert.ok(!runMatches(runs[1] as Run, summaries.get("workspace:b"), "b", "train.lr=0.1"));
  assert.ok(runMatches(runs[1] as Run, summaries.get("workspace:b"), "b", "loss<0.3"));
  assert.ok(!runMatches(runs[2] as Run, summaries.get("workspace:c"), "c", "loss<0.3"));
  assert.deepEqual(groupRuns(runs, summaries, "train.lr").map((g) => [g.value, g.runs.length]), [["0.1", 2], ["0.01", 1]]);
});

test("smoothing is TensorBoard's debiased moving average; series align on steps", () => {
  assert.deepEqual(smooth([1, 1, 1], 0.9), [1, 1, 1]);
  const s = smooth([0, 10, null, 10], 0.5) as number[];
  assert.equal(s[0], 0);
  assert.ok(Math.abs((s[1] as number) - 20 / 3) < 1e-9);
  assert.equal(s[2], null);
  assert.deepEqual(smooth([1, 2], 0), [1, 2]);
  const { x, ys } = alignSeries([{ steps: [0, 2], values: [1, 3] }, { steps: [1, 2], values: [5, 6] }]);
  assert.deepEqual(x, [0, 1, 2]);
  assert.deepEqual(ys, [[1, null, 3], [null, 5, 6]]);
  assert.equal(nearestIndex([0, 10, 20], 14), 1);
  assert.equal(nearestIndex([0, 10, 20], 16), 2);
});

test("axes: round ticks, log ticks, short labels", () => {
  assert.deepEqual(niceTicks(0, 1, 5), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(niceTicks(-2.4, 2.4, 4), [-2, 0, 2]);
  assert.deepEqual(logTicks(1, 1000), [1, 10, 100, 1000]);
  assert.equal(formatTick(12000), "12k");
  assert.equal(formatTick(0.00002), "2.0e-5");
});

test("histograms: one extent for a series, log counts, the bin under a value", () => {
  const series = [{ step: 0, bins: [{ low: -1, high: 0, count: 3 }, { low: 0, high: 1, count: 100 }] }, { step: 1, bins: [{ low: 0, high: 2, count: 7 }] }];
  assert.deepEqual(seriesExtent(series), { lo: -1, hi: 2, max: 100 });
  assert.equal(countScale(100, 100, false), 1);
  assert.ok(countScale(3, 100, true) > 0.3 && countScale(3, 100, false) < 0.05, "log counts lift small bins");
  assert.equal(binAt(series[0]!, 0.5)?.count, 100);
  assert.equal(binAt(series[0]!, 5), undefined);
});

test("two masks at 0.5 leave half the picture, not a quarter", () => {
  const a = { map: { width: 2, height: 1, ids: new Uint16Array([1, 0]) }, labels: { "1": "cat" }, opacity: 0.5, hidden: new Set<number>() };
  const b = { map: { width: 2, height: 1, ids: new Uint16Array([2, 0]) }, labels: { "2": "dog" }, opacity: 0.5, hidden: new Set<number>() };
  const out = compositeMasks([a, b], 2, 1);
  assert.equal(out[3], 128, "alpha is the largest opacity (0.5), not 0.75");
  const [ca, cb] = [classColor("cat", 1), classColor("dog", 2)].map((h) => parseInt(h.slice(1, 3), 16));
  assert.ok(Math.abs((out[0] as number) - ((ca as number) + (cb as number)) / 2) <= 1, "the colours mix");
  assert.equal(out[7], 0, "background stays clear");
  assert.equal(compositeMasks([{ ...a, hidden: new Set([1]) }], 2, 1)[3], 0, "a hidden class is clear");
});

test("box labels carry the score once; truth is solid, predictions dashed; labels do not overlap", () => {
  const box = (caption: string | undefined, score: number | undefined): PixelBox => ({ group: "p", label: "person", classId: 0, x0: 0, y0: 0, x1: 1, y1: 1, score, scores: {}, caption });
  assert.equal(boxLabel(box("person 0.87", 0.87)), "person 0.87");
  assert.equal(boxLabel(box("person", 0.87)), "person 0.87");
  assert.equal(boxLabel(box(undefined, undefined)), "person");
  assert.ok(isTruthGroup("ground_truth") && isTruthGroup("GT") && !isTruthGroup("predictions"));
  assert.deepEqual(groupDash("ground_truth", ["ground_truth", "predictions"]), []);
  assert.ok(groupDash("predictions", ["ground_truth", "predictions"]).length > 0);
  assert.deepEqual(groupDash("predictions", ["predictions"]), [], "one group: solid");
  const spots = placeLabels([{ box: { x: 10, y: 30, w: 50, h: 40 }, w: 40, h: 15 }, { box: { x: 12, y: 31, w: 50, h: 40 }, w: 40, h: 15 }, { box: { x: 11, y: 30, w: 50, h: 40 }, w: 40, h: 15 }], { w: 200, h: 200 });
  const placed = spots.filter((s) => s !== undefined);
  assert.equal(placed.length, 3);
  for (let i = 0; i < placed.length; i++) for (let j = i + 1; j < placed.length; j++) {
    const [p, q] = [placed[i]!, placed[j]!];
    assert.ok(!(p.x < q.x + q.w && q.x < p.x + p.w && p.y < q.y + q.h && q.y < p.y + p.h), "labels overlap");
  }
});

test("malformed boxes are named, not drawn", () => {
  const { boxes, problems } = readBoxes({ boxes: { p: { box_data: [{ position: { minX: 0, maxX: "x", minY: 0, maxY: 1 }, class_id: 1 }, { position: { minX: 0, maxX: 1, minY: 0, maxY: 1 }, class_id: 1 }], class_labels: {} } } } as never, 10, 10);
  assert.equal(boxes.length, 1);
  assert.match(problems[0] ?? "", /boxes\.p\.box_data\[0\]: position\.maxX is "x"/);
});

test("problems: missing files, invalid sidecars, files a revision lacks", () => {
  const item = {
    run: "r", key: "k", step: 1, kind: "image",
    files: [{ role: "image", path: "plots/images/k/1.png", uri: "u", bytes: 1, exists: false }, { role: "sidecar", path: "plots/images/k/1.json", uri: "s", bytes: 1, exists: true }],
    sidecar: null, links: [], problems: ["sidecar: not JSON: Expecting value: line 1 column 1 (char 0)", "media/x.wav: not in revision abc1234"],
  };
  const found = itemProblems(item);
  assert.deepEqual(found.map((p) => [p.kind, p.file]), [["missing", "plots/images/k/1.png"], ["invalid-sidecar", "plots/images/k/1.json"], ["missing", "media/x.wav"]]);
  assert.equal(loadProblem("a.sdf", new Error("/files/w0/a.sdf: HTTP 404"), false).kind, "missing");
  assert.equal(loadProblem("a.png", new Error("decode"), true).kind, "undecodable");
});

test("a cell says which step it shows when that is not the one selected", () => {
  assert.equal(stepFlag(10, 10), "");
  assert.equal(stepFlag(10, 15), "shows step 10");
  assert.equal(stepFlagTitle(10, 15), "No step 15 in this run: step 10 is the nearest before it");
  assert.equal(stepFlagTitle(2, 0), "No step 0 in this run: step 2 is its first");
});

test("only the host's messages reach the VS Code transport", () => {
  const host = { frames: [] } as unknown as Window; // VS Code's outer frame (window.parent is hidden)
  const nested = { frames: [] } as unknown as Window;
  const logged = { frames: [nested] } as unknown as Window; // logged HTML, and a frame inside it
  const win = { frames: [logged] } as unknown as Window;
  assert.ok(isFromHost({ source: host, origin: "vscode-webview://x" }, win));
  assert.ok(!isFromHost({ source: logged, origin: "vscode-webview://x" }, win), "a frame of the page");
  assert.ok(!isFromHost({ source: nested, origin: "vscode-webview://x" }, win), "a frame inside it");
  assert.ok(!isFromHost({ source: host, origin: "null" }, win), "an opaque origin");
  assert.ok(!isFromHost({ source: win, origin: "vscode-webview://x" }, win), "the page itself");
  assert.ok(!isFromHost({ source: null, origin: "vscode-webview://x" }, win));
});

test("logged HTML reports only its own height, bounded", () => {
  const frame = { contentWindow: {} } as HTMLIFrameElement;
  assert.equal(isFrameHeight({ source: frame.contentWindow, data: { dvcstageHtmlHeight: 333.2 } }, frame), 334);
  assert.equal(isFrameHeight({ source: frame.contentWindow, data: { dvcstageHtmlHeight: 1e6 } }, frame), MAX_HTML_HEIGHT);
  assert.equal(isFrameHeight({ source: {} as Window, data: { dvcstageHtmlHeight: 100 } }, frame), undefined);
  assert.equal(isFrameHeight({ source: frame.contentWindow, data: { kind: "command" } }, frame), undefined);
});

test("tables filter by column text and by class, and group by a column", () => {
  const rows = [[1, "cat", null], [2, "dog", null], [3, "cat", null]];
  assert.deepEqual(filterRows(rows, { text: "CAT", column: 1, cls: "" }, () => undefined), [0, 2]);
  assert.deepEqual(filterRows(rows, { text: "2", column: -1, cls: "" }, () => undefined), [1]);
  const classes = new Map([[1, new Set(["bird"])]]);
  assert.deepEqual(filterRows(rows, { text: "", column: -1, cls: "bird" }, (r) => classes.get(r)), [1]);
  assert.deepEqual(groupRows(rows, [0, 1, 2], 1), [{ group: "cat", count: 2 }, { row: 0 }, { row: 2 }, { group: "dog", count: 1 }, { row: 1 }]);
});

test("waveform peaks", () => {
  const { min, max } = peaks(new Float32Array([0, 1, -1, 0.5]), 2);
  assert.deepEqual([...min], [0, -1]);
  assert.deepEqual([...max], [1, 0.5]);
});
