"""The answers' sentence vectors are embedded once per process (issue 23): the same vectors as embedding them afresh,
embedded only when not yet kept, bounded, and shared safely between the sessions the app answers at once."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from chatbot.build import build_pipeline
from chatbot.extractive import SENTENCE_VECTORS, SentenceVectors
from core.settings import Settings


class Counting:
    """The real embedder, counting the texts it is given (a collaborator injected, not a stand-in)."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.name = inner.name
        self.dimension = inner.dimension
        self.texts: list[str] = []

    def embed_documents(self, texts):
        self.texts += list(texts)
        return self.inner.embed_documents(texts)

    def embed_query(self, text):
        return self.inner.embed_query(text)


SENTENCES = [
    "Care leavers live in safe and suitable homes.",
    "Caseloads are high in the assessment teams.",
    "Children who go missing are offered a return home interview.",
]


def test_kept_vectors_are_the_embedders_own_and_are_not_embedded_again(embedder) -> None:
    counting = Counting(embedder)
    vectors = SentenceVectors(size=100)
    question, first = vectors.embed(counting, "Where do care leavers live?", SENTENCES)
    assert counting.texts == ["Where do care leavers live?", *SENTENCES]
    fresh = embedder.embed_documents(["Where do care leavers live?", *SENTENCES])
    assert np.allclose(question, fresh[0], atol=1e-5) and np.allclose(first, fresh[1:], atol=1e-5)
    counting.texts.clear()
    _, again = vectors.embed(counting, "How high are caseloads?", [SENTENCES[1], SENTENCES[0], SENTENCES[1]])
    assert counting.texts == ["How high are caseloads?"]  # the question alone: every sentence was kept
    assert np.array_equal(again, first[[1, 0, 1]])
    assert (vectors.hits, vectors.misses) == (2, 3)


def test_the_least_recently_used_go_first_and_size_zero_keeps_none(embedder) -> None:
    counting = Counting(embedder)
    vectors = SentenceVectors(size=2)
    vectors.embed(counting, "q", SENTENCES[:2])
    vectors.embed(counting, "q", [SENTENCES[0]])  # the first is used again: the second is now the oldest
    vectors.embed(counting, "q", [SENTENCES[2]])
    counting.texts.clear()
    vectors.embed(counting, "q", SENTENCES)
    assert counting.texts == ["q", SENTENCES[1]]
    none = SentenceVectors(size=0)
    none.embed(counting, "q", SENTENCES)
    counting.texts.clear()
    none.embed(counting, "q", SENTENCES)
    assert counting.texts == ["q", *SENTENCES]


def test_sessions_at_once_get_the_vectors_they_would_alone(embedder) -> None:
    vectors = SentenceVectors(size=4)  # smaller than what is asked: threads evict each other's rows as they go
    expected = embedder.embed_documents(SENTENCES)
    failures: list[str] = []

    def ask(offset: int) -> None:
        for round_ in range(6):
            order = [SENTENCES[(offset + round_ + i) % 3] for i in range(3)]
            _, got = vectors.embed(embedder, f"question {offset}", order)
            want = np.stack([expected[SENTENCES.index(s)] for s in order])
            if not np.allclose(got, want, atol=1e-5):
                failures.append(f"thread {offset} round {round_}")

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


@pytest.mark.parametrize("size", [0, 50_000])
def test_answers_are_the_same_with_and_without_kept_vectors(sample_settings: Settings, sample_ingest, size: int) -> None:
    questions = [
        "How are care leavers supported in Trafford?",
        "What did inspectors say about Camden's front door?",
        "How are care leavers supported in Trafford?",  # asked again: every sentence it reads is kept
    ]
    reference = build_pipeline(sample_settings.model_copy(update={"sentence_cache": 0, "sentence_store": False}))
    expected = [reference.ask(q).answer for q in questions]
    pipeline = build_pipeline(sample_settings.model_copy(update={"sentence_cache": size}))
    assert SENTENCE_VECTORS.size == size
    assert [pipeline.ask(q).answer for q in questions] == expected


def test_warm_up_leaves_nothing_for_the_first_question_to_load(sample_settings: Settings, sample_ingest) -> None:
    """What the app runs in the background as it starts: the index's tables, the encoder, Chroma's first search and
    the places table are loaded, and the first answer is the same as a later one."""
    pipeline = build_pipeline(sample_settings)
    pipeline.warm_up()
    assert pipeline.index.keyword_source in ("loaded", "built")
    assert "_matcher" in vars(pipeline.places)  # GeoNames' towns read and indexed
    first = pipeline.ask("How are care leavers supported in Trafford?")
    assert not first.refused and first.answer == pipeline.ask("How are care leavers supported in Trafford?").answer


def test_the_citation_checks_similarity_reads_the_paragraphs_kept_vector(embedder) -> None:
    from chatbot.citations import embedding_similarity
    from chatbot.extractive import kept_similarity

    counting = Counting(embedder)
    SENTENCE_VECTORS.attach(counting, None)
    paragraph = " ".join(SENTENCES)
    kept = kept_similarity(counting)
    plain = embedding_similarity(embedder.embed_documents)
    for statement in ("Care leavers have safe homes.", "Caseloads are high."):
        assert kept(statement, paragraph) == pytest.approx(plain(statement, paragraph), abs=1e-5)
    assert counting.texts.count(paragraph) == (1 if SENTENCE_VECTORS.size else 2)
