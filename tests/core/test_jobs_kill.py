"""The jobs process is SIGKILLed in the middle of a notification batch and started again: every
recipient gets exactly one e-mail (captured by a real SMTP server) and ``liaison jobs status``
shows the interrupted run. Runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from core.db import utcnow
from core.mail import free_port
from core.mail_outbox import outbox_depth
from messaging.models import Delivery, Envelope

ROOT = Path(__file__).resolve().parents[2]
RECIPIENTS = 32
KILL_AT = 10  # the SMTP conversation about this e-mail is under way when the process dies


class SlowInbox:
    """An SMTP server slow to accept each recipient, so that a batch takes seconds; it says when
    the conversation about the KILL_AT-th e-mail has begun."""

    def __init__(self) -> None:
        self.received: list[str] = []
        self.rcpt_seen = 0
        self.mid_batch = threading.Event()
        self.killed = threading.Event()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.rcpt_seen += 1
        if self.rcpt_seen == KILL_AT:
            # Hold this conversation open until the test has killed the process, whatever the load.
            self.mid_batch.set()
            while not self.killed.is_set():
                await asyncio.sleep(0.05)
        await asyncio.sleep(0.25)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.received.extend(envelope.rcpt_tos)
        return "250 OK"


@pytest.fixture
def slow_smtp():
    handler = SlowInbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller.port, handler
    finally:
        controller.stop()


def _environment(settings, smtp_port: int) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("LIAISON_")},
        "PYTHONPATH": str(ROOT),
        "LIAISON_ENV": "test",
        "LIAISON_DATA_DIR": str(settings.data_dir),
        "LIAISON_DATABASE_URL": settings.database_url,
        "LIAISON_SECRET_KEY": settings.secret_key,
        "LIAISON_SMTP_HOST": "127.0.0.1",
        "LIAISON_SMTP_PORT": str(smtp_port),
        "LIAISON_MAIL_SINK": "false",
        "LIAISON_JOB_LEASE_SECONDS": "2",
        "LIAISON_LOG_LEVEL": "WARNING",
    }


def _liaison(*args: str) -> list[str]:
    return [sys.executable, "-c", "from core.cli import main; main()", *args]


def _start_jobs(env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("ab") as output:
        return subprocess.Popen(
            _liaison("jobs"), env=env, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT
        )


def _waiting_messages(db_session, make_user, count: int) -> list[str]:
    """One sealed message from one person to ``count`` others, none of them told yet."""
    sender = make_user()
    people = [make_user(email=f"recipient{n:02d}@example.org") for n in range(count)]
    now = utcnow()
    envelope = Envelope(
        id="0b6c0a56-0000-4000-8000-000000000001",
        sender_id=sender.id,
        sender_key="k" * 22,
        thread_id="0b6c0a56-0000-4000-8000-000000000002",
        kind="message",
        header=b"{}",
        nonce=b"n" * 24,
        ciphertext=b"sealed",
        wraps=[],
        sig=b"s" * 64,
        size=8,
        created_at=now,
        received_at=now,
        expires_at=now + timedelta(days=30),
    )
    db_session.add(envelope)
    db_session.flush()
    for person in people:
        db_session.add(Delivery(envelope_id=envelope.id, recipient_id=person.id, key_id="k" * 22))
    db_session.commit()
    return [person.email for person in people]


def test_a_jobs_process_killed_mid_batch_loses_no_email_and_sends_none_twice(
    settings, db_session, make_user, slow_smtp, tmp_path
):
    port, inbox = slow_smtp
    addresses = _waiting_messages(db_session, make_user, RECIPIENTS)
    env = _environment(settings, port)
    log = tmp_path / "jobs.log"

    first = _start_jobs(env, log)
    try:
        assert inbox.mid_batch.wait(90), log.read_text()
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(30)
        inbox.killed.set()
    assert len(inbox.received) == KILL_AT - 1  # the batch was cut in the middle

    second = _start_jobs(env, log)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            db_session.expire_all()
            if outbox_depth(db_session) == 0:
                break
            time.sleep(0.2)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(30)

    received = Counter(inbox.received)
    assert sorted(received) == sorted(addresses), log.read_text()  # every recipient, once each
    assert max(received.values()) == 1

    status = subprocess.run(
        _liaison("jobs", "status"), env=env, cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    mail_lines = status.split("\nmail-send", 1)[1].split("\nmail-purge", 1)[0]
    assert "interrupted:" in mail_lines, status
    assert f"{first.pid}@" in mail_lines  # the killed process is named
