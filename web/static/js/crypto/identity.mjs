// Identity keys (§2): generation, key id, publication proof, fingerprints, safety numbers,
// attestations and revocations. Keys are plain objects of Uint8Arrays:
//   public key: {userId, signPk, boxPk, createdAt, keyId}
//   identity:   the public fields plus {signSk, boxSk}
import { CryptoError } from "./errors.mjs";
import { H, b64, isTime, isUuid, now, sign, unb64, verify } from "./encoding.mjs";

/** b64(H("liaison/v1/key-id", sign_pk, box_pk)[0:16]). */
export function keyId(sodium, signPk, boxPk) {
  return b64(sodium, H(sodium, "liaison/v1/key-id", signPk, boxPk).slice(0, 16));
}

/** A public key object with its key id. */
export function publicKey(sodium, userId, signPk, boxPk, createdAt) {
  if (!isUuid(userId) || !isTime(createdAt) || signPk.length !== 32 || boxPk.length !== 32) {
    throw new CryptoError("malformed", "public key needs a UUID user id, a UTC time and 32-byte keys");
  }
  return { userId, signPk, boxPk, createdAt, keyId: keyId(sodium, signPk, boxPk) };
}

/** A public key from its wire form (base64url fields). */
export function publicKeyFromB64(sodium, userId, signPk, boxPk, createdAt) {
  return publicKey(sodium, userId, unb64(sodium, signPk, 32, "sign_pk"),
    unb64(sodium, boxPk, 32, "box_pk"), createdAt);
}

/** Rebuild an identity from secret keys, checking they are whole and consistent. */
export function identityFromSecrets(sodium, userId, signSk, boxSk, createdAt, expectedKeyId = null) {
  if (signSk.length !== 64 || boxSk.length !== 32 || !isTime(createdAt)) {
    throw new CryptoError("malformed", "secret keys have the wrong size");
  }
  const seeded = sodium.crypto_sign_seed_keypair(signSk.slice(0, 32));
  if (!sodium.memcmp(seeded.publicKey, signSk.slice(32))) {
    throw new CryptoError("malformed", "signing secret key does not match its public half");
  }
  const key = publicKey(sodium, userId, signSk.slice(32), sodium.crypto_scalarmult_base(boxSk), createdAt);
  if (expectedKeyId !== null && key.keyId !== expectedKeyId) {
    throw new CryptoError("key-mismatch", "secret keys do not belong to the stated key id");
  }
  return { ...key, signSk, boxSk };
}

/** A fresh identity: two independent key pairs. */
export function generate(sodium, userId, createdAt = null) {
  const signing = sodium.crypto_sign_keypair();
  const box = sodium.crypto_box_keypair();
  return identityFromSecrets(sodium, userId, signing.privateKey, box.privateKey, createdAt || now());
}

/** The public half of an identity. */
export function publicOf(identity) {
  const { userId, signPk, boxPk, createdAt, keyId: id } = identity;
  return { userId, signPk, boxPk, createdAt, keyId: id };
}

/** pub_sig: the proof the server requires before accepting a public identity. */
export function publicationSignature(sodium, identity) {
  return sign(sodium, identity.signSk, "liaison/v1/publish", identity.userId, identity.keyId,
    identity.boxPk, identity.createdAt);
}

/** Whether pub_sig is the key's own publication proof. */
export function verifyPublication(sodium, key, pubSig) {
  return verify(sodium, key.signPk, pubSig, "liaison/v1/publish", key.userId, key.keyId,
    key.boxPk, key.createdAt);
}

/** Six groups of five digits: group i = int_be(f[5i:5i+5]) mod 100000. */
export function fingerprint(sodium, signPk, boxPk) {
  const digest = H(sodium, "liaison/v1/fingerprint", signPk, boxPk);
  const groups = [];
  for (let i = 0; i < 6; i += 1) {
    let value = 0n;
    for (const byte of digest.slice(5 * i, 5 * i + 5)) value = (value << 8n) | BigInt(byte);
    groups.push(String(value % 100000n).padStart(5, "0"));
  }
  return groups.join(" ");
}

/** The two fingerprints sorted as strings and joined. */
export function safetyNumber(fingerprintA, fingerprintB) {
  return [fingerprintA, fingerprintB].sort().join(" ");
}

/** The secretariat's attestation of a key until a time. */
export function attest(sodium, rootSk, key, validUntil) {
  return sign(sodium, rootSk, "liaison/v1/attest", key.userId, key.keyId, key.signPk, key.boxPk,
    validUntil);
}

/** Whether the root key attested this key (expiry is the caller's to compare with now). */
export function verifyAttestation(sodium, rootPk, key, validUntil, attestSig) {
  return verify(sodium, rootPk, attestSig, "liaison/v1/attest", key.userId, key.keyId, key.signPk,
    key.boxPk, validUntil);
}

/** The key's own revocation signature. */
export function revoke(sodium, identity, at) {
  return sign(sodium, identity.signSk, "liaison/v1/revoke", identity.userId, identity.keyId, at);
}

/** Whether the key revoked itself at `at`. */
export function verifyRevocation(sodium, key, at, signature) {
  return verify(sodium, key.signPk, signature, "liaison/v1/revoke", key.userId, key.keyId, at);
}
