"""Feedback JSONL and its conversion into eval cases the dataset loader accepts."""

from __future__ import annotations

import json

import pytest
import yaml

from core.models import Answer, Citation, Filters, Turn
from eval.dataset import load_cases
from ui.feedback import FeedbackStore, feedback_record, feedback_to_eval_cases, main, read_feedback

PARAGRAPH = (
    "Despite an increase in the number of care leavers needing support, the council is in touch with the vast "
    "majority of its care leavers. Many young people get some good, practical, financial and emotional support."
)
CITATION = Citation(
    marker="1",
    paragraph_id="trafford:1",
    report_id="trafford",
    local_authority="Trafford",
    report_type="ilacs_inspection",
    published="2019-05-08",
    page=7,
    paragraph_number=28,
    heading="Care leavers",
    text=PARAGRAPH,
    source="/data/t.pdf",
    supporting_sentence="The council is in touch with the vast majority of its care leavers.",
)
ANSWERED = Answer(answer="- In touch with the vast majority of care leavers [1].", refused=False, citations=(CITATION,))
REFUSED = Answer(answer="The reports do not answer this.", refused=True)


def record(feedback_id: str, rating: str, answer: Answer, comment: str = "", **extra):
    return feedback_record(
        feedback_id=feedback_id,
        rating=rating,
        comment=comment,
        question=extra.get("question", "What about care leavers?"),
        history=extra.get("history", ()),
        filters=extra.get("filters", Filters()),
        answer=answer,
        searched="Searched 1 of 1 reports.",
        settings={"answerer": "extractive", "top_k": 10},
        session="s1",
    )


@pytest.fixture
def feedback_file(tmp_path):
    store = FeedbackStore(tmp_path / "sub" / "feedback.jsonl")
    store.write(
        record(
            "a" * 32,
            "up",
            ANSWERED,
            history=(Turn("Tell me about Trafford", "It was inspected in 2019."),),
            filters=Filters(local_authorities=("Trafford",), report_types=("ilacs_inspection",)),
        )
    )
    store.write(record("a" * 32, "up", ANSWERED, comment="Spot on"))  # a later comment on the same answer
    store.write(record("b" * 32, "up", REFUSED, question="What is the weather in Leeds?"))
    store.write(record("c" * 32, "down", ANSWERED, comment="Missed the 2023 report"))
    return store.path


def test_records_hold_what_an_eval_case_needs(feedback_file):
    lines = [json.loads(line) for line in feedback_file.read_text(encoding="utf-8").splitlines()]
    first = lines[0]
    assert first["rating"] == "up" and first["question"] == "What about care leavers?"
    assert first["filters"] == {"local_authority": ["Trafford"], "report_type": ["ilacs_inspection"]}
    assert first["citations"][0]["text"] == PARAGRAPH
    assert first["history"] == [{"user": "Tell me about Trafford", "assistant": "It was inspected in 2019."}]
    assert first["settings"]["answerer"] == "extractive"


def test_the_last_record_of_an_answer_wins(feedback_file):
    records = read_feedback(feedback_file)
    assert [r["id"][0] for r in records] == ["a", "b", "c"]
    assert records[0]["comment"] == "Spot on"


def test_rating_is_checked():
    with pytest.raises(ValueError, match="rating"):
        record("x", "meh", ANSWERED)


def test_thumbs_up_become_valid_cases(feedback_file, tmp_path):
    cases = feedback_to_eval_cases(feedback_file)
    assert [c["answerable"] for c in cases] == [True, False]
    answered = cases[0]
    assert answered["evidence"] == [PARAGRAPH.split(". ")[0]]  # the supporting sentence, verbatim
    assert answered["tags"] == ["feedback", "thumbs-up"]
    dataset = tmp_path / "cases.yaml"
    dataset.write_text(yaml.safe_dump({"cases": cases}), encoding="utf-8")
    loaded = load_cases([dataset])
    assert loaded[1].answerable is False
    assert loaded[0].evidence[0] in PARAGRAPH


def test_thumbs_down_only_on_request_and_marked_for_review(feedback_file):
    cases = feedback_to_eval_cases(feedback_file, include_negative=True)
    assert cases[-1]["tags"] == ["feedback", "thumbs-down", "needs-review"]
    assert cases[-1]["evidence"] == []


def test_main_writes_a_dataset_the_loader_reads(feedback_file, tmp_path, capsys):
    out = tmp_path / "feedback-cases.yaml"
    assert main([str(feedback_file), "-o", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert "# feedback: thumbs up - Spot on" in text
    cases = load_cases([out])
    assert len(cases) == 2
    assert cases[0].filters == Filters()  # the last record of answer "a" had no filters


def test_main_reports_a_missing_file(tmp_path, capsys):
    assert main([str(tmp_path / "nope.jsonl")]) == 1
    assert "no such feedback file" in capsys.readouterr().err
