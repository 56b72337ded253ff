// The browser side of bench/bench_panel.py: first paint and slider moves of the panel in
// Debian's Chromium (playwright-core from vscode-ext/node_modules). Prints one JSON line.
//   node bench/bench_panel.mjs URL MOVES LOADS [VIEW_PID]
// With VIEW_PID, also the CPU time each process (Chromium's, the view's, its language server's)
// spends per move in each kind of move, from /proc: where the time goes. BENCH_PANEL_PROFILE=KIND
// (step, scrub or jump) prints the renderer's JavaScript profile of those moves on stderr,
// BENCH_PANEL_TRACE=KIND a Chromium trace's self time per thread and event.
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, "..", "vscode-ext", "package.json"));
const { chromium } = require("playwright-core");
const [url, movesText, loadsText, viewPidText] = process.argv.slice(2);
const TICK_MS = 10; // /proc's clock ticks (USER_HZ is 100 on Linux)

/** pid -> [parent pid, command line, CPU ms so far] of every process we may read. */
const processes = () => {
  const out = new Map();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const cmd = readFileSync(`/proc/${name}/cmdline`, "utf8").replaceAll("\0", " ");
      out.set(Number(name), [Number(fields[1]), cmd, (Number(fields[11]) + Number(fields[12])) * TICK_MS]);
    } catch {
      // gone meanwhile
    }
  }
  return out;
};

/** CPU ms so far by group: Chromium's renderer and its other processes, the view, its server. */
const cpuByGroup = () => {
  const all = processes();
  const under = (root) => {
    const found = new Set([root]);
    for (let grew = true; grew; ) {
      grew = false;
      for (const [pid, [ppid]] of all) if (found.has(ppid) && !found.has(pid)) found.add(pid), (grew = true);
    }
    return found;
  };
  const groups = { "chromium renderer": 0, "chromium (browser, GPU, network)": 0, "dvcstage view": 0, "language server": 0 };
  for (const pid of under(process.pid)) {
    if (pid === process.pid) continue;
    const [, cmd, ms] = all.get(pid);
    groups[cmd.includes("--type=renderer") ? "chromium renderer" : "chromium (browser, GPU, network)"] += ms;
  }
  if (viewPidText) {
    for (const pid of under(Number(viewPidText))) {
      const [, cmd, ms] = all.get(pid) ?? [0, "", 0];
      groups[cmd.includes("dvcstage_lsp") || cmd.includes("dvcstage-lsp") ? "language server" : "dvcstage view"] += ms;
    }
  }
  return groups;
};
const MOVES = Number(movesText ?? 100);
const LOADS = Number(loadsText ?? 5);

const stats = (values) => {
  const v = [...values].sort((a, b) => a - b);
  const q = (p) => v[Math.min(v.length - 1, Math.floor(p * v.length))];
  return { n: v.length, median: +q(0.5).toFixed(2), p95: +q(0.95).toFixed(2), max: +v[v.length - 1].toFixed(2), all: values.map((t) => +t.toFixed(2)) };
};

// Every panel on screen shows `step` (a cell of a run without that step: its nearest).
const ALL_DRAWN = (step) => {
  const app = window.dvcstagePanel;
  const inView = (el) => {
    const r = el.getBoundingClientRect();
    return r.bottom > 0 && r.top < innerHeight && !el.hidden;
  };
  for (const panel of document.querySelectorAll("section.panel")) {
    if (!inView(panel)) continue;
    const key = panel.dataset.key;
    const kind = panel.dataset.kind;
    if (kind === "metric") {
      const cursor = panel.querySelector(".step-cursor");
      if (!cursor || cursor.dataset.step !== String(step)) return false;
      continue;
    }
    for (const cell of panel.querySelectorAll(".cell")) {
      if (!inView(cell)) continue;
      const want = app.state.cellStep(cell.dataset.run, key);
      if (want === undefined) continue;
      if (kind === "image") {
        const stage = cell.querySelector(".stage");
        if (!stage || stage.dataset.step !== String(want) || stage.classList.contains("loading")) return false;
      } else if (kind === "histogram") {
        const bars = cell.querySelector("canvas.bars");
        if (!bars || bars.dataset.step !== String(want)) return false;
      }
    }
  }
  return true;
};

/** Where each thread of each Chromium process spent its time (self time of trace events). */
const printTrace = (trace, n) => {
  const events = trace.traceEvents ?? trace;
  const names = new Map();
  for (const e of events) if (e.ph === "M" && e.name === "thread_name") names.set(`${e.pid}:${e.tid}`, e.args.name);
  const stacks = new Map();
  const self = new Map();
  const count = new Map();
  const sorted = events.filter((e) => e.ph === "X" && e.dur !== undefined).sort((a, b) => a.ts - b.ts || b.dur - a.dur);
  for (const e of sorted) {
    const thread = `${e.pid}:${e.tid}`;
    const stack = stacks.get(thread) ?? [];
    while (stack.length && stack[stack.length - 1].end <= e.ts) stack.pop();
    const parent = stack[stack.length - 1];
    const key = `${names.get(thread) ?? thread} | ${e.name}`;
    self.set(key, (self.get(key) ?? 0) + e.dur);
    count.set(key, (count.get(key) ?? 0) + 1);
    if (parent) self.set(parent.key, (self.get(parent.key) ?? 0) - e.dur);
    stack.push({ end: e.ts + e.dur, key });
    stacks.set(thread, stack);
  }
  console.error("trace, self time per move by thread | event:");
  for (const [key, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 40)) console.error(`  ${(us / 1000 / n).toFixed(2).padStart(7)} ms  ${(count.get(key) / n).toFixed(1).padStart(6)}x  ${key}`);
};

