// The person's own keys: set-up, unlock and rotation. Secret keys live in this module's memory
// only, for the life of the page; nothing secret is written to storage, URLs or logs. The one
// thing kept in localStorage is the highest backup version seen (public), so that a server
// cannot roll the backup back to an older one (§5) on a later visit.
import {
  b64, createBackup, fingerprint, formatRecoveryKey, generate, openWithPassphrase,
  openWithRecoveryKey, parseRecoveryKey, publicationSignature,
} from "../crypto/index.mjs";
import { api } from "./api.mjs";

export const MIN_PASSPHRASE = 12;

export class Keyring {
  constructor(sodium, userId) {
    this.sodium = sodium;
    this.userId = userId;
    this.keys = null; // current key first, older keys after
    this.versionKey = `liaison.backup-version.${userId}`;
    this.version = Number(window.localStorage.getItem(this.versionKey)) || 0;
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
    return keys;
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
    };
    return { recoveryKey: formatRecoveryKey(this.sodium, recoveryKey), commit };
  }
}
