// Draws what a slider move brings in, in as few frames as possible. Every frame in which some
// image changes costs Chromium the compositing of every canvas on the page (a few ms with 30
// image cells), so images that arrive one by one after a move are held until the move's last
// one is in, and then drawn together at once (not a frame later); a move whose loads take
// longer than `holdMs` draws what it has, and the rest as it comes (at most one frame's worth
// at a time). An answer for a step that is no longer wanted (the slider moved on meanwhile) is
// dropped, never drawn over a newer step. Pure: the frame clock and the time are passed in (unit-tested).

/** What a move waits for at most before it draws the images that are in. */
export const HOLD_MS = 150;

export interface FrameClock {
  /** Calls `fn` before the next frame is drawn (requestAnimationFrame). */
  frame(fn: () => void): void;
  now(): number;
}

const browserClock: FrameClock = {
  frame: (fn) => void requestAnimationFrame(() => fn()),
  now: () => performance.now(),
};

export class FramePresenter {
  /** Loads of the current move not settled yet. */
  private waiting = 0;
  private generation = 0;
  private since = -Infinity;
  private ready: (() => void)[] = [];
  private scheduled = false;
  /** Frames in which something was drawn, and answers dropped as stale (read by tests). */
  frames = 0;
  stale = 0;

  constructor(
    private readonly clock: FrameClock = browserClock,
    private readonly holdMs = HOLD_MS,
  ) {}

  /** A slider move: what is waited for from now on belongs to it. */
  moved(): void {
    this.generation++;
    this.waiting = 0;
    this.since = this.clock.now();
  }

  /**
   * Waits for `promise`; then, in the frame that draws this move's images, `draw`s its value
   * (or hands its error to `fail`) if `wanted()` still says so then.
   */
  wait<T>(promise: Promise<T>, wanted: () => boolean, draw: (value: T) => void, fail: (error: unknown) => void): void {
    const generation = this.generation;
    this.waiting++;
    const settle = (job: () => void): void => {
      const last = generation === this.generation && --this.waiting === 0;
      this.ready.push(() => {
        if (wanted()) job();
        else this.stale++;
      });
      if (last) this.flush(true);
      else this.schedule();
    };
    promise.then(
      (value) => settle(() => draw(value)),
      (error: unknown) => settle(() => fail(error)),
    );
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    this.clock.frame(() => this.flush());
  }

  /** Draws what is ready (`all`: the move's last load just came, so its images are drawn at
   * once, in the frame being prepared, rather than a frame later). */
  private flush(all = false): void {
    if (!all) this.scheduled = false;
    if (!this.ready.length) return;
    if (!all && this.waiting > 0 && this.clock.now() - this.since < this.holdMs) {
      this.schedule(); // more of this move is coming: wait for it
      return;
    }
    this.frames++;
    for (const job of this.ready.splice(0)) job();
  }
}
