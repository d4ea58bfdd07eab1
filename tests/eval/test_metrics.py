"""Table-driven tests of the pure metric functions, with hand-computed expected values."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.models import Answer, Citation, Paragraph, RetrievedChunk
from eval.dataset import EvalCase
from eval.metrics import (
    REQUIRED_SUMMARY_KEYS,
    CaseScore,
    aggregate,
    aggregate_by_tag,
    citation_precision,
    citation_recall,
    citation_validity,
    compare,
    evidence_recall_at_k,
    fact_recall,
    hit_at_k,
    hits,
    passes,
    percentile,
    reciprocal_rank,
    refusal_accuracy,
    score_case,
    stated,
    threshold_failures,
)


def cite(paragraph_id: str, text: str, marker: str = "1") -> Citation:
    return Citation(
        marker=marker,
        paragraph_id=paragraph_id,
        report_id="r1",
        local_authority="Buckinghamshire",
        report_type="focused_visit",
        published="2021-04-12",
        page=1,
        paragraph_number=None,
        heading="",
        text=text,
        source="r1.pdf",
    )


def chunk(chunk_id: str, text: str) -> RetrievedChunk:
    return RetrievedChunk(chunk_id=chunk_id, paragraph_ids=(chunk_id,), score=0.0, text=text)


PARAGRAPHS = {
    "p1": Paragraph("p1", "r1", "The local authority is in touch with the vast majority of its care leavers.", 1, 0),
    "p2": Paragraph("p2", "r1", "Social workers visit children regularly and know them well.", 1, 1),
    "p3": Paragraph("p3", "r1", "Leaders have a clear understanding of the service’s strengths.", 2, 2),
}


def lookup(paragraph_id: str) -> Paragraph | None:
    return PARAGRAPHS.get(paragraph_id)


@pytest.mark.parametrize(
    ("text", "snippet", "expected"),
    [
        ("in touch with the vast majority of its care leavers", "vast majority", True),
        ("In Touch With The VAST Majority", "in touch with the vast majority", True),  # case-folded
        ("the local authority’s “front door”", "the local authority's \"front door\"", True),  # curly quotes
        ("young people’s well-\nbeing is promoted", "young people's well-being is promoted", True),  # hyphen + break
        ("children   were\n seen\tpromptly", "children were seen promptly", True),  # whitespace runs
        ("a 2021–2022 plan", "a 2021-2022 plan", True),  # en dash
        ("ﬁnancial support", "financial support", True),  # NFKC ligature
        ("care leavers are supported", "care leavers are not supported", False),
        ("vast", "vast majority", False),
    ],
)
def test_hits_normalises_both_sides(text: str, snippet: str, expected: bool) -> None:
    assert hits(text, snippet) is expected


TEXTS = [
    "nothing relevant here",
    "also irrelevant",
    "they saw the VAST majority of care leavers",
    "well-\nbeing matters",
]


@pytest.mark.parametrize(
    ("evidence", "k", "expected"),
    [
        (["vast majority"], 1, 0.0),
        (["vast majority"], 3, 1.0),
        (["vast majority"], 5, 1.0),
        (["well-being matters"], 3, 0.0),
        (["well-being matters"], 10, 1.0),
        (["not there"], 10, 0.0),
    ],
)
def test_hit_at_k(evidence: list[str], k: int, expected: float) -> None:
    assert hit_at_k(TEXTS, evidence, k) == expected


@pytest.mark.parametrize(
    ("evidence", "k", "expected"),
    [
        (["vast majority", "well-being matters"], 3, 0.5),
        (["vast majority", "well-being matters"], 5, 1.0),
        (["vast majority", "well-being matters", "absent"], 5, 2 / 3),
        (["absent"], 5, 0.0),
    ],
)
def test_evidence_recall_at_k(evidence: list[str], k: int, expected: float) -> None:
    assert evidence_recall_at_k(TEXTS, evidence, k) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("texts", "evidence", "expected"),
    [
        (TEXTS, ["vast majority"], 1 / 3),
        (TEXTS, ["well-being", "vast majority"], 1 / 3),  # first chunk hitting any item
        (TEXTS, ["nothing relevant"], 1.0),
        (TEXTS, ["absent"], 0.0),
        (["x"] * 10 + ["vast majority"], ["vast majority"], 0.0),  # rank 11 is outside the top 10
        (["x"] * 9 + ["vast majority"], ["vast majority"], 0.1),
        ([], ["vast majority"], 0.0),
    ],
)
def test_reciprocal_rank(texts: list[str], evidence: list[str], expected: float) -> None:
    assert reciprocal_rank(texts, evidence) == pytest.approx(expected)


CITED = [PARAGRAPHS["p1"].text, PARAGRAPHS["p2"].text]


@pytest.mark.parametrize(
    ("cited", "evidence", "expected_recall", "expected_precision"),
    [
        (CITED, ["vast majority of its care leavers"], 1.0, 0.5),
        (CITED, ["vast majority", "know them well"], 1.0, 1.0),
        (CITED, ["vast majority", "clear understanding"], 0.5, 0.5),
        (CITED, ["clear understanding"], 0.0, 0.0),
        ([], ["vast majority"], 0.0, None),  # nothing cited: precision does not apply
    ],
)
def test_citation_recall_and_precision(
    cited: list[str], evidence: list[str], expected_recall: float, expected_precision: float | None
) -> None:
    assert citation_recall(cited, evidence) == pytest.approx(expected_recall)
    assert citation_precision(cited, evidence) == (
        None if expected_precision is None else pytest.approx(expected_precision)
    )


@pytest.mark.parametrize(
    ("citations", "expected"),
    [
        ([cite("p1", PARAGRAPHS["p1"].text)], 1.0),
        ([cite("p3", "Leaders have a clear understanding of the service's strengths.")], 1.0),  # quote style only
        ([cite("p3", "LEADERS  have a clear\nunderstanding of the service’s strengths.")], 1.0),  # case, spaces
        ([cite("p1", "The local authority is in touch with some of its care leavers.")], 0.0),  # text differs
        ([cite("p9", "Anything")], 0.0),  # no such paragraph
        ([cite("p1", PARAGRAPHS["p1"].text), cite("p9", "x", "2"), cite("p2", PARAGRAPHS["p2"].text, "3")], 2 / 3),
        ([], None),
    ],
)
def test_citation_validity(citations: list[Citation], expected: float | None) -> None:
    result = citation_validity(citations, lookup)
    assert result == (None if expected is None else pytest.approx(expected))


@pytest.mark.parametrize(
    ("answer", "facts", "expected"),
    [
        ("It is in touch with the vast majority [1] of care leavers.", [["vast majority"]], 1.0),
        ("It is in touch with the vast [1] majority of care leavers.", [["vast majority"]], 1.0),  # marker removed
        ("It is in touch with most care leavers.", [["vast majority", "most"]], 1.0),  # an alternative
        ("It is in touch with MOST care leavers.", [["vast majority", "most"], ["personal advisers"]], 0.5),
        ("The authority’s plan is “good”.", [["authority's plan is \"good\""]], 1.0),
        ("Nothing to say.", [["vast majority"], ["personal advisers"]], 0.0),
    ],
)
def test_fact_recall(answer: str, facts: list[list[str]], expected: float) -> None:
    assert fact_recall(answer, facts) == pytest.approx(expected)


def test_stated_accepts_any_alternative() -> None:
    assert stated("Requires improvement to be good", ["inadequate", "requires improvement"])


@pytest.mark.parametrize(
    ("answerable", "refused", "citations", "expected"),
    [
        (True, False, 2, 1.0),
        (True, True, 0, 0.0),
        (False, True, 0, 1.0),
        (False, True, 1, 0.0),  # a refusal that cites something is not a clean refusal
        (False, False, 0, 0.0),
    ],
)
def test_refusal_accuracy(answerable: bool, refused: bool, citations: int, expected: float) -> None:
    assert refusal_accuracy(answerable, refused, citations) == expected


@pytest.mark.parametrize(
    ("answerable", "refusal", "recall", "facts", "invalid", "expected"),
    [
        (True, 1.0, 0.5, 1.0, 0, True),
        (True, 1.0, 0.0, 1.0, 0, False),  # cited no evidence
        (True, 1.0, 1.0, 0.5, 0, False),  # missed a fact
        (True, 1.0, 1.0, 1.0, 1, False),  # an invalid citation
        (True, 1.0, None, 1.0, 0, True),  # no evidence listed: judged on facts
        (True, 1.0, 1.0, None, 0, True),  # no facts listed: judged on citations
        (True, 0.0, None, 1.0, 0, False),  # refused an answerable question
        (False, 1.0, None, None, 0, True),
        (False, 0.0, None, None, 0, False),
    ],
)
def test_pass_rule(
    answerable: bool, refusal: float, recall: float | None, facts: float | None, invalid: int, expected: bool
) -> None:
    assert (
        passes(
            answerable=answerable,
            refusal=refusal,
            citation_recall_value=recall,
            fact_recall_value=facts,
            invalid_citations=invalid,
        )
        is expected
    )


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([1.0, 2.0, 3.0, 4.0, 5.0], 50, 3.0),
        ([1.0, 2.0, 3.0, 4.0], 50, 2.5),
        ([1.0, 2.0, 3.0, 4.0, 5.0], 95, 4.8),  # 0.95 * 4 = 3.8 -> 4 + 0.8 * (5 - 4)
        ([2.0], 95, 2.0),
        ([None, 3.0, 1.0], 50, 2.0),
        ([], 50, None),
    ],
)
def test_percentile(values: list[float | None], q: float, expected: float | None) -> None:
    assert percentile(values, q) == (None if expected is None else pytest.approx(expected))


def make_case(case_id: str, *, answerable: bool = True, evidence=(), facts=(), tags=()) -> EvalCase:
    return EvalCase(
        id=case_id,
        question="What did inspectors say?",
        answerable=answerable,
        evidence=tuple(evidence),
        facts=tuple(tuple(f) for f in facts),
        tags=tuple(tags),
        source=Path("cases.yaml"),
    )


def test_score_case_answerable() -> None:
    case = make_case(
        "c1", evidence=["vast majority of its care leavers", "clear understanding"], facts=[["vast majority"]]
    )
    answer = Answer(
        answer="It keeps in touch with the vast majority of care leavers [1] [2].",
        refused=False,
        citations=(cite("p1", PARAGRAPHS["p1"].text), cite("p2", PARAGRAPHS["p2"].text, "2")),
        retrieved=(chunk("a", "unrelated"), chunk("b", PARAGRAPHS["p3"].text), chunk("c", PARAGRAPHS["p1"].text)),
    )
    score = score_case(case, answer, lookup, {"latency_s": 0.5})
    m = score.metrics
    assert (m["hit@1"], m["hit@3"], m["hit@5"], m["hit@10"]) == (0.0, 1.0, 1.0, 1.0)
    assert m["evidence_recall@5"] == 1.0
    assert m["mrr"] == pytest.approx(0.5)
    assert m["citation_recall"] == 0.5  # "clear understanding" (p3) was retrieved but not cited
    assert m["citation_precision"] == 0.5  # p2 hits nothing
    assert m["citation_validity"] == 1.0
    assert m["fact_recall"] == 1.0
    assert m["refusal_accuracy"] == 1.0 and m["refusal_accuracy_answerable"] == 1.0
    assert m["refusal_accuracy_unanswerable"] is None
    assert m["latency_s"] == 0.5
    assert score.passed
    assert score.missed_evidence == ("clear understanding",)


def test_score_case_unanswerable_that_answered() -> None:
    case = make_case("c2", answerable=False)
    answer = Answer(answer="Something.", refused=False, citations=(cite("p9", "made up"),))
    score = score_case(case, answer, lookup)
    m = score.metrics
    assert m["hit@5"] is None and m["mrr"] is None and m["citation_recall"] is None and m["fact_recall"] is None
    assert m["citation_validity"] == 0.0  # validity applies to any case that cites
    assert m["refusal_accuracy"] == 0.0 and m["refusal_accuracy_unanswerable"] == 0.0
    assert not score.passed
    assert any("expected a refusal" in problem for problem in score.problems)


def test_score_case_names_what_was_missed() -> None:
    case = make_case("c3", evidence=["clear understanding"], facts=[["strengths"], ["weaknesses", "gaps"]])
    answer = Answer(answer="Leaders know their strengths [1].", refused=False, citations=(cite("p9", "x"),))
    score = score_case(case, answer, lookup)
    assert not score.passed
    problems = "\n".join(score.problems)
    assert "cited none of the evidence" in problems
    assert "'clear understanding'" in problems
    assert "'weaknesses' | 'gaps'" in problems
    assert "p9: no such paragraph" in problems


def score(passed: bool, **metrics: float | None) -> CaseScore:
    return CaseScore(metrics=dict(metrics), passed=passed)


def test_aggregate_averages_only_where_a_metric_applies() -> None:
    scores = [
        score(True, **{"hit@5": 1.0, "citation_precision": 1.0, "refusal_accuracy": 1.0, "latency_s": 1.0}),
        score(False, **{"hit@5": 0.0, "citation_precision": None, "refusal_accuracy": 1.0, "latency_s": 3.0}),
        score(True, **{"hit@5": None, "citation_precision": None, "refusal_accuracy": 0.0, "latency_s": 2.0}),
        score(True, **{"hit@5": 1.0, "citation_precision": 0.5, "refusal_accuracy": 1.0, "latency_s": 4.0}),
    ]
    summary = aggregate(scores, [True, True, False, True])
    assert list(summary)[: len(REQUIRED_SUMMARY_KEYS)] == list(REQUIRED_SUMMARY_KEYS)
    assert summary["cases"] == 4
    assert summary["pass_rate"] == 0.75
    assert summary["hit@5"] == pytest.approx(2 / 3)  # the unanswerable case is excluded
    assert summary["citation_precision"] == 0.75  # only the two cases that cited something
    assert summary["refusal_accuracy"] == 0.75
    assert summary["fact_recall"] is None  # no case had facts
    assert summary["latency_p50_s"] == pytest.approx(2.5)
    assert summary["latency_p95_s"] == pytest.approx(3.85)  # 0.95 * 3 = 2.85 -> 3 + 0.85 * (4 - 3)
    assert (summary["answerable_cases"], summary["unanswerable_cases"], summary["failed_cases"]) == (3, 1, 1)


def test_aggregate_by_tag() -> None:
    cases = [
        make_case("a", evidence=["x"], tags=["paraphrase"]),
        make_case("b", evidence=["x"], tags=["paraphrase", "followup"]),
    ]
    scores = [score(True, **{"hit@5": 1.0}), score(False, **{"hit@5": 0.0})]
    by_tag = aggregate_by_tag(cases, scores)
    assert list(by_tag) == ["followup", "paraphrase"]
    assert by_tag["paraphrase"]["hit@5"] == 0.5 and by_tag["paraphrase"]["cases"] == 2
    assert by_tag["followup"]["pass_rate"] == 0.0


@pytest.mark.parametrize(
    ("summary", "minimums", "expected"),
    [
        ({"citation_validity": 1.0}, {"citation_validity": 1.0}, 0),
        ({"citation_validity": 0.99}, {"citation_validity": 1.0}, 1),
        ({"citation_validity": None}, {"citation_validity": 1.0}, 0),  # nothing cited: not judged
        ({"hit@5": 0.8, "fact_recall": 0.7}, {"hit@5": 0.9, "fact_recall": 0.8}, 2),
    ],
)
def test_threshold_failures(summary: dict, minimums: dict, expected: int) -> None:
    assert len(threshold_failures(summary, minimums)) == expected


@pytest.mark.parametrize(
    ("metric", "current", "baseline", "tolerance", "regressed"),
    [
        ("hit@5", 0.89, 0.90, 0.02, False),  # within tolerance
        ("hit@5", 0.87, 0.90, 0.02, True),
        ("hit@5", 0.88, 0.90, 0.02, False),  # exactly at the tolerance
        ("hit@5", 0.95, 0.90, 0.02, False),  # better
        ("hit@5", 0.50, 0.90, None, False),  # not judged
        ("hit@5", None, 0.90, 0.02, False),
        ("latency_p95_s", 2.0, 1.0, 0.5, True),  # lower is better
        ("latency_p95_s", 0.5, 1.0, 0.5, False),
    ],
)
def test_metric_regression(
    metric: str, current: float | None, baseline: float | None, tolerance: float | None, regressed: bool
) -> None:
    tolerances = {} if tolerance is None else {metric: tolerance}
    comparison = compare({metric: current}, {}, {metric: baseline}, {}, tolerances)
    assert [d.metric for d in comparison.regressed_metrics] == ([metric] if regressed else [])
    assert comparison.ok is not regressed


def test_compare_names_cases_that_flipped() -> None:
    comparison = compare(
        {"pass_rate": 0.5},
        {"a": True, "b": False, "c": True, "new": False},
        {"pass_rate": 0.5},
        {"a": False, "b": True, "c": True, "gone": True},
        {"pass_rate": 0.02},
    )
    assert comparison.newly_failing == ("b",)
    assert comparison.newly_passing == ("a",)
    assert comparison.new_cases == ("new",)
    assert not comparison.ok  # a flip is a regression even with metrics unchanged
    assert any("case b passed in the baseline" in message for message in comparison.messages())
