"""The relay's look-up of an envelope's people: the same answers whether the people go in as a
few fixed parameters (padded) or, for long lists, as an expanding one."""

from __future__ import annotations

import pytest
from liaison_client.identity import generate

from messaging.services import relay
from tests.messaging.conftest import sealed


@pytest.mark.parametrize("max_slots", [relay.MAX_SLOTS, 2], ids=["fixed", "expanding"])
def test_the_look_up_finds_every_recipient_and_refuses_the_unknown_one(
    make_person, monkeypatch, max_slots
):
    monkeypatch.setattr(relay, "MAX_SLOTS", max_slots)
    anna, bram, chloe, dirk = (make_person(org) for org in "AABB")
    stranger = make_person("B")
    stranger.identity = generate("00000000-0000-4000-8000-000000000000")  # no such person

    sent = anna.post("/api/v1/messages", json=sealed(anna, bram, chloe, dirk))
    refused = anna.post("/api/v1/messages", json=sealed(anna, bram, chloe, stranger))

    assert sent.status_code == 201
    assert refused.status_code == 422
    assert refused.get_json()["check"] == "unknown-recipient"


@pytest.mark.parametrize(("people", "slots"), [(1, 4), (4, 4), (5, 8), (64, 64), (65, 0)])
def test_people_are_padded_to_a_power_of_two_of_slots(people, slots):
    assert relay._slots(people) == slots
