"""A person's copies: inbox and sent paging, one message, threads, acknowledge, read, delete.

Every function takes the caller's user id and only ever touches that person's live copies, so an
id that is not theirs looks exactly like an id that does not exist (``NotFound``).
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session, defer

from core.db import utcnow
from messaging.envelopes import UUID, format_time, wire_envelope
from messaging.errors import Malformed, NotFound
from messaging.models import Delivery, Envelope

MAX_PAGE = 100
# Larger envelopes are listed without their bytes (fetch them one by one), so that a page of
# listings stays small whatever senders put in it.
INLINE_MAX = 256 * 1024
BOXES = ("inbox", "sent")
Copy = tuple[Delivery, Envelope]


def _live(user_id: str, now: datetime) -> Any:
    return and_(
        Delivery.recipient_id == user_id,
        Delivery.deleted_at.is_(None),
        Envelope.id == Delivery.envelope_id,
        Envelope.expires_at > now,
    )


def encode_cursor(delivery: Delivery) -> str:
    """An opaque position after ``delivery`` in newest-first order."""
    raw = json.dumps([delivery.delivered_at.isoformat(), delivery.envelope_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, envelope_id = json.loads(raw)
        moment = datetime.fromisoformat(at)
    except (binascii.Error, ValueError, TypeError):
        raise Malformed("the cursor is not one this server gave out") from None
    if moment.tzinfo is None or not isinstance(envelope_id, str):
        raise Malformed("the cursor is not one this server gave out")
    return moment, envelope_id


def list_copies(
    session: Session,
    user_id: str,
    *,
    box: str = "inbox",
    limit: int = 50,
    cursor: str | None = None,
    unacknowledged: bool = False,
    now: datetime | None = None,
) -> tuple[list[Copy], str | None]:
    """One page of the person's received (or sent) copies, newest first, and the next cursor."""
    if box not in BOXES:
        raise Malformed("box must be inbox or sent")
    limit = max(1, min(limit, MAX_PAGE))
    statement = (
        select(Delivery, Envelope)
        .options(defer(Envelope.ciphertext))
        .where(_live(user_id, now or utcnow()))
        .where(Delivery.is_sender.is_(box == "sent"))
        .order_by(Delivery.delivered_at.desc(), Delivery.envelope_id.desc())
        .limit(limit + 1)
    )
    if unacknowledged:
        statement = statement.where(Delivery.acknowledged_at.is_(None))
    if cursor:
        at, envelope_id = _decode_cursor(cursor)
        statement = statement.where(
            or_(
                Delivery.delivered_at < at,
                and_(Delivery.delivered_at == at, Delivery.envelope_id < envelope_id),
            )
        )
    rows = [(row[0], row[1]) for row in session.execute(statement)]
    next_cursor = encode_cursor(rows[limit - 1][0]) if len(rows) > limit else None
    return rows[:limit], next_cursor


def get_copy(session: Session, user_id: str, envelope_id: str, now: datetime | None = None) -> Copy:
    """The person's live copy of one message."""
    if not UUID.match(envelope_id):
        raise NotFound()
    statement = (
        select(Delivery, Envelope)
        .where(_live(user_id, now or utcnow()))
        .where(Delivery.envelope_id == envelope_id)
    )
    row = session.execute(statement).first()
    if row is None:
        raise NotFound()
    return row[0], row[1]


def acknowledge(session: Session, user_id: str, envelope_id: str) -> Copy:
    """Record that the person's client has the message (idempotent)."""
    delivery, envelope = get_copy(session, user_id, envelope_id)
    if delivery.acknowledged_at is None:
        delivery.acknowledged_at = utcnow()
        session.flush()
    return delivery, envelope


def mark_read(session: Session, user_id: str, envelope_id: str) -> Copy:
    """Record that the person opened the message (implies acknowledged; idempotent)."""
    delivery, envelope = get_copy(session, user_id, envelope_id)
    now = utcnow()
    delivery.acknowledged_at = delivery.acknowledged_at or now
    delivery.read_at = delivery.read_at or now
    session.flush()
    return delivery, envelope


