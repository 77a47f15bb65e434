"""The secretariat's screens: who may open them, forms that save with history, forms that refuse."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from accounts.models import Role
from core.audit import AuditEntry
from core.outbox import SearchOutbox
from directory.models import Address, Contact, Location, Organization, Service

STREET = "Verborgen Hof 4"


@pytest.fixture
def shelter(db_session):
    organization = Organization(
        ref="be-shelter",
        name="Shelter Brugge",
        country="BE",
        city="Brugge",
        org_type="specialised_victim_centre",
        visibility="network",
        is_published=True,
        description={"en": "A shelter."},
        name_i18n={},
    )
    organization.services = [Service(service_type="shelter", name="Beds", visibility="network")]
    organization.contacts = [
        Contact(title={"en": "Intake"}, email="in@s.example.org", visibility="network")
    ]
    organization.locations = [
        Location(
            visibility="network",
            addresses=[
                Address(address_1=STREET, city="Brugge", country="BE", visibility="secretariat")
            ],
        )
    ]
    db_session.add(organization)
    db_session.commit()
    return organization


ROUTES = [
    ("GET", "/secretariat/"),
    ("GET", "/secretariat/organisations/new"),
    ("POST", "/secretariat/organisations/new"),
    ("GET", "{base}/edit"),
    ("POST", "{base}/edit"),
    ("POST", "{base}/publish"),
    ("GET", "{base}/unpublish"),
    ("POST", "{base}/unpublish"),
    ("GET", "{base}/services"),
    ("POST", "{base}/services"),
    ("GET", "{base}/services/{service}"),
    ("POST", "{base}/services/{service}"),
    ("POST", "{base}/services/{service}/remove"),
    ("GET", "{base}/contacts"),
    ("POST", "{base}/contacts"),
    ("GET", "{base}/contacts/{contact}"),
    ("POST", "{base}/contacts/{contact}"),
    ("POST", "{base}/contacts/{contact}/remove"),
    ("GET", "{base}/address"),
    ("POST", "{base}/address"),
    ("GET", "{base}/history"),
]


def url(template, org):
    return template.format(
        base=f"/secretariat/organisations/{org.id}",
        service=org.services[0].id,
        contact=org.contacts[0].id,
    )


def routes(org):
    return [(method, url(template, org)) for method, template in ROUTES]


@pytest.mark.parametrize(("method", "template"), ROUTES)
@pytest.mark.parametrize("role", [Role.MEMBER, Role.CONTACT_POINT, Role.ORG_EDITOR])
def test_other_roles_get_403_on_every_secretariat_route(
    db_session, client, make_user, sign_in, shelter, role, method, template
):
    csrf = sign_in(client, make_user(role, organizations=[shelter]))
    before = db_session.scalar(select(func.count()).select_from(AuditEntry))
    response = client.open(
        url(template, shelter), method=method, data={"csrf_token": csrf, "name": "Hacked"}
    )
    assert response.status_code == 403
    assert STREET not in response.get_data(as_text=True)
    assert db_session.scalar(select(func.count()).select_from(AuditEntry)) == before


def test_anonymous_visitors_are_sent_to_sign_in(client, shelter):
    for method, path in routes(shelter):
        response = client.open(path, method=method)
        if method == "GET":
            assert response.status_code == 303, path
            assert response.headers["Location"].startswith("/login")
        else:
            assert response.status_code in {303, 400}, path  # 400: no CSRF token at all


@pytest.mark.parametrize("role", [Role.SECRETARIAT, Role.ADMIN])
def test_secretariat_and_admin_open_every_screen(client, make_user, sign_in, shelter, role):
    sign_in(client, make_user(role))
    for method, path in routes(shelter):
        if method == "GET":
            response = client.get(path)
            assert response.status_code == 200, path
            html = response.get_data(as_text=True)
            assert "/secretariat/people" in html


def test_secretariat_post_without_csrf_token_is_refused(client, make_user, sign_in, shelter):
    sign_in(client, make_user(Role.SECRETARIAT))
    response = client.post(f"/secretariat/organisations/{shelter.id}/unpublish")
    assert response.status_code == 400
    assert "The form has expired" in response.get_data(as_text=True)


def org_form(**overrides):
    data = {
        "name": "Centre Esch",
        "description_fr": "Centre à Esch.",
        "description_en": "",
        "country": "LU",
        "region": "",
        "city": "Esch-sur-Alzette",
        "org_type": "specialised_victim_centre",
        "website": "https://esch.example.org",
        "email": "info@esch.example.org",
        "visibility": "network",
        "phone_visibility": "network",
        "verification_status": "unverified",
        "review_interval_days": "365",
        "phone": "+352 20 00 00 00",
        "emergency_phone": "",
        "exploitation_forms": ["sexual"],
        "languages": ["fr", "lb"],
        "is_24_7": "on",
    }
    data.update(overrides)
    return data


def test_create_form_saves_with_history_and_outbox_then_publish_shows_it_to_members(
    db_session, app, make_user, sign_in
):
    secretariat, member = app.test_client(), app.test_client()
    csrf = sign_in(secretariat, make_user(Role.SECRETARIAT))
    sign_in(member, make_user(Role.MEMBER))
    response = secretariat.post(
        "/secretariat/organisations/new", data={**org_form(), "csrf_token": csrf}
    )
    assert response.status_code == 303
    created = db_session.scalars(select(Organization).filter_by(name="Centre Esch")).one()
    assert response.headers["Location"].endswith(f"/secretariat/organisations/{created.id}/edit")
    assert created.is_24_7
    assert created.codes("exploitation_form") == ["sexual"]
    fields = set(db_session.scalars(select(AuditEntry.field).filter_by(organization_id=created.id)))
    assert {"description.fr", "city", "phone", "languages"} <= fields
    assert (
        db_session.scalar(
            select(func.count()).select_from(SearchOutbox).filter_by(organization_id=created.id)
        )
        >= 1
    )
    page = f"/organisations/{created.ref}"
    assert member.get(page).status_code == 404  # not yet published
    secretariat.post(f"/secretariat/organisations/{created.id}/publish", data={"csrf_token": csrf})
    assert member.get(page).status_code == 200
    secretariat.post(
        f"/secretariat/organisations/{created.id}/unpublish", data={"csrf_token": csrf}
    )
    assert member.get(page).status_code == 404
    assert "Centre Esch" not in member.get("/organisations").get_data(as_text=True)


def test_the_secretariat_changes_working_languages_that_keep_some_codes(
    db_session, client, make_user, sign_in, shelter
):
    # Replacing the collection once inserted "fr" again before deleting its old row: a 500 from
    # the (organisation, code) unique constraint.
    csrf = sign_in(client, make_user(Role.SECRETARIAT))
    path = f"/secretariat/organisations/{shelter.id}/edit"
    for languages in (["fr", "lb"], ["lb", "fr", "de"], ["de"], ["de", "fr"]):
        response = client.post(path, data={**org_form(languages=languages), "csrf_token": csrf})
        assert response.status_code == 303, languages
        db_session.expire_all()
        assert db_session.get(Organization, shelter.id).language_codes == languages


def test_unpublish_asks_first_and_only_the_confirm_button_unpublishes(
    db_session, client, make_user, sign_in, shelter
):
    csrf = sign_in(client, make_user(Role.SECRETARIAT))
    client.post("/language", data={"locale": "fr", "next": "/", "csrf_token": csrf})
    edit = client.get(f"/secretariat/organisations/{shelter.id}/edit").get_data(as_text=True)
    # The bar offers a link to the confirm page, not a form that unpublishes on one click.
    assert f'action="/secretariat/organisations/{shelter.id}/unpublish"' not in edit
    assert f'href="/secretariat/organisations/{shelter.id}/unpublish"' in edit
    page = client.get(f"/secretariat/organisations/{shelter.id}/unpublish")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Dépublier Shelter Brugge ?" in html
    assert "seul le secrétariat la voit" in html
    assert f'action="/secretariat/organisations/{shelter.id}/unpublish"' in html
    db_session.expire_all()
    assert db_session.get(Organization, shelter.id).is_published  # opening it changed nothing
    response = client.post(
        f"/secretariat/organisations/{shelter.id}/unpublish", data={"csrf_token": csrf}
    )
    assert response.status_code == 303
    db_session.expire_all()
    assert not db_session.get(Organization, shelter.id).is_published
    # Once unpublished there is nothing to confirm: back to the organisation's form.
    again = client.get(f"/secretariat/organisations/{shelter.id}/unpublish")
    assert again.status_code == 302
    assert again.headers["Location"].endswith(f"/secretariat/organisations/{shelter.id}/edit")


def test_invalid_edit_shows_errors_next_to_fields_and_changes_nothing(
    db_session, client, make_user, sign_in, shelter
):
    csrf = sign_in(client, make_user(Role.SECRETARIAT))
    before = db_session.scalar(select(func.count()).select_from(AuditEntry))
    response = client.post(
        f"/secretariat/organisations/{shelter.id}/edit",
        data={
            **org_form(name="Renamed", email="nope", phone="123", website="ftp://x"),
            "csrf_token": csrf,
        },
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="email-error"' in html
    assert "Not a valid e-mail address." in html
    assert 'id="phone-error"' in html
    assert 'id="website-error"' in html
    assert 'aria-invalid="true"' in html
    assert 'value="Renamed"' in html  # what was typed is kept
    db_session.expire_all()
    assert db_session.get(Organization, shelter.id).name == "Shelter Brugge"
    assert db_session.scalar(select(func.count()).select_from(AuditEntry)) == before


def test_invalid_form_errors_are_translated(client, make_user, sign_in, shelter):
    csrf = sign_in(client, make_user(Role.SECRETARIAT))
    client.post("/language", data={"locale": "nl", "next": "/", "csrf_token": csrf})
    response = client.post(
        f"/secretariat/organisations/{shelter.id}/edit",
        data={**org_form(email="nope"), "csrf_token": csrf},
    )
    assert "Geen geldig e-mailadres." in response.get_data(as_text=True)


def test_child_wider_than_organisation_is_refused_in_the_form(
    db_session, client, make_user, sign_in, shelter
):
    csrf = sign_in(client, make_user(Role.SECRETARIAT))
    response = client.post(
        f"/secretariat/organisations/{shelter.id}/contacts",
        data={
            "title_en": "Press",
            "email": "press@s.example.org",
            "visibility": "public",
            "csrf_token": csrf,
        },
    )
    assert response.status_code == 422
    assert "cannot be more visible than its organisation (Network members)" in response.get_data(
        as_text=True
    )
    assert db_session.scalar(select(func.count()).select_from(Contact)) == 1


def test_history_page_shows_who_what_and_redacts_the_street(
    db_session, client, make_user, sign_in, shelter
):
    editor = make_user(Role.SECRETARIAT)
    csrf = sign_in(client, editor)
    response = client.post(
        f"/secretariat/organisations/{shelter.id}/address",
        data={
            "address_1": "Nieuwe Straat 8",
            "city": "Brugge",
            "visibility": "secretariat",
            "csrf_token": csrf,
        },
    )
    assert response.status_code == 303
    client.post(
        f"/secretariat/organisations/{shelter.id}/services",
        data={"service_type": "medical", "visibility": "network", "csrf_token": csrf},
    )
    html = client.get(f"/secretariat/organisations/{shelter.id}/history").get_data(as_text=True)
    assert editor.display_name in html
    assert "address_1" in html
    assert "redacted" in html
    assert "Nieuwe Straat 8" not in html
    assert STREET not in html
    assert "medical" in html.lower() or "Medical" in html
    assert re.search(
        r"<time datetime=\"[^\"]+\">\d{1,2} [A-Z][a-z]{2} \d{4}, \d\d:\d\d</time>", html
    )


def test_dashboard_lists_unpublished_organisations_and_filters(
    db_session, client, make_user, sign_in, shelter
):
    db_session.add(
        Organization(
            ref="nl-draft",
            name="Draft Den Haag",
            country="NL",
            org_type="police",
            visibility="network",
            is_published=False,
            description={},
            name_i18n={},
        )
    )
    db_session.commit()
    sign_in(client, make_user(Role.SECRETARIAT))
    html = client.get("/secretariat/").get_data(as_text=True)
    assert "Draft Den Haag" in html
    assert "Shelter Brugge" in html
    html = client.get("/secretariat/?state=unpublished").get_data(as_text=True)
    assert "Draft Den Haag" in html
    assert "Shelter Brugge" not in html
    html = client.get("/secretariat/?country=BE&q=brug").get_data(as_text=True)
    assert "Shelter Brugge" in html
    assert "Draft Den Haag" not in html


def test_unknown_ids_give_404_to_the_secretariat(client, make_user, sign_in, shelter):
    sign_in(client, make_user(Role.SECRETARIAT))
    assert client.get("/secretariat/organisations/nope/edit").status_code == 404
    other = f"/secretariat/organisations/{shelter.id}/services/not-a-service"
    assert client.get(other).status_code == 404


class FormReader(HTMLParser):
    """What a browser would post back from the first form with a given submit label."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self.textarea: str | None = None
        self.select: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input" and a.get("name"):
            if a.get("type") == "checkbox":
                if "checked" in a:
                    self.fields.append((a["name"], a.get("value") or "on"))
            elif a.get("type") != "submit":
                self.fields.append((a["name"], a.get("value") or ""))
        elif tag == "textarea":
            self.textarea = a["name"]
            self.fields.append((a["name"], ""))
        elif tag == "select":
            self.select = a["name"]
        elif tag == "option" and self.select and "selected" in a:
            self.fields.append((self.select, a.get("value") or ""))

    def handle_endtag(self, tag):
        if tag == "textarea":
            self.textarea = None
        elif tag == "select":
            self.select = None

    def handle_data(self, data):
        if self.textarea:
            name, text = self.fields[-1]
            self.fields[-1] = (name, text + data.replace("\n", "\r\n"))


