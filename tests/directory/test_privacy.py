"""GDPR: erasing a contact person (database, search index, history), exporting a person's data."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from accounts.models import RecoveryCode, Role, UserSession
from core import audit
from core.audit import REDACTED, AuditEntry
from core.cli import cli
from core.db import new_id, utcnow
from core.outbox import SearchOutbox
from directory import children
from directory.models import ChangeRequest, Contact, Organization, Phone
from directory.privacy import ContactNotFound, erase_contact
from messaging.models import IdentityKey, KeyLogEntry, Referral
from search.query import SearchQuery

NAME = "Marieke Vandersteen"
EMAIL = "marieke.vandersteen@payoke.example"
PHONE = "+3232011111"


@pytest.fixture
def search_service(app):
    return app.extensions["liaison.search"]


@pytest.fixture
def payoke(db_session, search_service):
    """An organisation whose contact person was added and then edited through the services."""
    organization = Organization(
        ref="be-payoke",
        name="Payoke",
        country="BE",
        org_type="ngo",
        visibility="public",
        is_published=True,
        name_i18n={},
        description={"en": "Shelter and support for victims in Antwerp."},
    )
    db_session.add(organization)
    db_session.commit()
    contact = children.add_contact_point(
        db_session,
        None,
        organization.id,
        {
            "name": NAME,
            "title": {"en": "Intake"},
            "email": "m.v@old.example",
            "phone": PHONE,
            "languages": ["nl"],
            "visibility": "network",
        },
    )
    children.update_contact_point(
        db_session,
        None,
        contact.id,
        {
            "name": NAME,
            "title": {"en": "Intake"},
            "email": EMAIL,
            "phone": PHONE,
            "languages": ["nl", "en"],
            "visibility": "network",
        },
    )
    colleague = children.add_contact_point(
        db_session,
        None,
        organization.id,
        {
            "name": "Jan Peeters",
            "title": {"en": "Intake"},
            "email": "jan@payoke.example",
            "visibility": "network",
        },
    )
    # An import records contact points as JSON on the organisation itself.
    audit.record(
        db_session,
        actor_id=None,
        action="import",
        entity_type="organization",
        entity_id=organization.id,
        organization_id=organization.id,
        field="contact_points[0]",
        new={"name": NAME, "email": EMAIL, "phone": PHONE, "visibility": "network"},
    )
    db_session.add(
        ChangeRequest(
            organization_id=organization.id,
            base={"email": "info@payoke.example"},
            changes={"contact_points": [{"email": EMAIL}], "email": "info@payoke.example"},
            proposer_note=f"Please add {NAME}",
        )
    )
    db_session.commit()
    search_service.drain()
    return organization, contact, colleague


def _values(db_session) -> list[str]:
    rows = db_session.execute(select(AuditEntry.old_value, AuditEntry.new_value)).all()
    return [value for row in rows for value in row if value]


def _mentions_person(text: str) -> bool:
    lowered = text.lower()
    return any(v.lower() in lowered for v in (NAME, EMAIL, PHONE, "m.v@old.example"))


def test_erasure_removes_the_contact_and_redacts_its_history(db_session, payoke):
    _, contact, colleague = payoke
    assert any(_mentions_person(v) for v in _values(db_session))  # the history named them

    result = erase_contact(db_session, None, contact.id)
    db_session.commit()

    db_session.expire_all()
    assert db_session.get(Contact, contact.id) is None
    assert db_session.scalars(select(Phone).where(Phone.number == PHONE)).all() == []
    assert not [v for v in _values(db_session) if _mentions_person(v)]
    assert result.audit_entries_redacted >= 5
    # the colleague's history is untouched
    assert "jan@payoke.example" in _values(db_session)
    assert db_session.get(Contact, colleague.id) is not None
    # the erasure is recorded, without the erased values
    erased = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "erase")).one()
    assert erased.entity_id == contact.id
    assert erased.old_value is None
    assert not _mentions_person(erased.new_value or "")
    # entries about the contact keep their shape (who, when, which field) with redacted values
    fields = db_session.scalars(
        select(AuditEntry.field).where(
            AuditEntry.entity_id == contact.id, AuditEntry.new_value == REDACTED
        )
    ).all()
    assert {"name", "email", "phone"} <= set(fields)


def test_erasure_redacts_change_requests_naming_the_person(db_session, payoke):
    _, contact, _ = payoke
    erase_contact(db_session, None, contact.id)
    db_session.commit()
    request = db_session.scalars(select(ChangeRequest)).one()
    assert request.changes["contact_points"] == [{"email": REDACTED}]
    assert request.changes["email"] == "info@payoke.example"
    assert request.proposer_note == REDACTED


def test_erasure_queues_the_organisation_for_the_search_index_in_the_same_transaction(
    db_session, payoke, search_service, settings
):
    organization, contact, _ = payoke
    erase_contact(db_session, None, contact.id)
    queued = db_session.scalars(select(SearchOutbox.organization_id)).all()
    assert organization.id in queued  # before the commit, in the same session
    db_session.commit()
    search_service.drain()

    def hits(text: str) -> list[str]:
        page = search_service.search(SearchQuery(text=text, audience="secretariat"))
        return [hit.ref for hit in page.hits]

    assert hits("Payoke") == ["be-payoke"]  # the organisation is still found
    assert hits("Vandersteen") == []
    assert hits(EMAIL) == []
    index_files = [p for p in (settings.data_dir).rglob("*") if p.is_file() and "search" in str(p)]
    assert index_files  # the embedded index lives under the data directory
    for path in index_files:
        assert b"vandersteen" not in path.read_bytes().lower(), path


def test_erasing_an_unknown_contact_changes_nothing(db_session, payoke):
    before = len(_values(db_session))
    with pytest.raises(ContactNotFound):
        erase_contact(db_session, None, new_id())
    assert len(_values(db_session)) == before


# -- the pages ----------------------------------------------------------------------------------


@pytest.fixture
def secretariat(client, make_user, sign_in):
    csrf = sign_in(client, make_user(Role.SECRETARIAT))
    return client, csrf


def test_secretariat_finds_and_erases_a_contact_after_confirming(secretariat, db_session, payoke):
    http, csrf = secretariat
    contact_id = payoke[1].id
    found = http.post(
        "/secretariat/privacy/contacts", data={"q": "vandersteen", "csrf_token": csrf}
    )
    assert found.status_code == 200
    assert f'data-contact="{contact_id}"' in found.get_data(as_text=True)

    page = http.get(f"/secretariat/privacy/contacts/{contact_id}/erase")
    assert EMAIL in page.get_data(as_text=True)
    unconfirmed = http.post(
        f"/secretariat/privacy/contacts/{contact_id}/erase", data={"csrf_token": csrf}
    )
    assert unconfirmed.status_code == 422
    assert "Tick the box" in unconfirmed.get_data(as_text=True)
    no_csrf = http.post(
        f"/secretariat/privacy/contacts/{contact_id}/erase", data={"confirm": "yes"}
    )
    assert no_csrf.status_code == 400
    db_session.expire_all()
    assert db_session.get(Contact, contact_id) is not None

    done = http.post(
        f"/secretariat/privacy/contacts/{contact_id}/erase",
        data={"confirm": "yes", "csrf_token": csrf},
    )
    assert done.status_code == 303
    db_session.expire_all()
    assert db_session.get(Contact, contact_id) is None
    assert "was erased" in http.get(done.headers["Location"]).get_data(as_text=True)
    assert http.get(f"/secretariat/privacy/contacts/{contact_id}/erase").status_code == 404


@pytest.mark.parametrize("role", [Role.MEMBER, Role.CONTACT_POINT, Role.ORG_EDITOR])
def test_only_the_secretariat_may_erase_or_export(client, make_user, sign_in, db_session, payoke,
                                                   role):  # fmt: skip
    _, contact, _ = payoke
    csrf = sign_in(client, make_user(role))
    assert client.get("/secretariat/privacy/").status_code == 403
    erase = client.post(
        f"/secretariat/privacy/contacts/{contact.id}/erase",
        data={"confirm": "yes", "csrf_token": csrf},
    )
    assert erase.status_code == 403
    export = client.post(
        "/secretariat/privacy/export.json", data={"email": EMAIL, "csrf_token": csrf}
    )
    assert export.status_code == 403
    db_session.expire_all()
    assert db_session.get(Contact, contact.id) is not None


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get("/secretariat/privacy/")
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/login")


# -- the export ---------------------------------------------------------------------------------

PASSWORD_HASH = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$secret-hash-value"
TOTP_SECRET = "JBSWY3DPEHPK3PXPSECRETTOTP"


@pytest.fixture
def person(db_session, make_user, payoke):
    """An account with everything an account can have, using the contact person's address."""
    organization, _, _ = payoke
    user = make_user(Role.CONTACT_POINT, organizations=[organization], email=EMAIL)
    user.password_hash = PASSWORD_HASH
    user.totp_secret = TOTP_SECRET
    user.last_login_at = utcnow()
    db_session.add(RecoveryCode(user_id=user.id, code_hash="recovery-hash-1"))
    db_session.add(
        UserSession(id="session-hash-" + "0" * 51, user_id=user.id, data={"_csrf": "tok"},
                    user_agent="Firefox/130")
    )  # fmt: skip
    db_session.add(
        IdentityKey(user_id=user.id, key_id="K" * 22, sign_pk="S" * 43, box_pk="B" * 43,
                    created_at="2026-01-01T00:00:00Z", pub_sig="P" * 86)
    )  # fmt: skip
    db_session.add(
        KeyLogEntry(seq=1, user_id=user.id, event="publish", entry=b"e", head=b"h" * 32,
                    head_sig=b"s" * 64)
    )  # fmt: skip
    sent = datetime(2026, 2, 1, 9, tzinfo=UTC)
    db_session.add(
        Referral(id=new_id(), thread_id=new_id(), sender_id=user.id, from_country="BE",
                 to_country="NL", urgency="high", status="accepted", sent_at=sent,
                 ack_due_at=sent + timedelta(hours=4), accepted_at=sent + timedelta(hours=2))
    )  # fmt: skip
    audit.record(db_session, actor_id=user.id, action="change_password", entity_type="user",
                 entity_id=user.id)  # fmt: skip
    db_session.commit()
    return user


