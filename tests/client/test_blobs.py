"""Attachments (§4): streamed secretstream blobs and their manifest."""

from __future__ import annotations

import io
import os
import tracemalloc
import uuid

import pytest
from liaison_client.blobs import CHUNK, blob_size, decrypt_stream, decrypt_to_file, encrypt_file
from liaison_client.encoding import unb64
from liaison_client.errors import BlobError


def _encrypted(tmp_path, size: int) -> tuple[bytes, bytes, dict]:
    plain = os.urandom(size)
    (tmp_path / "plain.pdf").write_bytes(plain)
    manifest = encrypt_file(tmp_path / "plain.pdf", tmp_path / "blob", str(uuid.uuid4()))
    return plain, (tmp_path / "blob").read_bytes(), manifest


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK])
def test_attachment_round_trips_at_chunk_boundaries(tmp_path, size: int) -> None:
    plain, blob, manifest = _encrypted(tmp_path, size)
    assert len(blob) == blob_size(size)
    target = tmp_path / "out"
    assert decrypt_to_file(io.BytesIO(blob), len(blob), manifest, target) == size
    assert target.read_bytes() == plain


def test_bytes_after_the_final_chunk_are_refused_and_no_file_appears(tmp_path) -> None:
    _, blob, manifest = _encrypted(tmp_path, 1000)
    target = tmp_path / "out"
    with pytest.raises(BlobError) as error:
        decrypt_to_file(io.BytesIO(blob + b"x" * 40), len(blob) + 40, manifest, target)
    assert error.value.reason == "data-after-final"
    assert not target.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".liaison-")] == []


def test_a_truncated_blob_is_refused(tmp_path) -> None:
    _, blob, manifest = _encrypted(tmp_path, 2 * CHUNK + 10)
    key = unb64(manifest["key"], 32)
    with pytest.raises(BlobError) as error:
        b"".join(decrypt_stream(io.BytesIO(blob[: 24 + 2 * (CHUNK + 17)]), manifest["blob"], key))
    assert error.value.reason == "truncated"


def test_a_blob_other_than_the_one_the_manifest_names_is_refused(tmp_path) -> None:
    _, blob, manifest = _encrypted(tmp_path, 100)
    _, other, _ = _encrypted(tmp_path, 100)
    with pytest.raises(BlobError):
        decrypt_to_file(io.BytesIO(other), len(other), manifest, tmp_path / "out")
    with pytest.raises(BlobError) as error:
        decrypt_to_file(io.BytesIO(blob), len(blob), {**manifest, "hash": manifest["key"]},
                        tmp_path / "out")  # fmt: skip
    assert error.value.reason == "bad-hash"


def test_a_large_attachment_is_never_held_whole_in_memory(tmp_path) -> None:
    size = 8 * 1024 * 1024
    with (tmp_path / "big.bin").open("wb") as out:
        for _ in range(size // CHUNK):
            out.write(os.urandom(CHUNK))
    tracemalloc.start()
    manifest = encrypt_file(tmp_path / "big.bin", tmp_path / "blob", str(uuid.uuid4()))
    with (tmp_path / "blob").open("rb") as blob:
        decrypt_to_file(blob, blob_size(size), manifest, tmp_path / "out")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 1024 * 1024
    assert (tmp_path / "out").stat().st_size == size
