"""Timelines and comparisons: which reports are set side by side, and one best passage per side.

The reference parsing is table-driven; the routes run over the real sample index (read-only) with a real
pipeline. Wording may change; these tests hold which reports and paragraphs an answer is built from.
"""

from __future__ import annotations

import re
from datetime import date

import pytest

from chatbot.authorities import Gazetteer
from chatbot.extractive import ExtractiveAnswerer, score_sentences
from chatbot.improvements import in_improvement_list
from chatbot.passages import best_passage, in_text_order
from chatbot.pipeline import _CHANGE_WORDS, QAPipeline, _subject_words
from chatbot.query import answer_focus, plan_query
from chatbot.retrieval import HybridRetriever
from chatbot.structured import about_areas_only, states_grade
from chatbot.timeline import (
    _references,
    opening_summary,
    referenced_reports,
    since_last,
    timeline_areas,
    timeline_intent,
    topic_areas,
)
from core.models import Turn
from vectorstore.keyword import tokenize


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return Gazetteer()


@pytest.fixture(scope="module")
def pipeline(sample_index) -> QAPipeline:
    return QAPipeline(sample_index, ExtractiveAnswerer(sample_index.embedder, term_weight=sample_index.term_weight))


# ---- query planning: a named report type can be a point in time ---------------------------------


@pytest.mark.parametrize(
    ("question", "types", "start", "end"),
    [
        ("Have Trafford's services improved since the 2024 focused visit?", (), date(2024, 1, 1), None),
        ("How did support compare between the 2022 focused visit and the 2025 inspection?", (), date(2022, 1, 1), date(2025, 12, 31)),
        ("How did leaders change between the 2018 SIF report and the 2022 inspection?", (), date(2018, 1, 1), date(2022, 12, 31)),
        ("How has the front door changed from the 2018 SIF report to the 2025 inspection?", (), date(2018, 1, 1), date(2025, 12, 31)),
        ("How has the front door changed between the covid-era focused visit and the 2026 inspection?", (), date(2020, 1, 1), date(2026, 12, 31)),
        # the type is the scope
        ("What did the 2021 focused visit say about care leavers?", ("focused_visit",), date(2021, 1, 1), date(2021, 12, 31)),
        ("What did focused visits since 2021 say about care leavers?", ("focused_visit",), date(2021, 1, 1), None),
        ("Compare the SIF and ILACS reports on care leavers", ("sif_inspection", "ilacs_inspection"), None, None),
    ],
)
def test_report_type_as_point_in_time(gazetteer, question, types, start, end) -> None:
    plan = plan_query(question, [], None, gazetteer)
    assert (plan.report_types, plan.published_from, plan.published_to) == (types, start, end)
    if not types and "visit" in question:
        assert "visit" not in plan.topic  # the reference point is not a search term


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("between the 2022 focused visit and the 2025 inspection", [((2022,), "focused_visit"), ((2025,), "inspection")]),
        ("between the 2018 SIF report and the 2022 inspection", [((2018,), "sif_inspection"), ((2022,), "inspection")]),
        ("between the 2019 and 2023 inspections", [((2019,), "inspection"), ((2023,), "inspection")]),
        ("between the covid-era focused visit and the 2026 inspection", [((2020, 2021), "focused_visit"), ((2026,), "inspection")]),
        ("Compare what inspectors said in 2019 and in 2026.", [((2019,), None), ((2026,), None)]),
        ("How has leadership changed from 2017 to 2025?", []),  # a span, not two reports
        ("How has it changed since 2019?", []),
        # the latest report, whatever its year
        ("Compare the latest inspection with what they said in 2022.", [((), "inspection"), ((2022,), None)]),
        ("How does the most recent focused visit compare with the 2022 inspection?", [((2022,), "inspection"), ((), "focused_visit")]),
        ("since the last inspection", []),  # the one before: not the latest
    ],
)
def test_references(question, expected) -> None:
    assert _references(question) == expected


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("How does Trafford's latest inspection compare with what inspectors said in 2019 about care leavers?", ["trafford-ilacs-2019-05-08", "trafford-ilacs-2026-08-03"]),
        ("Compare Buckinghamshire's latest report with its 2022 inspection on care leavers", ["buckinghamshire-ilacs-2022-02-11", "buckinghamshire-ilacs-2025-05-14"]),
    ],
)
def test_the_latest_report_is_one_end_of_a_timeline(pipeline, question, expected) -> None:
    """"The latest" against a year: it was scoped to that year alone and answered from it (no latest report)."""
    answer = pipeline.ask(question)
    assert answer.trace["route"] == "timeline"
    assert answer.trace["timeline_reports"] == expected
    assert {c.report_id for c in answer.citations} == set(expected)
    assert "care leavers" in answer.answer and "latest" not in answer.answer.split("_Searched")[0]


