"""The mandatory second factor: TOTP codes (RFC 6238) that cannot be replayed, and recovery codes.

A code is accepted for the current 30-second step or one step either side, and only when its step
is later than the last accepted one (``User.totp_last_counter``), so an observed code is useless.
Recovery codes are random (about 60 bits), so a SHA-256 hash is enough to store them.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

import pyotp
import segno
from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from accounts.models import RecoveryCode, User
from core.db import utcnow

ISSUER = "Liaison"
RECOVERY_CODE_COUNT = 10
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i
RECOVERY_GROUPS = 3
RECOVERY_GROUP_SIZE = 4


def new_secret() -> str:
    """A fresh base32 TOTP secret (160 bits)."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, email: str) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def qr_data_uri(uri: str) -> str:
    """The QR code of ``uri`` as an SVG ``data:`` URI (the CSP allows data: images)."""
    return str(segno.make(uri, error="m").svg_data_uri(scale=5, border=2))


def grouped(secret: str) -> str:
    """The secret in blocks of four, easier to type into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def matching_counter(secret: str, code: str, last_counter: int | None, now: datetime) -> int | None:
    """The time step that ``code`` belongs to (now ±1), if later than ``last_counter``."""
    code = code.strip().replace(" ", "")
    if not (len(code) == 6 and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for counter in (current - 1, current, current + 1):
        if last_counter is not None and counter <= last_counter:
            continue
        if hmac.compare_digest(totp.generate_otp(counter), code):
            return counter
    return None


def already_used(user: User, code: str, now: datetime | None = None) -> bool:
    """True when ``code`` is right for a step (now ±1) that was already accepted.

    Only to say so to the person: the code is refused all the same. It is what happens when
    someone signs in again within the 30 seconds of the code they just used, e.g. to enrol.
    """
    if not user.totp_secret or user.totp_last_counter is None:
        return False
    counter = matching_counter(user.totp_secret, code, None, now or utcnow())
    return counter is not None and counter <= user.totp_last_counter


def accept_totp(session: Session, user: User, code: str, now: datetime | None = None) -> bool:
    """Check a code and record its step so it can never be used again (race-safe)."""
    if not user.totp_secret:
        return False
    counter = matching_counter(user.totp_secret, code, user.totp_last_counter, now or utcnow())
    if counter is None:
        return False
    result = session.execute(
        update(User)
        .where(
            User.id == user.id,
            or_(User.totp_last_counter.is_(None), User.totp_last_counter < counter),
        )
        .values(totp_last_counter=counter)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False  # another request used this step a moment ago
    user.totp_last_counter = counter
    return True


def _normalize_recovery(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch.isalnum())


def recovery_hash(code: str) -> str:
    """The stored form of a recovery code."""
    return hashlib.sha256(_normalize_recovery(code).encode()).hexdigest()


def looks_like_recovery_code(code: str) -> bool:
    """True when the text has the shape of a recovery code rather than a 6-digit TOTP code."""
    return len(_normalize_recovery(code)) == RECOVERY_GROUPS * RECOVERY_GROUP_SIZE


def new_recovery_codes(session: Session, user: User) -> list[str]:
    """Replace the person's recovery codes with 10 new ones; returns them (shown once)."""
    session.query(RecoveryCode).filter(RecoveryCode.user_id == user.id).delete()
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(
            secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_GROUPS * RECOVERY_GROUP_SIZE)
        )
        code = "-".join(
            raw[i : i + RECOVERY_GROUP_SIZE] for i in range(0, len(raw), RECOVERY_GROUP_SIZE)
        )
        codes.append(code)
        session.add(RecoveryCode(user_id=user.id, code_hash=recovery_hash(code)))
    session.flush()
    return codes


def use_recovery_code(session: Session, user: User, code: str) -> bool:
    """Spend one unused recovery code (race-safe); False when unknown or already used."""
    result = session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == recovery_hash(code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def remaining_recovery_codes(session: Session, user: User) -> int:
    """How many unused recovery codes the person still has."""
    return (
        session.query(RecoveryCode)
        .filter(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
        .count()
    )


def accept_second_factor(session: Session, user: User, code: str) -> bool:
    """A TOTP code or, when shaped like one, a recovery code."""
    if looks_like_recovery_code(code):
        return use_recovery_code(session, user, code)
    return accept_totp(session, user, code)
