"""The committed reranker: it loads offline, reads a passage against the question, and fails clearly when damaged.

Also the retriever's use of a reranker (handed in as a collaborator) and the training recipe's groups.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import numpy as np
import pytest

from chatbot.authorities import Gazetteer
from chatbot.build import build_reranker
from chatbot.query import plan_query
from chatbot.reranker import (
    DEFAULT_DIR,
    MANIFEST_FILE,
    MAX_LENGTH,
    MODEL_FILE,
    CrossEncoderReranker,
    RerankerUnavailable,
    clean_heading,
    encode_pairs,
    load_reranker,
    passage_text,
)
from chatbot.retrieval import HybridRetriever
from core.onnx_models import load_tokenizer
from core.settings import Settings
from train.reranker_data import (
    Passage,
    WrittenQuestion,
    build_groups,
    excluded_authorities,
    keyword_query,
    load_questions,
    question_groups,
)

CARE_LEAVERS = "Care leavers are helped to find somewhere safe to live; most live in suitable accommodation and personal advisers visit them often."
FRONT_DOOR = "Contacts and referrals to the multi-agency safeguarding hub are screened promptly and thresholds are understood by partners."
AUDIT = "Leaders use audits of case files to understand the quality of social work practice, and act on what they find."


@pytest.fixture(scope="module")
def reranker() -> CrossEncoderReranker:
    model = CrossEncoderReranker(DEFAULT_DIR)
    model.load()
    return model


# ---- the committed model -----------------------------------------------------------------------------


def test_committed_reranker_files_match_their_manifest() -> None:
    CrossEncoderReranker(DEFAULT_DIR).check()
    manifest = json.loads((DEFAULT_DIR / MANIFEST_FILE).read_text(encoding="utf-8"))
    assert manifest["model_bytes"] == (DEFAULT_DIR / MODEL_FILE).stat().st_size
    assert manifest["model_bytes"] < 50_000_000
    assert manifest["validation"]["trained"]["all"]["mrr"] > manifest["validation"]["bm25"]["all"]["mrr"]


@pytest.mark.parametrize(
    ("question", "best"),
    [
        ("Where do care leavers live, and is it suitable?", CARE_LEAVERS),
        ("How well does the front door handle referrals?", FRONT_DOOR),
        ("Do leaders know the quality of practice?", AUDIT),
    ],
)
def test_reranker_puts_the_passage_that_answers_first(reranker: CrossEncoderReranker, question: str, best: str) -> None:
    passages = [CARE_LEAVERS, FRONT_DOOR, AUDIT]
    scores = reranker.score(question, passages)
    assert scores.shape == (3,)
    assert passages[int(np.argmax(scores))] == best


def test_reranker_scores_alone_and_in_a_batch_agree(reranker: CrossEncoderReranker) -> None:
    """Padding does not change the order. The int8 model quantises activations over the whole batch, so a padded
    batch moves each score a little (measured: under 0.5 on a scale of about 20), never its rank."""
    batch = reranker.score("care leavers' homes", [CARE_LEAVERS, FRONT_DOOR * 8, AUDIT])
    alone = np.array([reranker.score("care leavers' homes", [p])[0] for p in (CARE_LEAVERS, FRONT_DOOR * 8, AUDIT)])
    assert list(np.argsort(-batch)) == list(np.argsort(-alone))
    assert np.abs(batch - alone).max() < 1.0
    assert reranker.score("anything", []).shape == (0,)


def test_pairs_cut_the_passage_never_the_question() -> None:
    tokenizer = load_tokenizer(DEFAULT_DIR / "tokenizer.json")
    question = "How well are care leavers supported with somewhere to live?"
    inputs = encode_pairs(tokenizer, question, [CARE_LEAVERS * 20, "Short."])
    assert inputs["input_ids"].shape == (2, MAX_LENGTH)
    first_segment = inputs["input_ids"][0][inputs["token_type_ids"][0] == 0]
    assert len(first_segment) == len(tokenizer.encode(question).ids)  # [CLS] question [SEP], whole
    assert inputs["attention_mask"][1].sum() < MAX_LENGTH  # the short one is padded, not filled


# ---- missing or damaged weights ------------------------------------------------------------------------


def test_missing_weights_turn_reranking_off_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="chatbot.reranker"):
        assert load_reranker(tmp_path / "nowhere") is None
    assert "Reranking is off" in caplog.text and "missing" in caplog.text and "make train-reranker" in caplog.text


def test_damaged_weights_are_refused_by_their_checksum(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    copy = tmp_path / "reranker"
    shutil.copytree(DEFAULT_DIR, copy)
    data = bytearray((copy / MODEL_FILE).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (copy / MODEL_FILE).write_bytes(bytes(data))
    with pytest.raises(RerankerUnavailable, match="do not match their manifest"):
        CrossEncoderReranker(copy).check()
    with caplog.at_level(logging.WARNING, logger="chatbot.reranker"):
        assert load_reranker(copy) is None


def test_truncated_weights_with_a_forged_manifest_fail_to_load_clearly(tmp_path: Path) -> None:
    copy = tmp_path / "reranker"
    shutil.copytree(DEFAULT_DIR, copy)
    (copy / MODEL_FILE).write_bytes((copy / MODEL_FILE).read_bytes()[:4096])
    manifest = json.loads((copy / MANIFEST_FILE).read_text(encoding="utf-8"))
    from core.onnx_models import file_sha256

    manifest["model_sha256"] = file_sha256(copy / MODEL_FILE)
    (copy / MANIFEST_FILE).write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(RerankerUnavailable, match="cannot be loaded"):
        CrossEncoderReranker(copy).load()


def test_retriever_falls_back_to_the_fused_ranking_when_the_model_will_not_load(
    tmp_path: Path, sample_index, caplog: pytest.LogCaptureFixture
) -> None:
    copy = tmp_path / "reranker"
    shutil.copytree(DEFAULT_DIR, copy)
    (copy / MODEL_FILE).write_bytes(b"not an onnx model")
    manifest = json.loads((copy / MANIFEST_FILE).read_text(encoding="utf-8"))
    from core.onnx_models import file_sha256

    manifest["model_sha256"] = file_sha256(copy / MODEL_FILE)  # passes the checksum, fails to load
    (copy / MANIFEST_FILE).write_text(json.dumps(manifest), encoding="utf-8")
    plan = plan_query("How are care leavers supported in Buckinghamshire?", [], None, Gazetteer())
    fused = HybridRetriever(sample_index).retrieve(plan, 10)
    retriever = HybridRetriever(sample_index, reranker=CrossEncoderReranker(copy))
    with caplog.at_level(logging.WARNING, logger="chatbot.retrieval"):
        hits = retriever.retrieve(plan, 10)
    assert [h.chunk.chunk_id for h in hits] == [h.chunk.chunk_id for h in fused]
    assert retriever.reranker is None and "Reranking is off" in caplog.text and "cannot be loaded" in caplog.text


def test_unreadable_manifest_is_a_clear_error(tmp_path: Path) -> None:
    copy = tmp_path / "reranker"
    shutil.copytree(DEFAULT_DIR, copy)
    (copy / MANIFEST_FILE).write_text("{not json", encoding="utf-8")
    with pytest.raises(RerankerUnavailable, match="manifest .* cannot be read"):
        CrossEncoderReranker(copy).check()


def test_settings_turn_reranking_on_or_point_elsewhere(tmp_path: Path) -> None:
    assert build_reranker(Settings()) is None  # off by default: it measures below the fused ranking (ADR 0009)
    assert build_reranker(Settings(rerank=True, reranker_dir=tmp_path)) is None
    assert isinstance(build_reranker(Settings(rerank=True)), CrossEncoderReranker)


# ---- the retriever with a reranker -------------------------------------------------------------------------


class ReverseAlphabetical:
    """A reranker that prefers passages later in the alphabet: a rule the fused ranking never follows."""

    name = "reverse-alphabetical"

    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []

    def score(self, query: str, passages):
        self.calls.append((query, len(passages)))
        order = sorted(range(len(passages)), key=lambda i: passages[i])
        scores = np.zeros(len(passages), dtype=np.float32)
        for rank, i in enumerate(order):
            scores[i] = rank
        return scores


def test_retriever_reorders_the_fused_top_by_the_reranker(sample_index) -> None:
    plan = plan_query("How are care leavers supported in Buckinghamshire?", [], None, Gazetteer())
    fused = HybridRetriever(sample_index).retrieve(plan, 30)
    scripted = ReverseAlphabetical()
    # a large weight: the reranker's order alone
    reranked = HybridRetriever(sample_index, reranker=scripted, rerank_depth=8, rerank_weight=100.0).retrieve(plan, 10)
    assert scripted.calls and scripted.calls[0][1] == 8
    assert scripted.calls[0][0] == plan.standalone  # it reads the question, not the expanded search text
    head = [passage_text(h.chunk.heading_path, h.chunk.text) for h in reranked[:8]]
    assert head == sorted(head, reverse=True)
    assert {h.chunk.chunk_id for h in reranked[:8]} == {h.chunk.chunk_id for h in fused[:8]}  # the same candidates
    assert [h.chunk.chunk_id for h in reranked[8:]] == [h.chunk.chunk_id for h in fused[8:10]]  # the rest keep order
    assert all(h.rerank is not None for h in reranked[:8]) and all(h.rerank is None for h in reranked[8:])


def test_retriever_fuses_the_reranker_order_with_the_hybrid_order(sample_index) -> None:
    """By default each of the top hits scores 1/(60 + hybrid rank) + 0.3/(60 + reranker rank); weight 0 keeps the
    hybrid order."""
    plan = plan_query("How are care leavers supported in Buckinghamshire?", [], None, Gazetteer())
    fused = [h.chunk.chunk_id for h in HybridRetriever(sample_index).retrieve(plan, 12)]
    reranked = HybridRetriever(sample_index, reranker=ReverseAlphabetical(), rerank_depth=12).retrieve(plan, 12)
    texts = {h.chunk.chunk_id: passage_text(h.chunk.heading_path, h.chunk.text) for h in reranked}
    by_model = sorted(fused, key=lambda cid: texts[cid], reverse=True)
    expected = sorted(fused, key=lambda cid: -(1 / (61 + fused.index(cid)) + 0.3 / (61 + by_model.index(cid))))
    assert [h.chunk.chunk_id for h in reranked] == expected
    assert expected not in (fused, by_model)  # the fusion is neither order alone
    kept = HybridRetriever(sample_index, reranker=ReverseAlphabetical(), rerank_depth=12, rerank_weight=0.0).retrieve(plan, 12)
    assert [h.chunk.chunk_id for h in kept] == fused


def test_retrieve_without_reranking_keeps_the_hybrid_order_and_reads_nothing(sample_index) -> None:
    """What a timeline's or comparison's choice of each report's paragraph asks for (reranking measured worse there)."""
    plan = plan_query("How are care leavers supported in Buckinghamshire?", [], None, Gazetteer())
    fused = [h.chunk.chunk_id for h in HybridRetriever(sample_index).retrieve(plan, 12)]
    scripted = ReverseAlphabetical()
    kept = HybridRetriever(sample_index, reranker=scripted, rerank_depth=12).retrieve(plan, 12, rerank=False)
    assert [h.chunk.chunk_id for h in kept] == fused and scripted.calls == []
    assert all(h.rerank is None for h in kept)