@pytest.mark.parametrize(
    ("question", "authorities", "expected"),
    [
        ("How has Trafford changed since 2019?", ["Trafford"], True),
        ("How did support compare between the 2022 focused visit and the 2025 inspection?", ["Buckinghamshire"], True),
        ("Compare care leavers in Camden and Islington", ["Camden", "Islington"], False),
        ("What did the 2023 inspection say about the front door?", ["Trafford"], False),
    ],
)
def test_timeline_intent(question, authorities, expected) -> None:
    assert timeline_intent(question, authorities) is expected


def test_timeline_areas() -> None:
    assert timeline_areas("How has Trafford's care leavers judgement changed?") == ["care_leavers"]
    assert "leaders" in timeline_areas("Which of Trafford's judgements improved?")
    assert timeline_areas("How has Trafford changed?") == ["overall_effectiveness"]


def test_referenced_reports_pick_the_two_named_ends(sample_index) -> None:
    bucks = [r for r in sample_index.reports() if r.metadata.local_authority == "Buckinghamshire"]
    ends = referenced_reports("between the 2022 focused visit and the 2025 inspection", bucks)
    assert [(r.metadata.report_type, r.metadata.published.year) for r in ends] == [("focused_visit", 2022), ("ilacs_inspection", 2025)]
    # a reference that matches no report, or two, gives no ends: the whole timeline is used instead
    assert referenced_reports("between the 2019 focused visit and the 2025 inspection", bucks) == []


# ---- scoring --------------------------------------------------------------------------------------


def test_rare_words_weigh_more(sample_index) -> None:
    assert sample_index.term_weight("wheelchair") > sample_index.term_weight("children")
    assert sample_index.term_weight("zzzunseen") >= sample_index.term_weight("wheelchair")


@pytest.mark.parametrize(
    ("question", "matches", "misses"),
    [
        ("What proportion of care leavers were at university?", "approximately 10% are attending", "most are attending"),
        ("When did Buckinghamshire create its social work academy?", "created in 2019", "created recently"),
        ("How long were children waiting for mental health help?", "two-year waits", "waits are common"),
        # a point in a young person's life is when; an age group is who ("aged over 21 years")
        ("How long do care leavers wait for a personal adviser?", "allocated a PA at 17 and a half", "care leavers aged over 21 years"),
        ("How soon are personal advisers allocated?", "not allocated a personal adviser early enough", "personal advisers are skilled"),
        ("Why was leadership rated so low?", "the pace of change has been too slow", "leaders know their services"),
        ("Why was Camden judged outstanding?", "leadership is exceptionally strong", "leaders met in May"),
        ("What are the weaknesses in Birmingham's services for disabled children?", "plans are not reviewed", "children are supported"),
        ("What is not working well for care leavers?", "support is inconsistent", "care leavers live in flats"),
        ("What did inspectors say about care leavers?", None, None),
    ],
)
def test_answer_focus(question, matches, misses) -> None:
    focus = answer_focus(question)
    if matches is None:
        assert focus is None
        return
    assert focus is not None and focus.search(matches) and not focus.search(misses)


def test_focus_lifts_the_sentence_that_holds_the_figure(sample_index) -> None:
    from chatbot.extractive import Evidence

    report = next(r for r in sample_index.reports() if r.metadata.local_authority == "Buckinghamshire")
    paragraph = next(p for p in sample_index.paragraphs(report.report_id) if len(p.text.split()) > 20)
    from dataclasses import replace

    a = replace(paragraph, paragraph_id="a", text="Care leavers are supported into higher education by their advisers and the virtual school.")
    b = replace(paragraph, paragraph_id="b", text="Around 10% of care leavers are in higher education, with support from advisers.")
    items = [Evidence("1", a, report, 0, 0.5), Evidence("2", b, report, 0, 0.5)]
    question = "What proportion of care leavers are in higher education?"
    plain = {s.evidence.marker: s.score for s in score_sentences(question, items, sample_index.embedder)}
    focused = {
        s.evidence.marker: s.score
        for s in score_sentences(question, items, sample_index.embedder, focus=answer_focus(question))
    }
    assert focused["2"] - plain["2"] == pytest.approx(0.1)
    assert focused["1"] == pytest.approx(plain["1"])


