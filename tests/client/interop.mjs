// Test helper: the browser crypto module under Node, driven by the Python interop tests.
// Reads one JSON request on stdin, writes one JSON answer on stdout.
import { readFileSync } from "node:fs";
import { open } from "node:fs/promises";
import {
  b64, createBackup, decryptAttachment, encryptAttachment, identityFromSecrets, loadSodium,
  openMessage, openWithPassphrase, openWithRecoveryKey, publicKeyFromB64, seal, unb64,
} from "../../web/static/js/crypto/index.mjs";

const sodium = await loadSodium();
const request = JSON.parse(readFileSync(0, "utf8"));
const identity = (u) => identityFromSecrets(sodium, u.id, unb64(sodium, u.sign_sk, 64), unb64(sodium, u.box_sk, 32), u.created_at);
const publicKey = (u) => publicKeyFromB64(sodium, u.id, u.sign_pk, u.box_pk, u.created_at);

async function fileSource(path) {
  const handle = await open(path, "r");
  return {
    handle,
    async read(n) {
      const buffer = new Uint8Array(n);
      let filled = 0;
      while (filled < n) {
        const { bytesRead } = await handle.read(buffer, filled, n - filled, null);
        if (!bytesRead) break;
        filled += bytesRead;
      }
      return buffer.subarray(0, filled);
    },
  };
}

async function fileSink(path) {
  const handle = await open(path, "w");
  return { handle, write: (bytes) => handle.write(bytes) };
}

const ops = {
  async seal(r) {
    return seal(sodium, identity(r.sender), r.recipients.map(publicKey), r.body, { kind: r.kind });
  },
  async open(r) {
    const opened = openMessage(sodium, r.envelope, identity(r.reader), publicKey(r.sender));
    return { header: opened.header, body: opened.body, hh: b64(sodium, opened.hh) };
  },
  async "encrypt-blob"(r) {
    const source = await fileSource(r.plaintext_path);
    const sink = await fileSink(r.blob_path);
    const size = (await source.handle.stat()).size;
    const about = { blobId: r.blob_id, name: r.name, mime: r.mime };
    const manifest = await encryptAttachment(sodium, source, size, about, sink.write);
    await source.handle.close();
    await sink.handle.close();
    return manifest;
  },
  async "decrypt-blob"(r) {
    const source = await fileSource(r.blob_path);
    const sink = await fileSink(r.out_path);
    const length = (await source.handle.stat()).size;
    try {
      return { size: await decryptAttachment(sodium, source, length, r.manifest, sink.write) };
    } finally {
      await source.handle.close();
      await sink.handle.close();
    }
  },
  async "create-backup"(r) {
    const { bundle, recoveryKey } = createBackup(sodium, [identity(r.user)], r.passphrase, r.version);
    return { bundle, recovery_key: b64(sodium, recoveryKey) };
  },
  async "open-backup"(r) {
    const keys = r.passphrase !== undefined
      ? openWithPassphrase(sodium, r.bundle, r.passphrase)
      : openWithRecoveryKey(sodium, r.bundle, unb64(sodium, r.recovery_key, 32));
    return { key_ids: keys.map((k) => k.keyId) };
  },
};

try {
  process.stdout.write(JSON.stringify({ ok: await ops[request.op](request) }));
} catch (error) {
  process.stdout.write(JSON.stringify({ error: error.reason || error.message }));
}
