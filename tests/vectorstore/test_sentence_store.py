"""Sentence vectors kept on disk (issue 23): exact round trip, one encoder's vectors only, shared by a later process,
filled ahead by `ofsted-qa sentences`, and a damaged file costs only the keeping."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from chatbot.build import build_index, build_pipeline
from chatbot.extractive import SENTENCE_VECTORS, SentenceVectors, candidate_sentences, embed_ahead
from chatbot.structured import latest_reports
from cli.main import main
from core.settings import Settings
from tests.chatbot.test_sentence_vectors import SENTENCES, Counting
from vectorstore.sentence_store import SentenceStore


def test_vectors_come_back_exactly_and_only_for_this_encoder(tmp_path: Path, embedder) -> None:
    path = tmp_path / "catalog.sentences.sqlite"
    vectors = embedder.embed_documents(SENTENCES)
    store = SentenceStore(path, "minilm", embedder.dimension)
    store.put(dict(zip(SENTENCES[:2], vectors[:2], strict=True)))
    store.put({SENTENCES[0]: vectors[2]})  # kept already: the first vector stays
    got = store.get([SENTENCES[1], SENTENCES[2], SENTENCES[0], SENTENCES[1]])
    assert set(got) == {SENTENCES[0], SENTENCES[1]} and store.count() == 2
    assert np.array_equal(got[SENTENCES[0]], vectors[0]) and np.array_equal(got[SENTENCES[1]], vectors[1])
    store.close()
    again = SentenceStore(path, "minilm", embedder.dimension)  # a later process
    assert np.array_equal(again.get([SENTENCES[1]])[SENTENCES[1]], vectors[1])
    again.close()
    other = SentenceStore(path, "another-model", embedder.dimension)  # another encoder's vectors cannot be used
    assert other.count() == 0 and other.get(SENTENCES) == {}


def test_a_damaged_file_is_not_an_error(tmp_path: Path, embedder, caplog) -> None:
    path = tmp_path / "catalog.sentences.sqlite"
    path.write_bytes(b"not a database" * 100)
    with caplog.at_level(logging.WARNING):
        assert SentenceStore.open(path, "minilm", embedder.dimension) is None
    assert "not kept on disk" in caplog.text
    vectors = SentenceVectors(size=10)
    vectors.attach(embedder, None)
    _, got = vectors.embed(embedder, "q", SENTENCES)
    assert got.shape == (3, embedder.dimension)


def test_a_new_process_reads_what_an_earlier_one_embedded(tmp_path: Path, embedder) -> None:
    store = SentenceStore(tmp_path / "s.sqlite", "minilm", embedder.dimension)
    first = Counting(embedder)
    earlier = SentenceVectors(size=10)
    earlier.attach(first, store)
    _, kept = earlier.embed(first, "Where do care leavers live?", SENTENCES)
    assert store.count() == 3
    later_embedder = Counting(embedder)
    later = SentenceVectors(size=10)  # nothing in memory
    later.attach(later_embedder, store)
    question, got = later.embed(later_embedder, "How high are caseloads?", SENTENCES)
    assert later_embedder.texts == ["How high are caseloads?"] and later.stored == 3
    assert np.array_equal(got, kept)
    assert np.allclose(question, embedder.embed_query("How high are caseloads?"), atol=1e-5)


def test_sentences_embedded_ahead_are_not_embedded_by_answers(tmp_path: Path, sample_settings: Settings, sample_ingest, embedder) -> None:
    """`ofsted-qa sentences --latest`, then a question with no time in it: its answer embeds no sentence, and is the
    answer given with nothing kept anywhere."""
    question = "How are care leavers supported in Trafford?"
    settings = sample_settings.model_copy(update={"sentence_cache": 0, "sentence_store": False})
    expected = build_pipeline(settings).ask(question).answer

    folder = tmp_path / "index"
    # a copy of the sample catalog and vectors: the test must not fill the shared sample index's store
    import shutil

    shutil.copytree(sample_settings.index_dir, folder)
    counting = Counting(embedder)
    index = build_index(sample_settings.model_copy(update={"index_dir": folder}), counting)
    index.require_ready()
    store = index.open_sentence_store()
    assert store is not None
    reports = [r for r in latest_reports(index.reports()) if r.metadata.local_authority == "Trafford"]
    paragraphs = [p for r in reports for p in index.paragraphs(r.report_id)]
    seen, embedded = embed_ahead(counting, paragraphs, store, batch=64)
    assert seen == sum(len(candidate_sentences(p)) for p in paragraphs) and 0 < embedded <= seen
    assert embed_ahead(counting, paragraphs, store) == (seen, 0)  # held already: nothing embedded again

    pipeline = build_pipeline(sample_settings.model_copy(update={"index_dir": folder, "sentence_cache": 0}), index)
    counting.texts.clear()
    answer = pipeline.ask(question)
    sentences = {s for p in paragraphs for s in candidate_sentences(p)}
    assert counting.texts and not sentences & set(counting.texts)  # questions and topics only
    assert SENTENCE_VECTORS.stored > 0
    assert answer.answer == expected


def test_the_cli_embeds_the_latest_reports_sentences(capsys, tmp_path: Path, sample_settings: Settings, sample_ingest) -> None:
    import shutil

    folder = tmp_path / "index"
    shutil.copytree(sample_settings.index_dir, folder)
    assert main(["--index-dir", str(folder), "sentences", "--latest", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "embedded" in out and (folder / "catalog.sentences.sqlite").is_file()
    assert main(["--index-dir", str(folder), "sentences", "--latest", "--no-progress"]) == 0
    assert ": 0 embedded" in capsys.readouterr().out
