// Test helper: the browser's recovery-key format under Node. Reads {keys: [hex], texts: [str]} on
// stdin; writes {formatted: [str], parsed: [hex | null | "error:<reason>"]}.
import { readFileSync } from "node:fs";
import { formatRecoveryKey, loadSodium, parseRecoveryKey } from "../../web/static/js/crypto/index.mjs";

const sodium = await loadSodium();
const request = JSON.parse(readFileSync(0, "utf8"));
const formatted = request.keys.map((hex) => formatRecoveryKey(sodium, Uint8Array.from(Buffer.from(hex, "hex"))));
const parsed = request.texts.map((text) => {
  try {
    const key = parseRecoveryKey(sodium, text);
    return key ? Buffer.from(key).toString("hex") : null;
  } catch (error) {
    return `error:${error.reason}`;
  }
});
process.stdout.write(JSON.stringify({ formatted, parsed }));