def test_best_passage_quotes_one_paragraph(sample_index, gazetteer) -> None:
    plan = plan_query("What did inspectors say about return home interviews in Trafford?", [], None, gazetteer)
    ids = [r.report_id for r in sample_index.reports() if r.metadata.local_authority == "Trafford"]
    passage = best_passage(sample_index, HybridRetriever(sample_index), plan, ids, term_weight=sample_index.term_weight)
    assert passage is not None
    assert {s.evidence.paragraph.paragraph_id for s in passage.sentences} == {passage.paragraph.paragraph_id}
    assert 1 <= len(passage.sentences) <= 3
    assert "return home interview" in passage.paragraph.text.lower()
    assert best_passage(sample_index, HybridRetriever(sample_index), plan, []) is None


def test_a_point_of_the_improvement_list_is_quoted_as_one(sample_index, gazetteer) -> None:
    """A "What needs to improve" point names an area without saying how it is; quoted bare in a timeline it read as a
    finding ("The effectiveness of quality assurance arrangements ...")."""
    plan = plan_query("What needs to improve in Buckinghamshire's quality assurance?", [], None, gazetteer)
    ids = [r.report_id for r in sample_index.reports() if r.report_id == "buckinghamshire-focused-visit-2021-04-12"]
    passage = best_passage(sample_index, HybridRetriever(sample_index), plan, ids, term_weight=sample_index.term_weight)
    assert passage is not None and passage.paragraph.heading_path[-1].startswith("What needs to improve")
    quoted = in_text_order(passage)
    assert quoted[0].startswith("What needs to improve: ") and passage.sentences[0].text in quoted[0]



def test_a_timeline_says_which_of_its_quotes_are_points_to_improve(pipeline) -> None:
    answer = pipeline.ask("How has management oversight and supervision in Buckinghamshire changed since 2017?")
    assert answer.trace["route"] == "timeline"
    points = [c for c in answer.citations if in_improvement_list(pipeline.paragraph(c.paragraph_id))]
    assert points  # the 2021 focused visit's list names management oversight and supervision
    lines = answer.answer.splitlines()
    for citation in points:
        first = next(line for line in lines if f"[{citation.marker}]" in line)
        assert first.startswith("- What needs to improve: ")


# ---- the routes -------------------------------------------------------------------------------------


def test_timeline_between_two_named_reports_uses_those_two(pipeline) -> None:
    answer = pipeline.ask("How did Trafford's front door for referrals change between the 2019 and 2023 inspections?")
    assert answer.trace["route"] == "timeline"
    assert answer.trace["timeline_reports"] == ["trafford-ilacs-2019-05-08", "trafford-ilacs-2023-01-31"]
    assert {c.report_id for c in answer.citations} == set(answer.trace["timeline_reports"])
    assert answer.answer.index("8 May 2019") < answer.answer.index("31 January 2023")
    # the front door is part of help and protection: each inspection's grade for that area, with its movement, and
    # one passage per report
    assert answer.trace["grade_lines"]
    assert re.search(r"help and protection: Requires improvement to be good \[\d+\]", answer.answer), answer.answer
    assert "help and protection: Requires improvement to be good (unchanged) [" in answer.answer
    assert len({c.paragraph_id for c in answer.citations}) <= 4


@pytest.mark.parametrize(
    ("topic", "expected"),
    [
        ("How has quality assurance in children's services developed since the re-inspection?", ["quality", "assurance"]),
        ("the local authority's response to homeless 16- and 17-year-olds", ["response", "homeless", "16-", "17-year-olds"]),
        ("Trafford's children's services since 2019", ["Trafford's"]),
        ("How have children's services changed ?", []),
        ("children in care", ["children", "care"]),
        ("disabled children's services", ["disabled", "children's", "services"]),
    ],
)
def test_a_side_is_searched_for_its_subject_not_the_service_or_the_report_it_dates_from(topic, expected) -> None:
    """Searching for "children's services re-inspection" too quoted Buckinghamshire's 2018 summary and the 2021 list
    of what to improve, not the findings on quality assurance."""
    asking = _CHANGE_WORDS | frozenset(tokenize("2017 2019"))
    assert _subject_words(topic, asking) == expected


