"""Account changes: passwords and resets, recovery codes, disabling, and a person's sessions.

Functions take the database session and flush; e-mail is queued in the mail outbox in the same
transaction, and the caller commits.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from accounts.errors import (
    InvalidCode,
    InvalidInput,
    NotAllowed,
    PasswordRejected,
    ResetInvalid,
)
from accounts.login import check_not_locked, find_user_by_email, record_failure
from accounts.mails import reset_mail, user_locale
from accounts.models import PasswordReset, Role, User, UserSession
from accounts.passwords import MISMATCH, hash_password, policy_problems, verify_password
from accounts.sessions import end_user_sessions, ending_values
from accounts.tokens import email_key, link, new_token, token_hash
from accounts.totp import accept_second_factor, accept_totp, new_recovery_codes
from config import Settings
from core import audit
from core.db import utcnow
from core.mail import MailError
from core.mail_outbox import enqueue

RESET_LINK_MINUTES = 60
RESETS_PER_WINDOW = 3  # at most this many reset mails per account per link lifetime


def end_everything(session: Session, user_id: str, *, except_id: str | None = None) -> int:
    """End the person's browser sessions (but ``except_id``) and revoke their API tokens."""
    from accounts.api_tokens import revoke_user_tokens  # its module also holds the token routes

    revoke_user_tokens(session, user_id)
    return end_user_sessions(session, user_id, except_id=except_id)


def checked_password_hash(password: str, confirmation: str, email: str) -> str:
    """The hash of a new password that passes the policy; PasswordRejected otherwise."""
    problems = policy_problems(password, email)
    if not problems and password != confirmation:
        problems = [MISMATCH]
    if problems:
        raise PasswordRejected(problems)
    return hash_password(password)


def change_password(
    session: Session,
    user: User,
    *,
    current: str,
    new: str,
    confirmation: str,
    keep_session_id: str | None,
) -> int:
    """Set a new password after checking the current one; ends every other session."""
    if not verify_password(user.password_hash, current):
        raise InvalidInput("current_password", "Your current password is not correct.")
    user.password_hash = checked_password_hash(new, confirmation, user.email)
    ended = end_everything(session, user.id, except_id=keep_session_id)
    audit.record(
        session, actor_id=user.id, action="change_password", entity_type="user", entity_id=user.id
    )
    session.flush()
    return ended


def request_reset(
    session: Session, settings: Settings, email: str, now: datetime | None = None
) -> bool:
    """Queue a reset link by e-mail when the address has an active account; True when queued.

    Known and unknown addresses take the same path: nothing is sent inside the request (the mail
    outbox sends after the commit), so the answer and its timing say nothing about the account.
    """
    now = now or utcnow()
    token = new_token()  # made either way, so both paths do the same work
    user = find_user_by_email(session, email)
    if user is None or not user.is_active or user.totp_enrolled_at is None:
        return False
    recent = session.scalar(
        select(func.count())
        .select_from(PasswordReset)
        .where(
            PasswordReset.user_id == user.id,
            PasswordReset.created_at > now - timedelta(minutes=RESET_LINK_MINUTES),
        )
    )
    if (recent or 0) >= RESETS_PER_WINDOW:
        return False  # no flood of mails to one inbox; the earlier links still work
    session.add(
        PasswordReset(
            token_hash=token_hash(token),
            user_id=user.id,
            created_at=now,
            expires_at=now + timedelta(minutes=RESET_LINK_MINUTES),
        )
    )
    session.flush()
    mail = reset_mail(
        user.email,
        link(settings, f"/password-reset/{token}"),
        RESET_LINK_MINUTES,
        user_locale(user, settings.default_locale),
    )
    try:
        return enqueue(session, mail, f"reset:{token_hash(token)}")
    except MailError:
        return False  # an address that cannot be a header never gets mail


