"""The relay through a real HTTP server, as an API client uses it: bearer token, keys, a message
with a streamed (chunked) attachment, reading it back."""

from __future__ import annotations

import threading
import uuid

import pyotp
import pytest
import requests
from liaison_client.blobs import decrypt_to_file, encrypt_file
from liaison_client.encoding import b64
from liaison_client.identity import generate, public_key_from_b64
from liaison_client.messages import open_message, seal
from werkzeug.serving import make_server

from accounts.models import Role
from accounts.passwords import hash_password
from accounts.totp import new_secret
from core.db import utcnow
from tests.messaging.conftest import body

PASSWORD = "amber tidal quarry 1917"


@pytest.fixture
def live_url(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


def _api_client(base: str, user) -> requests.Session:
    code = pyotp.TOTP(user.totp_secret).now()
    issued = requests.post(
        f"{base}/api/v1/auth/token",
        json={"email": user.email, "password": PASSWORD, "code": code},
        timeout=10,
    )
    assert issued.status_code == 200, issued.text
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {issued.json()['token']}"
    return http


def test_an_api_client_sends_and_reads_an_attachment_through_a_real_server(
    live_url, make_user, organisations, db_session, tmp_path
):
    people = []
    for org in ("A", "B"):
        user = make_user(Role.CONTACT_POINT, organizations=[organisations[org]])
        user.password_hash = hash_password(PASSWORD)
        user.totp_secret = new_secret()
        user.totp_enrolled_at = utcnow()
        db_session.commit()
        http = _api_client(live_url, user)
        identity = generate(user.id)
        published = http.post(
            f"{live_url}/api/v1/keys",
            json={
                "key_id": identity.key_id,
                "sign_pk": b64(identity.sign_pk),
                "box_pk": b64(identity.box_pk),
                "created_at": identity.created_at,
                "pub_sig": b64(identity.publication_signature()),
            },
            timeout=10,
        )
        assert published.status_code == 201, published.text
        people.append((user, http, identity))
    (_, anna_http, anna), (bram_user, bram_http, bram) = people

    plain = tmp_path / "rapport.bin"
    plain.write_bytes(bytes(range(256)) * 4000)  # about 1 MB, several chunks
    blob_id = str(uuid.uuid4())
    encrypted = tmp_path / "blob.bin"
    manifest = encrypt_file(plain, encrypted, blob_id)

    def chunks():
        with encrypted.open("rb") as source:
            while piece := source.read(100_000):
                yield piece

    uploaded = anna_http.post(f"{live_url}/api/v1/blobs?id={blob_id}", data=chunks(), timeout=30)
    looked_up = anna_http.get(f"{live_url}/api/v1/users/{bram_user.id}/keys", timeout=10).json()
    bram_key = public_key_from_b64(
        bram_user.id,
        looked_up["current"]["sign_pk"],
        looked_up["current"]["box_pk"],
        looked_up["current"]["created_at"],
    )
    envelope = seal(anna, [bram_key], body("zie bijlage", attachments=[manifest])).to_json()
    posted = anna_http.post(
        f"{live_url}/api/v1/messages", json={"envelope": envelope, "blobs": [blob_id]}, timeout=10
    )

    inbox = bram_http.get(f"{live_url}/api/v1/messages", timeout=10).json()["messages"]
    opened = open_message(inbox[0]["envelope"], bram, anna.public())
    download = bram_http.get(f"{live_url}/api/v1/blobs/{blob_id}", stream=True, timeout=30)
    received = tmp_path / "received.bin"
    decrypt_to_file(download.raw, int(download.headers["Content-Length"]), manifest, received)
    acked = bram_http.post(f"{live_url}/api/v1/messages/{inbox[0]['id']}/ack", timeout=10)

    assert uploaded.status_code == 201, uploaded.text
    assert posted.status_code == 201, posted.text
    assert opened.body["body"] == "zie bijlage"
    assert received.read_bytes() == plain.read_bytes()
    assert acked.status_code == 200
