// Named errors of envelope v1: every rejection carries a short machine-readable reason,
// the same reasons as the Python client (client/liaison_client/errors.py).

/** Something failed a check of the spec; `reason` names which (e.g. "bad-signature"). */
export class CryptoError extends Error {
  constructor(reason, detail = "", kind = "crypto") {
    super(detail ? `${reason}: ${detail}` : reason);
    this.name = "CryptoError";
    this.reason = reason;
    this.detail = detail;
    this.kind = kind;
  }
}

export const envelopeError = (reason, detail) => new CryptoError(reason, detail, "envelope");
export const blobError = (reason, detail) => new CryptoError(reason, detail, "blob");
export const backupError = (reason, detail) => new CryptoError(reason, detail, "backup");
export const keyLogError = (reason, detail) => new CryptoError(reason, detail, "key-log");
