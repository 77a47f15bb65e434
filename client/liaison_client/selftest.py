"""Checks an envelope-v1 vector file (§8): every valid vector opens to its stated plaintext and
every invalid one is rejected. Used by ``liaison-client selftest`` and by the test suite."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from liaison_client.backup import open_with_passphrase, open_with_recovery_key
from liaison_client.blobs import blob_hash, decrypt_stream
from liaison_client.encoding import b64, unb64
from liaison_client.errors import CryptoError
from liaison_client.identity import (
    Identity,
    PublicKey,
    fingerprint,
    identity_from_secrets,
    key_id,
    public_key_from_b64,
    safety_number,
    verify_publication,
)
from liaison_client.keylog import SignedHead, heads, parse_signed_head, verify_extension
from liaison_client.messages import open_message


class VectorFailure(AssertionError):
    """A vector did not give the result the file states."""


@dataclass(frozen=True)
class Case:
    """One named check of the vector file."""

    name: str
    run: Callable[[], None]


def expect(condition: bool, message: str) -> None:
    """Fail the current vector with ``message`` unless ``condition`` holds."""
    if not condition:
        raise VectorFailure(message)


# Without the manifest's size a reader cannot tell bytes after a short FINAL chunk from a damaged
# FINAL chunk (secretstream has no lengths), so it names the latter; both are rejections.
SAME_REJECTION = {"data-after-final": {"bad-chunk"}}


def rejects(action: Callable[[], object], reason: str | None, strict: bool) -> None:
    """The action must raise a CryptoError (with ``reason`` when strict)."""
    try:
        action()
    except CryptoError as error:
        agrees = reason is None or error.reason in {reason, *SAME_REJECTION.get(reason, ())}
        expect(not strict or agrees, f"rejected as {error.reason}, the file says {reason}")
        return
    raise VectorFailure("accepted, must be rejected")


def cases(vectors: dict[str, Any], strict: bool = False) -> list[Case]:
    """Every check of a vector file, named after its section and vector."""
    users = {name: _user(u) for name, u in vectors["users"].items()}
    secret = {name: pair[0] for name, pair in users.items()}
    public = {name: pair[1] for name, pair in users.items()}

    def user_case(name: str, data: dict[str, Any]) -> Case:
        return Case(f"user {name}", lambda: _check_user(data, secret[name]))

    def valid_case(v: dict[str, Any]) -> Case:
        def run() -> None:
            opened = open_message(v["envelope"], secret[v["reader"]], public[v["sender"]])
            expect(opened.body == v["body"], "opened to another body")

        return Case(f"valid: {v['name']}", run)

    def invalid_case(v: dict[str, Any]) -> Case:
        def run() -> None:
            rejects(
                lambda: open_message(v["envelope"], secret[v["reader"]], public[v["sender"]]),
                v.get("reason"), strict,
            )  # fmt: skip

        return Case(f"invalid: {v['name']}", run)

    def blob_case(b: dict[str, Any]) -> Case:
        return Case(f"blob: {b['name']}", lambda: _check_blob(b, strict))

    def fingerprint_case(f: dict[str, Any]) -> Case:
        return Case(f"fingerprint: {f['user']}", lambda: _check_fingerprint(f))

    def safety_number_case(number: dict[str, Any]) -> Case:
        def run() -> None:
            a, b = public[number["a"]].fingerprint, public[number["b"]].fingerprint
            expect(safety_number(a, b) == number["safety_number"], "safety number differs")

        return Case("safety number", run)

    return [
        *(user_case(name, data) for name, data in vectors["users"].items()),
        *(valid_case(v) for v in vectors["valid"]),
        *(invalid_case(v) for v in vectors["invalid"]),
        *(blob_case(b) for b in vectors["blobs"]),
        *_backup_cases(vectors["backups"], strict),
        *(fingerprint_case(f) for f in vectors["fingerprints"]),
        safety_number_case(vectors["safety_number"]),
        *_key_log_cases(vectors["key_log"]),
    ]


def _user(data: dict[str, Any]) -> tuple[Identity, PublicKey]:
    identity = identity_from_secrets(
        data["id"], unb64(data["sign_sk"], 64), unb64(data["box_sk"], 32), data["created_at"]
    )
    return identity, public_key_from_b64(
        data["id"], data["sign_pk"], data["box_pk"], data["created_at"]
    )


def _check_user(data: dict[str, Any], identity: Identity) -> None:
    key = public_key_from_b64(data["id"], data["sign_pk"], data["box_pk"], data["created_at"])
    expect(identity.public() == key, "secret keys do not match the public keys")
    expect(key.key_id == data["key_id"], "key id differs")
    expect(key.fingerprint == data["fingerprint"], "fingerprint differs")
    expect(verify_publication(key, unb64(data["pub_sig"], 64)), "pub_sig does not verify")
    expect(b64(identity.publication_signature()) == data["pub_sig"], "pub_sig differs")


def _check_blob(vector: dict[str, Any], strict: bool) -> None:
    blob, key = unb64(vector["blob"]), unb64(vector["key"], 32)

    def decrypt() -> bytes:
        return b"".join(decrypt_stream(io.BytesIO(blob), vector["blob_id"], key))

    if vector.get("valid", True):
        expect(decrypt() == unb64(vector["plaintext"]), "decrypts to another plaintext")
        expect(b64(blob_hash(blob)) == vector["hash"], "blob hash differs")
    else:
        rejects(decrypt, vector.get("reason"), strict)


def _backup_cases(backups: dict[str, Any], strict: bool) -> Iterator[Case]:
    passphrase, recovery = backups["passphrase"], unb64(backups["recovery_key"], 32)
    expected, valid = backups["expected_key_ids"], backups["valid"]

    def opens_with_passphrase() -> None:
        keys = open_with_passphrase(valid, passphrase)
        expect([k.key_id for k in keys] == expected, "holds other keys")

    def opens_with_recovery_key() -> None:
        keys = open_with_recovery_key(valid, recovery)
        expect([k.key_id for k in keys] == expected, "holds other keys")

    def refuses_rollback() -> None:
        newer_seen = valid["version"] + 1
        rejects(lambda: open_with_recovery_key(valid, recovery, newer_seen), "rollback", strict)

    def invalid_case(v: dict[str, Any]) -> Case:
        def run() -> None:
            rejects(lambda: open_with_passphrase(v["bundle"], passphrase), v.get("reason"), strict)
            rejects(lambda: open_with_recovery_key(v["bundle"], recovery), v.get("reason"), strict)

        return Case(f"backup: {v['name']}", run)

    yield Case("backup: opens with the passphrase", opens_with_passphrase)
    yield Case("backup: opens with the recovery key", opens_with_recovery_key)
    yield Case("backup: refuses a version older than one seen", refuses_rollback)
    yield from (invalid_case(v) for v in backups["invalid"])


def _check_fingerprint(vector: dict[str, Any]) -> None:
    sign_pk, box_pk = unb64(vector["sign_pk"], 32), unb64(vector["box_pk"], 32)
    expect(key_id(sign_pk, box_pk) == vector["key_id"], "key id differs")
    expect(fingerprint(sign_pk, box_pk) == vector["fingerprint"], "fingerprint differs")


def _key_log_cases(log: dict[str, Any]) -> Iterator[Case]:
    log_pk = unb64(log["log_pk"], 32)
    entries = [unb64(e) for e in log["entries"]]
    yield Case("key log: heads chain", lambda: expect(
        [b64(h) for h in heads(entries)] == log["heads"], "heads differ"))  # fmt: skip

    def extends() -> None:
        signed = parse_signed_head(log["signed_head"], log_pk)
        verify_extension(None, entries, signed)
        if len(entries) > 1:
            first = SignedHead(1, unb64(log["heads"][0], 32), b"")
            verify_extension(first, entries[1:], signed)

    def refuses_fork() -> None:
        signed = parse_signed_head(log["signed_head"], log_pk)
        forged = [*entries[:-1], entries[-1].replace(b'"seq"', b'"seq" ')]
        rejects(lambda: verify_extension(None, forged, signed), "fork", True)
        rejects(lambda: parse_signed_head({**log["signed_head"], "seq": signed.seq + 1}, log_pk),
                "bad-signature", True)  # fmt: skip

    yield Case("key log: signed head verifies and extends a remembered head", extends)
    yield Case("key log: refuses a changed entry and a re-numbered head", refuses_fork)


def run_file(path: Path, strict: bool = False) -> tuple[int, int, list[str]]:
    """Run every case of the file; return (passed, failed, one line per case)."""
    vectors = json.loads(path.read_text(encoding="utf-8"))
    passed, failed, lines = 0, 0, []
    for case in cases(vectors, strict):
        try:
            case.run()
        except (VectorFailure, CryptoError, KeyError, ValueError, TypeError) as error:
            failed += 1
            lines.append(f"FAIL {case.name}: {error}")
        else:
            passed += 1
            lines.append(f"ok   {case.name}")
    return passed, failed, lines
