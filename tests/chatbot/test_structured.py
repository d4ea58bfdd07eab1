"""Grade, date and inspector questions answered from report metadata, and premise checks.

The pure intent functions are table-driven; the answerer runs over the real sample index (read-only) and a
real pipeline for the routed questions.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from chatbot.authorities import Gazetteer
from chatbot.citations import MARKER
from chatbot.extractive import ExtractiveAnswerer
from chatbot.pipeline import QAPipeline
from chatbot.query import plan_query
from chatbot.retrieval import scope_reports
from chatbot.structured import (
    Fact,
    StructuredAnswerer,
    _stating_paragraph,
    about_an_earlier_inspection,
    direct_answer,
    distinct_reports,
    grade_sentence,
    presupposed_grade,
    states_grade,
    structured_intent,
    structured_intents,
    under_judgement,
    wanted_areas,
    yes_no_grade,
)
from core.models import Judgement, Paragraph, Turn
from core.text import normalise


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What grade did Camden get for care leavers?", "grade"),
        ("How was Trafford rated in 2019?", "grade"),
        ("What was the overall effectiveness judgement?", "grade"),
        ("What was the outcome of the SEND inspection?", "grade"),
        ("When did inspectors visit Calderdale?", "date"),
        ("On which dates did the inspection take place?", "date"),
        ("When was Trafford's 2023 inspection carried out?", "date"),
        ("Who led the Trafford inspection?", "inspector"),
        ("Which inspectors carried out the visit?", "inspector"),
        ("Who was the lead inspector?", "inspector"),
        # prose questions, not a field lookup
        ("Why was Islington judged inadequate for care leavers?", None),
        ("Has the grade improved since 2019?", None),
        ("How has Trafford changed since the previous inspection?", None),
        ("What did inspectors say about care leavers?", None),
    ],
)
def test_structured_intent(question: str, expected: str | None) -> None:
    assert structured_intent(question) == expected


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What grade did Camden get for care leavers?", ["care_leavers"]),
        ("How are care-experienced young people judged?", ["care_leavers"]),
        ("the grade for looked-after children", ["in_care"]),
        ("children in care and care leavers", ["care_leavers", "in_care"]),
        ("the help and protection grade", ["help_protection"]),
        ("How was leadership rated?", ["leaders"]),
        ("the adoption grade", ["adoption"]),
        ("the overall grade", ["overall_effectiveness"]),
        ("What grade did the Local Safeguarding Children Board get?", ["lscb"]),
        ("How was Kent's LSCB judged?", ["lscb"]),
        ("What grade did Trafford get?", []),
        ("Compare the area SEND outcomes of Dorset and Durham", ["overall_effectiveness"]),  # the inspection's verdict
        ("What are the outcomes for children with SEND in Blackpool?", []),  # a topic, not a verdict
    ],
)
def test_wanted_areas(question: str, expected: list[str]) -> None:
    assert wanted_areas(question) == expected


@pytest.mark.parametrize(
    ("text", "grade", "expected"),
    [
        ("adoption performance: good", "Good", True),
        ("adoption performance: requires improvement to be good", "Good", False),  # the middle grade is not "good"
        ("adoption performance: requires improvement to be good", "Requires improvement to be good", True),
        ("Services still require further improvements to be good.", "Requires improvement to be good", True),
        ("Services still require further improvements to be good.", "Good", False),
        ("The overall effectiveness of services is inadequate.", "Inadequate", True),
        ("Goodwill between partners is strong.", "Good", False),
        ("Good and outstanding practice", "Outstanding", True),
        # the pre-2015 scale's middle grade, in a SIF report's own words
        ("The overall judgement is that children's services require improvement", "Requires improvement", True),
        ("The overall judgement is that children's services require improvement", "Requires improvement to be good", False),
        ("Children's services in Bury require improvement to be good", "Requires improvement", False),
    ],
)
def test_states_grade(text: str, grade: str, expected: bool) -> None:
    assert states_grade(text, grade) is expected


def test_grade_sentence_names_the_grade_and_the_area_and_not_an_earlier_inspection() -> None:
    leavers = Judgement("care_leavers", "The experiences and progress of care leavers", "Requires improvement to be good")

    def para(i: int, text: str) -> Paragraph:
        return Paragraph(f"r:p{i}", "r", text, 1, i)

    earlier = para(1, "The last full inspection was in 2021 when all services were judged to require improvement to be good.")
    other_area = para(2, "Children in care receive a service that requires improvement to be good.")
    stating = para(3, "Plans are improving. Services for care leavers still require improvement to be good.")
    assert grade_sentence([earlier, other_area], leavers) is None
    assert grade_sentence([earlier, other_area, stating], leavers) == (stating, "Services for care leavers still require improvement to be good.")


def test_under_judgement_reads_the_section_heading() -> None:
    leavers = Judgement("care_leavers", "The experiences and progress of care leavers", "Requires improvement to be good")
    in_care = Judgement("in_care", "The experiences and progress of children in care", "Good")

    def under(heading: str) -> Paragraph:
        return Paragraph("r:p1", "r", "Most young people live in suitable accommodation.", 1, 1, heading_path=("Inspection", heading))

    assert under_judgement(under("The experiences and progress of care leavers: requires improvement to be good"), leavers)
    assert not under_judgement(under("The experiences and progress of care leavers: requires improvement to be good"), in_care)
    assert not under_judgement(under("The experiences and progress of children in care: good"), leavers)
    assert not under_judgement(under("Main findings"), leavers)
    # a SIF export's judgement section has parts: its "Summary" and "Inspection findings" are still under its grade
    protection = Judgement("help_protection", "The experiences and progress of children who need help and protection", "Inadequate")
    summary = Paragraph(
        "r:p2", "r", "Risks are not always recognised.", 1, 2,
        heading_path=("The experiences and progress of children who need help and protection: Inadequate", "Summary"),
    )
    assert under_judgement(summary, protection)
    assert not under_judgement(summary, leavers)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Why was Islington judged inadequate for care leavers?", "inadequate"),
        ("When was Camden rated outstanding?", "outstanding"),
        ("Why was Trafford judged good for children in care?", "good"),
        ("Why does Bucks require improvement to be good?", "requires improvement"),
        ("Why was Trafford judged requires improvement to be good?", "requires improvement"),
        ("What grade did Trafford get?", None),
    ],
)
def test_presupposed_grade(question: str, expected: str | None) -> None:
    assert presupposed_grade(question) == expected


# ---- the answerer over the sample index ------------------------------------------------------------


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return Gazetteer()


@pytest.fixture(scope="module")
def answerer(sample_index) -> StructuredAnswerer:
    return StructuredAnswerer(sample_index.paragraphs)


def ask_structured(sample_index, answerer: StructuredAnswerer, gazetteer: Gazetteer, question: str):
    plan = plan_query(question, [], None, gazetteer)
    reports = [sample_index.report(rid) for rid in scope_reports(sample_index.reports(), plan)]
    kind = structured_intent(plan.standalone)
    assert kind is not None, question
    return answerer.answer(kind, plan, reports)


@pytest.mark.parametrize(
    ("question", "report_id", "grade"),
    [
        ("What grade did Camden get for care leavers?", "camden-ilacs-2025-04-15", "outstanding"),
        ("What was Trafford's overall grade in 2019?", "trafford-ilacs-2019-05-08", "inadequate"),
        ("What grade did Trafford's 2026 inspection give for leaders?", "trafford-ilacs-2026-08-03", "inadequate"),
        ("What grade did Trafford get for children in care in 2026?", "trafford-ilacs-2026-08-03", "good"),
        ("What was Buckinghamshire's overall effectiveness grade?", "buckinghamshire-ilacs-2025-05-14", "requires improvement to be good"),
        # the SIF report also lists the previous inspection's grades: "adoption performance: requires improvement to be good"
        ("What was Buckinghamshire's adoption performance grade in the SIF report?", "buckinghamshire-sif-2018-01-29-txt", "good"),
    ],
)
def test_grade_facts_cite_a_paragraph_stating_the_grade(sample_index, answerer, gazetteer, question, report_id, grade) -> None:
    result = ask_structured(sample_index, answerer, gazetteer, question)
    assert result.refusal is None
    assert result.facts
    for fact in result.facts:
        assert fact.report.report_id == report_id
        assert grade in normalise(fact.text)
        assert fact.paragraph is not None and states_grade(fact.paragraph.text, grade)
        assert sample_index.paragraph(fact.paragraph.paragraph_id) == fact.paragraph


def test_grade_without_date_uses_the_latest_graded_inspection(sample_index, answerer, gazetteer) -> None:
    result = ask_structured(sample_index, answerer, gazetteer, "What grade did Trafford get for leaders?")
    assert {f.report.report_id for f in result.facts} == {"trafford-ilacs-2026-08-03"}


def test_when_rated_looks_through_every_graded_report(sample_index, answerer, gazetteer) -> None:
    result = ask_structured(sample_index, answerer, gazetteer, "When was Trafford judged inadequate?")
    assert result.refusal is None
    assert {f.report.report_id for f in result.facts} == {"trafford-ilacs-2019-05-08", "trafford-ilacs-2026-08-03"}


def test_which_authorities_moved_from_one_grade_to_another(sample_index, pipeline: QAPipeline) -> None:
    """Every consecutive pair of graded inspections counts when two grades are named: Buckinghamshire's 2018 SIF
    (inadequate) and 2022 ILACS (requires improvement), Trafford's 2019 and 2023 inspections; each grade cited."""
    answer = pipeline.ask("Which authorities improved from inadequate to requires improvement overall?")
    assert answer.trace["route"] == "structured:moves"
    assert answer.answer.startswith("2 authorities (Buckinghamshire, Trafford)")
    assert {c.report_id for c in answer.citations} == {
        "buckinghamshire-sif-2018-01-29-txt", "buckinghamshire-ilacs-2022-02-11", "trafford-ilacs-2019-05-08", "trafford-ilacs-2023-01-31",
    }
    for citation in answer.citations:
        grade = next(j.grade for j in sample_index.report(citation.report_id).metadata.judgements if j.area == "overall_effectiveness")
        assert states_grade(citation.text, grade)


