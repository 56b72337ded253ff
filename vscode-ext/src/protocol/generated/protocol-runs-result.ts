// Generated from schemas/protocol-runs-result.schema.json by scripts/gen-types.mjs (npm run gen-types). Do not edit.

/**
 * Every run the server knows: the runs in the workspace folders (each folder holding a media.jsonl, kind workspace), then the runs committed in git revisions (HEAD, branches, tags: kind commit) and in DVC experiments (kind experiment). Revisions are listed in the background: runs of revisions appear later, announced by dvcstage/changed with new: true. Experiments that exist only on a git remote are listed too, marked with remote, and fetched when first opened.
 */
export interface DvcstageRunsResult {
  runs: Run[];
}
export interface Run {
  /**
   * A run id: workspace:<dir> for a run in the workspace, commit:<short sha>:<dir> for a run committed in a git revision, experiment:<name>:<dir> for a run in a DVC experiment (experiment:<name>@<short sha>:<dir> when two experiments share a name).
   */
  id: string;
  /**
   * A readable name: the run's folder; for revisions the ref names (branches, tags, HEAD) or the experiment's name, then ': <dir>'.
   */
  label: string;
  /**
   * 'workspace' for the working tree; otherwise the full commit sha (of the experiment's commit for experiments).
   */
  revision: string;
  /**
   * workspace: the working tree; commit: a git revision; experiment: a DVC experiment.
   */
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
  /**
   * Revisions only: the names pointing at the commit (HEAD, branch and tag names, or the experiment's name).
   */
  refs?: string[];
  /**
   * Revisions only: the commit time (Unix seconds).
   */
  time?: number;
  /**
   * Experiments only: the full sha of the commit the experiment was run from.
   */
  baseline?: string;
  /**
   * Experiments only, and only while the experiment exists on a git remote but not in the local repository (listed with git ls-remote, as dvc exp list <remote> does, without fetching): the remote's name (or its URL without credentials). Such a run's index is not known yet: lastStep is null, items 0, no time; its dir is a guess. The first dvcstage/media, /item or /series request for it fetches the experiment's ref (as dvc exp pull does for git); the run is then announced with reset: true and listed without remote.
   */
  remote?: string;
}
