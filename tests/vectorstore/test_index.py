"""The index with real parts: MiniLM, Chroma in tmp_path, SQLite catalog, BM25; idempotent, crash-safe, filtered."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from core.errors import StoreMismatchError
from core.models import Filters
from core.settings import Settings
from ingest.loaders import load_document
from tests.conftest import BUCKS_FV_2021_SEED, SAMPLE_DIR
from vectorstore.catalog import Catalog
from vectorstore.chroma_store import ChromaStore, build_chroma_client
from vectorstore.index import Index
from vectorstore.ingestion import ingest_targets

SEED_NAME = "buckinghamshire_focused-visit_2021-04-12.md"
SEED_REPORT_ID = "buckinghamshire-focused-visit-2021-04-12-md"
REMOVED = "Foster carers spoke positively about the support they have received during the pandemic."
ADDED = "- Inspectors saw imaginative kinship care arrangements that kept brothers and sisters living together."


class FailingEmbedder:
    """A real embedder that delegates to MiniLM and raises on its Nth call (a crash while embedding)."""

    def __init__(self, inner, fail_on_call: int) -> None:
        self.inner = inner
        self.name = inner.name
        self.dimension = inner.dimension
        self.fail_on_call = fail_on_call
        self.calls = 0

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        if self.calls == self.fail_on_call:
            raise RuntimeError("embedder crashed")
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> np.ndarray:
        return self.inner.embed_query(text)


class HalfWritingStore(ChromaStore):
    """A real Chroma store that writes the first half of a batch and then fails (a crash mid-write)."""

    fail = True

    def add(self, chunks, vectors, metadatas) -> None:
        if not self.fail:
            return super().add(chunks, vectors, metadatas)
        half = len(chunks) // 2
        super().add(chunks[:half], vectors[:half], metadatas[:half])
        raise OSError("disk full half way through")


class RenamedEmbedder:
    """The real model under another name or dimension, as another deployment might record it."""

    def __init__(self, inner, name: str, dimension: int) -> None:
        self.inner, self.name, self.dimension = inner, name, dimension

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> np.ndarray:
        return self.inner.embed_query(text)


def make_index(folder: Path, embedder, store_class: type[ChromaStore] = ChromaStore) -> Index:
    client = build_chroma_client(path=folder / "chroma")
    dense = store_class(client, "ofsted_paragraphs", embedder.name, embedder.dimension)
    return Index(Catalog(folder / "catalog.sqlite"), dense, embedder)


def write_seed(folder: Path, changed: bool = False) -> Path:
    text = BUCKS_FV_2021_SEED.read_text(encoding="utf-8")
    if changed:
        assert REMOVED in text
        text = text.replace(REMOVED, "Foster carers told inspectors that support had been patchy.")
        text = text.replace("\n- Ongoing communication", f"\n{ADDED}\n\n- Ongoing communication", 1)
    path = folder / SEED_NAME
    path.write_text(text, encoding="utf-8")
    return path


def chroma_ids(index: Index) -> set[str]:
    return set(index.dense.collection.get(include=[])["ids"])


# ---- idempotence ------------------------------------------------------------------------------------


def test_second_ingest_of_the_sample_corpus_writes_nothing(sample_index: Index, sample_ingest) -> None:
    _, first = sample_ingest
    assert first.reports == 15 and not first.unchanged and not first.failed
    version, count, counts = sample_index.catalog.version(), sample_index.dense.count(), sample_index.catalog.counts()
    summary = ingest_targets(sample_index, [str(SAMPLE_DIR)], max_bytes=Settings().max_file_bytes)
    assert len(summary.unchanged) == 15
    assert summary.added == [] and summary.replaced == [] and summary.failed == []
    assert summary.chunks == 0
    assert sample_index.catalog.version() == version
    assert sample_index.dense.count() == count
    assert sample_index.catalog.counts() == counts


def test_sample_index_holds_every_report(sample_index: Index) -> None:
    reports = sample_index.reports()
    assert len(reports) == 15
    assert set(sample_index.authorities()) == {"Blackpool", "Buckinghamshire", "Calderdale", "Camden", "Islington", "Trafford"}
    stats = sample_index.stats()
    assert stats["reports"] == 15
    assert stats["chunks"] == stats["vectors"] > 300
    assert stats["embedding_model"] == "sentence-transformers/all-MiniLM-L6-v2" and stats["dimension"] == 384


def test_bm25_chroma_and_catalog_hold_the_same_chunk_ids(sample_index: Index) -> None:
    catalog_ids = {c.chunk_id for c in sample_index.catalog.chunks()}
    sample_index.require_ready()
    assert sample_index._keyword is not None  # noqa: SLF001 - the BM25 index's ids are what we compare
    assert set(sample_index._keyword.chunk_ids) == catalog_ids
    assert chroma_ids(sample_index) == catalog_ids


# ---- a changed report ----------------------------------------------------------------------------------


def test_changed_report_replaces_its_old_chunks(tmp_path: Path, embedder) -> None:
    index = make_index(tmp_path / "index", embedder)
    folder = tmp_path / "docs"
    folder.mkdir()
    first = index.add_document(load_document(write_seed(folder)))
    assert first.outcome == "added"
    old_ids = index.catalog.chunk_ids(SEED_REPORT_ID)
    old_paragraphs = {p.paragraph_id: p.text for p in index.paragraphs(SEED_REPORT_ID)}

    result = index.add_document(load_document(write_seed(folder, changed=True)))
    assert result.outcome == "replaced"
    new_ids = index.catalog.chunk_ids(SEED_REPORT_ID)
    gone = old_ids - new_ids
    assert gone, "the edited paragraphs' chunks must change"
    assert not gone & chroma_ids(index)
    assert chroma_ids(index) == new_ids
    texts = [p.text for p in index.paragraphs(SEED_REPORT_ID)]
    assert not any(REMOVED in t for t in texts)
    assert ADDED[2:] in texts
    assert len(index.reports()) == 1
    # untouched paragraphs keep their ids
    kept = {pid for pid, text in old_paragraphs.items() if REMOVED not in text}
    assert kept <= {p.paragraph_id for p in index.paragraphs(SEED_REPORT_ID)}
    hits = index.keyword_search("imaginative kinship care brothers sisters", 3, None)
    assert hits and ADDED[2:] in index.chunk(hits[0][0]).text


# ---- crash safety --------------------------------------------------------------------------------------


def _assert_previous_version_serves(index: Index, old_chunks: dict[str, str], old_paragraphs: dict[str, str]) -> None:
    assert {c.chunk_id: c.text for c in index.catalog.chunks([SEED_REPORT_ID])} == old_chunks
    assert {p.paragraph_id: p.text for p in index.paragraphs(SEED_REPORT_ID)} == old_paragraphs
    vector = index.embedder.embed_query(REMOVED)
    dense = index.dense_search(vector, 5, None)
    assert dense and all(cid in old_chunks for cid, _ in dense)
    assert REMOVED in old_chunks[dense[0][0]]
    keyword = index.keyword_search("foster carers spoke positively", 5, None)
    assert keyword and all(cid in old_chunks for cid, _ in keyword)
    assert REMOVED in old_chunks[keyword[0][0]]


def test_crash_while_embedding_keeps_the_previous_version(tmp_path: Path, embedder) -> None:
    failing = FailingEmbedder(embedder, fail_on_call=2)
    index = make_index(tmp_path / "index", failing)
    folder = tmp_path / "docs"
    folder.mkdir()
    index.add_document(load_document(write_seed(folder)))
    old_chunks = {c.chunk_id: c.text for c in index.catalog.chunks([SEED_REPORT_ID])}
    old_paragraphs = {p.paragraph_id: p.text for p in index.paragraphs(SEED_REPORT_ID)}
    version = index.catalog.version()

    changed = load_document(write_seed(folder, changed=True))
    with pytest.raises(RuntimeError, match="embedder crashed"):
        index.add_document(changed)
    assert index.catalog.version() == version
    _assert_previous_version_serves(index, old_chunks, old_paragraphs)

    assert index.add_document(changed).outcome == "replaced"  # the retry succeeds
    assert not any(REMOVED in p.text for p in index.paragraphs(SEED_REPORT_ID))
    assert chroma_ids(index) == index.catalog.chunk_ids(SEED_REPORT_ID)


def test_crash_half_way_through_the_vector_write_keeps_the_previous_version(tmp_path: Path, embedder) -> None:
    index = make_index(tmp_path / "index", embedder, store_class=HalfWritingStore)
    folder = tmp_path / "docs"
    folder.mkdir()
    index.dense.fail = False
    index.add_document(load_document(write_seed(folder)))
    old_chunks = {c.chunk_id: c.text for c in index.catalog.chunks([SEED_REPORT_ID])}
    old_paragraphs = {p.paragraph_id: p.text for p in index.paragraphs(SEED_REPORT_ID)}

    index.dense.fail = True
    changed = load_document(write_seed(folder, changed=True))
    with pytest.raises(OSError, match="disk full"):
        index.add_document(changed)
    stray = chroma_ids(index) - set(old_chunks)
    assert stray, "half of the new version's vectors reached Chroma"
    _assert_previous_version_serves(index, old_chunks, old_paragraphs)
    # the stray vectors are never returned, even when they are the nearest
    added_vector = embedder.embed_query(ADDED[2:])
    assert all(cid in old_chunks for cid, _ in index.dense_search(added_vector, 10, None))

    index.dense.fail = False
    assert index.add_document(changed).outcome == "replaced"
    assert chroma_ids(index) == index.catalog.chunk_ids(SEED_REPORT_ID)
    hits = index.dense_search(added_vector, 1, None)
    assert ADDED[2:] in index.chunk(hits[0][0]).text


# ---- the recorded embedding model ------------------------------------------------------------------


def test_store_records_model_and_dimension(tmp_path: Path, embedder) -> None:
    index = make_index(tmp_path / "index", embedder)
    assert index.dense.collection.metadata["embedding_model"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert index.dense.collection.metadata["dimension"] == 384


@pytest.mark.parametrize(
    ("name", "dimension"),
    [("sentence-transformers/all-mpnet-base-v2", 384), ("sentence-transformers/all-MiniLM-L6-v2", 768)],
)
def test_opening_with_another_model_raises_store_mismatch(tmp_path: Path, embedder, name: str, dimension: int) -> None:
    from chatbot.build import build_index

    settings = Settings(index_dir=tmp_path / "index")
    build_index(settings, embedder=embedder)
    with pytest.raises(StoreMismatchError, match=r"built with 'sentence-transformers/all-MiniLM-L6-v2' \(384 dimensions\)") as caught:
        build_index(settings, embedder=RenamedEmbedder(embedder, name, dimension))
    message = str(caught.value)
    assert f"not {name!r} ({dimension})" in message
    assert "OFSTED_QA_ENCODER=torch or onnx-fp32 to use it as built" in message and "`ofsted-qa reembed`" in message
    build_index(settings, embedder=embedder)  # the right model still opens it


# ---- filters ------------------------------------------------------------------------------------------

TRAFFORD = {
    "trafford-focused-visit-2021-05-10",
    "trafford-focused-visit-2024-08-01",
    "trafford-ilacs-2019-05-08",
    "trafford-ilacs-2023-01-31",
    "trafford-ilacs-2026-08-03",
}
BUCKS = {
    "buckinghamshire-focused-visit-2021-04-12",
    "buckinghamshire-focused-visit-2021-04-12-md",
    "buckinghamshire-focused-visit-2022-11-16",
    "buckinghamshire-ilacs-2022-02-11",
    "buckinghamshire-ilacs-2025-05-14",
    "buckinghamshire-sif-2018-01-29-txt",
}
FILTER_CASES = [
    (Filters(), None),
    (Filters(local_authorities=("Trafford",)), TRAFFORD),
    (Filters(local_authorities=("trafford",)), TRAFFORD),
    (Filters(local_authorities=("Trafford", "Buckinghamshire")), TRAFFORD | BUCKS),
    (Filters(local_authorities=("Atlantis",)), set()),
    (
        Filters(report_types=("focused_visit",)),
        {
            "buckinghamshire-focused-visit-2021-04-12",
            "buckinghamshire-focused-visit-2021-04-12-md",
            "buckinghamshire-focused-visit-2022-11-16",
            "calderdale-focused-visit-2022-03-21",
            "trafford-focused-visit-2021-05-10",
            "trafford-focused-visit-2024-08-01",
        },
    ),
    (Filters(report_types=("area_send_inspection", "sif_inspection")), {"blackpool-area-send-2024-07-25", "buckinghamshire-sif-2018-01-29-txt"}),
    (
        Filters(published_from=date(2025, 1, 1), published_to=date(2025, 12, 31)),
        {"buckinghamshire-ilacs-2025-05-14", "camden-ilacs-2025-04-15", "islington-ilacs-2025-01-29"},
    ),
    (Filters(published_to=date(2019, 5, 8)), {"buckinghamshire-sif-2018-01-29-txt", "trafford-ilacs-2019-05-08"}),
    (Filters(published_from=date(2026, 1, 1)), {"trafford-ilacs-2026-08-03"}),
    (
        Filters(local_authorities=("Buckinghamshire",), report_types=("ilacs_inspection",), published_from=date(2023, 1, 1)),
        {"buckinghamshire-ilacs-2025-05-14"},
    ),
]


@pytest.mark.parametrize(("filters", "expected"), FILTER_CASES)
def test_report_ids_for_filters(sample_index: Index, filters: Filters, expected: set[str] | None) -> None:
    selected = sample_index.report_ids_for(filters)
    assert (None if selected is None else set(selected)) == expected


@pytest.mark.parametrize("authority", ["Trafford", "Camden"])
def test_searches_stay_inside_the_filter(sample_index: Index, embedder, authority: str) -> None:
    allowed = sample_index.report_ids_for(Filters(local_authorities=(authority,)))
    assert allowed
    query = "How well are care leavers supported by their personal advisers?"
    dense = sample_index.dense_search(embedder.embed_query(query), 10, allowed)
    keyword = sample_index.keyword_search(query, 10, allowed)
    assert len(dense) == 10 and keyword
    assert {sample_index.chunk(cid).report_id for cid, _ in dense + keyword} <= set(allowed)
    assert sample_index.dense_search(embedder.embed_query(query), 10, []) == []
    assert sample_index.keyword_search(query, 10, []) == []


def test_dense_search_finds_a_paragraph_by_meaning(sample_index: Index, embedder) -> None:
    query = "Are personal advisers able to build lasting relationships with care leavers in Buckinghamshire?"
    allowed = sample_index.report_ids_for(Filters(local_authorities=("Buckinghamshire",)))
    hits = sample_index.dense_search(embedder.embed_query(query), 10, allowed)
    texts = [sample_index.chunk(cid).text for cid, _ in hits]
    assert any("established relationships with personal advisers" in t for t in texts)
    scores = [score for _, score in hits]
    assert scores == sorted(scores, reverse=True)


def test_the_model_loads_once_when_a_question_arrives_during_warm_up() -> None:
    """The app warms the model in a background thread; a question arriving meanwhile must use the same model."""
    import threading

    from vectorstore.embeddings import MiniLMEmbedder

    fresh = MiniLMEmbedder()
    seen: list[object] = []
    threads = [threading.Thread(target=lambda: seen.append(fresh.model)) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 3 and all(model is seen[0] for model in seen)


def test_warm_up_loads_the_catalog_and_the_model(tmp_path: Path) -> None:
    from chatbot.build import build_index

    index = build_index(Settings(index_dir=tmp_path))
    ingest_targets(index, [str(BUCKS_FV_2021_SEED)], max_bytes=10_000_000)
    reopened = build_index(Settings(index_dir=tmp_path))
    reopened.warm_up()
    assert reopened.embedder.loaded  # type: ignore[attr-defined]
    assert [r.metadata.local_authority for r in reopened.reports()] == ["Buckinghamshire"]


# ---- the saved keyword index ----------------------------------------------------------------------------------


def seeded(tmp_path: Path, embedder) -> tuple[Index, Path, Path]:
    """An index in tmp_path/index holding the seed report, read once (so its keyword index and vector table are built and saved); and
    the index and documents folders. `make_index` on the same folder opens it afresh, as a new process would."""
    folder = tmp_path / "index"
    index = make_index(folder, embedder)
    docs = tmp_path / "docs"
    docs.mkdir()
    index.add_document(load_document(write_seed(docs)))
    index.require_ready()
    return index, folder, docs


def test_a_new_process_loads_the_keyword_index_the_last_one_built(tmp_path: Path, embedder) -> None:
    index, folder, docs = seeded(tmp_path, embedder)
    assert index.keyword_source == "built" and (folder / "catalog.keyword" / "keyword.json").is_file()
    query = "foster carers spoke positively about support during the pandemic"
    built = index.keyword_search(query, 10, None)
    weights = {t: index.term_weight(t) for t in ("foster", "carer", "pandemic", "unseen")}

    again = make_index(folder, embedder)
    again.require_ready()
    assert again.keyword_source == "loaded"
    assert again.keyword_search(query, 10, None) == built
    assert {t: again.term_weight(t) for t in weights} == weights

    # the catalog changes (a new version of the report): the saved index no longer matches its chunks, and is rebuilt
    again.add_document(load_document(write_seed(docs, changed=True)))
    again.require_ready()
    assert again.keyword_source == "built"
    hits = again.keyword_search("imaginative kinship care brothers sisters", 3, None)
    assert hits and ADDED[2:] in again.chunk(hits[0][0]).text
    third = make_index(folder, embedder)
    third.require_ready()
    assert third.keyword_source == "loaded" and third.keyword_search("imaginative kinship care brothers sisters", 3, None) == hits


@pytest.mark.parametrize("damage", ["truncated", "meta", "missing"])
def test_a_damaged_saved_keyword_index_is_rebuilt_not_an_error(tmp_path: Path, embedder, damage: str) -> None:
    index, folder, _ = seeded(tmp_path, embedder)
    query = "foster carers spoke positively"
    expected = index.keyword_search(query, 5, None)
    saved = folder / "catalog.keyword"
    if damage == "truncated":
        target = next(p for p in saved.iterdir() if p.name.startswith("data"))
        target.write_bytes(target.read_bytes()[:10])
    elif damage == "meta":
        (saved / "keyword.json").write_text("{not json", encoding="utf-8")
    else:
        (saved / "vocab.index.json").unlink()
    again = make_index(folder, embedder)
    again.require_ready()
    assert again.keyword_source == "built"
    assert again.keyword_search(query, 5, None) == expected
