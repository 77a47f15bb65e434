"""Writing an accepted envelope and its copies in as few round trips as the database allows.

Plain Core inserts (no identity-map bookkeeping: the caller only reads values it already has).
On PostgreSQL the envelope and its copies go in one statement (a data-modifying CTE, whose
foreign-key checks run at the end of the statement), with the sender's rate-limit counter;
elsewhere (SQLite, in-process, where a round trip is cheap) the envelope, then the copies in one
executemany.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, cast

from sqlalchemy import (
    Boolean,
    Connection,
    Insert,
    String,
    Table,
    bindparam,
    case,
    func,
    insert,
    null,
    or_,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY

from core.db import UTCDateTime
from core.ratelimit import upsert_cte
from messaging.models import Delivery, Envelope, EnvelopeBlob

_ENVELOPES = cast(Table, Envelope.__table__)
_DELIVERIES = cast(Table, Delivery.__table__)
ENVELOPE_COLUMNS = tuple(_ENVELOPES.columns.keys())
_INSERT_ENVELOPE = insert(_ENVELOPES)
_INSERT_DELIVERIES = insert(_DELIVERIES)
_INSERT_BLOBS = insert(cast(Table, EnvelopeBlob.__table__))


@dataclass(frozen=True)
class Copy:
    """One person's copy: the recipient, the key id of their wrap, whether it is the sender."""

    recipient_id: str
    key_id: str
    is_sender: bool


@cache
def _envelope_with_copies() -> Insert:
    """Built once (PostgreSQL): insert the envelope and, from its id, every copy."""
    values = {
        name: bindparam(f"e_{name}", type_=_ENVELOPES.c[name].type) for name in ENVELOPE_COLUMNS
    }
    new = insert(_ENVELOPES).values(values).returning(_ENVELOPES.c.id).cte("new_envelope")
    people = (
        func.unnest(
            bindparam("recipients", type_=ARRAY(String)),
            bindparam("key_ids", type_=ARRAY(String)),
            bindparam("senders", type_=ARRAY(Boolean)),
        )
        .table_valued("recipient_id", "key_id", "is_sender")
        .render_derived()
    )
    now = bindparam("now", type_=UTCDateTime())
    is_sender = people.c.is_sender
    rows = select(
        new.c.id,
        people.c.recipient_id,
        people.c.key_id,
        is_sender,
        now,
        case((is_sender, now)),  # the sender has their own copy already
        case((is_sender, now)),
        null(),
        # Nobody is e-mailed about their own message or about a receipt.
        case((or_(is_sender, bindparam("receipt", type_=Boolean)), now)),
    ).select_from(new.join(people, true()))
    columns = [
        "envelope_id",
        "recipient_id",
        "key_id",
        "is_sender",
        "delivered_at",
        "acknowledged_at",
        "read_at",
        "deleted_at",
        "notified_at",
    ]
    return insert(_DELIVERIES).from_select(columns, rows).add_cte(new)


@cache
def _envelope_with_copies_counted() -> Insert:
    """Built once (PostgreSQL): the same, also counting the sender's rate limit (the counter's
    upsert joins as one more data-modifying CTE; every copy row returns the new count)."""
    counter = upsert_cte()
    count = select(counter.c.count).scalar_subquery()
    return _envelope_with_copies().add_cte(counter).returning(count)


def store(
    connection: Connection,
    envelope: dict[str, Any],
    copies: list[Copy],
    blob_ids: list[str],
    *,
    now: datetime,
    receipt: bool,
    counter: dict[str, Any] | None = None,
) -> int | None:
    """Insert the envelope row (``ENVELOPE_COLUMNS``), its copies and the blobs it names.

    On PostgreSQL with ``counter`` (a rate limiter's bind parameters) the same statement counts
    one event and this returns the new count; otherwise None (nothing counted)."""
    counted = None
    if connection.dialect.name == "postgresql":
        params = {f"e_{name}": value for name, value in envelope.items()}
        params.update(
            recipients=[c.recipient_id for c in copies],
            key_ids=[c.key_id for c in copies],
            senders=[c.is_sender for c in copies],
            now=now,
            receipt=receipt,
        )
        if counter is None:
            connection.execute(_envelope_with_copies(), params)
        else:
            result = connection.execute(_envelope_with_copies_counted(), {**params, **counter})
            counted = int(result.scalars().first() or 0)
    else:
        connection.execute(_INSERT_ENVELOPE, envelope)
        rows = [
            {
                "envelope_id": envelope["id"],
                "recipient_id": c.recipient_id,
                "key_id": c.key_id,
                "is_sender": c.is_sender,
                "delivered_at": now,
                "acknowledged_at": now if c.is_sender else None,
                "read_at": now if c.is_sender else None,
                "deleted_at": None,
                "notified_at": now if c.is_sender or receipt else None,
            }
            for c in copies
        ]
        connection.execute(_INSERT_DELIVERIES, rows)
    if blob_ids:
        connection.execute(
            _INSERT_BLOBS, [{"envelope_id": envelope["id"], "blob_id": b} for b in blob_ids]
        )
    return counted
