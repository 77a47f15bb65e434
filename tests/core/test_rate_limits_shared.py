"""Rate limits counted in the database: two app instances (separate data directories, one
database — PostgreSQL with LIAISON_TEST_DATABASE_URL, else one shared SQLite file) share every
limit; anonymous search and HSDS are limited per client address.

The limiters' clocks are set to one fixed instant so that no minute boundary falls between the
requests of a test (the windows are whole minutes of the clock).
"""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from accounts.api_tokens import issue_token
from accounts.models import Role
from core.app import close_app, create_app
from core.metrics import metrics
from core.ratelimit import PUBLIC_LIMITERS, RateCounter, RateLimiter, TooManyRequests
from messaging.api_common import LIMITERS
from messaging.models import Envelope
from tests.conftest import PG_URL
from tests.core.tcp_proxy import TcpProxy
from tests.messaging import conftest as messaging

# The messaging tests' fixtures, used here too.
make_person, organisations, sealed = (
    messaging.make_person,
    messaging.organisations,
    messaging.sealed,
)

NOW = 1_800_000_010.25  # 10.25 s into a minute: Retry-After is 50 s until it ends


def _freeze(app, **limits: int) -> None:
    """Fix every limiter's clock at NOW and set the given per-minute limits."""
    limiters = {**app.extensions[LIMITERS], **app.extensions[PUBLIC_LIMITERS]}
    for name, limiter in limiters.items():
        limiter.clock = lambda: NOW
        if name in limits:
            limiter.per_minute = limits[name]


@pytest.fixture
def apps(app, settings, tmp_path):
    """The test's app and a second instance: its own data directory, the same database."""
    second = create_app(settings.replace(data_dir=tmp_path / "second"))
    second.config["TESTING"] = True
    yield app, second
    close_app(second)


def _bearer(db_session, settings, person) -> dict[str, str]:
    secret, _row = issue_token(db_session, person.user, settings)
    db_session.commit()
    return {"Authorization": f"Bearer {secret}"}


def test_a_send_limit_holds_across_two_app_instances(apps, make_person, db_session, settings):
    anna, bram = make_person("A"), make_person("A")
    headers = _bearer(db_session, settings, anna)
    for instance in apps:
        _freeze(instance, send=3)

    answers = [
        apps[number % 2]
        .test_client()
        .post("/api/v1/messages", json=sealed(anna, bram), headers=headers)
        for number in range(8)
    ]

    assert [a.status_code for a in answers] == [201, 201, 201] + [429] * 5
    assert {a.headers["Retry-After"] for a in answers[3:]} == {"50"}
    assert {a.get_json()["check"] for a in answers[3:]} == {"rate-limited"}
    assert db_session.scalar(select(func.count()).select_from(Envelope)) == 3
    # every attempt counted, the refused ones too, in one row for the minute
    row = db_session.scalars(select(RateCounter).where(RateCounter.scope == "send")).one()
    assert (row.key, row.window_start, row.count) == (anna.user.id, 1_800_000_000, 8)


def test_refused_posts_count_too_so_the_limit_is_not_reset_by_errors(apps, make_person):
    anna, bram = make_person("A"), make_person("A")
    for instance in apps:
        _freeze(instance, send=2)
    malformed = anna.post("/api/v1/messages", json={"not": "an envelope"})
    good = [anna.post("/api/v1/messages", json=sealed(anna, bram)) for _ in range(2)]

    assert malformed.status_code == 400
    assert [g.status_code for g in good] == [201, 429]


def test_key_lookups_limit_holds_across_two_app_instances(apps, make_person, db_session, settings):
    anna, bram = make_person("A"), make_person("A")
    headers = _bearer(db_session, settings, anna)
    for instance in apps:
        _freeze(instance, lookup=5)

    statuses = [
        apps[number % 2]
        .test_client()
        .get(f"/api/v1/users/{bram.user.id}/keys", headers=headers)
        .status_code
        for number in range(9)
    ]

    assert statuses == [200] * 5 + [429] * 4


def _search(app, address: str, path: str = "/search?q=opvang", **headers: str):
    return app.test_client().get(path, headers=headers, environ_base={"REMOTE_ADDR": address})


def test_anonymous_search_is_limited_per_address_across_instances(apps):
    for instance in apps:
        _freeze(instance, search=3)
    paths = ["/search?q=opvang", "/api/v1/search?q=opvang"]

    allowed = [_search(apps[n % 2], "203.0.113.5", paths[n % 2]) for n in range(3)]
    page = _search(apps[0], "203.0.113.5", **{"Accept-Language": "nl"})
    api = _search(apps[1], "203.0.113.5", "/api/v1/search?q=opvang")
    partial = _search(
        apps[1], "203.0.113.5", **{"X-Liaison-Partial": "results", "Accept-Language": "fr"}
    )
    elsewhere = _search(apps[1], "203.0.113.6")

    assert [a.status_code for a in allowed] == [200, 200, 200]
    assert page.status_code == 429
    assert page.headers["Retry-After"] == "50"
    assert page.mimetype == "text/html"
    assert "Probeer het over 50 seconden opnieuw" in page.get_data(as_text=True)
    assert api.status_code == 429
    assert api.headers["Retry-After"] == "50"
    assert api.mimetype == "application/problem+json"
    assert api.get_json()["status"] == 429
    assert api.get_json()["check"] == "rate-limited"
    # search-as-you-type gets the message for its results area, not a whole page
    assert partial.status_code == 429
    assert partial.get_data(as_text=True).startswith('<p class="error" role="alert">')
    assert "Veuillez réessayer dans 50 secondes" in partial.get_data(as_text=True)
    assert "<html" not in partial.get_data(as_text=True)
    assert elsewhere.status_code == 200
    exposition = metrics(apps[0]).exposition().decode()
    assert 'liaison_rate_limited_total{scope="search"} 1.0' in exposition


