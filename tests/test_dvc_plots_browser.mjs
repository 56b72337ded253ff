// Driven by tests/test_dvc_plots_browser.py: Debian's Chromium (playwright-core from
// vscode-ext/node_modules) opens the HTML page `dvc plots diff` wrote and takes a screenshot
// of every image on it, as a user would see it.
//   node test_dvc_plots_browser.mjs INDEX_HTML OUT_DIR
// Prints one JSON line: [{"src": ..., "png": screenshot path, "width": ..., "height": ...}].
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, "..", "vscode-ext", "package.json"));
const { chromium } = require("playwright-core");

const [index, out] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  await page.goto(pathToFileURL(index).href, { waitUntil: "load" });
  const images = await page.$$("img");
  const found = [];
  for (const [i, image] of images.entries()) {
    // wait for the image itself: decoded, with its natural size
    await image.evaluate((img) => (img.complete ? null : new Promise((ok) => img.addEventListener("load", ok, { once: true }))));
    const { src, width, height, natural } = await image.evaluate((img) => ({
      src: img.getAttribute("src"),
      width: img.width,
      height: img.height,
      natural: img.naturalWidth,
    }));
    if (!natural) throw new Error(`${src} did not decode`);
    const png = join(out, `shot-${i}.png`);
    await image.scrollIntoViewIfNeeded();
    await image.screenshot({ path: png });
    found.push({ src, png, width, height });
  }
  console.log(JSON.stringify(found));
} finally {
  await browser.close();
}
