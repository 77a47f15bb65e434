"""Search over the directory: query model, backends (embedded, Meilisearch), outbox indexer."""
