"""Signing in: password check with per-account throttling, then the second factor.

Failures are counted per e-mail address (a keyed hash of it), whether an account exists or not,
and an unknown address costs the same argon2 work as a known one, so neither the message nor the
timing tells an outsider who has an account.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from accounts.errors import CodeAlreadyUsed, InvalidCode, InvalidCredentials, TooManyAttempts
from accounts.models import LoginThrottle, User
from accounts.passwords import hash_password, needs_rehash, verify_password
from accounts.tokens import email_key
from accounts.totp import accept_second_factor, already_used
from config import Settings
from core.db import utcnow


def _throttle(session: Session, key: str) -> LoginThrottle:
    row = session.get(LoginThrottle, key)
    if row is not None:
        return row
    try:
        with session.begin_nested():
            row = LoginThrottle(key=key, failures=0)
            session.add(row)
    except IntegrityError:  # a parallel request created it first
        row = session.get(LoginThrottle, key)
        assert row is not None
    return row


def check_not_locked(session: Session, key: str, now: datetime) -> None:
    """Raise TooManyAttempts while this address is paused."""
    row = session.get(LoginThrottle, key)
    if row is not None and row.locked_until is not None and row.locked_until > now:
        minutes = max(1, math.ceil((row.locked_until - now).total_seconds() / 60))
        raise TooManyAttempts(count=minutes)


def record_failure(session: Session, settings: Settings, key: str, now: datetime) -> None:
    """Count one failed attempt; pause the address after ``login_max_failures`` in the window."""
    window = timedelta(minutes=settings.login_lockout_minutes)
    row = _throttle(session, key)
    if row.first_failure_at is None or now - row.first_failure_at > window:
        row.failures = 0
        row.first_failure_at = now
    row.failures += 1
    if row.failures >= settings.login_max_failures:
        row.locked_until = now + window
        row.failures = 0
        row.first_failure_at = None
    session.flush()


def clear_failures(session: Session, key: str) -> None:
    """Forget the failures of an address after a complete sign-in."""
    row = session.get(LoginThrottle, key)
    if row is not None:
        session.delete(row)
        session.flush()


def find_user_by_email(session: Session, email: str) -> User | None:
    """The account with this address (addresses are stored lower-cased)."""
    return session.scalar(select(User).where(User.email == email.strip().lower()))


def authenticate(
    session: Session, settings: Settings, email: str, password: str, now: datetime | None = None
) -> User:
    """First step: the password. Returns the person, who must still give a second factor."""
    now = now or utcnow()
    key = email_key(settings, email)
    check_not_locked(session, key, now)
    user = find_user_by_email(session, email)
    usable = user is not None and user.is_active and bool(user.password_hash)
    usable = usable and user is not None and user.totp_enrolled_at is not None
    stored = user.password_hash if usable and user is not None else None
    if not verify_password(stored, password) or user is None:
        record_failure(session, settings, key, now)
        raise InvalidCredentials()
    if stored and needs_rehash(stored):
        user.password_hash = hash_password(password)
    return user


def second_factor(
    session: Session, settings: Settings, user: User, code: str, now: datetime | None = None
) -> None:
    """Second step: a TOTP or recovery code; failures count towards the same throttle."""
    now = now or utcnow()
    key = email_key(settings, user.email)
    check_not_locked(session, key, now)
    if not user.is_active or not accept_second_factor(session, user, code):
        record_failure(session, settings, key, now)
        if user.is_active and already_used(user, code, now):
            raise CodeAlreadyUsed()
        raise InvalidCode()
    clear_failures(session, key)
    user.last_login_at = now
    session.flush()
