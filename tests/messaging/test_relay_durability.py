"""Durability: the server is killed (SIGKILL) again and again while clients send; every message
the relay acknowledged is stored exactly once, whole (envelope and every copy)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from accounts.api_tokens import issue_token
from accounts.models import Role
from client.encoding import b64
from client.identity import generate
from client.messages import seal
from messaging.models import Delivery, Envelope
from messaging.services.keys import publish_key
from tests.messaging.conftest import body

pytestmark = pytest.mark.slow

KILLS = 3
SENDERS = 3


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start(settings, port: int) -> subprocess.Popen:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("LIAISON_")},
        "LIAISON_ENV": "test",
        "LIAISON_DATA_DIR": str(settings.data_dir),
        "LIAISON_DATABASE_URL": settings.database_url,
        "LIAISON_SECRET_KEY": settings.secret_key,
        "LIAISON_RUN_SCHEDULER": "false",
        "LIAISON_MAIL_SINK": "false",
        "LIAISON_MESSAGES_PER_MINUTE": "0",
        "LIAISON_LOG_LEVEL": "WARNING",
    }
    command = [str(Path(sys.executable).parent / "liaison"), "serve", "--port", str(port)]
    log = settings.data_dir / "server.log"
    with log.open("ab") as output:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(command, env=env, stdout=output, stderr=output)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/api/v1/openapi.json", timeout=1)
            return process
        except requests.ConnectionError:
            time.sleep(0.05)
    process.kill()
    process.wait(timeout=10)
    raise AssertionError("the server did not start: " + log.read_text()[-2000:])


def test_every_acknowledged_message_survives_repeated_sigkill_exactly_once(
    settings, make_user, organisations, db_session
):
    people = []
    for _ in range(SENDERS + 1):
        user = make_user(Role.CONTACT_POINT, organizations=[organisations["A"]])
        identity = generate(user.id)
        publish_key(
            db_session,
            settings,
            user,
            {
                "key_id": identity.key_id,
                "sign_pk": b64(identity.sign_pk),
                "box_pk": b64(identity.box_pk),
                "created_at": identity.created_at,
                "pub_sig": b64(identity.publication_signature()),
            },
        )
        token, _ = issue_token(db_session, user, settings)
        db_session.commit()
        people.append((identity, token))
    reader = people[-1][0].public()
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    acknowledged: dict[str, dict] = {}
    lock = threading.Lock()
    stop = threading.Event()

    def send(identity, token) -> None:
        http = requests.Session()
        http.headers["Authorization"] = f"Bearer {token}"
        while not stop.is_set():
            envelope = seal(identity, [reader], body("durable")).to_json()
            while not stop.is_set():  # the same bytes again until the relay answers
                try:
                    response = http.post(f"{base}/api/v1/messages", json=envelope, timeout=5)
                except requests.RequestException:
                    time.sleep(0.05)
                    continue
                if response.status_code in {200, 201}:
                    with lock:
                        acknowledged[response.json()["id"]] = envelope
                    break
                if response.status_code >= 500:
                    time.sleep(0.05)
                    continue
                raise AssertionError(f"refused: {response.status_code} {response.text}")

    server = _start(settings, port)
    threads = [threading.Thread(target=send, args=person) for person in people[:SENDERS]]
    for thread in threads:
        thread.start()
    try:
        for _ in range(KILLS):
            time.sleep(1.0)
            server.send_signal(signal.SIGKILL)
            server.wait(timeout=10)
            server = _start(settings, port)
        time.sleep(1.0)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=20)
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=10)

    assert len(acknowledged) >= 10, "too few messages went through to prove anything"
    db_session.expire_all()
    stored = dict(db_session.execute(select(Envelope.id, Envelope.sig)).all())
    for message_id, envelope in acknowledged.items():
        assert message_id in stored, f"acknowledged message {message_id} was lost"
        assert b64(stored[message_id]) == envelope["sig"]
    copies = db_session.execute(
        select(Delivery.envelope_id, func.count()).group_by(Delivery.envelope_id)
    ).all()
    assert all(count == 2 for _, count in copies)  # never half a message
    assert {envelope_id for envelope_id, _ in copies} == set(stored)
