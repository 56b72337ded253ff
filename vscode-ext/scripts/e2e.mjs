// The Chromium side of scripts/e2e.sh: opens code-server, the DVC Media view, and checks the
// panel through the extension host. Env: E2E_MODE, E2E_PORT, E2E_WORKSPACE, E2E_SHOT and
// E2E_PYTHON_WITHOUT_DVCSTAGE (optional: checks the missing-dvcstage message).
//
// E2E_MODE=panel (the real panel): press End on the shared slider `input#shared-step` and require
// that the image stage (`.stage[data-step]`) shows the last step, that its image canvas
// (`.stage-base`) looks different and that its box canvas (`.stage-over`) drew other boxes; the
// image came inside its dvcstage/items answer and ImageDecoder decoded it.
// E2E_MODE=host (a stub page): act as the panel, through the webview's own postMessage API, and
// check the host's side of docs/panel-host.md: forwarding, URI rewriting, small images inside a
// dvcstage/items answer, errors, showRuns.
import { chromium } from "playwright-core";

const port = need("E2E_PORT");
const workspace = need("E2E_WORKSPACE");
const shot = need("E2E_SHOT");
const realPanel = need("E2E_MODE") === "panel";
const EXTENSION_ID = "dvcstage.dvcstage";
const RUN = "workspace:dvclive";
const LAST_STEP = 3;

