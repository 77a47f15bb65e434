"""The key log (§6): a client accepts a log only if it extends the head it remembered."""

from __future__ import annotations

import pytest
from liaison_client.errors import KeyLogError
from liaison_client.identity import generate, signing_keypair
from liaison_client.keylog import GENESIS, next_head, parse_signed_head, sign_head, verify_extension

from messaging.crypto import log_entry


@pytest.fixture
def log():
    log_pk, log_sk = signing_keypair()
    entries, head = [], GENESIS
    for seq in range(1, 5):
        identity = generate(f"00000000-0000-4000-8000-00000000000{seq}")
        entry = log_entry(seq, "2026-11-22T09:00:00Z", "publish", identity.public(),
                          identity.publication_signature())  # fmt: skip
        entries.append(entry)
        head = next_head(head, entry)
    return log_pk, log_sk, entries


def test_a_log_that_extends_the_remembered_head_is_accepted(log) -> None:
    log_pk, log_sk, entries = log
    remembered = verify_extension(None, entries[:2], _head(log_sk, entries[:2]))
    assert len(remembered) == 2
    signed = parse_signed_head(_head(log_sk, entries).to_json(), log_pk)
    parsed = verify_extension(_head(log_sk, entries[:2]), entries[2:], signed)
    assert [e["seq"] for e in parsed] == [3, 4]


def test_a_rewritten_history_is_detected(log) -> None:
    _, log_sk, entries = log
    remembered = _head(log_sk, entries[:2])
    other = generate("00000000-0000-4000-8000-000000000009")
    forked = [entries[0], log_entry(2, "2026-11-22T09:00:00Z", "publish", other.public(),
                                    other.publication_signature()), *entries[2:]]  # fmt: skip
    with pytest.raises(KeyLogError) as error:
        verify_extension(remembered, forked[2:], _head(log_sk, forked))
    assert error.value.reason == "fork"


def test_a_head_not_signed_by_the_log_key_is_refused(log) -> None:
    log_pk, _, entries = log
    _, other_sk = signing_keypair()
    with pytest.raises(KeyLogError) as error:
        parse_signed_head(_head(other_sk, entries).to_json(), log_pk)
    assert error.value.reason == "bad-signature"


def test_a_missing_entry_is_a_gap(log) -> None:
    _, log_sk, entries = log
    with pytest.raises(KeyLogError) as error:
        verify_extension(None, [entries[0], entries[2]], _head(log_sk, entries))
    assert error.value.reason == "gap"


def _head(log_sk, entries):
    head = GENESIS
    for entry in entries:
        head = next_head(head, entry)
    return sign_head(log_sk, len(entries), head)
