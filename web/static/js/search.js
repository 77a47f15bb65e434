// Search-as-you-type for /search. Without JavaScript the page is a plain GET form.
// Each refresh asks for JSON: the results fragment (rendered and escaped on the server), the
// facet counts of the same search, and a sentence announced to screen readers.
const form = document.getElementById("search-form");
const results = document.getElementById("search-results");
const input = document.getElementById("search-q");
const announce = document.getElementById("search-announce");
const filters = document.getElementById("search-filters");
const TOP = Number(results?.dataset.facetTop || 8);
let timer = null;
let controller = null;

function optionLabel(name, option) {
  const label = document.createElement("label");
  const box = document.createElement("input");
  box.type = "checkbox";
  box.name = name;
  box.value = option.value;
  label.append(box, ` ${option.label} `);
  const count = document.createElement("span");
  count.className = "count";
  label.append(count);
  return label;
}

function renderFacet(fieldset, name, options) {
  const top = fieldset.querySelector(".facet-top");
  const rest = fieldset.querySelector(".facet-rest");
  const more = fieldset.querySelector(".facet-more");
  const existing = new Map();
  for (const box of fieldset.querySelectorAll("input[type=checkbox]")) {
    existing.set(box.value, box.closest("label"));
  }
  // Values ticked in the page (perhaps while the request was under way) stay, even at zero.
  const shown = options.map((option) => ({ ...option }));
  for (const [value, label] of existing) {
    const box = label.querySelector("input");
    const row = shown.find((option) => option.value === value);
    if (row) row.checked = box.checked;
    else if (box.checked || box === document.activeElement) {
      shown.push({ value, label: label.textContent.replace(/\(\d+\)\s*$/, "").trim(), count: 0, checked: box.checked });
    }
  }
  shown.sort((a, b) => (b.checked - a.checked) || (b.count - a.count) || a.label.localeCompare(b.label));
  const labels = shown.map((option) => {
    const label = existing.get(option.value) || optionLabel(name, option);
    label.querySelector("input").checked = option.checked;
    label.querySelector(".count").textContent = `(${option.count})`;
    existing.delete(option.value);
    return label;
  });
  for (const label of existing.values()) label.remove();
  top.replaceChildren(...labels.slice(0, TOP));
  rest.replaceChildren(...labels.slice(TOP));
  more.hidden = labels.length <= TOP;
  const text = more.querySelector(".facet-more-label");
  text.textContent = text.dataset.text.replace("{count}", String(Math.max(labels.length - TOP, 0)));
  fieldset.hidden = labels.length === 0;
}

function renderFacets(data) {
  for (const fieldset of form.querySelectorAll("fieldset[data-facet]")) {
    const name = fieldset.dataset.facet;
    renderFacet(fieldset, name, data.facets[name] || []);
  }
  for (const span of form.querySelectorAll("[data-availability]")) {
    const count = data.availability[span.dataset.availability];
    span.textContent = count === null || count === undefined ? "" : `(${count})`;
  }
  countActive();
}

function countActive() {
  if (!filters) return;
  const summary = filters.querySelector("summary");
  let active = form.querySelectorAll(".search-facets input[type=checkbox]:checked").length;
  if (form.elements.near && form.elements.near.value.trim()) active += 1;
  summary.textContent = active ? summary.dataset.some.replace("{count}", String(active)) : summary.dataset.none;
}

async function refresh() {
  const params = new URLSearchParams(new FormData(form));
  for (const [key, value] of [...params.entries()]) {
    if (value === "") params.delete(key);
  }
  const url = `${form.action}?${params.toString()}`;
  if (controller) controller.abort();
  controller = new AbortController();
  results.setAttribute("aria-busy", "true");
  try {
    const response = await fetch(url, {
      headers: { "X-Liaison-Partial": "json", Accept: "application/json" },
      signal: controller.signal,
      credentials: "same-origin",
    });
    const data = await response.json();
    // Moving a focused checkbox (its option climbed or fell in the list) would lose the focus.
    const focused = document.activeElement;
    // The fragment is rendered by our own templates, with every value escaped on the server.
    results.innerHTML = data.html;
    renderFacets(data);
    if (focused && focused !== document.activeElement && document.contains(focused)) focused.focus();
    announce.textContent = data.announce;
    history.replaceState(null, "", url);
  } catch (error) {
    if (error.name === "AbortError") return;
  }
  results.setAttribute("aria-busy", "false");
}

function schedule() {
  clearTimeout(timer);
  timer = setTimeout(refresh, 150);
}

if (form && results && input) {
  input.addEventListener("input", schedule);
  form.addEventListener("change", (event) => {
    if (event.target !== input) schedule();
  });
  form.elements.near?.addEventListener("input", countActive);
  // Wide screens show the filters beside the results; narrow ones keep them folded away.
  const wide = window.matchMedia("(min-width: 50.01rem)");
  if (filters && wide.matches) filters.open = true;
  wide.addEventListener("change", () => {
    if (filters && wide.matches) filters.open = true;
  });
}