function need(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}
const t0 = Date.now();
const log = (msg) => console.log(`e2e.mjs [${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}`);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
});
let failed = false;
const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
try {
  const consoleErrors = [];
  page.on("console", (m) => {
    if (m.type() === "error") consoleErrors.push(m.text());
  });
  await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`);
  await page.waitForSelector(".monaco-workbench", { timeout: 60_000 });
  log("workbench loaded");

  await page.locator('.activitybar .action-item a[aria-label^="DVC Media"]').click({ timeout: 60_000 });
  const outer = page.locator(`iframe.webview.ready[src*="extensionId=${EXTENSION_ID}"]`);
  await outer.waitFor({ timeout: 60_000 });
  const frame = await innerFrame(outer);
  await frame.waitForSelector("#app", { state: "attached", timeout: 30_000 });
  const csp = await frame.evaluate(() => document.querySelector('meta[http-equiv="Content-Security-Policy"]')?.getAttribute("content") ?? "");
  check(csp.startsWith("default-src 'none'") && /script-src 'nonce-[A-Za-z0-9]+'/.test(csp), `the page has the strict CSP (${csp})`);
  log(`panel page loaded (${realPanel ? "real panel" : "host mode: a stub page, the driver acts as the panel"})`);

  if (realPanel) {
    await driveSlider(frame);
    await clickChartPoint(frame);
  } else await actAsPanel(frame);

  await chooseRunsFromPalette(frame);
  await openMediaFromCodeLens(frame);
  await widenSideBar();
  await page.screenshot({ path: shot });
  log(`screenshot ${shot}`);
  await missingDvcstageMessage();
  const cspViolations = consoleErrors.filter((e) => /Content Security Policy/i.test(e) && !/vscode-cdn|workbench/i.test(e));
  check(cspViolations.length === 0, `no CSP violations in the panel: ${cspViolations.join(" | ")}`);
} catch (err) {
  failed = true;
  console.error(`e2e.mjs: FAILED: ${err instanceof Error ? err.stack ?? err.message : err}`);
  await page.screenshot({ path: shot }).catch(() => {});
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);

function check(ok, what) {
  if (!ok) throw new Error(`check failed: ${what}`);
  log(`ok: ${what}`);
}

/** The webview is an outer iframe (per extension) holding iframe#active-frame, the page itself. */
async function innerFrame(outer) {
  const outerFrame = await (await outer.elementHandle()).contentFrame();
  const inner = outerFrame.locator("iframe#active-frame");
  await inner.waitFor({ state: "attached", timeout: 30_000 });
  return (await inner.elementHandle()).contentFrame();
}

/** The real panel: End on the shared slider moves every column to the last step. */
async function driveSlider(frame) {
  const slider = frame.locator("input#shared-step[type=range], input.shared-slider[type=range]").first();
  await slider.waitFor({ timeout: 60_000 });
  const stage = frame.locator(".stage[data-step]").first();
  await stage.waitFor({ timeout: 60_000 });
  await slider.focus();
  await slider.press("Home");
  await waitForStep(frame, "0");
  await frame.waitForTimeout(300); // the image of step 0 is decoded and drawn
  const before = await stageState(frame, stage);
  check(before.boxes !== before.blank, "step 0: the box canvas has boxes drawn on it");
  await slider.press("End");
  await waitForStep(frame, String(LAST_STEP));
  let after = before;
  for (let i = 0; i < 50; i++) {
    await frame.waitForTimeout(100);
    after = await stageState(frame, stage);
    if (after.image.compare(before.image) !== 0 && after.boxes !== before.boxes) break;
  }
  check(after.step === String(LAST_STEP), `the slider moved the image from step ${before.step} to step ${after.step}`);
  check(after.image.compare(before.image) !== 0, "the image changed on screen");
  check(after.boxes !== before.boxes && after.boxes !== after.blank, "its boxes changed");
  // The host sent the pictures inside the dvcstage/items answers; ImageDecoder decoded them.
  const inline = await frame.evaluate(async ({ run, step }) => {
    const loader = window.dvcstagePanel.loader;
    const item = await loader.item(run, "pred", step).promise;
    return { data: item.files.find((f) => f.role === "image")?.data?.slice(0, 12), decodes: loader.decodes };
  }, { run: RUN, step: LAST_STEP });
  check(inline.data === "iVBORw0KGgoA", `the image of step ${LAST_STEP} came inside its answer (${JSON.stringify(inline)})`);
  check(inline.decodes.decoder > 0 && inline.decodes.blob === 0, `ImageDecoder decoded the images in the webview (${JSON.stringify(inline.decodes)})`);
}

/** The metric chart of `loss`: its cursor follows the slider; a click on step 1 moves the image there. */
async function clickChartPoint(frame) {
  const chart = frame.locator('section.panel[data-key="loss"]');
  await chart.scrollIntoViewIfNeeded();
  const over = chart.locator(".u-over");
  await over.waitFor({ timeout: 30_000 });
  const cursor = await chart.locator(".step-cursor").getAttribute("data-step");
  check(cursor === String(LAST_STEP), `the chart's step cursor stands at the slider's step (${cursor})`);
  const box = await over.boundingBox();
  await over.click({ position: { x: box.width / 3, y: box.height / 2 } }); // steps 0..3 across: step 1
  await waitForStep(frame, "1");
  const slider = await frame.locator("input#shared-step").inputValue();
  check(slider === "1", `a click on the chart at step 1 moved the shared slider and the image there (slider ${slider})`);
  const moved = await chart.locator(".step-cursor").getAttribute("data-step");
  check(moved === "1", `and the cursor (${moved})`);
}

async function waitForStep(frame, step) {
  await frame.waitForFunction((s) => document.querySelector(".stage[data-step]")?.getAttribute("data-step") === s, step, { timeout: 30_000 });
}

/** The stage's step, a screenshot of its image canvas and the pixels of its box canvas (boxes only: never tainted). */
async function stageState(frame, stage) {
  const image = await stage.locator(".stage-base").screenshot();
  const { step, boxes, blank } = await stage.evaluate((el) => {
    const over = el.querySelector(".stage-over");
    const empty = document.createElement("canvas");
    empty.width = over?.width ?? 0;
    empty.height = over?.height ?? 0;
    return { step: el.getAttribute("data-step"), boxes: over?.toDataURL() ?? "", blank: empty.toDataURL() };
  });
  return { step, image, boxes, blank };
}

/** Host mode (a stub page): send the requests the panel would and check what the host answers. */
async function actAsPanel(frame) {
  const answers = await frame.evaluate(
    async ({ run, lastStep }) => {
      const api = acquireVsCodeApi();
      const commands = [];
      window.__commands = commands;
      const waiting = new Map();
      window.addEventListener("message", (e) => {
        const msg = e.data;
        if (msg?.kind === "response" && waiting.has(msg.id)) waiting.get(msg.id)(msg);
        if (msg?.kind === "command") commands.push(msg);
      });
      let next = 1000;
      const ask = (method, params) =>
        new Promise((resolve, reject) => {
          const id = next++;
          const timer = setTimeout(() => reject(new Error(`no answer to ${method}`)), 60_000);
          waiting.set(id, (msg) => {
            clearTimeout(timer);
            resolve(msg);
          });
          api.postMessage({ kind: "request", id, method, params });
        });
      const runs = await ask("dvcstage/runs", null);
      const items = [];
      for (const step of [0, lastStep]) items.push(await ask("dvcstage/item", { run, key: "pred", step }));
      const batch = await ask("dvcstage/items", { items: [{ run, key: "pred", step: lastStep }] });
      const refused = await ask("textDocument/hover", {});
      const unknownRun = await ask("dvcstage/media", { run: "workspace:nope" });
      const loaded = [];
      for (const item of items) {
        const uri = item.result?.files?.find((f) => f.role === "image")?.uri ?? "";
        const img = document.createElement("img");
        img.src = uri;
        document.getElementById("app").append(img);
        try {
          await img.decode();
        } catch {}
        loaded.push({ uri, width: img.naturalWidth, height: img.naturalHeight });
      }
      return { runs, items, batch, refused, unknownRun, loaded };
    },
    { run: RUN, lastStep: LAST_STEP },
  );
  const runIds = answers.runs.result?.runs?.map((r) => r.id) ?? [];
  check(runIds.includes(RUN), `dvcstage/runs through the host lists ${RUN} (${JSON.stringify(answers.runs).slice(0, 400)})`);
  const boxes = answers.items.map((i) => i.result?.sidecar?.boxes?.predictions?.box_data?.[0]?.position?.minX);
  check(boxes[0] !== undefined && boxes[1] !== undefined && boxes[0] !== boxes[1], `dvcstage/item at steps 0 and ${LAST_STEP}: the box moved (minX ${boxes.join(" -> ")})`);
  for (const { uri, width, height } of answers.loaded) {
    check(/^https:\/\/[^/]*\.vscode-resource\.vscode-cdn\.net\//.test(uri), `file URI rewritten for the webview: ${uri}`);
    check(width === 64 && height === 48, `the image loads in the webview under the CSP (${width}x${height})`);
  }
  const inlined = answers.batch.result?.items?.[0]?.result?.files?.find((f) => f.role === "image");
  check(inlined?.data?.startsWith("iVBORw0KGgo") && /vscode-resource/.test(inlined.uri), `dvcstage/items carries the small image inside its answer, beside its webview URI (${JSON.stringify(inlined).slice(0, 300)})`);
  check(answers.refused.error?.code === -32601, `a non-dvcstage method is refused with -32601 (${JSON.stringify(answers.refused.error)})`);
  check(answers.unknownRun.error?.code === -32001, `the server's errors pass through (${JSON.stringify(answers.unknownRun.error)})`);
}

