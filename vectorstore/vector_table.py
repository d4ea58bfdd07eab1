"""The chunk vectors as one table in memory: exact dense search within any set of reports, without asking Chroma.

Chroma stays the store of record: ingest writes every vector there, and the table is read from it. But a filtered
Chroma query (`where` on the report ids, as every question about one council is) cost 40-70 ms on the full corpus's
49,380 vectors, against 2-3 ms unfiltered, and a comparison or timeline makes one per report. The table answers any
scope with one matrix product over its rows (under 1 ms for a council's reports; about 5 ms for all of them), exactly
rather than approximately. It is saved beside the catalog (`catalog.vectors/`, 384 float32 per chunk: 76 MB for the
full corpus, mapped from disk, so processes on one machine share it) and rebuilt, from the old table plus the new
chunks' vectors, when the catalog's chunks or the encoder change. See docs/adr/0013-vector-table.md.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np

from vectorstore.saved import digest, write_folder

log = logging.getLogger(__name__)

# Bump when what the table holds changes: a saved table of another format is rebuilt.
VECTOR_FORMAT = "1"
_META = "vectors.json"
_DATA = "vectors.npy"


class VectorTable:
    """Unit-length chunk vectors, one row per chunk id, in the order of `chunk_ids`."""

    def __init__(self, chunk_ids: Sequence[str], vectors: np.ndarray, vectors_name: str) -> None:
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[0] != len(chunk_ids):
            raise ValueError(f"a vector table needs one row per chunk: {len(chunk_ids)} chunks, {vectors.shape} vectors")
        self.chunk_ids = list(chunk_ids)
        self.vectors = vectors
        self.vectors_name = vectors_name

    @classmethod
    def build(
        cls,
        chunk_ids: Sequence[str],
        vectors_name: str,
        fetch: Callable[[Sequence[str]], Mapping[str, np.ndarray]],
        old: VectorTable | None = None,
    ) -> VectorTable | None:
        """The table for these chunks: rows the old table holds (of the same vectors) are kept, the rest fetched (from
        Chroma). None, with a warning, when some chunk has no vector to fetch: then Chroma answers every search."""
        kept = {cid: i for i, cid in enumerate(old.chunk_ids)} if old is not None and old.vectors_name == vectors_name else {}
        missing = [cid for cid in chunk_ids if cid not in kept]
        fetched = fetch(missing) if missing else {}
        absent = [cid for cid in missing if cid not in fetched]
        if absent:
            log.warning("%d chunks have no vector in the store (first: %s): searches ask Chroma instead of the vector table", len(absent), absent[0])
            return None
        dimension = old.vectors.shape[1] if kept and old is not None else len(next(iter(fetched.values()))) if fetched else 0
        vectors = np.empty((len(chunk_ids), dimension), dtype=np.float32)
        for row, cid in enumerate(chunk_ids):
            vectors[row] = old.vectors[kept[cid]] if cid in kept and old is not None else fetched[cid]
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return cls(chunk_ids, vectors / np.where(norms > 0, norms, 1.0), vectors_name)

    def save(self, folder: Path) -> None:
        """Write the table to `folder` (whole or not at all), for the next process to load."""

        def fill(staging: Path) -> None:
            np.save(staging / _DATA, self.vectors, allow_pickle=False)
            meta = {"format": VECTOR_FORMAT, "chunk_ids": digest(self.chunk_ids), "count": len(self.chunk_ids), "vectors": self.vectors_name}
            (staging / _META).write_text(json.dumps(meta), encoding="utf-8")

        write_folder(folder, fill)

    @classmethod
    def load(cls, folder: Path, chunk_ids: Sequence[str], vectors_name: str) -> VectorTable | None:
        """The table saved in `folder` if it holds exactly these chunks' vectors of this encoder, in this format; else
        None (build it). A damaged or partial folder is None too, never an error. Mapped from disk, not read."""
        try:
            meta = json.loads((folder / _META).read_text(encoding="utf-8"))
            if (
                meta.get("format") != VECTOR_FORMAT
                or meta.get("vectors") != vectors_name
                or meta.get("count") != len(chunk_ids)
                or meta.get("chunk_ids") != digest(chunk_ids)
            ):
                return None
            vectors = np.load(folder / _DATA, mmap_mode="r", allow_pickle=False)
            return cls(chunk_ids, vectors, vectors_name)
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None

    def search(self, vector: np.ndarray, k: int, rows: np.ndarray | None = None) -> list[tuple[str, float]]:
        """Top-k (chunk id, cosine similarity), best first, among the chunks at these positions (all when None)."""
        if k <= 0 or not self.chunk_ids or (rows is not None and not len(rows)):
            return []
        query = np.asarray(vector, dtype=np.float32).ravel()
        norm = float(np.linalg.norm(query))
        if norm == 0.0 or query.shape[0] != self.vectors.shape[1]:
            return []
        scores = (self.vectors if rows is None else self.vectors[rows]) @ (query / norm)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        chosen = top if rows is None else rows[top]
        order = np.lexsort((chosen, -scores[top]))  # best first; equal scores in the chunks' order
        return [(self.chunk_ids[i], float(score)) for i, score in zip(chosen[order], scores[top][order], strict=True)]
