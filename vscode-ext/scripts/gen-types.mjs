// Generates src/protocol/generated/<schema>.ts from the JSON Schemas in ../schemas (run: npm run gen-types).
// The extension and the panel use these types; a unit test checks the files are up to date.
import { compileFromFile } from "json-schema-to-typescript";
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const schemas = join(here, "..", "..", "schemas");
const out = join(here, "..", "src", "protocol", "generated");
const BANNER = "// Generated from schemas/NAME by scripts/gen-types.mjs (npm run gen-types). Do not edit.\n\n";

/** Our schemas refer to each other by `$id` (`urn:dvcstage:schema:NAME`): read those from disk. */
function urnResolver(names) {
  const byId = new Map();
  for (const name of names) {
    const schema = JSON.parse(readFileSync(join(schemas, name), "utf8"));
    if (schema.$id) byId.set(schema.$id, schema);
  }
  return {
    order: 1,
    canRead: /^urn:/,
    read: (file) => {
      const schema = byId.get(file.url);
      if (!schema) throw new Error(`unknown schema ${file.url}`);
      return JSON.stringify(schema);
    },
  };
}

/** Map of `<schema stem>.ts` to its TypeScript text, one module per schema. */
export async function generate() {
  const names = readdirSync(schemas).filter((n) => n.endsWith(".schema.json")).sort();
  const urn = urnResolver(names);
  const files = new Map();
  for (const name of names) {
    const ts = await compileFromFile(join(schemas, name), {
      bannerComment: "",
      cwd: schemas,
      additionalProperties: false,
      strictIndexSignatures: true,
      format: true,
      declareExternallyReferenced: true,
      $refOptions: { resolve: { urn } },
    });
    files.set(name.replace(".schema.json", ".ts"), BANNER.replace("NAME", name) + ts);
  }
  return files;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const files = await generate();
  if (process.argv.includes("--check")) {
    // Exit 1 naming every file that differs from a fresh generation (or is missing or extra).
    const present = existsSync(out) ? readdirSync(out).filter((n) => n.endsWith(".ts")) : [];
    const stale = [...files].filter(([name, text]) => !existsSync(join(out, name)) || readFileSync(join(out, name), "utf8") !== text);
    const extra = present.filter((name) => !files.has(name));
    if (stale.length || extra.length) {
      console.error(`out of date (run npm run gen-types): ${[...stale.map(([n]) => n), ...extra].join(", ")}`);
      process.exit(1);
    }
    console.log(`${files.size} files up to date`);
  } else {
    mkdirSync(out, { recursive: true });
    for (const [name, text] of files) writeFileSync(join(out, name), text);
    console.log(`wrote ${out}`);
  }
}
