"""Storage, in one-way layers: the pieces (docstore, vectorstore, lexical, embedders, embed_cache,
scope, bm25) → store (one index directory: commits, readers, sweeps) → ingest and status →
repair."""
