"""The declared route table (chatbot/routes.py): its order, its trace, and the docs that set it out."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from chatbot.extractive import ExtractiveAnswerer
from chatbot.pipeline import ROUTES, QAPipeline
from chatbot.routes import Route, Routing, describe, run_routes

DOCS = Path(__file__).resolve().parents[2] / "docs" / "routes" / "README.md"


def test_route_names_are_unique_and_each_has_a_rule() -> None:
    names = [route.name for route in ROUTES]
    assert len(names) == len(set(names))
    assert all(len(route.rule) > 20 for route in ROUTES)


def test_the_docs_list_every_route_in_the_order_tried() -> None:
    rows = re.findall(r"^\| (\d+) \| ([\w-]+) \| (.+) \|$", DOCS.read_text(encoding="utf-8"), re.M)
    assert [(int(order), name, rule) for order, name, rule in rows] == [
        (n, name, rule) for n, (name, rule) in enumerate(describe(ROUTES), start=1)
    ]


def test_the_walk_takes_the_first_route_that_answers_and_records_the_ones_tried() -> None:
    from core.models import Answer

    def answer(text: str) -> Answer:
        return Answer(answer=text, refused=False, citations=(), retrieved=(), trace={}, timings={})

    calls: list[str] = []
    routes = (
        Route("never", lambda p, r: False, lambda p, r: answer("never"), "never decides"),
        Route("declines", lambda p, r: True, lambda p, r: calls.append("declines") or None, "decides, cannot answer"),
        Route("answers", lambda p, r: True, lambda p, r: answer("answered"), "decides and answers"),
        Route("after", lambda p, r: True, lambda p, r: answer("too late"), "not reached"),
    )
    from chatbot.query import QueryPlan

    plan = QueryPlan(question="q", standalone="q")
    routing = Routing(plan, plan, None, {}, 0.0, widened=False)
    result = run_routes(None, routing, routes)  # type: ignore[arg-type]
    assert result is not None and result.answer == "answered" and calls == ["declines"]
    assert result.trace["routes_tried"] == ["declines", "answers"]
    assert result.trace["route_reason"] == "decides and answers"


@pytest.fixture(scope="module")
def pipeline(sample_index) -> QAPipeline:
    return QAPipeline(sample_index, ExtractiveAnswerer(sample_index.embedder))


@pytest.mark.parametrize(
    ("question", "taken", "reason"),
    [
        ("What grade did Camden get for care leavers?", "structured", "asks for a grade"),
        ("How has Trafford changed since 2019?", "timeline", "asks how one authority changed"),
        ("Compare Camden and Islington", "overview-compared", "names several authorities and no subject"),
        ("When is Trafford's next inspection?", "next-inspection", "asks when the next inspection is"),
    ],
)
def test_the_trace_says_which_route_was_taken_and_why(pipeline: QAPipeline, question: str, taken: str, reason: str) -> None:
    answer = pipeline.ask(question)
    assert answer.trace["routes_tried"][-1] == taken
    assert answer.trace["route_reason"].startswith(reason)


def test_a_passage_answer_records_the_routes_whose_decision_held(pipeline: QAPipeline) -> None:
    answer = pipeline.ask("How does Islington support young people in custody?")
    assert answer.trace["route"] == "passage"
    assert "route_reason" not in answer.trace and isinstance(answer.trace["routes_tried"], list)
