// Loads libsodium.js (sumo build: it has Argon2id) once, in Node and in the browser.
// Node resolves the npm package; the browser loads the copy `make install` puts in
// /static/vendor/ (see the Makefile), so pages need no import map.

let loading = null;

function inNode() {
  return typeof process !== "undefined" && Boolean(process.versions && process.versions.node);
}

/** The ready libsodium object. */
export function loadSodium() {
  if (!loading) {
    const source = inNode()
      ? "libsodium-wrappers-sumo"
      : new URL("../../vendor/libsodium-wrappers-sumo.mjs", import.meta.url).href;
    loading = import(source).then(async (module) => {
      const sodium = module.default || module;
      await sodium.ready;
      return sodium;
    });
  }
  return loading;
}
