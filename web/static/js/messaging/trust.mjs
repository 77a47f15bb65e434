// Keys of other people and how far this browser trusts them.
//
// Pins (the key id and fingerprint last accepted for a person, and whether it was compared in
// person) are a NON-SECRET list kept in this browser's localStorage under the signed-in person's
// id. Why not inside the encrypted key backup: the backup's plaintext format is fixed by
// envelope-v1 §5 ({"keys": [...]}) and shared with the Python client, and rewriting it needs the
// passphrase each time someone is verified. A pin holds no message content and no secret key; its
// worst leak is "this person writes to that person", which the relay already knows. Its integrity
// matters more than its secrecy, and only script from this origin (CSP) can write it. A pin lost
// with the browser profile only means "unverified" again, never a wrong "verified".
import { publicKeyFromB64, verifyAttestation, verifyPublication } from "../crypto/index.mjs";
import { unb64 } from "../crypto/index.mjs";
import { api } from "./api.mjs";

export const TRUST = { UNVERIFIED: "unverified", SECRETARIAT: "secretariat", IN_PERSON: "inPerson" };

export class KeyChanged extends Error {
  constructor(person) {
    super("key changed");
    this.person = person;
  }
}

export class Trust {
  constructor(sodium, me, rootPk) {
    this.sodium = sodium;
    this.me = me;
    this.rootPk = rootPk ? unb64(sodium, rootPk, 32) : null;
    this.cache = new Map();
    this.storageKey = `liaison.pins.${me}`;
  }

  pins() {
    try {
      return JSON.parse(window.localStorage.getItem(this.storageKey) || "{}");
    } catch {
      return {};
    }
  }

  savePin(userId, pin) {
    const pins = this.pins();
    pins[userId] = pin;
    window.localStorage.setItem(this.storageKey, JSON.stringify(pins));
  }

  /** A person's directory entry, with every key parsed and its publication proof checked. */
  async person(userId) {
    if (!this.cache.has(userId)) {
      const data = await api("GET", `/users/${encodeURIComponent(userId)}/keys`);
      const keys = data.keys.map((k) => {
        const key = publicKeyFromB64(this.sodium, data.user, k.sign_pk, k.box_pk, k.created_at);
        if (key.keyId !== k.key_id || !verifyPublication(this.sodium, key, unb64(this.sodium, k.pub_sig, 64))) {
          throw new Error("a key of this person does not carry its own publication proof");
        }
        return { ...key, fingerprint: k.fingerprint, current: k.current, attestation: k.attestation };
      });
      this.cache.set(userId, { user: data.user, name: data.display_name, keys,
        current: keys.find((k) => k.current) || null });
    }
    return this.cache.get(userId);
  }

  /** The sender key of a message, by key id (old keys too: old messages stay readable). */
  async senderKey(userId, keyId) {
    const entry = await this.person(userId);
    const key = entry.keys.find((k) => k.keyId === keyId);
    if (!key) throw new Error("unknown sender key");
    return key;
  }

  attested(key) {
    const a = key.attestation;
    if (!this.rootPk || !a) return false;
    if (Date.parse(a.valid_until) < Date.now()) return false;
    try {
      return verifyAttestation(this.sodium, this.rootPk, key, a.valid_until, unb64(this.sodium, a.sig, 64));
    } catch {
      return false;
    }
  }

  /** {level, changed}: the trust shown for a person's current key. */
  trustOf(entry) {
    const key = entry.current;
    const pin = this.pins()[entry.user];
    const changed = Boolean(pin && key && pin.keyId !== key.keyId);
    if (!changed && pin && pin.inPerson) return { level: TRUST.IN_PERSON, changed };
    if (key && this.attested(key)) return { level: TRUST.SECRETARIAT, changed };
    return { level: TRUST.UNVERIFIED, changed };
  }

  /** The current key of someone to write to; pins it on first use, throws KeyChanged when it
   * differs from the pinned one until acknowledge() is called. */
  async recipientKey(userId) {
    const entry = await this.person(userId);
    if (!entry.current) return { entry, key: null };
    const pin = this.pins()[userId];
    if (!pin) this.savePin(userId, { keyId: entry.current.keyId, fingerprint: entry.current.fingerprint, inPerson: false });
    else if (pin.keyId !== entry.current.keyId) throw new KeyChanged(entry);
    return { entry, key: entry.current };
  }

  acknowledge(entry) {
    this.savePin(entry.user, { keyId: entry.current.keyId, fingerprint: entry.current.fingerprint, inPerson: false });
  }

  markInPerson(entry) {
    this.savePin(entry.user, { keyId: entry.current.keyId, fingerprint: entry.current.fingerprint, inPerson: true });
  }
}
