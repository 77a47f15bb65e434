"""A shelter's whereabouts never leave the secretariat (issue 10).

Shelters whose street address is ``secretariat``-only or ``not_stored`` have stored points several
kilometres from their town's centre. Every GET route, every export an outsider may ask for and
every search (near, radius, distance sort) is walked as an anonymous visitor and as a member: no
answer may hold a coordinate pair within 1 km of a stored point, and trilateration from the
``distance_km`` answers of five places must land no closer than 1 km. The secretariat still sees
the exact point of a ``secretariat`` address.
"""

from __future__ import annotations

import ast
import math
import re
from pathlib import Path

import pytest
import tantivy
from sqlalchemy import select, text, update

from accounts.models import Role
from core import migrate
from core.db import Database
from directory.export import export_directory
from directory.importing import import_directory
from directory.models import Location, Organization
from directory.places import gazetteer, haversine_km
from directory.points import stored_point
from search.query import GeoPoint
from tests.core.test_migrations import PG_URL, _postgres_scratch_url
from tests.directory.samples import jsonl, line, own_session

ROOT = Path(__file__).resolve().parents[2]
# ~6 km north-east of each town's centre: far enough that the centre never passes for the point.
SECRET_POINT = (51.10, 3.79)  # Gent's centre is about (51.05, 3.72)
NOT_STORED_POINT = (50.93, 4.77)  # Leuven's centre is about (50.88, 4.70)
FIVE_PLACES = [(51.21, 3.22), (51.22, 4.40), (50.94, 4.04), (50.85, 3.60), (51.18, 3.56)]
FIVE_PLACES_LEUVEN = [(50.85, 4.35), (51.03, 4.48), (50.93, 5.34), (50.72, 4.60), (50.80, 4.94)]
_NUMBER = re.compile(r"-?\d{1,3}\.\d+")


@pytest.fixture
def session(settings):
    """A session outside the app (see ``own_session``)."""
    yield from own_session(settings)


@pytest.fixture
def shelters(session, app):
    """A public shelter with a secretariat-only address and one whose address is not stored.

    The second is imported with a point (dropped by the importer), then given one straight in
    the table, as a database from before the rule would hold it: it must not leak either.
    """
    report = import_directory(
        session,
        jsonl(
            line(ref="t-secret-address", name="Hidden shelter", lat=SECRET_POINT[0],
                 lon=SECRET_POINT[1]),
            line(
                ref="t-not-stored",
                name="Unlisted shelter",
                city="Leuven",
                lat=NOT_STORED_POINT[0],
                lon=NOT_STORED_POINT[1],
                address={"street": None, "postal_code": "3000", "city": "Leuven",
                         "visibility": "not_stored"},
            ),
            line(ref="t-member-shelter", name="Members' shelter", visibility="network",
                 lat=SECRET_POINT[0], lon=SECRET_POINT[1]),
        ),
    )  # fmt: skip
    assert report.dropped_points == [2]
    assert "dropped on line(s) 2" in report.summary()
    unlisted = session.scalar(select(Organization).where(Organization.ref == "t-not-stored"))
    assert stored_point(unlisted.locations[0]) is None
    table = Location.__table__
    session.execute(
        update(table)
        .where(table.c.organization_id == unlisted.id)
        .values(latitude=NOT_STORED_POINT[0], longitude=NOT_STORED_POINT[1])
    )
    session.commit()
    app.extensions["liaison.search"].drain()
    return {o.ref: o for o in session.scalars(select(Organization))}


STORED = {"t-secret-address": SECRET_POINT, "t-not-stored": NOT_STORED_POINT,
          "t-member-shelter": SECRET_POINT}  # fmt: skip


def leaks(body: str) -> list[str]:
    """Stored points of which a coordinate pair within 1 km appears in ``body``."""
    numbers = [float(n) for n in _NUMBER.findall(body)]
    found = []
    for ref, (lat, lon) in STORED.items():
        lats = [n for n in numbers if abs(n - lat) < 0.009]  # 1 km of latitude
        lons = [n for n in numbers if abs(n - lon) < 0.0143]  # 1 km of longitude at 51°N
        if any(haversine_km(a, b, lat, lon) < 1.0 for a in lats for b in lons):
            found.append(ref)
    return found


