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

from sqlalchemy import delete, func, select, tuple_
from sqlalchemy.orm import Session

from config import Settings
from core.db import Database
from core.outbox import SearchOutbox
from directory.models import Organization
from directory.taxonomy import load_taxonomy
from search.analysis import split_near
from search.backend import SearchDocument, SearchUnavailable
from search.documents import all_documents, documents_for, load_organizations
from search.embedded import EmbeddedBackend
from search.places import Gazetteer, gazetteer
from search.query import SearchPage, SearchQuery

log = logging.getLogger("liaison.search")
RETRY_PRIMARY_SECONDS = 30.0


class SearchService:
    """The configured engine, its embedded fallback and the outbox indexer."""

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
        self._wake = threading.Event()
        self._worker: threading.Thread | None = None
        self._worker_lock = threading.Lock()
        self._closed = False

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
        """On first use in a process: build the embedded index if empty, then drain."""
        if self._ready:
            return
        with self._ready_lock:
            if self._ready:
                return
            with self.database.session() as session:
                has_rows = session.scalar(select(func.count()).select_from(Organization))
            if has_rows and (self.embedded.is_empty() or self.embedded.needs_rebuild()):
                self.reindex(primary=False)
            self._ready = True
        self.drain()

    def _changes(self, session: Session, ids: list[str]) -> dict[str, list[SearchDocument]]:
        found = load_organizations(session, ids)
        taxonomy = load_taxonomy()
        return {
            i: documents_for(found[i], taxonomy, self.places) if i in found else [] for i in ids
        }

    def drain(self, batch: int = 500) -> int:
        """Apply every pending outbox row to the index(es); returns organisations updated."""
        done = 0
        while True:
            with self.database.session() as session:
                rows = session.execute(
                    select(SearchOutbox.seq, SearchOutbox.organization_id, SearchOutbox.created_at)
                    .order_by(SearchOutbox.seq)
                    .limit(batch)
                ).all()
                if not rows:
                    return done
                ids = list(dict.fromkeys(row.organization_id for row in rows))
                changes = self._changes(session, ids)
                self.embedded.upsert_many(changes)
                if self.primary is not None:
                    try:
                        self.primary.upsert_many(changes)
                    except SearchUnavailable as error:
                        self._primary_failed(error)
                        return done  # rows stay queued until Meilisearch is back
                # SQLite may give a later row the number of a row already deleted (by another
                # drain): only the rows read here, by number and time, are done.
                done_rows = [(r.seq, r.created_at) for r in rows]
                session.execute(
                    delete(SearchOutbox).where(
                        tuple_(SearchOutbox.seq, SearchOutbox.created_at).in_(done_rows)
                    )
                )
                session.commit()
                done += len(ids)

    def reindex(
        self, primary: bool = True, progress: Callable[[int, int], None] | None = None
    ) -> int:
        """Rebuild from the database into fresh indexes swapped in atomically; returns count."""
        with self.database.session() as session:
            total = int(session.scalar(select(func.count()).select_from(Organization)) or 0)
            last_seq = session.scalar(select(func.max(SearchOutbox.seq)))
            documents: list[SearchDocument] = []
            for count, (_, docs) in enumerate(all_documents(session, self.places), 1):
                documents.extend(docs)
                if progress is not None:
                    progress(count, total)
        self.embedded.rebuild(documents)
        if primary and self.primary is not None:
            self.primary.rebuild(documents)
        if last_seq is not None:
            with self.database.session() as session:
                session.execute(delete(SearchOutbox).where(SearchOutbox.seq <= last_seq))
                session.commit()
        return total

    # -- after commit ---------------------------------------------------------------------

    def after_commit(self, session: Session) -> None:
        """SQLAlchemy hook: a commit that queued outbox rows wakes the indexer thread."""
        if session.info.pop("search_outbox_dirty", False):
            self.kick()

    def kick(self) -> None:
        """Drain soon, in the background, without holding up the request that committed."""
        with self._worker_lock:
            if self._closed:
                return
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(
                    target=self._run, name="liaison-search-indexer", daemon=True
                )
                self._worker.start()
        self._wake.set()

    def close(self, timeout: float = 10.0) -> None:
        """Stop the indexer thread after the drain it is doing, and the embedded engine's
        helper thread (at app shutdown)."""
        with self._worker_lock:
            self._closed = True
            worker = self._worker
        self._wake.set()
        if worker is not None:
            worker.join(timeout)
        self.embedded.close()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            if self._closed:
                return
            try:
                self.drain()
            except Exception:  # the indexer must survive; the outbox keeps the work
                log.exception("draining the search outbox failed; it will be retried")
                time.sleep(0.5)
