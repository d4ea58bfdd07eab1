"""The vector table (issue 23): exact dense search in memory, the same hits as Chroma, saved for the next process,
rebuilt from the old table and the new chunks when the catalog changes, and Chroma again when it cannot be built."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from chatbot.build import build_index
from core.models import Filters
from ingest.loaders import load_document
from tests.vectorstore.test_index import ADDED, make_index, seeded, write_seed
from vectorstore.chroma_store import ChromaStore
from vectorstore.index import Index
from vectorstore.vector_table import VectorTable

QUERIES = (
    "How well are care leavers supported by their personal advisers?",
    "Do social workers visit children in care regularly?",
    "What did inspectors find at the front door?",
)


@pytest.fixture(scope="module")
def chroma_only(sample_settings, sample_index: Index) -> Index:
    """The sample index opened again with the table turned off: every search asks Chroma, as before the table."""
    index = build_index(sample_settings.model_copy(update={"vector_table": False}), sample_index.embedder)
    index.require_ready()
    return index


@pytest.mark.parametrize("authority", [None, "Trafford", "Buckinghamshire"])
def test_the_table_finds_the_exact_nearest_chunks(sample_index: Index, chroma_only: Index, embedder, authority: str | None) -> None:
    """The table's hits are the exact nearest of the catalog's chunks by Chroma's own stored vectors (computed here by
    brute force). Chroma's search is approximate (HNSW: a clean clone's differed from the exact order at rank 7), so
    only its scores are checked against the same vectors."""
    sample_index.require_ready()
    assert sample_index.vector_source in ("built", "loaded") and chroma_only.vector_source == "chroma"
    scope = None if authority is None else sample_index.report_ids_for(Filters(local_authorities=(authority,)))
    ids = [c.chunk_id for c in sample_index.chunks_in(scope)]  # the catalog's chunks: what answers may cite
    stored = sample_index.dense.vectors(ids)
    matrix = np.stack([stored[cid] / np.linalg.norm(stored[cid]) for cid in ids])
    for query in QUERIES:
        vector = embedder.embed_query(query)
        exact = dict(zip(ids, matrix @ (vector / np.linalg.norm(vector)), strict=True))
        best = sorted(exact.values(), reverse=True)[:10]
        table = sample_index.dense_search(vector, 10, scope)
        chroma = chroma_only.dense_search(vector, 10, scope)
        # the exact top 10 by score (chunks of identical text tie, in either order), each with its own exact score
        assert np.allclose([score for _, score in table], best, atol=1e-5)
        assert all(abs(score - exact[cid]) < 1e-5 for cid, score in table)
        assert all(abs(score - exact[cid]) < 1e-4 for cid, score in chroma)  # Chroma's hits: the same vectors
        if scope is not None:
            assert {sample_index.chunk(cid).report_id for cid, _ in table} <= set(scope)


def test_a_new_process_loads_the_table_and_a_changed_report_rebuilds_it(tmp_path: Path, embedder) -> None:
    index, folder, docs = seeded(tmp_path, embedder)
    assert index.vector_source == "built" and (folder / "catalog.vectors" / "vectors.npy").is_file()
    vector = embedder.embed_query("foster carers spoke positively about support during the pandemic")
    hits = index.dense_search(vector, 5, None)

    again = make_index(folder, embedder)
    again.require_ready()
    assert again.vector_source == "loaded" and again.dense_search(vector, 5, None) == hits

    again.add_document(load_document(write_seed(docs, changed=True)))
    again.require_ready()
    assert again.vector_source == "built"
    found = again.dense_search(embedder.embed_query("kinship care kept brothers and sisters together"), 3, None)
    assert found and ADDED[2:] in again.chunk(found[0][0]).text
    third = make_index(folder, embedder)
    third.require_ready()
    assert third.vector_source == "loaded" and third.dense_search(vector, 5, None) == again.dense_search(vector, 5, None)


@pytest.mark.parametrize("damage", ["truncated", "meta", "missing", "other-encoder"])
def test_a_damaged_or_foreign_table_is_rebuilt_not_an_error(tmp_path: Path, embedder, damage: str) -> None:
    index, folder, _ = seeded(tmp_path, embedder)
    vector = embedder.embed_query("foster carers spoke positively")
    expected = index.dense_search(vector, 5, None)
    saved = folder / "catalog.vectors"
    if damage == "truncated":
        (saved / "vectors.npy").write_bytes((saved / "vectors.npy").read_bytes()[:100])
    elif damage == "meta":
        (saved / "vectors.json").write_text("{not json", encoding="utf-8")
    elif damage == "missing":
        (saved / "vectors.npy").unlink()
    else:
        meta = (saved / "vectors.json").read_text(encoding="utf-8")
        (saved / "vectors.json").write_text(meta.replace(index.dense.model_name, "another-model"), encoding="utf-8")
    again = make_index(folder, embedder)
    again.require_ready()
    assert again.vector_source == "built"
    assert [cid for cid, _ in again.dense_search(vector, 5, None)] == [cid for cid, _ in expected]


def test_a_rebuild_reads_only_the_new_chunks_vectors() -> None:
    rng = np.random.default_rng(3)
    stored = {f"c{i}": rng.normal(size=8).astype(np.float32) for i in range(6)}
    asked: list[list[str]] = []

    def fetch(ids):
        asked.append(list(ids))
        return {cid: stored[cid] for cid in ids if cid in stored}

    old = VectorTable.build(["c0", "c1", "c2", "c3"], "model", fetch)
    assert old is not None and asked == [["c0", "c1", "c2", "c3"]]
    new = VectorTable.build(["c0", "c2", "c4", "c5"], "model", fetch, old)
    assert new is not None and asked[-1] == ["c4", "c5"]
    for cid in ("c0", "c2", "c4", "c5"):
        row = new.vectors[new.chunk_ids.index(cid)]
        assert np.allclose(row, stored[cid] / np.linalg.norm(stored[cid]), atol=1e-6)
    # another encoder's table keeps nothing
    VectorTable.build(["c0", "c2"], "other-model", fetch, old)
    assert asked[-1] == ["c0", "c2"]
    # a chunk the store lacks: no table (Chroma answers)
    assert VectorTable.build(["c0", "c9"], "model", fetch) is None


def test_scoped_search_ranks_only_those_rows_best_first() -> None:
    vectors = np.array([[1, 0], [0.9, 0.1], [0, 1], [0.5, 0.5], [-1, 0]], dtype=np.float32)
    table = VectorTable([f"c{i}" for i in range(5)], vectors, "model")
    assert [cid for cid, _ in table.search(np.array([1.0, 0.0]), 3)] == ["c0", "c1", "c3"]
    assert [cid for cid, _ in table.search(np.array([1.0, 0.0]), 5, np.array([4, 2, 3]))] == ["c3", "c2", "c4"]
    assert table.search(np.array([1.0, 0.0]), 3, np.array([], dtype=np.int64)) == []
    assert table.search(np.zeros(2), 3) == []
    best = table.search(np.array([2.0, 0.0]), 1)
    assert best[0][0] == "c0" and best[0][1] == pytest.approx(1.0)


class VectorlessStore(ChromaStore):
    """A real Chroma store that cannot give back its vectors (as a store missing some would)."""

    def vectors(self, ids):
        return {}


def test_without_a_table_chroma_answers(tmp_path: Path, embedder) -> None:
    folder = tmp_path / "index"
    index = make_index(folder, embedder, VectorlessStore)
    docs = tmp_path / "docs"
    docs.mkdir()
    index.add_document(load_document(write_seed(docs)))
    index.require_ready()
    assert index.vector_source == "chroma" and not (folder / "catalog.vectors").exists()
    hits = index.dense_search(embedder.embed_query("foster carers spoke positively"), 5, None)
    assert len(hits) == 5 and all(index.chunk(cid) is not None for cid, _ in hits)
