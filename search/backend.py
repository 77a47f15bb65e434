"""The contract every search engine behind Liaison fulfils, and an engine that finds nothing."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from search.query import SearchPage, SearchQuery

SearchDocument = dict[str, Any]


class SearchUnavailable(RuntimeError):
    """The engine cannot be reached or answered with an error; callers may fall back."""


class SearchBackend(Protocol):
    """A search engine holding one document per organisation and audience.

    Documents come from ``search.documents.build_documents``: each carries ``doc_id`` (unique),
    ``id`` (the organisation), ``audiences`` (who may find it) and the searchable fields. An
    organisation may have several documents when audiences see different things.
    """

    name: str

    def upsert(self, organization_id: str, documents: Iterable[SearchDocument]) -> None:
        """Replace every document of the organisation by ``documents`` (none: remove it).

        Idempotent; visible to ``search`` once this returns (the embedded engine) or once the
        engine has processed the task (Meilisearch, usually milliseconds).
        """
        ...

    def delete(self, organization_id: str) -> None:
        """Remove every document of the organisation; removing an absent one is not an error."""
        ...

    def search(self, query: SearchQuery) -> SearchPage:
        """Answer one query with only documents built for ``query.audience``.

        Facet counts and the total cover every match the audience may see, never more.
        Raises ``SearchUnavailable`` when the engine cannot answer.
        """
        ...

    def rebuild(self, documents: Iterable[SearchDocument]) -> int:
        """Build a fresh index from ``documents`` and swap it in atomically; returns the count.

        Searches keep being answered from the old index until the swap.
        """
        ...

    def health(self) -> dict[str, Any]:
        """``{"status": "ok" | "unavailable", ...}`` without raising."""
        ...


class NullBackend:
    """An engine that stores nothing and finds nothing (search switched off, some tests)."""

    name = "null"

    def upsert(self, organization_id: str, documents: Iterable[SearchDocument]) -> None:
        """Forget the documents."""

    def delete(self, organization_id: str) -> None:
        """Nothing to remove."""

    def search(self, query: SearchQuery) -> SearchPage:
        """No hits, no facets."""
        return SearchPage(
            hits=[], facets={}, total=0, took_ms=0.0, page=query.page, per_page=query.per_page
        )

    def rebuild(self, documents: Iterable[SearchDocument]) -> int:
        """Count the documents and forget them."""
        return sum(1 for _ in documents)

    def health(self) -> dict[str, Any]:
        """Always fine: there is nothing to reach."""
        return {"status": "ok", "backend": self.name}
