// Where the workspace's layout is kept (docs/panel-host.md):
// - VS Code: the webview's own state (getState/setState: kept while the view is hidden and
//   moved) and the workspace's state in the extension host (a `saveState` message; the host
//   gives it back in <body data-state> on the next start);
// - dvcstage view: the language server (`dvcstage/panelState`, a file in its per-workspace
//   cache folder), since the page's origin -- and so its localStorage -- changes with the port.
import type { DvcstagePanelStateResult } from "../protocol/generated/protocol-panelState-result";
import { readLayout, type SavedLayout } from "./layout";
import type { Host } from "./transport";

export interface LayoutStore {
  /** The saved layout, or undefined when there is none. */
  load(): Promise<SavedLayout | undefined>;
  /** Keep `layout` (written at most every SAVE_DELAY_MS). */
  save(layout: SavedLayout): void;
}

export const SAVE_DELAY_MS = 300;

function debounced(write: (layout: SavedLayout) => void): (layout: SavedLayout) => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let latest: SavedLayout | undefined;
  const flush = (): void => {
    timer = undefined;
    if (latest) write(latest);
    latest = undefined;
  };
  addEventListener("pagehide", () => timer !== undefined && (clearTimeout(timer), flush()));
  return (layout) => {
    latest = structuredClone(layout);
    if (timer === undefined) timer = setTimeout(flush, SAVE_DELAY_MS);
  };
}

export function storeFor(host: Host, body: HTMLElement): LayoutStore {
  const api = host.vscode;
  if (api) {
    const write = debounced((layout) => {
      api.setState({ layout });
      api.postMessage({ kind: "saveState", state: layout });
    });
    return {
      async load() {
        const own = api.getState() as { layout?: unknown } | undefined;
        if (own?.layout) return readLayout(own.layout);
        const given = body.dataset.state;
        if (!given) return undefined;
        try {
          return readLayout(JSON.parse(given));
        } catch {
          return undefined;
        }
      },
      save(layout) {
        api.setState({ layout }); // at once: the view may be hidden any moment
        write(layout);
      },
    };
  }
  const write = debounced((layout) => void host.transport.request("dvcstage/panelState", { state: layout }).catch(() => undefined));
  return {
    async load() {
      try {
        const answer = await host.transport.request<DvcstagePanelStateResult>("dvcstage/panelState", {});
        return answer.state ? readLayout(answer.state) : undefined;
      } catch {
        return undefined; // an older server: the layout is not kept
      }
    },
    save: write,
  };
}
