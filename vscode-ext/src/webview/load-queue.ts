// The order in which images are fetched and decoded: at most `limit` at once, what is on screen
// before what is loaded ahead, nearest step first. A move of the slider starts a generation;
// a load queued in an earlier one that no cell asked for again is dropped, not fetched (a
// slider dragged across 100 steps does not leave 100 steps of images in the queue). Pure: no
// DOM, unit-tested.

/** When a load was asked for, and how urgent it is: 0 on screen, 1.. loaded ahead (nearest first). */
export interface Ticket {
  generation: number;
  rank: number;
}

/** Rank of what is on screen. */
export const ON_SCREEN = 0;

/** A queued load that no cell wanted any more when its turn came. */
export class DroppedError extends Error {
  constructor() {
    super("dropped: the step moved on before it loaded");
    this.name = "DroppedError";
  }
}

interface Queued {
  ticket: Ticket;
  seq: number;
  start(): void;
  drop(): void;
}

export class LoadQueue {
  /** The current generation (incremented by `next()`, at every move). */
  generation = 0;
  private queued: Queued[] = [];
  private running = 0;
  private seq = 0;
  /** Loads dropped so far (read by tests and measurements). */
  dropped = 0;

  constructor(readonly limit: number) {}

  /** A new generation: what is queued from before is dropped unless claimed again. */
  next(): number {
    return ++this.generation;
  }

  /** A ticket of the current generation. */
  ticket(rank: number): Ticket {
    return { generation: this.generation, rank };
  }

  /** Claims a pending load again for this generation, with the more urgent of the ranks. */
  claim(ticket: Ticket, rank: number): void {
    ticket.rank = ticket.generation === this.generation ? Math.min(ticket.rank, rank) : rank;
    ticket.generation = this.generation;
  }

  /** Runs `job` when its turn comes; rejects with DroppedError if it was dropped. */
  run<T>(ticket: Ticket, job: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queued.push({
        ticket,
        seq: this.seq++,
        start: () => {
          this.running++;
          job()
            .then(resolve, reject)
            .finally(() => {
              this.running--;
              this.pump();
            });
        },
        drop: () => {
          this.dropped++;
          reject(new DroppedError());
        },
      });
      this.pump();
    });
  }

  /** Loads waiting for their turn. */
  get waiting(): number {
    return this.queued.length;
  }

  get active(): number {
    return this.running;
  }

  private pump(): void {
    while (this.queued.length) {
      let best = -1;
      for (let i = 0; i < this.queued.length; i++) {
        const q = this.queued[i] as Queued;
        if (q.ticket.generation < this.generation) {
          this.queued.splice(i--, 1);
          q.drop();
          continue;
        }
        const b = best < 0 ? undefined : (this.queued[best] as Queued);
        if (!b || q.ticket.rank < b.ticket.rank || (q.ticket.rank === b.ticket.rank && q.seq < b.seq)) best = i;
      }
      if (best < 0 || this.running >= this.limit) return;
      const [job] = this.queued.splice(best, 1) as [Queued];
      job.start();
    }
  }
}