/** "DVC Media: Choose Runs…" from the command palette; with the placeholder, the panel gets showRuns. */
async function chooseRunsFromPalette(frame) {
  await page.locator(".statusbar").click({ position: { x: 5, y: 5 } });
  await page.keyboard.press("F1");
  const input = page.locator(".quick-input-widget input.input");
  await input.waitFor({ timeout: 10_000 });
  await input.fill(">DVC Media: Choose Runs");
  await page.locator(".quick-input-list .monaco-list-row", { hasText: "Choose Runs" }).first().waitFor({ timeout: 10_000 });
  await page.keyboard.press("Enter");
  await page.locator(".quick-input-list .monaco-list-row", { hasText: "dvclive" }).first().waitFor({ timeout: 30_000 });
  await page.keyboard.press("Enter"); // accept: every run is pre-picked
  log("chose runs from the command palette");
  if (!realPanel) {
    let commands = [];
    for (let i = 0; i < 50 && commands.length === 0; i++) {
      commands = await frame.evaluate(() => window.__commands);
      if (commands.length === 0) await frame.waitForTimeout(100);
    }
    check(
      JSON.stringify(commands[0]) === JSON.stringify({ kind: "command", command: "showRuns", args: { runs: [RUN] } }),
      `the panel got showRuns (${JSON.stringify(commands)})`,
    );
  }
}

/** Drags the side bar's edge so that the screenshot shows the panel at a readable width. */
async function widenSideBar() {
  const sidebar = await page.locator(".part.sidebar").boundingBox();
  if (!sidebar) return;
  const x = sidebar.x + sidebar.width;
  const y = sidebar.y + sidebar.height / 2;
  await page.mouse.move(x - 1, y);
  await page.mouse.down();
  await page.mouse.move(x + 360, y, { steps: 8 });
  await page.mouse.up();
  await page.waitForTimeout(800); // the panel lays out and redraws at the new width
}

