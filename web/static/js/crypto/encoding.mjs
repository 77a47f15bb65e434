// The notation of envelope v1 (§1): base64url without padding, pack, H, Sign, comparisons.
import { CryptoError } from "./errors.mjs";

const B64_ALPHABET = /^[A-Za-z0-9_-]*$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** Text to UTF-8 bytes. */
export const utf8 = (text) => encoder.encode(text);

/** UTF-8 bytes to text; invalid UTF-8 throws. */
export function fromUtf8(bytes) {
  try {
    return decoder.decode(bytes);
  } catch {
    throw new CryptoError("malformed", "not UTF-8");
  }
}

/** base64url without padding. */
export function b64(sodium, bytes) {
  return sodium.to_base64(bytes, sodium.base64_variants.URLSAFE_NO_PADDING);
}

/** Strict base64url without padding: padding, other alphabets, non-canonical bits, wrong size
 * are all "malformed". */
export function unb64(sodium, text, size = null, what = "field") {
  if (typeof text !== "string" || !B64_ALPHABET.test(text) || text.length % 4 === 1) {
    throw new CryptoError("malformed", `${what} is not base64url without padding`);
  }
  let bytes;
  try {
    bytes = text === "" ? new Uint8Array(0)
      : sodium.from_base64(text, sodium.base64_variants.URLSAFE_NO_PADDING);
  } catch {
    throw new CryptoError("malformed", `${what} is not base64url without padding`);
  }
  if (b64(sodium, bytes) !== text) {
    throw new CryptoError("malformed", `${what} is not canonical base64url`);
  }
  if (size !== null && bytes.length !== size) {
    throw new CryptoError("malformed", `${what} must be ${size} bytes`);
  }
  return bytes;
}

/** 4-byte big-endian unsigned integer. */
export function u32(n) {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n, false);
  return out;
}

/** 8-byte big-endian unsigned integer (n up to 2^53). */
export function u64(n) {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(n), false);
  return out;
}

/** Concatenate byte arrays. */
export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** pack(f1, f2, …) = u32(len(f1)) ‖ f1 ‖ …; text is UTF-8. */
export function pack(...fields) {
  const parts = [];
  for (const field of fields) {
    const raw = typeof field === "string" ? utf8(field) : field;
    parts.push(u32(raw.length), raw);
  }
  return concat(...parts);
}

/** BLAKE2b-256 over pack(tag, fields…). */
export function H(sodium, tag, ...fields) {
  return sodium.crypto_generichash(32, pack(tag, ...fields), null);
}

/** Ed25519 detached signature over pack(tag, fields…). */
export function sign(sodium, signSk, tag, ...fields) {
  return sodium.crypto_sign_detached(pack(tag, ...fields), signSk);
}

/** Whether the signature verifies over pack(tag, fields…). */
export function verify(sodium, signPk, signature, tag, ...fields) {
  if (signPk.length !== 32 || signature.length !== 64) return false;
  try {
    return sodium.crypto_sign_verify_detached(signature, pack(tag, ...fields), signPk);
  } catch {
    return false;
  }
}

/** Constant-time equality of MACs, hashes and fingerprints. */
export function same(sodium, a, b) {
  return a.length === b.length && sodium.memcmp(a, b);
}

/** A lowercase hyphenated UUID string. */
export const isUuid = (value) => typeof value === "string" && UUID.test(value);

/** A UTC time `YYYY-MM-DDTHH:MM:SSZ` that exists on the calendar. */
export function isTime(value) {
  if (typeof value !== "string" || !TIME.test(value)) return false;
  const parsed = new Date(value);
  return !Number.isNaN(parsed.getTime()) && parsed.toISOString().replace(".000Z", "Z") === value;
}

/** The current UTC time in the spec's format. */
export const now = () => new Date().toISOString().replace(/\.\d{3}Z$/, "Z");

/** Whether a value is a whole number usable as a size or version. */
export const isWhole = (value) => Number.isSafeInteger(value) && value >= 0;

/** Sorted-key JSON, for comparing parsed bodies. */
export function canonical(value) {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** Whether an object has exactly these keys. */
export function hasExactly(object, fields) {
  if (!object || typeof object !== "object" || Array.isArray(object)) return false;
  const keys = Object.keys(object);
  return keys.length === fields.length && fields.every((f) => Object.hasOwn(object, f));
}
