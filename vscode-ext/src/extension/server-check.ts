// Checks that the chosen Python can run the language server before starting it, so that a
// missing `dvcstage` becomes a message saying how to install it rather than a crashed client.
// No `vscode` import: unit-tested with real processes.
import { execFile } from "node:child_process";
import { formatCommand, type PythonCommand } from "./interpreter";

export type ServerCheck =
  | { ok: true; cacheDirOption: boolean }
  | { ok: false; reason: "not-found" | "missing-module" | "timeout" | "failed"; detail: string };

/**
 * Runs `python -m dvcstage_lsp --help`: it proves the server imports, and its options say
 * whether this version accepts `--cache-dir`.
 */
export function checkServer(python: PythonCommand, timeoutMs = 20_000): Promise<ServerCheck> {
  return new Promise((resolve) => {
    execFile(
      python.command,
      [...python.args, "-m", "dvcstage_lsp", "--help"],
      { timeout: timeoutMs, windowsHide: true, maxBuffer: 1 << 20 },
      (error, stdout, stderr) => {
        if (!error) {
          resolve({ ok: true, cacheDirOption: /--cache-dir\b/.test(stdout) });
          return;
        }
        const err = error as NodeJS.ErrnoException & { killed?: boolean; signal?: string | null };
        const text = `${stderr}`.trim();
        if (err.code === "ENOENT") resolve({ ok: false, reason: "not-found", detail: err.message });
        else if (err.killed || err.signal === "SIGTERM")
          resolve({ ok: false, reason: "timeout", detail: `no answer within ${Math.round(timeoutMs / 1000)} s` });
        else if (/No module named '?dvcstage_lsp/.test(text) || /No module named '?dvcstage\b/.test(text))
          resolve({ ok: false, reason: "missing-module", detail: lastLine(text) });
        else resolve({ ok: false, reason: "failed", detail: lastLine(text) || err.message });
      },
    );
  });
}

function lastLine(text: string): string {
  const lines = text.split(/\r?\n/).filter((l) => l.trim());
  return lines[lines.length - 1] ?? "";
}

/**
 * The wheel of dvcstage's Python package that ships beside dvcstage.vsix (`scripts/build-wheel
 * --vsix` writes both into dist/; a unit test keeps the version in step with pyproject.toml).
 */
export const WHEEL = "dvcstage-0.1.0-py3-none-any.whl";

/**
 * The command that installs the language server (the `lsp` extra) into the chosen
 * interpreter from the wheel shipped beside the .vsix, run in the wheel's folder.
 */
export function installCommand(python: PythonCommand): string {
  return formatCommand(python, ["-m", "pip", "install", `${WHEEL}[lsp]`]);
}

/** The same from a checkout of dvcstage (its folder given). */
export function checkoutInstallCommand(python: PythonCommand, checkout = "/path/to/dvcstage"): string {
  return formatCommand(python, ["-m", "pip", "install", `${checkout}[lsp]`]);
}

function howToInstall(python: PythonCommand): string {
  return (
    `${installCommand(python)} in the folder of the wheel shipped beside dvcstage.vsix, ` +
    `or from a checkout of dvcstage: ${checkoutInstallCommand(python)}`
  );
}

/** The error message shown when the server cannot start with this interpreter. */
export function checkFailureMessage(python: PythonCommand, check: Exclude<ServerCheck, { ok: true }>): string {
  const where =
    python.source === "setting"
      ? "the dvcstage.pythonPath setting"
      : python.source === "python-extension"
        ? "the Python extension's interpreter"
        : "python3 on PATH (set dvcstage.pythonPath to choose another)";
  const who = `${formatCommand(python)} (${where})`;
  switch (check.reason) {
    case "not-found":
      return `DVC Media: cannot run ${who}: not found. Set dvcstage.pythonPath to a Python that has dvcstage installed.`;
    case "missing-module":
      return `DVC Media: dvcstage is not installed in ${who}. Install it with: ${howToInstall(python)}`;
    case "timeout":
      return `DVC Media: ${who} did not start dvcstage-lsp (${check.detail}).`;
    case "failed":
      return `DVC Media: ${who} cannot start dvcstage-lsp: ${check.detail}. Reinstall it with: ${howToInstall(python)}`;
  }
}
