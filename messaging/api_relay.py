"""Relay API: post an envelope, list and fetch copies, acknowledge, mark read, delete, threads."""

from __future__ import annotations

from flask import g, jsonify, request, session
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, selectinload

from accounts.api_tokens import (
    BEARER_IN_VIEW,
    bearer_secret,
    token_hash,
    token_usable,
    touch_token,
    user_for_token,
    well_formed,
)
from accounts.models import User
from core.api_schema import Body, Reply, api_operation
from core.db import utcnow
from core.metrics import count_relay
from core.web import db_session, settings
from messaging import api_models as m
from messaging.api_common import (
    Unauthenticated,
    blueprint,
    caller,
    int_arg,
    json_body,
    limit,
    send_counter,
)
from messaging.envelopes import format_time
from messaging.errors import RateLimited, RelayError
from messaging.services import inbox
from messaging.services.referrals import may_see_organisation
from messaging.services.relay import (
    Accepted,
    Lookup,
    Submission,
    accept_envelope,
    look_up,
    parse_submission,
)

# The largest ciphertext plus header, wraps and base64 overhead.
MESSAGE_BODY_LIMIT = 4 * 1024 * 1024

# Posting checks a bearer token in the relay's own look-up (one statement fewer on the busiest
# route), so the request loader leaves these requests to the view.
blueprint.record_once(
    lambda state: state.app.extensions.setdefault(BEARER_IN_VIEW, set()).add(
        "api_messaging.post_message"
    )
)


def _accept(
    db: Session, sender_id: str, submission: Submission, found: Lookup | None = None
) -> Accepted:
    # The rate limit is counted last, in the envelope's own transaction: on PostgreSQL in the
    # very statement that stores it, elsewhere (or for the same envelope again) in one more
    # statement; no commit of its own, and no lock held while the envelope is checked. Past the
    # limit the envelope is rolled back (and the attempt still counted, see core.ratelimit).
    counter = send_counter(sender_id)
    params = counter.params if counter is not None else None
    accepted = accept_envelope(db, settings(), sender_id, submission, found=found, counter=params)
    if counter is not None and accepted.counted is not None:
        counter.done(accepted.counted, "messages", db)
    elif counter is not None:
        limit("send", sender_id, in_transaction=True)
    db.commit()
    return accepted


def _token_holder(secret: str) -> str:
    """The person of a usable bearer token (checked on its own); 401 otherwise."""
    user = user_for_token(db_session(), secret)
    if user is None:
        raise Unauthenticated("sign in, or send Authorization: Bearer <token>")
    g.signed_in = True
    return user.id


def _bearer_post(secret: str) -> tuple[str, Submission, Lookup | None]:
    """The poster, the submission and its look-up for a bearer request.

    The token is checked in the envelope's own look-up when its holder is one of the envelope's
    people (always, for an honest client); otherwise on its own. Refusals come in the same order
    as on the cookie path: 401, then 429, then what is wrong with the body or the envelope (the
    rate limit is counted when the envelope is accepted, or before any refusal of it).
    """
    if session.get("_user_id"):
        # A bearer request skips the CSRF check, so it must not ride on a session cookie.
        raise Unauthenticated("send a session cookie or a bearer token, not both")
    try:
        submission = parse_submission(json_body(MESSAGE_BODY_LIMIT))
    except RelayError:
        limit("send", _token_holder(secret))
        raise
    db = db_session()
    if not well_formed(secret):
        raise Unauthenticated("sign in, or send Authorization: Bearer <token>")
    found = look_up(db, submission.envelope, token_hash(secret))
    token = found.token
    if token is None:  # no such token, or its holder is not among this envelope's people
        return _token_holder(secret), submission, None
    now = utcnow()
    if not token_usable(token.expires_at, token.revoked_at, now):
        raise Unauthenticated("sign in, or send Authorization: Bearer <token>")
    g.signed_in = True
    if touch_token(db, token.id, token.last_used_at, now):
        return token.user_id, submission, None  # committed meanwhile: accepting looks again
    return token.user_id, submission, found


