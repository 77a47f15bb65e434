// Attachments (§4): secretstream in 65 536-byte chunks, streamed chunk by chunk so that no file
// is held whole in memory, and the blob hash the manifest carries. Mirrors client/liaison_client/blobs.py.
import { blobError } from "./errors.mjs";
import { b64, concat, isUuid, same, u32, unb64, utf8 } from "./encoding.mjs";
import { checkManifest } from "./body.mjs";

export const CHUNK = 65536;
const ABYTES = 17;
const HEADER_BYTES = 24;
const BLOB_TAG = "liaison/v1/blob";

/** Bytes of the blob for a plaintext of this size (the last chunk may be empty). */
export const blobSize = (plaintextSize) =>
  HEADER_BYTES + plaintextSize + ABYTES * (Math.floor(plaintextSize / CHUNK) + 1);

/** H("liaison/v1/blob", blob_bytes) computed incrementally; the length comes first in pack(). */
export class BlobHasher {
  constructor(sodium, length) {
    this.sodium = sodium;
    this.length = length;
    this.seen = 0;
    this.state = sodium.crypto_generichash_init(null, 32);
    const tag = utf8(BLOB_TAG);
    sodium.crypto_generichash_update(this.state, concat(u32(tag.length), tag, u32(length)));
  }

  update(bytes) {
    this.seen += bytes.length;
    this.sodium.crypto_generichash_update(this.state, bytes);
  }

  digest() {
    if (this.seen !== this.length) throw blobError("size-mismatch", "the blob is not the announced size");
    return this.sodium.crypto_generichash_final(this.state, 32);
  }
}

/** The hash of a blob held in memory (small blobs, tests). */
export function blobHash(sodium, blob) {
  const hasher = new BlobHasher(sodium, blob.length);
  hasher.update(blob);
  return hasher.digest();
}

/** A reader of exact byte counts over bytes in memory. */
export function bytesReader(bytes) {
  let offset = 0;
  return {
    async read(n) {
      const part = bytes.subarray(offset, offset + n);
      offset += part.length;
      return part;
    },
  };
}

/** A reader over a browser File/Blob: reads slices, never the whole file. */
export function fileReader(file) {
  let offset = 0;
  return {
    async read(n) {
      const part = new Uint8Array(await file.slice(offset, offset + n).arrayBuffer());
      offset += part.length;
      return part;
    },
  };
}

/** A reader of exact byte counts over a ReadableStream (e.g. a fetch response body). */
export function streamReader(stream) {
  const reader = stream.getReader();
  let buffered = new Uint8Array(0);
  let done = false;
  return {
    async read(n) {
      while (buffered.length < n && !done) {
        const next = await reader.read();
        if (next.done) done = true;
        else buffered = concat(buffered, next.value);
      }
      const part = buffered.slice(0, n);
      buffered = buffered.slice(part.length);
      return part;
    },
  };
}

/** Yield the blob: the stream header, then one encrypted chunk per 65 536 plaintext bytes, the
 * last (possibly empty) one tagged FINAL. `source.read(n)` returns up to n bytes, empty at end. */
export async function* encryptChunks(sodium, source, blobId, key) {
  const { state, header } = sodium.crypto_secretstream_xchacha20poly1305_init_push(key);
  yield header;
  const ad = utf8(blobId);
  for (;;) {
    const chunk = await source.read(CHUNK);
    const final = chunk.length < CHUNK;
    const tag = final ? sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL
      : sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE;
    yield sodium.crypto_secretstream_xchacha20poly1305_push(state, chunk, ad, tag);
    if (final) return;
  }
}

/** Yield plaintext chunks; throws "bad-chunk", "truncated" or "data-after-final". With the
 * manifest's plaintextSize every boundary is known. A caller discards what it got on a throw. */
export async function* decryptChunks(sodium, source, blobId, key, plaintextSize = null) {
  const header = await source.read(HEADER_BYTES);
  if (header.length !== HEADER_BYTES) throw blobError("truncated", "the blob is shorter than its stream header");
  let state;
  try {
    state = sodium.crypto_secretstream_xchacha20poly1305_init_pull(header, key);
  } catch {
    throw blobError("bad-key", "the attachment key is not a secretstream key");
  }
  const ad = utf8(blobId);
  let remaining = plaintextSize;
  for (;;) {
    const want = remaining === null ? CHUNK : Math.min(CHUNK, remaining);
    const piece = await source.read(want + ABYTES);
    if (piece.length < ABYTES || (remaining !== null && piece.length < want + ABYTES)) {
      throw blobError("truncated", "the blob ends without a final chunk");
    }
    let result;
    try {
      result = sodium.crypto_secretstream_xchacha20poly1305_pull(state, piece, ad);
    } catch {
      result = false;
    }
    if (!result) throw blobError("bad-chunk", "a chunk does not authenticate");
    const last = result.message.length < CHUNK;
    const expected = last ? sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL
      : sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE;
    if (result.tag !== expected) throw blobError("bad-chunk", "a chunk carries an unexpected tag");
    if (remaining !== null) remaining -= result.message.length;
    yield result.message;
    if (last) {
      if ((await source.read(1)).length) throw blobError("data-after-final", "bytes follow the final chunk");
      return;
    }
  }
}

/** Encrypt a file-like source of known size with a fresh key; `sink(bytes)` receives the blob
 * piece by piece. Returns the manifest (name and mime given by the caller). */
export async function encryptAttachment(sodium, source, size, { blobId, name, mime }, sink) {
  if (!isUuid(blobId)) throw blobError("malformed", "a blob id is a lowercase UUID");
  const key = sodium.crypto_secretstream_xchacha20poly1305_keygen();
  const hasher = new BlobHasher(sodium, blobSize(size));
  for await (const piece of encryptChunks(sodium, source, blobId, key)) {
    hasher.update(piece);
    await sink(piece);
  }
  const manifest = { blob: blobId, name, mime, size, key: b64(sodium, key), hash: b64(sodium, hasher.digest()) };
  return checkManifest(sodium, manifest);
}

/** Decrypt the blob a manifest names; `sink(chunk)` receives plaintext, and the returned promise
 * rejects (after which the caller must drop what the sink got) unless every chunk, FINAL, the
 * size and the hash check out. */
export async function decryptAttachment(sodium, source, blobLength, manifest, sink) {
  checkManifest(sodium, manifest);
  const key = unb64(sodium, manifest.key, 32);
  const hasher = new BlobHasher(sodium, blobLength);
  const hashing = { read: async (n) => { const part = await source.read(n); hasher.update(part); return part; } };
  let size = 0;
  for await (const chunk of decryptChunks(sodium, hashing, manifest.blob, key, manifest.size)) {
    size += chunk.length;
    await sink(chunk);
  }
  if (size !== manifest.size || !same(sodium, hasher.digest(), unb64(sodium, manifest.hash, 32))) {
    throw blobError("bad-hash", "the blob is not the one the message names");
  }
  return size;
}