def test_retriever_with_the_committed_reranker_keeps_the_candidates(sample_index, reranker: CrossEncoderReranker) -> None:
    plan = plan_query("What did inspectors say about care leavers' accommodation in Buckinghamshire?", [], None, Gazetteer())
    fused = HybridRetriever(sample_index).retrieve(plan, 20)
    reranked = HybridRetriever(sample_index, reranker=reranker, rerank_depth=20, rerank_weight=100.0).retrieve(plan, 20)
    assert {h.chunk.chunk_id for h in reranked} == {h.chunk.chunk_id for h in fused}
    scores = [h.rerank for h in reranked]
    assert scores == sorted(scores, reverse=True)


# ---- the training recipe ---------------------------------------------------------------------------------


def _report(report_id: str, authority: str) -> list[Passage]:
    sections = {
        "Care leavers": [CARE_LEAVERS + " Most are in education, employment or training.", "Personal advisers keep in touch with care leavers. They know them well. They help with money and health."],
        "Help and protection": [FRONT_DOOR + " Strategy meetings are held quickly.", "Child protection plans are reviewed regularly. Parents are involved in plans. Risks are reduced."],
        "Leadership": [AUDIT + " The director is visible.", "Senior leaders have a clear plan for improvement. Caseloads have come down. Staff feel supported."],
    }
    return [Passage(report_id, authority, heading, text) for heading, texts in sections.items() for text in texts]


