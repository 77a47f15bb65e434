"""The e-mails of the accounts part, each in one language: the recipient's.

The language is the person's own choice when they have one, else their organisation's first
working language, else English (``mail_locale``); an invitation is written in the language the
inviter chose, else the organisation's. The texts come from the same catalogues as the screens
(web/translations/*/accounts.po); times are written in that language, in Brussels time.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from core.i18n import format_datetime, mail_locale, translator
from core.mail import Mail

INVITATION_SUBJECT = "Invitation to Liaison"
INVITATION_BODY = (
    "%(inviter)s invites you to Liaison, the directory and secure messaging service of the "
    "Benelux anti-trafficking network.\n"
    "Open this link to create your account (it works once, until %(expires)s, Brussels "
    "time):\n%(link)s"
)
RESET_SUBJECT = "Reset your Liaison password"
RESET_BODY = (
    "Someone asked to reset the password of your Liaison account. If it was you, open this "
    "link within %(minutes)s minutes; you will also need a code from your authenticator app "
    "or a recovery code:\n%(link)s\nIf it was not you, ignore this message: nothing changes."
)
SECRETARIAT = "The secretariat"


def user_locale(user: Any, default: str = "en") -> str:
    """The language to write to an account holder in (see ``mail_locale``)."""
    languages: list[str] = []
    for organization in getattr(user, "organizations", None) or []:
        languages.extend(organization.language_codes)
    return mail_locale(getattr(user, "locale", None), languages, default)


def invitation_locale(
    session: Session, chosen: str | None, organization_id: str | None, default: str = "en"
) -> str:
    """The invitation's language: the inviter's choice, else the organisation's first working
    language, else ``default``."""
    from directory.models import Organization

    organization = session.get(Organization, organization_id) if organization_id else None
    languages = organization.language_codes if organization is not None else []
    return mail_locale(chosen, languages, default)


def invitation_mail(
    to: str, link: str, inviter: str | None, expires: datetime, locale: str = "en"
) -> Mail:
    """The invitation with its single-use link, in ``locale``."""
    texts = translator(locale)
    body = texts.gettext(
        INVITATION_BODY,
        inviter=inviter or texts.gettext(SECRETARIAT),
        link=link,
        expires=format_datetime(expires, locale, "Europe/Brussels"),
    )
    return Mail(to=to, subject=texts.gettext(INVITATION_SUBJECT), body=body + "\n")


def reset_mail(to: str, link: str, minutes: int, locale: str = "en") -> Mail:
    """The password-reset link, in ``locale``."""
    texts = translator(locale)
    body = texts.gettext(RESET_BODY, link=link, minutes=minutes)
    return Mail(to=to, subject=texts.gettext(RESET_SUBJECT), body=body + "\n")
