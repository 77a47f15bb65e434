"""POST /api/v1/messages with a bearer token, which the relay checks inside its own look-up:
the same answers as a separate token check, in the same order (401, 429, then the body)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from accounts.api_tokens import TOUCH_EVERY, ApiToken, issue_token, token_hash
from core.db import utcnow
from messaging.models import Delivery, Envelope
from tests.messaging.conftest import sealed


@pytest.fixture
def trio(make_person):
    """Anna and Bram of organisation A, Chloé of organisation B."""
    return make_person("A"), make_person("A"), make_person("B")


@pytest.fixture
def token_of(db_session, settings):
    """Factory: a fresh bearer token of a person."""

    def factory(person) -> str:
        secret, _row = issue_token(db_session, person.user, settings)
        db_session.commit()
        return secret

    return factory


def post(app, token: str, payload) -> object:
    """A post from a client without any session cookie."""
    api = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    if isinstance(payload, bytes):
        headers["Content-Type"] = "application/json"
        return api.post("/api/v1/messages", data=payload, headers=headers)
    return api.post("/api/v1/messages", json=payload, headers=headers)


def stored(db_session) -> tuple[int, int]:
    db_session.expire_all()
    envelopes = db_session.scalar(select(func.count()).select_from(Envelope))
    copies = db_session.scalar(select(func.count()).select_from(Delivery))
    return envelopes, copies


def test_a_bearer_post_is_stored_once_and_again_is_idempotent(app, trio, token_of, db_session):
    anna, bram, chloe = trio
    envelope = sealed(anna, bram, chloe)

    first = post(app, token_of(anna), envelope)
    again = post(app, token_of(anna), envelope)

    assert (first.status_code, again.status_code) == (201, 200)
    assert first.get_json()["created"] is True
    assert again.get_json()["created"] is False
    assert first.headers["Cache-Control"] == "no-store"
    assert stored(db_session) == (1, 3)


@pytest.mark.parametrize("change", ["revoked", "expired", "disabled"])
def test_a_bearer_post_with_a_dead_token_is_refused_with_401(
    app, trio, token_of, db_session, change
):
    anna, bram, _ = trio
    token = token_of(anna)
    if change == "disabled":
        anna.user.is_active = False
    else:
        column = "revoked_at" if change == "revoked" else "expires_at"
        db_session.execute(
            update(ApiToken)
            .where(ApiToken.token_hash == token_hash(token))
            .values({column: utcnow() - timedelta(seconds=1)})
        )
    db_session.commit()

    response = post(app, token, sealed(anna, bram))

    assert response.status_code == 401
    assert response.get_json()["check"] == "not-signed-in"
    assert stored(db_session) == (0, 0)


def test_a_made_up_or_malformed_token_is_refused_before_the_body_is_judged(app, trio):
    anna, bram, _ = trio

    made_up = post(app, "lia_madeup", sealed(anna, bram))
    odd_form = post(app, "not-a-token", sealed(anna, bram))
    garbage = post(app, "lia_madeup", b"{not json")

    assert [r.status_code for r in (made_up, odd_form, garbage)] == [401, 401, 401]


def test_a_valid_token_with_a_broken_body_gets_the_bodys_400(app, trio, token_of):
    anna, _, _ = trio

    response = post(app, token_of(anna), b"{not json")

    assert response.status_code == 400


@pytest.mark.parametrize("holder", ["a recipient", "not addressed"])
def test_a_token_holder_posing_as_the_named_sender_is_refused(
    app, trio, token_of, db_session, holder
):
    anna, bram, chloe = trio
    # Bram's token on Anna's envelope: to Bram himself, or to Chloé only.
    envelope = sealed(anna, bram) if holder == "a recipient" else sealed(anna, chloe)

    response = post(app, token_of(bram), envelope)

    assert response.status_code == 403
    assert response.get_json()["check"] == "wrong-sender"
    assert stored(db_session) == (0, 0)


def test_a_bearer_post_counts_against_the_senders_rate_limit(app, trio, token_of):
    anna, bram, _ = trio
    app.extensions["liaison.messaging.limiters"]["send"].per_minute = 2
    app.extensions["liaison.messaging.limiters"]["send"].clock = lambda: 1_800_000_010.0
    token = token_of(anna)

    statuses = [post(app, token, sealed(anna, bram)).status_code for _ in range(3)]
    broken = post(app, token, b"{not json")

    assert statuses == [201, 201, 429]
    assert broken.status_code == 429  # counted and refused before the body is judged


def test_a_bearer_header_cannot_ride_on_a_session_cookie_when_posting(trio, token_of):
    anna, bram, _ = trio

    bearer = f"Bearer {token_of(anna)}"

    forged = anna.http.post(
        "/api/v1/messages", json=sealed(anna, bram), headers={"Authorization": bearer}
    )
    both = anna.http.post(
        "/api/v1/messages",
        json=sealed(anna, bram),
        headers={"Authorization": bearer, "X-CSRF-Token": anna.csrf},
    )

    assert forged.status_code == 400  # with the cookie, the CSRF check stays on
    assert both.status_code == 401


def test_a_bearer_post_records_the_tokens_use_at_most_every_few_minutes(
    app, trio, token_of, db_session
):
    anna, bram, _ = trio
    token = token_of(anna)
    by_hash = ApiToken.token_hash == token_hash(token)
    long_ago = utcnow() - TOUCH_EVERY - timedelta(minutes=1)
    db_session.execute(update(ApiToken).where(by_hash).values(last_used_at=long_ago))
    db_session.commit()

    first = post(app, token, sealed(anna, bram))
    db_session.expire_all()
    touched = db_session.scalar(select(ApiToken.last_used_at).where(by_hash))
    second = post(app, token, sealed(anna, bram))
    db_session.expire_all()

    assert (first.status_code, second.status_code) == (201, 201)
    assert touched is not None
    assert touched > long_ago
    assert db_session.scalar(select(ApiToken.last_used_at).where(by_hash)) == touched
    assert stored(db_session) == (2, 4)