def _paths(app, shelters, user_id: str) -> list[str]:
    """Every GET route with its path parameters filled with real ids, refs and slugs."""
    organisations = list(shelters.values())
    services = [s.id for o in organisations for s in o.services]
    contacts = [c.id for o in organisations for c in o.contacts]
    values = {
        "key": [o.id for o in organisations] + [o.ref for o in organisations],
        "organization_id": [o.id for o in organisations],
        "organisation_id": [o.id for o in organisations],
        "service_id": services,
        "contact_id": contacts,
        "user_id": [user_id],
        "vocabulary_id": ["service_type"],
        "term_id": ["shelter"],
        "table": ["referrals"],
        "filename": ["css/site.css"],
    }
    paths = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods:
            continue
        fills: list[dict[str, str]] = [{}]
        for argument in rule.arguments:
            fills = [{**f, argument: v} for f in fills for v in values.get(argument, ["x"])]
        for fill in fills:
            try:
                paths.append(rule.build(fill, append_unknown=False)[1])
            except Exception:  # a converter refusing "x" (uuid): that route needs a real value
                continue
    return sorted(set(paths))


SEARCHES = [
    "/api/v1/search?near=Gent&sort=distance&per_page=100",
    "/api/v1/search?near=Leuven&sort=distance&per_page=100",
    "/api/v1/search?q=shelter&near=Gent&radius_km=50",
    "/api/v1/search?lat={lat}&lon={lon}&sort=distance&per_page=100",
    "/api/v1/search?lat={lat}&lon={lon}&radius_km=100&facets=country",
    "/api/v1/search?lat={lat}&lon={lon}&radius_km=3",
    "/api/v1/search?q=hidden&lat={lat}&lon={lon}&sort=relevance",
    "/search?q=shelter&near=Gent",
    "/search?lat={lat}&lon={lon}&sort=distance&radius_km=100",
    "/api/v1/organizations?per_page=200",
    "/hsds/organizations?per_page=200",
    "/hsds/organizations?full_service=true&format=ndjson",
    "/hsds/services?full=true&format=ndjson",
    "/hsds/service_at_locations?full=true&format=ndjson",
    "/hsds/service_at_locations?postcode=9000",
]


@pytest.mark.parametrize("role", ["anonymous", "member"])
def test_no_channel_gives_a_confidential_point_to_an_outsider(
    app, client, make_user, sign_in, shelters, session, role
):
    user = make_user(Role.MEMBER)
    if role == "member":
        sign_in(client, user)
    bodies: dict[str, str] = {}
    for path in _paths(app, shelters, user.id):
        for query in ("", "?lang=fr"):
            response = client.get(path + query)
            assert response.status_code < 500, path
            bodies[path + query] = response.get_data(as_text=True)
    for stored in STORED.values():
        # 1.5 km north of the stored point: close, yet the query's echo is no leak.
        asked = (round(stored[0] + 0.0135, 4), stored[1])
        for search in SEARCHES:
            url = search.format(lat=asked[0], lon=asked[1])
            response = client.get(url)
            assert response.status_code == 200, url
            bodies[url] = response.get_data(as_text=True)
    scopes = ["public", "network"] if role == "member" else ["public"]
    for export_format in ("jsonl", "csv", "hsds"):
        for scope in scopes:
            bodies[f"export {export_format} {scope}"] = "".join(
                export_directory(session, export_format, scope)
            )
    leaked = {where: leaks(body) for where, body in bodies.items() if leaks(body)}
    assert leaked == {}
    # The walk reached the shelters: their town centres are what outsiders get.
    answer = client.get("/api/v1/organizations/t-secret-address").get_json()
    gent = gazetteer().find("Gent")
    assert answer["location"] == {"lat": gent.lat, "lon": gent.lon, "precision": "town"}
    assert any(str(gent.lat) in body for body in bodies.values())


def _trilaterate(places: list[tuple[float, float]], distances: list[float]) -> tuple[float, float]:
    """Least squares (Gauss-Newton) on a local plane: the point best matching the distances."""
    lat0 = sum(p[0] for p in places) / len(places)
    lon0 = sum(p[1] for p in places) / len(places)
    kx, ky = 111.32 * math.cos(math.radians(lat0)), 110.57
    xy = [((lon - lon0) * kx, (lat - lat0) * ky) for lat, lon in places]
    x, y = 0.0, 0.0
    for _ in range(100):
        a11 = a12 = a22 = b1 = b2 = 0.0
        for (px, py), d in zip(xy, distances, strict=True):
            r = math.hypot(x - px, y - py) or 1e-9
            jx, jy, residual = (x - px) / r, (y - py) / r, r - d
            a11, a12, a22 = a11 + jx * jx, a12 + jx * jy, a22 + jy * jy
            b1, b2 = b1 + jx * residual, b2 + jy * residual
        det = a11 * a22 - a12 * a12
        if abs(det) < 1e-12:
            break
        dx, dy = (a22 * b1 - a12 * b2) / det, (a11 * b2 - a12 * b1) / det
        x, y = x - dx, y - dy
        if math.hypot(dx, dy) < 1e-6:
            break
    return lat0 + y / ky, lon0 + x / kx


