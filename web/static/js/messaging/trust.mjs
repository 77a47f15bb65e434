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
import {
  b64, parseSignedHead, publicKeyFromB64, unb64, verifyAttestation, verifyExtension, verifyPublication,
} from "../crypto/index.mjs";
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
    this.logKey = `liaison.keylog.${me}`;
    this.synced = null;
  }

  /** The key log (§6) since the remembered head: it must extend it, signed by the log key first
   * seen. The head and the key ids it lists are public and kept in localStorage. */
  async syncLog() {
    let stored = null;
    try { stored = JSON.parse(window.localStorage.getItem(this.logKey) || "null"); } catch { stored = null; }
    const state = stored || { log_pk: null, head: null, keys: {} };
    let answer = await api("GET", `/key-log?since=${state.head ? state.head.seq : 0}`);
    if (state.log_pk && state.log_pk !== answer.log_pk) throw new Error("the key log's key changed");
    const logPk = unb64(this.sodium, answer.log_pk, 32);
    let current = state.head ? parseSignedHead(this.sodium, state.head, logPk) : null;
    while (answer.entries.length) {
      const entries = answer.entries;
      const newHead = parseSignedHead(this.sodium, entries[entries.length - 1].signed_head, logPk);
      const parsed = verifyExtension(this.sodium, current, entries.map((e) => unb64(this.sodium, e.entry)), newHead);
      for (const entry of parsed) {
        const known = state.keys[entry.key_id] || {};
        if (entry.event === "publish") state.keys[entry.key_id] = { ...known, user: entry.user };
        else if (entry.event === "revoke") state.keys[entry.key_id] = { ...known, revoked: true };
      }
      current = newHead;
      answer = await api("GET", `/key-log?since=${current.seq}`);
    }
    const latest = answer.head;
    if (current === null ? latest.seq !== 0
      : latest.seq !== current.seq || latest.head !== b64(this.sodium, current.head)) {
      throw new Error("the key log does not extend the remembered head");
    }
    if (current) {
      state.head = { seq: current.seq, head: b64(this.sodium, current.head), sig: b64(this.sodium, current.sig) };
    }
    state.log_pk = answer.log_pk;
    window.localStorage.setItem(this.logKey, JSON.stringify(state));
    this.synced = state;
    return state;
  }

  /** Whether the key log lists this key as published by this person and not revoked. */
  async inLog(userId, keyId) {
    const listed = (state) => state && state.keys[keyId] && state.keys[keyId].user === userId
      && !state.keys[keyId].revoked;
    if (listed(this.synced)) return true;
    return listed(await this.syncLog());
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
      const current = keys.find((k) => k.current) || null;
      if (current && !(await this.inLog(data.user, current.keyId))) {
        throw new Error("the current key of this person is not in the key log");
      }
      this.cache.set(userId, { user: data.user, name: data.display_name, keys, current });
    }
    return this.cache.get(userId);
  }

  /** The sender key of a message, by key id (old keys too: old messages stay readable). */
  async senderKey(userId, keyId) {
    const entry = await this.person(userId);
    const key = entry.keys.find((k) => k.keyId === keyId);
    if (!key) throw new Error("unknown sender key");
    const listed = (state) => Boolean(state && state.keys[keyId] && state.keys[keyId].user === userId);
    if (!listed(this.synced) && !listed(await this.syncLog())) {
      throw new Error("the sender's key is not in the key log");
    }
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
