// The media panel in Debian's Chromium, hosted like `dvcstage view` hosts it, against the real
// language server and a workspace logged with dvcstage.Live (make_workspace.py).
// Only what is drawn is asserted, never how fast (see measure.mjs for the figures).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { lineCoverage, nextFrame, openPanel, pixel, setRange, showPanel, toScreen } from "./harness.mjs";

let ctx;
before(async () => {
  ctx = await openPanel();
});
after(async () => {
  await ctx?.close();
});

const PRED = 'section.panel[data-key="pred"]';
const BASE = `${PRED} .stage-base`;
const OVER = `${PRED} .stage-over`;
const near = (a, b, tol = 3) => a.every((v, i) => Math.abs(v - b[i]) <= tol);

async function showStep(step) {
  const index = await ctx.page.evaluate(() => window.dvcstagePanel.state.allSteps());
  await setRange(ctx.page, "input.shared-slider", index.indexOf(step));
  await ctx.page.waitForSelector(`${PRED} .stage[data-step="${step}"]`);
  await nextFrame(ctx.page);
}

test("the shared slider changes the image", async () => {
  const { page, facts } = ctx;
  await showPanel(page, "pred");
  for (const step of [0, 3, 1]) {
    await showStep(step);
    const [x, y] = await toScreen(page, "pred", 62, 2); // a corner no box or mask covers
    assert.ok(near((await pixel(page, BASE, x, y)).slice(0, 3), facts.colours[step]), `step ${step}`);
  }
});

test("arrow keys move one step", async () => {
  const { page } = ctx;
  await showStep(1);
  await page.locator("body").press("ArrowRight");
  await page.waitForSelector(`${PRED} .stage[data-step="2"]`);
  await page.locator("body").press("ArrowLeft");
  await page.waitForSelector(`${PRED} .stage[data-step="1"]`);
});

test("the next and previous steps are loaded ahead", async () => {
  const { page } = ctx;
  await showStep(2);
  await page.waitForFunction(() => [1, 3, 4].every((s) => window.dvcstagePanel.loader.peekImage("workspace:dvclive", "pred", s)));
});

async function boxColourAt(x, y) {
  const [sx, sy] = await toScreen(ctx.page, "pred", x, y);
  return pixel(ctx.page, OVER, sx, sy);
}
const catColour = () => ctx.page.evaluate(() => getComputedStyle(document.querySelector('[data-class="cat"] .swatch')).backgroundColor.match(/\d+/g).map(Number));

test("boxes land on the pixels their coordinates say", async () => {
  await showStep(2);
  const cat = await catColour();
  const along = (a, b, rgb) => lineCoverage(ctx.page, "pred", a, b, rgb);
  // DVCLive annotation "cat": top 8, left 10, bottom 30, right 40 (pixels); dashed (predictions).
  assert.ok((await along([10, 10], [10, 28], cat)) > 0.3, "left edge of the annotation");
  assert.ok((await along([12, 8], [38, 8], cat)) > 0.3, "top edge");
  assert.ok((await along([40, 10], [40, 28], cat)) > 0.3, "right edge");
  assert.equal(await along([25, 14], [25, 18], cat), 0, "inside is clear");
  assert.equal(await along([8.5, 19], [8.5, 27], cat), 0, "left of the edge is clear");
  // W&B prediction "cat": minX 0.5 of 64 px = 32, minY 0.25 of 48 = 12 ... maxY 24 (fractions).
  assert.ok((await along([32, 13], [32, 23], cat)) > 0.3, "fractional box");
  // W&B ground truth, pixel domain: middle (16, 12), 20 x 10 -> x 6..26, y 7..17; solid.
  assert.ok((await along([6, 8], [6, 16])) > 0.95, "pixel-domain box, solid");
  assert.equal(await along([4.5, 9], [4.5, 15]), 0);
});

test("class toggles, group toggles and the score threshold change what is drawn", async () => {
  const { page } = ctx;
  await showStep(2);
  // Predictions are dashed (some of the edge), ground truth solid (all of it).
  const colour = (name) => page.evaluate((n) => getComputedStyle(document.querySelector(`[data-class="${n}"] .swatch`)).backgroundColor.match(/\d+/g).map(Number), name);
  const [dogRgb, catRgb, birdRgb] = [await colour("dog"), await colour("cat"), await colour("bird")];
  const dog = () => lineCoverage(page, "pred", [30, 22], [30, 38], dogRgb); // dog: left 30, rows 20..40, score 0.3
  const cat = () => lineCoverage(page, "pred", [10, 10], [10, 28], catRgb); // cat: left 10, rows 8..30, score 0.9
  const truth = () => lineCoverage(page, "pred", [6, 8], [6, 16], birdRgb); // ground truth: x 6, rows 7..17
  assert.ok((await dog()) > 0.3, "dog drawn");
  await setRange(page, `${PRED} .threshold input`, 0.5);
  await nextFrame(page);
  assert.equal(await dog(), 0, "below the threshold");
  assert.ok((await cat()) > 0.3, "cat (0.9) stays");
  await setRange(page, `${PRED} .threshold input`, 0);
  await page.locator(`${PRED} [data-class="cat"] input`).uncheck();
  await nextFrame(page);
  assert.equal(await cat(), 0, "cat hidden");
  assert.ok((await dog()) > 0.3, "dog shown");
  await page.locator(`${PRED} [data-class="cat"] input`).check();
  assert.ok((await truth()) > 0.95, "ground truth is solid");
  const dashed = await cat();
  assert.ok(dashed > 0.3 && dashed < 0.9, `predictions are dashed (${dashed})`);
  await page.locator(`${PRED} .groups label:has-text("ground_truth") input`).uncheck();
  await nextFrame(page);
  assert.equal(await truth(), 0, "ground truth hidden");
  await page.locator(`${PRED} .groups label:has-text("ground_truth") input`).check();
});

