// Screenshot helper: node shot.mjs URL OUT.png [dark|light] [width]
import { chromium } from "playwright-core";
const [url, out, scheme = "dark", width = "1000"] = process.argv.slice(2);
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--headless", "--no-sandbox", "--disable-gpu"] });
const page = await browser.newPage({ viewport: { width: Number(width), height: 900 }, colorScheme: scheme });
page.on("console", (m) => console.log("console:", m.type(), m.text()));
page.on("pageerror", (e) => console.log("pageerror:", e.message));
await page.goto(url);
await page.waitForTimeout(Number(process.env.WAIT ?? 2500));
if (process.env.SCROLL) await page.evaluate((k) => document.querySelector(`[data-key="${k}"]`)?.scrollIntoView(), process.env.SCROLL);
if (process.env.SCROLL) await page.waitForTimeout(1500);
await page.screenshot({ path: out, fullPage: process.env.FULL === "1" });
await browser.close();