def test_topic_areas() -> None:
    assert topic_areas("front door") == ["help_protection"]
    assert topic_areas("pathway plans") == ["care_leavers"]
    assert topic_areas("placement stability for children in care") == ["in_care"]
    # not a part of one area's practice, or parts of two: no area
    assert topic_areas("workforce stability") == []
    assert topic_areas("front door and pathway plans") == []


def test_timeline_on_a_judged_area_gives_each_grade_and_its_movement(pipeline) -> None:
    answer = pipeline.ask("How has Trafford's care leavers judgement changed since 2019?")
    assert answer.trace["route"] == "timeline" and answer.trace["grade_lines"]
    assert "(unchanged)" in answer.answer or "up from" in answer.answer or "down from" in answer.answer


def test_comparison_gives_each_authority_its_own_evidence(pipeline) -> None:
    answer = pipeline.ask("Do social workers in Camden and Islington have manageable caseloads?")
    assert answer.trace["route"] == "comparison"
    by_authority = {}
    for citation in answer.citations:
        by_authority.setdefault(citation.local_authority, set()).add(citation.paragraph_id)
    assert set(by_authority) == {"Camden", "Islington"}
    assert all(len(paragraphs) == 1 for paragraphs in by_authority.values())  # one best passage a side
    assert "caseload" in answer.answer.lower()


def test_comparison_on_a_judged_area_leads_with_each_judgement(pipeline) -> None:
    answer = pipeline.ask("Compare care leavers support in Camden and Islington.")
    assert answer.trace["route"] == "comparison"
    assert answer.answer.count("Outstanding") >= 2
    assert answer.answer.index("Camden") < answer.answer.index("Islington")


# ---- lists and fields ------------------------------------------------------------------------------


def test_list_of_reports_by_type_and_year(pipeline) -> None:
    answer = pipeline.ask("Which full ILACS inspection reports were published in 2025?")
    assert answer.trace["route"] == "structured:list"
    assert {c.local_authority for c in answer.citations} == {"Buckinghamshire", "Camden", "Islington"}
    assert all(c.report_type == "ilacs_inspection" for c in answer.citations)


def test_list_naming_an_authority_before_the_noun(pipeline) -> None:
    answer = pipeline.ask("Which Trafford inspections or visits involved Paula Thomson-Jones?")
    assert answer.trace["route"] == "structured:list"
    assert {c.published[:4] for c in answer.citations} >= {"2019", "2021"}


def test_a_theme_no_report_is_about_is_looked_for_in_the_text(pipeline) -> None:
    """No report's focus is young carers; the reports that mention them are listed, quoting a finding (not the point
    of what needs to improve that also names them)."""
    answer = pipeline.ask("Which Trafford reports mention young carers?")
    assert answer.trace["route"] == "mentions"
    assert not answer.refused and "young carer" in answer.answer.lower()
    assert "(outcome 1, national framework)" not in answer.answer


def test_a_front_matter_field_can_answer(pipeline) -> None:
    answer = pipeline.ask("When was Blackpool's previous area SEND inspection?")
    assert not answer.refused
    assert "2022" in answer.answer
    assert any("Dates of previous inspection" in c.text for c in answer.citations)


def test_a_month_and_year_scope_that_month(gazetteer) -> None:
    plan = plan_query("Who was the lead inspector for the December 2021 inspection of Buckinghamshire?", [], None, gazetteer)
    assert (plan.published_from, plan.published_to) == (date(2021, 12, 1), date(2021, 12, 31))
    plan = plan_query("What did the February 2022 report say, compared with the April 2021 visit?", [], None, gazetteer)
    assert plan.published_from == date(2021, 1, 1)  # two months: the years' span, not one month


def test_the_december_inspection_is_the_one_visited_that_month(pipeline) -> None:
    answer = pipeline.ask("Who was the lead inspector for the December 2021 inspection of Buckinghamshire children's services?")
    assert answer.trace["route"] == "structured:inspector"
    assert [c.report_id for c in answer.citations] == ["buckinghamshire-ilacs-2022-02-11"]
    assert "Nick Stacey" in answer.answer


