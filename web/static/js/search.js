// Search-as-you-type for /search. Without JavaScript the page is a plain GET form.
const form = document.getElementById("search-form");
const results = document.getElementById("search-results");
const input = document.getElementById("search-q");
let timer = null;
let controller = null;

async function refresh() {
  const params = new URLSearchParams(new FormData(form));
  for (const [key, value] of [...params.entries()]) {
    if (value === "") params.delete(key);
  }
  const url = `${form.action}?${params.toString()}`;
  if (controller) controller.abort();
  controller = new AbortController();
  try {
    const response = await fetch(url, {
      headers: { "X-Liaison-Partial": "results" },
      signal: controller.signal,
      credentials: "same-origin",
    });
    // The fragment is rendered by our own templates, with every value escaped on the server.
    results.innerHTML = await response.text();
    history.replaceState(null, "", url);
  } catch (error) {
    if (error.name !== "AbortError") results.setAttribute("aria-busy", "false");
  }
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
}