def test_saving_the_edit_form_unchanged_records_nothing(
    db_session, client, make_user, sign_in, shelter
):
    sign_in(client, make_user(Role.SECRETARIAT))
    shelter.description = {"en": "Line one.\nLine two.", "fr": "Ligne."}
    db_session.commit()
    edit = f"/secretariat/organisations/{shelter.id}/edit"
    html = client.get(edit).get_data(as_text=True)
    form_html = html[html.index('<form method="post" class="edit-form"') :]
    reader = FormReader()
    reader.feed(form_html[: form_html.index("</form>")])
    before = db_session.scalar(select(func.count()).select_from(AuditEntry))
    response = client.post(edit, data=MultiDict(reader.fields), follow_redirects=True)
    assert "Nothing changed." in response.get_data(as_text=True)
    assert db_session.scalar(select(func.count()).select_from(AuditEntry)) == before


def test_names_with_ampersand_and_apostrophe_are_shown_once_escaped(
    db_session, client, make_user, sign_in, shelter
):
    shelter.name = "Fier & l'Abri"
    db_session.commit()
    sign_in(client, make_user(Role.SECRETARIAT))
    for path in (f"/secretariat/organisations/{shelter.id}/edit", "/organisations/be-shelter"):
        html = client.get(path).get_data(as_text=True)
        assert "Fier &amp; l&#39;Abri" in html
        assert "&amp;amp;" not in html
        assert "&amp;#39;" not in html
