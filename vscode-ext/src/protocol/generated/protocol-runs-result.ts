// Generated from schemas/protocol-runs-result.schema.json by scripts/gen-types.mjs (npm run gen-types). Do not edit.

/**
 * Every run the server knows. This slice knows the runs in the workspace folders (each folder holding a media.jsonl); git revisions and DVC experiments come later with kind commit | experiment.
 */
export interface DvcstageRunsResult {
  runs: Run[];
}
export interface Run {
  /**
   * A run id from dvcstage/runs (workspace:<dir> for a run in the workspace).
   */
  id: string;
  /**
   * A readable name: the run's folder.
   */
  label: string;
  /**
   * 'workspace' for the working tree; later a commit sha or an experiment name.
   */
  revision: string;
  kind: "workspace" | "commit" | "experiment";
  /**
   * The highest step in the index; null for an empty index.
   */
  lastStep: number | null;
  /**
   * The run folder, POSIX, relative to its workspace folder ('.' for the folder itself).
   */
  dir: string;
  /**
   * The workspace folder holding the run.
   */
  folder: string;
  /**
   * Number of items (distinct key, step, item).
   */
  items: number;
}
