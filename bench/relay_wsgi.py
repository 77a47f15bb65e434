"""The relay benchmark's own app wiring (``gunicorn relay_wsgi:app`` from bench/): Liaison's app
plus ``POST /bench/baseline``, which only inserts an envelope's bytes into the envelope table —
no sign-in, no checks, no copies. It exists only here; Liaison never imports this module."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

from flask import jsonify, request
from flask.typing import ResponseReturnValue

from core.app import create_app
from core.db import new_id, utcnow
from core.security import CSRF_EXEMPT
from messaging.models import Envelope

app = create_app()
database = app.extensions["liaison.db"]


def _bytes(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@app.post("/bench/baseline")
def baseline() -> ResponseReturnValue:
    """Insert the posted envelope's bytes as a new row of the envelope table."""
    document = json.loads(request.get_data())
    header_bytes = _bytes(document["header"])
    header = json.loads(header_bytes)
    ciphertext = _bytes(document["ciphertext"])
    now = utcnow()
    row = Envelope(
        id=new_id(), sender_id=header["sender"], sender_key=header["sender_key"],
        thread_id=header["thread"], kind=header["kind"], to_org_id=None, header=header_bytes,
        nonce=_bytes(document["nonce"]), ciphertext=ciphertext, wraps=document["wraps"],
        sig=_bytes(document["sig"]), size=len(header_bytes) + len(ciphertext),
        created_at=now, received_at=now, expires_at=now + timedelta(days=30),
    )  # fmt: skip
    with database.session() as session:
        session.add(row)
        session.commit()
    return jsonify({"id": row.id}), 201


app.extensions.setdefault(CSRF_EXEMPT, set()).add("baseline")
