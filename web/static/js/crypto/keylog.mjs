// The key log (§6): hash-chained entries, signed heads, and the check that a log served now
// extends the head a client remembered. Mirrors client/liaison_client/keylog.py.
import { CryptoError, keyLogError } from "./errors.mjs";
import { H, b64, fromUtf8, hasExactly, isTime, isUuid, same, sign, u64, unb64, verify } from "./encoding.mjs";
import { keyId } from "./identity.mjs";

export const GENESIS = new Uint8Array(32);
const EVENTS = ["publish", "revoke", "attest"];
const ENTRY_FIELDS = ["seq", "at", "event", "user", "key_id", "sign_pk", "box_pk", "proof"];

/** head_n = H("liaison/v1/log", head_{n-1}, entry_bytes_n). */
export const nextHead = (sodium, previous, entryBytes) => H(sodium, "liaison/v1/log", previous, entryBytes);

/** Every head along the chain. */
export function heads(sodium, entries, start = GENESIS) {
  let head = start;
  return entries.map((entry) => (head = nextHead(sodium, head, entry)));
}

/** Sign the head after entry `seq`: {seq, head, sig} as bytes. */
export function signHead(sodium, logSk, seq, head) {
  return { seq, head, sig: sign(sodium, logSk, "liaison/v1/log-head", u64(seq), head) };
}

/** The wire form of a signed head. */
export const signedHeadToJson = (sodium, h) => ({ seq: h.seq, head: b64(sodium, h.head), sig: b64(sodium, h.sig) });

/** Parse a signed head and verify it with the log key. */
export function parseSignedHead(sodium, data, logPk) {
  let head;
  try {
    if (!hasExactly(data, ["seq", "head", "sig"]) || !Number.isSafeInteger(data.seq) || data.seq < 0) {
      throw new CryptoError("malformed", "a signed head needs seq, head and sig");
    }
    head = { seq: data.seq, head: unb64(sodium, data.head, 32, "head"), sig: unb64(sodium, data.sig, 64, "sig") };
  } catch (error) {
    throw keyLogError("malformed", error.detail || String(error));
  }
  if (!verify(sodium, logPk, head.sig, "liaison/v1/log-head", u64(head.seq), head.head)) {
    throw keyLogError("bad-signature", "the head is not signed by the log key");
  }
  return head;
}

/** Parse one entry and check that its key id matches its keys. */
export function parseEntry(sodium, entryBytes) {
  let entry;
  try {
    entry = JSON.parse(fromUtf8(entryBytes));
    if (!hasExactly(entry, ENTRY_FIELDS)) throw new CryptoError("malformed", "entry fields");
    entry.signPk = unb64(sodium, entry.sign_pk, 32);
    entry.boxPk = unb64(sodium, entry.box_pk, 32);
    unb64(sodium, entry.proof, 64);
  } catch {
    throw keyLogError("malformed", "a log entry is malformed");
  }
  if (!EVENTS.includes(entry.event) || !isUuid(entry.user) || !isTime(entry.at)) {
    throw keyLogError("malformed", "a log entry has an unknown event, user or time");
  }
  if (entry.key_id !== keyId(sodium, entry.signPk, entry.boxPk)) {
    throw keyLogError("malformed", "a log entry's key id does not match its keys");
  }
  return entry;
}

/** Check that `entries` (bytes of those after `remembered`, or of the whole log when it is null)
 * chain from the remembered head to `newHead`; return the parsed entries. */
export function verifyExtension(sodium, remembered, entries, newHead) {
  let seq = remembered ? remembered.seq : 0;
  let head = remembered ? remembered.head : GENESIS;
  const parsed = entries.map((entryBytes) => {
    const entry = parseEntry(sodium, entryBytes);
    seq += 1;
    if (entry.seq !== seq) throw keyLogError("gap", `expected entry ${seq}, got ${entry.seq}`);
    head = nextHead(sodium, head, entryBytes);
    return entry;
  });
  if (newHead.seq !== seq || !same(sodium, newHead.head, head)) {
    throw keyLogError("fork", "the log does not extend the remembered head");
  }
  return parsed;
}
