"""Durability through the Python client: ``liaison serve`` is SIGKILLed again and again while
clients send with the library (which resends the same bytes after a lost connection); every
message the relay acknowledged is there exactly once, resends of acknowledged messages after a
kill are recognised as the same message, and each recipient's inbox lists each one once."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests
from liaison_client.api import ApiError, Client
from liaison_client.identity import generate
from liaison_client.keystore import public_key_document
from liaison_client.messages import seal
from sqlalchemy import func, select

from accounts.api_tokens import issue_token
from accounts.models import Role
from messaging.models import Delivery, Envelope
from tests.messaging.conftest import body

KILLS = 3
SENDERS = 3


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _serve(settings, port: int) -> subprocess.Popen:
    """``liaison serve`` as its own process on the test's data directory and database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIAISON_")}
    env.update(
        LIAISON_ENV="test", LIAISON_DATA_DIR=str(settings.data_dir),
        LIAISON_DATABASE_URL=settings.database_url, LIAISON_SECRET_KEY=settings.secret_key,
        LIAISON_RUN_SCHEDULER="false", LIAISON_MAIL_SINK="false", LIAISON_LOG_LEVEL="WARNING",
        LIAISON_MESSAGES_PER_MINUTE="100000",
    )  # fmt: skip
    command = [str(Path(sys.executable).parent / "liaison"), "serve", "--port", str(port)]
    log = settings.data_dir / "serve.log"
    with log.open("ab") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=output)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/api/v1/openapi.json", timeout=1)
            return process
        except requests.ConnectionError:
            time.sleep(0.05)
    _kill(process)
    raise AssertionError("the relay did not start: " + log.read_text()[-2000:])


def _kill(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)


def test_acknowledged_messages_survive_sigkill_exactly_once_and_resends_do_not_duplicate(
    settings, make_user, organisations, db_session
) -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    people = []
    for _ in range(SENDERS + 2):
        user = make_user(Role.CONTACT_POINT, organizations=[organisations["A"]])
        token, _row = issue_token(db_session, user, settings)
        db_session.commit()
        people.append((generate(user.id), token))
    server = _serve(settings, port)
    for identity, token in people:
        document = public_key_document(identity)
        del document["user_id"]
        Client(base, token).publish_key(document)
    readers = [identity.public() for identity, _token in people[SENDERS:]]
    acknowledged: dict[str, dict] = {}
    resent: list[bool] = []
    lock = threading.Lock()
    stop = threading.Event()

    def send(identity, token) -> None:
        client = Client(base, token, timeout=5)
        while not stop.is_set():
            envelope = seal(identity, readers, body("durable")).to_json()
            answer = None
            while answer is None and not stop.is_set():  # the same bytes until an answer
                try:
                    answer = client.post_message(envelope, retries=10)
                except ApiError as error:
                    if error.check != "unreachable":
                        raise
            if answer is not None:
                with lock:
                    acknowledged[answer.id] = envelope

    threads = [threading.Thread(target=send, args=person) for person in people[:SENDERS]]
    for thread in threads:
        thread.start()
    try:
        for _ in range(KILLS):
            time.sleep(random.uniform(0.8, 1.6))
            _kill(server)
            server = _serve(settings, port)
            with lock:
                if not acknowledged:
                    continue
                message_id, envelope = random.choice(list(acknowledged.items()))
            sender_token = next(t for i, t in people if i.user_id == envelope_sender(envelope))
            again = Client(base, sender_token).post_message(envelope)
            resent.append(again.id == message_id and again.created is False)
        time.sleep(0.5)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    try:
        reader_token = people[SENDERS][1]
        listed = [m.id for m in Client(base, reader_token).iter_messages()]
    finally:
        _kill(server)

    assert len(acknowledged) >= 20, "too few messages went through to prove anything"
    assert all(resent), "a resend after a kill was not recognised as the same message"
    db_session.expire_all()
    stored = dict(db_session.execute(select(Envelope.id, Envelope.header)).all())
    lost = [message_id for message_id in acknowledged if message_id not in stored]
    assert not lost, f"{len(lost)} acknowledged messages were lost"
    copies = dict(
        db_session.execute(
            select(Delivery.envelope_id, func.count()).group_by(Delivery.envelope_id)
        ).all()
    )
    assert all(copies[message_id] == len(readers) + 1 for message_id in stored)
    assert sorted(listed) == sorted(set(listed))
    assert set(acknowledged) <= set(listed)


def envelope_sender(envelope: dict) -> str:
    """The sender named in an envelope's header."""
    from liaison_client.envelope import parse_envelope

    return str(parse_envelope(envelope).sender)
