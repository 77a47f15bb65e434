"""The About page: what this instance is and the public keys a client should be configured with.

The secretariat's root key (attestations) and the instance's key-log key are shown with their
fingerprints, so a person can compare them digit group by digit group with what their client
(browser configuration, ``liaison-client login --root-key``) trusts.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

from core.web import db_session, settings
from messaging import crypto
from messaging.envelopes import b64encode
from messaging.services.keylog import log_key

about = Blueprint("about", __name__)


@dataclass(frozen=True)
class ShownKey:
    """A public key as shown to people: its base64url text and its fingerprint."""

    value: str
    fingerprint: str


def _shown(public_key: bytes) -> ShownKey:
    return ShownKey(value=b64encode(public_key), fingerprint=crypto.key_fingerprint(public_key))


def _root_key() -> ShownKey | None:
    configured = settings().attestation_root_public_key.strip()
    if not configured:
        return None
    try:
        return _shown(crypto.unb64(configured, 32, "root key"))
    except crypto.CryptoError:
        return None


@about.get("/about")
def page() -> ResponseReturnValue:
    """What Liaison is, and the keys this instance's clients must trust."""
    return render_template(
        "about.html",
        root_key=_root_key(),
        root_key_invalid=bool(settings().attestation_root_public_key.strip()) and not _root_key(),
        log_key=_shown(log_key(db_session(), settings()).public),
    )
