"""Attachments (§4): secretstream in 65 536-byte chunks, streamed so that no file is ever held
whole in memory, and the blob hash that the manifest carries."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Protocol

from nacl import bindings
from nacl.exceptions import CryptoError as NaclCryptoError

from liaison_client.body import check_manifest
from liaison_client.encoding import b64, same, u32, unb64
from liaison_client.errors import BlobError

CHUNK = 65536
ABYTES = bindings.crypto_secretstream_xchacha20poly1305_ABYTES
HEADER_BYTES = bindings.crypto_secretstream_xchacha20poly1305_HEADERBYTES
TAG_MESSAGE = bindings.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
TAG_FINAL = bindings.crypto_secretstream_xchacha20poly1305_TAG_FINAL
BLOB_TAG = "liaison/v1/blob"


class Readable(Protocol):
    """Anything with ``read(n)``: an open file, a socket file, an HTTP response body."""

    def read(self, size: int = -1, /) -> bytes: ...


def blob_size(plaintext_size: int) -> int:
    """Bytes of the blob for a plaintext of this size (the last chunk may be empty)."""
    return HEADER_BYTES + plaintext_size + ABYTES * (plaintext_size // CHUNK + 1)


class BlobHasher:
    """``H("liaison/v1/blob", blob_bytes)`` computed incrementally; the length must be known
    first because pack() puts it before the bytes."""

    def __init__(self, length: int) -> None:
        self.length = length
        self.seen = 0
        self.state = bindings.crypto_generichash_blake2b_init(digest_size=32)
        tag = BLOB_TAG.encode()
        bindings.crypto_generichash_blake2b_update(self.state, u32(len(tag)) + tag + u32(length))

    def update(self, data: bytes) -> None:
        """Feed the next bytes of the blob."""
        self.seen += len(data)
        bindings.crypto_generichash_blake2b_update(self.state, data)

    def digest(self) -> bytes:
        """The hash; refuses if fewer or more bytes came than announced."""
        if self.seen != self.length:
            raise BlobError("size-mismatch", "the blob is not the announced size")
        return bindings.crypto_generichash_blake2b_final(self.state)


def blob_hash(blob: bytes) -> bytes:
    """The hash of a blob held in memory (small blobs, tests)."""
    hasher = BlobHasher(len(blob))
    hasher.update(blob)
    return hasher.digest()


def _read_full(source: Readable, size: int) -> bytes:
    parts, remaining = [], size
    while remaining:
        part = source.read(remaining)
        if not part:
            break
        parts.append(part)
        remaining -= len(part)
    return b"".join(parts)


def encrypt_stream(source: Readable, blob_id: str, key: bytes) -> Iterator[bytes]:
    """Yield the blob: the stream header, then one encrypted chunk per 65 536 plaintext bytes,
    the last (possibly empty) one tagged FINAL."""
    state = bindings.crypto_secretstream_xchacha20poly1305_state()
    stream_header = bindings.crypto_secretstream_xchacha20poly1305_init_push(state, key)
    yield stream_header
    ad = blob_id.encode("utf-8")
    while True:
        chunk = _read_full(source, CHUNK)
        tag = TAG_MESSAGE if len(chunk) == CHUNK else TAG_FINAL
        yield bindings.crypto_secretstream_xchacha20poly1305_push(state, chunk, ad, tag)
        if tag == TAG_FINAL:
            return


def decrypt_stream(
    source: Readable, blob_id: str, key: bytes, plaintext_size: int | None = None
) -> Iterator[bytes]:
    """Yield plaintext chunks; raises BlobError when a chunk fails (``bad-chunk``), FINAL is
    missing (``truncated``) or bytes follow FINAL (``data-after-final``). With the manifest's
    ``plaintext_size`` every chunk boundary is known, so trailing bytes are always told apart
    from a damaged last chunk. A caller must discard what it received when this raises."""
    stream_header = _read_full(source, HEADER_BYTES)
    if len(stream_header) != HEADER_BYTES:
        raise BlobError("truncated", "the blob is shorter than its stream header")
    state = bindings.crypto_secretstream_xchacha20poly1305_state()
    try:
        bindings.crypto_secretstream_xchacha20poly1305_init_pull(state, stream_header, key)
    except (NaclCryptoError, ValueError) as error:
        raise BlobError("bad-key", "the attachment key is not a secretstream key") from error
    ad = blob_id.encode("utf-8")
    remaining = plaintext_size
    while True:
        want = CHUNK if remaining is None else min(CHUNK, remaining)
        piece = _read_full(source, want + ABYTES)
        if len(piece) < ABYTES or (remaining is not None and len(piece) < want + ABYTES):
            raise BlobError("truncated", "the blob ends without a final chunk")
        try:
            chunk, tag = bindings.crypto_secretstream_xchacha20poly1305_pull(state, piece, ad)
        except (NaclCryptoError, ValueError) as error:
            raise BlobError("bad-chunk", "a chunk does not authenticate") from error
        last = len(chunk) < CHUNK
        if tag != (TAG_FINAL if last else TAG_MESSAGE):
            raise BlobError("bad-chunk", "a chunk carries an unexpected tag")
        if remaining is not None:
            remaining -= len(chunk)
        yield chunk
        if last:
            if source.read(1):
                raise BlobError("data-after-final", "bytes follow the final chunk")
            return


def encrypt_file(source: Path, target: Path, blob_id: str) -> dict[str, object]:
    """Encrypt a file to ``target`` with a fresh key and return its manifest (name is the file's,
    mime defaults to application/octet-stream)."""
    key = bindings.crypto_secretstream_xchacha20poly1305_keygen()
    size = source.stat().st_size
    hasher = BlobHasher(blob_size(size))
    with source.open("rb") as plain, target.open("wb") as out:
        for piece in encrypt_stream(plain, blob_id, key):
            hasher.update(piece)
            out.write(piece)
    return {
        "blob": blob_id, "name": source.name, "mime": "application/octet-stream", "size": size,
        "key": b64(key), "hash": b64(hasher.digest()),
    }  # fmt: skip


def decrypt_to_file(
    source: Readable, blob_length: int, manifest: dict[str, object], target: Path
) -> int:
    """Decrypt the blob a manifest names into ``target``; plaintext goes to a temporary file that
    is renamed only after every chunk, FINAL, the size and the hash checked. Returns the size."""
    check_manifest(manifest)
    blob_id, key = str(manifest["blob"]), unb64(manifest["key"], 32, "key")
    manifest_size = manifest["size"]
    assert isinstance(manifest_size, int)  # check_manifest made sure
    expected_hash = unb64(manifest["hash"], 32, "hash")
    hasher = BlobHasher(blob_length)
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".liaison-", suffix=".part")
    size = 0
    try:
        with os.fdopen(fd, "wb") as out:
            stream = decrypt_stream(_Hashing(source, hasher), blob_id, key, manifest_size)
            for chunk in stream:
                out.write(chunk)
                size += len(chunk)
        if size != manifest["size"] or not same(hasher.digest(), expected_hash):
            raise BlobError("bad-hash", "the blob is not the one the message names")
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return size


class _Hashing:
    """A reader that feeds everything it reads into a BlobHasher."""

    def __init__(self, source: Readable, hasher: BlobHasher) -> None:
        self.source = source
        self.hasher = hasher

    def read(self, size: int = -1, /) -> bytes:
        data = self.source.read(size)
        self.hasher.update(data)
        return data


def join(pieces: Iterable[bytes]) -> bytes:
    """Concatenate a small stream (tests, vectors)."""
    return b"".join(pieces)
