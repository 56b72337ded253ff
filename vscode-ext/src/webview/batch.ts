// Items asked for in one task (every cell on screen at a new step, or a wave of loads ahead)
// travel to the host as one `dvcstage/items` request: one round trip through the host and the
// language server instead of one per cell. Each caller still gets its own promise, and its own
// error. Items loaded ahead travel apart from those shown now, after them and in requests of
// AHEAD_BATCH items (about a step of a workspace's cells), so that the host answers what is
// shown first and what is ahead a step at a time. A host whose server does not know
// `dvcstage/items` gets `dvcstage/item` requests.
import type { DvcstageItemParams } from "../protocol/generated/protocol-item-params";
import type { DvcstageItemResult } from "../protocol/generated/protocol-item-result";
import type { DvcstageItemsResult } from "../protocol/generated/protocol-items-result";
import { RequestError, type Transport } from "./transport";

/** Most items in one `dvcstage/items` request (the params schema's maxItems). */
export const MAX_BATCH = 256;
/** Most bytes of params in one request (`dvcstage view` refuses a message over 64 KiB). */
export const MAX_BATCH_BYTES = 32 * 1024;
/** Most items in one request of items loaded ahead. */
export const AHEAD_BATCH = 32;
const METHOD_NOT_FOUND = -32601;
const INTERNAL_ERROR = -32603;

interface Waiting {
  params: DvcstageItemParams;
  resolve(result: DvcstageItemResult): void;
  reject(error: Error): void;
}

export class ItemBatcher {
  private waiting: Waiting[] = [];
  private ahead: Waiting[] = [];
  private scheduled = false;
  /** False once the host answered that it does not know `dvcstage/items`. */
  private batches = true;
  /** Requests sent, by method (read by tests and measurements). */
  readonly sent = { item: 0, items: 0 };

  constructor(private readonly transport: Transport) {}

  /** The item's answer; asked together with every other item asked in the same task (`ahead`:
   * with the other items loaded ahead, after those that are not). */
  request(params: DvcstageItemParams, ahead = false): Promise<DvcstageItemResult> {
    return new Promise((resolve, reject) => {
      (ahead ? this.ahead : this.waiting).push({ params, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        queueMicrotask(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const now = this.waiting;
    const ahead = this.ahead;
    this.waiting = [];
    this.ahead = [];
    this.sendAll(now, MAX_BATCH);
    this.sendAll(ahead, AHEAD_BATCH);
  }

  /** `all` in requests of at most `most` items and MAX_BATCH_BYTES of params. */
  private sendAll(all: Waiting[], most: number): void {
    let group: Waiting[] = [];
    let bytes = 0;
    for (const w of all) {
      const size = JSON.stringify(w.params).length + 1;
      if (group.length && (group.length >= most || bytes + size > MAX_BATCH_BYTES)) {
        void this.send(group);
        group = [];
        bytes = 0;
      }
      group.push(w);
      bytes += size;
    }
    if (group.length) void this.send(group);
  }

  private async send(group: Waiting[]): Promise<void> {
    // One item too goes as dvcstage/items: a host may send small images with its answer.
    if (!this.batches) {
      for (const w of group) this.one(w);
      return;
    }
    let answer: DvcstageItemsResult;
    try {
      this.sent.items++;
      answer = await this.transport.request<DvcstageItemsResult>("dvcstage/items", { items: group.map((w) => w.params) });
    } catch (err) {
      if (err instanceof RequestError && err.code === METHOD_NOT_FOUND) {
        this.batches = false; // an older server: one request per item from now on
        for (const w of group) this.one(w);
      } else {
        const error = err instanceof Error ? err : new Error(String(err));
        for (const w of group) w.reject(error);
      }
      return;
    }
    group.forEach((w, i) => {
      const a = answer.items?.[i];
      if (a && "result" in a) w.resolve(a.result);
      else if (a && "error" in a) w.reject(new RequestError("dvcstage/item", a.error.code, a.error.message));
      else w.reject(new RequestError("dvcstage/items", INTERNAL_ERROR, `no answer for item ${i + 1} of ${group.length}`));
    });
  }

  private one(w: Waiting): void {
    this.sent.item++;
    this.transport.request<DvcstageItemResult>("dvcstage/item", w.params).then(w.resolve, w.reject);
  }
}
