"""The client retries what can be retried, against a real relay behind real failures: server
and gateway errors (before the relay stored the message, or after, when only the answer is lost)
and dropped connections are retried with the same message id, so the message arrives once; a
refusal is not retried; on giving up the id is printed, and sending again with it never
duplicates the message."""

# ruff: noqa: F811 - the relay fixtures are imported by name

from __future__ import annotations

import os
import re

import pytest
from click.testing import CliRunner
from liaison_client.cli import main
from liaison_client.retry import DEADLINE_ENV
from liaison_client.session import LocalState

from tests.accounts.conftest import PASSWORD
from tests.browser.conftest import LiveServer
from tests.client.flaky import DroppingProxy, FlakyFront
from tests.client.relay_fixtures import PASSPHRASE, account, organisations  # noqa: F401

MESSAGE_LINE = re.compile(r"^Message ([0-9a-f-]{36})$", re.MULTILINE)


@pytest.fixture
def messages_per_minute() -> int:
    return 60


@pytest.fixture
def settings(settings, messages_per_minute):
    return settings.replace(messages_per_minute=messages_per_minute)


@pytest.fixture
def front(app) -> FlakyFront:
    # Every send in one minute of the limiter's clock (a window boundary would reset the count).
    app.extensions["liaison.messaging.limiters"]["send"].clock = lambda: 1_800_000_010.0
    return FlakyFront(app)


@pytest.fixture
def relay(front):
    """The relay served behind the flaky front (the people's clients talk to the front)."""
    with LiveServer(front) as server:
        yield server


def _send(person, *extra: str, env: dict[str, str] | None = None):
    args = ["send", "--to", person[1].id, "--subject", "Intake", "--body", "Maandag om tien?"]
    variables = {"LIAISONCLIENT_PASSPHRASE": PASSPHRASE, "LIAISONCLIENT_PASSWORD": PASSWORD}
    return CliRunner().invoke(main, [*args, *extra, "--home", str(person[0].home)],
                              env=variables | (env or {}))  # fmt: skip


def _message_id(result) -> str:
    found = MESSAGE_LINE.search(result.output)
    assert found, result.output
    return found.group(1)


def _inbox_ids(reader) -> list[str]:
    listed = reader.cli("inbox")
    assert listed.exit_code == 0, listed.output
    return [line.split()[0] for line in listed.output.splitlines() if " from " in line]


@pytest.mark.parametrize(
    ("status", "after_relay"), [(503, False), (502, True), (500, True), (504, False)]
)
def test_a_message_sent_through_server_errors_arrives_once(
    account, front, status, after_relay
) -> None:
    anna, bram = account("A"), account("B")
    front.fail(2, status, after_relay=after_relay)

    sent = _send((anna, bram))

    assert sent.exit_code == 0, sent.output
    message_id = _message_id(sent)
    assert f"Sent {message_id}" in sent.output
    assert sent.output.count("trying again") == 2
    assert front.seen == 3  # the same message posted three times
    assert _inbox_ids(bram) == [message_id]
    assert "Maandag om tien?" in bram.cli("read", message_id).output


def test_an_attachment_upload_answered_503_is_retried_and_arrives_intact(
    account, front, tmp_path
) -> None:
    anna, bram = account("A"), account("B")
    statement = tmp_path / "verklaring.pdf"
    statement.write_bytes(os.urandom(120_000))
    front.fail(2, 503, path="/api/v1/blobs")

    sent = _send((anna, bram), "--file", str(statement))
    message_id = _message_id(sent)
    shown = bram.cli("read", message_id)
    blob_id = next(line.split()[1] for line in shown.output.splitlines()
                   if line.startswith("Attachment:"))  # fmt: skip
    fetched = bram.cli("fetch-attachment", message_id, blob_id, "--out", str(tmp_path / "got"))

    assert sent.exit_code == 0, sent.output
    assert front.seen == 3
    assert fetched.exit_code == 0, fetched.output
    assert (tmp_path / "got").read_bytes() == statement.read_bytes()


def test_a_message_whose_connection_drops_is_sent_again_and_arrives_once(account, relay) -> None:
    anna, bram = account("A"), account("B")
    host, port = relay.url.removeprefix("http://").split(":")
    with DroppingProxy((host, int(port)), b"POST /api/v1/messages", drops=2) as proxy:
        state = LocalState.load(anna.home)
        state.base_url = proxy.url
        state.save()

        sent = _send((anna, bram))

    assert sent.exit_code == 0, sent.output
    assert proxy.dropped == 2
    assert _inbox_ids(bram) == [_message_id(sent)]


@pytest.mark.parametrize("messages_per_minute", [1])
def test_a_refusal_is_not_retried_and_names_the_message_that_was_not_sent(account, front) -> None:
    anna, bram = account("A"), account("B")
    assert _send((anna, bram)).exit_code == 0
    front.fail(0)  # count from here

    refused = _send((anna, bram))

    assert refused.exit_code == 1
    assert front.seen == 1
    assert "(rate-limited)" in refused.output
    assert "trying again" not in refused.output
    assert f"Message {_message_id(refused)} was not sent." in refused.output
    assert len(_inbox_ids(bram)) == 1


def test_after_giving_up_on_a_message_the_relay_stored_a_resend_with_its_id_is_no_duplicate(
    account, front
) -> None:
    anna, bram = account("A"), account("B")
    front.fail(1000, 502, after_relay=True)  # stored every time, the answer always lost

    gave_up = _send((anna, bram), "--retry-deadline", "1.5")
    message_id = _message_id(gave_up)
    attempts = front.seen
    front.fail(0)
    again = _send((anna, bram), "--message-id", message_id)

    assert gave_up.exit_code == 5, gave_up.output
    assert f"--message-id {message_id}" in gave_up.output
    assert attempts >= 2
    assert again.exit_code == 0, again.output
    assert f"Sent {message_id} (it had arrived before)" in again.output
    assert front.seen == 0  # nothing posted again
    assert _inbox_ids(bram) == [message_id]


def test_after_giving_up_on_a_message_the_relay_never_got_a_resend_with_its_id_delivers_it(
    account, front
) -> None:
    anna, bram = account("A"), account("B")
    front.fail(1000, 503)

    gave_up = _send((anna, bram), env={DEADLINE_ENV: "1"})
    message_id = _message_id(gave_up)
    empty = _inbox_ids(bram)
    front.fail(0)
    again = _send((anna, bram), "--message-id", message_id)

    assert gave_up.exit_code == 5, gave_up.output
    assert "may or may not have arrived" in gave_up.output
    assert empty == []
    assert again.exit_code == 0, again.output
    assert again.output.strip().splitlines()[-1] == f"Sent {message_id}"
    assert _inbox_ids(bram) == [message_id]


def test_reading_the_inbox_waits_as_long_as_the_relay_asks(account, front) -> None:
    anna, bram = account("A"), account("B")
    assert _send((anna, bram)).exit_code == 0
    front.fail(1, 503, method="GET", retry_after="1")

    listed = bram.cli("inbox")

    assert listed.exit_code == 0, listed.output
    assert "trying again in 1.0 s" in listed.output
    assert front.seen == 2
    assert len([line for line in listed.output.splitlines() if " from " in line]) == 1
