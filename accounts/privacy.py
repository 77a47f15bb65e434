"""GDPR for accounts: what Liaison holds on a person with an account, for a subject-access export.

Secrets are never exported: the password hash, the TOTP secret, recovery codes and token
hashes are named as existing (or not) so the person knows they are held. Sessions are listed by
their times and browser, never by their identifiers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from accounts.api_tokens import ApiToken
from accounts.models import Invitation, PasswordReset, RecoveryCode, User, UserSession
from core.audit import AuditEntry
from directory.privacy import audit_json


def stamp(value: datetime | None) -> str | None:
    """A time as ``YYYY-MM-DDTHH:MM:SSZ`` (UTC), or None."""
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def find_account(session: Session, email: str) -> User | None:
    """The account with this e-mail address (case-insensitive), if any."""
    address = email.strip().lower()
    return session.scalar(select(User).where(func.lower(User.email) == address))


def account_json(session: Session, user: User) -> dict[str, Any]:
    """The account's own fields, with the secrets named but not given."""
    codes = list(session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user.id)))
    return {
        "id": user.id,
        "email": user.email,
        "display_name": user.display_name,
        "role": user.role,
        "locale": user.locale,
        "timezone": user.timezone,
        "is_active": user.is_active,
        "created_at": stamp(user.created_at),
        "last_login_at": stamp(user.last_login_at),
        "second_factor_enrolled_at": stamp(user.totp_enrolled_at),
        "secrets_held_but_not_exported": {
            "password_hash": user.password_hash is not None,
            "totp_secret": user.totp_secret is not None,
            "recovery_codes": len(codes),
            "recovery_codes_unused": sum(code.used_at is None for code in codes),
        },
    }


def memberships_json(user: User) -> list[dict[str, Any]]:
    """The organisations the person belongs to."""
    return [
        {"id": o.id, "ref": o.ref, "name": o.name, "country": o.country}
        for o in sorted(user.organizations, key=lambda o: o.name)
    ]


def sessions_json(session: Session, user: User) -> list[dict[str, Any]]:
    """Browser sessions: when they started, were last used and ended, and the browser named."""
    rows = session.scalars(
        select(UserSession)
        .where(UserSession.user_id == user.id)
        .order_by(UserSession.created_at.desc())
    )
    return [
        {
            "created_at": stamp(row.created_at),
            "last_seen_at": stamp(row.last_seen_at),
            "signed_in_at": stamp(row.authenticated_at),
            "ended_at": stamp(row.ended_at),
            "browser": row.user_agent,
        }
        for row in rows
    ]


def tokens_json(session: Session, user: User) -> list[dict[str, Any]]:
    """API tokens by label and times (the token itself is stored only as a hash)."""
    rows = session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.created_at)
    )
    return [
        {
            "label": row.label,
            "created_at": stamp(row.created_at),
            "expires_at": stamp(row.expires_at),
            "last_used_at": stamp(row.last_used_at),
            "revoked_at": stamp(row.revoked_at),
        }
        for row in rows
    ]


def invitations_json(session: Session, email: str) -> list[dict[str, Any]]:
    """Invitations sent to this address (the link is stored only as a hash)."""
    rows = session.scalars(
        select(Invitation)
        .where(func.lower(Invitation.email) == email.strip().lower())
        .order_by(Invitation.created_at)
    )
    return [
        {
            "role": row.role,
            "organisation_id": row.organization_id,
            "created_at": stamp(row.created_at),
            "expires_at": stamp(row.expires_at),
            "accepted_at": stamp(row.accepted_at),
            "revoked_at": stamp(row.revoked_at),
        }
        for row in rows
    ]


def password_resets_json(session: Session, user: User) -> list[dict[str, Any]]:
    """Password-reset links asked for (times only)."""
    rows = session.scalars(
        select(PasswordReset)
        .where(PasswordReset.user_id == user.id)
        .order_by(PasswordReset.created_at)
    )
    return [
        {
            "created_at": stamp(row.created_at),
            "expires_at": stamp(row.expires_at),
            "used_at": stamp(row.used_at),
        }
        for row in rows
    ]


def audit_about_person(session: Session, user: User) -> dict[str, list[dict[str, Any]]]:
    """Audit entries the person made, and those about their account.

    Entries they made about someone else (another account or a contact person) are listed
    without their values: those values are the other person's data.
    """
    made = session.scalars(
        select(AuditEntry).where(AuditEntry.actor_id == user.id).order_by(AuditEntry.at)
    )
    invited = select(Invitation.id).where(func.lower(Invitation.email) == user.email.lower())
    about = session.scalars(
        select(AuditEntry)
        .where(
            or_(
                and_(AuditEntry.entity_type == "user", AuditEntry.entity_id == user.id),
                and_(AuditEntry.entity_type == "invitation", AuditEntry.entity_id.in_(invited)),
            )
        )
        .order_by(AuditEntry.at)
    )
    others = {"user", "contact", "invitation"}
    return {
        "made_by_them": [
            audit_json(e, values=e.entity_type not in others or e.entity_id == user.id)
            for e in made
        ],
        "about_them": [audit_json(e) for e in about],
    }
