// The encrypted body of a message (§3) and the attachment manifest inside it (§4).
import { envelopeError } from "./errors.mjs";
import { hasExactly, isUuid, isWhole, unb64 } from "./encoding.mjs";

export const TLP_MARKINGS = ["TLP:RED", "TLP:AMBER+STRICT", "TLP:AMBER", "TLP:GREEN", "TLP:CLEAR"];
const MESSAGE_FIELDS = ["tlp", "subject", "body", "form", "attachments", "prev"];
const RECEIPT_FIELDS = ["receipt_for", "hh", "status"];
const MANIFEST_FIELDS = ["blob", "name", "mime", "size", "key", "hash"];

const fail = (detail) => envelopeError("malformed-body", detail);

function b64Field(sodium, value, size, what) {
  try {
    return unb64(sodium, value, size, what);
  } catch (error) {
    throw fail(error.detail || String(error));
  }
}

/** An attachment manifest: blob id, name, type, size, key and blob hash. */
export function checkManifest(sodium, manifest) {
  if (!hasExactly(manifest, MANIFEST_FIELDS)) {
    throw fail("an attachment manifest needs blob, name, mime, size, key and hash");
  }
  if (!isUuid(manifest.blob)) throw fail("attachment blob is not an id");
  if (typeof manifest.name !== "string" || typeof manifest.mime !== "string") {
    throw fail("attachment name and type must be text");
  }
  if (!isWhole(manifest.size)) throw fail("attachment size must be a whole number of bytes");
  b64Field(sodium, manifest.key, 32, "attachment key");
  b64Field(sodium, manifest.hash, 32, "attachment hash");
  return manifest;
}

/** Check that a body has the shape its kind requires. */
export function checkBody(sodium, kind, body) {
  if (!body || typeof body !== "object" || Array.isArray(body)) throw fail("body is not a JSON object");
  if (kind === "receipt") {
    if (!hasExactly(body, RECEIPT_FIELDS) || body.status !== "read" || !isUuid(body.receipt_for)) {
      throw fail("a receipt needs receipt_for, hh and status read");
    }
    b64Field(sodium, body.hh, 32, "receipt hh");
    return body;
  }
  if (!hasExactly(body, MESSAGE_FIELDS)) throw fail("body fields differ from version 1");
  if (!TLP_MARKINGS.includes(body.tlp)) throw fail("unknown TLP marking");
  if (typeof body.subject !== "string" || typeof body.body !== "string") {
    throw fail("subject and body must be text");
  }
  if (body.form !== null && (typeof body.form !== "object" || Array.isArray(body.form))) {
    throw fail("form must be an object or null");
  }
  if (body.prev !== null) b64Field(sodium, body.prev, 32, "prev");
  if (!Array.isArray(body.attachments)) throw fail("attachments must be a list");
  body.attachments.forEach((manifest) => checkManifest(sodium, manifest));
  return body;
}