def test_export_holds_every_section_and_no_secret(secretariat, person):
    http, csrf = secretariat
    summary = http.post("/secretariat/privacy/export", data={"email": EMAIL, "csrf_token": csrf})
    html = summary.get_data(as_text=True)
    assert summary.status_code == 200
    assert 'id="export-account"' in html
    assert re.search(r'data-section="referrals_sent">1<', html)

    response = http.post(
        "/secretariat/privacy/export.json", data={"email": EMAIL, "csrf_token": csrf}
    )
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    export = json.loads(text)
    assert export["account"]["email"] == EMAIL
    assert export["account"]["secrets_held_but_not_exported"] == {
        "password_hash": True,
        "totp_secret": True,
        "recovery_codes": 1,
        "recovery_codes_unused": 1,
    }
    assert [m["ref"] for m in export["memberships"]] == ["be-payoke"]
    assert any(s["browser"] == "Firefox/130" for s in export["sessions"])
    assert [e["action"] for e in export["audit"]["made_by_them"]] == ["change_password"]
    assert export["directory_contact_entries"][0]["name"] == NAME
    assert export["directory_contact_entries"][0]["history"]
    assert export["keys"]["published_keys"][0]["key_id"] == "K" * 22
    assert export["keys"]["key_log"][0]["event"] == "publish"
    assert export["referrals"]["sent"][0]["status"] == "accepted"
    assert export["messages"]["sent"]["count"] == 0
    for secret in (PASSWORD_HASH, TOTP_SECRET, "recovery-hash-1", "session-hash-", '"tok"'):
        assert secret not in text


