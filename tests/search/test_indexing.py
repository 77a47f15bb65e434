"""Keeping the index in step: changes applied after commit, deletions, reindex from the database."""

from __future__ import annotations

from sqlalchemy import func, select

from core.outbox import SearchOutbox, enqueue
from search.query import SearchQuery

from .conftest import build_organization, refs, wait_until


def test_a_change_becomes_searchable_after_the_commit_without_a_manual_drain(
    add_organizations, db_session, find
):
    (organization,) = add_organizations(build_organization("kompas", "Kompas"))
    organization.name = "Vuurtoren"
    enqueue(db_session, organization.id)
    db_session.commit()  # the after-commit hook wakes the indexer; nobody drains by hand
    # Typically well under a second (docs/benchmarks.md); generous here for a loaded CI host.
    assert wait_until(lambda: refs(find("vuurtoren")) == ["kompas"], timeout=15.0)
    assert refs(find("kompas", prefix=False)) == []


def test_nothing_changes_in_the_index_before_the_commit(add_organizations, db_session, find):
    (organization,) = add_organizations(build_organization("kompas", "Kompas"))
    organization.name = "Vuurtoren"
    enqueue(db_session, organization.id)
    db_session.flush()
    assert refs(find("vuurtoren")) == []
    db_session.rollback()
    assert refs(find("kompas")) == ["kompas"]


def test_a_deleted_organisation_leaves_the_index(
    add_organizations, db_session, find, search_service
):
    (organization,) = add_organizations(build_organization("kompas", "Kompas"))
    enqueue(db_session, organization.id, reason="deleted")
    db_session.delete(organization)
    db_session.commit()
    search_service.drain()
    assert refs(find("kompas")) == []
    # The change stays in the log (other hosts read it too); this index's cursor is past it.
    newest = db_session.scalar(select(func.max(SearchOutbox.seq)))
    assert search_service.cursor_file.load().seq == newest


def test_draining_twice_is_harmless(add_organizations, db_session, find, search_service):
    (organization,) = add_organizations(build_organization("kompas", "Kompas"))
    for _ in range(3):
        enqueue(db_session, organization.id)
    db_session.commit()
    search_service.drain()
    search_service.drain()
    page = find("kompas")
    assert refs(page) == ["kompas"]
    assert page.total == 1


def test_reindex_rebuilds_from_the_database_and_moves_the_cursor_past_the_log(
    demo, db_session, search_service, find
):
    payoke = next(o for o in demo if o.ref == "be-payoke")
    payoke.name = "Vuurtoren"  # changed behind the outbox's back: the index is stale
    db_session.commit()
    assert refs(find("vuurtoren")) == []
    enqueue(db_session, payoke.id)
    db_session.commit()
    progress = []
    assert search_service.reindex(progress=lambda done, total: progress.append((done, total))) == 39
    assert progress[-1] == (39, 39)
    assert refs(find("vuurtoren")) == ["be-payoke"]
    newest = db_session.scalar(select(func.max(SearchOutbox.seq)))
    assert search_service.cursor_file.load().seq == newest


def test_a_fresh_index_is_built_from_the_database_on_first_search(app, db_session, settings):
    from search.service import SearchService

    from .conftest import demo_records, organization_from_record

    db_session.add_all([organization_from_record(r) for r in demo_records()])
    db_session.commit()
    fresh = SearchService(
        settings.replace(data_dir=settings.data_dir / "other"), app.extensions["liaison.db"]
    )
    page = fresh.search(SearchQuery(text="payoke", audience="public"))
    assert [h.ref for h in page.hits] == ["be-payoke"]


def test_the_jobs_process_applies_the_change_log(db_session, settings, app, tmp_path):
    from search.jobs import drain_outbox
    from search.service import SearchService

    organization = build_organization("kompas", "Kompas")
    db_session.add(organization)
    db_session.flush()
    db_session.add(SearchOutbox(organization_id=organization.id))
    db_session.commit()  # without enqueue(): no after-commit wake-up, like another process
    jobs_host = settings.replace(data_dir=tmp_path / "jobs-host")
    database = app.extensions["liaison.db"]
    assert drain_outbox(jobs_host, database, None) == 0
    index = jobs_host.data_dir / "search" / "embedded"
    assert not (index / "cursor.json").exists()  # it builds no index of its own
    web = SearchService(jobs_host, database)  # a web process of that host builds it
    web.drain()
    web.close()
    organization.name = "Vuurtoren"
    db_session.add(SearchOutbox(organization_id=organization.id))
    db_session.commit()
    assert drain_outbox(jobs_host, database, None) == 1
    assert drain_outbox(jobs_host, database, None) == 0  # its cursor is past the change
    service = SearchService(jobs_host, database)
    try:
        page = service.embedded.search(SearchQuery(text="vuurtoren", audience="secretariat"))
        assert [hit.ref for hit in page.hits] == ["kompas"]
    finally:
        service.close()
