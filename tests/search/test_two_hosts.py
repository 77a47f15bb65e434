"""Every host's embedded index follows the search change log from its own cursor.

Two app instances with separate data dirs (so separate embedded index folders) share one database:
PostgreSQL when ``LIAISON_TEST_DATABASE_URL`` is set, else one SQLite file. Also: the cursor, late
numbers (a lower ``seq`` committed after a higher one), pruning and the rebuild it may force.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from accounts.models import Role
from core.app import close_app, create_app
from core.db import Database, utcnow
from core.outbox import PRUNED, SearchCursor, SearchOutbox, enqueue
from directory import services
from search.changes import GAP_SECONDS, Cursor
from search.jobs import prune_changes
from search.query import SearchQuery
from search.service import SearchService
from tests.conftest import PG_URL

from .conftest import build_organization, refs, wait_until

# The promise: a change made through one host is searchable on every host within this.
WITHIN_SECONDS = 2.0


@pytest.fixture
def host_b(settings, tmp_path):
    """A second app instance: its own data dir (and index folder), the same database."""
    application = create_app(settings.replace(data_dir=tmp_path / "host-b"))
    application.config["TESTING"] = True
    yield application
    close_app(application)


def api_refs(app, text: str) -> list[str]:
    """Refs found by the public search API of ``app``."""
    body = app.test_client().get("/api/v1/search", query_string={"q": text}).get_json()
    return [hit["ref"] for hit in body["hits"]]


def newest_seq(session) -> int:
    return int(session.scalar(select(func.max(SearchOutbox.seq))) or 0)


def test_a_change_through_one_host_is_found_by_search_on_the_other(
    app, host_b, add_organizations, db_session, make_user, settings
):
    (organization,) = add_organizations(build_organization("kompas", "Kompas"))
    assert api_refs(host_b, "kompas") == ["kompas"]  # B built its own index from the database
    assert (settings.data_dir / "host-b" / "search" / "embedded" / "cursor.json").exists()
    secretariat = make_user(Role.SECRETARIAT)

    # The secretariat renames the organisation through host A's service layer.
    services.update_organization(db_session, secretariat.id, organization.id, {"name": "Vuurtoren"})
    db_session.commit()

    deadline = time.monotonic() + WITHIN_SECONDS
    found: list[str] = []
    while time.monotonic() < deadline:
        found = api_refs(host_b, "vuurtoren")
        if found:
            break
        time.sleep(0.05)
    assert found == ["kompas"], f"not searchable on host B within {WITHIN_SECONDS} s"
    assert api_refs(host_b, "kompas") == []
    # The change stays in the log for the other indexes: host A applies it too.
    assert wait_until(lambda: api_refs(app, "vuurtoren") == ["kompas"], timeout=15.0)
    assert db_session.scalar(select(func.count()).select_from(SearchOutbox)) >= 2


def test_processes_of_one_host_share_its_index_and_cursor(
    settings, app, add_organizations, db_session
):
    database = app.extensions["liaison.db"]
    app.extensions["liaison.search"].follower.close()  # the two below are the host's processes
    (organization,) = add_organizations(build_organization("kompas", "Kompas"))
    first, second = SearchService(settings, database), SearchService(settings, database)
    try:
        organization.name = "Vuurtoren"
        enqueue(db_session, organization.id)
        db_session.commit()
        assert first.drain() == 1  # one process applies the change, under the writer lock
        assert second.drain() == 0  # the other finds the shared cursor past it
        assert first.cursor_file.load().seq == newest_seq(db_session)

        def found() -> list[str]:
            query = SearchQuery(text="vuurtoren", audience="secretariat")
            return refs(second.embedded.search(query))

        assert wait_until(lambda: found() == ["kompas"], timeout=5.0)  # it reopens the reader
    finally:
        first.close()
        second.close()


def test_the_cursor_skips_a_number_and_reads_it_again_until_it_turns_up():
    cursor = Cursor(seq=10).advance([11, 13, 14], now=1000.0)
    assert cursor.seq == 14
    assert cursor.gaps == {12: 1000.0}
    later = cursor.advance([12, 15], now=1005.0)  # the late transaction committed
    assert later.seq == 15
    assert later.gaps == {}
    assert cursor.expire(now=1000.0 + GAP_SECONDS - 1) is None
    given_up = cursor.expire(now=1000.0 + GAP_SECONDS)
    assert given_up is not None
    assert given_up.gaps == {}
    assert given_up.seq == 14
    assert Cursor.from_json(14, cursor.to_json_gaps()) == cursor


def test_a_lower_number_committed_after_a_higher_one_is_still_applied(
    settings, app, add_organizations, db_session, search_service, find, request
):
    early, late = add_organizations(
        build_organization("kompas", "Kompas"), build_organization("baken", "Baken")
    )
    database: Database = app.extensions["liaison.db"]
    if PG_URL:
        # For real: one transaction takes its number first and commits after another.
        slow = database.sessions()
        request.addfinalizer(slow.close)  # never left holding its locks if an assert fails
        slow.get(type(early), early.id).name = "Vuurtoren"
        slow_row = SearchOutbox(organization_id=early.id)
        slow.add(slow_row)
        slow.flush()  # number N taken, not committed
        missing = slow_row.seq
        late.name = "Lichtschip"
        db_session.add(SearchOutbox(organization_id=late.id))
        db_session.commit()  # number N + 1 committed
    else:
        # SQLite writes one transaction at a time: write the late row's number by hand.
        missing = newest_seq(db_session) + 1
        late.name = "Lichtschip"
        db_session.add(SearchOutbox(seq=missing + 1, organization_id=late.id))
        db_session.commit()
    search_service.drain()
    assert refs(find("lichtschip")) == ["baken"]
    cursor = search_service.cursor_file.load()
    assert cursor.seq == missing + 1
    assert missing in cursor.gaps

    if PG_URL:
        slow.commit()
    else:
        early.name = "Vuurtoren"
        db_session.add(SearchOutbox(seq=missing, organization_id=early.id))
        db_session.commit()
    search_service.drain()
    assert refs(find("vuurtoren")) == ["kompas"]
    assert missing not in search_service.cursor_file.load().gaps


def age(db_session, days: int) -> None:
    """Make every logged change ``days`` old."""
    db_session.execute(update(SearchOutbox).values(created_at=utcnow() - timedelta(days=days)))
    db_session.commit()


def test_pruning_keeps_recent_changes_and_the_newest_one(
    settings, app, add_organizations, db_session
):
    database = app.extensions["liaison.db"]
    kompas, _ = add_organizations(
        build_organization("kompas", "Kompas"), build_organization("baken", "Baken")
    )
    age(db_session, 8)
    assert prune_changes(settings, database, None) == 1  # the newest row stays, however old
    assert db_session.scalar(select(func.count()).select_from(SearchOutbox)) == 1
    enqueue(db_session, kompas.id)
    db_session.commit()  # recent: kept; the old one is no longer the newest
    assert prune_changes(settings, database, None) == 1
    kept = db_session.scalars(select(SearchOutbox.seq)).all()
    assert len(kept) == 1
    assert db_session.get(SearchCursor, PRUNED).seq < kept[0]
    assert prune_changes(settings, database, None) == 0


def test_an_index_behind_the_pruned_changes_rebuilds_from_the_database(
    settings, app, host_b, add_organizations, db_session, caplog
):
    database = app.extensions["liaison.db"]
    (organization,) = add_organizations(build_organization("kompas", "Kompas"))
    b_service: SearchService = host_b.extensions["liaison.search"]
    b_service.drain()  # host B is in step ...
    b_service.close()  # ... then down for more than the retention
    organization.name = "Vuurtoren"
    enqueue(db_session, organization.id)
    db_session.commit()
    enqueue(db_session, organization.id)
    db_session.commit()
    age(db_session, 8)
    assert prune_changes(settings, database, None) >= 2

    back = SearchService(settings.replace(data_dir=settings.data_dir / "host-b"), database)
    try:
        with caplog.at_level(logging.WARNING, logger="liaison.search"):
            assert back.drain() == 1  # a full rebuild: every organisation
        assert "pruned" in caplog.text
        query = SearchQuery(text="vuurtoren", audience="secretariat")
        assert refs(back.embedded.search(query)) == ["kompas"]
        assert back.cursor_file.load().seq == newest_seq(db_session)
    finally:
        back.close()


def test_an_index_ahead_of_the_log_rebuilds_after_a_restore(
    add_organizations, db_session, search_service, find, caplog
):
    add_organizations(build_organization("kompas", "Kompas"))
    search_service.cursor_file.save(Cursor(seq=newest_seq(db_session) + 500))
    with caplog.at_level(logging.WARNING, logger="liaison.search"):
        search_service.drain()
    assert "restored" in caplog.text
    assert search_service.cursor_file.load().seq == newest_seq(db_session)
    assert refs(find("kompas")) == ["kompas"]


def test_index_lag_counts_changes_not_applied_yet(add_organizations, db_session, search_service):
    (organization,) = add_organizations(build_organization("kompas", "Kompas"))
    search_service.follower.close()  # nothing applies changes behind the test's back
    assert search_service.lag(db_session) == {("embedded",): 0.0}
    db_session.add(SearchOutbox(organization_id=organization.id))  # no wake-up: not applied
    db_session.add(SearchOutbox(organization_id=organization.id))
    db_session.commit()
    assert search_service.lag(db_session) == {("embedded",): 2.0}
    search_service.drain()
    assert search_service.lag(db_session) == {("embedded",): 0.0}


def test_while_meilisearch_is_down_its_cursor_waits_and_the_embedded_index_goes_on(
    settings, app, add_organizations, db_session
):
    import socket

    with socket.socket() as sock:  # a port nobody listens on: connecting is refused for real
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    add_organizations(build_organization("kompas", "Kompas"))
    meili = settings.replace(
        search_backend="meilisearch",
        meili_url=f"http://127.0.0.1:{closed}",
        data_dir=settings.data_dir / "meili-host",
    )
    service = SearchService(meili, app.extensions["liaison.db"])
    try:
        assert service.drain() == 1  # its embedded index was built all the same
        row = db_session.get(SearchCursor, "meilisearch:organisations")
        assert row is not None
        assert row.seq == 0  # nothing applied to Meilisearch: it catches up once reachable
        assert service.lag(db_session) == {("embedded",): 0.0, ("meilisearch",): 1.0}
    finally:
        service.close()


def test_the_lag_is_a_metric_per_index(settings, db_session):
    from prometheus_client.parser import text_string_to_metric_families

    token = "t" * 40
    application = create_app(settings.replace(metrics_token=token))
    try:
        organization = build_organization("kompas", "Kompas")
        db_session.add(organization)
        db_session.flush()
        db_session.add(SearchOutbox(organization_id=organization.id))  # no wake-up: pending
        db_session.commit()
        client = application.test_client()

        def lag() -> float:
            text = client.get("/metrics", headers={"Authorization": f"Bearer {token}"}).text
            return next(
                sample.value
                for family in text_string_to_metric_families(text)
                for sample in family.samples
                if sample.name == "liaison_search_index_lag"
                and sample.labels == {"index": "embedded"}
            )

        assert lag() == 1.0
        application.extensions["liaison.search"].drain()
        assert lag() == 0.0
    finally:
        close_app(application)


def test_a_first_search_does_not_wait_for_another_process_writing_the_index(
    settings, app, add_organizations
):
    import fcntl
    import threading

    add_organizations(build_organization("kompas", "Kompas"))
    other_process = SearchService(settings, app.extensions["liaison.db"])  # same host and folder
    pages = []
    with (settings.data_dir / "search" / "embedded" / "writer.lock").open("a+b") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)  # a long rebuild elsewhere on this host
        try:
            query = SearchQuery(text="kompas", audience="secretariat")
            search = threading.Thread(target=lambda: pages.append(other_process.search(query)))
            search.start()
            search.join(timeout=60)  # a guard against hanging the suite, not a timing
            assert not search.is_alive(), "the search waited for the writer lock"
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)
            other_process.close()
    assert refs(pages[0]) == ["kompas"]  # answered from the index as it was
