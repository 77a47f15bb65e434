"""Random link tokens (invitations, password resets) and the hash that is stored instead."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from config import Settings


def new_token() -> str:
    """A URL-safe random token with 256 bits of entropy."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """SHA-256 hex of a token: a stolen table row cannot be turned back into a link."""
    return hashlib.sha256(token.encode()).hexdigest()


def email_key(settings: Settings, email: str) -> str:
    """A keyed hash of the lower-cased address, so the throttle table names nobody."""
    normalized = email.strip().lower().encode()
    return hmac.new(settings.secret_key.encode(), normalized, hashlib.sha256).hexdigest()


def link(settings: Settings, path: str) -> str:
    """An absolute link to ``path`` on this instance (``settings.base_url``)."""
    return settings.base_url.rstrip("/") + path
