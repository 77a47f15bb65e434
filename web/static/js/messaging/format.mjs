// Dates, times, numbers, sizes and plurals in the page's language, with the browser's Intl API.
// The page states its language in <html lang> and, in <meta name="liaison-format">, the matching
// Intl locale (day-month order and the 24-hour clock for English in the Benelux) and the reader's
// time zone; the server formats with Babel by the same conventions.
const settings = () => document.querySelector('meta[name="liaison-format"]')?.dataset ?? {};

export const intlLocale = () =>
  settings().intlLocale || document.documentElement.lang || undefined;

// The reader's time zone: the account's, else Brussels.
const timeZone = () => settings().timeZone || "Europe/Brussels";

export function formatDateTime(time) {
  const moment = time instanceof Date ? time : new Date(time);
  if (Number.isNaN(moment.getTime())) return "";
  return new Intl.DateTimeFormat(intlLocale(), {
    dateStyle: "medium", timeStyle: "short", timeZone: timeZone(),
  }).format(moment);
}

// A calendar day ("2026-12-05") written out: "5 december 2026", "5 décembre 2026", …
export function formatDate(day) {
  const moment = new Date(`${day}T00:00:00Z`);
  if (Number.isNaN(moment.getTime())) return day;
  return new Intl.DateTimeFormat(intlLocale(), { dateStyle: "long", timeZone: "UTC" }).format(moment);
}

export const formatNumber = (value, options = {}) =>
  new Intl.NumberFormat(intlLocale(), options).format(value);

const UNITS = ["byte", "kilobyte", "megabyte", "gigabyte"];

// 5000000 → "4,8 MB" (nl, de), "4,8 Mo" (fr), "4.8 MB" (en); steps of 1024 like the server.
export function formatSize(bytes) {
  let value = Number(bytes) || 0;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) { value /= 1024; unit += 1; }
  return formatNumber(value, {
    style: "unit", unit: UNITS[unit], unitDisplay: "short",
    maximumFractionDigits: unit === 0 ? 0 : 1,
  });
}

// forms: {one: "%(count)s message", other: "%(count)s messages"} (server-provided strings).
export function plural(forms, count) {
  const category = new Intl.PluralRules(intlLocale()).select(count);
  const text = forms[category] ?? forms.other;
  return text.replace("%(count)s", formatNumber(count));
}
