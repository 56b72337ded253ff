// Starts dvcstage-lsp with the chosen Python through vscode-languageclient, after checking that
// the interpreter can import it; restarts it when the setting changes.
import * as os from "node:os";
import * as vscode from "vscode";
import { LanguageClient, State, type LanguageClientOptions, type ServerOptions } from "vscode-languageclient/node";
import { ErrorCode } from "./bridge";
import { choosePython, formatCommand, type PythonCommand, type PythonExtensionApi } from "./interpreter";
import { checkFailureMessage, checkServer, installCommand } from "./server-check";

export const CHANGED = "dvcstage/changed";

export interface ServerHostOptions {
  cacheDir: vscode.Uri;
  output: vscode.LogOutputChannel;
  onChanged: (params: unknown) => void;
}

export class ServerHost implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private starting: Promise<LanguageClient | undefined> | undefined;
  private lastError = "dvcstage-lsp has not started yet";

  constructor(private readonly options: ServerHostOptions) {}

  /** The running client, starting it if needed; undefined when it cannot start (the user was told why). */
  ensureStarted(): Promise<LanguageClient | undefined> {
    if (this.client && this.client.state === State.Running) return Promise.resolve(this.client);
    this.starting ??= this.start().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.ensureStarted();
  }

  /** Sends a request to the server; rejects with a JSON-RPC-shaped error when it is not running. */
  readonly send = async (method: string, params: unknown): Promise<unknown> => {
    const client = await this.ensureStarted();
    if (!client) throw { code: ErrorCode.ServerNotRunning, message: this.lastError };
    // vscode-jsonrpc would send a lone `null` as positional params (`[null]`), and pygls cannot
    // read a request without params: send `{}`, which every dvcstage/* params schema accepts for "none".
    return client.sendRequest(method, params === null || params === undefined ? {} : params);
  };

  async dispose(): Promise<void> {
    await this.stop();
  }

  private async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) {
      try {
        await client.stop(5000);
      } catch (err) {
        this.options.output.appendLine(`stopping dvcstage-lsp: ${String(err)}`);
      }
      await client.dispose();
    }
  }

  private async start(): Promise<LanguageClient | undefined> {
    const python = await resolvePython();
    const check = await checkServer(python);
    const shown = formatCommand(python);
    if (!check.ok) {
      const message = checkFailureMessage(python, check);
      this.lastError = message;
      this.options.output.appendLine(`${message} (${check.detail})`);
      void showStartError(message, check.reason === "missing-module" || check.reason === "failed" ? installCommand(python) : undefined);
      return undefined;
    }
    const args = [...python.args, "-m", "dvcstage_lsp"];
    if (check.cacheDirOption) {
      await vscode.workspace.fs.createDirectory(this.options.cacheDir);
      args.push("--cache-dir", this.options.cacheDir.fsPath);
    }
    this.options.output.appendLine(`starting ${formatCommand({ ...python, args })} (${python.source})`);
    const serverOptions: ServerOptions = { command: python.command, args, options: { env: { ...process.env } } };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [
        { scheme: "file", language: "python" },
        { scheme: "file", language: "json" },
        { scheme: "file", language: "jsonl" },
        { scheme: "file", pattern: "**/*.jsonl" },
        { scheme: "file", language: "yaml" },
      ],
      outputChannel: this.options.output,
    };
    const client = new LanguageClient("dvcstage", "DVC Media (dvcstage-lsp)", serverOptions, clientOptions);
    client.onNotification(CHANGED, (params: unknown) => this.options.onChanged(params));
    try {
      await client.start();
    } catch (err) {
      this.lastError = `DVC Media: dvcstage-lsp failed to start with ${shown}: ${String(err)}`;
      void showStartError(this.lastError, undefined);
      return undefined;
    }
    this.client = client;
    return client;
  }
}

async function resolvePython(): Promise<PythonCommand> {
  const folder = vscode.workspace.workspaceFolders?.[0];
  const setting = vscode.workspace.getConfiguration("dvcstage", folder?.uri).get<string>("pythonPath");
  return choosePython({
    setting,
    workspaceFolder: folder?.uri.fsPath,
    homeDir: os.homedir(),
    resource: folder?.uri,
    pythonExtension: async () => {
      const ext = vscode.extensions.getExtension<PythonExtensionApi>("ms-python.python");
      if (!ext) return undefined;
      return ext.isActive ? ext.exports : await ext.activate();
    },
  });
}

async function showStartError(message: string, install: string | undefined): Promise<void> {
  const OPEN = "Open Settings";
  const COPY = "Copy Install Command";
  const choice = await vscode.window.showErrorMessage(message, ...(install ? [COPY, OPEN] : [OPEN]));
  if (choice === OPEN) await vscode.commands.executeCommand("workbench.action.openSettings", "dvcstage.pythonPath");
  if (choice === COPY && install) await vscode.env.clipboard.writeText(install);
}