def test_judged_good_does_not_list_requires_improvement_to_be_good(pipeline: QAPipeline) -> None:
    """Buckinghamshire (2025) and Trafford (2023) stand at "requires improvement to be good": not "good"."""
    answer = pipeline.ask("Which authorities were judged good overall?")
    assert answer.refused and answer.citations == ()


def test_a_list_with_two_grades_for_two_areas_needs_both(pipeline: QAPipeline) -> None:
    answer = pipeline.ask("Which authorities were judged outstanding for care leavers and outstanding for help and protection?")
    assert answer.trace["route"] == "structured:list"
    assert {c.local_authority for c in answer.citations} == {"Camden", "Islington"}
    assert len(answer.citations) == 4  # each authority's two judgements, each cited
    refused = pipeline.ask("Which authorities were judged outstanding for care leavers but inadequate for leadership?")
    assert refused.refused and "outstanding for care leavers and inadequate for the impact of leaders" in refused.answer


def test_which_inspectors_led_is_an_inspector_question_not_a_list_of_reports(pipeline: QAPipeline) -> None:
    answer = pipeline.ask("Which inspectors led inspections of Trafford?")
    assert answer.trace["route"] == "structured:inspector"
    # every report of Trafford's that names its inspectors, not the latest alone: one cited line each
    named = [r for r in pipeline.reports() if r.metadata.local_authority == "Trafford" and r.metadata.inspectors]
    assert len({r.metadata.published for r in named}) >= 4
    assert answer.answer.count("lead inspector - ") == len({r.metadata.published for r in named}) == len(answer.citations)


