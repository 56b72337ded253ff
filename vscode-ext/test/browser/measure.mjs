// Figures of the media panel in Chromium (not a test: the machine is shared and noisy).
//   npm run test:browser:measure
// 1. Slider input -> the next step's image on screen, when it was loaded ahead (prefetch):
//    time to the draw (synchronous in the input handler) and to the next animation frame.
//    For comparison, the same without prefetch (cache dropped: a round trip to the server).
// 2. Redraw of an overlay with 200 boxes (and their labels).
import { openPanel, showPanel } from "./harness.mjs";

const MOVES = Number(process.env.MOVES ?? 50);
const ctx = await openPanel({ bench: true, viewport: { width: 1200, height: 900 } });
const { page } = ctx;

function stats(values) {
  const v = [...values].sort((a, b) => a - b);
  const q = (p) => v[Math.min(v.length - 1, Math.floor(p * v.length))];
  return { n: v.length, median: +q(0.5).toFixed(2), p95: +q(0.95).toFixed(2), max: +v[v.length - 1].toFixed(2) };
}

try {
  // Only the bench run, in one column, to measure its 512x384 photos.
  await page.evaluate(async () => {
    const app = window.dvcstagePanel;
    await app.toggleRun("workspace:bench", true);
    await app.toggleRun("workspace:dvclive", false);
  });
  await page.waitForSelector('section.panel[data-key="photo"] .stage[data-step]');
  await showPanel(page, "photo");

  const slider = await page.evaluate(async ({ moves, prefetched }) => {
    const app = window.dvcstagePanel;
    const steps = app.state.allSteps();
    const stage = document.querySelector('section.panel[data-key="photo"] .stage');
    const slider = document.querySelector("input.shared-slider");
    const frame = () => new Promise((ok) => requestAnimationFrame(() => ok(performance.now())));
    const out = { draw: [], frame: [], ready: 0 };
    let index = 0;
    let dir = 1;
    app.setSharedStep(steps[0]);
    await new Promise((ok) => setTimeout(ok, 300));
    for (let i = 0; i < moves; i++) {
      if (index + dir < 0 || index + dir >= steps.length) dir = -dir;
      index += dir;
      const step = steps[index];
      if (prefetched) {
        // Loaded ahead by the previous move (radius 2); wait for it if the machine is slow.
        const entry = app.loader.imageBundle("workspace:bench", "photo", step);
        if (entry.value) out.ready++;
        await entry.promise;
      } else {
        app.loader.forget("workspace:bench", "photo");
      }
      await frame();
      const drawn = new Promise((ok) => stage.addEventListener("dvcstage-drawn", (e) => e.detail.step === step && ok(e.detail.time), { once: false }));
      const t0 = performance.now();
      slider.value = String(index);
      slider.dispatchEvent(new Event("input", { bubbles: true }));
      const t1 = await drawn;
      const t2 = await frame();
      out.draw.push(t1 - t0);
      out.frame.push(t2 - t0);
      await new Promise((ok) => setTimeout(ok, 30));
    }
    return out;
  }, { moves: MOVES, prefetched: true });

  const cold = await page.evaluate(async ({ moves }) => {
    const app = window.dvcstagePanel;
    const steps = app.state.allSteps();
    const stage = document.querySelector('section.panel[data-key="photo"] .stage');
    const slider = document.querySelector("input.shared-slider");
    const out = [];
    for (let i = 0; i < moves; i++) {
      const index = (i * 7) % steps.length;
      app.loader.forget("workspace:bench", "photo");
      const drawn = new Promise((ok) => stage.addEventListener("dvcstage-drawn", (e) => e.detail.step === steps[index] && ok(e.detail.time)));
      const t0 = performance.now();
      slider.value = String(index);
      slider.dispatchEvent(new Event("input", { bubbles: true }));
      out.push((await drawn) - t0);
      await new Promise((ok) => setTimeout(ok, 50));
    }
    return out;
  }, { moves: Math.min(MOVES, 20) });

  // 200 boxes: the "crowd" image of the test run.
  await page.evaluate(async () => {
    const app = window.dvcstagePanel;
    await app.toggleRun("workspace:dvclive", true);
    await app.toggleRun("workspace:bench", false);
  });
  await page.waitForSelector('section.panel[data-key="crowd.png"] .stage[data-step]');
  await showPanel(page, "crowd.png");
  const boxes = await page.evaluate(async ({ moves }) => {
    const panel = document.querySelector('section.panel[data-key="crowd.png"]');
    const threshold = panel.querySelector(".threshold input");
    const frame = () => new Promise((ok) => requestAnimationFrame(() => ok(performance.now())));
    const out = { redraw: [], frame: [], size: "" };
    const over = panel.querySelector(".stage-over");
    out.size = `${over.width}x${over.height}`;
    for (let i = 0; i < moves; i++) {
      await frame();
      const t0 = performance.now();
      threshold.value = "0";
      threshold.dispatchEvent(new Event("input", { bubbles: true })); // redraws image and 200 boxes
      const t1 = performance.now();
      const t2 = await frame();
      out.redraw.push(t1 - t0);
      out.frame.push(t2 - t0);
    }
    return out;
  }, { moves: MOVES });

  const report = {
    chromium: await ctx.browser.version(),
    "slider -> prefetched image drawn (ms)": stats(slider.draw),
    "slider -> next animation frame after the draw (ms)": stats(slider.frame),
    "moves whose image was already loaded ahead": `${slider.ready}/${MOVES}`,
    "slider -> image drawn without prefetch, via the language server (ms)": stats(cold),
    [`200-box overlay redraw, canvas ${boxes.size} (ms)`]: stats(boxes.redraw),
    "200-box redraw -> next animation frame (ms)": stats(boxes.frame),
  };
  console.log(JSON.stringify(report, null, 2));
} finally {
  await ctx.close();
}
