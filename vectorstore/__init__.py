"""Chunks and vectors: Chroma (embedded or server), a BM25 keyword index and the report catalog, kept in step."""