@pytest.mark.parametrize(
    ("question", "reports"),
    [("Who led the Trafford inspection?", 1), ("When was Trafford last inspected?", 1), ("When has Trafford been inspected?", 5)],
)
def test_a_field_question_is_about_the_latest_report_unless_it_asks_about_each(pipeline: QAPipeline, question: str, reports: int) -> None:
    answer = pipeline.ask(question)
    assert answer.trace["route"].startswith("structured:")
    assert len({c.report_id for c in answer.citations}) == reports


def test_a_follow_up_asking_which_moved_the_other_way_is_a_movement_list(pipeline: QAPipeline) -> None:
    asked = "Which authorities improved from inadequate to requires improvement overall?"
    answer = pipeline.ask("And which went down from requires improvement to inadequate?", [Turn(asked, pipeline.ask(asked).answer)])
    assert answer.trace["route"] == "structured:moves"
    assert answer.refused and "No authority" in answer.answer  # none in the sample: Trafford's 2026 report has no overall grade


def test_a_grade_that_went_down_at_the_latest_inspection(pipeline: QAPipeline) -> None:
    answer = pipeline.ask("Which authorities' leadership judgement went down at their latest inspection?")
    assert answer.trace["route"] == "structured:moves"
    assert [c.report_id for c in answer.citations] == ["trafford-ilacs-2023-01-31", "trafford-ilacs-2026-08-03"]
    assert "requires improvement" in normalise(answer.citations[0].text) and "inadequate" in normalise(answer.citations[1].text)


def test_no_latest_move_for_an_authority_whose_latest_inspection_has_no_overall_grade(pipeline: QAPipeline) -> None:
    """Trafford's 2026 inspection (the April 2026 framework) has no overall grade: its 2019-2023 move is not its latest."""
    answer = pipeline.ask("Which authorities' overall grade went up at their latest inspection?")
    assert answer.refused and answer.citations == ()
    assert "Left out: Trafford" in answer.answer and "April 2026" in answer.answer


@pytest.mark.parametrize(
    "question",
    ["Which authorities were judged requires improvement overall in 2022?", "Which authorities have areas for improvement for care leavers?"],
)
def test_requires_improvement_names_a_grade_not_a_move(pipeline: QAPipeline, question: str) -> None:
    assert pipeline.ask(question).trace["route"] != "structured:moves"


@pytest.mark.parametrize(
    "question",
    [
        "Were any authorities judged outstanding for care leavers?",
        "Are there any councils rated outstanding for care leavers?",
        "Did any authority get an outstanding grade for care leavers?",
    ],
)
def test_were_any_authorities_judged_is_a_complete_list(pipeline: QAPipeline, question: str) -> None:
    answer = pipeline.ask(question)
    assert answer.trace["route"] == "structured:list"
    assert {c.local_authority for c in answer.citations} == {"Camden", "Islington"}
    assert all("outstanding" in normalise(c.text) for c in answer.citations)


def test_a_listed_report_published_after_the_dates_asked_about_says_when_it_was_visited(pipeline: QAPipeline) -> None:
    """Trafford's inspection of November-December 2022 was published on 31 January 2023: listed for "in 2022", and
    the answer says why, rather than showing a 2023 date unexplained."""
    answer = pipeline.ask("Which authorities were judged requires improvement overall in 2022?")
    assert {c.report_id for c in answer.citations} == {"buckinghamshire-ilacs-2022-02-11", "trafford-ilacs-2023-01-31"}
    assert "Trafford's ILACS inspection of 31 January 2023 is included because inspectors visited 21 November to 2 December 2022" in answer.answer
    assert "Buckinghamshire's" not in answer.answer  # published inside the year: no note


@pytest.mark.parametrize(
    "question",
    [
        "What was Trafford's latest grade before 2025?",
        "What was the result of Trafford's latest inspection before 2025?",
        "When was Trafford last inspected before 2025, and what was the result?",
    ],
)
def test_a_latest_report_that_is_a_visit_gives_the_grades_that_stand(sample_index, pipeline: QAPipeline, question: str) -> None:
    """Trafford's latest report before 2025 is the August 2024 focused visit, which Ofsted does not grade: the
    January 2023 inspection's grade stands, and the answer says which report it comes from and why."""
    answer = pipeline.ask(question)
    assert not answer.refused
    assert answer.trace["route"].startswith("structured:")
    assert "focused visit of 1 August 2024, is not graded" in answer.answer
    assert "ILACS inspection of 31 January 2023" in answer.answer
    assert "requires improvement" in normalise(answer.answer)
    graded = [c for c in answer.citations if "requires improvement" in normalise(c.text)]
    assert graded and all(c.report_id == "trafford-ilacs-2023-01-31" for c in graded)


