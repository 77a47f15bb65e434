// The browser self-test page: runs the vector checks on a file the person picks, in this browser.
import { loadSodium } from "./sodium.mjs";
import { runVectors } from "./vectors.mjs";

const input = document.getElementById("vectors");
const summary = document.getElementById("summary");
const details = document.getElementById("details");

async function check(file) {
  summary.value = "Checking…";
  details.textContent = "";
  let vectors;
  try {
    vectors = JSON.parse(await file.text());
  } catch (error) {
    summary.value = "0 passed, 1 failed";
    details.textContent = `FAIL the file is not JSON (${error.message})`;
    return;
  }
  const { passed, failed, lines } = await runVectors(await loadSodium(), vectors);
  details.textContent = lines.join("\n");
  summary.value = `${passed} passed, ${failed} failed`;
}

loadSodium().then(
  () => {
    input.disabled = false;
    summary.value = "Ready: choose a vector file.";
  },
  (error) => {
    summary.value = `The crypto module did not load: ${error.message}`;
  },
);
input.addEventListener("change", () => {
  if (input.files.length) check(input.files[0]);
});
