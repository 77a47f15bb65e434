"""The key directory: publishing, rotating and revoking identity keys, attestations, backups."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.models import User
from config import Settings
from core import audit
from core.db import utcnow
from messaging import crypto
from messaging.envelopes import (
    b64decode,
    b64encode,
    format_time,
    key_id_text,
    loads_strict,
    parse_time,
)
from messaging.errors import Conflict, Malformed, NotFound, Rejected
from messaging.models import Attestation, IdentityKey, KeyBackup
from messaging.services import keylog

MAX_BACKUP_BYTES = 256 * 1024
PUBLISH_FIELDS = {"key_id", "sign_pk", "box_pk", "created_at", "pub_sig"}
MIN_OPS = 3
MIN_MEM = 67108864


def current_key(session: Session, user_id: str) -> IdentityKey | None:
    """The person's current (unrevoked) key, if they published one."""
    statement = select(IdentityKey).where(
        IdentityKey.user_id == user_id, IdentityKey.current.is_(True)
    )
    return session.scalars(statement).first()


def current_keys(session: Session, user_ids: set[str]) -> dict[str, IdentityKey]:
    """Current keys of several people at once, by user id."""
    if not user_ids:
        return {}
    statement = select(IdentityKey).where(
        IdentityKey.user_id.in_(user_ids), IdentityKey.current.is_(True)
    )
    return {key.user_id: key for key in session.scalars(statement)}


def all_keys(session: Session, user_id: str) -> list[IdentityKey]:
    """Every key the person ever published, newest first (old ones verify old messages)."""
    statement = (
        select(IdentityKey)
        .where(IdentityKey.user_id == user_id)
        .order_by(IdentityKey.published_at.desc())
    )
    return list(session.scalars(statement))


def public_key(key: IdentityKey) -> crypto.PublicKey:
    """A stored key in the crypto module's form."""
    return crypto.public_key_from_b64(key.user_id, key.sign_pk, key.box_pk, key.created_at)


def publish_key(
    session: Session, settings: Settings, user: User, document: Any
) -> tuple[IdentityKey, bool]:
    """Make a new key the person's current one after checking its publication signature.

    Publishing the current key again is an idempotent success (``created`` is False).
    """
    if not isinstance(document, dict) or set(document) - PUBLISH_FIELDS:
        raise Malformed("send a JSON object with key_id, sign_pk, box_pk, created_at, pub_sig")
    key_id = key_id_text(document.get("key_id"), "key_id")
    for name in ("sign_pk", "box_pk"):
        b64decode(document.get(name), name, 32)
    b64decode(document.get("pub_sig"), "pub_sig", 64)
    parse_time(document.get("created_at"), "created_at")
    try:
        offered = crypto.check_publication(
            user.id,
            document["sign_pk"],
            document["box_pk"],
            document["created_at"],
            document["pub_sig"],
        )
    except crypto.CryptoError as error:
        raise Rejected(
            "pub_sig is not this key's signature over your user id, key id, box_pk and "
            f"created_at ({error.reason})",
            check="bad-publication-signature",
        ) from None
    if offered.key_id != key_id:
        raise Rejected("key_id does not match sign_pk and box_pk", check="key-id-mismatch")
    existing = session.scalars(select(IdentityKey).where(IdentityKey.key_id == key_id)).first()
    if existing is not None:
        if existing.user_id == user.id and existing.current:
            return existing, False
        raise Conflict(
            "this key was published before; an old or revoked key cannot become current "
            "again: generate a new one",
            check="key-reused",
        )
    previous = current_key(session, user.id)
    if previous is not None:
        previous.current = None
        session.flush()
    key = IdentityKey(
        user_id=user.id,
        key_id=key_id,
        sign_pk=document["sign_pk"],
        box_pk=document["box_pk"],
        created_at=document["created_at"],
        pub_sig=document["pub_sig"],
        current=True,
    )
    session.add(key)
    session.flush()
    keylog.append(
        session, settings, event="publish", key=offered, proof=b64decode(key.pub_sig, "pub_sig")
    )
    return key, True


def revoke_key(
    session: Session, settings: Settings, user: User, key_id: str, document: Any
) -> IdentityKey:
    """Revoke one of the person's keys with the key's own signature over (user, key, at)."""
    key = session.scalars(
        select(IdentityKey).where(IdentityKey.key_id == key_id, IdentityKey.user_id == user.id)
    ).first()
    if key is None:
        raise NotFound("no such key of yours")
    if not isinstance(document, dict):
        raise Malformed("send a JSON object with at and sig")
    at = document.get("at")
    parse_time(at, "at")
    signature = b64decode(document.get("sig"), "sig", 64)
    if key.revoked_at is not None:
        return key
    stored = public_key(key)
    if not crypto.verify_revocation(user.id, key.key_id, stored.sign_pk, str(at), signature):
        raise Rejected("sig is not this key's revocation signature", check="bad-revocation")
    key.revoked_at = utcnow()
    key.revocation_proof = document["sig"]
    key.current = None
    session.flush()
    keylog.append(session, settings, event="revoke", key=stored, proof=signature)
    return key


