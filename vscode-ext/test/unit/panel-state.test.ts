import assert from "node:assert/strict";
import { test } from "node:test";
import { AFTER_JUMP_AHEAD, AFTER_JUMP_BEHIND, loadAheadWindow, MediaState, moveStep, PREFETCH_AHEAD, PREFETCH_AHEAD_MAX, PREFETCH_BEHIND, stepsAhead, stepToShow, unionSteps, defaultColumns } from "../../src/webview/state";
import type { Run } from "../../src/protocol/generated/protocol-runs-result";

const run = (id: string, kind: Run["kind"] = "workspace"): Run => ({ id, label: id, revision: "workspace", kind, lastStep: 2, dir: id, folder: "file:///w", items: 1 });

test("stepToShow picks the latest step at or before the selection, else the first", () => {
  assert.equal(stepToShow([0, 10, 20], 15), 10);
  assert.equal(stepToShow([0, 10, 20], 20), 20);
  assert.equal(stepToShow([5, 10], 2), 5);
  assert.equal(stepToShow([5, 10], null), 10);
  assert.equal(stepToShow([], 3), undefined);
});

test("unionSteps and moveStep", () => {
  assert.deepEqual(unionSteps([[0, 2, 4], [1, 2, 5]]), [0, 1, 2, 4, 5]);
  assert.equal(moveStep([0, 2, 4], 2, 1), 4);
  assert.equal(moveStep([0, 2, 4], 4, 1), 4);
  assert.equal(moveStep([0, 2, 4], null, -1), 2);
  assert.equal(moveStep([0, 2, 4], 3, -1), 0);
});

test("stepsAhead loads further ahead in the direction of the last move, nearest first", () => {
  const steps = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  // forward: next, next+1, previous, next+2, next+3, previous-1, next+4
  assert.deepEqual(stepsAhead(steps, 4, 1, 5, 2), [5, 6, 3, 7, 8, 2, 9]);
  assert.deepEqual(stepsAhead(steps, 4, -1, 3, 1), [3, 2, 5, 1]);
  assert.deepEqual(stepsAhead(steps, 9, 1, 8, 2), [8, 7]); // nothing after the last step
  assert.deepEqual(stepsAhead(steps, 0, -1, 2, 2), [1, 2]);
  assert.deepEqual(stepsAhead([0, 10, 20, 30], 10, 1, 2, 1), [20, 30, 0]); // steps, not numbers
  assert.deepEqual(stepsAhead([0, 10, 20, 30], 15, 1, 1, 1), [20, 10]); // between logged steps
  assert.deepEqual(stepsAhead([], 3, 1, 4, 4), []);
});

test("the state remembers which way the slider moved", () => {
  const s = new MediaState();
  s.setRuns([run("a")]);
  s.setMedia({ run: "a", keys: [{ key: "k", kind: "image", steps: [0, 1, 2, 3] }] });
  assert.equal(s.direction, 1);
  s.setSharedStep(1); // from the latest (3) back to 1
  assert.equal(s.direction, -1);
  s.setSharedStep(2);
  assert.equal(s.direction, 1);
  s.setPanelStep("k", 0);
  assert.equal(s.direction, -1);
  s.setSharedStep(0); // from 2: back
  assert.equal(s.direction, -1);
});

test("moves of a stop or two in one direction reach further ahead; a jump, its neighbours only", () => {
  const s = new MediaState();
  s.setRuns([run("a")]);
  s.setMedia({ run: "a", keys: [{ key: "k", kind: "image", steps: Array.from({ length: 100 }, (_, i) => i * 10) }] });
  assert.deepEqual(s.loadAhead(), { ahead: PREFETCH_AHEAD, behind: PREFETCH_BEHIND }); // before any move
  s.setSharedStep(500); // from the latest (990): a jump
  assert.equal(s.streak, 0);
  assert.deepEqual(s.loadAhead(), { ahead: AFTER_JUMP_AHEAD, behind: AFTER_JUMP_BEHIND });
  s.setSharedStep(510); // the other way, one stop: a streak starts
  assert.deepEqual([s.streak, s.loadAhead().ahead], [1, PREFETCH_AHEAD]);
  s.setSharedStep(530); // two stops (a drag may skip one): it goes on
  s.setSharedStep(540);
  assert.deepEqual([s.streak, s.loadAhead().ahead], [3, PREFETCH_AHEAD + 4]);
  for (let step = 550; step <= 800; step += 10) s.setSharedStep(step);
  assert.deepEqual(s.loadAhead(), { ahead: PREFETCH_AHEAD_MAX, behind: PREFETCH_BEHIND }); // bounded
  s.setSharedStep(790); // turning back: a new streak
  assert.equal(s.streak, 1);
  s.setPanelStep("k", 300); // a panel's own slider counts the same
  assert.equal(s.streak, 0);
  assert.deepEqual(loadAheadWindow(0), { ahead: AFTER_JUMP_AHEAD, behind: AFTER_JUMP_BEHIND });
  assert.deepEqual([1, 2, 5, 9, 100].map((n) => loadAheadWindow(n).ahead), [8, 10, 16, 24, 24]);
});

