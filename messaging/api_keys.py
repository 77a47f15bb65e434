"""Key directory API: publish and revoke keys, look people's keys up, the key log, backups."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Response, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from accounts.models import Role, User, user_organization
from core.api_schema import Body, Reply, api_operation
from core.web import db_session, settings
from directory.queries import get_organization
from directory.visibility import viewer_for
from messaging import api_models as m
from messaging.api_common import blueprint, caller, int_arg, json_body, limit, raw_body
from messaging.envelopes import UUID, b64encode
from messaging.errors import Conflict, Malformed, NotFound
from messaging.models import KeyBackup
from messaging.services import keylog
from messaging.services.keys import (
    MAX_BACKUP_BYTES,
    all_keys,
    current_key,
    current_keys,
    get_backup,
    key_json,
    publish_key,
    revoke_key,
    store_backup,
)

KEY_BODY_LIMIT = 4096
SEQ_MAX = 2**31 - 1  # the key log's seq column (past it: nothing after, an empty page)


@contextmanager
def _key_change(session: Session) -> Iterator[None]:
    """Two key changes racing for the same log position or current key: a clear 409."""
    try:
        yield
        session.commit()
    except (IntegrityError, OperationalError):
        session.rollback()
        raise Conflict(
            "another key change was being recorded at the same moment; try again",
            check="key-log-busy",
        ) from None


@blueprint.post("/keys")
@api_operation(
    summary="Publish a new identity key; it becomes your current key",
    body=Body(m.KeyPublication),
    replies={201: Reply("published", m.PublicKey), 200: Reply("already current", m.PublicKey)},
    errors={
        400: ["malformed"],
        409: ["key-log-busy", "key-reused"],
        413: ["too-large"],
        422: ["bad-publication-signature", "key-id-mismatch", "key-reused"],
    },
)
def publish() -> ResponseReturnValue:
    """Publish a new identity key (it becomes the caller's current key)."""
    user = caller()
    document = json_body(KEY_BODY_LIMIT)
    session = db_session()
    with _key_change(session):
        key, created = publish_key(session, settings(), user, document)
        body = key_json(session, key)
    return jsonify(body), 201 if created else 200


@blueprint.post("/keys/<key_id>/revoke")
@api_operation(
    summary="Revoke one of your keys with its own signature",
    path={"key_id": m.KEY_ID_PARAM},
    body=Body(m.KeyRevocation),
    replies={200: Reply("revoked", m.PublicKey)},
    errors={
        400: ["malformed"],
        404: ["not-found"],
        409: ["key-log-busy"],
        413: ["too-large"],
        422: ["bad-revocation"],
    },
)
def revoke(key_id: str) -> ResponseReturnValue:
    """Revoke one of the caller's keys with the key's own signature."""
    user = caller()
    document = json_body(KEY_BODY_LIMIT)
    session = db_session()
    with _key_change(session):
        key = revoke_key(session, settings(), user, key_id, document)
        body = key_json(session, key)
    return jsonify(body)


def _keys_of(user_id: str) -> dict[str, object]:
    session = db_session()
    user = session.get(User, user_id) if UUID.match(user_id) else None
    if user is None or not user.is_active:
        raise NotFound("no such person")
    keys = all_keys(session, user.id)
    current = next((key for key in keys if key.current), None)
    return {
        "user": user.id,
        "display_name": user.display_name,
        "current": key_json(session, current) if current else None,
        "keys": [key_json(session, key) for key in keys],
    }


@blueprint.get("/keys/me")
@api_operation(
    summary="Who you are, your current key and the version of your stored backup",
    replies={200: Reply("you", m.Me)},
)
def my_keys() -> ResponseReturnValue:
    """Who the caller is, their current key (if any) and the version of their stored backup."""
    user = caller()
    session = db_session()
    key = current_key(session, user.id)
    backup = session.get(KeyBackup, user.id)
    return jsonify(
        {
            "user": user.id,
            "email": user.email,
            "display_name": user.display_name,
            "current": key_json(session, key) if key else None,
            "backup_version": backup.version if backup else None,
        }
    )


@blueprint.get("/users/<user_id>/keys")
@api_operation(
    summary="A person's current key (fingerprint, attestation) and older keys",
    path={"user_id": m.ID_PARAM},
    replies={200: Reply("the person's keys", m.PersonKeys)},
    errors={404: ["not-found"], 429: ["rate-limited"]},
)
def keys_of_person(user_id: str) -> ResponseReturnValue:
    """A person's current key (with fingerprint and attestation) and every older key."""
    caller()
    limit("lookup")
    return jsonify(_keys_of(user_id))


@blueprint.get("/users/lookup")
@api_operation(
    summary="Find a person by exact e-mail address, with their keys",
    query=m.EmailQuery,
    replies={200: Reply("the person's keys", m.PersonKeys)},
    errors={400: ["malformed"], 404: ["not-found"], 429: ["rate-limited"]},
)
def person_by_email() -> ResponseReturnValue:
    """Find a person by exact e-mail address, with their keys (for ``send --to``)."""
    caller()
    limit("lookup")
    email = (request.args.get("email") or "").strip().lower()
    if not email or len(email) > 254:
        raise Malformed("give email=<address>")
    user = db_session().scalars(select(User).where(func.lower(User.email) == email)).first()
    if user is None:
        raise NotFound("no such person")
    return jsonify(_keys_of(user.id))


@blueprint.get("/organizations/<organization_id>/recipients")
@api_operation(
    summary="An organisation's current contact points with their keys (to address it)",
    path={"organization_id": m.TEXT_PARAM},
    replies={200: Reply("the recipients", m.OrganisationRecipients)},
    errors={404: ["not-found"], 429: ["rate-limited"]},
)
def organisation_recipients(organization_id: str) -> ResponseReturnValue:
    """The organisation's current contact points with their keys, for addressing it."""
    user = caller()
    limit("lookup")
    session = db_session()
    organization = get_organization(session, viewer_for(user), organization_id)
    if organization is None:
        raise NotFound("no such organisation")
    roles = [role.value for role in Role if role.rank >= Role.CONTACT_POINT.rank]
    statement = (
        select(User)
        .join(user_organization, user_organization.c.user_id == User.id)
        .where(user_organization.c.organization_id == organization.id)
        .where(User.is_active, User.role.in_(roles))
        .order_by(User.display_name, User.id)
    )
    people = list(session.scalars(statement))
    keys = current_keys(session, {person.id for person in people})
    return jsonify(
        {
            "organization": organization.id,
            "name": organization.name,
            "recipients": [
                {
                    "user": person.id,
                    "display_name": person.display_name,
                    "key": key_json(session, keys[person.id]) if person.id in keys else None,
                }
                for person in people
            ],
        }
    )


@blueprint.get("/key-log")
@api_operation(
    summary="Key-log entries after seq `since`, each with its signed head (spec §6)",
    query=m.KeyLogQuery,
    replies={200: Reply("entries and the latest signed head", m.KeyLogPage)},
    errors={400: ["malformed"]},
)
def key_log() -> ResponseReturnValue:
    """Entries after ``since`` (oldest first) with the signed head after each one."""
    caller()
    since = int_arg("since", 0, 0, SEQ_MAX)
    page = keylog.entries_since(db_session(), since, int_arg("limit", keylog.PAGE, 1, keylog.PAGE))
    latest = keylog.latest_entry(db_session())
    return jsonify(
        {
            "log_pk": b64encode(keylog.log_key(db_session(), settings()).public),
            "entries": [
                {
                    "seq": row.seq,
                    "entry": b64encode(row.entry),
                    "signed_head": keylog.signed_head(row),
                }
                for row in page
            ],
            "head": keylog.signed_head(latest),
        }
    )


@blueprint.get("/key-log/head")
@api_operation(
    summary="The latest signed head and the log's public key",
    replies={200: Reply("the head", m.KeyLogHead)},
)
def key_log_head() -> ResponseReturnValue:
    """The latest signed head and the log's public key."""
    caller()
    return jsonify(
        {
            "log_pk": b64encode(keylog.log_key(db_session(), settings()).public),
            "head": keylog.signed_head(keylog.latest_entry(db_session())),
        }
    )


@blueprint.get("/keys/backup")
@api_operation(
    summary="Your encrypted key backup (spec §5), exactly as stored",
    replies={200: Reply("the bundle", m.KeyBackup, headers={"Cache-Control": "no-store"})},
    errors={404: ["not-found"]},
)
def backup() -> ResponseReturnValue:
    """The caller's own encrypted key backup, exactly as stored."""
    stored = get_backup(db_session(), caller())
    response = Response(stored.bundle, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.put("/keys/backup")
@api_operation(
    summary="Store a higher version of your encrypted key backup",
    body=Body(m.KeyBackup),
    replies={201: Reply("stored", m.BackupVersion), 200: Reply("unchanged", m.BackupVersion)},
    errors={
        400: ["malformed"],
        409: ["backup-rollback", "key-log-busy"],
        413: ["too-large", "malformed"],
        422: ["backup-user", "backup-weak-kdf"],
    },
)
def put_backup() -> ResponseReturnValue:
    """Store a new version of the caller's encrypted key backup (lower versions refused)."""
    user = caller()
    try:
        text = raw_body(MAX_BACKUP_BYTES).decode("utf-8")
    except UnicodeDecodeError:
        raise Malformed("the key backup is not UTF-8 JSON") from None
    session = db_session()
    with _key_change(session):
        stored, created = store_backup(session, user, text)
        version = stored.version
    return jsonify({"version": version}), 201 if created else 200
