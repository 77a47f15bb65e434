// The recovery key as a person writes it down: its 32 bytes and a 3-byte check, in Crockford
// base32 (no I, L, O, U; read case-insensitively, O as 0 and I/L as 1), 56 characters in 14
// groups of 4. The check is the first 3 bytes of BLAKE2b-128("liaison/v1/recovery-check" || key),
// so a typo is caught before any unlocking is tried. Mirrors client/liaison_client/recovery_key.py; a key
// written in the older form (43 characters of base64url) is still read. See docs/security.md.
import { backupError } from "./errors.mjs";
import { concat, unb64, utf8 } from "./encoding.mjs";

const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const CONTEXT = "liaison/v1/recovery-check";
export const RECOVERY_GROUPS = 14;
export const RECOVERY_GROUP_SIZE = 4;
const CHARS = RECOVERY_GROUPS * RECOVERY_GROUP_SIZE;

function check(sodium, key) {
  return sodium.crypto_generichash(16, concat(utf8(CONTEXT), key), null).subarray(0, 3);
}

function encode(bytes) {
  let bits = 0;
  let value = 0;
  let out = "";
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  return out; // 35 bytes are exactly 56 characters: no bits are left over
}

function decode(text) {
  const bytes = [];
  let bits = 0;
  let value = 0;
  for (const char of text) {
    value = (value << 5) | ALPHABET.indexOf(char);
    bits += 5;
    if (bits >= 8) {
      bytes.push((value >>> (bits - 8)) & 255);
      bits -= 8;
    }
    value &= (1 << bits) - 1;
  }
  return new Uint8Array(bytes);
}

/** The 32-byte key as "ABCD-EFGH-…" (14 groups of 4, the check in the last 5 characters). */
export function formatRecoveryKey(sodium, key) {
  if (!(key instanceof Uint8Array) || key.length !== 32) throw backupError("malformed", "a recovery key is 32 bytes");
  const text = encode(concat(key, check(sodium, key)));
  return text.match(new RegExp(`.{${RECOVERY_GROUP_SIZE}}`, "g")).join("-");
}

/** Upper case, separators and spaces dropped, the look-alikes O→0 and I/L→1. */
export function normalizeRecoveryText(text) {
  return String(text).toUpperCase().replace(/[\s-]/g, "").replace(/O/g, "0").replace(/[IL]/g, "1");
}

/** The key from what the person typed: the grouped form (with or without separators, any
 * case) or the older 43-character base64url form. null when it is neither shape; a grouped key
 * whose check does not match throws CryptoError "recovery-key-typo". */
export function parseRecoveryKey(sodium, text) {
  const grouped = normalizeRecoveryText(text);
  if (grouped.length === CHARS && [...grouped].every((c) => ALPHABET.includes(c))) {
    const bytes = decode(grouped);
    const key = bytes.subarray(0, 32);
    if (!sodium.memcmp(check(sodium, key), bytes.subarray(32))) {
      throw backupError("recovery-key-typo", "the recovery key's check does not match: a typo?");
    }
    return new Uint8Array(key);
  }
  try {
    return unb64(sodium, String(text).replace(/\s/g, ""), 32, "recovery key");
  } catch {
    return null;
  }
}
