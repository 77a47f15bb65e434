// The structured referral form (body.form of a message of kind "referral"): its rules, applied
// exactly as client/liaison_client/referral.py applies them, to the one definition both read
// (referral-form-v1.json beside this file). Pure functions: runs in the page and under Node.

export const DEFINITION_URL = new URL("./referral-form-v1.json", import.meta.url);
export const LANGUAGES = ["en", "nl", "fr", "de"];
const DATE = /^[0-9]{4}-[0-9]{2}-[0-9]{2}$/;
// "Not in the future" means not after today anywhere on earth (UTC+14), so that a sender and a
// reader whose clocks run in different zones agree on whether a date is allowed.
const LATEST_OFFSET_MS = 14 * 3600 * 1000;

let loaded = null;

/** The form definition, fetched once per page. */
export function loadDefinition() {
  if (!loaded) {
    loaded = fetch(DEFINITION_URL, { credentials: "same-origin" }).then((response) => {
      if (!response.ok) throw new Error("the referral form definition did not load");
      return response.json();
    });
  }
  return loaded;
}

/** The latest date a consent may carry: today where the day is furthest ahead. */
export function todayBound(now = new Date()) {
  const moment = new Date(now.getTime() + LATEST_OFFSET_MS);
  const pad = (n, size) => String(n).padStart(size, "0");
  return `${pad(moment.getUTCFullYear(), 4)}-${pad(moment.getUTCMonth() + 1, 2)}-${pad(moment.getUTCDate(), 2)}`;
}

function isDate(text) {
  if (typeof text !== "string" || !DATE.test(text)) return false;
  const year = Number(text.slice(0, 4));
  const month = Number(text.slice(5, 7));
  const day = Number(text.slice(8, 10));
  if (year < 1 || month < 1 || month > 12) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  return day >= 1 && day <= days;
}

const isObject = (value) => value !== null && typeof value === "object" && !Array.isArray(value);
const has = (object, key) => Object.prototype.hasOwnProperty.call(object, key);
const problem = (field, code, params = {}) => ({ field, code, params });
// Characters as Python counts them (code points), not UTF-16 units.
const length = (text) => [...text].length;

function listProblem(name, value, spec, allowed, code) {
  if (!Array.isArray(value)) return problem(name, "wrong-type");
  for (const item of value) {
    if (typeof item !== "string" || !allowed.includes(item)) return problem(name, code, { value: item });
  }
  if (new Set(value).size !== value.length) return problem(name, "duplicate");
  if (value.length < (spec.min || 0)) return problem(name, "too-few", { min: spec.min });
  if (spec.max !== undefined && value.length > spec.max) return problem(name, "too-many", { max: spec.max });
  return null;
}

function fieldProblem(spec, form, today) {
  const name = spec.name;
  const value = form[name];
  const values = (spec.options || []).map((option) => option.value);
  switch (spec.type) {
    case "choice":
      return typeof value === "string" && values.includes(value) ? null : problem(name, "not-a-choice", { value });
    case "multi":
      return listProblem(name, value, spec, values, "not-a-choice");
    case "languages":
      return listProblem(name, value, spec, spec.codes, "not-a-language");
    case "boolean":
      return typeof value === "boolean" ? null : problem(name, "wrong-type");
    case "date": {
      const gate = form[spec.when];
      if (gate === true) {
        if (value === null) return problem(name, "date-required");
        if (!isDate(value)) return problem(name, "not-a-date");
        if (value > today) return problem(name, "date-in-future");
      } else if (gate === false && value !== null) {
        return problem(name, "date-without-consent");
      }
      return null;
    }
    case "text":
      if (typeof value !== "string") return problem(name, "wrong-type");
      return length(value) > spec.max_length ? problem(name, "too-long", { max: spec.max_length }) : null;
    default:
      throw new Error(`the form definition has a field of unknown type ${spec.type}`);
  }
}

/** Every problem of a referral form, in the definition's order (empty when it is valid). */
export function referralFormProblems(definition, form, today = todayBound()) {
  if (!isObject(form)) return [problem("form", "not-object")];
  const known = new Set(["v", ...definition.fields.map((spec) => spec.name)]);
  const problems = Object.keys(form).filter((key) => !known.has(key)).map((key) => problem(key, "unknown-field"));
  if (!has(form, "v")) problems.push(problem("v", "missing"));
  else if (typeof form.v !== "number" || form.v !== definition.version) problems.push(problem("v", "version"));
  for (const spec of definition.fields) {
    if (!has(form, spec.name)) {
      problems.push(problem(spec.name, "missing"));
      continue;
    }
    const found = fieldProblem(spec, form, today);
    if (found) problems.push(found);
  }
  return problems;
}

export class ReferralFormError extends Error {
  constructor(problems, definition) {
    const first = problems[0];
    super(`referral form: ${first.field}: ${problemMessage(definition, first, "en")}`);
    this.reason = "bad-referral-form";
    this.field = first.field;
    this.code = first.code;
    this.problems = problems;
  }
}

/** The form when it is valid; otherwise throws ReferralFormError naming the first bad field. */
export function checkReferralForm(definition, form, today = todayBound()) {
  const problems = referralFormProblems(definition, form, today);
  if (problems.length) throw new ReferralFormError(problems, definition);
  return form;
}

const pick = (texts, language) => texts[language] || texts.en;

/** A problem in words, in one of the interface languages. */
export function problemMessage(definition, found, language = "en") {
  let text = pick(definition.messages[found.code], language);
  for (const [name, value] of Object.entries(found.params || {})) text = text.replaceAll(`{${name}}`, String(value));
  return text;
}

/** The label of a field, or of one of its options. */
export function labelOf(definition, name, value, language = "en") {
  const spec = definition.fields.find((s) => s.name === name);
  if (value === undefined) return pick(spec.label, language);
  const option = (spec.options || []).find((o) => o.value === value);
  return option ? pick(option.label, language) : String(value);
}

/** Language codes typed as text ("ro, EN  tr") as the list the form holds. */
export function parseLanguages(text) {
  return text.split(/[\s,;]+/).map((code) => code.trim().toLowerCase()).filter(Boolean);
}
