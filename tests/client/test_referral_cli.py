"""``liaison-client referral`` against a real relay: a Belgian contact point sends a referral with
its structured form to a Dutch organisation; its contact points read the form, acknowledge and
accept it; the sender follows the status. Invalid forms never leave the client, and a malformed
form from a peer is reported, not crashed on."""

# ruff: noqa: F811 - the relay fixtures are imported by name

from __future__ import annotations

import json

import pytest
from liaison_client.referral import example_form
from sqlalchemy import select

from messaging.models import Envelope, Referral
from tests.client.relay_fixtures import account, organisations, relay  # noqa: F401


@pytest.fixture(autouse=True)
def dutch_organisation_takes_referrals(organisations, db_session) -> None:
    organisations["B"].accepts_cross_border_referrals = True
    db_session.commit()


def _form(tmp_path, **changes) -> str:
    form = {**example_form(), "stage": "formal_identification", "needs": ["shelter", "legal"],
            "urgency": "high", "languages": ["ro", "en"], "notes": "Intake graag deze week.",
            **changes}  # fmt: skip
    path = tmp_path / f"form-{len(list(tmp_path.iterdir()))}.json"
    path.write_text(json.dumps(form), encoding="utf-8")
    return str(path)


def _sent_id(result) -> str:
    assert result.exit_code == 0, result.output
    return result.output.strip().splitlines()[-1].removeprefix("Sent referral ")


def test_a_referral_is_sent_read_acknowledged_and_accepted_and_the_sender_follows_it(
    account, tmp_path, db_session
) -> None:
    anna, bram, chloe = account("A"), account("B"), account("B")

    form = _form(tmp_path)
    referral_id = _sent_id(anna.cli("referral", "send", "--to-org", "nl-comensha",
                                    "--form", form, "--body", "Zie formulier."))  # fmt: skip
    incoming = bram.cli("referral", "list")
    shown = chloe.cli("referral", "show", referral_id, "--language", "nl")
    acknowledged = bram.cli("referral", "status", referral_id, "acknowledged")
    accepted = chloe.cli("referral", "status", referral_id, "accepted")
    outgoing = anna.cli("referral", "list", "--outgoing")
    again = bram.cli("referral", "status", referral_id, "declined")

    assert referral_id in incoming.output
    assert "sent" in incoming.output
    assert "high" in incoming.output
    assert "Payoke (BE) -> CoMensha (NL)" in incoming.output
    assert shown.exit_code == 0, shown.output
    words = " ".join(shown.output.split())
    assert "van het verwijzingsmechanisme: Formele identificatie" in words
    assert "Behoeften:" in shown.output
    assert "Opvang, Juridische bijstand" in shown.output
    assert "ro, en" in shown.output
    assert "Intake graag deze week." in shown.output
    assert "Zie formulier." in shown.output
    assert acknowledged.exit_code == 0, acknowledged.output
    assert "is now acknowledged" in acknowledged.output
    assert "is now accepted" in accepted.output
    assert referral_id in outgoing.output
    assert "accepted" in outgoing.output
    assert again.exit_code == 1
    assert "cannot become declined" in again.output
    stored = db_session.scalars(select(Referral).where(Referral.id == referral_id)).one()
    db_session.refresh(stored)
    assert stored.status == "accepted"
    assert stored.urgency == "high"
    assert "Intake graag" not in json.dumps(db_session.get(Envelope, referral_id).wraps)


def test_the_history_shows_who_moved_the_referral_on(account, tmp_path) -> None:
    anna, bram = account("A"), account("B")
    referral_id = _sent_id(anna.cli("referral", "send", "--to-org", "nl-comensha",
                                    "--form", _form(tmp_path, urgency="normal")))  # fmt: skip
    bram.cli("referral", "status", referral_id, "accepted")

    shown = anna.cli("referral", "show", referral_id)

    assert shown.exit_code == 0, shown.output
    assert "Status:   accepted" in shown.output
    assert "Urgency: Normal" in " ".join(shown.output.split())
    assert bram.user.display_name in shown.output.split("History:")[1]


def test_an_invalid_form_is_refused_before_anything_is_sent(account, tmp_path, db_session) -> None:
    anna, _bram = account("A"), account("B")

    future = anna.cli("referral", "send", "--to-org", "nl-comensha",
                      "--form", _form(tmp_path, consent_date="2999-01-01"))  # fmt: skip
    no_needs = anna.cli("referral", "check", _form(tmp_path, needs=[]))

    assert future.exit_code == 1, future.output
    assert "consent_date: The date cannot be in the future." in future.output
    assert "nothing was sent" in future.output
    assert no_needs.exit_code == 1
    assert "needs: Give at least 1." in no_needs.output
    assert db_session.scalars(select(Envelope)).all() == []


def test_a_referral_only_goes_to_the_receiving_organisations_contact_points(
    account, tmp_path
) -> None:
    anna, bram, other_belgian = account("A"), account("B"), account("A")

    chosen = anna.cli("referral", "send", "--to-org", "nl-comensha", "--to", bram.user.email,
                      "--form", _form(tmp_path))  # fmt: skip
    stranger = anna.cli("referral", "send", "--to-org", "nl-comensha",
                        "--to", other_belgian.user.email, "--form", _form(tmp_path))  # fmt: skip

    assert chosen.exit_code == 0, chosen.output
    assert f"To {bram.user.display_name}" in chosen.output
    assert stranger.exit_code == 2
    assert "not a contact point of CoMensha" in stranger.output


def test_a_malformed_form_from_a_peer_is_reported_not_crashed_on(account) -> None:
    anna, bram = account("A"), account("B")
    mailbox = anna.mailbox()
    organisation = mailbox.organisation("nl-comensha")
    bad_form = {**example_form(), "needs": ["housing"], "victim_name": "X"}
    body = {"tlp": "TLP:AMBER", "subject": "Referral", "body": "", "form": bad_form, "prev": None}
    sent = mailbox._seal_and_post(organisation.contact_points, body, (), kind="referral",
                                  to_org=organisation.organisation_id,
                                  referral={"urgency": "normal"})  # fmt: skip

    shown = bram.cli("referral", "show", sent.id)
    read = bram.cli("read", sent.id)
    opened = bram.mailbox().open_referral(sent.id)

    assert shown.exit_code == 0, shown.output
    assert "The referral form is not valid and is not shown" in shown.output
    assert "victim_name: This field is not part of the referral form." in shown.output
    assert "needs: Choose one of the options." in shown.output
    assert "housing" not in shown.output
    assert read.exit_code == 0, read.output
    assert "not valid" in read.output
    assert opened.form is None
    assert [p.field for p in opened.problems] == ["victim_name", "needs"]


def test_the_template_is_a_valid_form_to_start_from(account, tmp_path) -> None:
    anna = account("A", ready=False)
    target = tmp_path / "new-form.json"

    written = anna.cli("referral", "template", "--out", str(target))
    checked = anna.cli("referral", "check", str(target))

    assert written.exit_code == 0, written.output
    assert set(json.loads(target.read_text(encoding="utf-8"))) >= {"stage", "needs", "urgency"}
    assert checked.exit_code == 0
    assert "The referral form is valid." in checked.output
