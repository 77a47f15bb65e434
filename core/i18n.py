"""The interface language: NL, FR, DE or EN, chosen from the browser, changeable, remembered.

Catalogues are gettext ``.po`` files, ``web/translations/<lang>/*.po`` (one per part), read
at start-up with Babel (no compile step). A missing translation falls back to the English text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po
from flask import Flask, g, redirect, request, session
from markupsafe import Markup
from werkzeug.wrappers import Response

LOCALES = ("nl", "fr", "de", "en")
LOCALE_NAMES = {"nl": "Nederlands", "fr": "Français", "de": "Deutsch", "en": "English"}
TRANSLATIONS_DIR = Path(__file__).resolve().parent.parent / "web" / "translations"


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

    app.extensions["liaison.gettext"] = gettext
    app.add_url_rule("/language", "set_language", _set_language, methods=["POST"])
    app.jinja_env.globals.update(
        _=template_gettext,
        current_locale=current_locale,
        LOCALES=LOCALES,
        LOCALE_NAMES=LOCALE_NAMES,
    )


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


_ = gettext
