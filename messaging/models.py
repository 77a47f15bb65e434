"""Relay models: published keys, key backups, the key log, envelopes, copies and blobs.

The server holds public keys, encrypted key backups, ciphertext and routing metadata only.
Binary values (header bytes, nonce, ciphertext, signatures) are stored as bytes; public keys, key
ids and signatures over them in the spec's base64url text, exactly as clients sign them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime, id_column, new_id, utcnow


class IdentityKey(Base):
    """One published identity (signing + encryption public key) of a person."""

    __tablename__ = "identity_key"

    id: Mapped[str] = mapped_column(id_column(), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(
        id_column(), ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    key_id: Mapped[str] = mapped_column(String(22), unique=True)
    sign_pk: Mapped[str] = mapped_column(String(43))
    box_pk: Mapped[str] = mapped_column(String(43))
    created_at: Mapped[str] = mapped_column(String(20))  # the signed text, YYYY-MM-DDTHH:MM:SSZ
    pub_sig: Mapped[str] = mapped_column(String(86))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # NULL instead of False, so that the unique index allows one current key per person and
    # any number of old ones, on SQLite and PostgreSQL alike.
    current: Mapped[bool | None] = mapped_column(Boolean, nullable=True, default=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revocation_proof: Mapped[str | None] = mapped_column(String(86), nullable=True)

    __table_args__ = (Index("ix_identity_key_one_current", "user_id", "current", unique=True),)


class KeyBackup(Base):
    """A person's encrypted private-key bundle (spec §5), opaque to the server."""

    __tablename__ = "key_backup"

    user_id: Mapped[str] = mapped_column(
        id_column(), ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer)
    bundle: Mapped[str] = mapped_column(Text)  # the JSON text exactly as uploaded
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class KeyLogEntry(Base):
    """One entry of the append-only key log (spec §6) with the signed head after it."""

    __tablename__ = "key_log_entry"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    user_id: Mapped[str | None] = mapped_column(id_column(), index=True, nullable=True)
    event: Mapped[str] = mapped_column(String(10))
    entry: Mapped[bytes] = mapped_column(LargeBinary)
    head: Mapped[bytes] = mapped_column(LargeBinary(32))
    head_sig: Mapped[bytes] = mapped_column(LargeBinary(64))


