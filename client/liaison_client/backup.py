"""Key backups (§5): the private keys sealed under a random backup key, which is wrapped once
under an Argon2id passphrase key and once under a recovery key shown once to the person."""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from typing import Any

from nacl import bindings
from nacl.exceptions import CryptoError as NaclCryptoError

from liaison_client.encoding import b64, is_uuid, loads, pack, u64, unb64
from liaison_client.errors import BackupError, CryptoError
from liaison_client.identity import Identity, identity_from_secrets

ALG = "argon2id13"
MIN_OPS = 3
MIN_MEM = 64 * 1024 * 1024
MAX_OPS = 20  # a server must not be able to make unlocking hang either
MAX_MEM = 1024 * 1024 * 1024
BUNDLE_FIELDS = {"v", "user", "version", "nonce", "ciphertext", "pass", "recovery"}


def _aead(plaintext: bytes, ad: bytes, nonce: bytes, key: bytes) -> bytes:
    return bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, ad, nonce, key)


FAILURES = {
    "wrong-passphrase": "the passphrase does not open this backup",
    "wrong-recovery-key": "the recovery key does not open this backup",
    "bad-ciphertext": "the backup was altered or relabelled (user or version)",
}


def _unaead(ciphertext: bytes, ad: bytes, nonce: bytes, key: bytes, reason: str) -> bytes:
    try:
        return bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(ciphertext, ad, nonce, key)
    except NaclCryptoError as error:
        raise BackupError(reason, FAILURES[reason]) from error


def passphrase_key(passphrase: str, salt: bytes, ops: int, mem: int) -> bytes:
    """KEK = crypto_pwhash(32, passphrase, salt, ops, mem, ARGON2ID13)."""
    return bindings.crypto_pwhash_alg(
        32, passphrase.encode("utf-8"), salt, ops, mem, bindings.crypto_pwhash_ALG_ARGON2ID13
    )


def create_backup(
    keys: Sequence[Identity], passphrase: str, version: int, *, ops: int = MIN_OPS,
    mem: int = MIN_MEM, recovery_key: bytes | None = None,
) -> tuple[dict[str, Any], bytes]:  # fmt: skip
    """A bundle holding ``keys`` (current first) and the recovery key to show once."""
    if not keys or len({k.user_id for k in keys}) != 1:
        raise BackupError("malformed", "a backup holds the keys of one person")
    if not MIN_OPS <= ops <= MAX_OPS or not MIN_MEM <= mem <= MAX_MEM:
        raise BackupError("weak-kdf", "passphrase hashing parameters out of bounds")
    user = keys[0].user_id
    plaintext = json.dumps({"keys": [
        {"key_id": k.key_id, "sign_sk": b64(k.sign_sk), "box_sk": b64(k.box_sk),
         "created_at": k.created_at} for k in keys
    ]}).encode("utf-8")  # fmt: skip
    backup_key, recovery_key = secrets.token_bytes(32), recovery_key or secrets.token_bytes(32)
    nonce, salt = secrets.token_bytes(24), secrets.token_bytes(16)
    pass_nonce, recovery_nonce = secrets.token_bytes(24), secrets.token_bytes(24)
    kek = passphrase_key(passphrase, salt, ops, mem)
    bundle = {
        "v": 1, "user": user, "version": version, "nonce": b64(nonce),
        "ciphertext": b64(_aead(plaintext, _ad(user, version), nonce, backup_key)),
        "pass": {
            "alg": ALG, "ops": ops, "mem": mem, "salt": b64(salt), "nonce": b64(pass_nonce),
            "wrapped": b64(
                _aead(backup_key, pack("liaison/v1/backup-pass", user), pass_nonce, kek)
            ),
        },
        "recovery": {
            "nonce": b64(recovery_nonce),
            "wrapped": b64(_aead(
                backup_key, pack("liaison/v1/backup-recovery", user), recovery_nonce, recovery_key
            )),
        },
    }  # fmt: skip
    return bundle, recovery_key


def _ad(user: str, version: int) -> bytes:
    return pack("liaison/v1/backup", user, u64(version))


def _check_bundle(bundle: object, last_version: int) -> dict[str, Any]:
    if not isinstance(bundle, dict) or set(bundle) != BUNDLE_FIELDS or bundle["v"] != 1:
        raise BackupError("malformed", "not a version 1 key backup")
    version, kdf = bundle["version"], bundle["pass"]
    if not is_uuid(bundle["user"]) or not isinstance(version, int) or isinstance(version, bool):
        raise BackupError("malformed", "backup user or version is malformed")
    if not isinstance(kdf, dict) or kdf.get("alg") != ALG:
        raise BackupError("weak-kdf", "passphrase hashing is not Argon2id 1.3")
    ops, mem = kdf.get("ops"), kdf.get("mem")
    if not isinstance(ops, int) or not isinstance(mem, int) or ops < MIN_OPS or mem < MIN_MEM:
        raise BackupError("weak-kdf", "passphrase hashing parameters below the minimum")
    if ops > MAX_OPS or mem > MAX_MEM:
        raise BackupError("weak-kdf", "passphrase hashing parameters above the maximum")
    if not 0 <= version < 2**63 or version < last_version:
        raise BackupError("rollback", "this backup is older than one already seen")
    return bundle


def _field(section: object, name: str, size: int | None) -> bytes:
    if not isinstance(section, dict):
        raise BackupError("malformed", "backup section is missing")
    try:
        return unb64(section.get(name), size, name)
    except CryptoError as error:
        raise BackupError("malformed", error.detail) from error


def open_with_passphrase(bundle: object, passphrase: str, last_version: int = 0) -> list[Identity]:
    """Unlock with the key passphrase; refuses weak KDF parameters and rolled-back versions."""
    checked = _check_bundle(bundle, last_version)
    kdf = checked["pass"]
    kek = passphrase_key(passphrase, _field(kdf, "salt", 16), kdf["ops"], kdf["mem"])
    wrapped = _field(kdf, "wrapped", 48)
    ad = pack("liaison/v1/backup-pass", checked["user"])
    backup_key = _unaead(wrapped, ad, _field(kdf, "nonce", 24), kek, "wrong-passphrase")
    return _open(checked, backup_key)


def open_with_recovery_key(
    bundle: object, recovery_key: bytes, last_version: int = 0
) -> list[Identity]:
    """Unlock with the recovery key."""
    checked = _check_bundle(bundle, last_version)
    section = checked["recovery"]
    ad = pack("liaison/v1/backup-recovery", checked["user"])
    wrapped = _field(section, "wrapped", 48)
    nonce = _field(section, "nonce", 24)
    backup_key = _unaead(wrapped, ad, nonce, recovery_key, "wrong-recovery-key")
    return _open(checked, backup_key)


def _open(bundle: dict[str, Any], backup_key: bytes) -> list[Identity]:
    user, version = bundle["user"], bundle["version"]
    plaintext = _unaead(
        _field(bundle, "ciphertext", None), _ad(user, version), _field(bundle, "nonce", 24),
        backup_key, "bad-ciphertext",
    )  # fmt: skip
    try:
        document = loads(plaintext)
        if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
            raise ValueError("no keys list")
        entries = document["keys"]
        keys = [
            identity_from_secrets(
                user, unb64(e["sign_sk"], 64), unb64(e["box_sk"], 32), e["created_at"], e["key_id"]
            )
            for e in entries
        ]
    except (ValueError, KeyError, TypeError, CryptoError) as error:
        raise BackupError("malformed", "backup keys are malformed") from error
    if not keys:
        raise BackupError("malformed", "backup holds no key")
    return keys