def test_recipe_groups_are_seeded_and_never_give_the_answer_away() -> None:
    reports = [_report("a-2024", "Aville"), _report("b-2023", "Bshire"), _report("c-2022", "Ctown")]
    groups = build_groups(reports, seed=7, per_report=4)
    assert groups == build_groups(reports, seed=7, per_report=4)
    assert {g.kind for g in groups} == {"heading", "cloze"}
    for group in groups:
        assert group.positive not in group.negatives and len(group.negatives) == 3
        if group.kind == "heading":
            own = [p.text for r in reports for p in r if p.report_id == group.report_id and p.heading == group.query]
            assert group.positive in own  # a passage under that heading, without the heading
            assert not any(n in own for n in group.negatives)
            assert not group.positive.startswith(f"{group.query}. ")  # no heading line before the text
        else:
            assert group.query not in group.positive  # the sentence asked is cut from its passage


def test_recipe_negatives_never_share_more_of_the_query_than_the_positive() -> None:
    """The cap that keeps the recipe from teaching "sharing the question's words marks a wrong passage"."""
    from train.reranker_data import BM25
    from vectorstore.keyword import tokenize

    reports = [_report("a-2024", "Aville"), _report("b-2023", "Bshire"), _report("c-2022", "Ctown")]
    bm25 = BM25([f"{p.heading} {p.text}" for r in reports for p in r])
    for group in build_groups(reports, seed=3, per_report=6):
        terms = tokenize(group.query)
        positive = bm25.score_text(terms, group.positive)
        assert all(bm25.score_text(terms, negative) <= positive + 1e-9 for negative in group.negatives), group


