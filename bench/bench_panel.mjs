// The browser side of bench/bench_panel.py: first paint and slider moves of the panel in
// Debian's Chromium (playwright-core from vscode-ext/node_modules). Prints one JSON line.
//   node bench/bench_panel.mjs URL MOVES LOADS
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, "..", "vscode-ext", "package.json"));
const { chromium } = require("playwright-core");
const [url, movesText, loadsText] = process.argv.slice(2);
const MOVES = Number(movesText ?? 100);
const LOADS = Number(loadsText ?? 5);

const stats = (values) => {
  const v = [...values].sort((a, b) => a - b);
  const q = (p) => v[Math.min(v.length - 1, Math.floor(p * v.length))];
  return { n: v.length, median: +q(0.5).toFixed(2), p95: +q(0.95).toFixed(2), max: +v[v.length - 1].toFixed(2) };
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
  const moves = await page.evaluate(async ({ moves, allDrawn }) => {
    const check = new Function("step", `return (${allDrawn})(step);`);
    const app = window.dvcstagePanel;
    const steps = app.state.allSteps();
    const slider = document.querySelector("input.shared-slider");
    const frame = () => new Promise((ok) => requestAnimationFrame(() => ok(performance.now())));
    const move = async (index) => {
      await frame();
      const t0 = performance.now();
      slider.value = String(index);
      slider.dispatchEvent(new Event("input", { bubbles: true }));
      for (;;) {
        if (check(steps[index])) return performance.now() - t0;
        await frame();
      }
    };
    const out = { step: [], scrub: [], jump: [] };
    let index = 0;
    await move(0);
    // One step at a time, each once the panel has settled (what was loaded ahead is in).
    for (let i = 0; i < moves / 2; i++) {
      await app.loader.idle();
      out.step.push(await move(++index));
    }
    // Scrubbing: the next step as soon as the last one is drawn.
    for (let i = 0; i < moves; i++) out.scrub.push(await move(++index));
    let seed = 7;
    const random = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
    for (let i = 0; i < moves / 2; i++) out.jump.push(await move(Math.floor(random() * steps.length)));
    return out;
  }, { moves: MOVES, allDrawn: ALL_DRAWN.toString() });
  const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
  console.log(JSON.stringify({
    firstPaint: { n: LOADS, layout_s: +median(layout).toFixed(3), drawn_s: +median(drawn).toFixed(3), all_layout_s: layout, all_drawn_s: drawn },
    moves: { step: stats(moves.step), scrub: stats(moves.scrub), jump: stats(moves.jump) },
    visible,
  }));
} finally {
  await browser.close();
}
