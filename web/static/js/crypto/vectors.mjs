// Checks an envelope-v1 vector file (§8) — the same checks as client/liaison_client/selftest.py — in Node and
// in the browser: every valid vector opens to its body, every invalid one is rejected.
import { CryptoError } from "./errors.mjs";
import { b64, canonical, unb64 } from "./encoding.mjs";
import {
  fingerprint, identityFromSecrets, keyId, publicKeyFromB64, publicOf, publicationSignature,
  safetyNumber, verifyPublication,
} from "./identity.mjs";
import { openMessage } from "./messages.mjs";
import { blobHash, bytesReader, decryptChunks } from "./blobs.mjs";
import { openWithPassphrase, openWithRecoveryKey } from "./backup.mjs";
import { heads, parseSignedHead, verifyExtension } from "./keylog.mjs";

// Without the manifest's size a reader cannot tell bytes after a short FINAL chunk from a damaged
// FINAL chunk (secretstream has no lengths), so it names the latter; both are rejections.
const SAME_REJECTION = { "data-after-final": ["bad-chunk"] };

class VectorFailure extends Error {}

function expect(condition, message) {
  if (!condition) throw new VectorFailure(message);
}

async function rejects(action, reason, strict) {
  try {
    await action();
  } catch (error) {
    if (!(error instanceof CryptoError)) throw error;
    const agrees = !reason || error.reason === reason || (SAME_REJECTION[reason] || []).includes(error.reason);
    expect(!strict || agrees, `rejected as ${error.reason}, the file says ${reason}`);
    return;
  }
  throw new VectorFailure("accepted, must be rejected");
}

async function collect(iterator) {
  const parts = [];
  for await (const part of iterator) parts.push(part);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) { out.set(part, offset); offset += part.length; }
  return out;
}

