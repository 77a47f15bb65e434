"""The /referrals page: intake queue, sent list, history, overdue marks and the status forms."""

# ruff: noqa: F811 - the referral fixtures are imported by name

from __future__ import annotations

import re
from datetime import timedelta

from accounts.models import Role
from core.db import utcnow
from messaging.models import Referral
from tests.messaging.referral_fixtures import cast  # noqa: F401 - a fixture


def row(html: str, referral_id: str) -> str:
    """The <tr> of one referral."""
    match = re.search(rf'<tr id="referral-{referral_id}".*?</tr>', html, re.S)
    assert match, f"no row for {referral_id}"
    return match.group(0)


def page(person, language: str = "en") -> str:
    response = person.get("/referrals", headers={"Accept-Language": language})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def press(person, referral_id: str, status: str, **extra: str):
    return person.http.post(
        f"/referrals/{referral_id}/status",
        data={"csrf_token": person.csrf, "status": status, **extra},
    )


def test_the_intake_queue_shows_a_new_referral_with_its_buttons(cast):
    referral_id = cast.send()
    html = row(page(cast.intake), referral_id)
    assert 'data-status="sent"' in html
    assert "Payoke (BE)" in html
    assert "High urgency" in html
    assert f'href="/messages/threads/{referral_id}"' in html
    buttons = re.findall(r'name="status" value="(\w+)"', html)
    assert buttons == ["acknowledged", "accepted", "declined"]
    assert "ZEBRA" not in page(cast.intake)  # the form is encrypted; the page never has it


def test_acknowledge_and_accept_through_the_forms_and_the_sender_sees_it(cast):
    referral_id = cast.send()

    first = press(cast.intake, referral_id, "acknowledged")
    assert first.status_code == 303
    assert first.headers["Location"].endswith(f"/referrals#referral-{referral_id}")
    assert 'data-status="acknowledged"' in row(page(cast.intake), referral_id)
    press(cast.colleague, referral_id, "accepted")

    sender_view = row(page(cast.sender), referral_id)
    assert 'data-status="accepted"' in sender_view
    assert "Accepted" in sender_view
    assert cast.intake.user.display_name in sender_view  # the history says who
    # the sender may only close it
    assert re.findall(r'name="status" value="(\w+)"', sender_view) == ["closed"]


def test_redirect_form_offers_other_organisations_that_take_referrals(cast):
    referral_id = cast.send()
    press(cast.intake, referral_id, "acknowledged")
    html = row(page(cast.intake), referral_id)
    assert f'<option value="{cast.c.id}">InfoTraite (LU)</option>' in html
    assert f'value="{cast.b.id}"' not in html

    unchosen = press(cast.intake, referral_id, "redirected", redirect_to="")
    assert unchosen.status_code == 303
    assert "Choose the organisation to redirect" in page(cast.intake)

    press(cast.intake, referral_id, "redirected", redirect_to=cast.c.id)
    done = row(page(cast.intake), referral_id)
    assert 'data-status="redirected"' in done
    assert "InfoTraite (LU)" in done


def test_a_stale_button_says_the_referral_moved_on(cast):
    referral_id = cast.send()
    press(cast.intake, referral_id, "accepted")
    late = press(cast.colleague, referral_id, "acknowledged")
    assert late.status_code == 303
    assert "moved on meanwhile" in page(cast.colleague)


def test_a_refused_status_change_says_what_to_do_in_the_readers_language(cast):
    referral_id = cast.send()
    refused = cast.intake.http.post(
        f"/referrals/{referral_id}/status",
        data={"csrf_token": cast.intake.csrf, "status": "frozen"},  # not a status: bad-status
        headers={"Accept-Language": "fr"},
    )
    assert refused.status_code == 303
    html = page(cast.intake, "fr")
    assert "Ce changement de statut" in html
    assert "Rechargez la page pour voir ce que vous pouvez faire." in html
    assert "The status was not changed." not in html


def test_forms_refuse_strangers_senders_and_missing_csrf(cast, db_session):
    referral_id = cast.send()
    assert press(cast.outsider, referral_id, "acknowledged").status_code == 404
    assert press(cast.member, referral_id, "acknowledged").status_code == 404
    assert press(cast.sender, referral_id, "acknowledged").status_code == 403
    no_csrf = cast.intake.http.post(
        f"/referrals/{referral_id}/status", data={"status": "acknowledged"}
    )
    assert no_csrf.status_code == 400
    db_session.expire_all()
    assert db_session.get(Referral, referral_id).status == "sent"


def test_empty_states_for_members_and_for_a_quiet_queue(cast):
    member = page(cast.member)
    assert "You are not a contact point" in member
    assert "You have not sent a referral yet" in member
    assert "No referrals have been sent to your organisation yet" in page(cast.intake)


def test_overdue_referrals_are_marked_and_the_secretariat_sees_them(cast, db_session, make_person):
    referral_id = cast.send()
    db_session.get(Referral, referral_id).ack_due_at = utcnow() - timedelta(hours=1)
    db_session.commit()
    html = row(page(cast.intake), referral_id)
    assert "is-overdue" in html
    assert "Overdue" in html

    secretariat = make_person("A", Role.SECRETARIAT)
    network = page(secretariat)
    assert f'id="overdue-{referral_id}"' in network
    overdue_row = re.search(rf'<tr id="overdue-{referral_id}".*?</tr>', network, re.S).group(0)
    assert "CoMensha (NL)" in overdue_row
    assert "Payoke" not in overdue_row  # not the sender's organisation
    assert "Overdue in the network" not in page(cast.intake)


def test_the_page_speaks_dutch_french_and_german(cast):
    cast.send()
    assert "Inkomend" in page(cast.intake, "nl")
    assert "Reçues" in page(cast.intake, "fr")
    assert "Eingehend" in page(cast.intake, "de")


def test_signed_in_people_find_referrals_in_the_navigation(cast, client):
    assert 'href="/referrals"' in page(cast.member)
    anonymous = client.get("/referrals")
    assert anonymous.status_code in {302, 401}
    assert 'href="/referrals"' not in client.get("/").get_data(as_text=True)


def test_every_referral_string_has_dutch_french_and_german_translations(app):
    from pathlib import Path

    from messaging import referral_pages

    template = Path(app.template_folder, "messaging", "referrals.html").read_text()
    english = set(re.findall(r'_\("([^"]+)"', template))
    for labels in (
        referral_pages.STATUS_LABELS,
        referral_pages.EVENT_LABELS,
        referral_pages.BUTTON_LABELS,
        referral_pages.URGENCY_LABELS,
        referral_pages._REFUSALS,
    ):
        english |= set(labels.values())
    english |= {"Referrals", "The status was not changed.", "Status changed: %(status)s."}
    catalogues = app.extensions["liaison.catalogues"]
    for locale in ("nl", "fr", "de"):
        missing = sorted(text for text in english if text not in catalogues[locale])
        assert not missing, (locale, missing)