@pytest.mark.parametrize("role", ["anonymous", "member"])
@pytest.mark.parametrize(
    ("ref", "places"),
    [("t-secret-address", FIVE_PLACES), ("t-not-stored", FIVE_PLACES_LEUVEN)],
)
def test_trilateration_from_five_distance_answers_lands_no_closer_than_a_kilometre(
    client, make_user, sign_in, shelters, role, ref, places
):
    if role == "member":
        sign_in(client, make_user(Role.MEMBER))
    distances = []
    for lat, lon in places:
        answer = client.get(
            f"/api/v1/search?lat={lat}&lon={lon}&sort=distance&per_page=100"
        ).get_json()
        (hit,) = [h for h in answer["hits"] if h["ref"] == ref]
        assert hit["distance_km"] == round(hit["distance_km"])  # whole kilometres
        distances.append(hit["distance_km"])
    found = _trilaterate(places, distances)
    assert haversine_km(*found, *STORED[ref]) >= 1.0
    # A radius around a point 1.5 km from the stored one does not find it either.
    lat, lon = STORED[ref]
    near = client.get(f"/api/v1/search?lat={lat + 0.0135}&lon={lon}&radius_km=3").get_json()
    assert ref not in {h["ref"] for h in near["hits"]}


def test_the_secretariat_still_sees_the_exact_point_of_a_secretariat_address(
    client, make_user, sign_in, shelters
):
    sign_in(client, make_user(Role.SECRETARIAT))
    answer = client.get("/api/v1/organizations/t-secret-address").get_json()
    assert answer["location"] == {
        "lat": SECRET_POINT[0],
        "lon": SECRET_POINT[1],
        "precision": "exact",
    }
    hsds = client.get("/hsds/organizations/t-secret-address").get_json()
    assert (hsds["locations"][0]["latitude"], hsds["locations"][0]["longitude"]) == SECRET_POINT
    lat, lon = FIVE_PLACES[0]
    found = client.get(f"/api/v1/search?lat={lat}&lon={lon}&sort=distance&per_page=100")
    (hit,) = [h for h in found.get_json()["hits"] if h["ref"] == "t-secret-address"]
    assert hit["distance_km"] == round(haversine_km(lat, lon, *SECRET_POINT), 1)
    # Not stored means not stored, for the secretariat too: only the town.
    unlisted = client.get("/api/v1/organizations/t-not-stored").get_json()
    assert unlisted["location"]["precision"] == "town"
    assert leaks(str(unlisted)) == []


def test_only_the_chooser_reads_the_stored_coordinates():
    allowed = {ROOT / "directory" / "points.py", ROOT / "directory" / "models.py"}
    readers = []
    for package in ("accounts", "core", "directory", "messaging", "search", "web", "client"):
        for path in (ROOT / package).rglob("*.py"):
            if path in allowed:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            names = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
            if names & {"_latitude", "_longitude", "latitude", "longitude"}:
                readers.append(str(path.relative_to(ROOT)))
    assert readers == []