def test_recipe_leaves_out_every_eval_sets_authorities() -> None:
    excluded = excluded_authorities()
    assert {"Buckinghamshire", "Harrow", "Barking and Dagenham"} <= excluded  # sample, dev current, blind test
    assert len(excluded) >= 30


def test_keyword_query_keeps_content_words_in_order() -> None:
    import random

    query = keyword_query("Personal advisers keep in touch with care leavers and help them with money.", random.Random(1))
    words = query.split()
    assert 3 <= len(words) <= 8
    source = "Personal advisers keep touch care leavers help them money".split()
    positions = [source.index(w) for w in words]
    assert positions == sorted(positions)


def test_clean_heading_drops_the_grade() -> None:
    assert clean_heading("Care leavers: good") == "Care leavers"
    assert clean_heading("The experiences and progress of children in care: requires improvement to be good") == "The experiences and progress of children in care"
    assert passage_text(("Report", "Care leavers: good"), "Text.") == "Care leavers. Text."
    assert passage_text((), "Text.") == "Text."


def test_training_without_the_corpus_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from train.reranker import main

    assert main(["--corpus", str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    assert "no corpus at" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def _question(report_id: str, text: str, positives: list[int], near: list[int], reports: list[list[Passage]]) -> WrittenQuestion:
    report = next(r for r in reports if r[0].report_id == report_id)
    label = lambda i: (i, report[i].text[:40])  # noqa: E731
    return WrittenQuestion(report_id, text, tuple(map(label, positives)), tuple(map(label, near)), "councillor", "train")


def test_written_questions_never_take_an_answering_passage_as_a_negative() -> None:
    reports = [_report("a-2024", "Aville"), _report("b-2023", "Bshire"), _report("c-2022", "Ctown")]
    # passages 0 and 1 are about care leavers; 3 is child protection, the writer's near miss
    question = _question("a-2024", "Do young people leaving care get help with money and a home?", [0, 1], [3], reports)
    groups, dropped = question_groups(reports, [question], seed=5, repeats=2)
    assert dropped == 0 and len(groups) == 4  # one per positive and repeat
    answering = {_with_heading_text(reports[0][i]) for i in (0, 1)}
    near_miss = _with_heading_text(reports[0][3])
    for group in groups:
        assert group.kind == "question" and group.query == question.question
        assert group.positive in answering
        assert len(group.negatives) == 3 and not answering & set(group.negatives)
        assert near_miss in group.negatives  # the writer's near miss comes first
        assert any("Bshire" not in n for n in group.negatives)
    assert groups == question_groups(reports, [question], seed=5, repeats=2)[0]  # seeded


def test_validation_questions_rank_the_answer_among_every_other_passage_of_its_report() -> None:
    reports = [_report("a-2024", "Aville"), _report("b-2023", "Bshire")]
    question = _question("a-2024", "Are care leavers housed well?", [0], [], reports)
    groups, _ = question_groups(reports, [question], seed=1, validation=True)
    assert len(groups) == 1 and len(groups[0].negatives) == len(reports[0]) - 1


def test_a_written_question_whose_passage_no_longer_parses_is_dropped(tmp_path: Path) -> None:
    reports = [_report("a-2024", "Aville"), _report("b-2023", "Bshire")]
    path = tmp_path / "questions.jsonl"
    rows = [
        {"report": "a-2024", "question": "Care leavers' homes?", "positives": [[0, CARE_LEAVERS[:30]]], "near_misses": [], "split": "train"},
        {"report": "a-2024", "question": "Stale label", "positives": [[0, "Text the chunker no longer makes"]], "near_misses": []},
        {"report": "z-2020", "question": "A report not parsed", "positives": [[0, "Anything"]], "near_misses": []},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    questions = load_questions(path)
    assert [q.split for q in questions] == ["train", "train", "train"]
    groups, dropped = question_groups(reports, questions, seed=1, repeats=1)
    assert dropped == 2 and {g.query for g in groups} == {"Care leavers' homes?"}
    assert load_questions(tmp_path / "absent.jsonl") == []


def test_the_committed_written_questions_load_and_cover_no_eval_authority() -> None:
    questions = load_questions()
    assert len(questions) >= 1000 and {q.split for q in questions} == {"train", "validation"}
    excluded = {a.lower().replace(" ", "-").replace(",", "") for a in excluded_authorities()}
    assert not any(q.report_id.startswith(a + "-") for q in questions for a in excluded)


def _with_heading_text(passage: Passage) -> str:
    return passage_text((passage.heading,) if passage.heading else (), passage.text)
