// Driven by tests/test_view_loading.py: how the panel of `dvcstage view` loads what a slider
// move shows and what it may show next, seen in Debian's Chromium (playwright-core from
// vscode-ext/node_modules) from the WebSocket frames the page sends and receives, and from the
// pixels it draws:
// - a jump asks for the new step's items alone, in a request of their own, then loads ahead
//   only its nearest steps (2 further in its direction, 1 the other way);
// - while the slider moves one step at a time, it loads further ahead in the direction of
//   travel at every move (8 steps, then 10, 12, ... at most 24);
// - the images travel inside the answers and are decoded by ImageDecoder (no Blob).
//   node test_view_loading.mjs URL SPEC
// SPEC (JSON): the runs shown with the shade of their images (tests/test_view_support.py's
// LOG_RUN: the pixel at step s is ((40 s + shade) % 256, 100, 200)) and the steps logged:
//   {"runs": {"workspace:dvclive": 0, "workspace:other": 120}, "steps": 40}
// Prints one JSON line of facts; exits 1 with the reason on the first failure.
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, "..", "vscode-ext", "package.json"));
const { chromium } = require("playwright-core");

const [url, specText] = process.argv.slice(2);
const spec = JSON.parse(specText);
const RUNS = Object.keys(spec.runs);
const PRED = 'section.panel[data-key="pred"]';
const cell = (run) => `${PRED} .cell[data-run="${run}"]`;
const colour = (run, step) => [(40 * step + spec.runs[run]) % 256, 100, 200];
const near = (a, b, tol = 3) => a.every((v, i) => Math.abs(v - b[i]) <= tol);

function check(ok, message) {
  if (!ok) throw new Error(message);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu"],
});
const facts = {};
try {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 }, colorScheme: "dark" });
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().includes("favicon")) errors.push(m.text());
  });
  // Every dvcstage/items request the page sends (the steps of "pred" it names, in order), and
  // whether the answers carried their images.
  const requests = [];
  const answers = { images: 0, inline: 0 };
  page.on("websocket", (ws) => {
    ws.on("framesent", ({ payload }) => {
      const message = JSON.parse(String(payload));
      if (message.method !== "dvcstage/items") return;
      const items = message.params.items;
      requests.push({ size: items.length, pred: items.filter((i) => i.key === "pred").map((i) => i.step) });
    });
    ws.on("framereceived", ({ payload }) => {
      const message = JSON.parse(String(payload));
      for (const answer of message.result?.items ?? []) {
        for (const file of answer.result?.files ?? []) {
          if (file.role !== "image" || !file.exists) continue;
          answers.images++;
          if (typeof file.data === "string") answers.inline++;
        }
      }
    });
  });
  await page.goto(url);
  for (const run of RUNS) await page.waitForSelector(`${cell(run)} .stage[data-step]`, { timeout: 60000 });
  const steps = await page.evaluate(() => window.dvcstagePanel.state.allSteps());
  check(steps.length === spec.steps, `${spec.steps} steps on the slider: ${steps}`);
  await page.evaluate(() => window.dvcstagePanel.loader.idle());

  // Image pixel (x, y) of a run's stage (the picture's canvas).
  const read = (run, x, y) =>
    page.evaluate(({ sel, x, y }) => {
      const over = document.querySelector(`${sel} .stage-over`);
      const s = Number(over.dataset.scale);
      const canvas = document.querySelector(`${sel} .stage-base`);
      const dpr = canvas.width / canvas.clientWidth;
      const cx = (Number(over.dataset.ox) + x * s) * dpr;
      const cy = (Number(over.dataset.oy) + y * s) * dpr;
      return [...canvas.getContext("2d").getImageData(Math.round(cx), Math.round(cy), 1, 1).data];
    }, { sel: cell(run), x, y });

  /** Moves the shared slider to `step`; once every cell shows its picture and nothing is
   * loading any more, the requests the move sent. */
  const move = async (step) => {
    const mark = requests.length;
    await page.evaluate((index) => {
      const input = document.querySelector("input.shared-slider");
      input.value = String(index);
      input.dispatchEvent(new Event("input", { bubbles: true }));
    }, steps.indexOf(step));
    for (const run of RUNS) await page.waitForSelector(`${cell(run)} .stage[data-step="${step}"]`, { timeout: 30000 });
    for (const run of RUNS) {
      const got = (await read(run, 62, 2)).slice(0, 3); // a corner no box or mask covers
      check(near(got, colour(run, step)), `${run} step ${step}: ${got} is not ${colour(run, step)}`);
    }
    await page.evaluate(() => window.dvcstagePanel.loader.idle());
    return requests.slice(mark).filter((r) => r.pred.length);
  };
  const stepsOf = (sent) => [...new Set(sent.flatMap((r) => r.pred))].sort((a, b) => a - b);

  // A jump back from the last step: its items alone first, then 2 steps further back and 1
  // forward.
  let sent = await move(3);
  facts.jump3 = sent;
  check(sent.length >= 1 && sent[0].pred.every((s) => s === 3) && sent[0].pred.length === RUNS.length, `a jump's items come first, alone: ${JSON.stringify(sent)}`);
  check(JSON.stringify(stepsOf(sent)) === "[1,2,3,4]", `after a jump back to 3, steps 1-4 are asked for: ${stepsOf(sent)}`);

  // Then one step at a time forward: each move reaches two steps further ahead than the one
  // before (8 steps ahead at the first).
  facts.reach = [];
  const scrubbed = [4, 5, 6, 7, 8, 9];
  for (const step of scrubbed) {
    sent = await move(step);
    const asked = stepsOf(sent);
    facts.reach.push(asked.length ? asked[asked.length - 1] : null);
    check(asked.every((s) => s > step), `step ${step}: only steps ahead were asked for (the step itself was loaded): ${asked}`);
  }
  const expected = scrubbed.map((s, k) => s + Math.min(24, 8 + 2 * k));
  check(JSON.stringify(facts.reach) === JSON.stringify(expected), `loaded ahead up to ${facts.reach}, expected ${expected}`);
  check(requests.every((r) => r.size <= 256), `a request of more than 256 items: ${requests.map((r) => r.size)}`);

  // A jump far ahead: its items first and alone, then 2 steps ahead and 1 behind, no further.
  sent = await move(30);
  facts.jump30 = sent;
  check(sent[0]?.pred.every((s) => s === 30) && sent[0].pred.length === RUNS.length, `a jump's items come first, alone: ${JSON.stringify(sent)}`);
  check(JSON.stringify(stepsOf(sent)) === "[29,30,31,32]", `after a jump to 30, steps 29-32 are asked for: ${stepsOf(sent)}`);

  // The pictures came inside the answers and ImageDecoder decoded them.
  facts.answers = answers;
  facts.decodes = await page.evaluate(() => window.dvcstagePanel.loader.decodes);
  check(answers.images > 0 && answers.inline === answers.images, `images sent inside the answers: ${JSON.stringify(answers)}`);
  check(facts.decodes.decoder >= answers.images && facts.decodes.blob === 0 && facts.decodes.element === 0, `decoded: ${JSON.stringify(facts.decodes)}`);
  check(errors.length === 0, `console errors: ${errors.join(" | ")}`);
  console.log(JSON.stringify(facts));
} catch (err) {
  console.log(JSON.stringify({ error: String(err?.stack ?? err), facts }));
  process.exitCode = 1;
} finally {
  await browser.close();
}
