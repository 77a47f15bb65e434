// Liaison's browser messaging client: one page whose views switch without reloading. Keys
// unlocked once are used in memory; other pages and tabs of the same signed-in session reopen
// them from the encrypted copy the keyring keeps (keys.mjs), so the passphrase is asked once.
import { loadSodium, normalizeRecoveryText, safetyNumber } from "../crypto/index.mjs";
import { ApiError } from "./api.mjs";
import { explainRefusal } from "./refusals.mjs";
import { Keyring, MIN_PASSPHRASE } from "./keys.mjs";
import { Trust } from "./trust.mjs";
import { Mailbox } from "./mailbox.mjs";
import { Composer } from "./compose.mjs";

const root = document.getElementById("messaging");
const T = {
  ...JSON.parse(document.getElementById("messaging-strings").textContent),
  ...JSON.parse(document.getElementById("referral-strings").textContent),
};
const $ = (id) => document.getElementById(id);
const PANELS = ["unlock-panel", "setup-panel", "recovery-panel", "keys-panel", "inbox-panel",
  "thread-panel", "compose-panel", "person-panel"];

const ui = {
  T,
  status(text) { $("status").textContent = text || ""; },
  problem(text) {
    const box = $("problem");
    box.textContent = text || "";
    box.hidden = !text;
  },
  explain(error) {
    return explainRefusal(error, T);
  },
  show(...ids) {
    for (const id of PANELS) $(id).hidden = !ids.includes(id);
    const first = $(ids[0]);
    const heading = first && first.querySelector("h2");
    if (heading && document.activeElement !== document.body) heading.focus();
  },
};

const state = { sodium: null, keyring: null, trust: null, mailbox: null, composer: null };

function route() {
  const path = window.location.pathname;
  let match;
  if (path === "/messages") return { view: "inbox" };
  if (path === "/messages/compose") {
    const referral = new URLSearchParams(window.location.search).get("kind") === "referral";
    return { view: referral ? "referral" : "compose" };
  }
  if (path === "/messages/keys") return { view: "keys" };
  if ((match = path.match(/^\/messages\/threads\/([0-9a-f-]{36})$/))) return { view: "thread", item: match[1] };
  if ((match = path.match(/^\/messages\/people\/([0-9a-f-]{36})$/))) return { view: "person", item: match[1] };
  return { view: "inbox" };
}

/** Move within the client without a reload. */
export function navigate(path, extra = null) {
  window.history.pushState({}, "", path);
  render(extra);
}

