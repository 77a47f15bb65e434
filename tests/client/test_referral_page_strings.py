"""The messaging app's referral parts as the server renders them: the "New referral" link, the
sending-organisation choice, and every string the page's script shows, in NL/FR/DE/EN."""

from __future__ import annotations

import json

from accounts.models import Role
from directory.models import Organization

TEMPLATE_TEXTS = [
    "New referral",
    "Sending organisation",
    "Covering note (optional)",
    "A referral goes to the contact points of one organisation that accepts cross-border "
    "referrals. The form is encrypted like the message: Liaison only learns its urgency, to "
    "remind the receiving organisation in time.",
]


def _strings(html: str) -> dict[str, str]:
    raw = html.split('id="referral-strings"')[1].split(">", 1)[1].split("</script>", maxsplit=1)[0]
    return json.loads(raw)


def test_the_compose_page_offers_a_referral_and_its_strings_in_english(
    client, db_session, make_user, sign_in
) -> None:
    organisation = Organization(ref="be-payoke", name="Payoke", country="BE", org_type="ngo")
    db_session.add(organisation)
    db_session.commit()
    # A referral is sent for an organisation one belongs to: only then is it offered.
    sign_in(client, make_user(Role.CONTACT_POINT, organizations=[organisation]))
    html = client.get("/messages/compose?kind=referral").get_data(as_text=True)

    assert 'id="new-referral"' in html
    assert 'href="/messages/compose?kind=referral"' in html
    assert _strings(html)["formInvalid"].startswith("The referral form is not complete")
    assert 'href="/static/css/referral.css"' in html


def test_a_person_of_several_organisations_chooses_which_one_sends(
    client, db_session, make_user, sign_in
) -> None:
    one = Organization(ref="be-payoke", name="Payoke", country="BE", org_type="ngo")
    two = Organization(ref="be-sürya", name="Sürya", country="BE", org_type="ngo")
    db_session.add_all([one, two])
    db_session.commit()
    sign_in(client, make_user(Role.CONTACT_POINT, organizations=[one, two]))

    html = client.get("/messages/compose?kind=referral").get_data(as_text=True)

    select = html.split('id="referral-from-org"')[1].split("</select>")[0]
    assert f'value="{one.id}">Payoke (BE)' in select
    assert f'value="{two.id}">Sürya (BE)' in select


def test_every_referral_string_of_the_messaging_app_is_translated(
    app, client, make_user, sign_in
) -> None:
    csrf = sign_in(client, make_user(Role.MEMBER))
    english = list(_strings(client.get("/messages/compose").get_data(as_text=True)).values())
    catalogues = app.extensions["liaison.catalogues"]

    for locale in ("nl", "fr", "de"):
        missing = [t for t in [*english, *TEMPLATE_TEXTS] if t not in catalogues[locale]]
        assert not missing, (locale, missing)
    client.post("/language", data={"locale": "nl", "next": "/messages", "csrf_token": csrf})
    dutch = client.get("/messages/compose?kind=referral").get_data(as_text=True)
    assert "Nieuwe doorverwijzing" in dutch
    assert _strings(dutch)["referralForm"] == "Verwijzingsformulier"
