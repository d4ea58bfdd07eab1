"""Fusion, scoping and hybrid retrieval over the real sample index (read-only)."""

from __future__ import annotations

from datetime import date

import pytest

from chatbot.authorities import Gazetteer
from chatbot.query import QueryPlan, plan_query
from chatbot.retrieval import HybridRetriever, reciprocal_rank_fusion, scope_reports
from core.models import Turn
from core.text import normalise

# ---- reciprocal rank fusion (hand-computed) --------------------------------------------------------


@pytest.mark.parametrize(
    ("rankings", "kwargs", "expected"),
    [
        ([], {}, {}),
        ([["a", "b"]], {}, {"a": 1 / 61, "b": 1 / 62}),
        ([["a", "b"], ["b", "c"]], {}, {"a": 1 / 61, "b": 1 / 62 + 1 / 61, "c": 1 / 62}),
        ([["a", "b", "c"]], {"k": 1}, {"a": 1 / 2, "b": 1 / 3, "c": 1 / 4}),
        ([["a"], ["a"]], {"weights": [2.0, 1.0]}, {"a": 2 / 61 + 1 / 61}),
        ([["a", "b"], ["b", "a"]], {"k": 0}, {"a": 1 + 1 / 2, "b": 1 / 2 + 1}),
        ([["a"], []], {"weights": [0.0, 1.0]}, {"a": 0.0}),
    ],
)
def test_reciprocal_rank_fusion(rankings: list[list[str]], kwargs: dict, expected: dict[str, float]) -> None:
    fused = reciprocal_rank_fusion(rankings, **kwargs)
    assert fused.keys() == expected.keys()
    for item, score in expected.items():
        assert fused[item] == pytest.approx(score)


def test_fusion_rewards_agreement() -> None:
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["c", "b", "a"], ["b"]])
    assert max(fused, key=fused.get) == "b"


def test_fusion_needs_one_weight_per_ranking() -> None:
    with pytest.raises(ValueError):
        reciprocal_rank_fusion([["a"], ["b"]], weights=[1.0])


# ---- scope_reports over the sample index's reports -------------------------------------------------

TRAFFORD_ALL = {
    "trafford-ilacs-2019-05-08",
    "trafford-focused-visit-2021-05-10",
    "trafford-ilacs-2023-01-31",
    "trafford-focused-visit-2024-08-01",
    "trafford-ilacs-2026-08-03",
}
BUCKS_FV_2021_PDF = "buckinghamshire-focused-visit-2021-04-12"
BUCKS_FV_2021_MD = "buckinghamshire-focused-visit-2021-04-12-md"


def scope(question: str = "", **fields) -> QueryPlan:
    return QueryPlan(question=question, standalone=question, **fields)