@blueprint.post("/messages")
@api_operation(
    summary="Post an envelope (spec §3), bare or as {envelope, blobs, referral}",
    description="An envelope of kind referral must come with the referral object. The relay "
    "checks the envelope byte for byte (recipients, wraps, keys, signature, expiry); the same id "
    "with the same bytes again is a success (200).",
    body=Body(m.MessagePost, description="An envelope, or a submission"),
    replies={
        201: Reply("stored", m.Posted),
        200: Reply("the same id with the same bytes was already stored", m.Posted),
    },
    errors={
        400: [
            "malformed",
            "unsupported-version",
            "bad-padding",
            "bad-referral",
            "referral-required",
            "unexpected-referral",
        ],
        403: ["wrong-sender", "not-your-organisation"],
        409: ["id-conflict"],
        413: ["too-large", "malformed"],
        422: [
            "bad-signature",
            "bad-receipt",
            "expired",
            "expiry-too-late",
            "recipient-cannot-receive",
            "stale-sender-key",
            "unknown-blob",
            "unknown-organisation",
            "unknown-recipient",
            "from-org-required",
            "not-your-organisation",
            "organisation-not-accepting",
            "same-organisation",
            "no-to-org",
            "key-mismatch",
            "not-a-contact-point",
            "not-a-referral",
            "wrong-message",
            "rejected",
        ],
        429: ["rate-limited"],
    },
)
def post_message() -> ResponseReturnValue:
    """Check and store an envelope; the same id with the same bytes again is a success."""
    secret = bearer_secret(request)
    found = None
    if secret is None:  # signed in with the session cookie (the browser)
        sender_id = caller().id
        try:
            submission = parse_submission(json_body(MESSAGE_BODY_LIMIT))
        except RelayError:
            limit("send", sender_id)  # counted, and 429 rather than 400 past the limit
            raise
    else:
        sender_id, submission, found = _bearer_post(secret)
    db = db_session()
    try:
        try:
            accepted = _accept(db, sender_id, submission, found)
        except (IntegrityError, OperationalError):
            # A concurrent post of the same id (or a blob purged meanwhile): check once more,
            # now that the other transaction is visible.
            db.rollback()
            accepted = _accept(db, sender_id, submission)
    except RateLimited:
        raise
    except RelayError:
        limit("send", sender_id)  # a refused envelope counts too, and 429 comes first
        raise
    count_relay(None)
    body = {
        "id": accepted.id,
        "created": accepted.created,
        "received_at": format_time(accepted.received_at),
        "expires_at": format_time(accepted.expires_at),
    }
    return jsonify(body), 201 if accepted.created else 200


@blueprint.get("/messages")
@api_operation(
    summary="Your inbox (or box=sent), newest first, a page at a time (follow `next`)",
    query=m.MessagesQuery,
    replies={200: Reply("a page of messages and the next cursor", m.MessagePage)},
    errors={400: ["malformed"]},
)
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
    _name_senders(db_session(), user, messages)
    return jsonify({"messages": messages, "next": next_cursor})


def _name_senders(session: Session, reader: User, messages: list[dict[str, object]]) -> None:
    """Add ``sender_name`` and ``sender_organizations`` (names) to each message.

    The reader holds a copy from that sender, so their display name is theirs to know (the key
    directory gives it to any signed-in person too); of the sender's organisations only those the
    reader may see are named, so a hidden organisation stays unknown.
    """
    ids = {str(message["sender"]) for message in messages}
    if not ids:
        return
    people = {
        person.id: person
        for person in session.scalars(
            select(User).where(User.id.in_(ids)).options(selectinload(User.organizations))
        )
    }
    for message in messages:
        person = people.get(str(message["sender"]))
        message["sender_name"] = person.display_name if person else None
        message["sender_organizations"] = (
            sorted(o.name for o in person.organizations if may_see_organisation(reader, o))
            if person
            else []
        )


