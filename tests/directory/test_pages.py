"""The directory's member screens: each reader sees exactly what they may, in their language."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import object_session

from accounts.models import Role
from core.db import Database
from core.i18n import load_catalogues
from core.web import ERROR_TITLES
from directory.forms import VERIFICATION_LABELS, VISIBILITY_LABELS
from directory.importing import import_directory
from directory.models import Address, Contact, Location, Organization, Phone, Service
from directory.services import set_codes
from tests.directory.samples import DEMO

STREET = "Geheimstraat 12"
SECRET_CONTACT = "night-desk@refuge.example.org"
OPEN_CONTACT = "intake@refuge.example.org"


def organisation(ref: str, name: str, visibility: str, *, published: bool = True, **extra):
    values = {
        "ref": ref,
        "name": name,
        "country": "BE",
        "city": "Gent",
        "org_type": "specialised_victim_centre",
        "visibility": visibility,
        "is_published": published,
        "description": {"en": f"{name} in English.", "nl": f"{name} in het Nederlands."},
        "name_i18n": {},
    }
    values.update(extra)
    return Organization(**values)


@pytest.fixture
def world(db_session):
    """A public refuge (confidential street, a secretariat-only contact point), a network-only
    centre, a secretariat-only unit and an unpublished organisation."""
    refuge = organisation(
        "be-refuge",
        "Refuge Gent",
        "public",
        is_24_7=True,
        accepts_cross_border_referrals=True,
        last_verified_at=datetime(2026, 3, 1, 23, 30, tzinfo=UTC),
        verification_status="verified",
    )
    refuge.locations = [
        Location(
            visibility="public",
            addresses=[
                Address(
                    address_1=STREET,
                    postal_code="9000",
                    city="Gent",
                    country="BE",
                    visibility="secretariat",
                )
            ],
        )
    ]
    refuge.contacts = [
        Contact(
            title={"en": "Intake desk", "fr": "Accueil"},
            email=OPEN_CONTACT,
            visibility="public",
            position=0,
        ),
        Contact(
            title={"en": "Night desk"}, email=SECRET_CONTACT, visibility="secretariat", position=1
        ),
    ]
    refuge.services = [
        Service(
            service_type="shelter",
            name="Shelter",
            name_i18n={"en": "Shelter", "fr": "Hébergement"},
            description={"en": "Beds for adults."},
            visibility="public",
        ),
        Service(
            service_type="legal_assistance",
            name="Lawyers",
            name_i18n={"en": "Lawyers"},
            visibility="network",
        ),
    ]
    refuge.phones = [Phone(number="+3290000099", is_emergency=True, visibility="public")]
    set_codes(refuge, "exploitation_form", ["sexual", "labour"])
    centre = organisation("nl-centre", "Centrum Noord", "network", country="NL", city="Utrecht")
    unit = organisation(
        "lu-unit", "Cellule secrète", "secretariat", country="LU", city="Luxembourg"
    )
    draft = organisation("be-draft", "Draft Org", "public", published=False)
    db_session.add_all([refuge, centre, unit, draft])
    db_session.commit()
    return {"refuge": refuge, "centre": centre, "unit": unit, "draft": draft}


def reader(role, client, make_user, sign_in):
    if role is not None:
        sign_in(client, make_user(role))
    return client


VISIBLE = {
    None: {"be-refuge"},
    Role.MEMBER: {"be-refuge", "nl-centre"},
    Role.SECRETARIAT: {"be-refuge", "nl-centre", "lu-unit", "be-draft"},
}
ALL_REFS = ("be-refuge", "nl-centre", "lu-unit", "be-draft")


@pytest.mark.parametrize(
    ("role", "ref"),
    [(role, ref) for role in (None, Role.MEMBER, Role.SECRETARIAT) for ref in ALL_REFS],
)
def test_each_reader_opens_exactly_the_organisations_they_may(
    world, client, make_user, sign_in, role, ref
):
    reader(role, client, make_user, sign_in)
    page = client.get(f"/organisations/{ref}")
    printable = client.get(f"/organisations/{ref}/print")
    expected = 200 if ref in VISIBLE[role] else 404
    assert page.status_code == expected
    assert printable.status_code == expected
    if expected == 404:
        # Not visible looks exactly like not existing (but for each response's own CSP nonce).
        def same(body: bytes, key: str) -> bytes:
            return re.sub(rb'nonce="[^"]*"', b'nonce="N"', body.replace(key.encode(), b"REF"))

        absent = client.get("/organisations/no-such-ref").data
        assert same(absent, "no-such-ref") == same(page.data, ref)


@pytest.mark.parametrize("role", [None, Role.MEMBER, Role.CONTACT_POINT, Role.SECRETARIAT])
def test_browse_lists_only_what_the_reader_may_see(world, client, make_user, sign_in, role):
    reader(role, client, make_user, sign_in)
    html = client.get("/organisations").get_data(as_text=True)
    names = {
        "be-refuge": "Refuge Gent",
        "nl-centre": "Centrum Noord",
        "lu-unit": "Cellule secrète",
        "be-draft": "Draft Org",
    }
    clearance = VISIBLE.get(role, VISIBLE[Role.MEMBER])
    for ref, name in names.items():
        assert (name in html) == (ref in clearance), (role, name)


@pytest.mark.parametrize(
    ("role", "sees_street", "sees_secret_contact", "sees_network_service"),
    [
        (None, False, False, False),
        (Role.MEMBER, False, False, True),
        (Role.ORG_EDITOR, False, False, True),
        (Role.SECRETARIAT, True, True, True),
        (Role.ADMIN, True, True, True),
    ],
)
def test_confidential_address_and_secretariat_contact_point_show_only_to_the_secretariat(
    world, client, make_user, sign_in, role, sees_street, sees_secret_contact, sees_network_service
):
    reader(role, client, make_user, sign_in)
    for path in ("/organisations/be-refuge", "/organisations/be-refuge/print"):
        html = client.get(path).get_data(as_text=True)
        assert (STREET in html) is sees_street
        assert ("Address withheld for safety." in html) is not sees_street
        assert "Gent" in html  # the town is always shown
        assert (SECRET_CONTACT in html) is sees_secret_contact
        assert ("Night desk" in html) is sees_secret_contact
        assert OPEN_CONTACT in html
        assert ("Lawyers" in html) is sees_network_service
        assert "+3290000099" in html


def test_organisation_page_shows_badges_taxonomy_and_verification(world, client):
    html = client.get("/organisations/be-refuge", headers={"Accept-Language": "en"}).get_data(
        as_text=True
    )
    assert "Available 24/7" in html
    assert "Accepts cross-border referrals" in html
    assert "Emergency line (24/7)" in html
    assert "sexual exploitation" in html
    assert "labour exploitation" in html
    # Verified 2026-03-01 23:30 UTC is 2 March in Brussels.
    assert "2 March 2026" in html
    assert "Verified" in html


def test_french_page_shows_french_text_and_marks_the_english_fallback(world, client):
    world["refuge"].description = {"fr": "Refuge à Gand, en français.", "en": "Refuge in English."}
    object_session(world["refuge"]).commit()
    client.post("/language", data={"locale": "fr", "next": "/", "csrf_token": _csrf(client)})
    html = client.get("/organisations/be-refuge").get_data(as_text=True)
    assert '<html lang="fr">' in html
    assert "Refuge à Gand, en français." in html
    assert "Hébergement" in html  # service name in French
    assert "exploitation sexuelle" in html  # taxonomy label in French
    # The shelter's description has no French text: English is shown, marked, with lang="en".
    assert 'lang="en">Beds for adults.' in html
    assert "Affiché en anglais" in html
    assert "Accueil" in html  # contact point title in French


def test_page_in_the_readers_language_has_no_fallback_marker(world, client):
    html = client.get("/organisations/be-refuge", headers={"Accept-Language": "nl"}).get_data(
        as_text=True
    )
    assert "Refuge Gent in het Nederlands." in html
    assert 'lang="en">Refuge Gent in English.' not in html


def test_print_page_has_the_essentials_and_no_navigation(world, client, make_user, sign_in):
    sign_in(client, make_user(Role.MEMBER))
    html = client.get("/organisations/be-refuge/print").get_data(as_text=True)
    assert "Refuge Gent" in html
    assert "+32 900 00 099" in html  # grouped for reading
    assert OPEN_CONTACT in html
    assert "css/print.css" in html
    assert 'media="print"' not in html
    assert 'aria-label="Main"' not in html
    assert "/logout" not in html
    assert "Confidential: for network members only" in html


def test_home_counts_by_country_and_submits_search_to_the_search_page(
    world, client, make_user, sign_in
):
    html = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'action="/search"' in html
    assert "1 organisation in all" in html  # anonymous: only the public refuge (singular)
    sign_in(client, make_user(Role.MEMBER))
    html = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "All 2 organisations" in html


def test_empty_directory_says_so(client):
    html = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "The directory is empty for now." in html
    html = client.get("/organisations?country=BE").get_data(as_text=True)
    assert "No organisation matches these filters." in html


def test_browse_filters_by_country_and_type_with_translated_labels(
    world, client, make_user, sign_in
):
    sign_in(client, make_user(Role.MEMBER))
    client.post("/language", data={"locale": "de", "next": "/", "csrf_token": _csrf(client)})
    html = client.get("/organisations?country=NL").get_data(as_text=True)
    assert "Centrum Noord" in html
    assert "Refuge Gent" not in html
    assert "Niederlande" in html
    html = client.get("/organisations?type=police").get_data(as_text=True)
    assert "Centrum Noord" not in html


@pytest.mark.parametrize(
    ("role", "links"),
    [
        (None, {"/login"}),
        (Role.MEMBER, {"/account", "/logout"}),
        (Role.SECRETARIAT, {"/account", "/logout", "/secretariat/"}),
    ],
)
def test_navigation_matches_the_reader(client, make_user, sign_in, role, links):
    reader(role, client, make_user, sign_in)
    html = client.get("/").get_data(as_text=True)
    for link in ("/login", "/account", "/logout", "/secretariat/"):
        assert (f'"{link}"' in html) == (link in links), link
    assert '"/search"' in html


def _csrf(client) -> str:
    """The CSRF token of the client's session, as the language form carries it."""
    html = client.get("/").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