/** The functions the renderer's main thread spent most time in (self time per move). */
const printProfile = (profile, n) => {
  const self = new Map();
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const deltas = profile.timeDeltas;
  profile.samples.forEach((id, i) => {
    const { functionName, url, lineNumber } = byId.get(id).callFrame;
    const where = `${functionName || "(anonymous)"} ${url ? `${url.split("/").pop()}:${lineNumber + 1}` : ""}`.trim();
    self.set(where, (self.get(where) ?? 0) + (deltas[i + 1] ?? 0) / 1000);
  });
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  console.error(`renderer main thread, ${(total / n).toFixed(1)} ms per move; self time per move:`);
  for (const [where, ms] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.error(`  ${(ms / n).toFixed(2).padStart(7)} ms  ${where}`);
};

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", args: ["--headless", "--no-sandbox", "--disable-gpu"] });
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 }, colorScheme: "dark", deviceScaleFactor: 1 });
  const layout = [];
  const drawn = [];
  for (let i = 0; i < LOADS; i++) {
    await page.goto(url);
    await page.waitForSelector('#app[data-ready="true"]', { timeout: 120000 });
    const target = await page.evaluate(() => window.dvcstagePanel.state.allSteps().at(-1));
    await page.waitForFunction(ALL_DRAWN, target, { timeout: 120000, polling: "raf" });
    const t = await page.evaluate(() => [window.dvcstagePanel.firstPaint, performance.now()]);
    layout.push(t[0] / 1000);
    drawn.push(t[1] / 1000);
  }
  const visible = await page.evaluate(() => {
    const inView = (el) => { const r = el.getBoundingClientRect(); return r.bottom > 0 && r.top < innerHeight; };
    const panels = [...document.querySelectorAll("section.panel")].filter(inView);
    return `${panels.length} panels on screen (${panels.map((p) => p.dataset.kind).join(", ")}), ${document.querySelectorAll("section.panel .stage").length} image cells in all`;
  });
  await page.evaluate(({ allDrawn }) => {
    const check = new Function("step", `return (${allDrawn})(step);`);
    const app = window.dvcstagePanel;
    const steps = app.state.allSteps();
    const slider = document.querySelector("input.shared-slider");
    const frame = () => new Promise((ok) => requestAnimationFrame(() => ok(performance.now())));
    let seed = 7;
    const random = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
    const bench = { index: 0 };
    bench.move = async (index) => {
      await frame();
      const t0 = performance.now();
      bench.index = index;
      slider.value = String(index);
      slider.dispatchEvent(new Event("input", { bubbles: true }));
      for (;;) {
        if (check(steps[index])) return performance.now() - t0;
        await frame();
      }
    };
    // One step at a time, each once the panel has settled (what was loaded ahead is in).
    bench.step = async (n) => {
      const out = [];
      for (let i = 0; i < n; i++) {
        await app.loader.idle();
        out.push(await bench.move(bench.index + 1));
      }
      return out;
    };
    // Scrubbing: the next step as soon as the last one is drawn.
    bench.scrub = async (n) => {
      const out = [];
      for (let i = 0; i < n; i++) out.push(await bench.move(bench.index + 1));
      return out;
    };
    bench.jump = async (n) => {
      const out = [];
      for (let i = 0; i < n; i++) out.push(await bench.move(Math.floor(random() * steps.length)));
      return out;
    };
    window.dvcstageBench = bench;
    return bench.move(0);
  }, { allDrawn: ALL_DRAWN.toString() });
  const moves = {};
  const cpu = {};
  const profile = process.env.BENCH_PANEL_PROFILE; // a kind of move: its renderer profile on stderr
  for (const [kind, n] of [["step", MOVES / 2], ["scrub", MOVES], ["jump", MOVES / 2]]) {
    const before = cpuByGroup();
    const cdp = profile === kind ? await page.context().newCDPSession(page) : undefined;
    const traced = process.env.BENCH_PANEL_TRACE === kind;
    if (traced) await browser.startTracing(page, { categories: ["devtools.timeline", "disabled-by-default-devtools.timeline", "blink", "cc", "gpu", "toplevel", "v8"] });
    if (cdp) {
      await cdp.send("Profiler.enable");
      await cdp.send("Profiler.setSamplingInterval", { interval: 250 });
      await cdp.send("Profiler.start");
    }
    moves[kind] = await page.evaluate(([k, count]) => window.dvcstageBench[k](count), [kind, n]);
    if (cdp) printProfile((await cdp.send("Profiler.stop")).profile, n);
    if (traced) printTrace(JSON.parse((await browser.stopTracing()).toString()), n);
    await page.evaluate(() => window.dvcstagePanel.loader.idle()); // what it loads ahead counts too
    const after = cpuByGroup();
    cpu[kind] = Object.fromEntries(Object.keys(after).map((g) => [g, +((after[g] - before[g]) / n).toFixed(1)]));
  }
  const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
  console.log(JSON.stringify({
    firstPaint: { n: LOADS, layout_s: +median(layout).toFixed(3), drawn_s: +median(drawn).toFixed(3), all_layout_s: layout, all_drawn_s: drawn },
    moves: { step: stats(moves.step), scrub: stats(moves.scrub), jump: stats(moves.jump) },
    cpu_ms_per_move: cpu,
    visible,
  }));
} finally {
  await browser.close();
}
