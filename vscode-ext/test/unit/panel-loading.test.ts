// The order in which a slider move loads and draws: one dvcstage/items request per task, image
// loads on screen first and nearest step next, loads of an old move dropped, answers for a step
// no longer wanted never drawn, and a move's images drawn together. No DOM: the frame clock and
// the host are stand-ins that the tests step by hand (the browser tests drive the real thing).
import assert from "node:assert/strict";
import { test } from "node:test";
import { AHEAD_BATCH, ItemBatcher, MAX_BATCH, MAX_BATCH_BYTES } from "../../src/webview/batch";
import { DroppedError, LoadQueue, ON_SCREEN } from "../../src/webview/load-queue";
import { MediaLoader, PREFETCH_CHUNK, PREFETCH_CHUNK_SETTLED, PREFETCH_WAVE } from "../../src/webview/loader";
import { FramePresenter, type FrameClock } from "../../src/webview/present";
import { RequestError, type Transport } from "../../src/webview/transport";

/** A promise with its resolve and reject. */
function deferred<T>(): { promise: Promise<T>; resolve(v: T): void; reject(e: unknown): void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((ok, fail) => ((resolve = ok), (reject = fail)));
  return { promise, resolve, reject };
}

/** Lets every pending promise callback run. */
const settle = () => new Promise<void>((ok) => setImmediate(ok));

interface Sent {
  method: string;
  params: unknown;
  answer: ReturnType<typeof deferred<unknown>>;
}

/** A host that records requests and answers them when told. */
function host(): { transport: Transport; sent: Sent[] } {
  const sent: Sent[] = [];
  const transport: Transport = {
    request<T>(method: string, params: unknown): Promise<T> {
      const answer = deferred<unknown>();
      sent.push({ method, params, answer });
      return answer.promise as Promise<T>;
    },
    onNotification() {},
    onCommand() {},
    onStatus() {},
  };
  return { transport, sent };
}

const item = (step: number) => ({ run: "r", key: "k", step });
const result = (step: number) => ({ ...item(step), kind: "image", files: [], sidecar: null, links: [], problems: [] });

test("items asked in one task travel as one dvcstage/items request; each gets its own answer or error", async () => {
  const { transport, sent } = host();
  const batcher = new ItemBatcher(transport);
  const answers = [1, 2, 3].map((s) => batcher.request(item(s)).then((r) => r.step, (e: RequestError) => `${e.code}`));
  await settle();
  assert.equal(sent.length, 1);
  assert.equal(sent[0]?.method, "dvcstage/items");
  assert.deepEqual(sent[0]?.params, { items: [item(1), item(2), item(3)] });
  sent[0]?.answer.resolve({ items: [{ result: result(1) }, { error: { code: -32003, message: "no step 2" } }, { result: result(3) }] });
  assert.deepEqual(await Promise.all(answers), [1, "-32003", 3]);
  // a later task: a request of its own (a single item too: the host may send its image with it)
  const single = batcher.request(item(4));
  await settle();
  assert.deepEqual([sent[1]?.method, sent[1]?.params], ["dvcstage/items", { items: [item(4)] }]);
  sent[1]?.answer.resolve({ items: [{ result: result(4) }] });
  assert.equal((await single).step, 4);
  assert.deepEqual(batcher.sent, { item: 0, items: 2 });
});

test("items loaded ahead travel after those shown, in requests of AHEAD_BATCH items", async () => {
  const { transport, sent } = host();
  const batcher = new ItemBatcher(transport);
  const ahead = Array.from({ length: AHEAD_BATCH + 3 }, (_, i) => batcher.request(item(100 + i), true));
  const shown = [1, 2].map((s) => batcher.request(item(s)));
  await settle();
  const steps = sent.map((s) => (s.params as { items: { step: number }[] }).items.map((i) => i.step));
  assert.deepEqual(steps[0], [1, 2], "what is shown goes first, alone");
  assert.deepEqual(steps.slice(1).map((s) => s.length), [AHEAD_BATCH, 3]);
  assert.deepEqual(steps.slice(1).flat(), Array.from({ length: AHEAD_BATCH + 3 }, (_, i) => 100 + i));
  sent.forEach((s, i) => s.answer.resolve({ items: steps[i]?.map((step) => ({ result: result(step) })) }));
  assert.deepEqual((await Promise.all([...shown, ...ahead])).map((r) => r.step), [1, 2, ...steps.slice(1).flat()]);
});

