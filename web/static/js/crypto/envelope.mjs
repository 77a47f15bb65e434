// The message envelope on the wire (§3): strict parsing with exact sizes, the header, and the
// hashes and signature binding header, ciphertext and wraps. Mirrors client/liaison_client/envelope.py.
import { CryptoError, envelopeError } from "./errors.mjs";
import { H, fromUtf8, hasExactly, isTime, isUuid, sign, unb64, verify } from "./encoding.mjs";

export const VERSION = 1;
export const KINDS = ["message", "referral", "receipt"];
export const PAD_BLOCK = 256;
export const WRAP_BYTES = 64 + 48;
const ENVELOPE_FIELDS = ["v", "header", "nonce", "ciphertext", "wraps", "sig"];
const HEADER_FIELDS = ["v", "id", "thread", "kind", "sender", "sender_key", "to", "to_org",
  "created_at", "expires_at"];
const MAX_RECIPIENTS = 1000;

/** hh = H("liaison/v1/header", header_bytes). */
export const headerHash = (sodium, headerBytes) => H(sodium, "liaison/v1/header", headerBytes);

/** hc = H("liaison/v1/ciphertext", nonce, ciphertext). */
export const ciphertextHash = (sodium, nonce, ciphertext) =>
  H(sodium, "liaison/v1/ciphertext", nonce, ciphertext);

const compare = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

/** hw over the wraps sorted by (to, key_id). */
export function wrapsHash(sodium, wraps) {
  const sorted = [...wraps].sort((a, b) => compare(a.to, b.to) || compare(a.keyId, b.keyId));
  return H(sodium, "liaison/v1/wraps", ...sorted.flatMap((w) => [w.to, w.keyId, w.box]));
}

/** (hh, hc, hw): what sig covers. */
export function signedFields(sodium, envelope) {
  return [headerHash(sodium, envelope.headerBytes),
    ciphertextHash(sodium, envelope.nonce, envelope.ciphertext), wrapsHash(sodium, envelope.wraps)];
}

/** sig = Sign(sign_sk, "liaison/v1/envelope", hh, hc, hw). */
export const envelopeSignature = (sodium, signSk, hh, hc, hw) =>
  sign(sodium, signSk, "liaison/v1/envelope", hh, hc, hw);

/** Whether the envelope's signature verifies with the sender's signing key. */
export const signatureValid = (sodium, envelope, signPk) =>
  verify(sodium, signPk, envelope.sig, "liaison/v1/envelope", ...signedFields(sodium, envelope));

const keyIdOk = (sodium, value) => {
  try {
    unb64(sodium, value, 16);
    return true;
  } catch {
    return false;
  }
};

/** Parse and check the routing header (version first, then every field's shape). */
export function parseHeader(sodium, headerBytes) {
  let header;
  try {
    header = JSON.parse(fromUtf8(headerBytes));
  } catch {
    throw envelopeError("malformed", "header is not UTF-8 JSON");
  }
  if (!header || typeof header !== "object" || Array.isArray(header)) {
    throw envelopeError("malformed", "header is not a JSON object");
  }
  if (header.v !== VERSION) throw envelopeError("unsupported-version", "header version is not 1");
  if (!hasExactly(header, HEADER_FIELDS)) throw envelopeError("malformed", "header fields differ from version 1");
  for (const name of ["id", "thread", "sender"]) {
    if (!isUuid(header[name])) throw envelopeError("malformed", `header ${name} is not a lowercase UUID`);
  }
  if (!KINDS.includes(header.kind)) throw envelopeError("malformed", "unknown message kind");
  const to = header.to;
  if (!Array.isArray(to) || to.length === 0 || to.length > MAX_RECIPIENTS || !to.every(isUuid)
      || new Set(to).size !== to.length) {
    throw envelopeError("malformed", "to must be a non-empty list of distinct user ids");
  }
  if (header.to_org !== null && !isUuid(header.to_org)) {
    throw envelopeError("malformed", "to_org must be an organisation id or null");
  }
  if (!isTime(header.created_at) || !(header.expires_at === null || isTime(header.expires_at))) {
    throw envelopeError("malformed", "times must be UTC YYYY-MM-DDTHH:MM:SSZ");
  }
  if (!keyIdOk(sodium, header.sender_key)) throw envelopeError("malformed", "sender_key is not a key id");
  return header;
}

function parseWraps(sodium, raw) {
  if (!Array.isArray(raw) || raw.length === 0 || raw.length > MAX_RECIPIENTS + 1) {
    throw new CryptoError("malformed", "wraps must be a non-empty list");
  }
  const wraps = raw.map((item) => {
    if (!hasExactly(item, ["to", "key_id", "box"])) {
      throw new CryptoError("malformed", "a wrap needs exactly to, key_id and box");
    }
    if (!isUuid(item.to)) throw new CryptoError("malformed", "wrap to is not a user id");
    unb64(sodium, item.key_id, 16, "wrap key_id");
    return { to: item.to, keyId: item.key_id, box: unb64(sodium, item.box, WRAP_BYTES, "wrap box") };
  });
  if (new Set(wraps.map((w) => w.to)).size !== wraps.length) {
    throw new CryptoError("malformed", "two wraps for the same person");
  }
  return wraps;
}

/** Parse the wire form, rejecting any field that is missing, extra or of the wrong size. */
export function parseEnvelope(sodium, data) {
  if (!data || typeof data !== "object" || Array.isArray(data)) {
    throw envelopeError("malformed", "envelope is not a JSON object");
  }
  if (data.v !== VERSION) throw envelopeError("unsupported-version", "envelope version is not 1");
  if (!hasExactly(data, ENVELOPE_FIELDS)) throw envelopeError("malformed", "envelope fields differ from version 1");
  let parsed;
  try {
    parsed = {
      headerBytes: unb64(sodium, data.header, null, "header"),
      nonce: unb64(sodium, data.nonce, 24, "nonce"),
      ciphertext: unb64(sodium, data.ciphertext, null, "ciphertext"),
      sig: unb64(sodium, data.sig, 64, "sig"),
      wraps: parseWraps(sodium, data.wraps),
    };
  } catch (error) {
    if (error instanceof CryptoError) throw envelopeError("malformed", error.detail);
    throw error;
  }
  const bodyBytes = parsed.ciphertext.length - 16;
  if (bodyBytes < PAD_BLOCK || bodyBytes % PAD_BLOCK !== 0) {
    throw envelopeError("bad-padding", "ciphertext is not a whole number of padding blocks");
  }
  parsed.header = parseHeader(sodium, parsed.headerBytes);
  return parsed;
}