TEMPLATES = Path(__file__).resolve().parents[2] / "web" / "templates"
MSGID = re.compile(r"""_\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')""")


def _template_msgids() -> set[str]:
    paths = [*TEMPLATES.glob("directory/*.html"), *TEMPLATES.glob("secretariat/*.html")]
    paths += [TEMPLATES / name for name in ("base.html", "error.html", "_nav.html")]
    found = set()
    for path in paths:
        for match in MSGID.finditer(path.read_text(encoding="utf-8")):
            found.add(match.group(1) if match.group(1) is not None else match.group(2))
    return found


@pytest.mark.parametrize("locale", ["nl", "fr", "de"])
def test_every_directory_and_shared_interface_string_is_translated(locale):
    catalogue = load_catalogues()[locale]
    messages = _template_msgids() | set(ERROR_TITLES.values())
    messages |= set(VISIBILITY_LABELS.values()) | set(VERIFICATION_LABELS.values())
    missing = sorted(m for m in messages if m not in catalogue)
    assert missing == []


@pytest.mark.parametrize("role", [None, Role.SECRETARIAT])
def test_demo_organisations_without_a_street_show_no_none_as_address(
    settings, client, make_user, sign_in, role
):
    # 22 demo pages once showed a literal "None" where the street goes: an address row with only
    # a town is neither withheld nor complete.
    database = Database(settings.database_url)
    with database.session() as session:
        import_directory(session, DEMO.read_bytes())
        session.commit()
        refs = list(session.scalars(select(Organization.ref).where(Organization.is_published)))
    database.dispose()
    if role is not None:
        sign_in(client, make_user(role))
    shown = 0
    for ref in refs:
        for path in (f"/organisations/{ref}", f"/organisations/{ref}/print"):
            response = client.get(path)
            if response.status_code == 404:  # not visible to this reader
                continue
            assert response.status_code == 200, path
            html = response.get_data(as_text=True)
            reach = html[html.index('id="reach"') :]
            assert "None" not in reach[: reach.index("</section>")], path
            shown += 1
    assert shown >= 20