def test_a_sentence_stating_several_grades_is_quoted_once(pipeline) -> None:
    answer = pipeline.ask("Which Buckinghamshire services were judged inadequate at the 2017 re-inspection?")
    lines = [line for line in answer.answer.split("\n") if line.startswith("- ")]
    assert len(lines) == len(set(lines))


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Compare the local offer in Calderdale (2022) and Trafford (2024).", {"Calderdale": 2022, "Trafford": 2024}),
        ("Compare Trafford's 2026 inspection and Buckinghamshire's 2025 inspection.", {"Trafford": 2026, "Buckinghamshire": 2025}),
        ("Compare care leavers in Camden and Islington.", {}),
    ],
)
def test_years_named_after_an_authority(gazetteer, question, expected) -> None:
    assert gazetteer.years_named(question) == expected


def test_each_side_of_a_comparison_at_its_own_year(pipeline) -> None:
    answer = pipeline.ask("Compare the local offer for care leavers in Calderdale (2022) and Trafford (2024).")
    assert answer.trace["route"] == "comparison"
    trafford = {c.published[:4] for c in answer.citations if c.local_authority == "Trafford" and "offer" in c.text.lower()}
    assert trafford == {"2024"}


def test_a_statement_outranks_the_improvement_list_unless_the_list_is_asked_for(pipeline) -> None:
    answer = pipeline.ask("How good are the pathway plans written by Calderdale's pathways service?")
    assert not any("What needs to improve" in c.heading for c in answer.citations)
    assert "poor quality" in answer.answer


def test_a_comparison_with_no_date_reads_each_authority_as_it_stands(pipeline, sample_index) -> None:
    answer = pipeline.ask("Compare workforce stability in Buckinghamshire and Trafford.")
    assert answer.trace["route"] == "comparison"
    latest = {}
    for report in sample_index.reports():
        name = report.metadata.local_authority
        if name in ("Buckinghamshire", "Trafford") and (name not in latest or report.metadata.published > latest[name]):
            latest[name] = report.metadata.published
    cited = {c.local_authority: c.published for c in answer.citations}
    assert cited == {name: day.isoformat() for name, day in latest.items()}


def test_a_timeline_never_quotes_a_judgement_row_as_its_passage(pipeline) -> None:
    answer = pipeline.ask("How has Trafford changed since 2019?")
    blocks = answer.answer.split("**")[1::2]  # report headings alternate with their lines
    assert blocks
    for block in answer.answer.split("\n\n"):
        rows = [line for line in block.split("\n") if line.startswith("- Overall effectiveness:")]
        assert len(rows) <= 1, block  # the grade line, never the table row again as the passage


def test_a_grade_cites_the_reports_own_sentence_when_it_has_one(pipeline) -> None:
    answer = pipeline.ask("Compare care leavers support in Camden and Islington.")
    camden = [c for c in answer.citations if c.local_authority == "Camden"]
    assert any("care leavers are outstanding" in c.text for c in camden)


@pytest.mark.parametrize(
    "question",
    [
        "How has the grade for Buckinghamshire's children in care changed since 2018?",
        "How has Trafford's care leavers judgement changed since 2019?",
        "Compare care leavers support in Camden and Islington.",
        "Compare leadership in Camden and Trafford at their latest inspections.",
        "How has Trafford changed since 2019?",  # an April 2026 report's area grades too
    ],
)
def test_every_grade_line_cites_a_paragraph_that_gives_that_grade(pipeline, question) -> None:
    answer = pipeline.ask(question)
    by_marker = {c.marker: c for c in answer.citations}
    grade_lines = re.findall(r"^- .*?: (Outstanding|Good|Requires improvement to be good|Inadequate)\b.*?\[(\d+)\]", answer.answer, re.M)
    assert grade_lines, answer.answer
    for grade, marker in grade_lines:
        cited = by_marker[marker]
        assert states_grade(f"{cited.heading}\n{cited.text}", grade), (grade, cited.heading, cited.text[:200])


@pytest.mark.parametrize(
    ("topic", "expected"),
    [
        ("help and protection", True),
        ("help protection.", True),  # the planner drops "and"
        ("care leavers support", True),
        ("leadership", True),
        ("children in care services", True),
        ("care leavers accommodation", False),
        ("support for care leavers aged over 21", False),
        ("the front door", False),
        ("workforce stability", False),
    ],
)
def test_about_areas_only(topic, expected) -> None:
    assert about_areas_only(topic) is expected


