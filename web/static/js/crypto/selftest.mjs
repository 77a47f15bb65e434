#!/usr/bin/env node
// node web/static/js/crypto/selftest.mjs VECTORS.json [--quiet] [--strict]
// Checks an envelope-v1 vector file with the browser's crypto module; the last line is
// "N passed, M failed" and the exit status is 1 on any failure.
import { readFile } from "node:fs/promises";
import { loadSodium } from "./sodium.mjs";
import { runVectors } from "./vectors.mjs";

const args = process.argv.slice(2);
const path = args.find((a) => !a.startsWith("-"));
const quiet = args.includes("--quiet") || args.includes("-q");
const strict = args.includes("--strict");
if (!path) {
  console.error("usage: node web/static/js/crypto/selftest.mjs VECTORS.json [--quiet] [--strict]");
  process.exit(2);
}
let vectors;
try {
  vectors = JSON.parse(await readFile(path, "utf8"));
} catch (error) {
  console.log(`FAIL cannot read ${path} as JSON (${error.message})`);
  console.log("0 passed, 1 failed");
  process.exit(1);
}
const sodium = await loadSodium();
const { passed, failed, lines } = await runVectors(sodium, vectors, strict);
for (const line of lines) if (!quiet || line.startsWith("FAIL")) console.log(line);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
