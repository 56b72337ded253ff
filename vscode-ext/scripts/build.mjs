// Bundles the extension (Node, CommonJS) and the media panel (browser, IIFE) with esbuild.
//   node scripts/build.mjs            -> dist/extension/extension.js, dist/webview/panel.{js,css}
//   node scripts/build.mjs --tests    -> also dist/test/unit/*.test.js (run with node --test)
import { build } from "esbuild";
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const production = !process.argv.includes("--dev");
const common = { bundle: true, sourcemap: false, minify: production, legalComments: "linked", logLevel: "warning" };

await build({
  ...common,
  entryPoints: [join(root, "src/extension/extension.ts")],
  outfile: join(root, "dist/extension/extension.js"),
  platform: "node",
  format: "cjs",
  target: "node20",
  external: ["vscode"],
});

await build({
  ...common,
  entryPoints: { panel: join(root, "src/webview/main.ts") },
  outdir: join(root, "dist/webview"),
  platform: "browser",
  format: "iife",
  target: "chrome120",
  loader: { ".css": "css" },
});

if (process.argv.includes("--tests")) {
  const dir = join(root, "test/unit");
  const entries = readdirSync(dir).filter((n) => n.endsWith(".test.ts")).map((n) => join(dir, n));
  await build({
    ...common,
    minify: false,
    entryPoints: entries,
    outdir: join(root, "dist/test/unit"),
    platform: "node",
    format: "esm",
    target: "node20",
    outExtension: { ".js": ".mjs" },
    external: ["vscode", "playwright-core", "esbuild", "json-schema-to-typescript"],
  });
}
