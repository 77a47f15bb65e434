// Sealing and opening messages (§3). Opening runs every check of the spec in order; any failure
// rejects the whole message with a named reason and no plaintext. Mirrors client/liaison_client/messages.py.
import { envelopeError } from "./errors.mjs";
import { b64, concat, fromUtf8, isUuid, now, same, utf8 } from "./encoding.mjs";
import { checkBody } from "./body.mjs";
import {
  PAD_BLOCK, VERSION, ciphertextHash, envelopeSignature, headerHash, parseEnvelope,
  signatureValid, wrapsHash,
} from "./envelope.mjs";
import { publicOf } from "./identity.mjs";

/** The wire form of a parsed or freshly sealed envelope. */
export function envelopeToJson(sodium, envelope) {
  return {
    v: VERSION,
    header: b64(sodium, envelope.headerBytes),
    nonce: b64(sodium, envelope.nonce),
    ciphertext: b64(sodium, envelope.ciphertext),
    wraps: envelope.wraps.map((w) => ({ to: w.to, key_id: w.keyId, box: b64(sodium, w.box) })),
    sig: b64(sodium, envelope.sig),
  };
}

/** Encrypt `body` for `recipients` (public keys) and for the sender's own current key.
 * Returns {envelope (wire JSON), id, hh}. */
export function seal(sodium, sender, recipients, body, options = {}) {
  const to = recipients.map((key) => key.userId);
  if (to.length === 0 || new Set(to).size !== to.length) {
    throw envelopeError("malformed", "recipients must be distinct and not empty");
  }
  const kind = options.kind || "message";
  const id = options.messageId || crypto.randomUUID();
  const header = {
    v: VERSION, id, thread: options.thread || id, kind, sender: sender.userId,
    sender_key: sender.keyId, to, to_org: options.toOrg || null,
    created_at: options.createdAt || now(), expires_at: options.expiresAt || null,
  };
  checkBody(sodium, kind, body);
  const headerBytes = utf8(JSON.stringify(header));
  const hh = headerHash(sodium, headerBytes);
  const contentKey = sodium.randombytes_buf(32);
  const nonce = sodium.randombytes_buf(24);
  const padded = sodium.pad(utf8(JSON.stringify(body)), PAD_BLOCK);
  const ciphertext = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(padded, hh, null, nonce, contentKey);
  const readers = new Map(recipients.map((key) => [key.userId, key]));
  if (!readers.has(sender.userId)) readers.set(sender.userId, publicOf(sender));
  const wraps = [...readers.values()].map((key) => ({
    to: key.userId, keyId: key.keyId,
    box: sodium.crypto_box_seal(concat(contentKey, hh), key.boxPk),
  }));
  const sig = envelopeSignature(sodium, sender.signSk, hh, ciphertextHash(sodium, nonce, ciphertext),
    wrapsHash(sodium, wraps));
  const envelope = envelopeToJson(sodium, { headerBytes, nonce, ciphertext, wraps, sig });
  parseEnvelope(sodium, envelope); // what we send must pass our own strict parser
  return { envelope, id, hh };
}

/** Open an envelope as `reader` (an identity, or a list: current key first, older keys after),
 * trusting only the sender's pinned public key. Returns {header, body, hh}. */
export function openMessage(sodium, data, reader, senderKey) {
  const envelope = parseEnvelope(sodium, data);
  const keys = Array.isArray(reader) ? reader : [reader];
  if (keys.length === 0 || !isUuid(keys[0].userId)) throw envelopeError("no-key", "no identity to open with");
  const me = keys[0].userId;
  const wrap = envelope.wraps.find((w) => w.to === me);
  if (!wrap) throw envelopeError("not-a-recipient", "no wrap for this reader");
  const key = keys.find((k) => k.keyId === wrap.keyId && k.userId === me);
  if (!key) throw envelopeError("no-key", "the wrap is for a key this reader does not hold");
  let opened;
  try {
    opened = sodium.crypto_box_seal_open(wrap.box, key.boxPk, key.boxSk);
  } catch {
    throw envelopeError("bad-wrap", "the wrap does not open with this key");
  }
  const hh = headerHash(sodium, envelope.headerBytes);
  if (opened.length !== 64 || !same(sodium, opened.slice(32), hh)) {
    throw envelopeError("header-mismatch", "the wrap was made for another header");
  }
  const header = envelope.header;
  if (header.sender !== senderKey.userId || header.sender_key !== senderKey.keyId
      || !signatureValid(sodium, envelope, senderKey.signPk)) {
    throw envelopeError("bad-signature", "not signed by the sender's pinned key");
  }
  if (!header.to.includes(me) && me !== header.sender) {
    throw envelopeError("not-a-recipient", "this reader is not addressed");
  }
  let padded;
  try {
    padded = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(null, envelope.ciphertext, hh,
      envelope.nonce, opened.slice(0, 32));
  } catch {
    throw envelopeError("bad-ciphertext", "the body does not decrypt");
  }
  let bodyBytes;
  try {
    bodyBytes = sodium.unpad(padded, PAD_BLOCK);
  } catch {
    throw envelopeError("bad-padding", "the body is not padded");
  }
  let body;
  try {
    body = JSON.parse(fromUtf8(bodyBytes));
  } catch {
    throw envelopeError("malformed-body", "the body is not UTF-8 JSON");
  }
  return { header, body: checkBody(sodium, header.kind, body), hh };
}