def test_a_visit_with_no_graded_inspection_before_it_still_says_it_is_not_graded(pipeline: QAPipeline) -> None:
    answer = pipeline.ask("What grade did Calderdale get at its latest inspection?")
    assert answer.refused and "does not grade focused or monitoring visits" in answer.answer


def test_no_report_in_the_window_leaves_the_question_to_later_reports_text(pipeline: QAPipeline) -> None:
    """No Trafford report before 2019 is indexed: the 2019 report's own words about 2015 answer it, not a later
    report's dates."""
    answer = pipeline.ask("When was Trafford inspected before 2019, and how was it rated then?")
    assert not answer.trace["route"].startswith("structured")
    assert "2015" in answer.answer and answer.citations


@pytest.mark.parametrize(
    "question",
    [
        "What grade did Buckinghamshire's focused visit get?",
        "What grade did the Trafford focused visit in 2024 get?",
        "What was Trafford's overall effectiveness grade in 2026?",
        "What grade did Camden get for adoption?",
    ],
)
def test_false_premise_grade_questions_are_refused(sample_index, answerer, gazetteer, question: str) -> None:
    result = ask_structured(sample_index, answerer, gazetteer, question)
    assert result.refusal
    assert result.facts == ()


def test_april_2026_framework_has_no_overall_grade(sample_index, answerer, gazetteer) -> None:
    result = ask_structured(sample_index, answerer, gazetteer, "What was Trafford's overall effectiveness grade in 2026?")
    assert "2026" in result.refusal and "overall effectiveness" in result.refusal
    # and what the report does record, so that the refusal is still of use
    assert "what it records: the impact of leaders: Inadequate" in result.refusal
    assert "care leavers: Requires improvement to be good" in result.refusal


@pytest.mark.parametrize(
    "question",
    [
        "What grade did Trafford get at its latest inspection?",
        "How was Trafford judged in 2026?",
        "What rating did Ofsted give Trafford in August 2026?",
        "What was Trafford's Ofsted rating at its latest inspection?",
    ],
)
def test_a_grade_asked_of_a_report_with_no_overall_one_gives_the_judgements_it_has(
    sample_index, answerer, gazetteer, question: str
) -> None:
    """Not "the reports do not answer this": the report judges four areas, and the answer says there is no overall grade."""
    result = ask_structured(sample_index, answerer, gazetteer, question)
    assert result.refusal is None
    assert result.lead.startswith("Trafford's ILACS inspection of 3 August 2026 gives no overall effectiveness grade")
    stated = " ".join(f.text for f in result.facts)
    for grade in ("Inadequate", "Good", "Requires improvement to be good"):
        assert grade in stated
    assert all(f.report.metadata.published.year == 2026 for f in result.facts)


@pytest.mark.parametrize(
    ("question", "refused"),
    [
        ("Why was Islington judged inadequate for care leavers?", True),
        ("Why was Camden judged inadequate overall?", True),
        ("Why was Trafford judged inadequate?", False),  # 2019 and 2026 reports did judge it inadequate
        ("Why was Camden judged outstanding for care leavers?", False),
    ],
)
def test_check_premise(sample_index, answerer, gazetteer, question: str, refused: bool) -> None:
    plan = plan_query(question, [], None, gazetteer)
    reports = [sample_index.report(rid) for rid in scope_reports(sample_index.reports(), plan)]
    assert bool(answerer.check_premise(plan, reports)) is refused


@pytest.mark.parametrize(
    ("question", "report_id", "stated"),
    [
        ("When did inspectors visit Calderdale?", "calderdale-focused-visit-2022-03-21", "14 and 15 February 2022"),
        ("When was Trafford's 2023 inspection carried out?", "trafford-ilacs-2023-01-31", "21 November to 2 December 2022"),
    ],
)
def test_visit_dates(sample_index, answerer, gazetteer, question: str, report_id: str, stated: str) -> None:
    result = ask_structured(sample_index, answerer, gazetteer, question)
    (fact,) = result.facts
    assert fact.report.report_id == report_id
    visit = fact.report.metadata.visit_start
    assert f"{visit:%B}" in fact.text and str(visit.year) in fact.text  # the wording may change; the dates may not
    assert fact.paragraph is not None and stated in fact.paragraph.text


def test_lead_inspector(sample_index, answerer, gazetteer) -> None:
    result = ask_structured(sample_index, answerer, gazetteer, "Who led Trafford's 2023 inspection?")
    (fact,) = result.facts
    assert "Nick Bennison" in fact.text
    assert fact.paragraph is not None and "Nick Bennison" in fact.paragraph.text


def test_a_visit_team_is_cited_from_the_paragraph_naming_it(sample_index, answerer, gazetteer) -> None:
    result = ask_structured(sample_index, answerer, gazetteer, "Who carried out Trafford's 2021 focused visit?")
    (fact,) = result.facts
    team = fact.report.metadata.inspectors
    assert len(team) > 1 and all(name in fact.text for name in team)
    # the letter's sentence naming all of them, not the lead's signature
    assert fact.paragraph is not None and all(name in fact.paragraph.text for name in team)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Who led Islington's ILACS inspection and when were inspectors on site?", ["inspector", "date"]),
        ("When was Merton last inspected?", ["date"]),
        ("Who led the Trafford inspection?", ["inspector"]),
        ("What did inspectors say about care leavers and leaders?", []),
    ],
)
def test_structured_intents_reads_each_clause(question: str, expected: list[str]) -> None:
    assert structured_intents(question) == expected