def attest_key(
    session: Session, settings: Settings, user: User, root_sk: bytes, valid_until: datetime
) -> Attestation:
    """The secretariat vouches for the person's current key until ``valid_until``."""
    key = current_key(session, user.id)
    if key is None:
        raise NotFound("this person has not published a key yet")
    until = format_time(valid_until)
    stored = public_key(key)
    signature = crypto.attest(root_sk, user.id, key.key_id, stored.sign_pk, stored.box_pk, until)
    attestation = Attestation(
        user_id=user.id,
        key_id=key.key_id,
        valid_until=until,
        attest_sig=b64encode(signature),
        root_pk=b64encode(root_sk[32:]),  # an Ed25519 secret key ends with its public key
    )
    session.add(attestation)
    session.flush()
    keylog.append(session, settings, event="attest", key=stored, proof=signature)
    audit.record(
        session,
        actor_id=None,  # the secretariat signs offline with the root key, from the CLI
        action="attest_key",
        entity_type="user",
        entity_id=user.id,
        field="key_id",
        new=key.key_id,
    )
    return attestation


def latest_attestation(session: Session, key: IdentityKey) -> Attestation | None:
    """The newest attestation of this key that has not run out."""
    statement = (
        select(Attestation)
        .where(Attestation.key_id == key.key_id, Attestation.user_id == key.user_id)
        .order_by(Attestation.created_at.desc())
    )
    now = format_time(utcnow())
    for attestation in session.scalars(statement):
        if attestation.valid_until > now:  # same fixed-width format: text order is time order
            return attestation
    return None


def key_json(session: Session, key: IdentityKey) -> dict[str, Any]:
    """What the key directory tells about one key."""
    attestation = latest_attestation(session, key) if key.current else None
    stored = public_key(key)
    return {
        "user": key.user_id,
        "key_id": key.key_id,
        "sign_pk": key.sign_pk,
        "box_pk": key.box_pk,
        "created_at": key.created_at,
        "pub_sig": key.pub_sig,
        "fingerprint": stored.fingerprint,
        "current": bool(key.current),
        "revoked_at": format_time(key.revoked_at) if key.revoked_at else None,
        "attestation": None
        if attestation is None
        else {
            "valid_until": attestation.valid_until,
            "sig": attestation.attest_sig,
            "root_pk": attestation.root_pk,
        },
    }


def _check_backup(user: User, text: str) -> tuple[int, dict[str, Any]]:
    if len(text.encode("utf-8")) > MAX_BACKUP_BYTES:
        raise Malformed(f"a key backup is at most {MAX_BACKUP_BYTES} bytes", status=413)
    bundle = loads_strict(text, "the key backup")
    if not isinstance(bundle, dict) or bundle.get("v") != 1 or bundle.get("v") is True:
        raise Malformed("a key backup is a JSON object with v = 1")
    if bundle.get("user") != user.id:
        raise Rejected("the backup names another user", check="backup-user")
    version = bundle.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise Malformed("version must be a whole number from 1")
    protection = bundle.get("pass")
    recovery = bundle.get("recovery")
    if not isinstance(protection, dict) or not isinstance(recovery, dict):
        raise Malformed("pass and recovery must be objects")
    if protection.get("alg") != "argon2id13":
        raise Rejected("pass.alg must be argon2id13", check="backup-weak-kdf")
    ops, mem = protection.get("ops"), protection.get("mem")
    if not isinstance(ops, int) or not isinstance(mem, int) or ops < MIN_OPS or mem < MIN_MEM:
        raise Rejected(
            f"pass.ops must be at least {MIN_OPS} and pass.mem at least {MIN_MEM}",
            check="backup-weak-kdf",
        )
    b64decode(bundle.get("nonce"), "nonce", 24)
    b64decode(bundle.get("ciphertext"), "ciphertext")
    b64decode(protection.get("salt"), "pass.salt", 16)
    for part, name in ((protection, "pass"), (recovery, "recovery")):
        b64decode(part.get("nonce"), f"{name}.nonce", 24)
        b64decode(part.get("wrapped"), f"{name}.wrapped", 48)
    return version, bundle


def store_backup(session: Session, user: User, text: str) -> tuple[KeyBackup, bool]:
    """Keep the person's encrypted key bundle; a lower version (a rollback) is refused."""
    version, _bundle = _check_backup(user, text)
    backup = session.get(KeyBackup, user.id, with_for_update=True)
    if backup is not None:
        if version == backup.version and text == backup.bundle:
            return backup, False
        if version <= backup.version:
            raise Conflict(
                f"the stored backup has version {backup.version}; send a higher version",
                check="backup-rollback",
            )
        backup.version = version
        backup.bundle = text
        backup.updated_at = utcnow()
    else:
        backup = KeyBackup(user_id=user.id, version=version, bundle=text)
        session.add(backup)
    session.flush()
    return backup, True


def get_backup(session: Session, user: User) -> KeyBackup:
    """The person's own key backup (nobody else's is ever served)."""
    backup = session.get(KeyBackup, user.id)
    if backup is None:
        raise NotFound("no key backup stored yet")
    return backup
