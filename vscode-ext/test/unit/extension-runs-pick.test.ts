import assert from "node:assert/strict";
import { test } from "node:test";
import { runPickItems, showRunsCommand } from "../../src/extension/runs-pick";
import type { DvcstageRunsResult } from "../../src/protocol/generated/protocol-runs-result";

const runs: DvcstageRunsResult = {
  runs: [
    { id: "workspace:dvclive", label: "dvclive", revision: "workspace", kind: "workspace", lastStep: 3, dir: "dvclive", folder: "file:///w", items: 4 },
    { id: "workspace:b/dvclive", label: "b/dvclive", revision: "workspace", kind: "workspace", lastStep: null, dir: "b/dvclive", folder: "file:///w", items: 0 },
    { id: "experiment:x", label: "x", revision: "abc1234", kind: "experiment", lastStep: 0, dir: "dvclive", folder: "file:///w", items: 1 },
  ],
};

test("one item per run, with its size and last step", () => {
  const items = runPickItems(runs, ["workspace:b/dvclive"]);
  assert.deepEqual(
    items.map((i) => [i.runId, i.label, i.description, i.detail, i.picked]),
    [
      ["workspace:dvclive", "dvclive", "dvclive", "4 items, last step 3", false],
      ["workspace:b/dvclive", "b/dvclive", "b/dvclive", "0 items, no steps yet", true],
      ["experiment:x", "x", "experiment abc1234", "1 item, last step 0", false],
    ],
  );
});

test("with nothing chosen yet every run is picked (the panel shows them all)", () => {
  assert.ok(runPickItems(runs, []).every((i) => i.picked));
});

test("the showRuns command of docs/panel-host.md", () => {
  assert.deepEqual(showRunsCommand(["workspace:dvclive"]), { kind: "command", command: "showRuns", args: { runs: ["workspace:dvclive"] } });
});
