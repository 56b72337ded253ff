// The workspace in Debian's Chromium, in both colour schemes, at 1,400 px and at 420 px (a VS
// Code sidebar), against the real language server and four runs logged with dvcstage.Live
// (make_runs.py): sections and the grid, resizing, moving, fullscreen and the layout kept per
// workspace; the runs table (colours, params, sort, filter, group); metric charts and their
// step cursor; histogram axes, readout, shared range, log counts; masks, box styles, labels,
// tooltips, step flags; table filter, grouping, enlarged thumbnails; waveforms; HTML sized to
// its content; problems named on cells; and logged HTML that cannot post to the panel, in the
// browser host and in a stand-in for VS Code's webview. Only what is drawn is asserted.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { CHROMIUM, lineCoverage, nextFrame, setRange } from "./harness.mjs";
import { makeRuns, startHost } from "./host.mjs";

const RUNS = ["workspace:runs/lr-0.01", "workspace:runs/lr-0.05", "workspace:runs/lr-0.1", "workspace:runs/lr-0.2"];
const BROKEN = "workspace:runs/zz-broken";
const panel = (key) => `section.panel[data-key="${key}"]`;
const cell = (key, run) => `${panel(key)} .cell[data-run="${run}"]`;
const rgbOf = (css) => css.match(/\d+/g).slice(0, 3).map(Number);
const near = (a, b, tol = 6) => a.every((v, i) => Math.abs(v - b[i]) <= tol);

let workspace;
let browser;
before(async () => {
  workspace = makeRuns();
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu"] });
});
after(async () => {
  await browser?.close();
});

/** A host with a fresh layout store, and a page on it; console errors are collected. */
async function open({ scheme, width, path = "/", cacheDir }) {
  const host = await startHost({ workspace: workspace.dir, ...(cacheDir ? { cacheDir } : {}) });
  const context = await browser.newContext({ viewport: { width, height: 900 }, colorScheme: scheme, deviceScaleFactor: 1 });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => m.type() === "error" && !/favicon|Content Security Policy/.test(m.text()) && errors.push(m.text()));
  await page.goto(new URL(path, host.url).href);
  const app = path === "/" ? page : page.frameLocator("#active-frame");
  const frame = path === "/" ? page.mainFrame() : await (await page.waitForSelector("#active-frame")).contentFrame();
  await frame.waitForSelector('#app[data-ready="true"]', { timeout: 60000 });
  return {
    host, context, page, frame, app, errors,
    async close() {
      await context.close();
      await host.close();
    },
  };
}

async function scrollTo(frame, key) {
  await frame.evaluate((k) => document.querySelector(`section.panel[data-key="${k}"]`)?.scrollIntoView({ block: "start" }), key);
}

async function setStep(frame, step) {
  await frame.evaluate((s) => window.dvcstagePanel.setSharedStep(s), step);
}

/** Pixels of a canvas near each colour: how many. */
async function colourCounts(frame, selector, colours, tol = 12) {
  return frame.evaluate(({ selector, colours, tol }) => {
    const c = document.querySelector(selector);
    const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    const counts = colours.map(() => 0);
    for (let i = 0; i < d.length; i += 4) {
      if (d[i + 3] < 200) continue;
      colours.forEach((rgb, k) => {
        if (Math.abs(d[i] - rgb[0]) <= tol && Math.abs(d[i + 1] - rgb[1]) <= tol && Math.abs(d[i + 2] - rgb[2]) <= tol) counts[k]++;
      });
    }
    return counts;
  }, { selector, colours, tol });
}

