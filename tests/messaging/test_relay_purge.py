"""The purge job: expired envelopes and deleted copies go, the rest stays; twice is harmless."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from core.db import utcnow
from core.jobs import registered_jobs
from messaging.jobs import purge_messages
from messaging.models import Delivery, Envelope
from tests.messaging.conftest import sealed


def _count(db_session, model) -> int:
    db_session.expire_all()
    return db_session.scalar(select(func.count()).select_from(model))


def _age(db_session, message_id: str) -> None:
    db_session.execute(
        update(Envelope)
        .where(Envelope.id == message_id)
        .values(expires_at=utcnow() - timedelta(minutes=1))
    )
    db_session.commit()


def test_purge_removes_expired_envelopes_with_their_copies_and_is_idempotent(
    app, settings, make_person, db_session
):
    anna, bram = make_person(), make_person()
    expired = anna.post("/api/v1/messages", json=sealed(anna, bram)).get_json()["id"]
    kept = anna.post("/api/v1/messages", json=sealed(anna, bram)).get_json()["id"]
    _age(db_session, expired)
    database = app.extensions["liaison.db"]

    first = purge_messages(settings, database, utcnow())
    second = purge_messages(settings, database, utcnow())

    assert (first, second) == (1, 0)
    remaining = set(db_session.scalars(select(Envelope.id)))
    assert remaining == {kept}
    assert _count(db_session, Delivery) == 2


def test_purge_drops_deleted_copies_and_envelopes_nobody_holds(
    app, settings, make_person, db_session
):
    anna, bram = make_person(), make_person()
    message_id = anna.post("/api/v1/messages", json=sealed(anna, bram)).get_json()["id"]
    database = app.extensions["liaison.db"]

    bram.delete(f"/api/v1/messages/{message_id}")
    purge_messages(settings, database, utcnow())
    assert (_count(db_session, Envelope), _count(db_session, Delivery)) == (1, 1)
    assert anna.get(f"/api/v1/messages/{message_id}").status_code == 200

    anna.delete(f"/api/v1/messages/{message_id}")
    purge_messages(settings, database, utcnow())
    assert (_count(db_session, Envelope), _count(db_session, Delivery)) == (0, 0)


def test_acknowledged_copies_stay_readable_until_they_expire(app, settings, make_person):
    anna, bram = make_person(), make_person()
    message_id = anna.post("/api/v1/messages", json=sealed(anna, bram)).get_json()["id"]
    bram.post(f"/api/v1/messages/{message_id}/ack")

    purge_messages(settings, app.extensions["liaison.db"], utcnow())

    assert bram.get(f"/api/v1/messages/{message_id}").status_code == 200


def test_the_relay_jobs_are_registered_with_the_scheduler():
    names = {job.name for job in registered_jobs()}

    assert {
        "messaging-purge-messages",
        "messaging-purge-blobs",
        "messaging-notify",
    } <= names
