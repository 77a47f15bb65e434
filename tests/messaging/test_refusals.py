"""Every refusal the server can name reaches the person explained, in NL/FR/DE/EN."""

from __future__ import annotations

import re
from pathlib import Path

from accounts.models import Role
from core.i18n import load_catalogues
from messaging.refusals import REFUSALS, SAME_AS, refusal_texts

ROOT = Path(__file__).resolve().parents[2]
# check="name" / check = "name" (RelayError and subclasses), and the crypto modules' reasons,
# which the relay passes on as the check (messaging.services.relay._refusal).
PATTERNS = (
    re.compile(r'\bcheck\s*=\s*"([a-z0-9-]+)"'),
    re.compile(r'\b(?:Envelope|Crypto|KeyLog)Error\(\s*"([a-z0-9-]+)"'),
    re.compile(r'"check":\s*"([a-z0-9-]+)"'),
)


def server_checks() -> set[str]:
    found: set[str] = set()
    for folder in ("messaging", "core", "accounts"):
        for path in (ROOT / folder).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            for pattern in PATTERNS:
                found.update(pattern.findall(text))
    return found


def test_every_check_the_server_can_name_has_an_explanation():
    checks = server_checks()
    assert {"from-org-required", "same-organisation", "not-signed-in", "bad-signature"} <= checks
    missing = sorted(checks - set(REFUSALS) - set(SAME_AS))
    assert missing == []


def test_every_explanation_is_translated():
    catalogues = load_catalogues()
    for language in ("nl", "fr", "de"):
        untranslated = [text for text in REFUSALS.values() if text not in catalogues[language]]
        assert untranslated == [], language


def test_the_messaging_page_carries_the_explanations_in_the_readers_language(
    client, make_user, sign_in
):
    csrf = sign_in(client, make_user(Role.MEMBER))
    client.post("/language", data={"locale": "nl", "next": "/", "csrf_token": csrf})
    html = client.get("/messages").get_data(as_text=True)
    assert "Kies de organisatie namens wie u deze doorverwijzing verstuurt." in html
    assert '"same-organisation"' in html
    assert '"extra-wrap"' in html  # shares the text of missing-wrap


def test_texts_for_checks_that_mean_the_same(app):
    with app.test_request_context("/"):
        texts = refusal_texts()
    assert texts["extra-wrap"] == texts["missing-wrap"]
