// The person's own keys: set-up, unlock and rotation. Secret keys are used in this module's
// memory. To stay unlocked across page loads and tabs of the same signed-in session (issue 12),
// they are also kept in localStorage, but only encrypted (XChaCha20-Poly1305) under the session's
// unlock key, which the server hands to this session alone, replaces at each unlock and forgets
// at lock, sign-out and expiry; nothing secret is ever stored in clear, nor put in URLs or logs.
// Also kept in localStorage: the highest backup version seen (public), so that a server cannot
// roll the backup back to an older one (§5) on a later visit.
import {
  b64, createBackup, fingerprint, formatRecoveryKey, generate, identityFromSecrets,
  openWithPassphrase, openWithRecoveryKey, pack, parseRecoveryKey, publicationSignature, unb64,
} from "../crypto/index.mjs";
import { fromUtf8, hasExactly, utf8 } from "../crypto/encoding.mjs";
import { refreshLock, storeKey } from "../session-keys.mjs";
import { ApiError, api } from "./api.mjs";

const KEPT_FIELDS = ["v", "nonce", "ciphertext"];
const keptAd = (userId) => pack("liaison/v1/session-unlock", userId);

export const MIN_PASSPHRASE = 12;

export class Keyring {
  constructor(sodium, userId) {
    this.sodium = sodium;
    this.userId = userId;
    this.keys = null; // current key first, older keys after
    this.versionKey = `liaison.backup-version.${userId}`;
    this.version = Number(window.localStorage.getItem(this.versionKey)) || 0;
    this.keptKey = storeKey(userId);
  }

  /** Remember the highest backup version seen (public; refuses a rolled-back backup later). */
  remember(version) {
    this.version = Math.max(this.version, version);
    window.localStorage.setItem(this.versionKey, String(this.version));
  }

  get unlocked() { return this.keys !== null; }
  get current() { return this.keys[0]; }
  get fingerprint() { return fingerprint(this.sodium, this.current.signPk, this.current.boxPk); }

  /** What the server holds: {current, backup_version}. */
  async status() { return api("GET", "/keys/me"); }

  /** Open the stored backup with the passphrase or the recovery key. */
  async unlock(secret) {
    const bundle = JSON.parse(await api("GET", "/keys/backup", { expect: "text" }));
    const trimmed = secret.trim();
    let keys = null;
    let recovery = null;
    let typo = null; // shaped like a grouped recovery key, but its check does not match
    try { recovery = parseRecoveryKey(this.sodium, trimmed); } catch (error) { typo = error; }
    if (recovery) {
      try { keys = openWithRecoveryKey(this.sodium, bundle, recovery, this.version); } catch { keys = null; }
    }
    if (!keys) {
      try {
        keys = openWithPassphrase(this.sodium, bundle, secret, this.version);
      } catch (error) {
        throw typo || error;
      }
    }
    const me = await this.status();
    if (!me.current || me.current.key_id !== keys[0].keyId) {
      throw new Error("the backup's current key is not the published one");
    }
    this.keys = keys;
    this.remember(bundle.version);
    await this.keep();
    return keys;
  }

  /** Keep the unlocked keys for this session's next page loads and tabs: encrypted under a new
   * unlock key that the server holds for this session only. Without one, stay unlocked here. */
  async keep() {
    const sodium = this.sodium;
    try {
      const wrapping = unb64(sodium, (await api("POST", "/session/unlock-key")).key, 32);
      const plaintext = utf8(JSON.stringify({ keys: this.keys.map((k) => ({
        key_id: k.keyId, sign_sk: b64(sodium, k.signSk), box_sk: b64(sodium, k.boxSk),
        created_at: k.createdAt,
      })) }));
      const nonce = sodium.randombytes_buf(24);
      const ciphertext = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
        plaintext, keptAd(this.userId), null, nonce, wrapping);
      sodium.memzero(plaintext);
      sodium.memzero(wrapping);
      window.localStorage.setItem(this.keptKey, JSON.stringify({
        v: 1, nonce: b64(sodium, nonce), ciphertext: b64(sodium, ciphertext),
      }));
    } catch {
      window.localStorage.removeItem(this.keptKey);
    }
    refreshLock();
  }

  /** Reopen the keys kept by an earlier page of this session; false (and nothing kept any more)
   * when there are none, the session's unlock key is gone, or they are not the published ones. */
  async resume(again = true) {
    const stored = window.localStorage.getItem(this.keptKey);
    if (!stored) return false;
    try {
      return await this.reopen(stored, (await api("POST", "/session/unlock-key/current")).key);
    } catch (error) {
      // another tab unlocked meanwhile (a new key and a new ciphertext): read them again, once
      if (again && window.localStorage.getItem(this.keptKey) !== stored) return this.resume(false);
      // a passing network or server trouble keeps them for the next page; anything else
      // (locked, signed out, another key published, damaged) means they are of no more use
      const passing = error instanceof ApiError && (error.status === 429 || error.status >= 500);
      if (!passing && window.localStorage.getItem(this.keptKey) === stored) {
        window.localStorage.removeItem(this.keptKey);
      }
      refreshLock();
      return false;
    }
  }

  /** Decrypt kept keys with the unlock key and check they are still the published ones. */
  async reopen(stored, unlockKey) {
    const sodium = this.sodium;
    const kept = JSON.parse(stored);
    if (!hasExactly(kept, KEPT_FIELDS) || kept.v !== 1) throw new Error("not kept keys");
    const wrapping = unb64(sodium, unlockKey, 32);
    const plaintext = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(null,
      unb64(sodium, kept.ciphertext), keptAd(this.userId), unb64(sodium, kept.nonce, 24), wrapping);
    sodium.memzero(wrapping);
    const keys = JSON.parse(fromUtf8(plaintext)).keys.map((e) => identityFromSecrets(sodium,
      this.userId, unb64(sodium, e.sign_sk, 64), unb64(sodium, e.box_sk, 32), e.created_at, e.key_id));
    sodium.memzero(plaintext);
    const me = await this.status();
    if (keys.length === 0 || !me.current || me.current.key_id !== keys[0].keyId) {
      throw new Error("the kept keys are not the published ones");
    }
    this.keys = keys;
    return true;
  }

  /** A new identity (first set-up or rotation) sealed into a new backup version; returns the
   * recovery key to show once and a commit() that uploads the backup, then publishes the key. */
  async prepare(passphrase) {
    const status = await this.status();
    let older = [];
    if (status.current) {
      // rotation: the stored backup must open with this passphrase; its keys are kept
      const bundle = JSON.parse(await api("GET", "/keys/backup", { expect: "text" }));
      older = openWithPassphrase(this.sodium, bundle, passphrase, this.version);
    }
    const identity = generate(this.sodium, this.userId);
    const keys = [identity, ...older];
    const version = (status.backup_version || 0) + 1;
    const { bundle, recoveryKey } = createBackup(this.sodium, keys, passphrase, version);
    const commit = async () => {
      await api("PUT", "/keys/backup", { raw: JSON.stringify(bundle) });
      await api("POST", "/keys", { json: {
        key_id: identity.keyId, sign_pk: b64(this.sodium, identity.signPk),
        box_pk: b64(this.sodium, identity.boxPk), created_at: identity.createdAt,
        pub_sig: b64(this.sodium, publicationSignature(this.sodium, identity)),
      } });
      this.keys = keys;
      this.remember(version);
      await this.keep();
    };
    return { recoveryKey: formatRecoveryKey(this.sodium, recoveryKey), commit };
  }
}
