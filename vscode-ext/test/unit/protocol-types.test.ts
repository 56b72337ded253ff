// The protocol types in src/protocol/generated/ match the schemas they are generated from.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";

test("src/protocol/generated is up to date with ../schemas", () => {
  // npm runs the tests from the package folder
  const done = spawnSync(process.execPath, ["scripts/gen-types.mjs", "--check"], { encoding: "utf8" });
  assert.equal(done.status, 0, done.stderr);
  assert.match(done.stdout, /\d+ files up to date/);
});