def test_export_download_is_noted_in_the_history(secretariat, db_session, person):
    http, csrf = secretariat
    http.post("/secretariat/privacy/export.json", data={"email": EMAIL, "csrf_token": csrf})
    noted = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "export_personal_data")
    ).all()
    assert {entry.entity_type for entry in noted} == {"user", "contact"}
    assert all(entry.new_value is None for entry in noted)


def test_export_of_an_unknown_address_says_there_is_no_account(secretariat):
    http, csrf = secretariat
    response = http.post(
        "/secretariat/privacy/export", data={"email": "nobody@example.org", "csrf_token": csrf}
    )
    assert 'id="export-no-account"' in response.get_data(as_text=True)


def test_export_without_an_address_is_refused(secretariat):
    http, csrf = secretariat
    response = http.post("/secretariat/privacy/export", data={"email": "", "csrf_token": csrf})
    assert response.status_code == 400


# -- the command line ---------------------------------------------------------------------------


@pytest.fixture
def run(settings):
    def invoke(*args: str, input: str | None = None):
        env = {
            "LIAISON_DATA_DIR": str(settings.data_dir),
            "LIAISON_DATABASE_URL": settings.database_url,
            "LIAISON_SECRET_KEY": settings.secret_key,
            "LIAISON_ENV": "test",
        }
        return CliRunner().invoke(cli, list(args), env=env, input=input, catch_exceptions=False)

    return invoke


def test_cli_erasure_asks_before_erasing(run, db_session, payoke):
    contact_id = payoke[1].id
    declined = run("directory", "erase-contact", contact_id, input="n\n")
    assert declined.exit_code == 0
    assert EMAIL in declined.output
    assert "nothing erased" in declined.output
    db_session.expire_all()
    assert db_session.get(Contact, contact_id) is not None

    confirmed = run("directory", "erase-contact", contact_id, input="y\n")
    assert confirmed.exit_code == 0
    assert "erased;" in confirmed.output
    db_session.expire_all()
    assert db_session.get(Contact, contact_id) is None
    assert not [v for v in _values(db_session) if _mentions_person(v)]


def test_cli_erasure_of_an_unknown_contact_fails_clearly(run):
    result = run("directory", "erase-contact", new_id(), "--yes")
    assert result.exit_code == 1
    assert "no contact person" in result.output


def test_cli_export_writes_json_without_secrets(run, person):
    result = run("users", "export", EMAIL)
    assert result.exit_code == 0
    export = json.loads(result.stdout)
    assert export["account"]["id"] == person.id
    assert PASSWORD_HASH not in result.stdout
    assert TOTP_SECRET not in result.stdout