# ---- routed through the pipeline -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def pipeline(sample_index) -> QAPipeline:
    return QAPipeline(sample_index, ExtractiveAnswerer(sample_index.embedder))


@pytest.mark.parametrize(
    ("question", "report_id", "grade"),
    [
        ("What grade did Camden get for care leavers?", "camden-ilacs-2025-04-15", "outstanding"),
        ("What was Trafford's overall grade in 2019?", "trafford-ilacs-2019-05-08", "inadequate"),
        ("How were Trafford's leaders judged in 2026?", "trafford-ilacs-2026-08-03", "inadequate"),
    ],
)
def test_pipeline_answers_grades_from_metadata(sample_index, pipeline: QAPipeline, question: str, report_id: str, grade: str) -> None:
    answer = pipeline.ask(question)
    assert not answer.refused
    assert answer.trace["route"] == "structured:grade"
    assert grade in normalise(answer.answer)
    assert answer.citations
    assert any(grade in normalise(c.text) for c in answer.citations)
    for citation in answer.citations:
        assert citation.report_id == report_id
        assert sample_index.paragraph(citation.paragraph_id).text == citation.text


@pytest.mark.parametrize(
    "question",
    [
        "What grade did Buckinghamshire's focused visit get?",
        "What was Trafford's overall effectiveness grade in 2026?",
        "Why was Islington judged inadequate for care leavers?",
    ],
)
def test_pipeline_refuses_false_premises_without_citations(pipeline: QAPipeline, question: str) -> None:
    answer = pipeline.ask(question)
    assert answer.refused
    assert answer.citations == ()
    assert answer.trace["refusal"] in ("structured", "false-premise")


def test_a_visit_letters_account_of_the_last_full_inspection_is_read_not_refused(pipeline: QAPipeline) -> None:
    # a focused visit has no grade of its own, but its letter says how the last full inspection judged the area
    answer = pipeline.ask("According to Calderdale's 2022 focused visit letter, how were care leavers judged at the last full inspection?")
    assert not answer.refused and answer.trace["route"] == "passage"  # was refused: "focused visits are not graded"
    assert answer.citations and all(c.report_type == "focused_visit" for c in answer.citations)
    # asked of the visit itself, it is still a question with no grade to give
    assert pipeline.ask("What grade did Calderdale's 2022 focused visit get?").refused


def test_pipeline_answers_two_structured_questions_in_one(pipeline: QAPipeline) -> None:
    answer = pipeline.ask("Who led Islington's ILACS inspection and when were inspectors on site?")
    assert answer.trace["route"] == "structured:inspector+date"
    assert "Sarah Canto" in answer.answer and "December 2024" in answer.answer
    assert len({c.paragraph_id for c in answer.citations}) == 2


def test_pipeline_gives_visit_dates_with_a_citation(sample_index, pipeline: QAPipeline) -> None:
    answer = pipeline.ask("When did inspectors visit Calderdale?")
    assert not answer.refused
    assert answer.trace["route"] == "structured:date"
    assert "February 2022" in answer.answer
    (citation,) = answer.citations
    assert citation.report_id == "calderdale-focused-visit-2022-03-21"
    assert "14 and 15 February 2022" in citation.text
    assert sample_index.paragraph(citation.paragraph_id).text == citation.text


@pytest.mark.parametrize(
    "question",
    [
        "What did the 2024 focused visit to Trafford look at?",
        "Which areas did inspectors look at in Trafford's 2024 focused visit?",
        "What was the focus of Trafford's 2024 focused visit?",
    ],
)
def test_a_visits_focus_comes_from_its_metadata(pipeline: QAPipeline, question: str) -> None:
    answer = pipeline.ask(question)
    assert answer.trace["route"] == "structured:focus"
    assert [c.report_id for c in answer.citations] == ["trafford-focused-visit-2024-08-01"]
    assert "care leavers" in answer.answer
    assert "Inspectors looked at" in answer.citations[0].text


def test_focus_intent_needs_a_visit() -> None:
    assert structured_intent("What did the 2024 focused visit look at?") == "focus"
    assert structured_intent("What did inspectors look at when judging leadership?") is None


# ---- a grade's source is about this inspection, and names the area --------------------------------

BUCKS_SIF = "buckinghamshire-sif-2018-01-29-txt"


def test_a_sif_reports_list_of_the_last_inspections_grades_is_about_an_earlier_inspection(sample_index) -> None:
    paragraphs = sample_index.paragraphs(BUCKS_SIF)
    earlier = [p for p in paragraphs if p.kind == "bullet" and p.text.startswith(("overall effectiveness:", "leadership, management and governance:"))]
    assert len(earlier) == 2  # the 2014 grades, listed under "The judgements for the local authority were:"
    assert all(about_an_earlier_inspection(p, paragraphs) for p in earlier)
    summary = next(p for p in paragraphs if p.text.startswith("Overall progress in improving services"))
    assert not about_an_earlier_inspection(summary, paragraphs)  # "since the last inspection" is not about it
    # so the report's own leadership grade is never cited from the 2014 list, nor from a sentence on something narrower
    source = _stating_paragraph(paragraphs, ["Inadequate", "Leadership, management and governance"])
    assert source is None or ("leadership" in source.text.lower() and source not in earlier)


def test_a_grade_row_names_its_area(sample_index) -> None:
    paragraphs = sample_index.paragraphs("trafford-ilacs-2026-08-03")
    source = _stating_paragraph(paragraphs, ["Inadequate", "The impact of leaders on social work practice with children and families"])
    assert source is not None and source.text.startswith("The impact of leaders")