test("mask opacity changes the pixels", async () => {
  const { page, facts } = ctx;
  await showStep(2);
  const [x, y] = await toScreen(page, "pred", 12, 40); // mask "cat": rows 30..43, columns 4..19
  const image = facts.colours[2];
  const at = async (opacity) => {
    await setRange(page, `${PRED} .mask-opacity input`, opacity);
    await nextFrame(page);
    return (await pixel(page, BASE, x, y)).slice(0, 3);
  };
  const none = await at(0);
  const half = await at(0.5);
  const full = await at(1);
  assert.ok(near(none, image), `opacity 0 shows the image: ${none}`);
  assert.ok(near(full, await catColour()), `opacity 1 shows the class colour: ${full}`);
  assert.ok(near(half, image.map((v, i) => (v + full[i]) / 2), 4), `opacity 0.5 blends: ${half}`);
  await page.locator(`${PRED} .row.mask label.chip input`).uncheck();
  await nextFrame(page);
  const hidden = (await pixel(page, BASE, x, y)).slice(0, 3);
  assert.ok(near(hidden, image), "a hidden mask class is not drawn");
  await page.locator(`${PRED} .row.mask label.chip input`).check();
});

test("the page loaded nothing it was not allowed to and threw nothing", () => {
  assert.deepEqual(ctx.errors, []);
});

test("follow-live: new steps written by training are shown at once at the last step", async () => {
  const { page, dir } = ctx;
  const { logMore } = await import("./host.mjs");
  await page.evaluate(() => {
    const steps = window.dvcstagePanel.state.allSteps();
    window.dvcstagePanel.setSharedStep(steps[steps.length - 1]);
  });
  const [late] = logMore(dir, 1);
  await page.waitForSelector(`${PRED} .stage[data-step="${late}"]`, { timeout: 20000 });
  assert.match(await page.textContent(`${PRED} .caption`), new RegExp(`late ${late}`));
});

test("logged HTML runs in a sandbox that cannot reach the panel", async () => {
  const { page } = ctx;
  await showPanel(page, "report");
  const frame = page.locator('section.panel[data-key="report"] iframe');
  assert.equal(await frame.getAttribute("sandbox"), "allow-scripts");
  await page.waitForFunction(() => window.__probe.length > 0, null, { timeout: 15000 });
  const [report] = await page.evaluate(() => window.__probe);
  assert.equal(report.ran, true, "the page's own script runs");
  assert.equal(report.parentDom, "blocked");
  assert.equal(report.parentWrite, "blocked");
  assert.equal(report.cookieRead, "blocked");
  assert.equal(report.storage, "blocked");
  assert.equal(report.origin, "null", "an opaque origin");
  assert.equal(await page.evaluate(() => document.body.hasAttribute("data-pwned")), false);
  await page.waitForTimeout(1000); // a script from a URL would have reported by now
  assert.deepEqual(await page.evaluate(() => window.__loaded), [], "a script from a URL loaded");
  assert.match(ctx.blocked.join("\n"), /violates the following Content Security Policy directive: "script-src 'unsafe-inline'"/);
});

test("histograms: a heatmap over steps and the selected step's bars", async () => {
  const { page } = ctx;
  await showPanel(page, "weights");
  const sel = 'section.panel[data-key="weights"]';
  await page.waitForFunction((s) => /bins/.test(document.querySelector(`${s} .histogram .caption`)?.textContent ?? ""), sel);
  const painted = await page.evaluate((s) => {
    const c = document.querySelector(`${s} canvas.heatmap`);
    const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
    return n / (c.width * c.height);
  }, sel);
  assert.ok(painted > 0.2, `heatmap painted ${painted}`);
  // A click on the first column (right of the value axis) moves this panel (only) to step 0.
  const box = await page.locator(`${sel} canvas.heatmap`).boundingBox();
  await page.mouse.click(box.x + 48, box.y + box.height / 2);
  assert.match(await page.textContent(`${sel} .histogram .caption`), /^step 0 /);
  assert.match(await page.textContent(`${sel} header .step-label`), /^step 0 /);
});

