"""Keeping the index in step: outbox drained after commit, deletions, reindex from the database."""

from __future__ import annotations

from sqlalchemy import func, select

from core.outbox import SearchOutbox, enqueue

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
    assert db_session.scalar(select(func.count()).select_from(SearchOutbox)) == 0


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


def test_reindex_rebuilds_from_the_database_and_empties_the_outbox(
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
    assert db_session.scalar(select(func.count()).select_from(SearchOutbox)) == 0


def test_a_fresh_index_is_built_from_the_database_on_first_search(app, db_session, settings):
    from search.query import SearchQuery
    from search.service import SearchService

    from .conftest import demo_records, organization_from_record

    db_session.add_all([organization_from_record(r) for r in demo_records()])
    db_session.commit()
    fresh = SearchService(
        settings.replace(data_dir=settings.data_dir / "other"), app.extensions["liaison.db"]
    )
    page = fresh.search(SearchQuery(text="payoke", audience="public"))
    assert [h.ref for h in page.hits] == ["be-payoke"]


def test_the_jobs_process_drains_the_outbox(add_organizations, db_session, settings, app, find):
    from search.jobs import drain_outbox

    (organization,) = add_organizations(build_organization("kompas", "Kompas"))
    db_session.add(SearchOutbox(organization_id=organization.id))
    db_session.commit()  # without enqueue(): no after-commit wake-up, like another process
    assert drain_outbox(settings, app.extensions["liaison.db"], None) == 1
    assert db_session.scalar(select(func.count()).select_from(SearchOutbox)) == 0