def test_a_comparison_on_a_judged_area_alone_quotes_each_sections_opening_verdict(pipeline, sample_index) -> None:
    answer = pipeline.ask("Compare help and protection in Islington and Trafford at their latest inspections.")
    assert answer.trace["route"] == "comparison"
    by_authority: dict[str, set[str]] = {}
    for citation in answer.citations:
        by_authority.setdefault(citation.local_authority, set()).add(citation.paragraph_id)
    assert set(by_authority) == {"Islington", "Trafford"}
    for authority, cited in by_authority.items():
        # the grade line cites the judgement line that states the grade; the verdict quotes the section's opening paragraph
        paragraphs = [sample_index.paragraph(i) for i in cited]
        assert len(paragraphs) == 2, authority
        stating = [p for p in paragraphs if re.match(r"The experiences and progress of children who need help and protection: \w+$", p.text)]
        assert stating, authority
        verdict = next(p for p in paragraphs if p not in stating)
        section = [p for p in sample_index.paragraphs(verdict.report_id) if p.heading_path == verdict.heading_path and p.kind != "heading"]
        assert "help and protection" in verdict.heading_path[-1].lower()
        assert verdict == section[0]


def test_a_general_timeline_quotes_each_reports_own_opening_summary(pipeline, sample_index) -> None:
    answer = pipeline.ask("How has Trafford changed since 2019?")
    assert answer.trace["route"] == "timeline"
    by_marker = {c.marker: c for c in answer.citations}
    grade = re.compile(r": (?:Outstanding|Good|Requires improvement to be good|Inadequate)\b")
    quoted = [by_marker[m] for line in answer.answer.splitlines() if not grade.search(line) for m in re.findall(r"\[(\d+)\]", line)]
    assert {c.report_id for c in quoted} == set(answer.trace["timeline_reports"])  # every report says something
    for citation in quoted:
        paragraphs = sample_index.paragraphs(citation.report_id)
        assert sample_index.paragraph(citation.paragraph_id) in opening_summary(paragraphs)
    assert "_Nothing found" not in answer.answer
    # the 2026 report's headline verdict, not a detail from its leadership section
    assert "serious deterioration in service areas" in answer.answer


def test_opening_summary_stops_at_the_improvement_list_and_skips_procedure(sample_index) -> None:
    paragraphs = sample_index.paragraphs("trafford-focused-visit-2024-08-01")
    summary = opening_summary(paragraphs)
    assert summary and all(p.kind != "heading" for p in summary)
    assert not any(p.text.startswith(("This letter summarises", "Inspectors looked at", "This was the first focused visit")) for p in summary)
    improvement = next(p.order for p in paragraphs if p.kind == "heading" and p.text.lower().startswith("what needs to improve"))
    assert all(p.order < improvement for p in summary)
    # a covid-era letter opens with its list: its first findings stand in
    covid = opening_summary(sample_index.paragraphs("trafford-focused-visit-2021-05-10"))
    assert covid and all(p.heading_path and p.heading_path[-1] == "Findings" for p in covid)  # not the address above it


def test_a_general_timeline_gives_an_april_2026_reports_area_grades_with_their_movement(pipeline) -> None:
    answer = pipeline.ask("How has Trafford changed since 2019?")
    block = next(b for b in answer.answer.split("\n\n") if "3 August 2026" in b)
    assert "the April 2026 framework gives none" in block
    assert re.search(r"help and protection: Inadequate \(down from requires improvement to be good\) \[\d+\]", block), block
    assert re.search(r"care leavers: Requires improvement to be good \(unchanged\) \[\d+\]", block), block


def test_a_grade_timeline_says_a_visit_is_not_graded(pipeline) -> None:
    """A grade asked about over time: a focused visit says it carries no grade (before: "Nothing found on this")."""
    answer = pipeline.ask("How has Trafford's overall grade changed?")
    assert answer.trace["route"] == "timeline"
    blocks = answer.answer.split("**Trafford: ")
    visits = [b for b in blocks if b.startswith("focused visit")]
    assert len(visits) == 2 and all("Not graded: Ofsted does not grade a focused visit" in b for b in visits)
    assert "Nothing found" not in answer.answer