/** The code lens above `live.log_image(...)` in train.py opens the panel on that key. */
async function openMediaFromCodeLens(frame) {
  await page.locator(".statusbar").click({ position: { x: 5, y: 5 } }); // keys to the workbench, not the webview
  await page.keyboard.press("Control+P");
  const input = page.locator(".quick-input-widget input.input");
  await input.waitFor({ timeout: 10_000 });
  await input.fill("train.py");
  await page.locator(".quick-input-list .monaco-list-row", { hasText: "train.py" }).first().waitFor({ timeout: 10_000 });
  await page.keyboard.press("Enter");
  const lens = page.locator(".contentWidgets .codelens-decoration a", { hasText: "dvcstage: pred" }).first();
  await lens.waitFor({ timeout: 60_000 });
  check(/dvcstage: pred — 4 steps/.test(await lens.innerText()), `the code lens reads "${await lens.innerText()}"`);
  if (!realPanel) await frame.evaluate(() => window.__commands.splice(0));
  await lens.click();
  if (!realPanel) {
    let commands = [];
    for (let i = 0; i < 50 && commands.length === 0; i++) {
      commands = await frame.evaluate(() => window.__commands);
      if (commands.length === 0) await frame.waitForTimeout(100);
    }
    check(
      JSON.stringify(commands[0]) === JSON.stringify({ kind: "command", command: "openMedia", args: { run: RUN, key: "pred" } }),
      `the code lens sent openMedia to the panel (${JSON.stringify(commands)})`,
    );
  } else {
    await page.locator(`iframe.webview.ready[src*="extensionId=${EXTENSION_ID}"]`).waitFor({ timeout: 10_000 });
    log("clicked the code lens; the panel is shown");
  }
}

/** With a Python that lacks dvcstage (set in the Settings editor), the user is told how to install it. */
async function missingDvcstageMessage() {
  const python = process.env.E2E_PYTHON_WITHOUT_DVCSTAGE;
  if (!python) {
    log("skipped the missing-dvcstage message (no Python without dvcstage given)");
    return;
  }
  await runCommand("Preferences: Open User Settings", "Preferences: Open User Settings");
  const search = page.locator(".settings-editor .settings-header .suggest-input-container textarea, .settings-editor .settings-header textarea").first();
  await search.waitFor({ timeout: 30_000 });
  await search.fill("dvcstage.pythonPath");
  // code-server is a remote: a machine-overridable setting is edited under the Remote tab.
  await page.locator(".settings-editor .settings-tabs-widget .action-label", { hasText: "Remote" }).first().click();
  // The item whose description names the server (the list shows other settings until the search applies).
  const field = page.locator(".settings-editor .setting-item-contents", { hasText: "dvcstage_lsp" }).locator("input.input").first();
  await field.waitFor({ timeout: 30_000 });
  await field.fill(python);
  await field.press("Tab");
  const toast = page.locator(".notification-toast", { hasText: "dvcstage is not installed" });
  await toast.waitFor({ timeout: 60_000 });
  const text = await toast.innerText();
  check(
    text.includes(`${python} -m pip install 'dvcstage-`) &&
      /-py3-none-any\.whl\[lsp\]' in the folder of the wheel/.test(text) &&
      text.includes("from a checkout of dvcstage"),
    `the message names the install command (the wheel beside the .vsix, a checkout): ${text.replace(/\s+/g, " ")}`,
  );
  check((await toast.locator(".monaco-button", { hasText: "Open Settings" }).count()) === 1, "the message has an Open Settings button");
  await page.screenshot({ path: shot.replace(/\.png$/, "-missing-dvcstage.png") });
}

async function runCommand(typed, label) {
  await page.locator(".statusbar").click({ position: { x: 5, y: 5 } });
  await page.keyboard.press("F1");
  const input = page.locator(".quick-input-widget input.input");
  await input.waitFor({ timeout: 10_000 });
  await input.fill(`>${typed}`);
  await page.locator(".quick-input-list .monaco-list-row", { hasText: label }).first().waitFor({ timeout: 10_000 });
  await page.keyboard.press("Enter");
}