def delete_copy(session: Session, user_id: str, envelope_id: str) -> None:
    """Remove the person's own copy; the others keep theirs."""
    delivery, _envelope = get_copy(session, user_id, envelope_id)
    delivery.deleted_at = utcnow()
    session.flush()


def thread(session: Session, user_id: str, thread_id: str, limit: int = 500) -> list[Copy]:
    """The person's live copies in one thread, oldest first."""
    if not UUID.match(thread_id):
        raise NotFound()
    statement = (
        select(Delivery, Envelope)
        .options(defer(Envelope.ciphertext))
        .where(_live(user_id, utcnow()))
        .where(Envelope.thread_id == thread_id)
        .order_by(Envelope.received_at, Envelope.id)
        .limit(limit)
    )
    rows = [(row[0], row[1]) for row in session.execute(statement)]
    if not rows:
        raise NotFound()
    return rows


def threads(session: Session, user_id: str, limit: int = 50) -> list[dict[str, Any]]:
    """The person's threads, most recent activity first, with counts."""
    unread = func.sum(
        case((and_(Delivery.read_at.is_(None), Delivery.is_sender.is_(False)), 1), else_=0)
    )
    statement = (
        select(
            Envelope.thread_id,
            func.max(Delivery.delivered_at).label("latest"),
            func.count().label("messages"),
            unread.label("unread"),
        )
        .where(_live(user_id, utcnow()))
        .group_by(Envelope.thread_id)
        .order_by(func.max(Delivery.delivered_at).desc(), Envelope.thread_id)
        .limit(max(1, min(limit, MAX_PAGE)))
    )
    return [
        {
            "thread": row.thread_id,
            "latest_at": format_time(_aware(row.latest)),
            "messages": int(row.messages),
            "unread": int(row.unread or 0),
        }
        for row in session.execute(statement)
    ]


def _aware(moment: Any) -> datetime:
    """Aggregates skip the column type on SQLite: read naive values back as UTC."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def recipients_status(session: Session, envelope_id: str) -> list[dict[str, Any]]:
    """Per recipient: acknowledged and read times (shown to the sender only)."""
    statement = (
        select(Delivery)
        .where(Delivery.envelope_id == envelope_id, Delivery.is_sender.is_(False))
        .order_by(Delivery.recipient_id)
    )
    return [
        {
            "user": delivery.recipient_id,
            "acknowledged_at": _time(delivery.acknowledged_at),
            "read_at": _time(delivery.read_at),
        }
        for delivery in session.scalars(statement)
    ]


def _time(moment: datetime | None) -> str | None:
    return format_time(moment) if moment else None


def status_json(delivery: Delivery, envelope: Envelope) -> dict[str, Any]:
    """The person's own status of a copy."""
    return {
        "id": envelope.id,
        "acknowledged_at": _time(delivery.acknowledged_at),
        "read_at": _time(delivery.read_at),
    }


def message_json(delivery: Delivery, envelope: Envelope, *, whole: bool = True) -> dict[str, Any]:
    """A copy as the API returns it: routing metadata, the person's own status, the envelope.

    In listings (``whole=False``) an envelope larger than ``INLINE_MAX`` is left out
    (``"envelope": null``); the client fetches it with GET /api/v1/messages/<id>.
    """
    header = json.loads(envelope.header)
    inline = whole or envelope.size <= INLINE_MAX
    return {
        "id": envelope.id,
        "thread": envelope.thread_id,
        "kind": envelope.kind,
        "sender": envelope.sender_id,
        "to": header.get("to", []),
        "to_org": envelope.to_org_id,
        "created_at": format_time(envelope.created_at),
        "received_at": format_time(envelope.received_at),
        "expires_at": format_time(envelope.expires_at),
        "size": envelope.size,
        "box": "sent" if delivery.is_sender else "inbox",
        "acknowledged_at": _time(delivery.acknowledged_at),
        "read_at": _time(delivery.read_at),
        "envelope": wire_envelope(
            envelope.header, envelope.nonce, envelope.ciphertext, envelope.wraps, envelope.sig
        )
        if inline
        else None,
    }
