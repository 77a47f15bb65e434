"""Relay API: post an envelope, list and fetch copies, acknowledge, mark read, delete, threads."""

from __future__ import annotations

from flask import jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from accounts.models import User
from core.web import db_session, settings
from messaging.api_common import blueprint, caller, int_arg, json_body, limit
from messaging.envelopes import format_time
from messaging.models import Envelope
from messaging.services import inbox
from messaging.services.relay import Submission, accept_envelope, parse_submission

# The largest ciphertext plus header, wraps and base64 overhead.
MESSAGE_BODY_LIMIT = 4 * 1024 * 1024


def _accept(session: Session, user: User, submission: Submission) -> tuple[Envelope, bool]:
    envelope, created = accept_envelope(session, settings(), user, submission)
    session.commit()
    return envelope, created


@blueprint.post("/messages")
def post_message() -> ResponseReturnValue:
    """Check and store an envelope; the same id with the same bytes again is a success."""
    user = caller()
    limit("send")
    submission = parse_submission(json_body(MESSAGE_BODY_LIMIT))
    session = db_session()
    try:
        envelope, created = _accept(session, user, submission)
    except (IntegrityError, OperationalError):
        # A concurrent post of the same id (or a blob purged meanwhile): check once more, now
        # that the other transaction is visible.
        session.rollback()
        envelope, created = _accept(session, user, submission)
    body = {
        "id": envelope.id,
        "created": created,
        "received_at": format_time(envelope.received_at),
        "expires_at": format_time(envelope.expires_at),
    }
    return jsonify(body), 201 if created else 200


@blueprint.get("/messages")
def list_messages() -> ResponseReturnValue:
    """One page of the caller's inbox (or ``box=sent``), newest first; follow ``next``."""
    user = caller()
    copies, next_cursor = inbox.list_copies(
        db_session(),
        user.id,
        box=request.args.get("box", "inbox"),
        limit=int_arg("limit", 50, 1, inbox.MAX_PAGE),
        cursor=request.args.get("cursor") or None,
        unacknowledged=request.args.get("unacknowledged") in {"1", "true"},
    )
    messages = [inbox.message_json(d, e, whole=False) for d, e in copies]
    return jsonify({"messages": messages, "next": next_cursor})


@blueprint.get("/messages/<envelope_id>")
def get_message(envelope_id: str) -> ResponseReturnValue:
    """One of the caller's messages; its sender also sees who acknowledged and read it."""
    user = caller()
    session = db_session()
    delivery, envelope = inbox.get_copy(session, user.id, envelope_id)
    body = inbox.message_json(delivery, envelope)
    if delivery.is_sender:
        body["recipients"] = inbox.recipients_status(session, envelope.id)
    return jsonify(body)


@blueprint.post("/messages/<envelope_id>/ack")
def acknowledge_message(envelope_id: str) -> ResponseReturnValue:
    """Record that the caller's client has this message."""
    user = caller()
    session = db_session()
    delivery, envelope = inbox.acknowledge(session, user.id, envelope_id)
    body = inbox.status_json(delivery, envelope)
    session.commit()
    return jsonify(body)


@blueprint.post("/messages/<envelope_id>/read")
def read_message(envelope_id: str) -> ResponseReturnValue:
    """Record that the caller opened this message (the sender sees it as read)."""
    user = caller()
    session = db_session()
    delivery, envelope = inbox.mark_read(session, user.id, envelope_id)
    body = inbox.status_json(delivery, envelope)
    session.commit()
    return jsonify(body)


@blueprint.delete("/messages/<envelope_id>")
def delete_message(envelope_id: str) -> ResponseReturnValue:
    """Delete the caller's own copy (the other people keep theirs)."""
    user = caller()
    session = db_session()
    inbox.delete_copy(session, user.id, envelope_id)
    session.commit()
    return "", 204


@blueprint.get("/threads")
def list_threads() -> ResponseReturnValue:
    """The caller's threads, latest activity first."""
    user = caller()
    limit_ = int_arg("limit", 50, 1, inbox.MAX_PAGE)
    return jsonify({"threads": inbox.threads(db_session(), user.id, limit_)})


@blueprint.get("/threads/<thread_id>")
def get_thread(thread_id: str) -> ResponseReturnValue:
    """The caller's messages in one thread, oldest first."""
    user = caller()
    copies = inbox.thread(db_session(), user.id, thread_id)
    messages = [inbox.message_json(d, e, whole=False) for d, e in copies]
    return jsonify({"thread": thread_id, "messages": messages})
