// Driven by tests/test_view_browser.py: Debian's Chromium (playwright-core from
// vscode-ext/node_modules) opens the URL `dvcstage view` printed, moves the shared slider,
// toggles a class, compares two runs side by side and checks the page's security.
//   node test_view_browser.mjs URL SCREENSHOT.png SPEC
// SPEC (JSON) names the two runs to compare, in column order, each with the shade and last
// step of its logged images (tests/test_view_support.py's LOG_RUN: the pixel at step s is
// ((40 s + shade) % 256, 100, 200), a run past its last step showing its last one), the steps
// to move the shared slider to, and `choose`: pick exactly these runs in the runs menu (once
// the server has listed them) instead of the columns the panel opens with:
//   {"runs": {"RUN": {"shade": 0, "last": 3}, ...}, "steps": [0, 2, 1], "choose": false}
// Prints one JSON line of facts; exits 1 with the reason on the first failure.
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, "..", "vscode-ext", "package.json"));
const { chromium } = require("playwright-core");

const [url, screenshot, specText] = process.argv.slice(2);
const spec = JSON.parse(specText);
const PRED = 'section.panel[data-key="pred"]';
const RUNS = Object.keys(spec.runs);
const shown = (run, step) => Math.min(step, spec.runs[run].last);
const colour = (run, step) => [(40 * shown(run, step) + spec.runs[run].shade) % 256, 100, 200];
const near = (a, b, tol = 3) => a.every((v, i) => Math.abs(v - b[i]) <= tol);
const cell = (run) => `${PRED} .cell[data-run="${run}"]`;
const menuItem = (run) => `.runs-table tr[data-run="${run}"] input`;