def test_hsds_is_limited_per_address_across_instances(apps):
    for instance in apps:
        _freeze(instance, hsds=4)
    paths = ["/hsds/", "/hsds/organizations", "/hsds/services", "/hsds/taxonomies"]

    allowed = [_search(apps[n % 2], "198.51.100.20", paths[n]) for n in range(4)]
    refused = _search(apps[1], "198.51.100.20", "/hsds/organizations")

    assert [a.status_code for a in allowed] == [200] * 4
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "50"
    assert refused.mimetype == "application/problem+json"
    assert "50 seconds" in refused.get_json()["detail"]
    assert _search(apps[0], "198.51.100.21", "/hsds/").status_code == 200


def test_an_ipv6_client_is_counted_by_its_64_network(app):
    _freeze(app, search=2)

    first = _search(app, "2001:db8:1:2::10")
    second = _search(app, "2001:db8:1:2:ffff::1")
    same_network = _search(app, "2001:db8:1:2::99")
    other_network = _search(app, "2001:db8:1:3::10")

    assert [first.status_code, second.status_code] == [200, 200]
    assert same_network.status_code == 429
    assert other_network.status_code == 200


def test_x_forwarded_for_is_ignored_unless_a_proxy_is_trusted(apps, settings, tmp_path):
    untrusted = apps[0]
    _freeze(untrusted, search=2)
    spoofed = [
        _search(untrusted, "192.0.2.1", **{"X-Forwarded-For": f"203.0.113.{n}"}).status_code
        for n in range(3)
    ]
    assert spoofed == [200, 200, 429]

    trusted = create_app(settings.replace(data_dir=tmp_path / "proxied", trusted_proxies=1))
    try:
        _freeze(trusted, search=2)
        proxy = "127.0.0.1"  # nginx on the same host
        one = [_search(trusted, proxy, **{"X-Forwarded-For": "198.51.100.7"}) for _ in range(2)]
        # A client's own X-Forwarded-For entry is not believed: nginx appends the real address.
        forged = _search(trusted, proxy, **{"X-Forwarded-For": "10.9.9.9, 198.51.100.7"})
        other = _search(trusted, proxy, **{"X-Forwarded-For": "198.51.100.8"})
    finally:
        close_app(trusted)

    assert [r.status_code for r in one] == [200, 200]
    assert forged.status_code == 429
    assert other.status_code == 200


def test_signed_in_people_are_limited_per_person_not_per_address(app, make_user, sign_in):
    _freeze(app, search=2)
    anna, bram = app.test_client(), app.test_client()
    sign_in(anna, make_user(Role.MEMBER))
    sign_in(bram, make_user(Role.MEMBER))
    office = {"REMOTE_ADDR": "192.0.2.50"}

    annas = [anna.get("/search?q=x", environ_base=office).status_code for _ in range(3)]
    brams = [bram.get("/search?q=x", environ_base=office).status_code for _ in range(2)]
    anonymous = _search(app, "192.0.2.50")

    assert annas == [200, 200, 429]
    assert brams == [200, 200]
    assert anonymous.status_code == 200


def test_a_limit_of_zero_means_no_limit_and_no_counting(app, db_session):
    _freeze(app, search=0)

    statuses = {_search(app, "192.0.2.9").status_code for _ in range(5)}

    assert statuses == {200}
    assert db_session.scalar(select(func.count()).select_from(RateCounter)) == 0


def test_a_new_minute_allows_again_and_old_minutes_are_pruned(app, db_session):
    limiter = RateLimiter(2, "probe", app.extensions["liaison.db"])
    now = [NOW]
    limiter.clock = lambda: now[0]
    limiter.hit("anna", "probes")
    limiter.hit("anna", "probes")
    with pytest.raises(TooManyRequests) as refused:
        limiter.hit("anna", "probes")
    assert refused.value.retry_after == 50

    now[0] = NOW + 50  # the next minute
    limiter.hit("anna", "probes")
    now[0] = NOW + 110  # the minute after: the first minute's row goes, the previous stays
    limiter.hit("anna", "probes")

    windows = db_session.scalars(
        select(RateCounter.window_start).where(RateCounter.scope == "probe")
    ).all()
    assert sorted(windows) == [1_800_000_060, 1_800_000_120]


def test_a_counter_that_cannot_be_written_lets_the_request_through_with_a_warning(app, caplog):
    _freeze(app, search=1)
    engine = app.extensions["liaison.db"].engine
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE rate_counter"))
    try:
        with caplog.at_level(logging.WARNING, logger="liaison.ratelimit"):
            statuses = [_search(app, "192.0.2.77").status_code for _ in range(3)]
    finally:
        RateCounter.__table__.create(engine)

    assert statuses == [200, 200, 200]
    assert any("not counted" in r.getMessage() for r in caplog.records)


@pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL (a server to lose) behind a TCP proxy")
def test_an_unreachable_database_answers_503_not_500(settings):
    url = make_url(PG_URL)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    app = create_app(settings.replace(database_url=proxied))
    try:
        _freeze(app, search=5)
        assert _search(app, "192.0.2.80").status_code == 200
        proxy.cut()
        down = _search(app, "192.0.2.80", "/api/v1/search?q=x")
        proxy.restore()
        back = _search(app, "192.0.2.80")
    finally:
        close_app(app)
        proxy.close()

    assert down.status_code == 503
    assert down.headers["Retry-After"]
    assert back.status_code == 200
