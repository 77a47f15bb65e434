"""Accounts: people, their organisations, invitations, second factor and server-side sessions."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from flask_login import UserMixin
from sqlalchemy import JSON, Boolean, Column, ForeignKey, Integer, LargeBinary, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, UTCDateTime, id_column, new_id, utcnow


class Role(enum.StrEnum):
    """What a person may do; ordered from least to most rights."""

    MEMBER = "member"
    CONTACT_POINT = "contact_point"
    ORG_EDITOR = "org_editor"
    SECRETARIAT = "secretariat"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        """Position in the order member < contact_point < org_editor < secretariat < admin."""
        return list(Role).index(self)


user_organization = Table(
    "user_organization",
    Base.metadata,
    Column(
        "user_id", id_column(), ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    ),
    Column(
        "organization_id",
        id_column(),
        ForeignKey("organization.id", ondelete="CASCADE"),
        primary_key=True,
    ),
)


class User(UserMixin, Base):
    """A professional of the network with a login (there are no default or shared accounts)."""

    __tablename__ = "user_account"

    id: Mapped[str] = mapped_column(id_column(), primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(20), default=Role.MEMBER.value)
    password_hash: Mapped[str | None] = mapped_column(String(255), nullable=True)
    totp_secret: Mapped[str | None] = mapped_column(String(64), nullable=True)
    totp_last_counter: Mapped[int | None] = mapped_column(Integer, nullable=True)
    totp_enrolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    locale: Mapped[str | None] = mapped_column(String(5), nullable=True)
    timezone: Mapped[str] = mapped_column(String(40), default="Europe/Brussels")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    organizations: Mapped[list[Any]] = relationship(
        "Organization", secondary=user_organization, lazy="selectin"
    )

    @property
    def role_enum(self) -> Role:
        """The role as an enum member."""
        return Role(self.role)

    def has_role(self, role: Role) -> bool:
        """True when the person's role is ``role`` or above it."""
        return self.role_enum.rank >= role.rank

    @property
    def organization_ids(self) -> set[str]:
        """Ids of the organisations this person belongs to."""
        return {organization.id for organization in self.organizations}


class RecoveryCode(Base):
    """A single-use code that replaces the TOTP code once, stored as a hash."""

    __tablename__ = "recovery_code"

    id: Mapped[str] = mapped_column(id_column(), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(
        id_column(), ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(String(255))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Invitation(Base):
    """A single-use, expiring invitation to join; only the token's hash is stored."""

    __tablename__ = "invitation"

    id: Mapped[str] = mapped_column(id_column(), primary_key=True, default=new_id)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(20))
    organization_id: Mapped[str | None] = mapped_column(
        id_column(), ForeignKey("organization.id", ondelete="CASCADE"), nullable=True
    )
    invited_by_id: Mapped[str | None] = mapped_column(
        id_column(), ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class PasswordReset(Base):
    """A single-use, expiring password-reset link; only the token's hash is stored."""

    __tablename__ = "password_reset"

    id: Mapped[str] = mapped_column(id_column(), primary_key=True, default=new_id)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[str] = mapped_column(
        id_column(), ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class LoginThrottle(Base):
    """Failed sign-ins per account key (the e-mail's hash), whether the account exists or not."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    first_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class UserSession(Base):
    """A browser session held on the server; the cookie carries only a random id.

    ``id`` is the SHA-256 of the cookie value, so a copy of the table cannot be replayed.
    """

    __tablename__ = "user_session"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str | None] = mapped_column(
        id_column(), ForeignKey("user_account.id", ondelete="CASCADE"), index=True, nullable=True
    )
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    authenticated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # The per-session "unlock wrapping key" (32 random bytes) under which the browser keeps its
    # unlocked private keys; handed only to this session, cleared when the session ends.
    unlock_key: Mapped[bytes | None] = mapped_column(LargeBinary(32), nullable=True)
