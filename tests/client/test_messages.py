"""Sealing and opening messages (§3) between fresh identities."""

from __future__ import annotations

import pytest
from liaison_client.encoding import b64, unb64
from liaison_client.errors import EnvelopeError
from liaison_client.identity import generate, identity_from_secrets
from liaison_client.messages import open_message, seal

from tests.client.conftest import message_body


def test_every_recipient_and_the_sender_read_the_message(people) -> None:
    anna, bram, chloe = people.values()
    envelope = seal(anna, [bram.public(), chloe.public()], message_body()).to_json()
    for reader in (bram, chloe, anna):
        assert open_message(envelope, reader, anna.public()).body == message_body()
    assert {w["to"] for w in envelope["wraps"]} == {anna.user_id, bram.user_id, chloe.user_id}


def test_someone_not_addressed_cannot_read(people) -> None:
    anna, bram, chloe = people.values()
    envelope = seal(anna, [bram.public()], message_body()).to_json()
    with pytest.raises(EnvelopeError) as error:
        open_message(envelope, chloe, anna.public())
    assert error.value.reason == "not-a-recipient"


def test_a_message_from_a_key_other_than_the_pinned_one_is_refused(people) -> None:
    anna, bram, _ = people.values()
    impostor = generate(anna.user_id)
    envelope = seal(impostor, [bram.public()], message_body()).to_json()
    with pytest.raises(EnvelopeError) as error:
        open_message(envelope, bram, anna.public())
    assert error.value.reason == "bad-signature"


def test_old_messages_stay_readable_after_a_key_rotation(people) -> None:
    anna, bram, _ = people.values()
    envelope = seal(anna, [bram.public()], message_body()).to_json()
    rotated = generate(bram.user_id)
    assert open_message(envelope, [rotated, bram], anna.public()).body == message_body()
    with pytest.raises(EnvelopeError) as error:
        open_message(envelope, [rotated], anna.public())
    assert error.value.reason == "no-key"


def test_lengths_leak_only_in_steps_of_256_bytes(people) -> None:
    anna, bram, _ = people.values()
    short = seal(anna, [bram.public()], message_body("a")).to_json()
    longer = seal(anna, [bram.public()], message_body("a" * 100)).to_json()
    assert len(unb64(short["ciphertext"])) == len(unb64(longer["ciphertext"])) == 256 + 16


def test_a_body_that_is_not_version_1_cannot_be_sealed(people) -> None:
    anna, bram, _ = people.values()
    with pytest.raises(EnvelopeError) as error:
        seal(anna, [bram.public()], {**message_body(), "tlp": "GEHEIM"})
    assert error.value.reason == "malformed-body"


def test_a_swapped_ciphertext_is_refused_and_nothing_is_shown(people) -> None:
    anna, bram, _ = people.values()
    first = seal(anna, [bram.public()], message_body("eerste")).to_json()
    second = seal(anna, [bram.public()], message_body("tweede")).to_json()
    mixed = {**first, "ciphertext": second["ciphertext"], "nonce": second["nonce"]}
    with pytest.raises(EnvelopeError) as error:
        open_message(mixed, bram, anna.public())
    assert error.value.reason == "bad-signature"


def test_an_identity_rebuilt_from_its_secrets_keeps_its_key_id(people) -> None:
    anna = people["anna"]
    again = identity_from_secrets(
        anna.user_id, unb64(b64(anna.sign_sk)), anna.box_sk, anna.created_at, anna.key_id
    )
    assert again.public() == anna.public()
