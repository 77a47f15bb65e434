"""Scheduled work of the relay: purge expired and deleted copies, unnamed blobs; notify; remind
and escalate referrals past their service level.

Every job opens its own session, processes everything due and is idempotent: running it twice,
or after downtime, gives the same result as running it once on time.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import delete, exists
from sqlalchemy.orm import Session

from config import Settings
from core.db import Database, utcnow
from core.jobs import Job
from messaging.models import Delivery, Envelope
from messaging.notifications import BATCH_WINDOW, send_notifications
from messaging.referral_reminders import referral_service_levels
from messaging.services.blobs import (
    STALE_AFTER,
    purge_leftovers,
    purge_unreferenced,
    remove_files,
)

log = logging.getLogger("liaison.messaging.jobs")


def purge_copies(session: Session, now: datetime) -> tuple[int, int]:
    """Delete expired envelopes, copies their holder deleted, and envelopes nobody holds.

    Returns (envelopes removed, copies removed). Acknowledged copies stay until expiry: the
    browser client keeps no plaintext, so the relay is where a read message is read again.
    """
    expired = session.execute(delete(Envelope).where(Envelope.expires_at <= now))
    copies = session.execute(delete(Delivery).where(Delivery.deleted_at.is_not(None)))
    orphaned = session.execute(
        delete(Envelope).where(~exists().where(Delivery.envelope_id == Envelope.id))
    )
    session.flush()
    return (
        int(expired.rowcount or 0) + int(orphaned.rowcount or 0),  # type: ignore[attr-defined]
        int(copies.rowcount or 0),  # type: ignore[attr-defined]
    )


def purge_messages(settings: Settings, database: Database, slot_start: datetime) -> int:
    """Job: purge expired and deleted copies; returns how many envelopes went."""
    now = max(slot_start, utcnow())
    with database.session() as session:
        envelopes, copies = purge_copies(session, now)
        session.commit()
    if envelopes or copies:
        log.info("purged %d envelope(s) and %d deleted copy(ies)", envelopes, copies)
    return envelopes


def purge_blobs(settings: Settings, database: Database, slot_start: datetime) -> int:
    """Job: remove blobs that no message names 24 hours after upload."""
    now = max(slot_start, utcnow())
    with database.session() as session:
        count, files = purge_unreferenced(session, settings, database, now)
        session.commit()
    remove_files(files)
    return count


def purge_blob_leftovers(settings: Settings, database: Database, slot_start: datetime) -> int:
    """Job: remove what interrupted uploads left (temporary files, pieces without a blob)."""
    with database.session() as session:
        files = purge_leftovers(session, settings, database)
        session.commit()
    remove_files(files)
    return len(files)


JOBS = [
    Job("messaging-purge-messages", timedelta(minutes=15), purge_messages),
    Job("messaging-purge-blobs", timedelta(hours=1), purge_blobs),
    Job("messaging-purge-blob-leftovers", STALE_AFTER, purge_blob_leftovers),
    Job("messaging-notify", BATCH_WINDOW, send_notifications),
    Job("messaging-referral-service-levels", timedelta(minutes=5), referral_service_levels),
]