/** Every check of a vector file as [{name, run}], named as in the Python self-test. */
export function vectorCases(sodium, vectors, strict = false) {
  const secret = {};
  const pub = {};
  for (const [name, u] of Object.entries(vectors.users)) {
    secret[name] = identityFromSecrets(sodium, u.id, unb64(sodium, u.sign_sk, 64), unb64(sodium, u.box_sk, 32), u.created_at);
    pub[name] = publicKeyFromB64(sodium, u.id, u.sign_pk, u.box_pk, u.created_at);
  }
  const cases = [];
  const add = (name, run) => cases.push({ name, run });
  for (const [name, u] of Object.entries(vectors.users)) {
    add(`user ${name}`, () => {
      const key = pub[name];
      expect(canonical(publicOf(secret[name])) === canonical(key), "secret keys do not match the public keys");
      expect(key.keyId === u.key_id, "key id differs");
      expect(fingerprint(sodium, key.signPk, key.boxPk) === u.fingerprint, "fingerprint differs");
      expect(verifyPublication(sodium, key, unb64(sodium, u.pub_sig, 64)), "pub_sig does not verify");
      expect(b64(sodium, publicationSignature(sodium, secret[name])) === u.pub_sig, "pub_sig differs");
    });
  }
  for (const v of vectors.valid) {
    add(`valid: ${v.name}`, () => {
      const opened = openMessage(sodium, v.envelope, secret[v.reader], pub[v.sender]);
      expect(canonical(opened.body) === canonical(v.body), "opened to another body");
    });
  }
  for (const v of vectors.invalid) {
    add(`invalid: ${v.name}`, () => rejects(() => openMessage(sodium, v.envelope, secret[v.reader], pub[v.sender]), v.reason, strict));
  }
  for (const b of vectors.blobs) {
    add(`blob: ${b.name}`, async () => {
      const blob = unb64(sodium, b.blob);
      const decrypt = () => collect(decryptChunks(sodium, bytesReader(blob), b.blob_id, unb64(sodium, b.key, 32)));
      if (b.valid === false) {
        await rejects(decrypt, b.reason, strict);
      } else {
        expect(sodium.to_hex(await decrypt()) === sodium.to_hex(unb64(sodium, b.plaintext)), "decrypts to another plaintext");
        expect(b64(sodium, blobHash(sodium, blob)) === b.hash, "blob hash differs");
      }
    });
  }
  const backups = vectors.backups;
  const recovery = unb64(sodium, backups.recovery_key, 32);
  const ids = (keys) => JSON.stringify(keys.map((k) => k.keyId));
  add("backup: opens with the passphrase", () =>
    expect(ids(openWithPassphrase(sodium, backups.valid, backups.passphrase)) === JSON.stringify(backups.expected_key_ids), "holds other keys"));
  add("backup: opens with the recovery key", () =>
    expect(ids(openWithRecoveryKey(sodium, backups.valid, recovery)) === JSON.stringify(backups.expected_key_ids), "holds other keys"));
  add("backup: refuses a version older than one seen", () =>
    rejects(() => openWithRecoveryKey(sodium, backups.valid, recovery, backups.valid.version + 1), "rollback", strict));
  for (const v of backups.invalid) {
    add(`backup: ${v.name}`, async () => {
      await rejects(() => openWithPassphrase(sodium, v.bundle, backups.passphrase), v.reason, strict);
      await rejects(() => openWithRecoveryKey(sodium, v.bundle, recovery), v.reason, strict);
    });
  }
  for (const f of vectors.fingerprints) {
    add(`fingerprint: ${f.user}`, () => {
      const signPk = unb64(sodium, f.sign_pk, 32);
      const boxPk = unb64(sodium, f.box_pk, 32);
      expect(keyId(sodium, signPk, boxPk) === f.key_id, "key id differs");
      expect(fingerprint(sodium, signPk, boxPk) === f.fingerprint, "fingerprint differs");
    });
  }
  const number = vectors.safety_number;
  add("safety number", () => {
    const fp = (n) => fingerprint(sodium, pub[n].signPk, pub[n].boxPk);
    expect(safetyNumber(fp(number.a), fp(number.b)) === number.safety_number, "safety number differs");
  });
  const log = vectors.key_log;
  const logPk = unb64(sodium, log.log_pk, 32);
  const entries = log.entries.map((e) => unb64(sodium, e));
  add("key log: heads chain", () =>
    expect(JSON.stringify(heads(sodium, entries).map((h) => b64(sodium, h))) === JSON.stringify(log.heads), "heads differ"));
  add("key log: signed head verifies and extends a remembered head", () => {
    const signed = parseSignedHead(sodium, log.signed_head, logPk);
    verifyExtension(sodium, null, entries, signed);
    if (entries.length > 1) {
      verifyExtension(sodium, { seq: 1, head: unb64(sodium, log.heads[0], 32) }, entries.slice(1), signed);
    }
  });
  add("key log: refuses a changed entry and a re-numbered head", async () => {
    const signed = parseSignedHead(sodium, log.signed_head, logPk);
    const last = new TextDecoder().decode(entries[entries.length - 1]).replace('"seq"', '"seq" ');
    const forged = [...entries.slice(0, -1), new TextEncoder().encode(last)];
    await rejects(() => verifyExtension(sodium, null, forged, signed), "fork", true);
    await rejects(() => parseSignedHead(sodium, { ...log.signed_head, seq: signed.seq + 1 }, logPk), "bad-signature", true);
  });
  return cases;
}

/** Run every case; returns {passed, failed, lines}. */
export async function runVectors(sodium, vectors, strict = false) {
  let passed = 0;
  let failed = 0;
  const lines = [];
  let cases;
  try {
    cases = vectorCases(sodium, vectors, strict);
  } catch (error) {
    return { passed: 0, failed: 1, lines: [`FAIL the file is not an envelope-v1 vector file (${error.message})`] };
  }
  for (const c of cases) {
    try {
      await c.run();
      passed += 1;
      lines.push(`ok   ${c.name}`);
    } catch (error) {
      failed += 1;
      lines.push(`FAIL ${c.name}: ${error.message}`);
    }
  }
  return { passed, failed, lines };
}
