"""The interface language: NL, FR, DE or EN, chosen from the browser, changeable, remembered.

Catalogues are gettext ``.po`` files, ``web/translations/<lang>/*.po`` (one per part), read
at start-up with Babel (no compile step). A missing translation falls back to the English text.
Count phrases use gettext plural entries (``msgid_plural``) chosen by each catalogue's
``Plural-Forms`` header. Dates, times, numbers and sizes are formatted with Babel for the
reader's language and time zone (the account's, else Europe/Brussels); English uses the
British conventions (day before month, 24-hour clock) of the Benelux network.
"""

from __future__ import annotations

import gettext as stdlib_gettext
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import dates as babel_dates
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.units import format_unit
from flask import Flask, g, has_request_context, redirect, request, session
from markupsafe import Markup
from werkzeug.wrappers import Response

LOCALES = ("nl", "fr", "de", "en")
LOCALE_NAMES = {"nl": "Nederlands", "fr": "Français", "de": "Deutsch", "en": "English"}
TRANSLATIONS_DIR = Path(__file__).resolve().parent.parent / "web" / "translations"
DEFAULT_ZONE = "Europe/Brussels"
# The Babel locale used to format dates and numbers for each interface language; English
# readers in the Benelux get day-month order and the 24-hour clock.
FORMAT_LOCALES = {"nl": "nl_BE", "fr": "fr_BE", "de": "de_BE", "en": "en_GB"}
# The same for the browser's Intl API (BCP 47 tags), exposed to pages as ``<html data-…>``.
INTL_LOCALES = {"nl": "nl-BE", "fr": "fr-BE", "de": "de-BE", "en": "en-GB"}
_SIZE_UNITS = ("digital-byte", "digital-kilobyte", "digital-megabyte", "digital-gigabyte")


@dataclass(frozen=True)
class Translator:
    """One language's catalogue: plain texts, plural texts and the plural rule."""

    locale: str
    messages: dict[str, str] = field(default_factory=dict)
    plurals: dict[str, tuple[str, ...]] = field(default_factory=dict)
    plural_rule: Callable[[int], int] = field(default=lambda n: int(n != 1))

    def gettext(self, text: str, **values: Any) -> str:
        """``text`` in this language (English when untranslated), filled with ``values``."""
        translated = self.messages.get(text, text)
        return translated % values if values else translated

    def pick(self, singular: str, plural: str, count: int) -> str:
        """The catalogue form of a count phrase for ``count`` (untranslated: English rule)."""
        forms = self.plurals.get(singular)
        if forms:
            index = self.plural_rule(count)
            if 0 <= index < len(forms) and forms[index]:
                return forms[index]
        return singular if count == 1 else plural

    def ngettext(self, singular: str, plural: str, count: int, **values: Any) -> str:
        """A count phrase in this language; ``%(count)s`` is the count formatted locally."""
        values = {"count": format_number(count, self.locale), **values}
        return self.pick(singular, plural, count) % values


def load_catalogues(directory: Path = TRANSLATIONS_DIR) -> dict[str, dict[str, str]]:
    """Every language's msgid → msgstr map, skipping empty and fuzzy entries."""
    catalogues: dict[str, dict[str, str]] = {locale: {} for locale in LOCALES}
    for locale in LOCALES:
        for path in sorted((directory / locale).glob("*.po")):
            with path.open("rb") as handle:
                catalogue = read_po(handle, locale=locale)
            for message in catalogue:
                if (
                    message.id
                    and message.string
                    and not message.fuzzy
                    and isinstance(message.id, str)
                ):
                    catalogues[locale][message.id] = str(message.string)
    return catalogues


def _read_translator(directory: Path, locale: str) -> Translator:
    messages: dict[str, str] = {}
    plurals: dict[str, tuple[str, ...]] = {}
    plural_expr = ""
    for path in sorted((directory / locale).glob("*.po")):
        with path.open("rb") as handle:
            catalogue = read_po(handle, locale=locale)
        has_header = any(name.lower() == "plural-forms" for name, _ in catalogue.mime_headers)
        if has_header and not plural_expr:
            plural_expr = str(catalogue.plural_expr)
        for message in catalogue:
            if not message.id or message.fuzzy:
                continue
            if isinstance(message.id, str):
                if message.string:
                    messages[message.id] = str(message.string)
            elif isinstance(message.string, (tuple, list)) and any(message.string):
                plurals[str(message.id[0])] = tuple(str(form) for form in message.string)
    rule = stdlib_gettext.c2py(plural_expr or "(n != 1)")
    return Translator(locale, messages, plurals, rule)


@cache
def translators(directory: Path = TRANSLATIONS_DIR) -> dict[str, Translator]:
    """Every language's catalogue (read once per process)."""
    return {locale: _read_translator(directory, locale) for locale in LOCALES}


def translator(locale: str | None) -> Translator:
    """The catalogue of ``locale`` (English for anything else)."""
    found = translators()
    return found.get(locale or "en") or found["en"]


def mail_locale(
    preferred: str | None, working_languages: list[str] | None = None, default: str = "en"
) -> str:
    """The one language of an e-mail: the person's choice, else their organisation's first
    working language we have, else ``default`` (English unless configured otherwise)."""
    if preferred in LOCALES:
        return str(preferred)
    for language in working_languages or []:
        if language in LOCALES:
            return language
    return default


def _format_locale(locale: str | None) -> str:
    return FORMAT_LOCALES.get(locale or "", FORMAT_LOCALES["en"])


def _reader_locale(locale: str | None) -> str:
    if locale:
        return locale
    return current_locale() if has_request_context() else "en"


