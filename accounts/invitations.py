"""Invitations: the only way in. Single-use, expiring links; only the token's hash is stored.

Who may invite whom: secretariat and admin invite anyone into any organisation (an admin only by
an admin); an organisation editor invites members, contact points and editors into their own
organisations only; members and contact points invite nobody.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from accounts.errors import InvalidInput, InvitationInvalid, NotAllowed
from accounts.login import find_user_by_email
from accounts.models import Invitation, Role, User
from accounts.tokens import link, new_token, token_hash
from config import Settings
from core import audit
from core.db import utcnow
from directory.models import Organization

ROLES_IN_AN_ORGANISATION = {Role.MEMBER, Role.CONTACT_POINT, Role.ORG_EDITOR}


def normalize_email(email: str, field: str = "email") -> str:
    """A syntactically valid address, lower-cased; raises InvalidInput otherwise."""
    try:
        checked = validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError:
        raise InvalidInput(field, "Enter a valid e-mail address.") from None
    return str(checked.normalized).lower()


def invitable_roles(inviter: User | None) -> list[Role]:
    """The roles ``inviter`` may give (None: the operator at the command line)."""
    if inviter is None or inviter.role_enum is Role.ADMIN:
        return list(Role)
    if inviter.role_enum is Role.SECRETARIAT:
        return [role for role in Role if role is not Role.ADMIN]
    if inviter.role_enum is Role.ORG_EDITOR:
        return [Role.MEMBER, Role.CONTACT_POINT, Role.ORG_EDITOR]
    return []


def may_invite(inviter: User | None, role: Role, organization_id: str | None) -> bool:
    """True when ``inviter`` may invite someone with ``role`` into ``organization_id``."""
    if role not in invitable_roles(inviter):
        return False
    if inviter is not None and not inviter.has_role(Role.SECRETARIAT):
        return organization_id is not None and organization_id in inviter.organization_ids
    return True


def invite(
    session: Session,
    settings: Settings,
    *,
    email: str,
    role: Role | str,
    organization_id: str | None,
    invited_by: User | None,
    now: datetime | None = None,
) -> tuple[Invitation, str]:
    """Create an invitation and return it with its link (the only time the link exists)."""
    now = now or utcnow()
    try:
        role = Role(role)
    except ValueError:
        raise InvalidInput("role", "Choose a role.") from None
    address = normalize_email(email) if email else ""
    if role in ROLES_IN_AN_ORGANISATION and not organization_id:
        raise InvalidInput("organization", "Choose the organisation this person works for.")
    if organization_id and session.get(Organization, organization_id) is None:
        raise InvalidInput("organization", "Choose the organisation this person works for.")
    if not may_invite(invited_by, role, organization_id):
        raise NotAllowed()
    if address and find_user_by_email(session, address) is not None:
        raise InvalidInput("email", "An account with this e-mail address already exists.")
    if address:
        revoke_pending(session, email=address, now=now)
    token = new_token()
    invitation = Invitation(
        token_hash=token_hash(token),
        email=address,
        role=role.value,
        organization_id=organization_id,
        invited_by_id=invited_by.id if invited_by else None,
        created_at=now,
        expires_at=now + timedelta(hours=settings.invitation_hours),
    )
    session.add(invitation)
    session.flush()
    audit.record(
        session,
        actor_id=invited_by.id if invited_by else None,
        action="invite",
        entity_type="invitation",
        entity_id=invitation.id,
        organization_id=organization_id,
        new={"email": address, "role": role.value},
    )
    return invitation, invitation_link(settings, token)


def invitation_link(settings: Settings, token: str) -> str:
    """The absolute link a person opens to accept."""
    return link(settings, f"/invitations/{token}")


def revoke_pending(session: Session, *, email: str | None = None, now: datetime) -> int:
    """Withdraw open invitations (for one address, or the open-address bootstrap ones)."""
    statement = update(Invitation).where(
        Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None)
    )
    if email is None:
        statement = statement.where(Invitation.email == "", Invitation.invited_by_id.is_(None))
    else:
        statement = statement.where(Invitation.email == email)
    result = session.execute(statement.values(revoked_at=now))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def find_open(session: Session, token: str, now: datetime | None = None) -> Invitation:
    """The open invitation behind a link; InvitationInvalid when used, revoked or expired."""
    now = now or utcnow()
    if not token or len(token) > 100:
        raise InvitationInvalid()
    invitation = session.scalar(
        select(Invitation).where(Invitation.token_hash == token_hash(token))
    )
    if (
        invitation is None
        or invitation.accepted_at is not None
        or invitation.revoked_at is not None
        or invitation.expires_at <= now
    ):
        raise InvitationInvalid()
    return invitation


def accept(
    session: Session,
    token: str,
    *,
    email: str,
    display_name: str,
    password_hash: str,
    totp_secret: str,
    totp_counter: int,
    now: datetime | None = None,
) -> User:
    """Turn an invitation into an active account (password and TOTP already checked)."""
    now = now or utcnow()
    invitation = find_open(session, token, now)
    address = invitation.email or email
    if find_user_by_email(session, address) is not None:
        raise InvalidInput("email", "An account with this e-mail address already exists.")
    claimed = session.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.accepted_at.is_(None))
        .values(accepted_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise InvitationInvalid()
    user = User(
        email=address,
        display_name=display_name,
        role=invitation.role,
        password_hash=password_hash,
        totp_secret=totp_secret,
        totp_last_counter=totp_counter,
        totp_enrolled_at=now,
        is_active=True,
        created_at=now,
    )
    if invitation.organization_id:
        organization = session.get(Organization, invitation.organization_id)
        if organization is not None:
            user.organizations = [organization]
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor_id=user.id,
        action="accept_invitation",
        entity_type="user",
        entity_id=user.id,
        organization_id=invitation.organization_id,
        new={"email": address, "role": invitation.role},
    )
    return user


def pending(session: Session, organization_ids: set[str] | None = None) -> list[Invitation]:
    """Open invitations, newest first (only those of some organisations when given)."""
    now = utcnow()
    statement = select(Invitation).where(
        Invitation.accepted_at.is_(None),
        Invitation.revoked_at.is_(None),
        Invitation.expires_at > now,
    )
    if organization_ids is not None:
        statement = statement.where(Invitation.organization_id.in_(organization_ids or {""}))
    return list(session.scalars(statement.order_by(Invitation.created_at.desc())))
