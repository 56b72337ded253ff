// Shared set-up of the browser tests and the measurement: a logged workspace, the host with
// the real language server, and Debian's Chromium through playwright-core.
import { chromium } from "playwright-core";
import { makeWorkspace, startHost } from "./host.mjs";

export const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";

export async function openPanel({ colorScheme = "dark", viewport = { width: 1000, height: 900 }, bench = false } = {}) {
  const { dir, facts } = makeWorkspace(undefined, { bench });
  const host = await startHost({ workspace: dir });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu"] });
  const page = await browser.newPage({ viewport, colorScheme, deviceScaleFactor: 1 });
  const errors = [];
  const blocked = []; // what the HTML probe tried and the policy refused, on purpose
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => {
    if (m.type() !== "error" || m.text().includes("favicon")) return;
    (m.text().includes("dvcstageLoaded") ? blocked : errors).push(m.text());
  });
  // Messages from logged HTML's sandboxed frames (the HTML test's probe), from the start.
  await page.addInitScript(() => {
    window.__probe = [];
    window.__loaded = [];
    addEventListener("message", (e) => e.data?.dvcstageProbe && window.__probe.push(e.data.dvcstageProbe));
    addEventListener("message", (e) => e.data?.dvcstageLoaded && window.__loaded.push(e.data));
  });
  await page.goto(host.url);
  await page.waitForSelector('section.panel[data-key="pred"] .stage[data-step]', { timeout: 30000 });
  return {
    dir, facts, host, browser, page, errors, blocked,
    async close() {
      await browser.close();
      await host.close();
    },
  };
}

/** Scrolls a key's panel into view (panels load their cells only when on screen). */
export async function showPanel(page, key) {
  await page.evaluate((k) => document.querySelector(`section.panel[data-key="${k}"]`)?.scrollIntoView({ block: "start" }), key);
}

/** RGBA of a canvas pixel at CSS pixel (x, y) of the given stage canvas. */
export async function pixel(page, selector, x, y) {
  return page.evaluate(({ selector, x, y }) => {
    const canvas = document.querySelector(selector);
    const dpr = canvas.width / canvas.clientWidth;
    return [...canvas.getContext("2d").getImageData(Math.round(x * dpr), Math.round(y * dpr), 1, 1).data];
  }, { selector, x, y });
}

/** The screen position (CSS px in the canvas) of image pixel (x, y), from the stage's transform. */
export async function toScreen(page, key, x, y) {
  return page.evaluate(({ key, x, y }) => {
    const over = document.querySelector(`section.panel[data-key="${key}"] .stage-over`);
    const s = Number(over.dataset.scale);
    return [Number(over.dataset.ox) + x * s, Number(over.dataset.oy) + y * s];
  }, { key, x, y });
}

export async function setRange(page, selector, value) {
  await page.evaluate(({ selector, value }) => {
    const input = document.querySelector(selector);
    input.value = String(value);
    input.dispatchEvent(new Event("input", { bubbles: true }));
  }, { selector, value });
}

export async function nextFrame(page) {
  await page.evaluate(() => new Promise((ok) => requestAnimationFrame(() => ok())));
}

/**
 * The share of an overlay line's pixels drawn in `rgb` (alpha 255, within `tol`), sampled
 * every CSS pixel from image point a to b of a key's stage (optionally within one cell).
 * A solid edge gives about 1, a dashed one about 0.6, a hidden one 0.
 */
export async function lineCoverage(page, key, a, b, rgb, { cell, tol = 40 } = {}) {
  return page.evaluate(({ key, a, b, rgb, cell, tol }) => {
    const scope = cell ? `section.panel[data-key="${key}"] .cell[data-run="${cell}"]` : `section.panel[data-key="${key}"]`;
    const over = document.querySelector(`${scope} .stage-over`);
    const s = Number(over.dataset.scale);
    const ox = Number(over.dataset.ox);
    const oy = Number(over.dataset.oy);
    const dpr = over.width / over.clientWidth;
    const ctx = over.getContext("2d");
    const [x0, y0] = [ox + a[0] * s, oy + a[1] * s];
    const [x1, y1] = [ox + b[0] * s, oy + b[1] * s];
    const n = Math.max(2, Math.round(Math.hypot(x1 - x0, y1 - y0)));
    let hit = 0;
    for (let i = 1; i < n; i++) {
      const x = x0 + ((x1 - x0) * i) / n;
      const y = y0 + ((y1 - y0) * i) / n;
      // The 2 px line may sit on either side of the exact coordinate: look at both.
      let found = false;
      for (const [dx, dy] of [[0, 0], [-1, 0], [0, -1], [1, 0], [0, 1]]) {
        const d = ctx.getImageData(Math.round((x + dx) * dpr), Math.round((y + dy) * dpr), 1, 1).data;
        if (d[3] === 255 && (!rgb || rgb.every((v, k) => Math.abs(v - d[k]) <= tol))) found = true;
      }
      if (found) hit++;
    }
    return hit / (n - 1);
  }, { key, a, b, rgb, cell, tol });
}
