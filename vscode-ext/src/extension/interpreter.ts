// Which Python runs the language server: the `dvcstage.pythonPath` setting, else the Python
// extension's active interpreter (when that extension is installed), else `python3`.
// Pure: no `vscode` import, so the choice is unit-tested without VS Code.

/** A Python invocation: `command ...args -m dvcstage_lsp` (args is non-empty for e.g. `conda run -n env python`). */
export interface PythonCommand {
  command: string;
  args: string[];
  /** Where the choice came from, for messages. */
  source: "setting" | "python-extension" | "default";
}

/** The parts of the Python extension's API (`ms-python.python` exports) that we read. */
export interface PythonExtensionApi {
  environments?: {
    getActiveEnvironmentPath?(resource?: unknown): { id?: string; path?: string } | undefined;
    resolveEnvironment?(
      env: unknown,
    ): Promise<{ executable?: { uri?: { fsPath?: string } | undefined } } | undefined>;
  };
  settings?: {
    getExecutionDetails?(resource?: unknown): { execCommand?: string[] | undefined } | undefined;
  };
}

export interface PythonChoiceInput {
  /** The `dvcstage.pythonPath` setting (may hold `${workspaceFolder}` and a leading `~`). */
  setting?: string | undefined;
  /** The first workspace folder's path, for `${workspaceFolder}` and relative settings. */
  workspaceFolder?: string | undefined;
  homeDir?: string | undefined;
  /** Activates the Python extension and returns its API; undefined when it is not installed. */
  pythonExtension?: (() => Promise<PythonExtensionApi | undefined>) | undefined;
  /** The resource (workspace folder URI) to ask the Python extension about. */
  resource?: unknown;
}

export const DEFAULT_PYTHON = "python3";

/** Expands `${workspaceFolder}`, `${userHome}` and `~`, and resolves a relative path against the workspace. */
export function expandSetting(value: string, workspaceFolder?: string, homeDir?: string): string {
  let out = value.trim();
  if (workspaceFolder !== undefined) out = out.split("${workspaceFolder}").join(workspaceFolder);
  if (homeDir !== undefined) {
    out = out.split("${userHome}").join(homeDir);
    if (out === "~" || out.startsWith("~/")) out = homeDir + out.slice(1);
  }
  // A bare name (`python3.12`) is looked up on PATH; a relative path is relative to the workspace.
  if (workspaceFolder !== undefined && out.includes("/") && !out.startsWith("/") && !/^[A-Za-z]:[\\/]/.test(out)) {
    out = `${workspaceFolder.replace(/\/+$/, "")}/${out.replace(/^\.\//, "")}`;
  }
  return out;
}

/** The interpreter the Python extension has selected, or undefined when it says nothing usable. */
export async function pythonFromExtension(api: PythonExtensionApi, resource?: unknown): Promise<string[] | undefined> {
  const envs = api.environments;
  if (envs?.getActiveEnvironmentPath) {
    const active = envs.getActiveEnvironmentPath(resource);
    if (active) {
      if (envs.resolveEnvironment) {
        try {
          const resolved = await envs.resolveEnvironment(active);
          const exe = resolved?.executable?.uri?.fsPath;
          if (exe) return [exe];
        } catch {
          // Fall through to the unresolved path.
        }
      }
      if (active.path) return [active.path];
    }
  }
  const exec = api.settings?.getExecutionDetails?.(resource)?.execCommand;
  if (exec && exec.length > 0 && exec.every((part) => typeof part === "string" && part.length > 0)) return exec;
  return undefined;
}

export async function choosePython(input: PythonChoiceInput): Promise<PythonCommand> {
  const setting = input.setting?.trim();
  if (setting) {
    return { command: expandSetting(setting, input.workspaceFolder, input.homeDir), args: [], source: "setting" };
  }
  if (input.pythonExtension) {
    try {
      const api = await input.pythonExtension();
      const exec = api ? await pythonFromExtension(api, input.resource) : undefined;
      if (exec) {
        const [command, ...args] = exec;
        if (command) return { command, args, source: "python-extension" };
      }
    } catch {
      // The Python extension failed to activate: use the default.
    }
  }
  return { command: DEFAULT_PYTHON, args: [], source: "default" };
}

/** The command line as a user would type it (for messages). */
export function formatCommand(python: PythonCommand, extra: string[] = []): string {
  return [python.command, ...python.args, ...extra].map(shellQuote).join(" ");
}

function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