async function render(extra = null) {
  ui.problem("");
  const { view, item } = route();
  for (const link of document.querySelectorAll("[data-nav]")) {
    if (link.dataset.nav === view) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  try {
    if (!state.keyring.unlocked) {
      const status = await state.keyring.status();
      if (!status.current) return showSetup();
      ui.status(T.locked);
      return ui.show("unlock-panel");
    }
    if (view === "keys") return showKeys();
    if (view === "compose" || view === "referral") {
      ui.show("compose-panel");
      return await state.composer.open(extra, view === "referral");
    }
    if (view === "thread") { ui.show("thread-panel"); return await state.mailbox.thread(item); }
    if (view === "person") { ui.show("person-panel"); return await showPerson(item); }
    ui.show("inbox-panel");
    return await state.mailbox.inbox();
  } catch (error) {
    ui.problem(ui.explain(error));
  }
}

function showSetup() {
  ui.status(T.noKeys);
  ui.show("setup-panel");
}

function showKeys() {
  ui.show("keys-panel");
  $("my-fingerprint").textContent = state.keyring.fingerprint;
}

async function showPerson(userId) {
  for (const id of ["person-name", "person-trust", "person-fingerprint", "person-my-fingerprint", "person-safety"]) {
    $(id).textContent = "";
  }
  const entry = await state.trust.person(userId);
  $("person-name").textContent = entry.name;
  const trust = state.trust.trustOf(entry);
  $("person-trust").textContent = T[`trust.${trust.level}`];
  const theirs = entry.current ? entry.current.fingerprint : "—";
  $("person-fingerprint").textContent = theirs;
  $("person-my-fingerprint").textContent = state.keyring.fingerprint;
  $("person-safety").textContent = entry.current ? safetyNumber(theirs, state.keyring.fingerprint) : "—";
  $("person-verify").disabled = !entry.current;
  $("person-verify").onclick = null;
  $("person-verify").dataset.user = userId;
}

/** Show a recovery key once, with a download and a print view; before `commit` runs, the
 * person types two of its groups back (so a key not written down is noticed now). */
function showRecovery(recoveryKey, commit, done) {
  ui.show("recovery-panel");
  $("recovery-key").textContent = recoveryKey;
  ui.status(T.recoveryShown);
  const groups = recoveryKey.split("-");
  const asked = pickTwo(groups.length);
  asked.forEach((index, n) => {
    $(`recovery-check-${n + 1}-label`).textContent = T.recoveryGroup.replace("{n}", String(index + 1));
    $(`recovery-check-${n + 1}`).value = "";
    $(`recovery-check-${n + 1}`).dataset.group = String(index + 1);
  });
  const file = new Blob([`${T.recoveryFileTitle}\n\n${recoveryKey}\n\n${T.recoveryFileText}\n`],
    { type: "text/plain;charset=utf-8" });
  const download = $("recovery-download");
  if (download.href.startsWith("blob:")) URL.revokeObjectURL(download.href);
  download.href = URL.createObjectURL(file);
  $("recovery-print").onclick = () => window.print();
  document.body.classList.add("printing-recovery");
  $("recovery-form").onsubmit = async (event) => {
    event.preventDefault();
    const typedBack = asked.every((index, n) =>
      normalizeRecoveryText($(`recovery-check-${n + 1}`).value) === groups[index]);
    if (!typedBack) {
      $("recovery-check-1").focus();
      return ui.problem(T.recoveryGroupsWrong);
    }
    if (!$("recovery-saved").checked) return ui.problem(T.confirmSaved);
    try {
      await commit();
      $("recovery-key").textContent = "";
      $("recovery-saved").checked = false;
      for (const n of [1, 2]) $(`recovery-check-${n}`).value = "";
      URL.revokeObjectURL(download.href);
      download.removeAttribute("href");
      document.body.classList.remove("printing-recovery");
      navigate("/messages");
      ui.status(done);
    } catch (error) {
      ui.problem(ui.explain(error));
    }
  };
}

/** Two different group positions, in order, chosen at random. */
function pickTwo(count) {
  const [a, b] = crypto.getRandomValues(new Uint32Array(2));
  const first = a % count;
  const second = (first + 1 + (b % (count - 1))) % count;
  return [first, second].sort((x, y) => x - y);
}

function wire() {
  $("unlock-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const field = $("unlock-secret");
    ui.problem("");
    ui.status(T.unlocking);
    try {
      await state.keyring.unlock(field.value);
      field.value = "";
      ui.status(T.unlocked);
      render();
    } catch (error) {
      ui.status("");
      if (error instanceof ApiError) ui.problem(ui.explain(error));
      else ui.problem(error.reason === "rollback" ? T.rollback
        : error.reason === "recovery-key-typo" ? T.recoveryTypo : T.wrongSecret);
      field.focus();
    }
  });
  $("setup-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const one = $("setup-passphrase").value;
    const two = $("setup-passphrase2").value;
    if (one.length < MIN_PASSPHRASE) return ui.problem(T.passphraseShort);
    if (one !== two) return ui.problem(T.passphraseMismatch);
    ui.problem("");
    ui.status(T.generating);
    try {
      const prepared = await state.keyring.prepare(one);
      $("setup-passphrase").value = "";
      $("setup-passphrase2").value = "";
      showRecovery(prepared.recoveryKey, prepared.commit, T.setupDone);
    } catch (error) {
      ui.problem(ui.explain(error));
    }
  });
  $("rotate-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    ui.status(T.generating);
    try {
      const prepared = await state.keyring.prepare($("rotate-passphrase").value);
      $("rotate-passphrase").value = "";
      showRecovery(prepared.recoveryKey, prepared.commit, T.rotated);
    } catch (error) {
      ui.status("");
      ui.problem(error instanceof ApiError ? ui.explain(error) : T.wrongSecret);
    }
  });
  $("person-verify").addEventListener("click", async () => {
    const entry = await state.trust.person($("person-verify").dataset.user);
    state.trust.markInPerson(entry);
    ui.status(T.verifiedSaved);
    $("person-trust").textContent = T["trust.inPerson"];
  });
  // in-app links keep the page (and the unlocked keys)
  root.addEventListener("click", (event) => {
    const link = event.target.closest("a[href^='/messages']");
    if (!link || event.defaultPrevented || event.ctrlKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    navigate(link.getAttribute("href"));
  });
  window.addEventListener("popstate", () => render());
}

async function main() {
  ui.status(T.loading);
  try {
    state.sodium = await loadSodium();
  } catch {
    ui.problem(T.error);
    return;
  }
  const me = root.dataset.user;
  state.keyring = new Keyring(state.sodium, me);
  state.trust = new Trust(state.sodium, me, root.dataset.rootPk);
  state.mailbox = new Mailbox(state, ui, navigate);
  state.composer = new Composer(state, ui, navigate);
  wire();
  ui.status("");
  if (await state.keyring.resume()) ui.status(T.unlocked);
  root.dataset.ready = "1";
  await render();
}

main();
