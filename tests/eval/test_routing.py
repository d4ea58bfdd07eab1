"""The routing set's scorer: labels read back from real answers' traces, slot matching, the confusion
matrix, and the set's format errors. The end-to-end test asks the real pipeline over the sample index."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from chatbot.extractive import ExtractiveAnswerer
from chatbot.pipeline import QAPipeline
from eval.dataset import DatasetError
from eval.routing import (
    Labels,
    RoutingCase,
    load_routing,
    observed_labels,
    route_of,
    routing_markdown,
    run_routing,
    slot_results,
    summarise,
)


@pytest.mark.parametrize(
    ("trace", "route"),
    [
        ({"route": "passage"}, "passage"),
        ({"route": "passage", "refusal": "no-evidence"}, "passage"),  # searched, found nothing: still the passage route
        ({"route": "passage", "refusal": "off-topic"}, "refuse"),
        ({"route": "passage", "refusal": "authority-not-indexed"}, "refuse"),
        ({"route": "structured:next-inspection", "refusal": "next-inspection"}, "refuse"),
        ({"route": "structured:grade+date"}, "grade"),
        ({"route": "structured:inspector"}, "inspector"),
        ({"route": "structured:list"}, "list"),
        ({"route": "structured:moves"}, "movement"),
        ({"route": "structured:improvements"}, "improvements"),
        ({"route": "why-graded"}, "passage"),
        ({"route": "timeline"}, "timeline"),
        ({}, "passage"),
    ],
)
def test_route_of_a_trace(trace: dict, route: str) -> None:
    assert route_of(trace) == route


def test_labels_come_from_the_plan_as_first_understood() -> None:
    trace = {
        "route": "structured:grade",
        "asked": {"standalone": "care leavers grade in Trafford 2023", "authorities": ["Trafford"], "report_types": [],
                  "published_from": "2023-01-01", "published_to": "2023-12-31", "latest": False, "follow_up": False},
        "plan": {"standalone": "x", "authorities": ["Trafford"], "published_from": None, "published_to": None},  # widened later
    }
    seen = observed_labels(trace)
    assert seen.time == (date(2023, 1, 1), date(2023, 12, 31))
    assert seen.areas == ("care_leavers",) and seen.route == "grade"


CASE = RoutingCase(
    id="r-1", question="q", route="grade", authorities=("Bournemouth, Christchurch and Poole",), time="latest",
    area="care_leavers",
)


@pytest.mark.parametrize(
    ("seen", "wrong"),
    [
        (Labels("grade", ("Bournemouth, Christchurch & Poole Council",), (), "latest", ("care_leavers",), False), set()),
        (Labels("grade", ("Dorset",), (), "latest", ("care_leavers",), False), {"authorities"}),
        (Labels("grade", ("Bournemouth, Christchurch and Poole",), ("focused_visit",), "none", (), True),
         {"report_type", "time", "area", "follow_up"}),
    ],
)
def test_slot_results(seen: Labels, wrong: set[str]) -> None:
    results = slot_results(CASE, seen)
    assert {slot for slot, ok in results.items() if not ok} == wrong


def test_load_routing_names_the_bad_field(tmp_path: Path) -> None:
    path = tmp_path / "routing.yaml"
    path.write_text("questions:\n  - {id: r-1, question: 'Is Bury good?', route: grading}\n")
    with pytest.raises(DatasetError, match=r"question 'r-1': field 'route': 'grading' is not one of"):
        load_routing(path)
    path.write_text("questions:\n  - {id: r-1, question: 'Is Bury good?', route: grade, time: {from: 2023-02-30}}\n")
    with pytest.raises(DatasetError, match=r"field 'time.from'"):
        load_routing(path)
    path.write_text("questions:\n  - {id: r-2, question: 'Is Bury good?', route: grade, paraphrase_of: r-9}\n")
    with pytest.raises(DatasetError, match=r"no question 'r-9'"):
        load_routing(path)


@pytest.fixture(scope="module")
def pipeline(sample_index) -> QAPipeline:
    return QAPipeline(sample_index, ExtractiveAnswerer(sample_index.embedder, term_weight=sample_index.term_weight))


def test_routing_over_the_real_pipeline(pipeline: QAPipeline, tmp_path: Path) -> None:
    path = tmp_path / "routing.yaml"
    path.write_text(
        """questions:
  - id: r-grade
    question: What grade did Trafford get for care leavers in 2023?
    route: grade
    authorities: [Trafford]
    time: {from: 2023-01-01, to: 2023-12-31}
    area: care_leavers
  - id: r-grade-2
    question: How were Trafford's care leavers rated in 2023?
    route: grade
    authorities: [Trafford]
    time: {from: 2023-01-01, to: 2023-12-31}
    area: care_leavers
    paraphrase_of: r-grade
  - id: r-off
    question: What is the best recipe for lasagne?
    route: refuse
  - id: r-follow
    question: And what about their care leavers?
    history:
      - user: What did inspectors say about the front door in Camden?
        assistant: Contacts are dealt with promptly.
    route: passage
    authorities: [Camden]
    area: care_leavers
    follow_up: true
"""
    )
    cases = load_routing(path)
    results = run_routing(pipeline, cases)
    by_id = {r.case.id: r for r in results}
    assert by_id["r-grade"].all_ok, by_id["r-grade"].to_json()
    assert by_id["r-off"].seen.route == "refuse"
    assert by_id["r-follow"].seen.authorities == ("Camden",) and by_id["r-follow"].seen.follow_up
    summary = summarise(results)
    assert summary["overall"]["questions"] == 4 and summary["paraphrases"]["questions"] == 1
    assert summary["confusion"]["refuse"] == {"refuse": 1}
    report = routing_markdown(summary, results)
    assert "## Route confusion matrix" in report and "| refuse |" in report


def test_an_overview_of_several_authorities_is_a_side_by_side_comparison() -> None:
    from eval.routing import RoutingResult

    compare = RoutingCase(id="c", question="Compare Bury and Wakefield", route="comparison", authorities=("Bury", "Wakefield"))
    seen = Labels("overview", ("Bury", "Wakefield"), (), "none", (), False)
    assert RoutingResult(compare, seen, slot_results(compare, seen), 0.0).route_ok
    alone = Labels("overview", ("Bury",), (), "none", (), False)
    assert not RoutingResult(compare, alone, slot_results(compare, alone), 0.0).route_ok
    grade = RoutingCase(id="g", question="Is Bury good?", route="grade", authorities=("Bury",))
    assert not RoutingResult(grade, seen, slot_results(grade, seen), 0.0).route_ok
    summary = summarise([RoutingResult(compare, seen, slot_results(compare, seen), 0.0)])
    assert summary["confusion"] == {"comparison": {"comparison": 1}}