test("columns default to the workspace runs; toggling adds and removes", () => {
  assert.deepEqual(defaultColumns([run("c", "commit"), run("a"), run("b")]), ["a", "b"]);
  assert.deepEqual(defaultColumns([run("c", "commit")]), ["c"]);
  assert.deepEqual(defaultColumns([{ ...run("r", "experiment"), remote: "origin" }, run("e", "experiment")]), ["e"]); // not fetched unasked
  const s = new MediaState();
  s.setRuns([run("a"), run("e", "experiment")]);
  assert.deepEqual(s.columns, ["a"]);
  s.toggleColumn("e", true);
  assert.deepEqual(s.columns, ["a", "e"]);
  s.toggleColumn("a", false);
  assert.deepEqual(s.columns, ["e"]);
  s.setRuns([run("a")]); // "e" went away
  assert.deepEqual(s.columns, ["a"]);
});

function twoRuns(): MediaState {
  const s = new MediaState();
  s.setRuns([run("a"), run("b")]);
  s.setMedia({ run: "a", keys: [{ key: "pred", kind: "image", steps: [0, 1, 2] }, { key: "w", kind: "histogram", steps: [0, 2] }] });
  s.setMedia({ run: "b", keys: [{ key: "pred", kind: "image", steps: [0, 2, 4] }] });
  return s;
}

test("panels are the union of the columns' keys with their steps", () => {
  const s = twoRuns();
  assert.deepEqual(s.panels(), [
    { key: "pred", kind: "image", steps: [0, 1, 2, 4] },
    { key: "w", kind: "histogram", steps: [0, 2] },
  ]);
  assert.deepEqual(s.allSteps(), [0, 1, 2, 4]);
  assert.equal(s.cellStep("b", "w"), undefined);
});

test("the shared slider moves every panel; a panel slider moves only its panel", () => {
  const s = twoRuns();
  assert.equal(s.cellStep("a", "pred"), 2); // latest of each run
  assert.equal(s.cellStep("b", "pred"), 4);
  s.setSharedStep(1);
  assert.equal(s.cellStep("a", "pred"), 1);
  assert.equal(s.cellStep("b", "pred"), 0);
  assert.equal(s.cellStep("a", "w"), 0);
  s.setPanelStep("w", 2);
  assert.equal(s.cellStep("a", "w"), 2);
  assert.equal(s.cellStep("a", "pred"), 1);
  s.setSharedStep(0); // the shared slider takes every panel back
  assert.equal(s.cellStep("a", "w"), 0);
});

test("follow-live: at the last step, new steps are shown as they arrive", () => {
  const s = twoRuns();
  s.setSharedStep(4);
  assert.equal(s.sharedStep, null);
  const r = s.applyChanged({ run: "b", lastStep: 5, items: [{ key: "pred", step: 5, kind: "image" }] });
  assert.equal(r.requery, false);
  assert.deepEqual(r.written, [{ key: "pred", step: 5 }]);
  assert.equal(s.cellStep("b", "pred"), 5);
  // Not at the end: stays.
  s.setSharedStep(2);
  s.applyChanged({ run: "b", lastStep: 6, items: [{ key: "pred", step: 6, kind: "image" }] });
  assert.equal(s.cellStep("b", "pred"), 2);
  // Follow off: the last step is pinned.
  s.setFollow(false);
  s.setSharedStep(6);
  s.applyChanged({ run: "b", lastStep: 7, items: [{ key: "pred", step: 7, kind: "image" }] });
  assert.equal(s.cellStep("b", "pred"), 6);
});

test("changed: unknown keys, new runs and resets ask for the key list again", () => {
  const s = twoRuns();
  assert.equal(s.applyChanged({ run: "a", lastStep: 3, items: [{ key: "new", step: 3, kind: "audio" }] }).requery, true);
  assert.equal(s.applyChanged({ run: "a", lastStep: 3, items: [], reset: true }).requery, true);
  assert.equal(s.applyChanged({ run: "zzz", lastStep: 3, items: [] }).requery, true);
  s.applyChanged({ run: "a", lastStep: 3, items: [{ key: "pred", step: 3, kind: "image", item: 4 }] });
  assert.deepEqual(s.keyEntry("a", "pred")?.items, [4]);
});