class KeyLogKey(Base):
    """The key log's signing key (one row): created once for every host, never half-written."""

    __tablename__ = "key_log_key"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)  # always 1
    seed: Mapped[bytes] = mapped_column(LargeBinary(32))  # the Ed25519 seed
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Attestation(Base):
    """The secretariat's signature vouching that a key belongs to a person (spec §2)."""

    __tablename__ = "attestation"

    id: Mapped[str] = mapped_column(id_column(), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(
        id_column(), ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    key_id: Mapped[str] = mapped_column(String(22), index=True)
    valid_until: Mapped[str] = mapped_column(String(20))  # the signed text
    attest_sig: Mapped[str] = mapped_column(String(86))
    root_pk: Mapped[str] = mapped_column(String(43))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Envelope(Base):
    """One sealed message (spec §3), stored once whatever the number of recipients."""

    __tablename__ = "envelope"

    id: Mapped[str] = mapped_column(id_column(), primary_key=True)  # header.id
    sender_id: Mapped[str | None] = mapped_column(
        id_column(), ForeignKey("user_account.id", ondelete="SET NULL"), index=True, nullable=True
    )
    sender_key: Mapped[str] = mapped_column(String(22))
    thread_id: Mapped[str] = mapped_column(id_column(), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    to_org_id: Mapped[str | None] = mapped_column(id_column(), nullable=True)
    header: Mapped[bytes] = mapped_column(LargeBinary)
    nonce: Mapped[bytes] = mapped_column(LargeBinary(24))
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    wraps: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    sig: Mapped[bytes] = mapped_column(LargeBinary(64))
    size: Mapped[int] = mapped_column(Integer)  # header + ciphertext bytes
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())  # as the sender's header says
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    # A referral's plaintext status lives in ``referral`` (it outlives the envelope's expiry).


class Delivery(Base):
    """One person's copy of an envelope: a recipient's, or the sender's own (``is_sender``)."""

    __tablename__ = "delivery"

    envelope_id: Mapped[str] = mapped_column(
        id_column(), ForeignKey("envelope.id", ondelete="CASCADE"), primary_key=True
    )
    recipient_id: Mapped[str] = mapped_column(
        id_column(), ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    key_id: Mapped[str] = mapped_column(String(22))
    is_sender: Mapped[bool] = mapped_column(Boolean, default=False)
    delivered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (Index("ix_delivery_recipient_inbox", "recipient_id", "delivered_at"),)


class Blob(Base):
    """An encrypted attachment, in the store ``store`` names (``filesystem`` or ``database``)."""

    __tablename__ = "blob"

    id: Mapped[str] = mapped_column(id_column(), primary_key=True)
    uploader_id: Mapped[str | None] = mapped_column(
        id_column(), ForeignKey("user_account.id", ondelete="SET NULL"), index=True, nullable=True
    )
    size: Mapped[int] = mapped_column(BigInteger)
    path: Mapped[str] = mapped_column(String(255))  # relative to <data dir>/blobs; "" in the db
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    store: Mapped[str] = mapped_column(
        String(10), default="filesystem", server_default="filesystem"
    )


class BlobChunk(Base):
    """One piece (1 MiB, the last one shorter) of a blob kept in the database store."""

    __tablename__ = "blob_chunk"

    blob_id: Mapped[str] = mapped_column(id_column(), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class EnvelopeBlob(Base):
    """A message names a blob: its sender and recipients may download it."""

    __tablename__ = "envelope_blob"

    envelope_id: Mapped[str] = mapped_column(
        id_column(), ForeignKey("envelope.id", ondelete="CASCADE"), primary_key=True
    )
    blob_id: Mapped[str] = mapped_column(
        id_column(), ForeignKey("blob.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class NotificationState(Base):
    """When a person was last told by e-mail about new messages (one e-mail per batch window)."""

    __tablename__ = "notification_state"

    user_id: Mapped[str] = mapped_column(
        id_column(), ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    last_sent_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Referral(Base):
    """The plaintext routing metadata of one referral (an envelope of kind ``referral``).

    The structured form travels encrypted in the envelope; the relay keeps only what it needs to
    route, remind, escalate and count: status, urgency, organisations, countries and times. The
    row outlives the envelope (which expires) so that the network's statistics stay whole; it
    names no victim and no case. Status moves sent → acknowledged → accepted | declined |
    redirected → closed; every change is a ``ReferralEvent``.
    """

    __tablename__ = "referral"

    id: Mapped[str] = mapped_column(id_column(), primary_key=True)  # the envelope id
    thread_id: Mapped[str] = mapped_column(id_column(), index=True)
    sender_id: Mapped[str | None] = mapped_column(
        id_column(), ForeignKey("user_account.id", ondelete="SET NULL"), index=True, nullable=True
    )
    from_org_id: Mapped[str | None] = mapped_column(
        id_column(), ForeignKey("organization.id", ondelete="SET NULL"), index=True, nullable=True
    )
    to_org_id: Mapped[str | None] = mapped_column(
        id_column(), ForeignKey("organization.id", ondelete="SET NULL"), index=True, nullable=True
    )
    # Copied at sending time so that statistics per country pair survive an organisation's removal.
    from_country: Mapped[str | None] = mapped_column(String(2), nullable=True)
    to_country: Mapped[str | None] = mapped_column(String(2), nullable=True)
    urgency: Mapped[str] = mapped_column(String(10), default="normal")
    status: Mapped[str] = mapped_column(String(12), default="sent", index=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    ack_due_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    redirected_to_org_id: Mapped[str | None] = mapped_column(
        id_column(), ForeignKey("organization.id", ondelete="SET NULL"), nullable=True
    )
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class ReferralEvent(Base):
    """One status change of a referral: who changed it, when, from what to what."""

    __tablename__ = "referral_event"

    id: Mapped[str] = mapped_column(id_column(), primary_key=True, default=new_id)
    referral_id: Mapped[str] = mapped_column(
        id_column(), ForeignKey("referral.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor_id: Mapped[str | None] = mapped_column(
        id_column(), ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True
    )
    # The job's reminders and escalations are events too (actor NULL, status unchanged).
    event: Mapped[str] = mapped_column(String(12))
    from_status: Mapped[str | None] = mapped_column(String(12), nullable=True)
    to_status: Mapped[str] = mapped_column(String(12))