@pytest.fixture(scope="module")
def reports(sample_index):
    return sample_index.reports()


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return Gazetteer()


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"authorities": ("Trafford",)}, TRAFFORD_ALL),
        ({"authorities": ("trafford",)}, TRAFFORD_ALL),  # names compare normalised
        ({"authorities": ("Devon",)}, set()),
        ({"authorities": ("Trafford",), "report_types": ("focused_visit",)}, {"trafford-focused-visit-2021-05-10", "trafford-focused-visit-2024-08-01"}),
        ({"report_types": ("area_send_inspection",)}, {"blackpool-area-send-2024-07-25"}),
        ({"report_types": ("sif_inspection",)}, {"buckinghamshire-sif-2018-01-29-txt"}),
        ({"authorities": ("Trafford",), "published_from": date(2019, 1, 1), "published_to": date(2019, 12, 31)}, {"trafford-ilacs-2019-05-08"}),
        # published 11 February 2022, visited in December 2021: a 2021 window admits it through its visit dates
        (
            {"authorities": ("Buckinghamshire",), "published_from": date(2021, 1, 1), "published_to": date(2021, 12, 31)},
            {BUCKS_FV_2021_PDF, BUCKS_FV_2021_MD, "buckinghamshire-ilacs-2022-02-11"},
        ),
        # "published in 2021" is its publication date alone; "inspected in 2022" its visit dates alone
        (
            {"authorities": ("Buckinghamshire",), "published_from": date(2021, 1, 1), "published_to": date(2021, 12, 31), "dated_by": "published"},
            {BUCKS_FV_2021_PDF, BUCKS_FV_2021_MD},
        ),
        (
            {"authorities": ("Buckinghamshire",), "published_from": date(2022, 1, 1), "published_to": date(2022, 12, 31), "dated_by": "visited"},
            {"buckinghamshire-focused-visit-2022-11-16"},
        ),
        ({"published_from": date(2017, 1, 1), "published_to": date(2017, 12, 31), "dated_by": "published"}, set()),
        ({"published_from": date(2017, 1, 1), "published_to": date(2017, 12, 31), "dated_by": "visited"}, {"buckinghamshire-sif-2018-01-29-txt"}),
        # the SIF re-inspection was visited in November 2017 and published in January 2018
        ({"published_from": date(2017, 1, 1), "published_to": date(2017, 12, 31)}, {"buckinghamshire-sif-2018-01-29-txt"}),
        ({"authorities": ("Trafford",), "published_from": date(2025, 1, 1)}, {"trafford-ilacs-2026-08-03"}),
        ({"authorities": ("Trafford",), "published_to": date(2020, 12, 31)}, {"trafford-ilacs-2019-05-08"}),
        ({"authorities": ("Trafford",), "latest": True}, {"trafford-ilacs-2026-08-03"}),
        ({"authorities": ("Trafford",), "earliest": True}, {"trafford-ilacs-2019-05-08"}),
        ({"authorities": ("Trafford",), "report_types": ("focused_visit",), "latest": True}, {"trafford-focused-visit-2024-08-01"}),
        ({"authorities": ("Buckinghamshire",), "earliest": True}, {"buckinghamshire-sif-2018-01-29-txt"}),
        ({"authorities": ("Trafford",), "published_from": date(2020, 1, 1), "earliest": True}, {"trafford-focused-visit-2021-05-10"}),
        # latest with no authority: each authority's newest report
        (
            {"latest": True},
            {
                "blackpool-area-send-2024-07-25",
                "buckinghamshire-ilacs-2025-05-14",
                "calderdale-focused-visit-2022-03-21",
                "camden-ilacs-2025-04-15",
                "islington-ilacs-2025-01-29",
                "trafford-ilacs-2026-08-03",
            },
        ),
        ({"authorities": ("Trafford", "Camden"), "latest": True}, {"trafford-ilacs-2026-08-03", "camden-ilacs-2025-04-15"}),
    ],
)
def test_scope_reports(reports, fields: dict, expected: set[str]) -> None:
    assert set(scope_reports(reports, scope(**fields))) == expected


def test_scope_reports_without_scope_is_unrestricted(reports) -> None:
    assert scope_reports(reports, scope("What did inspectors say about care leavers?")) is None


def test_scope_reports_from_a_planned_question(reports, gazetteer: Gazetteer) -> None:
    plan = plan_query("What did the latest focused visit to Trafford say about care leavers?", [], None, gazetteer)
    assert scope_reports(reports, plan) == ["trafford-focused-visit-2024-08-01"]


def test_previous_one_follow_up_does_not_pick_the_same_report(reports, gazetteer: Gazetteer) -> None:
    history = [Turn("What did Trafford's 2023 inspection say about leaders?", "Leaders have ...")]
    plan = plan_query("What did the previous one say?", history, None, gazetteer)
    assert scope_reports(reports, plan) != ["trafford-ilacs-2023-01-31"]


# ---- hybrid retrieval over the sample index ----------------------------------------------------------


@pytest.fixture(scope="module")
def retriever(sample_index) -> HybridRetriever:
    return HybridRetriever(sample_index)


def authority_of(sample_index, report_id: str) -> str | None:
    return sample_index.report(report_id).metadata.local_authority


