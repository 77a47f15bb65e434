"""Search over the directory: query model, backends (embedded, Meilisearch), outbox indexer.

``query`` (SearchQuery, SearchPage) · ``backend`` (the SearchBackend contract) · ``documents``
(what each audience may find) · ``analysis`` (folding, stemming, typos, synonyms) · ``embedded``
(tantivy; ``fields`` its index fields, ``grid`` and ``nearby`` map cells for searching within
a radius) · ``meili`` (Meilisearch) · ``service`` (engine choice, fallback, indexer) · ``http``,
``cli``, ``jobs`` (interfaces).
"""