def test_a_timeline_on_a_judged_area_alone_quotes_each_graded_reports_verdict(pipeline, sample_index) -> None:
    answer = pipeline.ask("How has Buckinghamshire's help and protection changed over its inspections?")
    assert answer.trace["route"] == "timeline"
    verdicts = 0
    for citation in answer.citations:
        paragraph = sample_index.paragraph(citation.paragraph_id)
        if paragraph.heading_path and "help and protection" in paragraph.heading_path[-1].lower():
            section = [p for p in sample_index.paragraphs(paragraph.report_id) if p.heading_path == paragraph.heading_path and p.kind != "heading"]
            assert paragraph == section[0]  # the section's opening paragraph, where its verdict is
            verdicts += 1
    assert verdicts >= 2  # the 2022 and 2025 ILACS reports


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        # how it has changed along the way: every report from one end to the other
        (
            "How has support for Buckinghamshire care leavers changed from the 2018 SIF report to the 2025 inspection?",
            [
                "buckinghamshire-sif-2018-01-29-txt",
                "buckinghamshire-focused-visit-2021-04-12",
                "buckinghamshire-ilacs-2022-02-11",
                "buckinghamshire-focused-visit-2022-11-16",
                "buckinghamshire-ilacs-2025-05-14",
            ],
        ),
        # how it changed between two reports: those two alone
        (
            "How did inspectors' view of Buckinghamshire's leaders change between the 2018 SIF report and the 2022 inspection?",
            ["buckinghamshire-sif-2018-01-29-txt", "buckinghamshire-ilacs-2022-02-11"],
        ),
        (
            "How has the front door in Buckinghamshire compared between the 2022 focused visit and the 2025 inspection?",
            ["buckinghamshire-focused-visit-2022-11-16", "buckinghamshire-ilacs-2025-05-14"],
        ),
    ],
)
def test_a_timeline_between_two_named_reports_takes_the_path_only_when_asked_how_it_has_changed(pipeline, question, expected) -> None:
    answer = pipeline.ask(question)
    assert answer.trace["route"] == "timeline"
    assert answer.trace["timeline_reports"] == expected


@pytest.mark.parametrize(
    "question",
    [
        "How did inspectors' view of Buckinghamshire's leaders change between the 2018 SIF report and the 2022 inspection?",
        "How has workforce stability in Buckinghamshire changed over its inspections?",
        "How has Trafford's front door changed between the covid-era focused visit and the 2026 inspection?",
    ],
)
def test_every_report_of_a_timeline_says_something_or_says_it_found_nothing(pipeline, question) -> None:
    answer = pipeline.ask(question)
    assert answer.trace["route"] == "timeline"
    blocks = [b for b in answer.answer.split("\n\n") if b.startswith("**") and not b.startswith("**In short")]
    assert len(blocks) == len(answer.trace["timeline_reports"])  # no report left out silently
    assert all("\n- " in block for block in blocks)


def test_a_comparison_on_something_narrower_than_a_judged_area_quotes_without_the_areas_grade(pipeline) -> None:
    narrow = pipeline.ask("Compare support for care leavers aged over 21 in Trafford's 2026 inspection and Buckinghamshire's 2025 inspection.")
    assert narrow.trace["route"] == "comparison"
    assert not re.search(r"care leavers: (Requires improvement|Good|Outstanding|Inadequate)", narrow.answer), narrow.answer
    assert {c.local_authority for c in narrow.citations} == {"Trafford", "Buckinghamshire"}
    assert len(narrow.citations) == 2  # one passage a side, nothing else
    # the area itself, or its grade asked for: each side's grade leads
    whole = pipeline.ask("Compare care leavers support in Trafford and Buckinghamshire.")
    assert len(re.findall(r"care leavers: (?:Requires improvement to be good|Good|Outstanding|Inadequate)", whole.answer)) == 2


def test_since_its_last_inspection_sets_the_last_inspection_beside_the_one_before(pipeline) -> None:
    """"Has Trafford improved since its last inspection?" was read as "the latest report" and refused: one report
    cannot show a change. The last inspection (2026) is set beside the one before (2023) and the visits between, and
    each grade's movement is since the inspection before it, shown or not."""
    answer = pipeline.ask("Has Trafford improved since its last inspection?")
    assert answer.trace["route"] == "timeline" and not answer.refused
    shown = answer.trace["timeline_reports"]
    assert shown[0] == "trafford-ilacs-2023-01-31" and shown[-1] == "trafford-ilacs-2026-08-03"
    assert "Overall effectiveness: Requires improvement to be good (up from inadequate)" in answer.answer