test("tables: virtualised, sortable, with image cells and their boxes", async () => {
  const { page } = ctx;
  const sel = 'section.panel[data-key="preds"]';
  await showPanel(page, "preds");
  await page.waitForSelector(`${sel} .tr`);
  const rows = await page.locator(`${sel} .tr`).count();
  assert.ok(rows > 0 && rows < 60, `only the rows on screen are in the DOM (${rows} of 400)`);
  assert.match(await page.textContent(`${sel} .footer`), /400 rows/);
  await page.waitForSelector(`${sel} .tr[data-row="0"] .stage[data-step]`);
  const scoreHeader = page.locator(`${sel} .th`, { hasText: "score" });
  await scoreHeader.click(); // ascending
  const first = async () => page.evaluate((s) => [...document.querySelectorAll(`${s} .tr`)].sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top)).slice(0, 3).map((r) => Number(r.lastElementChild.textContent)), sel);
  const asc = await first();
  assert.deepEqual(asc, [...asc].sort((a, b) => a - b));
  await scoreHeader.click(); // descending
  const desc = await first();
  assert.deepEqual(desc, [...desc].sort((a, b) => b - a));
  assert.ok(desc[0] >= asc[2]);
  await scoreHeader.click(); // as logged
  await page.locator(`${sel} .scroller`).evaluate((e) => (e.scrollTop = e.scrollHeight));
  await page.waitForSelector(`${sel} .tr[data-row="399"]`);
});

test("audio, video, point clouds (sampled above 300,000 points), lidar scenes and molecules", async () => {
  const { page } = ctx;
  await showPanel(page, "voice");
  await page.waitForSelector('section.panel[data-key="voice"] audio[src]');
  assert.match(await page.textContent('section.panel[data-key="voice"] .facts'), /8000 Hz/);
  await showPanel(page, "clip");
  await page.waitForSelector('section.panel[data-key="clip"] img.gif');
  await showPanel(page, "dense");
  await page.waitForSelector('section.panel[data-key="dense"] .viewer3d canvas', { timeout: 30000 });
  assert.match(await page.textContent('section.panel[data-key="dense"] .note3d'), /Showing 300,000 of 310,000 points/);
  await showPanel(page, "scene");
  await page.waitForSelector('section.panel[data-key="scene"] .viewer3d canvas');
  assert.match(await page.textContent('section.panel[data-key="scene"] .legend'), /car 0\.90/);
  await showPanel(page, "water");
  await page.waitForSelector('section.panel[data-key="water"] .viewer3d[data-atoms="3"]', { timeout: 20000 });
});

test("a code lens's openMedia focuses its key", async () => {
  const { page } = ctx;
  await page.evaluate(() => window.dvcstagePanel.openMedia({ run: "workspace:dvclive", key: "weights" }));
  assert.equal(await page.getAttribute("section.panel.focused", "data-key"), "weights");
});

test("nothing on the page failed", () => {
  assert.deepEqual(ctx.errors, []);
});

test("a shown run whose folder is deleted loses its column, and gets it back when it returns", async () => {
  const { page, dir } = ctx;
  const { cpSync, rmSync } = await import("node:fs");
  const { join } = await import("node:path");
  const COPY = "workspace:copy";
  const column = `.column-title[data-run="${COPY}"]`;
  const copy = () => cpSync(join(dir, "dvclive"), join(dir, "copy"), { recursive: true });
  const thrown = ctx.errors.length;
  copy();
  await page.waitForFunction((id) => window.dvcstagePanel.state.runs.some((r) => r.id === id), COPY, { timeout: 60000 });
  await page.evaluate((id) => window.dvcstagePanel.toggleRun(id, true), COPY);
  await page.waitForSelector(`${PRED} .cell[data-run="${COPY}"] .stage[data-step]`);
  rmSync(join(dir, "copy"), { recursive: true });
  await page.waitForSelector(column, { state: "detached", timeout: 60000 });
  assert.deepEqual(await page.evaluate(() => window.dvcstagePanel.state.columns), ["workspace:dvclive"]);
  assert.equal(await page.locator(`${PRED} .cell[data-run="${COPY}"]`).count(), 0);
  assert.match(await page.textContent(".status"), /copy is gone .*its column is hidden until it comes back/);
  copy();
  await page.waitForSelector(column, { timeout: 60000 });
  await page.waitForSelector(`${PRED} .cell[data-run="${COPY}"] .stage[data-step]`);
  assert.deepEqual(await page.evaluate(() => window.dvcstagePanel.state.columns), [COPY, "workspace:dvclive"]); // in the runs list's order
  // what the run's deleted files made the page log (a load in flight may find them gone) is no failure
  assert.deepEqual(ctx.errors.slice(thrown).filter((e) => !/Failed to load resource/.test(e)), []);
});
