// The README's pictures of the panel (docs/images/), from four runs logged by make_runs.py
// --pretty and served like `dvcstage view` serves them. Not a test: look at each picture.
//   node test/browser/screenshots.mjs [OUT_DIR]     (default: ../docs/images)
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { CHROMIUM } from "./harness.mjs";
import { python, startHost } from "./host.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(process.argv[2] ?? join(here, "..", "..", "..", "docs", "images"));
const dir = mkdtempSync(join(tmpdir(), "dvcstage-shots-"));
execFileSync(python(), [join(here, "make_runs.py"), dir, "--pretty"], { cwd: dir });
const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu"] });

async function shoot(name, { scheme = "dark", width = 1400, height = 900 }, act) {
  const host = await startHost({ workspace: dir });
  const page = await browser.newPage({ viewport: { width, height }, colorScheme: scheme, deviceScaleFactor: 1 });
  await page.goto(host.url);
  await page.waitForSelector('#app[data-ready="true"]');
  const clip = await act(page);
  await page.waitForTimeout(600);
  await page.screenshot({ path: join(out, name), ...(clip ? { clip } : {}) });
  console.log(`${join(out, name)}`);
  await page.close();
  await host.close();
}

const settle = (page) => page.waitForFunction(() => [...document.querySelectorAll("section.panel .stage")].filter((s) => s.getBoundingClientRect().top < innerHeight).every((s) => s.dataset.step !== undefined));
const boxOf = async (page, selector, pad = 8) => {
  const b = await page.locator(selector).boundingBox();
  return { x: Math.max(0, b.x - pad), y: Math.max(0, b.y - pad), width: b.width + 2 * pad, height: b.height + 2 * pad };
};

try {
  await shoot("workspace-sections.png", { height: 1000 }, async (page) => {
    await page.evaluate(() => window.dvcstagePanel.setSharedStep(6));
    await page.waitForSelector('section.panel[data-key="train/grads"] .histogram[data-range]');
    await settle(page);
    return undefined;
  });
  await shoot("runs-table.png", { scheme: "light", height: 700 }, async (page) => {
    await page.locator(".runs-button").click();
    await page.waitForSelector(".runs-table td[data-column='param:train.lr']");
    await page.locator(".runs-table th", { hasText: "train.lr" }).click();
    await page.locator(".runs-table th", { hasText: "train.lr" }).click();
    return boxOf(page, ".top", 0);
  });
  await shoot("chart-and-images.png", { height: 760 }, async (page) => {
    await page.locator('.key-section[data-section="train"] .section-toggle').click();
    await page.evaluate(() => window.dvcstagePanel.setSharedStep(4));
    await page.waitForSelector('section.panel[data-key="val/loss"] .u-over');
    await settle(page);
    const over = await page.locator('section.panel[data-key="val/loss"] .u-over').boundingBox();
    await page.mouse.move(over.x + over.width * 0.44, over.y + over.height * 0.5);
    await page.waitForSelector('section.panel[data-key="val/loss"] .chart-tip:not([hidden])');
    const a = await page.locator('section.panel[data-key="val/pred"]').boundingBox();
    const b = await page.locator('section.panel[data-key="val/loss"]').boundingBox();
    return { x: 0, y: 0, width: 1400, height: Math.max(a.y + a.height, b.y + b.height) + 10 };
  });
  await shoot("histogram-axes.png", { scheme: "light" }, async (page) => {
    await page.locator("section.panel[data-key='train/grads'] .log-toggle input").check();
    await page.waitForSelector('section.panel[data-key="train/grads"] .histogram[data-range]');
    const heat = await page.locator('section.panel[data-key="train/grads"] canvas.heatmap').nth(3).boundingBox();
    await page.mouse.move(heat.x + heat.width * 0.6, heat.y + heat.height * 0.5);
    return boxOf(page, 'section.panel[data-key="train/grads"]');
  });
  await shoot("table-filtered.png", { height: 1000 }, async (page) => {
    const sel = 'section.panel[data-key="val/examples"]';
    await page.evaluate((s) => document.querySelector(s).scrollIntoView({ block: "center" }), sel);
    const first = `${sel} .cell >> nth=0`;
    await page.locator(`${first} >> .table-filter-class[data-ready="true"]`).waitFor();
    await page.locator(`${first} >> .table-filter-class`).selectOption("bike");
    await page.waitForTimeout(300);
    return boxOf(page, sel);
  });
  await shoot("narrow-light.png", { scheme: "light", width: 420, height: 900 }, async (page) => {
    await page.evaluate(() => window.dvcstagePanel.setSharedStep(5));
    await page.evaluate(() => document.querySelector('section.panel[data-key="val/pred"]').scrollIntoView({ block: "start" }));
    await page.evaluate(() => scrollBy(0, -110));
    await settle(page);
    return undefined;
  });
} finally {
  await browser.close();
}
