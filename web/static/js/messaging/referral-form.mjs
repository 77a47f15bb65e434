// The referral form in the page: fields built from the shared definition (fieldsets, labels and
// hints in the interface language), read back as the form object, problems shown next to the
// fields they concern, and a received form rendered readably. The rules live in referral.mjs.
import { formatDate } from "./format.mjs";
import { LANGUAGES, labelOf, parseLanguages, problemMessage, todayBound } from "./referral.mjs";

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (name === "text") node.textContent = value;
    else if (name === "class") node.className = value;
    else node.setAttribute(name, value);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

/** The interface language, as one of the form's label languages. */
export function interfaceLanguage() {
  const lang = (document.documentElement.lang || "en").slice(0, 2).toLowerCase();
  return LANGUAGES.includes(lang) ? lang : "en";
}

/** "Romanian (ro), English (en)" in the interface language (codes alone where unknown). */
export function languageNames(codes, language = interfaceLanguage()) {
  let names = null;
  try { names = new Intl.DisplayNames([language], { type: "language" }); } catch { names = null; }
  return codes.map((code) => {
    let name = null;
    try { name = names && names.of(code); } catch { name = null; }
    return name && name !== code ? `${name} (${code})` : code;
  }).join(", ");
}

const localToday = () => {
  const now = new Date();
  const pad = (n) => String(n).padStart(2, "0");
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
};

export class ReferralFormFields {
  /** Build the fields of `definition` into `holder` (ids start with "ref-"). */
  constructor(definition, holder, T) {
    this.definition = definition;
    this.holder = holder;
    this.T = T;
    this.language = interfaceLanguage();
    this.build();
  }

  label(name, value) { return labelOf(this.definition, name, value, this.language); }

  hint(spec) {
    return spec.hint ? el("p", { class: "hint", id: `ref-hint-${spec.name}`, text: spec.hint[this.language] || spec.hint.en }) : null;
  }

  error(name) {
    return el("p", { class: "field-error", id: `ref-error-${name}`, hidden: "" });
  }

  group(spec, type) {
    const box = el("fieldset", { id: `ref-field-${spec.name}`, class: `ref-group ref-${type}`,
      "aria-describedby": `ref-error-${spec.name}` });
    box.append(el("legend", { text: this.label(spec.name) }));
    for (const option of spec.options) {
      const id = `ref-${spec.name}-${String(option.value)}`;
      const input = el("input", { type: type === "multi" ? "checkbox" : "radio", name: `ref-${spec.name}`,
        id, value: String(option.value) });
      box.append(el("div", { class: "ref-option" }, input, " ",
        el("label", { for: id, text: this.label(spec.name, option.value) })));
    }
    box.append(this.error(spec.name));
    return box;
  }

  build() {
    const outer = el("fieldset", { class: "referral-form-fields" }, el("legend", { text: this.T.referralForm }));
    for (const spec of this.definition.fields) {
      if (spec.type === "choice" || spec.type === "boolean") outer.append(this.group(spec, "radio"));
      else if (spec.type === "multi") outer.append(this.group(spec, "multi"));
      else {
        const id = `ref-${spec.name}`;
        const described = [spec.hint ? `ref-hint-${spec.name}` : "", `ref-error-${spec.name}`].filter(Boolean).join(" ");
        const block = el("div", { class: "ref-field", id: `ref-field-${spec.name}` });
        block.append(el("label", { for: id, text: this.label(spec.name) }));
        let control;
        if (spec.type === "languages") {
          control = el("input", { id, type: "text", autocomplete: "off", spellcheck: "false", "aria-describedby": described });
        } else if (spec.type === "date") {
          control = el("input", { id, type: "date", max: localToday(), "aria-describedby": described });
        } else {
          control = el("textarea", { id, rows: "6", "aria-describedby": described });
        }
        block.append(control);
        const hint = this.hint(spec);
        if (hint) block.append(hint);
        if (spec.type === "languages") {
          const names = el("p", { class: "hint", id: "ref-languages-names", "aria-live": "polite" });
          control.addEventListener("input", () => {
            const codes = parseLanguages(control.value);
            names.textContent = codes.length ? `${this.T.languageNames} ${languageNames(codes, this.language)}` : "";
          });
          block.append(names);
        }
        block.append(this.error(spec.name));
        outer.append(block);
      }
    }
    this.holder.replaceChildren(outer);
    for (const input of this.holder.querySelectorAll("input[name=ref-consent_recorded]")) {
      input.addEventListener("change", () => this.syncConsent());
    }
    this.syncConsent();
  }