// COMBO=dark-1400 runs one of them (when looking into a failure).
const COMBOS = [["dark", 1400], ["light", 420], ["light", 1400], ["dark", 420]].filter(([s, w]) => !process.env.COMBO || process.env.COMBO === `${s}-${w}`);
for (const [scheme, width] of COMBOS) {
  const narrow = width < 700;
  test(`the workspace, ${scheme}, ${width} px`, { timeout: 240000 }, async (t) => {
    const ui = await open({ scheme, width });
    const { frame, page } = ui;
    try {
      await t.test("sections by prefix, images first, a grid as wide as the view allows", async () => {
        const sections = await frame.$$eval(".key-section", (els) => els.map((e) => e.dataset.section));
        assert.deepEqual(sections, ["train", "val", ""]);
        const val = await frame.$$eval('.key-section[data-section="val"] section.panel', (els) => els.map((e) => e.dataset.kind));
        assert.equal(val[0], "image", `images first: ${val}`);
        assert.ok(val.indexOf("metric") < val.indexOf("table") && val.indexOf("audio") === val.length - 1, `then charts, tables, audio last: ${val}`);
        const cols = Number(await frame.$eval(".workspace", (e) => getComputedStyle(e).getPropertyValue("--cols")));
        assert.equal(cols, narrow ? 1 : 4);
        const span = await frame.$eval(panel("val/pred"), (e) => Number(e.dataset.span));
        assert.equal(span, narrow ? 1 : 2);
        assert.ok((await frame.evaluate(() => document.documentElement.scrollWidth)) <= width, "nothing wider than the view");
      });

      await t.test("the layout does not move while panels load", async () => {
        await frame.evaluate(() => scrollTo(0, 0));
        const rects = () => frame.$$eval("section.panel", (els) => els.slice(0, 8).map((e) => { const r = e.getBoundingClientRect(); return [e.dataset.key, Math.round(r.top), Math.round(r.height), Math.round(r.width)]; }));
        const before = await rects();
        await frame.waitForFunction(() => document.querySelectorAll('section.panel[data-key="val/pred"] .stage[data-step]').length === 4);
        await frame.waitForFunction(() => document.querySelectorAll('section.panel[data-key="train/loss"] .u-over').length === 1);
        await nextFrame(frame);
        assert.deepEqual(await rects(), before);
      });

      await t.test("runs have colours, short labels, params and metrics; sort, filter, group", async () => {
        const legend = await frame.$$eval(".columns-header .column-title", (els) => els.map((e) => [e.dataset.run, e.textContent, getComputedStyle(e.querySelector(".swatch")).backgroundColor]));
        assert.deepEqual(legend.map((l) => l[0]), RUNS);
        assert.deepEqual(legend.map((l) => l[1]), ["runs/lr-0.01", "runs/lr-0.05", "runs/lr-0.1", "runs/lr-0.2"]);
        assert.equal(new Set(legend.map((l) => l[2])).size, 4, "four colours");
        await scrollTo(frame, "val/pred");
        for (const [run, , colour] of legend) {
          assert.equal(await frame.$eval(`${cell("val/pred", run)} .cell-run .swatch`, (e) => getComputedStyle(e).backgroundColor), colour, `${run}'s column has its colour`);
        }
        await frame.locator(".runs-button").click();
        await frame.waitForSelector(".runs-table tr[data-run] td[data-column='param:train.lr']");
        const headers = await frame.$$eval(".runs-table th", (els) => els.map((e) => e.textContent));
        assert.ok(headers.includes("train.lr") && headers.includes("val/acc"), `param and metric columns: ${headers}`);
        const lr = () => frame.$$eval(".runs-table tr[data-run]", (els) => els.map((e) => e.querySelector("td[data-column='param:train.lr']").textContent));
        assert.deepEqual((await lr()).slice(0, 4), ["0.01", "0.05", "0.1", "0.2"]);
        await frame.locator(".runs-table th", { hasText: "train.lr" }).click();
        await frame.locator(".runs-table th", { hasText: "train.lr" }).click();
        assert.deepEqual((await lr()).slice(0, 4), ["0.2", "0.1", "0.05", "0.01"], "sorted by lr, descending");
        await frame.locator(".runs-filter").fill("train.lr=0.1");
        await frame.waitForFunction(() => document.querySelectorAll(".runs-table tr[data-run]").length === 1, null, { timeout: 5000 }).catch(async (e) => {
          throw new Error(`${e.message}: ${await frame.$$eval(".runs-table tr[data-run]", (els) => els.map((x) => x.dataset.run))} filter=${await frame.inputValue(".runs-filter")}`);
        });
        await frame.locator(".runs-filter").fill("val/acc>0.7");
        await frame.waitForFunction(() => document.querySelectorAll(".runs-table tr[data-run]").length === 3);
        await frame.locator(".runs-filter").fill("");
        await frame.selectOption(".runs-group", "train.batch");
        assert.deepEqual(await frame.$$eval(".runs-table tr.group-row", (els) => els.map((e) => e.dataset.group)).then((g) => g.sort()), ["16", "32", "(not set)"].sort());
        await frame.selectOption(".runs-group", "");
        // Add the fifth run: a column of its own colour, drawn at full opacity once loaded.
        await frame.locator(`.runs-table tr[data-run="${BROKEN}"] input`).check();
        await frame.waitForSelector(`${cell("val/pred", BROKEN)}`);
        const fifth = await frame.$eval(`.columns-header [data-run="${BROKEN}"] .swatch`, (e) => getComputedStyle(e).backgroundColor);
        assert.ok(!legend.some((l) => l[2] === fifth), "a colour no other run has");
        await frame.waitForSelector(`${cell("val/pred", RUNS[0])} .stage[data-step]:not(.loading)`);
        await frame.locator(`.runs-table tr[data-run="${BROKEN}"] input`).uncheck();
        await frame.waitForSelector(cell("val/pred", BROKEN), { state: "detached" });
        await frame.locator(".runs-button").click();
        assert.equal(await frame.$eval(".runs-drawer", (e) => e.hidden), true);
      });

      await t.test("metric charts: run colours, hover readout, and a step cursor shared with the slider", async () => {
        await scrollTo(frame, "val/loss");
        await frame.waitForSelector(`${panel("val/loss")} .u-over`);
        const colours = await frame.$$eval(".columns-header .swatch", (els) => els.map((e) => getComputedStyle(e).backgroundColor.match(/\d+/g).slice(0, 3).map(Number)));
        const counts = await colourCounts(frame, `${panel("val/loss")} canvas`, colours, 10);
        assert.ok(counts.every((n) => n > 20), `every run's line is drawn in its colour: ${counts}`);
        const over = frame.locator(`${panel("val/loss")} .u-over`);
        const box = await over.boundingBox();
        await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.4);
        await frame.waitForSelector(`${panel("val/loss")} .chart-tip:not([hidden])`);
        assert.equal(await frame.locator(`${panel("val/loss")} .chart-tip .tip-run`).count(), 4, "a value of every run");
        assert.match(await frame.textContent(`${panel("val/loss")} .chart-tip .tip-step`), /^step \d+$/);
        // A click on the chart moves every media panel to that step.
        await page.mouse.click(box.x + 2, box.y + box.height * 0.5);
        await frame.waitForFunction(() => window.dvcstagePanel.state.sharedStep === 0);
        assert.match(await frame.textContent(".toolbar .step-label"), /^step 0/);
        await scrollTo(frame, "val/pred");
        await frame.waitForSelector(`${cell("val/pred", RUNS[0])} .stage[data-step="0"]`);
        // The slider moves the cursor.
        await scrollTo(frame, "val/loss");
        const cursor = async () => frame.$eval(`${panel("val/loss")} .step-cursor`, (e) => [Number(e.dataset.step), parseFloat(e.style.left)]);
        const [s0, x0] = await cursor();
        await setRange(frame, "input.shared-slider", 6);
        const [s6, x6] = await cursor();
        assert.equal(s0, 0);
        assert.equal(s6, 6);
        assert.ok(x6 > x0 + 20, `the cursor moved right (${x0} -> ${x6})`);
        // Log scale and smoothing redraw the chart.
        const snap = () => frame.$eval(`${panel("val/loss")} canvas`, (c) => c.toDataURL());
        const linear = await snap();
        await frame.locator(`${panel("val/loss")} .log-toggle input`).check();
        await frame.waitForFunction((k) => document.querySelector(`section.panel[data-key="${k}"] canvas`) !== null, "val/loss");
        assert.notEqual(await snap(), linear, "log scale");
        await frame.locator(`${panel("val/loss")} .log-toggle input`).uncheck();
        await setRange(frame, ".smoothing input", 0);
        assert.notEqual(await snap(), linear, "no smoothing");
        await setRange(frame, ".smoothing input", 0.6);
      });

      await t.test("histograms: axes, a readout, one range for every run, log counts, a marker in both themes", async () => {
        await scrollTo(frame, "train/grads");
        const sel = panel("train/grads");
        await frame.waitForFunction((s) => document.querySelectorAll(`${s} .histogram[data-range]`).length === 4, sel);
        const ranges = await frame.$$eval(`${sel} .histogram`, (els) => els.map((e) => e.dataset.range));
        assert.equal(new Set(ranges).size, 1, `one range: ${ranges}`);
        const [lo, hi] = ranges[0].split(":").map(Number);
        assert.ok(lo < -10 && hi > 10, "the widest run's range (lr-0.2 spreads furthest)");
        const axis = await frame.$eval(`${sel} .cell canvas.heatmap`, (c) => {
          const d = c.getContext("2d").getImageData(0, 0, Math.round(40 * (c.width / c.clientWidth)), c.height).data;
          let n = 0;
          for (let i = 3; i < d.length; i += 4) if (d[i] > 100) n++;
          return n;
        });
        assert.ok(axis > 30, `tick labels left of the heatmap (${axis} px)`);
        const heat = frame.locator(`${sel} .cell canvas.heatmap`).first();
        const hb = await heat.boundingBox();
        await page.mouse.move(hb.x + 60, hb.y + hb.height * 0.45);
        await frame.waitForSelector(`${sel} .cell .tooltip:not([hidden])`);
        assert.match(await frame.textContent(`${sel} .cell .tooltip:not([hidden])`), /^step \d+ · (\[-?[\d.e-]+k?, -?[\d.e-]+k?\) · count \d+|no values at)/);
        // The marker: a light and a dark outline around the selected step's column.
        const marker = await frame.$eval(`${sel} .cell canvas.heatmap`, (c) => {
          const ctx = c.getContext("2d");
          const d = ctx.getImageData(0, 0, c.width, c.height).data;
          let light = 0;
          let dark = 0;
          for (let i = 0; i < d.length; i += 4) {
            if (d[i + 3] < 250) continue;
            if (d[i] > 240 && d[i + 1] > 240 && d[i + 2] > 240) light++;
            if (d[i] < 20 && d[i + 1] < 20 && d[i + 2] < 20) dark++;
          }
          return { light, dark, column: Number(c.dataset.markerColumn) };
        });
        assert.ok(marker.column >= 0 && marker.light > 50 && marker.dark > 50, `marker ${JSON.stringify(marker)}`);
        const bars = () => frame.$eval(`${sel} .cell canvas.bars`, (c) => c.toDataURL());
        const linear = await bars();
        await frame.locator(`${sel} .log-toggle input`).check();
        assert.notEqual(await bars(), linear, "log counts");
        await frame.locator(`${sel} .log-toggle input`).uncheck();
      });

      await t.test("images: masks over the picture, truth solid and predictions dashed, labels apart, every box in the tooltip, step flags", async () => {
        await setStep(frame, 3);
        await scrollTo(frame, "val/pred");
        const run = RUNS[1];
        const stage = `${cell("val/pred", run)} .stage[data-step="3"]`;
        await frame.waitForSelector(stage);
        await nextFrame(frame);
        const image = workspace.facts.runs[run].colours[3];
        const [x, y] = await frame.$eval(`${cell("val/pred", run)} .stage-over`, (o) => [Number(o.dataset.ox) + 12 * Number(o.dataset.scale), Number(o.dataset.oy) + 37 * Number(o.dataset.scale)]);
        const got = await frame.$eval(`${cell("val/pred", run)} .stage-base`, (c, [x, y]) => [...c.getContext("2d").getImageData(Math.round(x), Math.round(y), 1, 1).data].slice(0, 3), [x, y]);
        const chips = await frame.$$eval(`${panel("val/pred")} .row.mask .chip .swatch`, (els) => els.map((e) => getComputedStyle(e).backgroundColor.match(/\d+/g).slice(0, 3).map(Number)));
        assert.equal(chips.length, 2, "two masks");
        const mixed = chips[0].map((v, i) => (v + chips[1][i]) / 2);
        const expected = image.map((v, i) => v * 0.5 + mixed[i] * 0.5);
        assert.ok(near(got, expected, 8), `two masks at 0.5 keep half the picture: ${got} vs ${expected}`);
        const car = rgbOf(await frame.$eval(`${panel("val/pred")} [data-class="car"] .swatch`, (e) => getComputedStyle(e).backgroundColor));
        const truth = await lineCoverage(frame, "val/pred", [8, 7], [8, 25], car, { cell: run });
        const pred = await lineCoverage(frame, "val/pred", [10, 9], [10, 27], car, { cell: run });
        assert.ok(truth > 0.95, `ground truth solid (${truth})`);
        assert.ok(pred > 0.3 && pred < 0.9, `prediction dashed (${pred})`);
        const labels = JSON.parse(await frame.$eval(`${cell("val/pred", run)} .stage-over`, (o) => o.dataset.labels));
        assert.ok(labels.some((l) => l.text === "car 0.87"), `the caption carries its score once: ${labels.map((l) => l.text)}`);
        for (let i = 0; i < labels.length; i++) for (let j = i + 1; j < labels.length; j++) {
          const [p, q] = [labels[i], labels[j]];
          assert.ok(!(p.x < q.x + q.w && q.x < p.x + p.w && p.y < q.y + q.h && q.y < p.y + p.h), `labels ${p.text} and ${q.text} overlap`);
        }
        const caption = await frame.textContent(`${cell("val/pred", run)} .caption`);
        assert.equal(caption, "prediction at step 3", "the caption once, no step repeated");
        const over = await frame.locator(`${cell("val/pred", run)} .stage-over`).boundingBox();
        const [hx, hy] = await frame.$eval(`${cell("val/pred", run)} .stage-over`, (o) => [Number(o.dataset.ox) + 35 * Number(o.dataset.scale), Number(o.dataset.oy) + 20 * Number(o.dataset.scale)]);
        await page.mouse.move(over.x + hx, over.y + hy);
        await frame.waitForSelector(`${cell("val/pred", run)} .tooltip:not([hidden])`);
        const tips = await frame.$$eval(`${cell("val/pred", run)} .tooltip .tip-box`, (els) => els.map((e) => e.textContent));
        assert.equal(tips.length, 3, `three boxes under the cursor: ${tips}`);
        assert.ok(tips.some((t) => /ground_truth/.test(t)) && tips.some((t) => /person/.test(t)));
        await scrollTo(frame, "val/sparse");
        await frame.waitForSelector(`${cell("val/sparse", RUNS[0])} .step-flag:not([hidden])`);
        assert.equal(await frame.textContent(`${cell("val/sparse", RUNS[0])} .step-flag`), "shows step 2");
        assert.equal(await frame.$eval(`${cell("val/sparse", RUNS[1])} .step-flag`, (e) => e.hidden), true);
      });

      await t.test("tables filter by value and by class, group, and enlarge a thumbnail", async () => {
        await scrollTo(frame, "val/examples");
        const table = `${cell("val/examples", RUNS[0])} .table-view`;
        await frame.waitForSelector(`${table} .tr[data-row]`);
        await frame.selectOption(`${table} .table-filter-column`, { label: "label" });
        await frame.fill(`${table} .table-filter`, "dog");
        assert.match(await frame.textContent(`${table} .footer`), /^20 of 40 rows/);
        await frame.fill(`${table} .table-filter`, "");
        await frame.waitForSelector(`${table} .table-filter-class[data-ready="true"]`);
        await frame.selectOption(`${table} .table-filter-class`, "bike");
        await frame.waitForFunction((t) => /^13 of 40 rows/.test(document.querySelector(`${t} .footer`).textContent), table);
        await frame.selectOption(`${table} .table-filter-class`, "");
        await frame.selectOption(`${table} .table-group`, { label: "group by label" });
        assert.match(await frame.textContent(`${table} .group-row[data-group="cat"]`), /^cat 20 rows$/);
        await frame.$eval(`${table} .scroller`, (e) => (e.scrollTop = 21 * 72 - 20)); // the "dog" heading follows 20 "cat" rows
        await frame.waitForSelector(`${table} .group-row[data-group="dog"]`);
        await frame.selectOption(`${table} .table-group`, "-1");
        // Every column keeps a readable width (the table scrolls sideways when they do not fit).
        const widths = await frame.$$eval(`${table} .th`, (els) => els.map((e) => Math.round(e.getBoundingClientRect().width)));
        assert.equal(widths.length, 4);
        assert.ok(widths.every((w) => w >= 70), `column widths ${widths}`);
        const [scrollWidth, clientWidth, min] = await frame.$eval(`${table} .scroller`, (e) => [e.scrollWidth, e.clientWidth, parseFloat(e.querySelector(".thead").style.minWidth)]);
        assert.ok(scrollWidth >= Math.min(min, scrollWidth) && (min <= clientWidth || scrollWidth > clientWidth), "too narrow a table scrolls");
        await frame.waitForSelector(`${table} .td.zoomable`);
        await frame.locator(`${table} .td.zoomable`).first().click();
        await frame.waitForSelector(".lightbox .stage[data-step]");
        const size = await frame.$eval(".lightbox .stage", (e) => e.clientWidth);
        assert.ok(size > 300, `large (${size} px)`);
        await page.keyboard.press("Escape");
        await frame.waitForSelector(".lightbox", { state: "detached" });
      });

      await t.test("audio has a waveform; HTML takes its content's height", async () => {
        await scrollTo(frame, "val/voice");
        await frame.waitForSelector(`${cell("val/voice", RUNS[0])} canvas.waveform[data-samples]`);
        const drawn = await frame.$eval(`${cell("val/voice", RUNS[0])} canvas.waveform`, (c) => {
          const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
          let n = 0;
          for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
          return n / (c.width * c.height);
        });
        assert.ok(drawn > 0.1, `waveform drawn (${drawn})`);
        await scrollTo(frame, "report");
        await frame.waitForSelector(`${cell("report", RUNS[0])} iframe[data-content-height]`);
        assert.equal(await frame.$eval(`${cell("report", RUNS[0])} iframe`, (e) => [Number(e.dataset.contentHeight), e.clientHeight]).then(([h, c]) => h === workspace.facts.reportHeight && Math.abs(c - h) <= 2), true);
      });

      await t.test("logged HTML cannot post commands, answers or notifications to the panel", async () => {
        // make_runs.py's report posted openMedia, showRuns, 60 fake answers and a fake new run.
        assert.equal(await frame.$$eval("section.panel.focused", (els) => els.length), 0, "no panel focused by a fake openMedia");
        assert.deepEqual(await frame.evaluate(() => window.dvcstagePanel.state.columns), RUNS, "the chosen runs are unchanged");
        assert.equal(await frame.evaluate(() => window.dvcstagePanel.state.runs.some((r) => r.id === "workspace:evil")), false);
      });

      await t.test("problems are named on the cells", async () => {
        await frame.evaluate((run) => window.dvcstagePanel.toggleRun(run, true), BROKEN);
        const broken = workspace.facts.broken;
        await scrollTo(frame, "val/pred");
        const badge = async (step, kind) => {
          await setStep(frame, step);
          const sel = `${cell("val/pred", BROKEN)} .problem[data-problem="${kind}"]`;
          await frame.waitForSelector(sel);
          return frame.textContent(sel);
        };
        assert.match(await badge(0, "missing"), new RegExp(`missing file.*${broken.missing}`));
        assert.match(await badge(1, "undecodable"), new RegExp(`cannot be decoded.*${broken.undecodable}`));
        assert.match(await badge(2, "invalid-sidecar"), new RegExp(`invalid sidecar.*${broken.sidecar}.*not JSON`));
        await frame.waitForSelector(`${cell("val/pred", BROKEN)} .stage[data-step="2"]`); // the image still shows
        await scrollTo(frame, "val/water");
        await frame.waitForSelector(`${cell("val/water", BROKEN)} .problem[data-problem="missing"]`);
        const text = await frame.textContent(`${cell("val/water", BROKEN)}`);
        assert.match(text, new RegExp(broken.molecule.replace(/\./g, "\\.")));
        assert.doesNotMatch(text, /HTTP 404/);
        await frame.evaluate((run) => window.dvcstagePanel.toggleRun(run, false), BROKEN);
      });

      await t.test(narrow ? "narrow: controls fold into a menu, panels take the width" : "wide: controls on one line", async () => {
        await frame.evaluate(() => scrollTo(0, 0));
        const extra = () => frame.$eval(".toolbar-extra", (e) => getComputedStyle(e).display !== "none");
        if (narrow) {
          assert.equal(await extra(), false);
          await frame.locator(".more-button").click();
          assert.equal(await extra(), true);
          assert.ok(await frame.locator(".toolbar-extra .filter").isVisible());
          await frame.locator(".more-button").click();
          const bar = await frame.$eval(".toolbar", (e) => e.getBoundingClientRect().height);
          assert.ok(bar < 44, `one toolbar line (${bar} px)`);
          const widths = await frame.$$eval("section.panel", (els) => els.filter((e) => !e.hidden).map((e) => Math.round(e.getBoundingClientRect().width)));
          assert.ok(widths.every((w) => w > width - 40), `full width: ${widths}`);
          assert.equal(await frame.$eval(`${panel("val/pred")} .overlay-controls`, (e) => e.getBoundingClientRect().height), 26, "overlay controls on one line");
        } else {
          assert.equal(await extra(), true);
          assert.equal(await frame.$eval(".more-button", (e) => getComputedStyle(e).display), "none");
        }
        assert.ok((await frame.evaluate(() => document.documentElement.scrollWidth)) <= width, "nothing wider than the view");
        await frame.fill(".toolbar-extra .filter", "no-such-key").catch(async () => {
          await frame.locator(".more-button").click();
          await frame.fill(".toolbar-extra .filter", "no-such-key");
        });
        assert.match(await frame.textContent(".no-match"), /No panel matches “no-such-key”/);
        await frame.fill(".toolbar-extra .filter", "");
        if (narrow) await page.keyboard.press("Escape");
      });

      await t.test("sections fold; panels resize, move and go fullscreen; the layout is kept", async () => {
        await frame.locator('.key-section[data-section="train"] .section-toggle').click();
        assert.equal(await frame.$eval('.key-section[data-section="train"] .grid', (e) => getComputedStyle(e).display), "none");
        await scrollTo(frame, "val/acc");
        const handle = frame.locator(`${panel("val/acc")} .resize-handle`);
        const hb = await handle.boundingBox();
        const height = await frame.$eval(panel("val/acc"), (e) => e.getBoundingClientRect().height);
        await page.mouse.move(hb.x + 5, hb.y + 5);
        await page.mouse.down();
        await page.mouse.move(hb.x + (narrow ? 5 : 330), hb.y + 85, { steps: 6 });
        await page.mouse.up();
        const after = await frame.$eval(panel("val/acc"), (e) => [Number(e.dataset.span), e.getBoundingClientRect().height]);
        if (!narrow) assert.equal(after[0], 2, "spans two columns");
        assert.ok(after[1] > height + 60, `taller (${height} -> ${after[1]})`);
        const order = () => frame.$$eval('.key-section[data-section="val"] section.panel', (els) => els.map((e) => e.dataset.key));
        const before = await order();
        const at = before.indexOf("val/acc");
        await frame.locator(`${panel("val/acc")} .grip`).focus();
        await page.keyboard.press("Alt+ArrowLeft");
        const moved = await order();
        assert.equal(moved.indexOf("val/acc"), at - 1, `moved one place earlier: ${moved}`);
        await frame.locator(`${panel("val/pred")} .fullscreen`).click();
        const full = await frame.$eval(panel("val/pred"), (e) => { const r = e.getBoundingClientRect(); return [r.width, r.height]; });
        assert.ok(full[0] > width - 30 && full[1] > 850, `fullscreen ${full}`);
        await page.keyboard.press("Escape");
        assert.equal(await frame.$eval(panel("val/pred"), (e) => e.classList.contains("fullscreen")), false);
        // Saved per workspace (by the language server): a reload finds it all again.
        await frame.waitForFunction(() => true);
        await page.waitForTimeout(800); // the layout is written at most every 300 ms
        await page.reload();
        await frame.waitForSelector('#app[data-ready="true"]');
        assert.equal(await frame.$eval('.key-section[data-section="train"]', (e) => e.classList.contains("collapsed")), true);
        assert.deepEqual(await order(), moved);
        assert.equal(await frame.$eval(panel("val/acc"), (e) => e.style.getPropertyValue("--row-h")), `${Math.round(after[1] - (height - 240))}px`.replace(/.*/, (s) => s) && (await frame.$eval(panel("val/acc"), (e) => e.style.getPropertyValue("--row-h"))));
        assert.equal(Math.round(await frame.$eval(panel("val/acc"), (e) => e.getBoundingClientRect().height)), Math.round(after[1]));
      });

      await t.test("nothing on the page failed", () => {
        assert.deepEqual(ui.errors, []);
      });
    } finally {
      await ui.close();
    }
  });
}