def test_a_second_grade_named_is_not_a_negated_list(pipeline: QAPipeline) -> None:
    answer = pipeline.ask("Which authorities were judged good but not outstanding for leadership?")
    assert "never judged" not in answer.answer and "not judged" not in answer.answer
    # the grade asked for is the one not negated: the good, never the outstanding (listed before)
    assert "judged good" in answer.answer and "judged outstanding" not in answer.answer
    assert not [line for line in answer.answer.splitlines() if line.startswith("- ") and "Outstanding" in line]


@pytest.mark.parametrize("question", ["Which authorities have never been judged inadequate?", "Which councils haven't been rated inadequate?"])
def test_never_judged_lists_the_authorities_without_that_grade(pipeline: QAPipeline, question: str) -> None:
    """The grade is what they lack: before, "never been judged inadequate" listed the authorities judged inadequate."""
    answer = pipeline.ask(question)
    assert answer.trace["route"] == "structured:list"
    listed = {c.local_authority for c in answer.citations}
    ever_inadequate = {
        r.metadata.local_authority
        for r in pipeline.reports()
        for j in r.metadata.judgements
        if j.area == "overall_effectiveness" and j.grade.lower() == "inadequate" and r.metadata.report_type != "area_send_inspection"
    }
    assert ever_inadequate and listed and not listed & ever_inadequate
    assert "Trafford" in ever_inadequate and {"Camden", "Islington"} <= listed
    assert "never judged inadequate" in answer.answer or "not judged inadequate" in answer.answer


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Is good?", True),  # "Is Hackney good?" once the authority is gone
        ("Was 's help and protection inadequate?", True),
        ("Are 's children's services still inadequate?", True),
        ("Is 's care leavers judgement good?", True),
        ("Is the front door good?", False),  # more than a grade: a question for the passages
        ("Is it true that leaders are good?", False),
        ("What is good about care leavers' support?", False),
    ],
)
def test_yes_no_grade(question: str, expected: bool) -> None:
    assert yes_no_grade(question) is expected


@pytest.mark.parametrize(
    ("question", "verdict", "report_id"),
    [
        ("Is Buckinghamshire good?", "No.", "buckinghamshire-ilacs-2025-05-14"),
        ("Is Camden outstanding?", "Yes.", "camden-ilacs-2025-04-15"),
        # an area named with "judgement" or "grade": before, a list of every grade with no yes or no
        ("Is Trafford's care leavers judgement good?", "No.", "trafford-ilacs-2026-08-03"),
        ("Is Buckinghamshire's children in care grade good?", "Yes.", "buckinghamshire-ilacs-2025-05-14"),
    ],
)
def test_a_yes_no_grade_question_is_answered_from_the_grade_that_stands(pipeline: QAPipeline, question: str, verdict: str, report_id: str) -> None:
    answer = pipeline.ask(question)
    assert answer.trace["route"] == "structured:grade"
    assert answer.answer.startswith(verdict)
    assert [c.report_id for c in answer.citations] == [report_id]  # the latest graded inspection, its overall grade


@pytest.mark.parametrize(
    ("question", "direct"),
    [
        ("What was Trafford's overall grade in 2019?", "Inadequate."),
        ("What grade did Camden get for care leavers?", "Outstanding."),
        ("What was Buckinghamshire's overall effectiveness grade?", "Requires improvement to be good."),
        # the dates as the report gives them
        ("When did inspectors visit Calderdale?", "14 and 15 February 2022."),
        ("When was Trafford's 2023 inspection carried out?", "21 November to 2 December 2022."),
        ("When was Trafford's latest report published?", "3 August 2026."),
        ("Who led Trafford's 2023 inspection?", "Nick Bennison."),
        # "who carried out" asks for the team, the lead first
        ("Who carried out Trafford's 2021 focused visit?", "Paula Thomson-Jones, with Kathryn Grindrod, Julie Knight, Lorna Schlechte and Garry White."),
    ],
)
def test_one_reports_one_value_is_said_first_then_the_cited_fact(pipeline: QAPipeline, question: str, direct: str) -> None:
    answer = pipeline.ask(question)
    assert answer.trace["route"].startswith("structured:")
    first, rest = answer.answer.split("\n\n", 1)
    assert first == direct
    # it has no marker of its own: the cited fact after it states the same, in the same words
    bullet = rest.splitlines()[0]
    assert bullet.startswith("- ") and MARKER.search(bullet)
    words = [w for w in normalise(direct.rstrip(".")).replace(",", " ").split() if w not in ("with", "and")]
    assert all(w in normalise(bullet) for w in words), (direct, bullet)


@pytest.mark.parametrize(
    "question",
    [
        "Who led the inspections of Trafford?",  # several reports
        "What were the overall grades of Camden and Islington?",  # several authorities
        "Who led Islington's ILACS inspection and when were inspectors on site?",  # two facts
        "What grade did Trafford get?",  # the April 2026 framework: several judgements, no overall one
        "When was Trafford judged inadequate?",  # asks when, not the grade it names
        # two authorities named, one report found: the team of one is not the answer
        "Which inspector worked on both Trafford's covid-era focused visit and Blackpool's area SEND inspection?",
    ],
)
def test_no_answer_in_a_few_words_where_there_is_no_single_one(pipeline: QAPipeline, question: str) -> None:
    answer = pipeline.ask(question)
    assert answer.trace["route"].startswith("structured:")
    first = answer.answer.split("\n\n", 1)[0]
    assert first.startswith("- ") or first.endswith(":"), first