test("loads ahead go a request's worth at a time: two requests in flight while scrubbing, one of half that otherwise", async () => {
  const { transport, sent } = host();
  const loader = new MediaLoader(transport);
  const sizes = () => sent.map((s) => (s.params as { items: unknown[] }).items.length);
  // Answers without an image file: each load ahead ends (as a problem) once its item is in.
  const answer = async (i: number) => {
    const items = (sent[i]?.params as { items: { step: number }[] }).items;
    sent[i]?.answer.resolve({ items: items.map((it) => ({ result: result(it.step) })) });
    await settle();
  };
  loader.moved(true);
  for (let i = 0; i < 100; i++) loader.prefetchImage("r", "k", i, undefined, () => {}, 1 + i);
  await settle();
  assert.deepEqual(sizes(), [PREFETCH_CHUNK, PREFETCH_CHUNK], "two requests of a chunk each");
  assert.equal(PREFETCH_WAVE, 2 * PREFETCH_CHUNK);
  await answer(0);
  assert.deepEqual(sizes(), [PREFETCH_CHUNK, PREFETCH_CHUNK, PREFETCH_CHUNK], "the next chunk as one request, once one is done");
  const third = (sent[2]?.params as { items: { step: number }[] }).items.map((it) => it.step);
  assert.deepEqual(third, Array.from({ length: PREFETCH_CHUNK }, (_, i) => 2 * PREFETCH_CHUNK + i), "nearest first");
  // A jump: what was pending is dropped; new loads ahead wait for what is in flight.
  loader.moved(false);
  for (let i = 0; i < 40; i++) loader.prefetchImage("r", "k", 500 + i, undefined, () => {}, 1 + i);
  await settle();
  assert.equal(sent.length, 3);
  await answer(1);
  await answer(2);
  assert.deepEqual(sizes().slice(3), [PREFETCH_CHUNK_SETTLED]);
  await answer(3);
  assert.deepEqual(sizes().slice(3), [PREFETCH_CHUNK_SETTLED, PREFETCH_CHUNK_SETTLED]);
  await answer(4);
  await answer(5);
  assert.deepEqual(sizes().slice(3), [PREFETCH_CHUNK_SETTLED, PREFETCH_CHUNK_SETTLED, 40 - 2 * PREFETCH_CHUNK_SETTLED]);
  await loader.idle();
});

test("more than MAX_BATCH items are split; a refused request fails its items; an older host gets dvcstage/item", async () => {
  const { transport, sent } = host();
  const batcher = new ItemBatcher(transport);
  const many = Array.from({ length: MAX_BATCH + 2 }, (_, i) => batcher.request(item(i)));
  await settle();
  assert.deepEqual(sent.map((s) => (s.params as { items: unknown[] }).items.length), [MAX_BATCH, 2]);
  sent[0]?.answer.resolve({ items: Array.from({ length: MAX_BATCH }, (_, i) => ({ result: result(i) })) });
  sent[1]?.answer.reject(new RequestError("dvcstage/items", -32602, "invalid params"));
  const outcomes = await Promise.allSettled(many);
  assert.equal(outcomes.filter((o) => o.status === "fulfilled").length, MAX_BATCH);
  assert.ok(outcomes.slice(MAX_BATCH).every((o) => o.status === "rejected" && (o.reason as RequestError).code === -32602));
  // long params: split by size too (the browser host refuses a message over 64 KiB)
  const long = { run: "r", key: "k".repeat(1000), step: 0 };
  const wide = Array.from({ length: 40 }, () => batcher.request(long));
  await settle();
  const sizes = sent.slice(2).map((s) => (s.params as { items: unknown[] }).items.length);
  assert.equal(sizes.reduce((a, b) => a + b, 0), 40);
  assert.ok(sizes.length > 1 && sent.slice(2).every((s) => JSON.stringify(s.params).length <= MAX_BATCH_BYTES + 64));
  for (const s of sent.slice(2)) s.answer.resolve({ items: (s.params as { items: unknown[] }).items.map(() => ({ result: result(0) })) });
  await Promise.all(wide);
  sent.splice(2);
  // a short answer: the items without one fail, named
  const short = [batcher.request(item(1)), batcher.request(item(2))];
  await settle();
  sent[2]?.answer.resolve({ items: [{ result: result(1) }] });
  const [, missing] = await Promise.allSettled(short);
  assert.ok(missing?.status === "rejected");
  assert.match(String(missing.reason), /no answer for item 2 of 2/);
  // a host without dvcstage/items: the batch is asked item by item, and so is everything after
  const old = [batcher.request(item(5)), batcher.request(item(6))];
  await settle();
  sent[3]?.answer.reject(new RequestError("dvcstage/items", -32601, "method not found"));
  await settle();
  assert.deepEqual(sent.slice(4).map((s) => [s.method, s.params]), [["dvcstage/item", item(5)], ["dvcstage/item", item(6)]]);
  sent[4]?.answer.resolve(result(5));
  sent[5]?.answer.resolve(result(6));
  assert.deepEqual((await Promise.all(old)).map((r) => r.step), [5, 6]);
  const later = [batcher.request(item(7)), batcher.request(item(8))];
  await settle();
  assert.deepEqual(sent.slice(6).map((s) => s.method), ["dvcstage/item", "dvcstage/item"]);
  for (const s of sent.slice(6)) s.answer.resolve(result((s.params as { step: number }).step));
  await Promise.all(later);
});

