// The "Choose Runs" quick pick, without VS Code: items from a `dvcstage/runs` result and the
// host → panel `showRuns` command. Pure.
import type { DvcstageRunsResult } from "../protocol/generated/protocol-runs-result";

export interface RunPickItem {
  label: string;
  description: string;
  detail: string;
  picked: boolean;
  runId: string;
}

/** One item per run, newest-looking first as the server lists them; `shown` runs are pre-picked. */
export function runPickItems(result: DvcstageRunsResult, shown: readonly string[]): RunPickItem[] {
  const keep = new Set(shown);
  // With nothing chosen yet the panel shows every run, so every run starts picked.
  const all = keep.size === 0;
  return result.runs.map((run) => {
    const steps = run.lastStep === null ? "no steps yet" : `last step ${run.lastStep}`;
    return {
      label: run.label,
      description: run.kind === "workspace" ? run.dir : `${run.kind} ${run.revision}`,
      detail: `${run.items} item${run.items === 1 ? "" : "s"}, ${steps}`,
      picked: all || keep.has(run.id),
      runId: run.id,
    };
  });
}

export function showRunsCommand(runs: readonly string[]): { kind: "command"; command: "showRuns"; args: { runs: string[] } } {
  return { kind: "command", command: "showRuns", args: { runs: [...runs] } };
}