  syncConsent() {
    const date = this.holder.querySelector("#ref-consent_date");
    if (!date) return;
    const recorded = this.holder.querySelector("input[name=ref-consent_recorded]:checked");
    date.disabled = !recorded || recorded.value !== "true";
    if (date.disabled) date.value = "";
  }

  reset() {
    for (const input of this.holder.querySelectorAll("input, textarea")) {
      if (input.type === "radio" || input.type === "checkbox") input.checked = false;
      else input.value = "";
    }
    const names = this.holder.querySelector("#ref-languages-names");
    if (names) names.textContent = "";
    this.showProblems([]);
    this.syncConsent();
  }

  /** The form object as the fields hold it; a choice not made is left out (so it is "missing"). */
  read() {
    const form = { v: this.definition.version };
    const checked = (name) => [...this.holder.querySelectorAll(`input[name=ref-${name}]:checked`)].map((i) => i.value);
    for (const spec of this.definition.fields) {
      const name = spec.name;
      if (spec.type === "choice") {
        const [value] = checked(name);
        if (value !== undefined) form[name] = value;
      } else if (spec.type === "boolean") {
        const [value] = checked(name);
        if (value !== undefined) form[name] = value === "true";
      } else if (spec.type === "multi") {
        form[name] = checked(name);
      } else if (spec.type === "languages") {
        form[name] = parseLanguages(this.holder.querySelector(`#ref-${name}`).value);
      } else if (spec.type === "date") {
        const value = this.holder.querySelector(`#ref-${name}`).value;
        form[name] = form[spec.when] === true && value ? value : null;
      } else {
        form[name] = this.holder.querySelector(`#ref-${name}`).value;
      }
    }
    return form;
  }

  /** Show each problem next to its field; returns the first control to focus (or null). */
  showProblems(problems) {
    for (const box of this.holder.querySelectorAll(".field-error")) {
      box.textContent = "";
      box.hidden = true;
    }
    for (const control of this.holder.querySelectorAll("[aria-invalid]")) control.removeAttribute("aria-invalid");
    let first = null;
    for (const found of problems) {
      const box = this.holder.querySelector(`#ref-error-${found.field}`);
      if (!box) continue;
      box.textContent = problemMessage(this.definition, found, this.language);
      box.hidden = false;
      const field = this.holder.querySelector(`#ref-field-${found.field}`);
      const control = field.matches("fieldset") ? field : field.querySelector("input, textarea");
      control.setAttribute("aria-invalid", "true");
      if (!first) first = field.matches("fieldset") ? field.querySelector("input:not([disabled])") : control;
    }
    return first;
  }

  /** The latest consent date the rules allow today (shared with the Python client). */
  static today() { return todayBound(); }
}

/** A received, checked form as a definition list, in the interface language. */
export function renderForm(definition, form, T) {
  const language = interfaceLanguage();
  const list = el("dl", { class: "referral-view-fields" });
  for (const spec of definition.fields) {
    const value = form[spec.name];
    if (spec.type === "date" && value === null) continue;
    let shown;
    if (spec.type === "choice" || spec.type === "boolean") shown = labelOf(definition, spec.name, value, language);
    else if (spec.type === "multi") shown = value.map((item) => labelOf(definition, spec.name, item, language)).join(", ");
    else if (spec.type === "languages") shown = languageNames(value, language);
    else if (spec.type === "date") shown = formatDate(value);
    else shown = value;
    list.append(el("dt", { text: labelOf(definition, spec.name, undefined, language) }),
      el("dd", { class: `ref-value ref-value-${spec.name}`, "data-field": spec.name, text: shown || "—" }));
  }
  return el("section", { class: "referral-view", "aria-label": T.referralForm },
    el("h4", { text: T.referralForm }), list);
}

/** What is wrong with a received form, named field by field (nothing of it is shown). */
export function renderProblems(definition, problems, T) {
  const language = interfaceLanguage();
  const list = el("ul", {});
  for (const found of problems) {
    list.append(el("li", { text: `${found.field}: ${problemMessage(definition, found, language)}` }));
  }
  return el("div", { class: "problem referral-bad-form", role: "note" }, el("p", { text: T.badForm }), list);
}
