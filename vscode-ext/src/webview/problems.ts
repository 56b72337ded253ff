// Problems with an item's files, shown as a badge on its cell: the file, and what is wrong
// with it -- missing (not on disk, or not in the revision), undecodable, an invalid sidecar.
import { el } from "./dom";
import { icon } from "./icons";
import type { ItemResult } from "./loader";

export type ProblemKind = "missing" | "undecodable" | "invalid-sidecar" | "unreadable";

export interface Problem {
  kind: ProblemKind;
  /** The file, relative to the run folder. */
  file: string;
  message: string;
}

const TITLES: Record<ProblemKind, string> = {
  missing: "missing file",
  undecodable: "cannot be decoded",
  "invalid-sidecar": "invalid sidecar",
  unreadable: "cannot be read",
};

/** An error that carries a problem (a file that cannot be shown). */
export class ProblemError extends Error {
  constructor(readonly problem: Problem) {
    super(`${TITLES[problem.kind]}: ${problem.file}: ${problem.message}`);
  }
}

export function problemBadge(problem: Problem): HTMLElement {
  return el(
    "div",
    { class: "problem", role: "alert", "data-problem": problem.kind, title: `${problem.file}: ${problem.message}` },
    icon("warning", 13),
    el("strong", {}, TITLES[problem.kind]),
    el("code", {}, problem.file),
    el("span", { class: "problem-text" }, problem.message),
  );
}

/** Badges for some problems (at most `max`, then a count). */
export function problemList(problems: readonly Problem[], max = 3): HTMLElement {
  const box = el("div", { class: "problems" }, ...problems.slice(0, max).map(problemBadge));
  if (problems.length > max) box.append(el("div", { class: "note" }, `${problems.length - max} more problems`));
  return box;
}

function sidecarPath(item: ItemResult): string {
  return item.files.find((f) => f.role === "sidecar")?.path ?? "sidecar";
}

/**
 * What the language server said about an item: files it lists that are not there, and its
 * `problems` (a sidecar that is not JSON, a path outside the workspace, a file a revision
 * lacks). `primary` is the role of the file the cell shows (image, audio, ...).
 */
export function itemProblems(item: ItemResult): Problem[] {
  const out: Problem[] = [];
  for (const f of item.files) {
    if (!f.exists) out.push({ kind: "missing", file: f.path, message: f.role === "mask" ? "the mask file is not there" : "not on disk (not pulled, or deleted)" });
  }
  for (const link of item.links) {
    if (!link.exists && !out.some((p) => link.uri.endsWith(p.file))) out.push({ kind: "missing", file: link.pointer.replace(/^\//, "").replace(/\//g, "."), message: "a file the sidecar names is not there" });
  }
  for (const text of item.problems) {
    const sidecar = /^sidecar: (.*)$/.exec(text);
    if (sidecar) out.push({ kind: "invalid-sidecar", file: sidecarPath(item), message: sidecar[1] ?? text });
    else {
      const missing = /^(.+?): not in revision (\w+)$/.exec(text);
      if (missing) {
        if (!out.some((p) => p.file === missing[1])) out.push({ kind: "missing", file: missing[1] ?? "", message: `not in revision ${missing[2]}` });
      } else {
        const at = text.indexOf(": ");
        out.push({ kind: "unreadable", file: at > 0 ? text.slice(0, at) : "item", message: at > 0 ? text.slice(at + 2) : text });
      }
    }
  }
  return out;
}

/** The problem of a file that the page could not load or decode. */
export function loadProblem(file: string, err: unknown, decoding: boolean): Problem {
  const text = err instanceof Error ? err.message : String(err);
  if (/HTTP 404|not found/i.test(text)) return { kind: "missing", file, message: "not on disk (not pulled, or deleted)" };
  if (decoding) return { kind: "undecodable", file, message: "the browser cannot decode it (corrupt or not an image)" };
  return { kind: "unreadable", file, message: text };
}
