"""Nobody reads, lists, acknowledges, deletes or learns of a message that is not theirs."""

from __future__ import annotations

import io
import uuid

import pytest

from tests.messaging.conftest import sealed

BLOB = b"\x00" * 1000


@pytest.fixture
def exchange(make_person):
    """Anna (A) wrote to Bram (A) with an attachment; Chloé (B) and Dirk (A) are outsiders."""
    anna, bram = make_person("A"), make_person("A")
    chloe, dirk = make_person("B"), make_person("A")
    blob_id = str(uuid.uuid4())
    uploaded = anna.http.post(
        f"/api/v1/blobs?id={blob_id}", data=io.BytesIO(BLOB), headers=anna.headers()
    )
    assert uploaded.status_code == 201
    envelope = sealed(anna, bram)
    posted = anna.post("/api/v1/messages", json={"envelope": envelope, "blobs": [blob_id]})
    assert posted.status_code == 201, posted.get_json()
    message_id = posted.get_json()["id"]
    thread_id = bram.get(f"/api/v1/messages/{message_id}").get_json()["thread"]
    return {
        "anna": anna,
        "bram": bram,
        "chloe": chloe,
        "dirk": dirk,
        "message": message_id,
        "thread": thread_id,
        "blob": blob_id,
    }


def _requests(ids: dict[str, str]) -> list[tuple[str, str]]:
    return [
        ("GET", f"/api/v1/messages/{ids['message']}"),
        ("POST", f"/api/v1/messages/{ids['message']}/ack"),
        ("POST", f"/api/v1/messages/{ids['message']}/read"),
        ("DELETE", f"/api/v1/messages/{ids['message']}"),
        ("GET", f"/api/v1/threads/{ids['thread']}"),
        ("GET", f"/api/v1/blobs/{ids['blob']}"),
    ]


def _call(person, method: str, url: str):
    if method == "GET":
        return person.get(url)
    if method == "DELETE":
        return person.delete(url)
    return person.post(url)


@pytest.mark.parametrize("outsider", ["chloe", "dirk"])
@pytest.mark.parametrize("index", range(6))
def test_an_outsider_gets_404_for_every_route_of_someone_elses_message(exchange, outsider, index):
    person = exchange[outsider]
    method, url = _requests(exchange)[index]
    random_ids = {
        "message": str(uuid.uuid4()),
        "thread": str(uuid.uuid4()),
        "blob": str(uuid.uuid4()),
    }
    absent_method, absent_url = _requests(random_ids)[index]

    theirs = _call(person, method, url)
    absent = _call(person, absent_method, absent_url)

    assert theirs.status_code == 404
    assert theirs.get_json() == absent.get_json()  # existence is not revealed either


def test_an_outsider_never_sees_the_message_in_any_listing(exchange):
    for name in ("chloe", "dirk"):
        person = exchange[name]
        for box in ("inbox", "sent"):
            listed = person.get(f"/api/v1/messages?box={box}").get_json()["messages"]
            assert listed == []
        assert person.get("/api/v1/threads").get_json()["threads"] == []


def test_outsider_attempts_change_nothing_for_the_recipient(exchange):
    for method, url in _requests(exchange):
        _call(exchange["chloe"], method, url)

    copy = exchange["bram"].get(f"/api/v1/messages/{exchange['message']}").get_json()

    assert copy["acknowledged_at"] is None
    assert copy["read_at"] is None
    assert exchange["bram"].get(f"/api/v1/blobs/{exchange['blob']}").data == BLOB


def test_sender_and_recipient_reach_every_route_of_their_message(exchange):
    for name in ("bram", "anna"):
        person = exchange[name]
        for method, url in _requests(exchange)[:3] + _requests(exchange)[4:]:
            assert _call(person, method, url).status_code == 200, (name, url)


def test_only_the_sender_sees_who_read_the_message(exchange):
    exchange["bram"].post(f"/api/v1/messages/{exchange['message']}/read")

    as_sender = exchange["anna"].get(f"/api/v1/messages/{exchange['message']}").get_json()
    as_recipient = exchange["bram"].get(f"/api/v1/messages/{exchange['message']}").get_json()

    assert [r["user"] for r in as_sender["recipients"]] == [exchange["bram"].id]
    assert as_sender["recipients"][0]["read_at"] is not None
    assert "recipients" not in as_recipient


def test_a_deleted_copy_is_gone_for_its_holder_only(exchange):
    bram, anna = exchange["bram"], exchange["anna"]

    assert bram.delete(f"/api/v1/messages/{exchange['message']}").status_code == 204

    assert bram.get(f"/api/v1/messages/{exchange['message']}").status_code == 404
    assert bram.get(f"/api/v1/blobs/{exchange['blob']}").status_code == 404
    assert anna.get(f"/api/v1/messages/{exchange['message']}").status_code == 200


@pytest.mark.parametrize("bad", ["not-a-uuid", "../../etc/passwd", "%00", "x" * 300])
def test_malformed_ids_are_simply_not_found(exchange, bad):
    person = exchange["bram"]
    expected = 400 if bad == "%00" else 404  # a NUL byte is refused before any route runs
    for url in (f"/api/v1/messages/{bad}", f"/api/v1/threads/{bad}", f"/api/v1/blobs/{bad}"):
        assert person.get(url).status_code == expected
