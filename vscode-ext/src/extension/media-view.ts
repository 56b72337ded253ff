// The "DVC Media" webview view: serves the panel page, relays panel requests to the language
// server and server notifications to the panel, and delivers host commands (docs/panel-host.md).
import * as vscode from "vscode";
import {
  answerRequest,
  isUnderRoots,
  notificationMessage,
  parsePanelMessage,
  parseSaveState,
  type HostMessage,
  type RequestSender,
  type UriConverter,
} from "./bridge";
import { inlineImages, readerWithin } from "./inline";
import { makeNonce, panelHtml } from "./page";
import { showRunsCommand } from "./runs-pick";

export const VIEW_ID = "dvcstage.media";

export interface MediaViewOptions {
  extensionUri: vscode.Uri;
  /** The language server's cache directory (a localResourceRoot: files it renders may live there). */
  cacheDir: vscode.Uri;
  /** Sends a request to the running language server; rejects when it is not running. */
  send: RequestSender;
  /** Where the panel's layout is kept for the workspace (VS Code's workspace state). */
  layout?: { get(): string | undefined; set(value: string): Thenable<void> | void };
}

export class MediaViewProvider implements vscode.WebviewViewProvider, vscode.Disposable {
  private view: vscode.WebviewView | undefined;
  /** False until the page sends its first message: before that it may not be listening yet. */
  private pageReady = false;
  private pending: HostMessage[] = [];
  /** Re-sent to every new page, so a reload keeps the chosen runs. */
  private stickyCommands = new Map<string, HostMessage>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly options: MediaViewOptions) {}

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    this.disposables.push(
      view.onDidDispose(() => {
        if (this.view === view) this.view = undefined;
        this.pageReady = false;
      }),
      view.webview.onDidReceiveMessage((raw: unknown) => this.onPanelMessage(view, raw)),
    );
    this.render(view);
  }

  /** Reloads the page: the panel starts again and asks for everything anew. */
  reload(): void {
    if (this.view) this.render(this.view);
  }

  /** Posts a message now, or once the page is listening. A `sticky` command is also re-sent after reloads. */
  post(message: HostMessage, sticky = false): void {
    if (sticky && message.kind === "command") this.stickyCommands.set(message.command, message);
    if (this.view && this.pageReady) void this.view.webview.postMessage(message);
    else if (!sticky || message.kind !== "command") this.pending.push(message);
  }

  /** Forwards a server notification (only while a page is open: a new page asks for current state). */
  notify(method: string, params: unknown): void {
    if (!this.view || !this.pageReady) return;
    void this.view.webview.postMessage(notificationMessage(method, params, this.converter(this.view.webview)));
  }

  /** Shows the view (opening its container). */
  async reveal(): Promise<void> {
    await vscode.commands.executeCommand(`${VIEW_ID}.focus`);
  }

  dispose(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
  }

  private render(view: vscode.WebviewView): void {
    this.pageReady = false;
    const webview = view.webview;
    const bundle = vscode.Uri.joinPath(this.options.extensionUri, "dist", "webview");
    webview.options = { enableScripts: true, localResourceRoots: [...this.roots(), bundle] };
    webview.html = panelHtml({
      cspSource: webview.cspSource,
      nonce: makeNonce(),
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(bundle, "panel.js")).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(bundle, "panel.css")).toString(),
      state: this.options.layout?.get(),
    });
  }

  private async onPanelMessage(view: vscode.WebviewView, raw: unknown): Promise<void> {
    if (!this.pageReady) {
      this.pageReady = true;
      const queued = [...this.stickyCommands.values(), ...this.pending.splice(0)];
      for (const message of queued) void view.webview.postMessage(message);
    }
    const layout = parseSaveState(raw);
    if (layout !== undefined) {
      void this.options.layout?.set(layout);
      // The runs chosen in the panel win over an older "Choose Runs" on the next page.
      const columns = (JSON.parse(layout) as { columns?: unknown }).columns;
      if (Array.isArray(columns) && columns.every((c) => typeof c === "string")) this.stickyCommands.set("showRuns", showRunsCommand(columns));
      return;
    }
    const request = parsePanelMessage(raw);
    if (!request) return;
    const read = readerWithin(this.roots().map((u) => u.fsPath));
    const answer = await answerRequest(request, this.options.send, this.converter(view.webview), (method, result) => inlineImages(method, result, read));
    if (this.view === view) void view.webview.postMessage(answer);
  }

  /** Workspace folders and the server's cache: the only places the page may load files from. */
  private roots(): vscode.Uri[] {
    return [...(vscode.workspace.workspaceFolders ?? []).map((f) => f.uri), this.options.cacheDir];
  }

  private converter(webview: vscode.Webview): UriConverter {
    const roots = this.roots().map((u) => u.fsPath);
    return (fileUri) =>
      isUnderRoots(fileUri, roots) ? webview.asWebviewUri(vscode.Uri.parse(fileUri, true)).toString() : undefined;
  }
}