test("the load queue runs what is on screen first, then the nearest step, at most `limit` at once", async () => {
  const queue = new LoadQueue(2);
  const started: string[] = [];
  const jobs = new Map<string, ReturnType<typeof deferred<string>>>();
  const run = (name: string, rank: number) => {
    const job = deferred<string>();
    jobs.set(name, job);
    return queue.run(queue.ticket(rank), () => (started.push(name), job.promise));
  };
  const done = [run("ahead-3", 3), run("ahead-1", 1), run("ahead-2", 2), run("screen", ON_SCREEN), run("ahead-1b", 1)];
  assert.deepEqual(started, ["ahead-3", "ahead-1"]); // the first two start at once
  jobs.get("ahead-3")?.resolve("a3");
  await settle();
  assert.deepEqual(started, ["ahead-3", "ahead-1", "screen"]);
  jobs.get("ahead-1")?.resolve("a1");
  await settle();
  assert.deepEqual(started.slice(3), ["ahead-1b"]); // same rank: first asked first
  for (const name of ["screen", "ahead-1b"]) jobs.get(name)?.resolve(name);
  await settle();
  assert.deepEqual(started.slice(4), ["ahead-2"]);
  jobs.get("ahead-2")?.resolve("a2");
  assert.deepEqual(await Promise.all(done), ["a3", "a1", "a2", "screen", "ahead-1b"]);
  assert.equal(queue.active, 0);
});

test("a move drops the loads queued before it that no cell claims again", async () => {
  const queue = new LoadQueue(1);
  const blocker = deferred<string>();
  const started: string[] = [];
  const first = queue.run(queue.ticket(ON_SCREEN), () => (started.push("first"), blocker.promise));
  const keptTicket = queue.ticket(1);
  const kept = queue.run(keptTicket, async () => (started.push("kept"), "kept"));
  const gone = queue.run(queue.ticket(1), async () => (started.push("gone"), "gone"));
  queue.next(); // the slider moved
  queue.claim(keptTicket, ON_SCREEN); // the new step shows this one
  const fresh = queue.run(queue.ticket(2), async () => (started.push("fresh"), "fresh"));
  blocker.resolve("first");
  assert.equal(await first, "first");
  assert.equal(await kept, "kept");
  await assert.rejects(gone, DroppedError);
  assert.equal(await fresh, "fresh");
  assert.deepEqual(started, ["first", "kept", "fresh"]);
  assert.equal(queue.dropped, 1);
});

/** A frame clock stepped by hand. */
function manualClock(): FrameClock & { tick(ms?: number): void; t: number } {
  const pending: (() => void)[] = [];
  const clock = {
    t: 0,
    frame: (fn: () => void) => void pending.push(fn),
    now: () => clock.t,
    tick(ms = 16) {
      clock.t += ms;
      for (const fn of pending.splice(0)) fn();
    },
  };
  return clock;
}

test("an answer for a step no longer wanted is dropped, never drawn over the newer step", async () => {
  const clock = manualClock();
  const frames = new FramePresenter(clock, 150);
  const drawn: number[] = [];
  let wanted = 1;
  const old = deferred<number>();
  frames.moved();
  frames.wait(old.promise, () => wanted === 1, (s) => drawn.push(s), () => assert.fail("no error"));
  wanted = 2; // the slider moved on before step 1 came
  frames.moved();
  const now = deferred<number>();
  frames.wait(now.promise, () => wanted === 2, (s) => drawn.push(s), () => assert.fail("no error"));
  now.resolve(2);
  await settle();
  clock.tick();
  assert.deepEqual(drawn, [2]);
  old.resolve(1); // the old answer arrives last
  await settle();
  clock.tick();
  assert.deepEqual(drawn, [2]);
  assert.equal(frames.stale, 1);
});

test("a move's images are drawn in one frame once all are in; a slow one does not hold the rest past the hold time", async () => {
  const clock = manualClock();
  const frames = new FramePresenter(clock, 150);
  const drawn: string[] = [];
  const loads = ["a", "b", "c"].map((name) => ({ name, job: deferred<string>() }));
  frames.moved();
  for (const { job } of loads) frames.wait(job.promise, () => true, (v) => drawn.push(v), (e) => drawn.push(`failed ${String(e)}`));
  loads[0]?.job.resolve("a");
  await settle();
  clock.tick();
  assert.equal(drawn.length, 0); // b and c are still coming
  loads[1]?.job.reject("b");
  loads[2]?.job.resolve("c");
  await settle();
  assert.deepEqual(drawn, ["a", "failed b", "c"], "drawn as soon as the last is in, not a frame later");
  clock.tick();
  assert.deepEqual(drawn, ["a", "failed b", "c"]);
  assert.equal(frames.frames, 1);
  // the next move: one load never comes; after the hold time the others are drawn anyway
  frames.moved();
  const slow = deferred<string>();
  const quick = deferred<string>();
  frames.wait(slow.promise, () => true, (v) => drawn.push(v), () => {});
  frames.wait(quick.promise, () => true, (v) => drawn.push(v), () => {});
  quick.resolve("quick");
  await settle();
  clock.tick(100);
  assert.equal(drawn.length, 3);
  clock.tick(100);
  assert.deepEqual(drawn.slice(3), ["quick"]);
  slow.resolve("slow");
  await settle();
  clock.tick();
  assert.deepEqual(drawn.slice(4), ["slow"]);
  assert.equal(frames.frames, 3);
});