def test_since_last_needs_the_phrase_and_no_named_reports(sample_index) -> None:
    trafford = [r for r in sample_index.reports() if r.metadata.local_authority == "Trafford"]
    assert since_last("How has Trafford changed since 2019?", trafford) == []
    assert since_last("How has Trafford changed between the 2019 and 2023 inspections?", trafford) == []
    after = since_last("What has changed since the last inspection?", trafford)
    assert after and all(r.metadata.published >= date(2023, 1, 31) for r in after)


def test_compare_that_with_the_one_before_sets_the_report_shown_beside_the_one_before(pipeline) -> None:
    """"How does that compare with the previous inspection?" after an answer from Trafford's 2023 inspection was
    refused (it searched "compare with one before"). It is now a timeline from the inspection before to that one,
    on the conversation's topic."""
    first = "What did the 2023 inspection of Trafford say about care leavers?"
    shown = pipeline.ask(first)
    assert "**Trafford: ILACS inspection, 31 January 2023**" in shown.answer
    answer = pipeline.ask("How does that compare with the previous inspection?", [Turn(first, shown.answer)])
    assert answer.trace["route"] == "timeline"
    assert answer.trace["timeline_reports"][0] == "trafford-ilacs-2019-05-08"
    assert answer.trace["timeline_reports"][-1] == "trafford-ilacs-2023-01-31"
    assert "care leavers" in answer.answer.lower()


def _conversation(pipeline: QAPipeline, *questions: str):
    """Ask each question with the real answers before it as the conversation; the last answer."""
    history: list[Turn] = []
    for question in questions:
        answer = pipeline.ask(question, history)
        history.append(Turn(question, answer.answer))
    return answer


def test_which_one_is_better_after_two_authorities_compares_both_with_their_grades(pipeline) -> None:
    """"Which one had the better leadership?" after Camden's and Islington's grades answered for Islington alone."""
    answer = _conversation(pipeline, "Give me Camden's grades.", "What about Islington?", "Which one had the better leadership?")
    assert answer.trace["route"] == "comparison"
    assert {c.local_authority for c in answer.citations} == {"Camden", "Islington"}
    assert answer.answer.count("The impact of leaders on social work practice with children and families: Outstanding") == 2
    # named in the question too, "which is better" brings each side's grade for the area asked about
    named = pipeline.ask("Which is better for care leavers, Trafford or Buckinghamshire?")
    assert named.answer.count("The experiences and progress of care leavers: Requires improvement to be good") == 2


def test_how_does_that_compare_with_a_year_sets_the_shown_report_beside_that_years(pipeline) -> None:
    """After an answer from Trafford's 2026 inspection, "how does that compare with 2023?" was scoped to 2023 alone
    and refused."""
    answer = _conversation(pipeline, "Tell me about Trafford's 2026 inspection.", "What about help and protection?", "How does that compare with 2023?")
    assert answer.trace["route"] == "timeline" and not answer.refused
    assert {c.report_id for c in answer.citations} == {"trafford-ilacs-2023-01-31", "trafford-ilacs-2026-08-03"}
    assert "Inadequate (down from requires improvement to be good)" in answer.answer


def test_how_does_that_compare_with_another_authority_keeps_the_conversations_authority_and_topic(pipeline) -> None:
    """"How does that compare with Redcar and Cleveland?" after Middlesbrough's front door answered for Redcar alone,
    on no topic, and was refused."""
    answer = _conversation(pipeline, "What did Camden's report say about care leavers?", "And how does that compare with Islington?")
    assert answer.trace["route"] == "comparison"
    assert {c.local_authority for c in answer.citations} == {"Camden", "Islington"}
    assert all("care" in c.text.lower() for c in answer.citations)
    assert answer.trace["plan"]["topic"].lower().count("care leavers") == 1


def test_a_question_of_scope_and_format_alone_is_an_overview(pipeline) -> None:
    """"Summarise Sandwell's latest inspection in three bullet points": with the authority, "latest inspection" and
    the format taken out nothing is left, and the whole question was searched for instead."""
    answer = pipeline.ask("Summarise Islington's latest inspection in three bullet points.")
    assert answer.trace["route"] == "overview"