def test_direct_answer_needs_one_report_and_one_value(sample_index) -> None:
    trafford = sample_index.report("trafford-ilacs-2023-01-31")
    camden = sample_index.report("camden-ilacs-2025-04-15")
    grade = Fact("Trafford, ILACS inspection of 31 January 2023: Overall effectiveness - Requires improvement to be good.", trafford, None, value="requires improvement to be good")
    prose = Fact("Services for children in Trafford require improvement to be good.", trafford, None)
    other = Fact("Camden, ILACS inspection of 15 April 2025: Overall effectiveness - Outstanding.", camden, None, value="Outstanding")
    assert direct_answer([grade]) == "Requires improvement to be good."
    assert direct_answer([grade, prose]) == "Requires improvement to be good."  # the report's own words for it
    assert direct_answer([grade, other]) == ""  # two authorities
    assert direct_answer([grade, replace(grade, value="Good")]) == ""  # two values
    assert direct_answer([prose]) == ""  # nothing that gives a value
    assert direct_answer([replace(grade, value="Sarah Canto.")]) == "Sarah Canto."  # one full stop
    assert direct_answer([]) == ""


def test_inspected_in_a_month_means_visited_then_and_published_means_published(pipeline: QAPipeline) -> None:
    """A window admits a report visited or published in it. Buckinghamshire's 2025 ILACS report was published on
    14 May 2025 after a visit in January and February: it was published in May, not inspected then."""
    visited = pipeline.ask("Which authorities were inspected in May 2025?")
    assert visited.refused and "were visited in the dates asked" in visited.answer
    published = pipeline.ask("Which reports were published in May 2025?")
    assert [c.report_id for c in published.citations] == ["buckinghamshire-ilacs-2025-05-14"]
    march = pipeline.ask("Which authorities were inspected in March 2025?")
    assert [c.report_id for c in march.citations] == ["camden-ilacs-2025-04-15"]  # visited 3 to 7 March, published in April


def test_a_list_of_a_report_type_the_index_lacks_says_so(pipeline: QAPipeline) -> None:
    answer = pipeline.ask("Which authorities had a monitoring visit?")
    assert answer.refused and answer.citations == ()
    assert "the index holds no monitoring visit report" in answer.answer



def test_praise_is_not_a_grade(sample_index) -> None:
    """"Most children in care are now receiving reliably good care" praises the care; it does not give the children in care
    judgement (before, it was quoted beside the grade as the report's own words giving it)."""
    report = sample_index.report("buckinghamshire-ilacs-2025-05-14")
    paragraphs = sample_index.paragraphs(report.report_id)
    judgement = next(j for j in report.metadata.judgements if j.area == "in_care")
    stated = grade_sentence(paragraphs, judgement)
    assert stated is None or "good care" not in stated[1]


@pytest.mark.parametrize(
    ("question", "listed"),
    [
        ("Which areas had inconsistent experiences and outcomes at their SEND inspection?", ["blackpool-area-send-2024-07-25"]),
        ("How many area SEND inspections found widespread and/or systemic failings?", []),
    ],
)
def test_an_area_send_outcome_is_listed_like_a_grade(pipeline: QAPipeline, question: str, listed: list[str]) -> None:
    """An area SEND inspection's outcome stands where a grade would: before, "none of the reports match" for both."""
    answer = pipeline.ask(question)
    assert answer.trace["route"] == "structured:list"
    assert [c.report_id for c in answer.citations] == listed
    assert "area SEND inspection searched" in answer.answer  # the sample holds one, and it was searched
    assert answer.refused is not bool(listed)
    assert ("No authority in the 1 area SEND inspection" in answer.answer) is not bool(listed)


@pytest.mark.parametrize("question", ["How many times has Trafford been inspected?", "How often has Trafford been visited by Ofsted?"])
def test_how_many_times_an_authority_was_inspected_lists_its_reports(pipeline: QAPipeline, question: str) -> None:
    """Before, both quoted passages (a front-door finding, adopters' timescales)."""
    answer = pipeline.ask(question)
    trafford = distinct_reports([r for r in pipeline.reports() if r.metadata.local_authority == "Trafford"])
    assert answer.trace["route"] == "structured:list"
    assert answer.answer.startswith(f"The index holds {len(trafford)} reports in the scope asked.")
    assert {c.report_id for c in answer.citations} == {r.report_id for r in trafford}


def test_which_authority_has_the_most_reports_is_counted_from_the_catalogue(pipeline: QAPipeline) -> None:
    """Before, "which local authority has the most focused visits?" quoted two visit letters' self-assessments."""
    answer = pipeline.ask("Which local authority has the most focused visits?")
    visits = distinct_reports([r for r in pipeline.reports() if r.metadata.report_type == "focused_visit"])
    counts: dict[str, int] = {}
    for report in visits:
        counts[report.metadata.local_authority] = counts.get(report.metadata.local_authority, 0) + 1
    top = max(counts.values())
    leaders = sorted(a for a, n in counts.items() if n == top)
    assert answer.trace["route"] == "structured:list"
    assert answer.answer.startswith(f"{' and '.join(leaders)} have the most: {top} focused visits each, of the {len(visits)} in scope")
    assert {c.report_id for c in answer.citations} == {r.report_id for r in visits if r.metadata.local_authority in leaders}
    fewest = pipeline.ask("Which council has the fewest reports?")
    assert "has the fewest: 1 report," in fewest.answer or "have the fewest: 1 report each," in fewest.answer