function check(ok, message) {
  if (!ok) throw new Error(message);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu"],
});
const facts = {};
try {
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 }, colorScheme: "dark" });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().includes("favicon")) errors.push(m.text());
  });
  page.on("response", (r) => {
    if (r.status() >= 400) errors.push(`HTTP ${r.status()} ${r.url()}`);
  });
  const external = [];
  const files = new Set();
  page.on("request", (r) => {
    const u = new URL(r.url());
    if (u.origin === new URL(url).origin && u.pathname.startsWith("/files/")) files.add(decodeURIComponent(u.pathname));
    if (u.origin !== new URL(url).origin && !["data:", "blob:", "about:"].includes(u.protocol)) external.push(r.url());
  });

  await page.goto(url);
  facts.landed = page.url();
  check(!facts.landed.includes("token"), `the token stays in the address bar: ${facts.landed}`);
  const cookies = await context.cookies();
  check(cookies.length === 1 && cookies[0].httpOnly && cookies[0].sameSite === "Strict", `cookie: ${JSON.stringify(cookies)}`);
  check(await page.evaluate(() => document.cookie) === "", "the page's script can read the cookie");

  // Two runs, side by side: the panel opens with every workspace run as a column; runs of
  // other revisions are listed once the server has found them, and chosen in the runs menu.
  await page.locator(".runs-button").click(); // the runs table
  if (spec.choose) {
    for (const run of RUNS) await page.waitForSelector(menuItem(run), { state: "attached", timeout: 120000 });
    for (const run of RUNS) await page.locator(menuItem(run)).check();
    const others = await page.$$eval(".runs-table tr[data-run]", (els, keep) => els.map((e) => e.dataset.run).filter((r) => !keep.includes(r)), RUNS);
    for (const run of others) await page.locator(menuItem(run)).uncheck();
  }
  for (const run of RUNS) await page.waitForSelector(`${cell(run)} .stage[data-step]`, { timeout: 60000 });
  facts.menu = await page.$$eval(".runs-table tr[data-run]", (els) => els.map((e) => e.dataset.run));
  await page.locator(".runs-button").click();
  facts.cells = await page.$$eval(`${PRED} .cell`, (els) => els.map((e) => e.dataset.run));
  // Each column's run: its short name shown, its full name (kind, commit) on hover.
  facts.columns = await page.$$eval(".columns-header .column-title", (els) => els.map((e) => e.getAttribute("title")));
  facts.labels = await page.$$eval(".columns-header .column-title", (els) => els.map((e) => e.textContent));

  // Image pixel (x, y) of a column's stage, read from its canvas (base image or overlay).
  const read = (run, layer, x, y) =>
    page.evaluate(({ sel, layer, x, y }) => {
      const over = document.querySelector(`${sel} .stage-over`);
      const s = Number(over.dataset.scale);
      const cx = Number(over.dataset.ox) + x * s;
      const cy = Number(over.dataset.oy) + y * s;
      const canvas = document.querySelector(`${sel} .stage-${layer}`);
      const dpr = canvas.width / canvas.clientWidth;
      return [...canvas.getContext("2d").getImageData(Math.round(cx * dpr), Math.round(cy * dpr), 1, 1).data];
    }, { sel: cell(run), layer, x, y });
  const nextFrame = () => page.evaluate(() => new Promise((ok) => requestAnimationFrame(() => ok())));

  // The shared slider moves every column.
  const steps = await page.evaluate(() => window.dvcstagePanel.state.allSteps());
  facts.steps = steps;
  facts.seen = {};
  for (const step of spec.steps) {
    check(steps.includes(step), `step ${step} is not on the slider: ${steps}`);
    await page.evaluate(({ index }) => {
      const input = document.querySelector("input.shared-slider");
      input.value = String(index);
      input.dispatchEvent(new Event("input", { bubbles: true }));
    }, { index: steps.indexOf(step) });
    for (const run of RUNS) await page.waitForSelector(`${cell(run)} .stage[data-step="${shown(run, step)}"]`, { timeout: 20000 });
    await nextFrame();
    for (const run of RUNS) {
      const got = (await read(run, "base", 62, 2)).slice(0, 3); // a corner no box or mask covers
      facts.seen[`${run}@${step}`] = got;
      check(near(got, colour(run, step)), `${run} step ${step}: ${got} is not ${colour(run, step)}`);
    }
  }
  // Where the images drawn come from: the URLs the answers named (small images travel inside
  // the dvcstage/items answer, beside their URL; the others are fetched from it).
  facts.images = await page.evaluate(async (wanted) => {
    const loader = window.dvcstagePanel.loader;
    const out = [];
    for (const [run, steps] of wanted) {
      for (const step of steps) {
        const item = await loader.item(run, "pred", step).promise.catch(() => undefined);
        const image = item?.files.find((f) => f.role === "image");
        if (image) out.push({ uri: decodeURIComponent(image.uri), inline: image.data !== undefined });
      }
    }
    return out;
  }, RUNS.map((run) => [run, spec.steps.map((step) => shown(run, step))]));

  // Toggling a class hides its boxes in every column (cat: top 8, left 10, bottom 30, right 40).
  const edge = (run) => read(run, "over", 10, 20);
  // Boxes may be dashed (predictions beside ground truth): look along a stretch of the edge.
  const drawn = async (run, x, y0, y1) => {
    let hit = 0;
    for (let y = y0; y <= y1; y += 0.5) if ((await read(run, "over", x, y))[3] === 255) hit++;
    return hit;
  };
  for (const run of RUNS) check((await drawn(run, 10, 12, 26)) > 5, `${run}: the cat box is not drawn`);
  await page.locator(`${PRED} [data-class="cat"] input`).first().uncheck();
  await nextFrame();
  for (const run of RUNS) check((await drawn(run, 10, 12, 26)) === 0, `${run}: the cat box is still drawn`);
  check((await drawn(RUNS[0], 30, 24, 36)) > 5, "the dog box went too");
  await page.locator(`${PRED} [data-class="cat"] input`).first().check();
  await nextFrame();
  for (const run of RUNS) check((await drawn(run, 10, 12, 26)) > 5, `${run}: the cat box did not come back`);
  facts.classToggle = true;

  // The runs table removes and brings back a column.
  await page.locator(".runs-button").click();
  await page.locator(menuItem(RUNS[1])).uncheck();
  await page.waitForSelector(cell(RUNS[1]), { state: "detached", timeout: 10000 });
  await page.locator(menuItem(RUNS[1])).check();
  await page.waitForSelector(`${cell(RUNS[1])} .stage[data-step]`, { timeout: 20000 });
  await page.locator(".runs-button").click();
  facts.runsMenu = true;

  // Logged HTML: a sandboxed frame that is never same-origin.
  await page.evaluate(() => document.querySelector('section.panel[data-key="page"]')?.scrollIntoView());
  const frame = page.locator('section.panel[data-key="page"] iframe').first();
  await frame.waitFor({ timeout: 20000 });
  facts.sandbox = await frame.getAttribute("sandbox");
  check(facts.sandbox !== null && !facts.sandbox.includes("allow-same-origin"), `sandbox: ${facts.sandbox}`);

  // The page's policy: the header and the <meta> both forbid inline script.
  const response = await page.request.get(new URL("/", url).href);
  facts.csp = response.headers()["content-security-policy"];
  check(/script-src 'nonce-[^']+'(;|$)/.test(facts.csp), `CSP: ${facts.csp}`);
  if (screenshot) {
    await page.locator("input.filter").fill("pred");
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.waitForTimeout(300);
    await page.screenshot({ path: screenshot });
  }
  facts.files = [...files].sort();
  check(external.length === 0, `requests left the server: ${external}`);
  check(errors.length === 0, `console errors: ${errors.join(" | ")}`);
  console.log(JSON.stringify(facts));
} catch (err) {
  console.log(JSON.stringify({ error: String(err?.stack ?? err), facts }));
  process.exitCode = 1;
} finally {
  await browser.close();
}