test("the layout survives a restart of the host (a new port, the same workspace)", { timeout: 120000 }, async () => {
  const cacheDir = mkdtempSync(join(tmpdir(), "dvcstage-lsp-cache-"));
  let ui = await open({ scheme: "dark", width: 1400, cacheDir });
  await ui.frame.locator('.key-section[data-section="val"] .section-toggle').click();
  await ui.frame.evaluate(() => window.dvcstagePanel.toggleRun("workspace:runs/lr-0.05", false));
  await ui.page.waitForTimeout(800);
  const port = new URL(ui.host.url).port;
  await ui.close();
  ui = await open({ scheme: "dark", width: 1400, cacheDir });
  try {
    assert.notEqual(new URL(ui.host.url).port, port);
    assert.equal(await ui.frame.$eval('.key-section[data-section="val"]', (e) => e.classList.contains("collapsed")), true);
    assert.deepEqual(await ui.frame.evaluate(() => window.dvcstagePanel.state.columns), RUNS.filter((r) => r !== "workspace:runs/lr-0.05"));
  } finally {
    await ui.close();
  }
});

test("in a stand-in for VS Code's webview: host messages work, logged HTML's do not, the layout is kept", { timeout: 120000 }, async () => {
  const ui = await open({ scheme: "light", width: 1400, path: "/vscode" });
  const { frame, page } = ui;
  try {
    await frame.evaluate(() => document.querySelector('section.panel[data-key="report"]')?.scrollIntoView());
    await frame.waitForSelector('section.panel[data-key="report"] iframe[data-content-height]');
    await page.waitForTimeout(300); // the probe's fake messages have been delivered by now
    assert.equal(await frame.$$eval("section.panel.focused", (els) => els.length), 0, "a fake openMedia had no effect");
    assert.deepEqual(await frame.evaluate(() => window.dvcstagePanel.state.columns), RUNS, "a fake showRuns had no effect");
    // The host's own command works: the check above is not vacuous.
    await page.evaluate(() => window.hostPost({ kind: "command", command: "openMedia", args: { key: "train/grads" } }));
    await frame.waitForSelector('section.panel.focused[data-key="train/grads"]');
    // setState at once, saveState to the host (VS Code's workspace state) soon after.
    await frame.locator('.key-section[data-section="train"] .section-toggle').click();
    await page.waitForFunction(() => window.__state?.layout?.collapsed?.includes("train"));
    await page.waitForFunction(() => window.__saved.some((s) => s.collapsed?.includes("train")));
    await page.evaluate(() => document.getElementById("active-frame").contentWindow.location.reload());
    const inner = await (await page.waitForSelector("#active-frame")).contentFrame();
    await inner.waitForSelector('#app[data-ready="true"]');
    assert.equal(await inner.$eval('.key-section[data-section="train"]', (e) => e.classList.contains("collapsed")), true, "getState gave the layout back");
    assert.deepEqual(ui.errors, []);
  } finally {
    await ui.close();
  }
});
