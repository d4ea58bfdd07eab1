""""What does X need to improve?" answered from the report's own list, over the real sample index (read-only)."""

from __future__ import annotations

import pytest

from chatbot.extractive import ExtractiveAnswerer
from chatbot.improvements import improve_intent, improvement_points, topic_words
from chatbot.pipeline import QAPipeline


@pytest.fixture(scope="module")
def pipeline(sample_index) -> QAPipeline:
    return QAPipeline(sample_index, ExtractiveAnswerer(sample_index.embedder, term_weight=sample_index.term_weight))


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What does Camden need to improve?", True),
        ("What is the one thing inspectors asked Islington to do better?", True),
        ("What did the 2022 focused visit ask Buckinghamshire to improve?", True),
        ("What are the areas for improvement in the Blackpool SEND report?", True),
        ("Compare what Camden and Islington need to improve.", True),
        ("What needs to improve for care leavers in Trafford?", True),
        ("What recommendations did Ofsted make to Trafford?", True),
        ("What are the main weaknesses in Birmingham's children's services?", True),
        ("Which weaknesses did inspectors find in Trafford's services for care leavers?", True),
        ("What are the main concerns about Bradford?", True),
        ("What were inspectors' biggest concerns for care leavers in Trafford?", True),
        # not a request for the list
        ("Has Trafford improved since 2019?", False),
        ("How has Buckinghamshire improved its front door?", False),
        ("What did inspectors say about care leavers?", False),
        ("What did inspectors say about concerns raised by schools?", False),  # concerns as a topic, not the list
        ("What improvements were needed in Hertfordshire?", True),
        ("Which improvements did inspectors identify for Leeds in 2022?", True),
        ("What improvements have been made in Trafford since 2019?", False),  # a change over time, not the list
    ],
)
def test_improve_intent(question: str, expected: bool) -> None:
    assert improve_intent(question) is expected


def test_topic_words_leave_only_the_subject() -> None:
    assert topic_words("What needs to improve for care leavers?") == ["care", "leaver"]
    assert topic_words("What is the one thing inspectors asked to do better?") == []
    assert topic_words("What are the main weaknesses in children's services?") == []  # the whole list, not a topic
    assert topic_words("What are the main concerns about children's services?") == []


def test_points_are_the_items_under_the_heading(sample_index) -> None:
    camden = next(r for r in sample_index.reports() if r.metadata.local_authority == "Camden")
    points = improvement_points(sample_index.paragraphs(camden.report_id))
    assert len(points) == 1
    assert points[0].text.startswith("The timeliness of decision-making")
    assert all(p.kind != "heading" for p in points)


def test_the_whole_list_is_given_and_cited(pipeline) -> None:
    answer = pipeline.ask("What did the 2022 focused visit ask Buckinghamshire to improve?")
    assert answer.trace["route"] == "structured:improvements"
    assert len(answer.citations) == 4  # every point the letter lists, no more
    assert {c.report_id for c in answer.citations} == {"buckinghamshire-focused-visit-2022-11-16"}
    assert all("What needs to improve" in c.heading for c in answer.citations)


def test_each_authority_gets_its_own_latest_list(pipeline) -> None:
    answer = pipeline.ask("Compare what Camden and Islington need to improve.")
    assert answer.trace["route"] == "structured:improvements"
    assert {c.local_authority for c in answer.citations} == {"Camden", "Islington"}


def test_a_narrower_topic_keeps_its_points(pipeline) -> None:
    answer = pipeline.ask("What needs to improve for care leavers in Trafford?")
    assert answer.trace["route"] == "structured:improvements"
    assert answer.citations and all("leaving care" in c.text or "care leaver" in c.text.lower() or "care-experienced" in c.text for c in answer.citations)


def test_a_topic_no_point_covers_goes_to_the_passages(pipeline) -> None:
    answer = pipeline.ask("What does Camden need to improve about adoption?")
    assert answer.trace["route"] != "structured:improvements"
