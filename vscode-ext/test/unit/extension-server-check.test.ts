// checkServer runs real processes: node standing in for Python (its `-e` script ignores the
// `-m dvcstage_lsp --help` that follows `--`), and the repository's venv when it exists.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import type { PythonCommand } from "../../src/extension/interpreter";
import { WHEEL, checkFailureMessage, checkServer, installCommand } from "../../src/extension/server-check";

const node = (script: string): PythonCommand => ({ command: process.execPath, args: ["-e", script, "--"], source: "setting" });

test("a server whose help names --cache-dir", async () => {
  assert.deepEqual(await checkServer(node("console.log('usage: dvcstage-lsp [--cache-dir DIR]')")), { ok: true, cacheDirOption: true });
  assert.deepEqual(await checkServer(node("console.log('usage: dvcstage-lsp [--stdio]')")), { ok: true, cacheDirOption: false });
});

test("a missing module is told apart from other failures", async () => {
  const missing = await checkServer(node("console.error(\"ModuleNotFoundError: No module named 'dvcstage_lsp'\"); process.exit(1)"));
  assert.equal(missing.ok, false);
  assert.equal(!missing.ok && missing.reason, "missing-module");
  const broken = await checkServer(node("console.error('ImportError: cannot import name x'); process.exit(1)"));
  assert.equal(!broken.ok && broken.reason, "failed");
  assert.equal(!broken.ok && broken.detail, "ImportError: cannot import name x");
});

test("an interpreter that does not exist, and one that hangs", async () => {
  const gone = await checkServer({ command: "/nonexistent/python", args: [], source: "setting" });
  assert.equal(!gone.ok && gone.reason, "not-found");
  const hung = await checkServer(node("setTimeout(() => {}, 10000)"), 300);
  assert.equal(!hung.ok && hung.reason, "timeout");
});

test("the message says how to install dvcstage into that interpreter", () => {
  const python: PythonCommand = { command: "/w/.venv/bin/python", args: [], source: "setting" };
  // dvcstage is not on a package index: from the wheel beside the .vsix, or a checkout
  assert.equal(installCommand(python), "/w/.venv/bin/python -m pip install 'dvcstage-0.1.0-py3-none-any.whl[lsp]'");
  const message = checkFailureMessage(python, { ok: false, reason: "missing-module", detail: "No module named 'dvcstage_lsp'" });
  assert.match(message, /dvcstage is not installed in \/w\/.venv\/bin\/python \(the dvcstage.pythonPath setting\)/);
  assert.match(
    message,
    /Install it with: \/w\/.venv\/bin\/python -m pip install 'dvcstage-0\.1\.0-py3-none-any\.whl\[lsp\]' in the folder of the wheel shipped beside dvcstage\.vsix, or from a checkout of dvcstage: \/w\/.venv\/bin\/python -m pip install '\/path\/to\/dvcstage\[lsp\]'$/,
  );
  assert.doesNotMatch(message, /pip install dvcstage\b(?![-\[])/);
  const fallback = checkFailureMessage({ command: "python3", args: [], source: "default" }, { ok: false, reason: "not-found", detail: "" });
  assert.match(fallback, /set dvcstage.pythonPath/);
});

test("the wheel named is this version's", () => {
  const pyproject = readFileSync(join(process.cwd(), "..", "pyproject.toml"), "utf8");
  const version = /^version = "([^"]+)"$/m.exec(pyproject)?.[1];
  assert.equal(WHEEL, `dvcstage-${version}-py3-none-any.whl`);
});

const venvPython = join(process.cwd(), "..", ".venv", "bin", "python");
test("the repository's venv runs the real server", { skip: !existsSync(venvPython) && "no ../.venv" }, async () => {
  const check = await checkServer({ command: venvPython, args: [], source: "setting" });
  assert.equal(check.ok, true, JSON.stringify(check));
});
