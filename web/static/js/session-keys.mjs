// Unlocked keys between page loads and tabs (issue 12). The messaging client keeps the unlocked
// private keys in localStorage only as ciphertext under a per-session "unlock key" that the server
// hands to this signed-in session alone and forgets at lock, sign-out and expiry
// (docs/security.md, "Unlocked keys"). Loaded on every page, this module removes that ciphertext
// whenever a page is shown signed out (the sign-out page included) and at sign-out, and runs the
// navigation's "Lock keys" control.

export const PREFIX = "liaison.unlocked.";
export const storeKey = (userId) => `${PREFIX}${userId}`;

/** Remove every stored unlocked-keys ciphertext from this browser's storage. */
export function forgetUnlocked() {
  for (const storage of [window.localStorage, window.sessionStorage]) {
    for (let index = storage.length - 1; index >= 0; index -= 1) {
      const name = storage.key(index);
      if (name && name.startsWith(PREFIX)) storage.removeItem(name);
    }
  }
}

const lockButton = () => document.getElementById("lock-keys");

/** Show the "Lock keys" control while this person's keys are kept unlocked. */
export function refreshLock() {
  const button = lockButton();
  if (button) button.closest("li").hidden = !window.localStorage.getItem(storeKey(button.dataset.user));
}

/** Lock: forget the ciphertext here and the unlock key on the server, then show the page locked. */
async function lock() {
  forgetUnlocked();
  refreshLock();
  const token = document.querySelector("form.sign-out input[name=csrf_token]");
  try {
    await fetch("/api/v1/session/unlock-key", {
      method: "DELETE", headers: { "X-CSRF-Token": token ? token.value : "" },
      credentials: "same-origin", cache: "no-store",
    });
  } catch { /* the ciphertext is gone already; the key goes with the session at the latest */ }
  window.location.reload();
}

function init() {
  const signOut = document.querySelector("form.sign-out");
  if (!signOut) {
    // signed out (or the session ended): nothing of the unlocked keys may stay behind
    forgetUnlocked();
    return;
  }
  signOut.addEventListener("submit", forgetUnlocked);
  const button = lockButton();
  if (button) button.addEventListener("click", lock);
  refreshLock();
  // locked or signed out in another tab: this one drops the keys it holds in memory too
  window.addEventListener("storage", (event) => {
    if (event.storageArea !== window.localStorage) return;
    if (event.key !== null && !event.key.startsWith(PREFIX)) return;
    refreshLock();
    if (event.newValue === null && window.location.pathname.startsWith("/messages")) {
      window.location.reload();
    }
  });
}

init();
