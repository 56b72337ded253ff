// The extension's entry point: starts dvcstage-lsp, hosts the "DVC Media" webview view and
// registers the commands. The logic lives in small modules; those without `vscode` are unit-tested.
import * as vscode from "vscode";
import { openMediaArgs } from "./bridge";
import { MediaViewProvider, VIEW_ID } from "./media-view";
import { runPickItems, showRunsCommand } from "./runs-pick";
import { ServerHost } from "./server";
import type { DvcstageRunsResult } from "../protocol/generated/protocol-runs-result";

const SHOWN_RUNS = "dvcstage.shownRuns";
const PANEL_LAYOUT = "dvcstage.panelLayout";

let server: ServerHost | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel("DVC Media", { log: true });
  const cacheDir = vscode.Uri.joinPath(context.storageUri ?? context.globalStorageUri, "lsp-cache");
  let view: MediaViewProvider | undefined;
  const host = new ServerHost({ cacheDir, output, onChanged: (params) => view?.notify("dvcstage/changed", params) });
  server = host;
  view = new MediaViewProvider({
    extensionUri: context.extensionUri,
    cacheDir,
    send: host.send,
    layout: {
      get: () => context.workspaceState.get<string>(PANEL_LAYOUT),
      set: async (value) => {
        await context.workspaceState.update(PANEL_LAYOUT, value);
        const columns = (JSON.parse(value) as { columns?: unknown }).columns;
        if (Array.isArray(columns)) await context.workspaceState.update(SHOWN_RUNS, columns.filter((c) => typeof c === "string"));
      },
    },
  });

  const shown = context.workspaceState.get<string[]>(SHOWN_RUNS, []);
  if (shown.length > 0) view.post(showRunsCommand(shown), true);

  context.subscriptions.push(
    output,
    view,
    { dispose: () => void host.dispose() },
    vscode.window.registerWebviewViewProvider(VIEW_ID, view, { webviewOptions: { retainContextWhenHidden: true } }),
    vscode.commands.registerCommand("dvcstage.openPanel", () => view?.reveal()),
    vscode.commands.registerCommand("dvcstage.refresh", async () => {
      await host.ensureStarted(); // retries a server that could not start (e.g. dvcstage just installed)
      view?.reload();
    }),
    vscode.commands.registerCommand("dvcstage.chooseRuns", () => chooseRuns(context, host, view)),
    vscode.commands.registerCommand("dvcstage.openMedia", async (arg: unknown) => {
      const args = openMediaArgs(arg);
      if (!args || !view) return;
      await view.reveal();
      view.post({ kind: "command", command: "openMedia", args });
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration("dvcstage.pythonPath")) void host.restart().then(() => view?.reload());
    }),
  );

  void host.ensureStarted();
}

export async function deactivate(): Promise<void> {
  await server?.dispose();
  server = undefined;
}

async function chooseRuns(
  context: vscode.ExtensionContext,
  host: ServerHost,
  view: MediaViewProvider | undefined,
): Promise<void> {
  let result: DvcstageRunsResult;
  try {
    result = (await host.send("dvcstage/runs", null)) as DvcstageRunsResult;
  } catch (err) {
    const message = typeof err === "object" && err !== null && "message" in err ? String(err.message) : String(err);
    void vscode.window.showErrorMessage(message);
    return;
  }
  if (result.runs.length === 0) {
    void vscode.window.showInformationMessage("DVC Media: no dvcstage runs in this workspace yet (no media.jsonl).");
    return;
  }
  const items = runPickItems(result, context.workspaceState.get<string[]>(SHOWN_RUNS, []));
  const picked = await vscode.window.showQuickPick(items, {
    canPickMany: true,
    title: "DVC Media: runs to show",
    placeHolder: "Runs shown side by side in the panel",
    matchOnDescription: true,
  });
  if (!picked || !view) return;
  const runs = picked.map((item) => item.runId);
  await context.workspaceState.update(SHOWN_RUNS, runs);
  await view.reveal();
  view.post(showRunsCommand(runs), true);
}
