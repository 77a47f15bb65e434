"""The e-mails of the accounts part, in Dutch, French, German and English at once.

The recipient's language is not known before they sign in, so each mail carries all four;
the texts come from the same catalogues as the screens (web/translations/*/accounts.po).
"""

from __future__ import annotations

from functools import cache

from core.i18n import load_catalogues
from core.mail import Mail

MAIL_LANGUAGES = ("nl", "fr", "de", "en")

INVITATION_SUBJECT = "Invitation to Liaison"
INVITATION_BODY = (
    "%(inviter)s invites you to Liaison, the directory and secure messaging service of the "
    "Benelux anti-trafficking network.\n"
    "Open this link to create your account (it works once, until %(expires)s UTC):\n%(link)s"
)
RESET_SUBJECT = "Reset your Liaison password"
RESET_BODY = (
    "Someone asked to reset the password of your Liaison account. If it was you, open this "
    "link within %(minutes)s minutes; you will also need a code from your authenticator app "
    "or a recovery code:\n%(link)s\nIf it was not you, ignore this message: nothing changes."
)


@cache
def _catalogues() -> dict[str, dict[str, str]]:
    return load_catalogues()


def _in(locale: str, text: str) -> str:
    return _catalogues().get(locale, {}).get(text, text)


def _multilingual(subject: str, body: str, values: dict[str, object]) -> tuple[str, str]:
    subjects = []
    bodies = []
    for locale in MAIL_LANGUAGES:
        translated_subject = _in(locale, subject)
        if translated_subject not in subjects:
            subjects.append(translated_subject)
        bodies.append(_in(locale, body) % values)
    return " / ".join(subjects), "\n\n----\n\n".join(bodies) + "\n"


def invitation_mail(to: str, link: str, inviter: str, expires: str) -> Mail:
    """The invitation with its single-use link."""
    subject, body = _multilingual(
        INVITATION_SUBJECT,
        INVITATION_BODY,
        {"inviter": inviter, "link": link, "expires": expires},
    )
    return Mail(to=to, subject=subject, body=body)


def reset_mail(to: str, link: str, minutes: int) -> Mail:
    """The password-reset link."""
    subject, body = _multilingual(RESET_SUBJECT, RESET_BODY, {"link": link, "minutes": minutes})
    return Mail(to=to, subject=subject, body=body)
