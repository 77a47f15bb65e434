"""Inbox paging, fetch, acknowledge, read receipts, threads, and what the recipient can open."""

from __future__ import annotations

from datetime import timedelta

from liaison_client.encoding import b64
from liaison_client.messages import open_message, seal
from sqlalchemy import update

from core.db import utcnow
from messaging.models import Envelope
from tests.messaging.conftest import sealed


def test_inbox_pages_newest_first_with_a_cursor_and_no_repeats(make_person):
    anna, bram = make_person(), make_person()
    sent = [
        anna.post("/api/v1/messages", json=sealed(anna, bram)).get_json()["id"] for _ in range(5)
    ]

    seen, cursor, pages = [], None, 0
    while True:
        url = "/api/v1/messages?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = bram.get(url).get_json()
        seen += [m["id"] for m in page["messages"]]
        pages += 1
        cursor = page["next"]
        if cursor is None:
            break

    assert pages == 3
    assert seen == list(reversed(sent))


def test_a_bad_cursor_is_a_clear_400(make_person):
    bram = make_person()

    response = bram.get("/api/v1/messages?cursor=bm9wZQ")

    assert response.status_code == 400
    assert "cursor" in response.get_json()["detail"]


def test_the_recipient_opens_what_the_relay_returns(make_person):
    anna, bram = make_person(), make_person()
    message_id = anna.post(
        "/api/v1/messages", json=sealed(anna, bram, text="Slachtoffer heeft opvang nodig")
    ).get_json()["id"]

    fetched = bram.get(f"/api/v1/messages/{message_id}").get_json()
    opened = open_message(fetched["envelope"], bram.identity, anna.identity.public())

    assert opened.body["body"] == "Slachtoffer heeft opvang nodig"
    assert fetched["sender"] == anna.id
    assert fetched["to"] == [bram.id]


def test_sent_box_lists_the_senders_own_readable_copy(make_person):
    anna, bram = make_person(), make_person()
    anna.post("/api/v1/messages", json=sealed(anna, bram, text="eigen kopie"))

    sent = anna.get("/api/v1/messages?box=sent").get_json()["messages"]

    assert len(sent) == 1
    assert anna.get("/api/v1/messages").get_json()["messages"] == []
    opened = open_message(sent[0]["envelope"], anna.identity, anna.identity.public())
    assert opened.body["body"] == "eigen kopie"


def test_acknowledging_is_idempotent_and_filters_the_unacknowledged_view(make_person):
    anna, bram = make_person(), make_person()
    first = anna.post("/api/v1/messages", json=sealed(anna, bram)).get_json()["id"]
    second = anna.post("/api/v1/messages", json=sealed(anna, bram)).get_json()["id"]

    acked = bram.post(f"/api/v1/messages/{first}/ack").get_json()
    again = bram.post(f"/api/v1/messages/{first}/ack").get_json()

    assert acked["acknowledged_at"] == again["acknowledged_at"] is not None
    waiting = bram.get("/api/v1/messages?unacknowledged=1").get_json()["messages"]
    assert [m["id"] for m in waiting] == [second]


def test_read_receipt_envelope_goes_back_to_the_sender_in_the_same_thread(make_person):
    anna, bram = make_person(), make_person()
    envelope = sealed(anna, bram)
    message_id = anna.post("/api/v1/messages", json=envelope).get_json()["id"]
    fetched = bram.get(f"/api/v1/messages/{message_id}").get_json()
    opened = open_message(fetched["envelope"], bram.identity, anna.identity.public())
    receipt_body = {"receipt_for": message_id, "hh": b64(opened.hh), "status": "read"}
    receipt = seal(
        bram.identity,
        [anna.identity.public()],
        receipt_body,
        kind="receipt",
        thread=fetched["thread"],
    )

    posted = bram.post("/api/v1/messages", json=receipt.to_json())
    bram.post(f"/api/v1/messages/{message_id}/read")

    assert posted.status_code == 201, posted.get_json()
    inbox = anna.get("/api/v1/messages").get_json()["messages"]
    assert [m["kind"] for m in inbox] == ["receipt"]
    status = anna.get(f"/api/v1/messages/{message_id}").get_json()["recipients"]
    assert status[0]["read_at"] is not None


def test_a_receipt_outside_a_shared_thread_is_refused(make_person):
    anna, bram = make_person(), make_person()
    receipt = seal(
        bram.identity,
        [anna.identity.public()],
        {"receipt_for": bram.id, "hh": b64(bytes(32)), "status": "read"},
        kind="receipt",
    )

    response = bram.post("/api/v1/messages", json=receipt.to_json())

    assert (response.status_code, response.get_json()["check"]) == (422, "bad-receipt")


def test_thread_shows_both_sides_of_a_conversation_in_order(make_person):
    anna, bram = make_person(), make_person()
    first = anna.post("/api/v1/messages", json=sealed(anna, bram, text="vraag")).get_json()["id"]
    thread_id = bram.get(f"/api/v1/messages/{first}").get_json()["thread"]
    reply = bram.post(
        "/api/v1/messages", json=sealed(bram, anna, text="antwoord", thread=thread_id)
    ).get_json()["id"]

    for person in (anna, bram):
        messages = person.get(f"/api/v1/threads/{thread_id}").get_json()["messages"]
        assert [m["id"] for m in messages] == [first, reply]
    threads = bram.get("/api/v1/threads").get_json()["threads"]
    assert threads[0]["thread"] == thread_id
    assert threads[0]["messages"] == 2
    assert threads[0]["unread"] == 1


def test_an_expired_message_disappears_before_the_purge_runs(make_person, db_session):
    anna, bram = make_person(), make_person()
    message_id = anna.post("/api/v1/messages", json=sealed(anna, bram)).get_json()["id"]
    db_session.execute(
        update(Envelope)
        .where(Envelope.id == message_id)
        .values(expires_at=utcnow() - timedelta(seconds=1))
    )
    db_session.commit()

    assert bram.get(f"/api/v1/messages/{message_id}").status_code == 404
    assert bram.get("/api/v1/messages").get_json()["messages"] == []


def test_a_large_envelope_is_listed_without_its_bytes_and_fetched_whole(make_person):
    anna, bram = make_person(), make_person()
    big = anna.post("/api/v1/messages", json=sealed(anna, bram, text="x" * 300_000)).get_json()
    small = anna.post("/api/v1/messages", json=sealed(anna, bram)).get_json()

    listed = {m["id"]: m for m in bram.get("/api/v1/messages").get_json()["messages"]}
    fetched = bram.get(f"/api/v1/messages/{big['id']}").get_json()

    assert listed[big["id"]]["envelope"] is None
    assert listed[small["id"]]["envelope"] is not None
    opened = open_message(fetched["envelope"], bram.identity, anna.identity.public())
    assert len(opened.body["body"]) == 300_000