def find_reset(session: Session, token: str, now: datetime | None = None) -> PasswordReset:
    """The open reset behind a link; ResetInvalid when used, expired or unknown."""
    now = now or utcnow()
    if not token or len(token) > 100:
        raise ResetInvalid()
    reset = session.scalar(
        select(PasswordReset).where(PasswordReset.token_hash == token_hash(token))
    )
    if reset is None or reset.used_at is not None or reset.expires_at <= now:
        raise ResetInvalid()
    return reset


def complete_reset(
    session: Session,
    settings: Settings,
    token: str,
    *,
    password: str,
    confirmation: str,
    code: str,
    now: datetime | None = None,
) -> User:
    """Set a new password from a reset link plus a TOTP or recovery code; ends all sessions."""
    now = now or utcnow()
    reset = find_reset(session, token, now)
    user = session.get(User, reset.user_id)
    if user is None or not user.is_active:
        raise ResetInvalid()
    key = email_key(settings, user.email)
    check_not_locked(session, key, now)
    new_hash = checked_password_hash(password, confirmation, user.email)
    if not accept_second_factor(session, user, code):
        record_failure(session, settings, key, now)
        raise InvalidCode()
    user.password_hash = new_hash
    session.execute(
        update(PasswordReset)
        .where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
        .values(used_at=now)
    )
    end_everything(session, user.id)
    audit.record(
        session, actor_id=user.id, action="reset_password", entity_type="user", entity_id=user.id
    )
    session.flush()
    return user


def regenerate_recovery_codes(session: Session, user: User, code: str) -> list[str]:
    """Ten new recovery codes (the old ones stop working), after a current TOTP code."""
    if not accept_totp(session, user, code):
        raise InvalidCode()
    codes = new_recovery_codes(session, user)
    audit.record(
        session,
        actor_id=user.id,
        action="regenerate_recovery_codes",
        entity_type="user",
        entity_id=user.id,
    )
    return codes


def may_manage(actor: User, person: User) -> bool:
    """Secretariat and admins disable or enable others; only an admin touches an admin."""
    if actor.id == person.id or not actor.has_role(Role.SECRETARIAT):
        return False
    return actor.role_enum is Role.ADMIN or person.role_enum is not Role.ADMIN


def set_active(session: Session, actor: User | None, person: User, active: bool) -> int:
    """Enable or disable an account; disabling ends its sessions at once. None: the operator."""
    if actor is not None and not may_manage(actor, person):
        raise NotAllowed()
    ended = 0
    if person.is_active != active:
        audit.record(
            session,
            actor_id=actor.id if actor else None,
            action="enable" if active else "disable",
            entity_type="user",
            entity_id=person.id,
            field="is_active",
            old=person.is_active,
            new=active,
        )
    person.is_active = active
    if not active:
        ended = end_everything(session, person.id)
    session.flush()
    return ended


def open_sessions(
    session: Session, settings: Settings, user: User, now: datetime | None = None
) -> list[UserSession]:
    """The person's sessions that still work (not ended, not idle or past their lifetime)."""
    now = now or utcnow()
    statement = select(UserSession).where(
        UserSession.user_id == user.id,
        UserSession.ended_at.is_(None),
        UserSession.last_seen_at > now - timedelta(minutes=settings.session_idle_minutes),
        UserSession.created_at > now - timedelta(hours=settings.session_absolute_hours),
    )
    return list(session.scalars(statement.order_by(UserSession.last_seen_at.desc())))


def end_session(session: Session, user: User, session_id: str) -> bool:
    """End one of the person's own sessions; False when it is not theirs or already ended."""
    result = session.execute(
        update(UserSession)
        .where(
            UserSession.id == session_id,
            UserSession.user_id == user.id,
            UserSession.ended_at.is_(None),
        )
        .values(**ending_values(utcnow()))
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def end_other_sessions(session: Session, user: User, current_id: str | None) -> int:
    """End every session of the person except the one in use."""
    return end_user_sessions(session, user.id, except_id=current_id)
