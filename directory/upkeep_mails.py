"""The e-mails of directory upkeep, each in the recipient's language (NL, FR, DE or EN).

They carry directory data only (organisation names, proposed field values), never case data, and
never a value the recipient may not see: no street address, no secretariat-only phone or entry.
Texts come from ``web/translations/*/upkeep.po``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from functools import cache
from typing import Any

from core.i18n import format_date, format_datetime, format_number, load_catalogues, translator
from core.mail import Mail
from directory.changes import CODE_VOCABULARIES, FIELD_LABELS, FLAG_FIELDS, LIST_FIELDS
from directory.models import ChangeRequest, Organization, Phone
from directory.taxonomy import load_taxonomy

VERIFY_SUBJECT = "Is your Liaison directory entry still correct?"
VERIFY_BODY = (
    "The directory entry of %(organisation)s is due for review on %(due)s.\n"
    "Please open this link, sign in, and confirm that the entry is current or propose "
    "corrections. The link works once, until %(expires)s (Brussels time); on its own it "
    "changes nothing.\n%(link)s"
)
DECISION_SUBJECT = "Your proposed change to %(organisation)s"
APPROVED_BODY = "The secretariat approved your proposed change to %(organisation)s."
REJECTED_BODY = "The secretariat did not approve your proposed change to %(organisation)s."
NOTE_LINE = "Note from the secretariat: %(note)s"
FIELDS_LINE = "Fields proposed:"
DETAILS_LINE = "Details: %(link)s"
DIGEST_SUBJECT = "Liaison: directory entries overdue for review"
DIGEST_BODY = (
    "These directory entries are past their review day (%(count)s). Their contact points were "
    "asked to confirm or correct them."
)
DIGEST_ROW = "%(organisation)s: due on %(due)s, %(count)s day overdue"
DIGEST_ROWS = "%(organisation)s: due on %(due)s, %(count)s days overdue"
DIGEST_LINK = "The list: %(link)s"
YES, NO, EMPTY = "Yes", "No", "(empty)"


@cache
def _catalogues() -> dict[str, dict[str, str]]:
    return load_catalogues()


def _in(locale: str, text: str) -> str:
    return _catalogues().get(locale, {}).get(text, text)


def display_value(
    field: str, value: Any, locale: str, translate: Callable[[str], str] | None = None
) -> str:
    """A proposed or current value as a reader sees it: labels for codes, Yes/No for flags."""
    translate = translate or (lambda text: _in(locale, text))
    if field in FLAG_FIELDS:
        return translate(YES if value else NO)
    if field in LIST_FIELDS:
        taxonomy = load_taxonomy()
        vocabulary = CODE_VOCABULARIES[field]
        labels = [taxonomy.label(vocabulary, str(code), locale) for code in value or []]
        return ", ".join(labels) or translate(EMPTY)
    if value is None or value == "":
        return translate(EMPTY)
    return str(value)


def _mail(
    to: str, locale: str, subject: str, subject_values: dict[str, Any], lines: list[str]
) -> Mail:
    """One e-mail in one language (the recipient's)."""
    return Mail(to=to, subject=_in(locale, subject) % subject_values, body="\n".join(lines) + "\n")


def verification_mail(
    to: str, organisation: str, due: date, link: str, expires: datetime, *, locale: str = "en"
) -> Mail:
    """The request to confirm or correct an entry, with its signed link, in ``locale``."""
    values = {
        "organisation": organisation,
        "due": format_date(due, locale),
        "link": link,
        "expires": format_datetime(expires, locale, "Europe/Brussels"),
    }
    return _mail(to, locale, VERIFY_SUBJECT, {}, [_in(locale, VERIFY_BODY) % values])


def _shown(organization: Organization, field: str) -> bool:
    """May the field's value go into an e-mail? Not for secretariat-only entries or phones."""
    if organization.visibility == "secretariat":
        return False
    phones: list[Phone] = [p for p in organization.phones if p.contact_id is None]
    emergency = {"phone": False, "emergency_phone": True}.get(field)
    if emergency is None:
        return True
    return not any(p.is_emergency == emergency and p.visibility == "secretariat" for p in phones)


def decision_mail(
    to: str, organization: Organization, request: ChangeRequest, link: str, locale: str = "en"
) -> Mail:
    """Tell the proposer, in ``locale``, that their change was approved or rejected, and why."""
    names = {"organisation": organization.name}

    def paragraphs() -> list[str]:
        lines = [
            _in(locale, APPROVED_BODY if request.status == "approved" else REJECTED_BODY) % names
        ]
        if request.review_note:
            lines.append(_in(locale, NOTE_LINE) % {"note": request.review_note})
        lines.append(_in(locale, FIELDS_LINE))
        for field, label in FIELD_LABELS.items():
            if field not in request.changes:
                continue
            if _shown(organization, field):
                value = display_value(field, request.changes[field], locale)
                lines.append(f"- {_in(locale, label)}: {value}")
            else:
                lines.append(f"- {_in(locale, label)}")
        lines.append(_in(locale, DETAILS_LINE) % {"link": link})
        return lines

    return _mail(to, locale, DECISION_SUBJECT, names, paragraphs())


def overdue_digest(
    to: str, rows: Sequence[tuple[str, date, int]], link: str, locale: str = "en"
) -> Mail:
    """The secretariat's daily list of overdue entries (organisation names and days only)."""
    texts = translator(locale)
    lines = [texts.gettext(DIGEST_BODY, count=format_number(len(rows), locale))]
    for name, due, days in rows:
        row = texts.ngettext(
            DIGEST_ROW, DIGEST_ROWS, days, organisation=name, due=format_date(due, locale)
        )
        lines.append("- " + row)
    lines.append(texts.gettext(DIGEST_LINK, link=link))
    return _mail(to, locale, DIGEST_SUBJECT, {}, lines)