def test_the_address_form_drops_the_point_when_the_address_is_no_longer_stored(
    client, make_user, sign_in, shelters, session
):
    csrf = sign_in(client, make_user(Role.SECRETARIAT))
    organisation = shelters["t-secret-address"]
    response = client.post(
        f"/secretariat/organisations/{organisation.id}/address",
        data={"visibility": "not_stored", "postal_code": "9000", "city": "Gent",
              "csrf_token": csrf},
        follow_redirects=True,
    )  # fmt: skip
    assert response.status_code == 200
    assert "The map point was dropped" in response.get_data(as_text=True)
    session.expire_all()
    location = session.scalar(select(Location).where(Location.organization_id == organisation.id))
    assert stored_point(location) is None


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request, tmp_path) -> str:
    """An empty database to migrate (on PostgreSQL, a scratch one beside the test database)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'migrations.db'}"
    if not PG_URL:
        pytest.skip("PostgreSQL not configured (LIAISON_TEST_DATABASE_URL is not set)")
    return _postgres_scratch_url()


def test_the_migration_clears_the_points_of_addresses_that_are_not_stored(empty_database_url):
    migrate.upgrade(empty_database_url, "46d530f7bd0b")
    database = Database(empty_database_url)
    with database.engine.begin() as connection:
        for number, visibility in ((1, "not_stored"), (2, "secretariat")):
            connection.execute(
                text(
                    "INSERT INTO organization (id, ref, name, name_i18n, description, country, "
                    "org_type, is_24_7, accepts_cross_border_referrals, visibility, "
                    "is_published, verification_status, review_interval_days, created_at, "
                    f"updated_at) VALUES ('00000000-0000-4000-8000-00000000000{number}', "
                    f"'be-{number}', 'Shelter', '{{}}', '{{}}', 'BE', 'police', false, false, "
                    "'public', true, 'unverified', 365, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO location (id, organization_id, latitude, longitude, visibility) "
                    f"VALUES ('00000000-0000-4000-8000-00000000001{number}', "
                    f"'00000000-0000-4000-8000-00000000000{number}', 51.1, 3.79, 'public')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO address (id, location_id, city, country, address_type, "
                    f"visibility) VALUES ('00000000-0000-4000-8000-00000000002{number}', "
                    f"'00000000-0000-4000-8000-00000000001{number}', 'Gent', 'BE', 'physical', "
                    f"'{visibility}')"
                )
            )
    migrate.upgrade(empty_database_url, "locpriv0001")
    with database.engine.connect() as connection:
        points = connection.execute(
            text("SELECT organization_id, latitude, longitude FROM location ORDER BY 1")
        ).all()
    database.dispose()
    assert [tuple(row[1:]) for row in points] == [(None, None), (51.1, 3.79)]


_SCHEMA_BUILDER = tantivy.SchemaBuilder


class _BuilderWithoutPrecision:
    """A schema builder of the index format before ``point_precision`` (exact points for all)."""

    def __init__(self) -> None:
        self._builder = _SCHEMA_BUILDER()

    def __getattr__(self, name: str):
        method = getattr(self._builder, name)

        def call(*args, **kwargs):
            if args and args[0] == "point_precision":
                return self
            return method(*args, **kwargs)

        return call


def test_an_index_of_the_format_before_the_rule_is_rebuilt_with_town_centres(
    app, settings, shelters, monkeypatch
):
    import tantivy

    from search import fields
    from search.documents import documents_for
    from search.query import SearchQuery
    from search.service import SearchService

    monkeypatch.setattr(fields.tantivy, "SchemaBuilder", _BuilderWithoutPrecision)
    older_schema = fields.schema()
    monkeypatch.undo()
    path = settings.data_dir / "older" / "search" / "embedded"
    (path / "gen-1").mkdir(parents=True)
    older = tantivy.Index(older_schema, path=str(path / "gen-1"))
    fields.register(older)
    writer = older.writer(heap_size=15_000_000, num_threads=1)
    # What the old code wrote: the stored point in every audience's document.
    for document in documents_for(shelters["t-secret-address"], places=gazetteer()):
        document.update(lat=SECRET_POINT[0], lon=SECRET_POINT[1])
        writer.add_document(fields.to_tantivy(document))
    writer.commit()
    writer.wait_merging_threads()
    (path / "CURRENT").write_text("gen-1")

    service = SearchService(
        settings.replace(data_dir=settings.data_dir / "older"), app.extensions["liaison.db"]
    )
    try:
        near = GeoPoint(*FIVE_PLACES[0])
        page = service.search(SearchQuery(near=near, sort="distance", audience="public"))
    finally:
        service.close()
    assert not service.embedded.needs_rebuild()
    (hit,) = [h for h in page.hits if h.ref == "t-secret-address"]
    gent = gazetteer().find("Gent")
    assert hit.distance_km == round(haversine_km(near.lat, near.lon, gent.lat, gent.lon))


def test_the_audit_history_redacts_the_point_of_a_confidential_address(session, shelters):
    from core.audit import AuditEntry

    entries = session.scalars(
        select(AuditEntry).where(
            AuditEntry.organization_id == shelters["t-secret-address"].id,
            AuditEntry.field.in_(["lat", "lon"]),
        )
    ).all()
    assert {(e.field, e.new_value) for e in entries} == {
        ("lat", "[redacted]"),
        ("lon", "[redacted]"),
    }


def test_a_public_address_keeps_its_exact_point_for_everyone(session, client):
    public_address = {"street": "Open 1", "postal_code": "2000", "city": "Antwerpen",
                      "visibility": "public"}  # fmt: skip
    import_directory(
        session,
        jsonl(line(ref="t-open", city="Antwerpen", lat=51.23, lon=4.45, address=public_address)),
    )
    session.commit()
    answer = client.get("/api/v1/organizations/t-open").get_json()
    assert answer["location"] == {"lat": 51.23, "lon": 4.45, "precision": "exact"}