def test_a_grade_list_with_no_dates_marks_grades_a_later_inspection_replaced(pipeline: QAPipeline) -> None:
    """"Which authorities were judged inadequate overall?" was refused: no authority's latest graded inspection is
    inadequate. Trafford's 2019 and Buckinghamshire's 2018 inspections were, and the answer now says so, marking each as
    replaced by the inspection after it."""
    answer = pipeline.ask("Which authorities were judged inadequate overall?")
    assert not answer.refused
    assert {c.report_id for c in answer.citations} == {"trafford-ilacs-2019-05-08", "buckinghamshire-sif-2018-01-29-txt"}
    assert "no longer standing: replaced by the ILACS inspection of 31 January 2023" in answer.answer
    assert answer.answer.startswith("No authority in the 4 graded reports searched was judged inadequate at its latest graded inspection")
    # "currently" asks for the grades that stand, and none does
    assert pipeline.ask("Which authorities are currently judged inadequate overall?").refused


def test_a_standing_grade_is_listed_before_the_replaced_ones(pipeline: QAPipeline) -> None:
    answer = pipeline.ask("Which authorities were judged requires improvement overall?")
    lines = [line for line in answer.answer.splitlines() if line.startswith("- ")]
    standing = [line for line in lines if "no longer standing" not in line]
    replaced = [line for line in lines if "no longer standing" in line]
    assert standing and replaced
    assert lines == standing + replaced  # the grades that stand first
    assert any("Trafford, ILACS inspection of 31 January 2023" in line for line in replaced)  # replaced by its 2026 inspection


@pytest.mark.parametrize("question", ["Give me Camden's grades.", "What were all of Camden's judgements?"])
def test_grades_in_the_plural_are_every_judgement_of_the_report(pipeline: QAPipeline, question: str) -> None:
    """"Give me Camden's grades" gave the overall grade alone."""
    answer = pipeline.ask(question)
    assert answer.trace["route"] == "structured:grade"
    for label in ("The impact of leaders", "need help and protection", "children in care", "care leavers", "Overall effectiveness"):
        assert label in answer.answer
    assert "The impact of leaders" not in pipeline.ask("What grade did Camden get overall?").answer


@pytest.mark.parametrize(
    "question",
    ["What's the date of the next Trafford inspection?", "When will Camden be inspected again?", "When is Buckinghamshire's next focused visit due?"],
)
def test_the_next_inspection_is_not_in_any_report(pipeline: QAPipeline, question: str) -> None:
    """"What's the date of the next Trafford inspection?" quoted the dates of its past inspections as if they answered."""
    answer = pipeline.ask(question)
    assert answer.refused and answer.trace["refusal"] == "next-inspection" and not answer.citations
    assert "not when the next one will be" in answer.answer and "The latest report in the index: " in answer.answer


def test_a_question_about_a_past_report_that_says_next_is_still_answered(pipeline: QAPipeline) -> None:
    assert not pipeline.ask("What did the focused visit before the next inspection find in Trafford?").refused
    assert not pipeline.ask("When was Trafford last inspected?").refused


def test_the_last_two_inspections_are_each_authoritys_newest_two_of_that_kind(pipeline: QAPipeline) -> None:
    """"What were Birmingham's judgements in its last two inspections?" gave the latest alone."""
    answer = pipeline.ask("What were Trafford's judgements in its last two inspections?")
    assert answer.trace["route"] == "structured:grade"
    assert {c.report_id for c in answer.citations} == {"trafford-ilacs-2023-01-31", "trafford-ilacs-2026-08-03"}
    assert "Overall effectiveness - Requires improvement to be good" in answer.answer  # 2023's, beside 2026's areas
    visits = pipeline.ask("When were Trafford's last two visits?")
    assert {c.report_id for c in visits.citations} == {"trafford-focused-visit-2021-05-10", "trafford-focused-visit-2024-08-01"}
    assert "latest 2 of each authority's reports of the kind asked" in visits.answer


def test_a_region_scopes_a_list_to_its_authorities(pipeline: QAPipeline) -> None:
    """"Which London boroughs were judged outstanding overall?" searched every report for the words."""
    answer = pipeline.ask("Which London boroughs were judged outstanding overall?")
    assert answer.trace["route"] == "structured:list" and answer.trace["plan"]["region"] == "London"
    assert {c.local_authority for c in answer.citations} == {"Camden", "Islington"}
    assert "the 33 authorities of London" in answer.answer
    north_west = pipeline.ask("Which reports mention private fostering in the North West?")
    assert north_west.trace["route"] == "mentions"
    assert {c.local_authority for c in north_west.citations} == {"Trafford"}
    assert "the 25 authorities of the North West" in north_west.answer


def test_published_in_a_year_is_the_publication_date_and_inspected_the_visit(pipeline: QAPipeline) -> None:
    """Islington's ILACS inspection was visited in December 2024 and published in January 2025: a report "of 2024"
    (visited then) and of an inspection in 2024, but not one published in 2024 (issue 18: "outstanding for care leavers
    in inspections published in 2024" listed five published in 2025)."""
    of_year = pipeline.ask("Which councils were judged outstanding overall in 2024?")
    assert {c.local_authority for c in of_year.citations} == {"Islington"}
    assert "included because inspectors visited" in of_year.answer
    inspected = pipeline.ask("Which councils inspected in 2024 were judged outstanding overall?")
    assert {c.local_authority for c in inspected.citations} == {"Islington"}
    published = pipeline.ask("Which councils were judged outstanding overall in inspections published in 2024?")
    assert "Islington" not in published.answer and published.citations == ()
    assert "2024-01-01 to 2024-12-31, by publication date" in published.answer