@blueprint.get("/messages/<envelope_id>")
@api_operation(
    summary="One of your messages (its sender also sees each recipient's status)",
    path={"envelope_id": m.ID_PARAM},
    path_names={"envelope_id": "id"},
    replies={200: Reply("the message", m.Message)},
    errors={404: ["not-found"]},
)
def get_message(envelope_id: str) -> ResponseReturnValue:
    """One of the caller's messages; its sender also sees who acknowledged and read it."""
    user = caller()
    session = db_session()
    delivery, envelope = inbox.get_copy(session, user.id, envelope_id)
    body = inbox.message_json(delivery, envelope)
    _name_senders(session, user, [body])
    if delivery.is_sender:
        body["recipients"] = inbox.recipients_status(session, envelope.id)
    return jsonify(body)


@blueprint.post("/messages/<envelope_id>/ack")
@api_operation(
    summary="Acknowledge a message (your client has it)",
    path={"envelope_id": m.ID_PARAM},
    path_names={"envelope_id": "id"},
    replies={200: Reply("your status of the message", m.MessageStatus)},
    errors={404: ["not-found"]},
)
def acknowledge_message(envelope_id: str) -> ResponseReturnValue:
    """Record that the caller's client has this message."""
    user = caller()
    session = db_session()
    delivery, envelope = inbox.acknowledge(session, user.id, envelope_id)
    body = inbox.status_json(delivery, envelope)
    session.commit()
    return jsonify(body)


@blueprint.post("/messages/<envelope_id>/read")
@api_operation(
    summary="Mark a message as read (its sender sees it)",
    path={"envelope_id": m.ID_PARAM},
    path_names={"envelope_id": "id"},
    replies={200: Reply("your status of the message", m.MessageStatus)},
    errors={404: ["not-found"]},
)
def read_message(envelope_id: str) -> ResponseReturnValue:
    """Record that the caller opened this message (the sender sees it as read)."""
    user = caller()
    session = db_session()
    delivery, envelope = inbox.mark_read(session, user.id, envelope_id)
    body = inbox.status_json(delivery, envelope)
    session.commit()
    return jsonify(body)


@blueprint.delete("/messages/<envelope_id>")
@api_operation(
    summary="Delete your own copy (the other people keep theirs)",
    path={"envelope_id": m.ID_PARAM},
    path_names={"envelope_id": "id"},
    replies={204: Reply("deleted", media_type=None)},
    errors={404: ["not-found"]},
)
def delete_message(envelope_id: str) -> ResponseReturnValue:
    """Delete the caller's own copy (the other people keep theirs)."""
    user = caller()
    session = db_session()
    inbox.delete_copy(session, user.id, envelope_id)
    session.commit()
    return "", 204


@blueprint.get("/threads")
@api_operation(
    summary="Your threads, latest activity first",
    query=m.ThreadsQuery,
    replies={200: Reply("threads", m.Threads)},
    errors={400: ["malformed"]},
)
def list_threads() -> ResponseReturnValue:
    """The caller's threads, latest activity first."""
    user = caller()
    limit_ = int_arg("limit", 50, 1, inbox.MAX_PAGE)
    return jsonify({"threads": inbox.threads(db_session(), user.id, limit_)})


@blueprint.get("/threads/<thread_id>")
@api_operation(
    summary="Your messages of one thread, oldest first",
    path={"thread_id": m.ID_PARAM},
    replies={200: Reply("the thread's messages", m.ThreadMessages)},
    errors={404: ["not-found"]},
)
def get_thread(thread_id: str) -> ResponseReturnValue:
    """The caller's messages in one thread, oldest first."""
    user = caller()
    copies = inbox.thread(db_session(), user.id, thread_id)
    messages = [inbox.message_json(d, e, whole=False) for d, e in copies]
    return jsonify({"thread": thread_id, "messages": messages})