def reader_zone(zone: str | None = None) -> ZoneInfo:
    """The given time zone, else the signed-in person's, else Europe/Brussels."""
    if zone is None and has_request_context():
        zone = getattr(g.get("user"), "timezone", None)
    try:
        return ZoneInfo(zone or DEFAULT_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_ZONE)


def format_number(value: float | int | None, locale: str | None = None) -> str:
    """A number with the language's grouping and decimal signs (1.234,5 / 1 234,5 / 1,234.5)."""
    if value is None:
        return ""
    return str(format_decimal(value, locale=_format_locale(_reader_locale(locale))))


def format_size(size: int | None, locale: str | None = None) -> str:
    """A size in bytes as people read it: ``4,8 MB`` (nl, de), ``4,8 Mo`` (fr), ``4.8 MB`` (en)."""
    if size is None:
        return ""
    value = float(size)
    unit = 0
    while value >= 1024 and unit < len(_SIZE_UNITS) - 1:
        value /= 1024
        unit += 1
    pattern = "#,##0" if unit == 0 else "#,##0.#"
    return str(
        format_unit(
            value,
            _SIZE_UNITS[unit],
            length="short",
            format=pattern,
            locale=_format_locale(_reader_locale(locale)),
        )
    )


def _local(value: datetime, zone: str | None) -> datetime:
    if value.tzinfo is None:  # the database's times are UTC
        value = value.replace(tzinfo=ZoneInfo("UTC"))
    return value.astimezone(reader_zone(zone))


def format_date(
    value: date | datetime | None, locale: str | None = None, zone: str | None = None
) -> str:
    """A calendar date written out (``5 december 2026``); a UTC time gives the reader's date."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = _local(value, zone).date()
    babel_locale = _format_locale(_reader_locale(locale))
    return str(babel_dates.format_date(value, "long", locale=babel_locale))


def format_time(
    value: datetime | time | None, locale: str | None = None, zone: str | None = None
) -> str:
    """A time of day in the reader's time zone (``19:10``)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = _local(value, zone).time()
    babel_locale = _format_locale(_reader_locale(locale))
    return str(babel_dates.format_time(value, "short", locale=babel_locale))


def format_datetime(
    value: datetime | None, locale: str | None = None, zone: str | None = None
) -> str:
    """A moment in the reader's time zone and language (``5 dec 2026 19:10``)."""
    if value is None:
        return ""
    moment = _local(value, zone)
    babel_locale = _format_locale(_reader_locale(locale))
    pattern = str(babel_dates.get_datetime_format("medium", locale=babel_locale))
    return pattern.replace(
        "{1}", str(babel_dates.format_date(moment.date(), "medium", locale=babel_locale))
    ).replace("{0}", str(babel_dates.format_time(moment.time(), "short", locale=babel_locale)))


def select_locale() -> str:
    """The person's choice (session, then account), else the browser's best match, else EN."""
    chosen = session.get("locale")
    if chosen in LOCALES:
        return str(chosen)
    user = g.get("user")
    if user is not None and getattr(user, "locale", None) in LOCALES:
        return str(user.locale)
    return request.accept_languages.best_match(LOCALES) or "en"


def current_locale() -> str:
    """The language of the response being built."""
    if "locale" not in g:
        g.locale = select_locale()
    return str(g.locale)


def init_i18n(app: Flask) -> None:
    """Load catalogues and expose ``_`` and ``current_locale`` to templates."""
    catalogues = load_catalogues()
    app.extensions["liaison.catalogues"] = catalogues

    def translate(text: str) -> str:
        return catalogues.get(current_locale(), {}).get(text, text)

    def template_gettext(text: str, **values: Any) -> Markup:
        # Catalogue texts come from the project's own templates and .po files (trusted); the
        # interpolated values are escaped exactly once, here.
        trusted = Markup(translate(text))  # noqa: S704
        return trusted % values if values else trusted

    def gettext(text: str, **values: Any) -> str:
        translated = translate(text)
        return translated % values if values else translated

    def template_ngettext(singular: str, plural: str, count: int, **values: Any) -> Markup:
        # As ``_``: the catalogue form is trusted, the values are escaped once.
        chosen = translator(current_locale()).pick(singular, plural, count)
        trusted = Markup(chosen)  # noqa: S704
        return trusted % {"count": format_number(count), **values}

    app.extensions["liaison.gettext"] = gettext
    app.add_url_rule("/language", "set_language", _set_language, methods=["POST"])
    app.jinja_env.globals.update(
        _=template_gettext,
        ngettext=template_ngettext,
        current_locale=current_locale,
        intl_locale=lambda: INTL_LOCALES.get(current_locale(), "en-GB"),
        LOCALES=LOCALES,
        LOCALE_NAMES=LOCALE_NAMES,
    )
    # The one place for locale formatting in templates: ``{{ moment|datetime }}`` and friends.
    app.add_template_filter(format_date, "date")
    app.add_template_filter(format_time, "time")
    app.add_template_filter(format_datetime, "datetime")
    app.add_template_filter(format_number, "number")
    app.add_template_filter(format_size, "filesize")


def _set_language() -> Response:
    """Remember the chosen interface language and go back to the page it was chosen on."""
    chosen = request.form.get("locale", "")
    if chosen in LOCALES:
        session["locale"] = chosen
    target = request.form.get("next", "/")
    if not target.startswith("/") or target.startswith("//"):
        target = "/"
    return redirect(target, code=303)


def gettext(text: str, **values: Any) -> str:
    """Translate ``text`` for the current request as plain text (templates escape it)."""
    from flask import current_app

    return str(current_app.extensions["liaison.gettext"](text, **values))


def ngettext(singular: str, plural: str, count: int, **values: Any) -> str:
    """A count phrase for the current request as plain text (templates escape it)."""
    return translator(current_locale()).ngettext(singular, plural, count, **values)


_ = gettext