def test_scoped_retrieval_returns_only_chunks_of_the_scoped_reports(retriever: HybridRetriever) -> None:
    allowed = ["trafford-ilacs-2023-01-31", "camden-ilacs-2025-04-15"]
    hits = retriever.retrieve(scope("care leavers and personal advisers"), 10, allowed)
    assert hits
    assert {h.chunk.report_id for h in hits} <= set(allowed)


def test_plan_scope_restricts_retrieval(sample_index, retriever: HybridRetriever, gazetteer: Gazetteer) -> None:
    plan = plan_query("What did the focused visits to Trafford say about care leavers?", [], None, gazetteer)
    hits = retriever.retrieve(plan, 10)
    assert hits
    assert {h.chunk.report_id for h in hits} <= {"trafford-focused-visit-2021-05-10", "trafford-focused-visit-2024-08-01"}


def test_empty_scope_returns_nothing(retriever: HybridRetriever) -> None:
    assert retriever.retrieve(scope("care leavers", authorities=("Devon",)), 10) == []


def test_hits_are_ranked_by_fused_score(retriever: HybridRetriever) -> None:
    hits = retriever.retrieve(scope("care leavers living in suitable accommodation"), 10)
    assert len(hits) == 10
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)
    assert all(h.dense > 0 or h.keyword > 0 for h in hits)


COVID_METHOD = "The methodology for this visit was in line with the inspection of local authority children"


def test_near_duplicate_question_naming_trafford_returns_trafford_first(sample_index, retriever, gazetteer) -> None:
    # Trafford's and Buckinghamshire's 2021 focused visit letters describe their remote methodology in nearly the
    # same words; without an authority Buckinghamshire's paragraph ranks first
    unscoped = retriever.retrieve(plan_query("How was the focused visit adapted to reflect the COVID-19 context?", [], None, gazetteer), 5)
    assert unscoped[0].chunk.text.startswith(COVID_METHOD)
    assert {authority_of(sample_index, h.chunk.report_id) for h in unscoped[:2]} == {"Buckinghamshire", "Trafford"}

    plan = plan_query("How was the Trafford focused visit adapted to reflect the COVID-19 context?", [], None, gazetteer)
    hits = retriever.retrieve(plan, 5)
    assert hits[0].chunk.text.startswith(COVID_METHOD)
    assert hits[0].chunk.report_id == "trafford-focused-visit-2021-05-10"
    assert all(authority_of(sample_index, h.chunk.report_id) == "Trafford" for h in hits)


def test_two_authorities_are_interleaved(sample_index, retriever: HybridRetriever, gazetteer: Gazetteer) -> None:
    plan = plan_query("How effective is the front door in Trafford and Camden?", [], None, gazetteer)
    assert plan.authorities == ("Trafford", "Camden")
    hits = retriever.retrieve(plan, 6)
    authorities = [authority_of(sample_index, h.chunk.report_id) for h in hits]
    assert authorities == ["Trafford", "Camden"] * 3


def test_duplicate_text_appears_once_and_the_pdf_copy_is_preferred(sample_index, retriever: HybridRetriever) -> None:
    # the 2021 Buckinghamshire letter is indexed twice: the PDF and a Markdown export with the same paragraphs
    plan = scope("care leavers in touch with personal advisers", authorities=("Buckinghamshire",))
    hits = retriever.retrieve(plan, 20)
    texts = [normalise(h.chunk.text) for h in hits]
    assert len(texts) == len(set(texts))
    report_ids = [h.chunk.report_id for h in hits]
    assert BUCKS_FV_2021_PDF in report_ids
    assert BUCKS_FV_2021_MD not in report_ids
    in_touch = next(h for h in hits if "in touch with the vast majority of its care leavers" in h.chunk.text)
    assert in_touch.chunk.report_id == BUCKS_FV_2021_PDF
    assert sample_index.report(in_touch.chunk.report_id).source.endswith(".pdf")


def test_markdown_copy_is_still_retrievable_on_its_own(retriever: HybridRetriever) -> None:
    hits = retriever.retrieve(scope("care leavers in touch with personal advisers"), 5, [BUCKS_FV_2021_MD])
    assert hits and {h.chunk.report_id for h in hits} == {BUCKS_FV_2021_MD}
