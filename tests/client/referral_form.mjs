// Test helper: the browser's referral form rules under Node, run over the shared case table.
// Prints one JSON object: each case's problems as [field, code] and each bound's date; the
// Python test compares them with the table and with client/liaison_client/referral.py.
import { readFileSync } from "node:fs";
import { referralFormProblems, todayBound } from "../../web/static/js/messaging/referral.mjs";

const read = (path) => JSON.parse(readFileSync(new URL(path, import.meta.url), "utf8"));
const definition = read("../../web/static/js/messaging/referral-form-v1.json");
const table = read("./referral_form_cases.json");

function formOf(item) {
  if ("form" in item) return item.form;
  const form = { ...table.base, ...(item.set || {}) };
  for (const name of item.drop || []) delete form[name];
  for (const [name, long] of Object.entries(item.long || {})) form[name] = long.repeat.repeat(long.times);
  if ("raw_v" in item) form.v = JSON.parse(item.raw_v);
  return form;
}

const results = {};
for (const item of table.cases) {
  results[item.name] = referralFormProblems(definition, formOf(item), table.today)
    .map((p) => [p.field, p.code]);
}
const bounds = table.bounds.map((b) => todayBound(new Date(b.now)));
process.stdout.write(JSON.stringify({ results, bounds }));
