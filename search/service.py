"""Search as the rest of Liaison sees it: pick the engine, fall back, keep the index in step.

The embedded index is always kept up to date, also when Meilisearch is the configured engine,
so that search can fall back to it when Meilisearch cannot be reached.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from config import Settings
from core.after_commit import AfterCommitWorker
from core.db import Database
from core.outbox import SearchCursor, SearchOutbox
from directory.models import Organization
from directory.taxonomy import load_taxonomy
from search.analysis import split_near
from search.backend import SearchDocument, SearchUnavailable
from search.changes import Cursor, FileCursor, pruned_through, read_changes, snapshot_cursor
from search.documents import all_documents, documents_for, load_organizations
from search.embedded import EmbeddedBackend
from search.places import Gazetteer, gazetteer
from search.query import SearchPage, SearchQuery

log = logging.getLogger("liaison.search")
RETRY_PRIMARY_SECONDS = 30.0
FOLLOW_SECONDS = 1.0  # how often the follower looks for changes made through other hosts


class SearchService:
    """The configured engine, its embedded fallback and the change-log follower."""

    def __init__(self, settings: Settings, database: Database) -> None:
        self.settings = settings
        self.database = database
        self.embedded = EmbeddedBackend(settings.data_dir / "search" / "embedded")
        self.primary: Any = None
        if settings.search_backend == "meilisearch" or settings.meili_url:
            from search.meili import MeiliBackend

            self.primary = MeiliBackend(settings)
        self._primary_down_until = 0.0
        self._primary_error: str | None = None
        self._ready = False
        self._ready_lock = threading.Lock()
        self._checked_empty = False
        self.cursor_file = FileCursor(self.embedded.path / "cursor.json")
        self.follower = AfterCommitWorker(
            "liaison-search-indexer",
            self._follow,
            flag="search_outbox_dirty",
            logger=log,
            failure="applying search changes failed; the next pass retries",
            every=FOLLOW_SECONDS,
        )

    # -- places ---------------------------------------------------------------------------

    @property
    def places(self) -> Gazetteer:
        """Benelux towns (read once per process, cached under the data directory)."""
        return gazetteer(self.settings.data_dir / "search")

    def prepare(self, query: SearchQuery) -> SearchQuery:
        """Read "shelter near Maastricht" as text "shelter" near Maastricht, sorted by distance."""
        if query.near is not None:
            return query
        text, place = split_near(query.text)
        point = self.places.point(place) if place else None
        if point is None:
            return query
        sort = "distance" if query.sort == "relevance" else query.sort
        return query.replace(text=text, near=point, sort=sort)

    # -- searching ------------------------------------------------------------------------

    def search(self, query: SearchQuery) -> SearchPage:
        """Answer from the configured engine, or from the embedded index when it is down."""
        self.ensure_ready()
        query = self.prepare(query)
        if self.primary is not None and time.monotonic() >= self._primary_down_until:
            try:
                page: SearchPage = self.primary.search(query)
                self._primary_error = None
                return page
            except SearchUnavailable as error:
                self._primary_failed(error)
        return self.embedded.search(query)

    def _primary_failed(self, error: Exception) -> None:
        self._primary_down_until = time.monotonic() + RETRY_PRIMARY_SECONDS
        self._primary_error = str(error)
        log.warning("Meilisearch is unreachable (%s); searching the embedded index instead", error)

    def health(self) -> dict[str, Any]:
        """The engine in use and whether search is degraded (never raises)."""
        embedded = self.embedded.health()
        if self.primary is None:
            return {"backend": "embedded", "status": embedded["status"], "embedded": embedded}
        primary = self.primary.health()
        if primary["status"] == "ok":
            self._primary_down_until = 0.0
            return {"backend": "meilisearch", "status": "ok", "meilisearch": primary}
        return {
            "backend": "meilisearch",
            "status": "degraded",
            "serving": "embedded",
            "detail": "Meilisearch is unreachable; search falls back to the embedded index",
            "meilisearch": primary,
            "embedded": embedded,
        }

    # -- keeping in step ------------------------------------------------------------------

    def ensure_ready(self) -> None:
        """On first use in a process: bring the embedded index up to date, building it when it
        is missing or further behind than the change log reaches (``start`` keeps it so)."""
        if self._ready:
            return
        with self._ready_lock:
            if not self._ready:
                # Another process of this host applying changes (or rebuilding for minutes):
                # answer from the index as it is; the follower catches up after.
                self.drain(wait=False)
                self._ready = True

    def _changes(self, session: Session, ids: list[str]) -> dict[str, list[SearchDocument]]:
        found = load_organizations(session, ids)
        taxonomy = load_taxonomy()
        return {
            i: documents_for(found[i], taxonomy, self.places) if i in found else [] for i in ids
        }

    def _documents(
        self, session: Session, progress: Callable[[int, int], None] | None = None
    ) -> tuple[list[SearchDocument], int]:
        total = int(session.scalar(select(func.count()).select_from(Organization)) or 0)
        documents: list[SearchDocument] = []
        for count, (_, docs) in enumerate(all_documents(session, self.places), 1):
            documents.extend(docs)
            if progress is not None:
                progress(count, total)
        return documents, total

    def drain(self, batch: int = 500, wait: bool = True, build: bool = True) -> int:
        """Apply the changes logged since each index's cursor; returns organisations updated in
        the embedded index (all of them when it had to be rebuilt). Safe to run anywhere, any
        number of times: the cursors say what is left. Without ``wait``, the embedded index is
        left alone while another process of this host is writing it; without ``build``, when it
        would have to be rebuilt (the jobs process leaves that to the web processes that search
        it)."""
        done = self._follow_embedded(batch, wait, build)
        if self.primary is not None and time.monotonic() >= self._primary_down_until:
            try:
                if self.settings.sqlite:  # one host: its writer lock serialises its processes
                    with self.embedded.writing(wait) as held:
                        if held:
                            self._follow_primary(batch)
                else:
                    self._follow_primary(batch)
            except SearchUnavailable as error:
                self._primary_failed(error)  # its cursor stays: it catches up once back
        return done

    # the embedded index (this host's)

    def _embedded_rebuild_reason(self, session: Session, cursor: Cursor | None) -> str | None:
        if self.embedded.needs_rebuild():
            return "it was written by an older version of Liaison"
        if cursor is None:
            return "it has no change-log cursor (a new host, or the first start after an upgrade)"
        behind = _behind(session, cursor)
        if behind is not None or self._checked_empty:
            return behind
        # Once per process (an index of unpublished organisations only stays empty).
        self._checked_empty = True
        if self.embedded.is_empty() and session.scalar(select(Organization.id).limit(1)):
            return "it is empty"
        return None

    def _follow_embedded(self, batch: int, wait: bool = True, build: bool = True) -> int:
        with self.embedded.writing(wait) as held:
            if not held:
                return 0
            cursor = self.cursor_file.load()
            with self.database.session() as session:
                reason = self._embedded_rebuild_reason(session, cursor)
            if reason is not None and not build:
                log.debug("not building the embedded search index here: %s", reason)
                return 0
            if reason is not None:
                log.log(
                    logging.WARNING if cursor is not None else logging.INFO,
                    "rebuilding the embedded search index %s from the database: %s",
                    self.embedded.path,
                    reason,
                )
                return self._rebuild_embedded()
            assert cursor is not None
            done = 0
            while True:
                with self.database.session() as session:
                    rows = read_changes(session, cursor, batch)
                    if not rows:
                        expired = cursor.expire(time.time())
                        if expired is not None:
                            self.cursor_file.save(expired)
                        return done
                    ids = list(dict.fromkeys(row.organization_id for row in rows))
                    changes = self._changes(session, ids)
                self.embedded.upsert_many(changes)
                cursor = cursor.advance([row.seq for row in rows], time.time())
                self.cursor_file.save(cursor)
                done += len(ids)
                if len(rows) < batch:
                    return done

    def _rebuild_embedded(self, progress: Callable[[int, int], None] | None = None) -> int:
        """Rebuild the embedded index and set its cursor (the caller holds the writer lock)."""
        with self.database.session() as session:
            cursor = snapshot_cursor(session, time.time())  # before reading: see its docstring
            documents, total = self._documents(session, progress)
        self.embedded.rebuild(documents)
        self.cursor_file.save(cursor)
        return total

    # the Meilisearch index (shared by every host)

    def _primary_cursor_name(self) -> str:
        return f"meilisearch:{self.primary.uid}"

    def _lock_primary_cursor(self, session: Session) -> SearchCursor | None:
        """The Meilisearch cursor row, locked for this transaction on PostgreSQL; None when
        another host is applying changes right now (it will do this work)."""
        name = self._primary_cursor_name()
        if session.get(SearchCursor, name) is None:
            # Never followed: it was kept in step by draining, so the changes kept are pending.
            session.add(SearchCursor(name=name, seq=pruned_through(session), gaps="{}"))
            try:
                session.commit()
            except IntegrityError:  # another host created it first
                session.rollback()
        statement = select(SearchCursor).where(SearchCursor.name == name)
        if not self.settings.sqlite:
            statement = statement.with_for_update(skip_locked=True)
        return session.scalar(statement.execution_options(populate_existing=True))

    def _follow_primary(self, batch: int) -> int:
        done = 0
        while True:
            with self.database.session() as session:
                row = self._lock_primary_cursor(session)
                if row is None:
                    return done
                cursor = Cursor.from_json(row.seq, row.gaps)
                reason = _behind(session, cursor)
                if reason is not None:
                    log.warning("rebuilding the Meilisearch index from the database: %s", reason)
                    fresh = snapshot_cursor(session, time.time())
                    documents, _ = self._documents(session)
                    self.primary.rebuild(documents)
                    row.seq, row.gaps = fresh.seq, fresh.to_json_gaps()
                    session.commit()
                    return done
                rows = read_changes(session, cursor, batch)
                if not rows:
                    expired = cursor.expire(time.time())
                    if expired is not None:
                        row.gaps = expired.to_json_gaps()
                    session.commit()
                    return done
                ids = list(dict.fromkeys(r.organization_id for r in rows))
                self.primary.upsert_many(self._changes(session, ids))
                cursor = cursor.advance([r.seq for r in rows], time.time())
                row.seq, row.gaps = cursor.seq, cursor.to_json_gaps()
                session.commit()
                done += len(ids)
                if len(rows) < batch:
                    return done

    def _save_primary_cursor(self, cursor: Cursor) -> None:
        with self.database.session() as session:
            row = session.get(SearchCursor, self._primary_cursor_name())
            if row is None:
                row = SearchCursor(name=self._primary_cursor_name())
                session.add(row)
            row.seq, row.gaps = cursor.seq, cursor.to_json_gaps()
            session.commit()

    def reindex(
        self, primary: bool = True, progress: Callable[[int, int], None] | None = None
    ) -> int:
        """Rebuild from the database into fresh indexes swapped in atomically; returns count.

        Each rebuilt index's cursor moves to the newest change read before the organisations,
        so changes committed meanwhile are applied after."""
        with self.database.session() as session:
            cursor = snapshot_cursor(session, time.time())
            documents, total = self._documents(session, progress)
        with self.embedded.writing():
            self.embedded.rebuild(documents)
            self.cursor_file.save(cursor)
        if primary and self.primary is not None:
            self.primary.rebuild(documents)
            self._save_primary_cursor(cursor)
        return total

    def lag(self, session: Session) -> dict[tuple[str, ...], float]:
        """Changes logged that each index has not applied yet (this host's embedded index, and
        the shared Meilisearch index): the ``liaison_search_index_lag`` gauge."""
        lags: dict[tuple[str, ...], float] = {}
        cursors = {"embedded": self.cursor_file.load()}
        if self.primary is not None:
            row = session.get(SearchCursor, self._primary_cursor_name())
            cursors["meilisearch"] = Cursor.from_json(row.seq, row.gaps) if row else None
        for name, cursor in cursors.items():
            seq = cursor.seq if cursor is not None else 0
            pending = select(func.count()).select_from(SearchOutbox).where(SearchOutbox.seq > seq)
            lags[(name,)] = float(session.scalar(pending) or 0)
        return lags

    # -- after commit ---------------------------------------------------------------------

    def _follow(self) -> None:
        """The follower thread's work: catch up (after a local commit, or every second)."""
        if self._ready:
            self.drain()
        else:
            self.ensure_ready()

    def after_commit(self, session: Session) -> None:
        """SQLAlchemy hook: a commit that logged changes wakes the follower at once."""
        self.follower.after_commit(session)

    def kick(self) -> None:
        """Catch up soon, in the background, without holding up the request that committed."""
        self.follower.kick()

    def start(self) -> None:
        """Follow the change log in the background: catch up after each local commit and every
        ``FOLLOW_SECONDS`` (production web processes start at once, others at the first search
        served over HTTP or the first change committed)."""
        self.follower.start()

    def close(self, timeout: float = 10.0) -> None:
        """Stop the follower after the pass it is doing, and the embedded engine's helper
        thread (at app shutdown)."""
        self.follower.close(timeout)
        self.embedded.close()


def _behind(session: Session, cursor: Cursor) -> str | None:
    """Why an index at ``cursor`` cannot catch up from the change log, if it cannot."""
    mark = pruned_through(session)
    if cursor.seq < mark:
        return (
            f"its cursor ({cursor.seq}) is older than the oldest change kept (after {mark}): "
            "the changes in between were pruned"
        )
    top = session.scalar(select(func.max(SearchOutbox.seq)))
    if top is not None and cursor.seq > top:
        return (
            f"its cursor ({cursor.seq}) is ahead of the change log (newest {top}): "
            "the database was restored or replaced"
        )
    return None
