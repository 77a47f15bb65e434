"""``liaison users``: invitations and account administration."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from accounts import invitations, services
from accounts.errors import AccountError
from accounts.login import find_user_by_email
from accounts.mails import invitation_locale, invitation_mail
from accounts.models import Role, User
from config import Settings
from core.db import utcnow
from core.i18n import LOCALES
from core.mail import MailError
from core.mail_outbox import MailOutbox, enqueue, send_due


@contextmanager
def _database() -> Iterator[tuple[Settings, Session]]:
    from core.cli import Context

    context = click.get_current_context().ensure_object(Context)
    settings = context.settings
    database = context.database()
    try:
        with database.session() as session:
            yield settings, session
    finally:
        database.dispose()


def _organization_id(session: Session, reference: str | None) -> str | None:
    if not reference:
        return None
    from directory.models import Organization

    found = session.scalar(
        select(Organization).where(or_(Organization.id == reference, Organization.ref == reference))
    )
    if found is None:
        raise click.ClickException(f"no organisation with id or ref {reference!r}")
    return found.id


@click.group()
def users() -> None:
    """People and their accounts."""


@users.command("invite")
@click.option("--email", required=True, help="Address of the person invited.")
@click.option("--org", "organization", default=None, help="Organisation ref or id.")
@click.option(
    "--role",
    type=click.Choice([role.value for role in Role]),
    default=Role.MEMBER.value,
    show_default=True,
)
@click.option("--mail/--no-mail", default=True, help="Also e-mail the link.", show_default=True)
@click.option(
    "--language",
    type=click.Choice(list(LOCALES)),
    default=None,
    help="Language of the e-mail (default: the organisation's, else LIAISON_DEFAULT_LOCALE).",
)
def invite(
    email: str, organization: str | None, role: str, mail: bool, language: str | None
) -> None:
    """Invite someone and print their single-use link (e.g. the first secretariat account)."""
    with _database() as (settings, session):
        try:
            invitation, link = invitations.invite(
                session,
                settings,
                email=email,
                role=role,
                organization_id=_organization_id(session, organization),
                invited_by=None,
            )
        except AccountError as error:
            raise click.ClickException(error.english()) from None
        expires = invitation.expires_at.strftime("%Y-%m-%d %H:%M")
        queued = False
        if mail:
            locale = invitation_locale(
                session, language, invitation.organization_id, settings.default_locale
            )
            letter = invitation_mail(invitation.email, link, None, invitation.expires_at, locale)
            try:
                queued = enqueue(session, letter, f"invite:{invitation.id}")
            except MailError as error:
                click.echo(
                    f"The e-mail cannot be sent ({error}); give the link yourself.", err=True
                )
        session.commit()
        sent = queued and _send_now(settings, f"invite:{invitation.id}")
    click.echo(f"Invitation for {invitation.email} ({role}), valid until {expires} UTC:")
    click.echo(link)
    if sent:
        click.echo("The link was also sent by e-mail.")
    elif queued:
        click.echo(
            "The e-mail could not be sent yet; `liaison jobs` retries it. "
            "You may give the link yourself.",
            err=True,
        )


def _send_now(settings: Settings, dedupe_key: str) -> bool:
    """Send queued e-mail at once (a command has no jobs process behind it); True when the
    SMTP server accepted the one named ``dedupe_key``."""
    from core.cli import Context

    database = click.get_current_context().ensure_object(Context).database()
    send_due(settings, database)
    with database.session() as session:
        sent = session.scalar(select(MailOutbox.sent_at).where(MailOutbox.dedupe_key == dedupe_key))
    return sent is not None


@users.command("bootstrap")
@click.option("--email", default="", help="Address of the first account (asked in the browser).")
def bootstrap(email: str) -> None:
    """On a new instance: print a one-time link for the first secretariat account."""
    with _database() as (settings, session):
        count = session.scalar(select(func.count()).select_from(User)) or 0
        if count:
            click.echo(f"Liaison: open {settings.base_url}")
            return
        invitations.revoke_pending(session, now=utcnow())
        if email:
            invitations.revoke_pending(session, email=email.strip().lower(), now=utcnow())
        try:
            _, link = invitations.invite(
                session,
                settings,
                email=email,
                role=Role.SECRETARIAT,
                organization_id=None,
                invited_by=None,
            )
        except AccountError as error:
            raise click.ClickException(error.english()) from None
        session.commit()
    click.echo(f"Open {settings.base_url} — Liaison has no accounts yet.")
    click.echo(f"Create the first secretariat account with this one-time link: {link}")
    click.echo(f"(It works once and expires in {settings.invitation_hours} hours.)")


def _row(user: User) -> dict[str, Any]:
    return {
        "email": user.email,
        "role": user.role,
        "status": "active" if user.is_active else "disabled",
        "organisations": ",".join(sorted(o.ref for o in user.organizations)) or "-",
        "last sign-in": user.last_login_at.strftime("%Y-%m-%d %H:%M")
        if user.last_login_at
        else "-",
    }


@users.command("list")
def list_users() -> None:
    """Every account with its role, status and organisations."""
    with _database() as (_, session):
        rows = [_row(user) for user in session.scalars(select(User).order_by(User.email))]
    if not rows:
        click.echo("no accounts yet (see: liaison users bootstrap)")
        return
    headers = list(rows[0])
    widths = {h: max(len(h), *(len(str(r[h])) for r in rows)) for h in headers}
    click.echo("  ".join(h.ljust(widths[h]) for h in headers))
    for row in rows:
        click.echo("  ".join(str(row[h]).ljust(widths[h]) for h in headers))


def _set_active(email: str, active: bool) -> None:
    with _database() as (_, session):
        user = find_user_by_email(session, email)
        if user is None:
            raise click.ClickException(f"no account with the address {email}")
        ended = services.set_active(session, None, user, active)
        session.commit()
    if active:
        click.echo(f"{user.email} can sign in again")
    else:
        click.echo(f"{user.email} is disabled; {ended} session(s) ended")


@users.command("disable")
@click.option("--email", required=True)
def disable(email: str) -> None:
    """Stop an account from signing in and end its sessions at once."""
    _set_active(email, False)


@users.command("enable")
@click.option("--email", required=True)
def enable(email: str) -> None:
    """Let a disabled account sign in again."""
    _set_active(email, True)


@users.command("export")
@click.argument("email")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    default="-",
    show_default=True,
    help="File to write the JSON to; - for standard output.",
)
def export(email: str, output: str) -> None:
    """Export everything stored about the person with EMAIL (GDPR) as JSON."""
    import json

    from messaging.privacy import export_person, record_export

    with _database() as (_, session):
        data = export_person(session, email, utcnow())
        record_export(session, None, data)
        session.commit()
    with click.open_file(output, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    if data["account"] is None and not data["directory_contact_entries"]:
        click.echo(f"note: no account and no directory entry has the address {email}", err=True)
