// How the panel talks to its host (docs/panel-host.md): JSON-RPC-shaped requests out,
// responses, notifications and commands in. Two transports, chosen by <body data-transport>:
// VS Code's postMessage and a WebSocket for `dvcstage view`.

export interface RpcError {
  code: number;
  message: string;
}

export type HostMessage =
  | { kind: "response"; id: number; result?: unknown; error?: RpcError }
  | { kind: "notification"; method: string; params: unknown }
  | { kind: "command"; command: string; args: unknown };

export interface Transport {
  request<T>(method: string, params: unknown): Promise<T>;
  onNotification(handler: (method: string, params: unknown) => void): void;
  onCommand(handler: (command: string, args: unknown) => void): void;
  /** Called with a readable message when the connection is lost (websocket only). */
  onStatus(handler: (status: "open" | "closed", detail?: string) => void): void;
}

export class RequestError extends Error {
  constructor(
    readonly method: string,
    readonly code: number,
    message: string,
  ) {
    super(`${method}: ${message} (${code})`);
  }
}

type Send = (message: object) => void;

/** The part both transports share: ids, pending promises and dispatch of incoming messages. */
export class MessageRouter implements Transport {
  private nextId = 1;
  private readonly pending = new Map<number, { method: string; resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly notificationHandlers: ((method: string, params: unknown) => void)[] = [];
  private readonly commandHandlers: ((command: string, args: unknown) => void)[] = [];
  private readonly statusHandlers: ((status: "open" | "closed", detail?: string) => void)[] = [];

  constructor(private send: Send) {}

  setSend(send: Send): void {
    this.send = send;
  }

  request<T>(method: string, params: unknown): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { method, resolve: resolve as (v: unknown) => void, reject });
      try {
        this.send({ kind: "request", id, method, params });
      } catch (err) {
        this.pending.delete(id);
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  }

  /** Feeds one message from the host. Unknown shapes are ignored. */
  receive(raw: unknown): void {
    if (typeof raw !== "object" || raw === null) return;
    const msg = raw as Record<string, unknown>;
    if (msg.kind === "response" && typeof msg.id === "number") {
      const waiter = this.pending.get(msg.id);
      if (!waiter) return;
      this.pending.delete(msg.id);
      const error = msg.error as RpcError | undefined;
      if (error) waiter.reject(new RequestError(waiter.method, error.code, error.message));
      else waiter.resolve(msg.result);
    } else if (msg.kind === "notification" && typeof msg.method === "string") {
      for (const h of this.notificationHandlers) h(msg.method, msg.params);
    } else if (msg.kind === "command" && typeof msg.command === "string") {
      for (const h of this.commandHandlers) h(msg.command, msg.args);
    }
  }

  /** Rejects every pending request (the connection is gone). */
  failAll(message: string): void {
    for (const [id, waiter] of this.pending) {
      this.pending.delete(id);
      waiter.reject(new RequestError(waiter.method, -32099, message));
    }
  }

  status(status: "open" | "closed", detail?: string): void {
    for (const h of this.statusHandlers) h(status, detail);
  }

  onNotification(handler: (method: string, params: unknown) => void): void {
    this.notificationHandlers.push(handler);
  }
  onCommand(handler: (command: string, args: unknown) => void): void {
    this.commandHandlers.push(handler);
  }
  onStatus(handler: (status: "open" | "closed", detail?: string) => void): void {
    this.statusHandlers.push(handler);
  }
}

export interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

/** Whether `source` is a frame inside `win` (at any depth; cross-origin frames included). */
function isInside(source: MessageEventSource, win: Window, depth = 0): boolean {
  if (depth > 8) return false;
  for (let i = 0; i < win.frames.length; i++) {
    const frame = win.frames[i];
    if (!frame) continue;
    if (frame === source || isInside(source, frame, depth + 1)) return true;
  }
  return false;
}

/**
 * Whether a `message` event comes from the extension host. VS Code posts the host's messages
 * from the webview's outer frame (with its own origin) and hides `window.parent` from the page,
 * so the host is told apart by what it is not: never the page itself, never a frame inside the
 * page (logged HTML, sandboxed, posts with the opaque origin "null" -- and so does every frame
 * inside it). Only the outer frame holds the page besides its own frames.
 */
export function isFromHost(event: Pick<MessageEvent, "source" | "origin">, win: Window = window): boolean {
  if (event.origin === "null" || event.source === null || event.source === win) return false;
  return !isInside(event.source, win);
}

export function vscodeTransport(api: VsCodeApi = acquireVsCodeApi()): Transport {
  const router = new MessageRouter((m) => api.postMessage(m));
  window.addEventListener("message", (event: MessageEvent) => {
    if (isFromHost(event)) router.receive(event.data);
  });
  return router;
}

/** One WebSocket, text frames of JSON; reconnects with back-off when the server goes away. */
export function websocketTransport(endpoint: string): Transport {
  const queue: object[] = [];
  let socket: WebSocket | undefined;
  let delay = 250;
  const router = new MessageRouter((m) => {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(m));
    else queue.push(m);
  });
  const url = new URL(endpoint, location.href);
  if (url.protocol === "http:") url.protocol = "ws:";
  if (url.protocol === "https:") url.protocol = "wss:";
  const connect = (): void => {
    const ws = new WebSocket(url.href);
    socket = ws;
    ws.addEventListener("open", () => {
      delay = 250;
      router.status("open");
      for (const m of queue.splice(0)) ws.send(JSON.stringify(m));
    });
    ws.addEventListener("message", (event: MessageEvent) => {
      if (typeof event.data !== "string") return;
      try {
        router.receive(JSON.parse(event.data));
      } catch {
        /* not JSON: ignored */
      }
    });
    ws.addEventListener("close", () => {
      router.failAll("the connection to dvcstage view was lost");
      router.status("closed", "connection lost, reconnecting…");
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 5000);
    });
  };
  connect();
  return router;
}

/** How the panel reaches its host, and where its layout is kept. */
export interface Host {
  transport: Transport;
  /** "vscode" or "websocket". */
  kind: string;
  /** VS Code's webview API (getState/setState), in VS Code only. */
  vscode?: VsCodeApi;
}

/** The host <body data-transport="vscode|websocket" data-endpoint="..."> asks for. */
export function hostFromBody(body: HTMLElement): Host {
  const kind = body.dataset.transport ?? (typeof acquireVsCodeApi === "function" ? "vscode" : "websocket");
  if (kind === "vscode") {
    const api = acquireVsCodeApi();
    return { kind, transport: vscodeTransport(api), vscode: api };
  }
  return { kind: "websocket", transport: websocketTransport(body.dataset.endpoint ?? "/ws") };
}
