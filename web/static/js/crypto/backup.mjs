// Key backups (§5): private keys sealed under a random backup key, wrapped once under an
// Argon2id passphrase key and once under a recovery key shown once. Mirrors client/liaison_client/backup.py.
import { CryptoError, backupError } from "./errors.mjs";
import { b64, fromUtf8, hasExactly, isUuid, pack, u64, unb64, utf8 } from "./encoding.mjs";
import { identityFromSecrets } from "./identity.mjs";

export const ALG = "argon2id13";
export const MIN_OPS = 3;
export const MIN_MEM = 64 * 1024 * 1024;
const MAX_OPS = 20; // a server must not be able to make unlocking hang either
const MAX_MEM = 1024 * 1024 * 1024;
const BUNDLE_FIELDS = ["v", "user", "version", "nonce", "ciphertext", "pass", "recovery"];

const aead = (sodium, plaintext, ad, nonce, key) =>
  sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, ad, null, nonce, key);

function unaead(sodium, ciphertext, ad, nonce, key, reason) {
  try {
    return sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(null, ciphertext, ad, nonce, key);
  } catch {
    throw backupError(reason, "does not decrypt");
  }
}

const backupAd = (user, version) => pack("liaison/v1/backup", user, u64(version));

/** KEK = crypto_pwhash(32, passphrase, salt, ops, mem, ARGON2ID13). */
export function passphraseKey(sodium, passphrase, salt, ops, mem) {
  return sodium.crypto_pwhash(32, utf8(passphrase), salt, ops, mem, sodium.crypto_pwhash_ALG_ARGON2ID13);
}

/** A bundle holding `keys` (current first) and the recovery key to show once. */
export function createBackup(sodium, keys, passphrase, version, options = {}) {
  const ops = options.ops ?? MIN_OPS;
  const mem = options.mem ?? MIN_MEM;
  if (keys.length === 0 || new Set(keys.map((k) => k.userId)).size !== 1) {
    throw backupError("malformed", "a backup holds the keys of one person");
  }
  if (ops < MIN_OPS || ops > MAX_OPS || mem < MIN_MEM || mem > MAX_MEM) {
    throw backupError("weak-kdf", "passphrase hashing parameters out of bounds");
  }
  const user = keys[0].userId;
  const plaintext = utf8(JSON.stringify({ keys: keys.map((k) => ({
    key_id: k.keyId, sign_sk: b64(sodium, k.signSk), box_sk: b64(sodium, k.boxSk), created_at: k.createdAt,
  })) }));
  const backupKey = sodium.randombytes_buf(32);
  const recoveryKey = options.recoveryKey || sodium.randombytes_buf(32);
  const [nonce, passNonce, recoveryNonce] = [24, 24, 24].map((n) => sodium.randombytes_buf(n));
  const salt = sodium.randombytes_buf(16);
  const kek = passphraseKey(sodium, passphrase, salt, ops, mem);
  const bundle = {
    v: 1, user, version, nonce: b64(sodium, nonce),
    ciphertext: b64(sodium, aead(sodium, plaintext, backupAd(user, version), nonce, backupKey)),
    pass: {
      alg: ALG, ops, mem, salt: b64(sodium, salt), nonce: b64(sodium, passNonce),
      wrapped: b64(sodium, aead(sodium, backupKey, pack("liaison/v1/backup-pass", user), passNonce, kek)),
    },
    recovery: {
      nonce: b64(sodium, recoveryNonce),
      wrapped: b64(sodium, aead(sodium, backupKey, pack("liaison/v1/backup-recovery", user), recoveryNonce, recoveryKey)),
    },
  };
  return { bundle, recoveryKey };
}

function checkBundle(bundle, lastVersion) {
  if (!hasExactly(bundle, BUNDLE_FIELDS) || bundle.v !== 1) throw backupError("malformed", "not a version 1 key backup");
  if (!isUuid(bundle.user) || !Number.isSafeInteger(bundle.version)) {
    throw backupError("malformed", "backup user or version is malformed");
  }
  const kdf = bundle.pass;
  if (!kdf || typeof kdf !== "object" || kdf.alg !== ALG) throw backupError("weak-kdf", "passphrase hashing is not Argon2id 1.3");
  if (!Number.isSafeInteger(kdf.ops) || !Number.isSafeInteger(kdf.mem) || kdf.ops < MIN_OPS || kdf.mem < MIN_MEM) {
    throw backupError("weak-kdf", "passphrase hashing parameters below the minimum");
  }
  if (kdf.ops > MAX_OPS || kdf.mem > MAX_MEM) throw backupError("weak-kdf", "passphrase hashing parameters above the maximum");
  if (bundle.version < 0 || bundle.version < lastVersion) {
    throw backupError("rollback", "this backup is older than one already seen");
  }
  return bundle;
}

function field(sodium, section, name, size) {
  if (!section || typeof section !== "object") throw backupError("malformed", "backup section is missing");
  try {
    return unb64(sodium, section[name], size, name);
  } catch (error) {
    throw backupError("malformed", error.detail || String(error));
  }
}

function openWith(sodium, bundle, backupKey) {
  const plaintext = unaead(sodium, field(sodium, bundle, "ciphertext", null), backupAd(bundle.user, bundle.version),
    field(sodium, bundle, "nonce", 24), backupKey, "bad-ciphertext");
  let keys;
  try {
    keys = JSON.parse(fromUtf8(plaintext)).keys.map((e) => identityFromSecrets(sodium, bundle.user,
      unb64(sodium, e.sign_sk, 64), unb64(sodium, e.box_sk, 32), e.created_at, e.key_id));
  } catch (error) {
    if (error instanceof CryptoError || error instanceof TypeError || error instanceof SyntaxError) {
      throw backupError("malformed", "backup keys are malformed");
    }
    throw error;
  }
  if (keys.length === 0) throw backupError("malformed", "backup holds no key");
  return keys;
}

/** Unlock with the key passphrase; refuses weak KDF parameters and rolled-back versions. */
export function openWithPassphrase(sodium, bundle, passphrase, lastVersion = 0) {
  checkBundle(bundle, lastVersion);
  const kdf = bundle.pass;
  const kek = passphraseKey(sodium, passphrase, field(sodium, kdf, "salt", 16), kdf.ops, kdf.mem);
  const backupKey = unaead(sodium, field(sodium, kdf, "wrapped", 48), pack("liaison/v1/backup-pass", bundle.user),
    field(sodium, kdf, "nonce", 24), kek, "wrong-passphrase");
  return openWith(sodium, bundle, backupKey);
}

/** Unlock with the recovery key (32 bytes). */
export function openWithRecoveryKey(sodium, bundle, recoveryKey, lastVersion = 0) {
  checkBundle(bundle, lastVersion);
  const section = bundle.recovery;
  const backupKey = unaead(sodium, field(sodium, section, "wrapped", 48),
    pack("liaison/v1/backup-recovery", bundle.user), field(sodium, section, "nonce", 24), recoveryKey,
    "wrong-recovery-key");
  return openWith(sodium, bundle, backupKey);
}
