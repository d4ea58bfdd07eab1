"""Chroma, embedded (`PersistentClient`) or a server (`HttpClient`), holding our own embeddings.

The collection records the embedding model and dimension in its metadata; opening it with another
model, or with an encoder whose vectors differ (onnx-int8 against torch and onnx-fp32, which give the same vectors),
raises `StoreMismatchError` instead of silently mixing vector spaces. `ofsted-qa reembed` rewrites every vector with
the configured encoder (`Index.reembed`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import StoreMismatchError, StoreNotReadyError
from core.models import Chunk, Report
from vectorstore.embeddings import encoders_for, vectors_name

log = logging.getLogger(__name__)

_ADD_BATCH = 2000


def build_chroma_client(path: Path | None = None, host: str | None = None, port: int = 8000, ssl: bool = False):
    """A Chroma client with telemetry off: a server when `host` is given, else embedded at `path`."""
    from core.offline import enforce_offline

    enforce_offline()
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    settings = ChromaSettings(anonymized_telemetry=False)
    if host:
        try:
            return chromadb.HttpClient(host=host, port=port, ssl=ssl, settings=settings)
        except Exception as error:
            raise StoreNotReadyError(
                f"cannot reach the Chroma server at {host}:{port} ({error}); start it with "
                f"`chroma run --path DIR --host {host} --port {port}` or unset OFSTED_QA_CHROMA_HOST"
            ) from error
    assert path is not None
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=settings)


def chunk_metadata(chunk: Chunk, report: Report) -> dict[str, Any]:
    """The flat metadata Chroma stores with a chunk (filters use report ids resolved from the catalog)."""
    meta = report.metadata
    return {
        "report_id": report.report_id,
        "local_authority": meta.local_authority or "",
        "report_type": meta.report_type,
        "published": int(meta.published.strftime("%Y%m%d")) if meta.published else 0,
        "page": chunk.page,
        "paragraph_ids": ",".join(chunk.paragraph_ids),
    }


class ChromaStore:
    """One Chroma collection of chunk vectors."""

    def __init__(self, client, collection: str, model_name: str, dimension: int, *, check: bool = True) -> None:
        """Open (or create) the collection; `check=False` opens one of other vectors, for `reembed` alone."""
        self.client = client
        self.model_name = model_name
        self.dimension = dimension
        try:
            self.collection = client.get_or_create_collection(
                name=collection,
                embedding_function=None,
                metadata={"embedding_model": model_name, "dimension": dimension, "hnsw:space": "cosine"},
            )
        except Exception as error:
            raise StoreNotReadyError(f"cannot open the Chroma collection {collection!r} ({error})") from error
        if check and not self.holds_own_vectors():
            recorded = self.collection.metadata or {}
            built_with = encoders_for(recorded.get("embedding_model"))
            raise StoreMismatchError(
                f"the index was built with {recorded.get('embedding_model')!r} "
                f"({recorded.get('dimension')} dimensions), not {model_name!r} ({dimension}): "
                + (f"set OFSTED_QA_ENCODER={' or '.join(built_with)} to use it as built, or " if built_with else "")
                + "re-embed it with this encoder: `ofsted-qa reembed` (it rewrites every vector in place from the "
                "catalog's chunks, without reading the reports again)"
            )

    def holds_own_vectors(self) -> bool:
        """Whether the collection's vectors are this model's (by name, former names included) and dimension."""
        recorded = self.collection.metadata or {}
        return vectors_name(recorded.get("embedding_model")) == vectors_name(self.model_name) and int(
            recorded.get("dimension", -1)
        ) == self.dimension

    def add(self, chunks: Sequence[Chunk], vectors: np.ndarray, metadatas: Sequence[dict[str, Any]]) -> None:
        for start in range(0, len(chunks), _ADD_BATCH):
            end = start + _ADD_BATCH
            self.collection.upsert(
                ids=[c.chunk_id for c in chunks[start:end]],
                embeddings=vectors[start:end].tolist(),
                documents=[c.embed_text for c in chunks[start:end]],
                metadatas=list(metadatas[start:end]),
            )

    def record_model(self) -> None:
        """Record this store's model as the one that made the collection's vectors (after `Index.reembed`)."""
        self.collection.modify(metadata={"embedding_model": self.model_name, "dimension": self.dimension})

    def all_ids(self) -> set[str]:
        return set(self.collection.get(include=[])["ids"])

    def present(self, ids: Sequence[str]) -> set[str]:
        """Those of these ids that the collection holds, looked up by id (not by a metadata filter, whose cost grows
        with the collection: 2 ms at 4,000 vectors, 12 ms at 49,000)."""
        found: set[str] = set()
        ids = list(ids)
        for start in range(0, len(ids), _ADD_BATCH):
            found.update(self.collection.get(ids=ids[start : start + _ADD_BATCH], include=[])["ids"])
        return found

    def ids_for_report(self, report_id: str) -> set[str]:
        result = self.collection.get(where={"report_id": report_id}, include=[])
        return set(result["ids"])

    def vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """The stored vectors of those of these ids that the collection holds, looked up by id (for the vector table)."""
        found: dict[str, np.ndarray] = {}
        ids = list(ids)
        for start in range(0, len(ids), _ADD_BATCH):
            try:
                got = self.collection.get(ids=ids[start : start + _ADD_BATCH], include=["embeddings"])
            except Exception as error:  # noqa: BLE001 - Chroma raises its own errors ("Error finding id") for ids it
                # lists but cannot read, as a write killed part way leaves them; those ids are left out
                log.warning("Chroma could not read %d stored vectors (%s)", len(ids[start : start + _ADD_BATCH]), error)
                continue
            found.update(zip(got["ids"], np.asarray(got["embeddings"], dtype=np.float32), strict=True))
        return found

    def delete(self, ids: Sequence[str]) -> None:
        ids = list(ids)
        for start in range(0, len(ids), _ADD_BATCH):
            self.collection.delete(ids=ids[start : start + _ADD_BATCH])

    def count(self) -> int:
        return self.collection.count()

    def query(self, vector: np.ndarray, k: int, report_ids: Sequence[str] | None = None) -> list[tuple[str, float]]:
        """Top-k (chunk id, cosine similarity), restricted to the given reports when set."""
        if report_ids is not None and not report_ids:
            return []
        where: dict[str, Any] | None = None
        if report_ids is not None:
            ids = list(report_ids)
            where = {"report_id": ids[0]} if len(ids) == 1 else {"report_id": {"$in": ids}}
        total = self.collection.count()
        if total == 0:
            return []
        result = self.collection.query(
            query_embeddings=[vector.tolist()], n_results=min(k, total), where=where, include=["distances"]
        )
        return [(cid, 1.0 - float(d)) for cid, d in zip(result["ids"][0], result["distances"][0], strict=True)]
