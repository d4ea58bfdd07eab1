"""The whole chain over the real sample index (read-only) with the real extractive answerer.

Answers' wording may change; these tests hold the behaviour: refusals, citation ids and texts, trace fields.
"""

from __future__ import annotations

import json
import re
from datetime import date

import pytest

from chatbot.extractive import ExtractiveAnswerer, candidate_sentences
from chatbot.pipeline import QAPipeline, successor_note
from chatbot.structured import distinct_reports
from chatbot.timeline import opening_summary
from core.errors import BadQuestionError
from core.models import Answer, Filters, Turn
from core.settings import Settings
from tests.conftest import SHARED_CORPUS

BUCKS_PA_SENTENCE = (
    "Care leavers benefit when they have established relationships with personal advisers, "
    "but this is not always possible given changes in the workforce"
)
CITATION_KEYS = {
    "marker", "paragraph_id", "report_id", "local_authority", "report_type", "published",
    "page", "paragraph_number", "heading", "text", "source",
}  # fmt: skip
RETRIEVED_KEYS = {"chunk_id", "paragraph_ids", "score", "text"}


@pytest.fixture(scope="module")
def pipeline(sample_index) -> QAPipeline:
    return QAPipeline(sample_index, ExtractiveAnswerer(sample_index.embedder))


@pytest.fixture(scope="module")
def bucks_care_leavers(pipeline: QAPipeline) -> Answer:
    # the April 2021 focused visit: a question with no time in it would be about the latest inspection (2025)
    return pipeline.ask(
        "What did inspectors say about care leavers?",
        filters=Filters(local_authorities=("Buckinghamshire",), published_from=date(2021, 1, 1), published_to=date(2021, 12, 31)),
    )


@pytest.fixture(scope="module")
def trafford_follow_up(pipeline: QAPipeline) -> Answer:
    history = [Turn("What did inspectors say about care leavers in Trafford?", "Care leavers in Trafford ...")]
    return pipeline.ask("And what about their pathway plans?", history)


def markers(text: str) -> list[str]:
    return re.findall(r"\[(\d+)\]", text)


def assert_citations_valid(sample_index, answer: Answer) -> None:
    """Every citation names a stored paragraph with its whole text; every marker has a citation, numbered 1..n."""
    assert answer.citations
    for citation in answer.citations:
        paragraph = sample_index.paragraph(citation.paragraph_id)
        assert paragraph is not None, citation.paragraph_id
        assert paragraph.text == citation.text
        assert paragraph.report_id == citation.report_id
        assert sample_index.report(citation.report_id) is not None
    cited = [c.marker for c in answer.citations]
    assert cited == [str(n) for n in range(1, len(cited) + 1)]
    used = set(markers(answer.answer))
    assert used == set(cited), "every marker has a citation and every citation is used"


# ---- passage answers ---------------------------------------------------------------------------------


def test_bucks_care_leavers_cites_the_personal_adviser_paragraph_whole(sample_index, bucks_care_leavers: Answer) -> None:
    answer = bucks_care_leavers
    assert not answer.refused
    matching = [c for c in answer.citations if BUCKS_PA_SENTENCE in c.text]
    assert matching, [c.text[:80] for c in answer.citations]
    citation = matching[0]
    # the whole paragraph, from the PDF copy of the letter rather than its Markdown export
    assert citation.report_id == "buckinghamshire-focused-visit-2021-04-12"
    assert citation.source.endswith(".pdf")
    assert citation.text == sample_index.paragraph(citation.paragraph_id).text
    assert citation.text.startswith("The local authority is in touch with the vast majority of its care leavers.")
    assert citation.text.endswith("support with their health and emotional well-being.")
    assert f"[{citation.marker}]" in answer.answer


def test_normal_answer_citations_are_valid(sample_index, bucks_care_leavers: Answer) -> None:
    assert_citations_valid(sample_index, bucks_care_leavers)
    assert {c.local_authority for c in bucks_care_leavers.citations} == {"Buckinghamshire"}
    assert bucks_care_leavers.trace["removed_markers"] == []


def test_retrieved_chunks_are_in_scope_and_unique(sample_index, bucks_care_leavers: Answer) -> None:
    retrieved = bucks_care_leavers.retrieved
    assert retrieved
    assert {sample_index.report(r.report_id).metadata.local_authority for r in retrieved} == {"Buckinghamshire"}
    assert len({r.chunk_id for r in retrieved}) == len(retrieved)
    assert "buckinghamshire-focused-visit-2021-04-12-md" not in {r.report_id for r in retrieved}


def test_answer_json_has_the_eval_format_keys(bucks_care_leavers: Answer) -> None:
    data = json.loads(json.dumps(bucks_care_leavers.to_json()))
    assert {"answer", "refused", "citations", "retrieved"} <= data.keys()
    assert data["refused"] is False
    assert data["citations"] and data["retrieved"]
    for citation in data["citations"]:
        assert CITATION_KEYS <= citation.keys()
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", citation["published"])
        assert isinstance(citation["page"], int)
    for chunk in data["retrieved"]:
        assert RETRIEVED_KEYS <= chunk.keys()
        assert isinstance(chunk["paragraph_ids"], list) and isinstance(chunk["score"], float)


def test_searched_line_names_the_authority(pipeline: QAPipeline, bucks_care_leavers: Answer) -> None:
    searched = bucks_care_leavers.trace["searched"]
    total = len(distinct_reports(pipeline.reports()))
    assert re.match(rf"Searched \d+ of {total} reports: Buckinghamshire;", searched)
    assert searched in bucks_care_leavers.answer
    count = int(re.match(r"Searched (\d+)", searched).group(1))
    # three files, two reports of 2021: the 2021 focused visit's PDF and its Markdown export are one report, counted once
    assert len(bucks_care_leavers.trace["scope_reports"]) == 3 and count == 2


def test_trace_records_the_plan(bucks_care_leavers: Answer) -> None:
    plan = bucks_care_leavers.trace["plan"]
    assert plan["authorities"] == ["Buckinghamshire"]
    assert plan["authority_source"] == "filter"
    assert bucks_care_leavers.trace["answerer"] == "extractive"
    assert set(bucks_care_leavers.timings) >= {"retrieval_s", "generation_s", "total_s"}


def test_follow_up_is_scoped_to_the_earlier_authority(sample_index, trafford_follow_up: Answer) -> None:
    answer = trafford_follow_up
    plan = answer.trace["plan"]
    assert plan["authority_source"] == "history"
    assert plan["authorities"] == ["Trafford"]
    assert plan["follow_up"] is True
    assert not answer.refused
    assert {sample_index.report(r).metadata.local_authority for r in answer.trace["scope_reports"]} == {"Trafford"}
    assert {c.local_authority for c in answer.citations} == {"Trafford"}
    assert_citations_valid(sample_index, answer)


def test_what_leaders_do_about_it_stays_on_the_conversations_topic(pipeline: QAPipeline) -> None:
    """Issue 18: a follow-up whose own words are all framing ("leaders", "doing") got the overall grades."""
    first = pipeline.ask("How well are care leavers supported in Altrincham?")
    history = [Turn("How well are care leavers supported in Altrincham?", first.answer, first.state)]
    answer = pipeline.ask("What are leaders doing about it?", history)
    assert answer.trace["route"] != "overview" and not answer.refused
    assert "care leavers" in answer.trace["plan"]["topic"]
    assert {c.local_authority for c in answer.citations} == {"Trafford"}
    assert any("care leaver" in c.text.lower() for c in answer.citations)


def test_an_answer_carries_its_state(pipeline: QAPipeline) -> None:
    answer = pipeline.ask("How well are care leavers supported in Altrincham?")
    state = answer.state
    assert state is not None and not answer.refused
    assert state.authorities == ("Trafford",)  # the town as read, which the question's text does not name
    assert state.route == answer.trace["route"] and "care leavers" in state.topic
    # the reports shown, in the order the citations show them, with their catalog dates
    assert [r.report_id for r in state.shown] == list(dict.fromkeys(c.report_id for c in answer.citations))
    for shown in state.shown:
        meta = pipeline.index.report(shown.report_id).metadata
        assert (shown.local_authority, shown.report_type, shown.published, shown.visit_end) == (
            meta.local_authority, meta.report_type, meta.published, meta.visit_end
        )
    assert answer.to_json()["state"] == state.to_json()


def test_the_first_one_after_a_list_answer_is_its_first_item(pipeline: QAPipeline) -> None:
    question = "Which full ILACS inspection reports were published in 2025?"
    listed = pipeline.ask(question)
    assert listed.state is not None and len(listed.state.listed) > 1, listed.answer
    history = [Turn(question, listed.answer, listed.state)]
    for ordinal, index in (("first", 0), ("last", -1)):
        follow_up = pipeline.ask(f"What did inspectors say about care leavers in the {ordinal} one?", history)
        assert follow_up.trace["asked"]["authorities"] == [listed.state.listed[index]]


def test_stream_yields_growing_text_then_the_answer(pipeline: QAPipeline) -> None:
    parts = list(pipeline.stream("What grade did Camden get for care leavers?"))
    *texts, final = parts
    assert isinstance(final, Answer)
    assert texts and all(isinstance(t, str) for t in texts)
    for shorter, longer in zip(texts, texts[1:], strict=False):
        assert longer.startswith(shorter) and len(longer) > len(shorter)
    assert texts[-1] == final.answer
    assert not final.refused and final.citations


# ---- refusals ----------------------------------------------------------------------------------------


def test_authority_not_in_the_index_is_refused_by_name(pipeline: QAPipeline) -> None:
    answer = pipeline.ask("What did inspectors say about care leavers in Devon?")
    assert answer.refused
    assert answer.citations == ()
    assert "Devon" in answer.answer
    assert answer.trace["refusal"] == "authority-not-indexed"
    assert answer.trace["missing_authorities"] == ["Devon"]


def test_a_named_authority_without_reports_is_named_at_the_top_of_the_answer(pipeline: QAPipeline) -> None:
    answer = pipeline.ask("Compare support for care leavers in Devon and Camden.")
    assert not answer.refused and answer.citations
    first = answer.answer.split("\n")[0]
    assert "do not cover Devon" in first and "Camden only" in first
    assert {c.local_authority for c in answer.citations} == {"Camden"}
    assert answer.trace["missing_authorities"] == ["Devon"]
    # streamed text carries the same note as the final answer
    *texts, final = list(pipeline.stream("Compare support for care leavers in Devon and Camden."))
    assert isinstance(final, Answer) and texts[-1] == final.answer and texts[0].startswith(first)


def test_what_inspectors_said_about_an_authority_is_its_latest_reports_grades_and_summary(pipeline: QAPipeline, sample_index) -> None:
    answer = pipeline.ask("What did inspectors say about Trafford?")
    assert answer.trace["route"] == "overview"
    assert {c.report_id for c in answer.citations} == {"trafford-ilacs-2026-08-03"}
    assert "The latest of 5 reports in scope" in answer.answer
    assert "help and protection: Inadequate" in answer.answer  # its grades, each cited
    paragraphs = sample_index.paragraphs("trafford-ilacs-2026-08-03")
    improve = next(p.order for p in paragraphs if p.kind == "heading" and "improve" in p.text.lower())
    summary = answer.citations[-1]  # the grades' sources come first, then the quoted summary
    assert sample_index.paragraph(summary.paragraph_id).order < improve  # from its opening summary


def test_an_overview_opens_each_paragraph_of_the_reports_summary(pipeline: QAPipeline, sample_index) -> None:
    """"How worried should we be about Tameside?" quoted two of its summary's five paragraphs and missed the one that
    opens "There are serious failures that leave children being harmed". An overview now gives each summary
    paragraph's opening sentence, in the report's order (the best passage's paragraph its best sentences)."""
    answer = pipeline.ask("What's the latest on Trafford?")
    assert answer.trace["route"] == "overview"
    summary = opening_summary(sample_index.paragraphs("trafford-ilacs-2026-08-03"))
    assert len(summary) >= 3
    positions = []
    for paragraph in summary[:6]:
        first = candidate_sentences(paragraph, fields=False)
        cited = [c for c in answer.citations if c.paragraph_id == paragraph.paragraph_id]
        assert cited, paragraph.text[:80]
        # its opening sentence, unless it is the best passage, whose best sentences stand for it
        opening = first[0].rstrip(".")  # quoted with its marker in place of the full stop
        if opening in answer.answer:
            positions.append(answer.answer.index(opening))
    assert len(positions) >= len(summary[:6]) - 1
    assert positions == sorted(positions)


def test_summarise_a_report_in_bullet_points_is_its_overview(pipeline: QAPipeline) -> None:
    """"Summarise the Islington report in three bullet points" was refused: it searched for bullet points."""
    answer = pipeline.ask("Summarise the Islington report in three bullet points.")
    assert answer.trace["route"] == "overview"
    assert {c.report_id for c in answer.citations} == {"islington-ilacs-2025-01-29"}


def test_an_overview_of_a_visit_gives_the_grades_that_stand(pipeline: QAPipeline) -> None:
    """Trafford's 2024 focused visit is not graded: the overview says so and gives every judgement of the ILACS
    inspection before it, which stand until the next one (it gave the overall grade alone, so "how are they doing?"
    after a visit hid a weaker area grade)."""
    answer = pipeline.ask("What did inspectors say about Trafford in 2024?")
    assert answer.trace["route"] == "overview"
    assert "The focused visit is not graded; the grades that stand are from the ILACS inspection, 31 January 2023" in answer.answer
    assert "Overall effectiveness: Requires improvement to be good" in answer.answer
    standing = pipeline.index.report("trafford-ilacs-2023-01-31")
    assert standing is not None
    areas = [j for j in standing.metadata.judgements if j.area != "lscb"]
    assert len(areas) > 1  # more than the overall grade
    for judgement in areas:
        assert f"{judgement.label.rstrip('.')}: {judgement.grade} [" in answer.answer
    assert {c.report_id for c in answer.citations} == {"trafford-focused-visit-2024-08-01", "trafford-ilacs-2023-01-31"}


@pytest.mark.parametrize(
    ("question", "report_id"),
    [
        ("What happened at Trafford's last focused visit?", "trafford-focused-visit-2024-08-01"),  # refused before
        ("Give me a briefing on Camden for a councillor", "camden-ilacs-2025-04-15"),  # quoted a passage on councillors
        ("what's the latest on trafford", "trafford-ilacs-2026-08-03"),  # refused before
        ("How did Camden do?", "camden-ilacs-2025-04-15"),  # refused before
        ("What did inspectors praise in Islington?", "islington-ilacs-2025-01-29"),  # quoted what inspectors did
        ("What are the strengths of Buckinghamshire's children's services?", "buckinghamshire-ilacs-2025-05-14"),
    ],
)
def test_asking_what_happened_or_for_a_briefing_is_an_overview(pipeline: QAPipeline, question: str, report_id: str) -> None:
    answer = pipeline.ask(question)
    assert answer.trace["route"] == "overview" and not answer.refused
    assert answer.trace["overview_report"] == report_id


def test_and_another_authority_after_an_overview_is_its_overview(pipeline: QAPipeline) -> None:
    first = "What did inspectors say about Camden?"
    answer = pipeline.ask("And Islington?", [Turn(first, pipeline.ask(first).answer)])
    assert answer.trace["route"] == "overview"
    assert {c.report_id for c in answer.citations} == {"islington-ilacs-2025-01-29"}


@pytest.mark.parametrize("question", ["Compare Camden and Islington", "Compare the latest grades of Camden and Islington"])
def test_comparing_authorities_on_nothing_in_particular_sets_their_overviews_side_by_side(pipeline: QAPipeline, sample_index, question: str) -> None:
    """"Compare the latest grades of ..." was refused: "grades" was taken for a topic to search passages for."""
    answer = pipeline.ask(question)
    assert answer.trace["route"] == "overview"
    assert answer.trace["overview_reports"] == ["camden-ilacs-2025-04-15", "islington-ilacs-2025-01-29"]
    assert answer.answer.index("**Camden") < answer.answer.index("**Islington")
    assert answer.answer.count("Overall effectiveness: Outstanding") == 2
    # Islington's summary is one long paragraph before its "What needs to improve?" list: quoted from there, not from
    # the help and protection section after it
    islington = sample_index.paragraphs("islington-ilacs-2025-01-29")
    improve = next(p.order for p in islington if p.kind == "heading" and "improve" in p.text.lower())
    quoted = [sample_index.paragraph(c.paragraph_id) for c in answer.citations if c.report_id == "islington-ilacs-2025-01-29"]
    assert any(p.order < improve and len(p.text.split()) > 60 for p in quoted)
    assert all(p.order < improve for p in quoted)


@pytest.mark.parametrize("question", ["When was Blackpool's previous area SEND inspection?", "What did inspectors say about care leavers in Trafford?"])
def test_a_question_with_a_topic_or_asking_when_is_not_an_overview(pipeline: QAPipeline, question: str) -> None:
    assert pipeline.ask(question).trace["route"] != "overview"


def test_a_report_type_the_authority_does_not_have_is_named_with_what_it_has(pipeline: QAPipeline) -> None:
    answer = pipeline.ask("What did the last monitoring visit to Camden find?")
    assert answer.refused and answer.citations == ()
    assert answer.trace["refusal"] == "no-report-of-type"
    assert "no monitoring visit report for Camden" in answer.answer
    assert "Camden: ILACS inspection, 15 April 2025" in answer.answer


def test_an_answer_from_outside_the_dates_asked_says_so_first(pipeline: QAPipeline) -> None:
    """Trafford has no report of 2015, but its 2019 report speaks of the 2015 inspection: the answer searches all its
    reports, and says so before anything else."""
    question = "When was Trafford inspected before 2019, and how was it rated then?"
    answer = pipeline.ask(question)
    assert not answer.refused and "2015" in answer.answer
    first = answer.answer.split("\n")[0]
    assert first == "_No report of Trafford's falls in the dates asked (the earliest to 2018-12-31, by visit date); this answer searches Trafford's reports of any date._"
    *texts, final = list(pipeline.stream(question))
    assert isinstance(final, Answer) and texts[0].startswith(first) and texts[-1] == final.answer
    # a question inside its dates gives no such note
    assert "dates asked" not in pipeline.ask("What did inspectors say about Camden's care leavers in 2025?").answer


def test_findings_from_a_year_with_no_report_are_not_taken_from_another_year(pipeline: QAPipeline) -> None:
    """Camden has no report of 2019 and its 2025 report does not speak of 2019: the reports do not answer it (it
    answered from 2025 with a note), and the refusal names the nearest report."""
    answer = pipeline.ask("What did inspectors say about Camden's care leavers in 2019?")
    assert answer.refused and answer.citations == () and answer.trace["refusal"] == "no-report-then"
    assert "Camden: ILACS inspection, 15 April 2025" in answer.answer


def test_every_named_authority_indexed_gives_no_such_note(pipeline: QAPipeline) -> None:
    answer = pipeline.ask("Compare support for care leavers in Islington and Camden.")
    assert "do not cover" not in answer.answer and "missing_authorities" not in answer.trace


@pytest.mark.parametrize(
    "question",
    ["What will the weather be tomorrow?", "Who won the football last night?", "Give me a recipe for lasagne",
     "What's the capital of France?", "Can you help me with my maths homework?"],
)
def test_off_topic_questions_are_refused(pipeline: QAPipeline, question: str) -> None:
    answer = pipeline.ask(question)
    assert answer.refused and answer.citations == ()
    assert answer.trace["refusal"] == "off-topic"
    assert answer.trace["best_chunk_similarity"] < pipeline.refusal.min_on_topic_similarity
    assert answer.trace["plan"]["off_topic"] is True


@pytest.mark.parametrize(
    "question",
    # on-topic in words no list held: decided by the evidence the index holds, not by a word list
    ["Are siblings kept together?", "Do grandparents who take on grandchildren get help?", "Are teenagers at risk from gangs protected?"],
)
def test_on_topic_questions_in_everyday_words_are_answered(pipeline: QAPipeline, question: str) -> None:
    answer = pipeline.ask(question)
    assert not answer.refused and answer.citations
    assert answer.trace.get("refusal") is None


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("How many social workers does Trafford employ?", "no-number-in-evidence"),
        ("Who's the PA in charge of the hub for young people leaving care in Camden? I need their name.", "no-person-in-evidence"),
    ],
)
def test_figures_and_people_the_reports_do_not_give_are_refused(pipeline: QAPipeline, question: str, kind: str) -> None:
    answer = pipeline.ask(question)
    assert answer.refused and answer.citations == () and answer.trace["refusal"] == kind


@pytest.mark.parametrize(
    "question",
    ["What does Sarah Canto think about Camden's early help services?", "What is Nick Bennison's personal opinion of Trafford's leaders?"],
)
def test_a_named_persons_own_opinion_is_not_in_the_reports(pipeline: QAPipeline, question: str) -> None:
    answer = pipeline.ask(question)
    assert answer.refused and answer.citations == () and answer.trace["refusal"] == "named-person-opinion"


def test_what_young_people_think_is_still_answered(pipeline: QAPipeline) -> None:
    answer = pipeline.ask("What do care leavers in Camden think about their support?")
    assert not answer.refused and answer.citations


def test_a_grade_in_a_year_between_inspections_is_the_one_that_stood(pipeline: QAPipeline) -> None:
    # Trafford: ILACS May 2019 (inadequate), a focused visit in 2021 (not graded), ILACS January 2023
    for question in ("Trafford's overall grade in 2021", "What was Trafford's overall grade in 2020?"):
        answer = pipeline.ask(question)
        assert not answer.refused
        assert "no graded inspection" in answer.answer and "stood then" in answer.answer
        assert {c.report_id for c in answer.citations} == {"trafford-ilacs-2019-05-08"}
        assert "Inadequate" in answer.answer


def test_findings_in_a_year_with_no_report_are_refused_naming_the_nearest(pipeline: QAPipeline) -> None:
    answer = pipeline.ask("What did inspectors say about Camden's care leavers in 2021?")
    assert answer.refused and answer.citations == () and answer.trace["refusal"] == "no-report-then"
    assert "15 April 2025" in answer.answer and "this answer searches" not in answer.answer


def test_a_grade_line_cites_the_paragraph_that_states_it(pipeline: QAPipeline) -> None:
    """"And for help and protection?": the grade line cites the line stating the grade, not a paragraph under its
    heading (which showed nothing that gives the grade)."""
    history = [Turn("How are Trafford's care leavers doing?", "Trafford's care leavers ...")]
    answer = pipeline.ask("and for help and protection?", history)
    line = next(row for row in answer.answer.splitlines() if "help and protection: Inadequate" in row)
    marker = re.findall(r"\[(\d+)\]", line)[0]
    cited = next(c for c in answer.citations if c.marker == marker)
    assert "help and protection: Inadequate" in cited.text


@pytest.mark.parametrize(
    "question",
    [
        "What happened to the child called Jamie in Trafford?",
        "Give me the name and address of the care leaver in Camden",
        "Which child in Trafford's care was harmed?",
    ],
)
def test_personal_questions_are_refused(pipeline: QAPipeline, question: str) -> None:
    answer = pipeline.ask(question)
    assert answer.refused and answer.citations == ()
    assert answer.trace["refusal"] == "personal"


def test_name_of_a_service_is_not_a_personal_question(pipeline: QAPipeline) -> None:
    answer = pipeline.ask("What is the name of the children in care council in Buckinghamshire?")
    assert answer.trace.get("refusal") != "personal"


@pytest.mark.parametrize(
    ("question", "message"),
    [("", "empty"), ("   \n ", "empty"), ("x" * 100_000, "100,000 characters")],
)
def test_bad_questions_raise_with_a_clear_message(pipeline: QAPipeline, question: str, message: str) -> None:
    with pytest.raises(BadQuestionError, match=message):
        pipeline.ask(question)


def test_a_narrowed_refusal_names_the_authoritys_other_reports_on_the_topic(pipeline: QAPipeline, sample_index) -> None:
    """Trafford's 2021 focused visit says nothing on private fostering: the refusal names every other Trafford report
    that does, so the user can widen the question instead of concluding the reports are silent."""
    answer = pipeline.ask("What did Trafford's 2021 focused visit say about private fostering?")
    assert answer.refused and answer.citations == ()
    mention = [
        r for r in pipeline.reports()
        if r.metadata.local_authority == "Trafford" and r.metadata.report_type != "focused_visit"
        and any("private fostering" in p.text.lower() for p in sample_index.paragraphs(r.report_id))
    ]
    assert mention
    assert "Other reports mention private fostering: " in answer.answer
    for report in mention:
        assert f"{report.metadata.published:%-d %B %Y}" in answer.answer
    assert "without the dates or the report type" in answer.answer
    # a question with no narrowing says nothing of the kind
    assert "Other reports mention" not in pipeline.ask("What did inspectors say about Trafford's pet policy?").answer


def test_an_abolished_council_is_answered_with_its_successors() -> None:
    """Northamptonshire's children's services passed to two unitary councils in 2021: name them when the index has them."""
    note = successor_note(["Northamptonshire"], {"North Northamptonshire", "West Northamptonshire"})
    assert "replaced in April 2021 by \u2018North Northamptonshire\u2019 and \u2018West Northamptonshire\u2019: ask about either" in note
    assert "ask about \u2018Cumberland\u2019." in successor_note(["Cumbria"], {"Cumberland"})
    assert successor_note(["Cumbria"], {"Kent"}) == ""  # no successor indexed: nothing to suggest
    assert successor_note(["Devon"], {"Kent"}) == ""


@pytest.mark.parametrize(
    ("question", "report_id", "grade_line"),
    [
        # the grade overall: Trafford's 2019 inspection (its 2026 report gives no overall grade), its opening summary
        ("Why was Trafford judged inadequate?", "trafford-ilacs-2019-05-08", "Overall effectiveness: Inadequate"),
        # an area: the latest report that gave it that grade, and the opening of that area's section
        (
            "Why was Trafford judged inadequate for help and protection?",
            "trafford-ilacs-2026-08-03",
            "The experiences and progress of children who need help and protection: Inadequate",
        ),
    ],
)
def test_why_a_grade_was_given_quotes_the_report_that_gave_it(
    pipeline: QAPipeline, sample_index, question: str, report_id: str, grade_line: str
) -> None:
    """Before, "why was X judged inadequate?" searched every report and quoted a 2015 SIF paragraph on assessments."""
    answer = pipeline.ask(question)
    assert answer.trace["route"] == "why-graded" and answer.trace["why_report"] == report_id
    assert {c.report_id for c in answer.citations} == {report_id}
    assert grade_line in answer.answer
    quoted = [sample_index.paragraph(c.paragraph_id) for c in answer.citations]
    assert any(p.kind != "heading" and len(p.text.split()) > 20 for p in quoted)  # the reasons, not only the grade row


def test_why_a_grade_never_given_is_still_a_false_premise(pipeline: QAPipeline) -> None:
    answer = pipeline.ask("Why was Camden judged inadequate?")
    assert answer.refused and answer.trace["refusal"] == "false-premise"


def test_a_misspelt_authority_is_answered_and_the_reading_said(pipeline: QAPipeline) -> None:
    """Before, "Trafferd" named no authority: the answer searched every report and quoted other authorities."""
    answer = pipeline.ask("What did inspectors say about care leavers in Trafferd?")
    assert answer.answer.startswith("_Reading \u2018Trafferd\u2019 as Trafford._")
    assert answer.citations and {c.local_authority for c in answer.citations} == {"Trafford"}
    streamed = list(pipeline.stream("What did inspectors say about care leavers in Trafferd?"))
    assert streamed[-1].answer == answer.answer


@pytest.mark.parametrize("question", ["Which authorities do you cover?", "Which report types are in the index?", "How many reports do you have?"])
def test_a_question_about_the_index_is_answered_from_its_catalogue(pipeline: QAPipeline, question: str) -> None:
    """Before, "which authorities do you cover?" quoted passages on cover arrangements for the LADO."""
    answer = pipeline.ask(question)
    reports = distinct_reports(pipeline.reports())  # a PDF and its text export are one report
    assert answer.trace["route"] == "catalog" and not answer.refused and answer.citations == ()
    authorities = sorted({r.metadata.local_authority for r in reports})
    assert f"on {len(authorities)} local authorities" in answer.answer
    focused = len([r for r in reports if r.metadata.report_type == "focused_visit"])
    assert f"The index holds {len(reports)} reports" in answer.answer and f"- focused visit: {focused}" in answer.answer
    assert ("Authorities: " + "; ".join(authorities) in answer.answer) is ("authorities" in question)


def test_a_list_question_is_not_a_question_about_the_index(pipeline: QAPipeline) -> None:
    assert pipeline.ask("Which authorities have an outstanding grade for care leavers?").trace["route"] != "catalog"
    # what the index holds on one authority is that authority's reports, not the whole catalogue
    trafford = pipeline.ask("What reports are available for Trafford?")
    assert trafford.answer.startswith("The index holds 5 reports on Trafford")
    assert {c.local_authority for c in trafford.citations} == {"Trafford"}


def test_a_quoted_sentence_opening_with_a_pronoun_comes_with_the_sentence_before_it(pipeline: QAPipeline, sample_index) -> None:
    """"They had no awareness of the decline" quoted alone named no one: a quoted sentence that opens with a pronoun
    ("This is a failure of senior leaders and managers") follows the sentence of its paragraph just before it."""
    answer = pipeline.ask("How did Trafford's senior leaders fail in 2019?")
    lines = [line[2:] for line in answer.answer.splitlines() if line.startswith("- ")]
    openers = [i for i, line in enumerate(lines) if re.match(r"(?:They|This|These|It) ", line)]
    assert openers  # the test needs one
    for i in openers:
        marker = lines[i].rsplit("[", 1)[1].rstrip("].")
        assert i > 0 and lines[i - 1].rsplit("[", 1)[1].rstrip("].") == marker
        paragraph = sample_index.paragraph(next(c.paragraph_id for c in answer.citations if c.marker == marker)).text
        before, quoted = lines[i - 1].rsplit(" [", 1)[0], lines[i].rsplit(" [", 1)[0]
        at = paragraph.find(before)
        assert at >= 0 and not paragraph[at + len(before) : paragraph.find(quoted)].strip(" .")


def pipeline_over(paths, tmp_path, embedder) -> QAPipeline:
    """A pipeline over an index of these shared-corpus reports alone, built in tmp_path."""
    from chatbot.build import build_index
    from vectorstore.ingestion import ingest_targets

    settings = Settings(index_dir=tmp_path / "index")
    index = build_index(settings, embedder=embedder)
    assert not ingest_targets(index, [str(p) for p in paths], max_bytes=settings.max_file_bytes).failed
    return QAPipeline(index, ExtractiveAnswerer(index.embedder))


ROCHDALE = [
    SHARED_CORPUS / "reports" / "ilacs_inspection" / "rochdale_ilacs_2023-03-17.pdf",
    SHARED_CORPUS / "reports" / "focused_visit" / "rochdale_focused-visit_2025-06-16.pdf",
]


@pytest.mark.skipif(not all(p.exists() for p in ROCHDALE), reason="../shared/corpus is absent")
def test_an_overview_after_a_visit_gives_the_standing_inspections_summary_too(tmp_path, embedder) -> None:
    """Rochdale: ILACS 2023 (requires improvement), focused visit 2025. "How are we doing?" was answered from the
    visit alone, which looked at one part of the service; the inspection whose grades stand also gave the verdict
    that stands ("has not made sufficient progress in addressing the inconsistent quality of social work
    practice"). A visit asked for is that visit alone."""
    pipeline = pipeline_over(ROCHDALE, tmp_path, embedder)
    answer = pipeline.ask("How are Rochdale's children's services doing?")
    assert answer.trace["route"] == "overview"
    text = answer.answer
    assert text.index("**Rochdale: focused visit, 16 June 2025**") < text.index("**Rochdale: ILACS inspection, 17 March 2023**")
    summary = opening_summary(pipeline.index.paragraphs("rochdale-ilacs-2023-03-17"))
    assert summary[0].paragraph_id in {c.paragraph_id for c in answer.citations}
    visit = pipeline.ask("What did the latest focused visit to Rochdale find?")
    assert visit.trace["route"] == "overview" and "**Rochdale: ILACS inspection" not in visit.answer


TRAFFORD_2023 = [SHARED_CORPUS / "reports" / "area_send_inspection" / "trafford_area-send_2023-12-22.pdf", SHARED_CORPUS / "reports" / "ilacs_inspection" / "trafford_ilacs_2023-01-31.pdf"]


@pytest.mark.skipif(not all(p.exists() for p in TRAFFORD_2023), reason="../shared/corpus is absent")
def test_an_authority_overview_is_of_its_childrens_services_not_its_area_send_inspection(tmp_path, embedder) -> None:
    """Trafford's 2023 reports: an ILACS inspection in January, an area SEND inspection in December. "Tell me about
    Trafford in 2023" quoted the SEND inspection, which judges the local area partnership; SEND asked for, it stands."""
    pipeline = pipeline_over(TRAFFORD_2023, tmp_path, embedder)
    assert pipeline.ask("Tell me about Trafford in 2023").trace["overview_report"] == "trafford-ilacs-2023-01-31"
    send = pipeline.ask("What did inspectors say about Trafford's SEND services?")
    assert send.trace["route"] == "overview" and send.trace["overview_report"] == "trafford-area-send-2023-12-22"


MEDWAY_KENT = [
    SHARED_CORPUS / "reports" / "ilacs_inspection" / "medway_ilacs_2023-09-11.pdf",
    SHARED_CORPUS / "reports" / "area_send_inspection" / "medway_area-send_2024-04-02.pdf",
    SHARED_CORPUS / "reports" / "ilacs_inspection" / "kent_ilacs_2026-02-02.pdf",
]


@pytest.mark.skipif(not all(p.exists() for p in MEDWAY_KENT), reason="../shared/corpus is absent")
def test_a_comparison_side_grade_is_of_childrens_services_not_a_later_area_send_inspection(tmp_path, embedder) -> None:
    """Medway's latest graded report is its 2024 area SEND inspection, which grades no area of children's services:
    "which has the better help and protection?" gave Kent's grade and none for Medway."""
    pipeline = pipeline_over(MEDWAY_KENT, tmp_path, embedder)
    answer = pipeline.ask("Which has the better help and protection, Medway or Kent?")
    assert answer.trace["route"] == "comparison"
    assert "The experiences and progress of children who need help and protection: Requires improvement to be good" in answer.answer
    assert "The experiences and progress of children who need help and protection: Good" in answer.answer
    assert "medway-area-send-2024-04-02" not in {c.report_id for c in answer.citations}


def test_and_since_after_an_answer_means_after_the_latest_report_it_showed(pipeline: QAPipeline) -> None:
    first = "What did inspectors say about Trafford in 2021?"
    shown = pipeline.ask(first)
    assert "**Trafford: focused visit, 10 May 2021**" in shown.answer
    answer = pipeline.ask("And since?", [Turn(first, shown.answer)])
    assert answer.trace["plan"]["published_from"] == "2021-05-11" and answer.trace["plan"]["authorities"] == ["Trafford"]
    assert not answer.refused and all(c.published > "2021-05-10" for c in answer.citations)


def test_a_passage_answer_names_the_shorthand_asked_about(pipeline: QAPipeline, sample_index) -> None:
    """"Children who look after a family member" are young carers: the first answer quoted care orders for children
    living with family members; the answer is now drawn from the passages that name young carers (in the latest
    report, where it stands now; before that, by the shorthand retry over all of Trafford's)."""
    answer = pipeline.ask("How good is Trafford at spotting children who look after a family member?")
    assert answer.trace.get("shorthand_retry", ["look after a family member"]) == ["look after a family member"]
    assert answer.citations and all("young carers" in sample_index.paragraph(c.paragraph_id).text for c in answer.citations)
    assert {c.report_id for c in answer.citations} == {"trafford-ilacs-2026-08-03"}


def test_a_passage_answer_that_cannot_name_the_shorthand_says_so_first(pipeline: QAPipeline) -> None:
    answer = pipeline.ask("What did inspectors say about staying put in Calderdale?")
    assert answer.trace["shorthand_unnamed"] == "staying put"
    assert answer.answer.startswith("_No passage found names \u2018staying put\u2019: these are the nearest")


ESSEX_KENT = [
    SHARED_CORPUS / "reports" / "focused_visit" / "essex_focused-visit_2025-02-14.pdf",
    SHARED_CORPUS / "reports" / "ilacs_inspection" / "essex_ilacs_2023-08-11.pdf",
    SHARED_CORPUS / "reports" / "ilacs_inspection" / "essex_ilacs_2019-01-07.pdf",
    SHARED_CORPUS / "reports" / "ilacs_inspection" / "kent_ilacs_2026-02-02.pdf",
]


@pytest.mark.skipif(not all(p.exists() for p in ESSEX_KENT), reason="../shared/corpus is absent")
def test_a_comparison_side_as_it_stands_names_the_topic_from_the_latest_report_that_does(tmp_path, embedder) -> None:
    """Essex's latest report, a 2025 focused visit, says nothing of disabled children: its side quoted how its
    children's services work together. The side now comes from its latest graded inspection (2023), which does,
    not from an older one. "Disabled children's services" stays the subject; "children's services" alone is not."""
    pipeline = pipeline_over(ESSEX_KENT, tmp_path, embedder)
    answer = pipeline.ask("Compare disabled children's services in Essex and Kent.")
    assert answer.trace["route"] == "comparison"
    essex = [c for c in answer.citations if c.local_authority == "Essex"]
    assert essex and {c.report_id for c in essex} == {"essex-ilacs-2023-08-11"}
    assert all("disabled" in c.text.lower() for c in answer.citations)


def test_what_a_visit_that_never_was_looked_at_lists_the_visits_there_were(pipeline: QAPipeline) -> None:
    """"What did the 2023 focused visit to Trafford look at?" (it had none): refused, naming "What did the to look"
    as the topic other reports mention. Now: no visit then, and what each of its focused visits looked at."""
    answer = pipeline.ask("What did the 2023 focused visit to Trafford look at?")
    assert answer.trace["route"] == "structured:focus" and not answer.refused
    assert answer.answer.startswith("_No focused visit of Trafford's falls in the dates asked (2023-01-01 to 2023-12-31)")
    assert answer.citations and all(c.report_type == "focused_visit" for c in answer.citations)
    assert "Other reports mention" not in answer.answer


TRAFFORD_2019_2023 = [SHARED_CORPUS / "reports" / "ilacs_inspection" / "trafford_ilacs_2019-05-08.pdf", *TRAFFORD_2023]


@pytest.mark.skipif(not all(p.exists() for p in TRAFFORD_2019_2023), reason="../shared/corpus is absent")
def test_timelines_and_improvement_lists_are_of_childrens_services_not_the_area_send_inspection(tmp_path, embedder) -> None:
    """An area SEND inspection judges the local area partnership. "What improvements have been made in Trafford since
    2019?" set Trafford's December 2023 SEND inspection among its children's services reports, and "what
    improvements were needed?" gave the SEND inspection's list. SEND asked about, it is used."""
    pipeline = pipeline_over(TRAFFORD_2019_2023, tmp_path, embedder)
    made = pipeline.ask("What improvements have been made in Trafford since 2019?")
    assert made.trace["route"] == "timeline"
    assert made.trace["timeline_reports"] == ["trafford-ilacs-2019-05-08", "trafford-ilacs-2023-01-31"]
    needed = pipeline.ask("What improvements were needed in Trafford?")
    assert needed.trace["route"] == "structured:improvements"
    assert needed.trace["improvement_reports"] == ["trafford-ilacs-2023-01-31"]
    send = pipeline.ask("What improvements were needed in Trafford's SEND services?")
    assert send.trace["improvement_reports"] == ["trafford-area-send-2023-12-22"]


def test_the_best_authority_is_read_as_the_ones_judged_outstanding(pipeline: QAPipeline) -> None:
    """"Which authority has the best care leaver services?" quoted passages from whichever authorities matched; Ofsted
    grades rather than ranks, so the answer says so and lists those it judged outstanding for that area."""
    answer = pipeline.ask("Which local authority has the best care leaver services?")
    assert answer.trace["route"] == "structured:list"
    assert answer.answer.startswith("_Ofsted grades authorities; it does not rank them.")
    assert {c.local_authority for c in answer.citations} == {"Camden", "Islington"}
    worst = pipeline.ask("Which councils are the worst for help and protection?")
    assert "judged inadequate (its lowest grade) for help and protection" in worst.answer
    # something grades do not answer is searched for as usual
    narrower = pipeline.ask("Which authority has the best practice on return home interviews?")
    assert narrower.trace["route"] != "structured:list" and "does not rank" not in narrower.answer


def test_an_answer_says_first_when_the_reports_searched_never_mention_the_subject(pipeline: QAPipeline) -> None:
    """Trafford's 2023 inspection never mentions caseloads: the answer quoted its nearest findings (on changes of
    social worker) as if they answered. It now says first that the word is not in the reports searched."""
    answer = pipeline.ask("What did inspectors say about social workers' caseloads in Trafford in 2023?")
    assert not answer.refused and answer.trace["subject_unnamed"] == "caseloads"
    assert answer.answer.startswith("_The reports searched never mention \u2018caseloads\u2019")
    # a report that does use the word: no such note
    named = pipeline.ask("What did inspectors say about social workers' caseloads in Trafford in 2019?")
    assert "subject_unnamed" not in named.trace and "never mention" not in named.answer
    # a rare framing word is not the subject ("problem")
    framed = pipeline.ask("What's the problem with Trafford's front door in 2023?")
    assert "never mention" not in framed.answer


def test_a_passage_answer_never_quotes_what_a_visit_looked_at(pipeline: QAPipeline) -> None:
    """Trafford's 2024 focused visit lists what inspectors looked at ("Care leavers at risk of specific harm."):
    quoted as a finding, it read as one."""
    answer = pipeline.ask("Tell me about Trafford's care leavers.")
    assert "Care leavers at risk of specific harm" not in answer.answer
    assert not answer.refused


@pytest.mark.parametrize(
    ("question", "line"),
    [
        ("Tell me about Camden's care leavers.", "- Camden (ILACS inspection, 15 April 2025): The experiences and progress of care leavers: Outstanding ["),
        ("What did inspectors say about help and protection in Trafford?", "- Trafford (ILACS inspection, 3 August 2026): The experiences and progress of children who need help and protection: Inadequate ["),
    ],
)
def test_one_authoritys_judged_area_leads_with_the_grade_that_stands(pipeline: QAPipeline, question: str, line: str) -> None:
    """"Tell me about Halton's care leavers" quoted a finding on keeping in touch and never said that Halton's care
    leavers service was judged inadequate."""
    answer = pipeline.ask(question)
    assert answer.trace["route"] == "passage"
    # the block of grades that leads it (after the overall grade, where the inspection gave one) has the area's
    assert answer.answer.startswith("**Judgements**\n") and line in answer.answer.split("\n\n")[0]
    # the grade is cited from a quoted paragraph under the heading that gives it when there is one: no extra citation
    first = re.search(r"\[(\d+)\]", answer.answer).group(1)
    assert answer.answer.count(f"[{first}]") >= 2 or len(answer.citations) >= 2


def test_a_narrower_topic_is_led_by_the_grades_only_when_asked_where_it_stands_now(pipeline: QAPipeline) -> None:
    """Asked of one inspection (a year named), a narrower topic than a judged area is answered from its passages alone;
    asked with no time, it is where Camden stands now, and its grades lead."""
    dated = pipeline.ask("What did inspectors say about care leavers' accommodation in Camden in 2025?")
    assert not dated.refused and "**Judgements**" not in dated.answer
    now = pipeline.ask("What did inspectors say about care leavers' accommodation in Camden?")
    assert now.answer.startswith("**Judgements**\n- Camden (ILACS inspection, 15 April 2025): Overall effectiveness: Outstanding [1].")


# ---- places beyond the indexed authorities (chatbot/places.py) -----------------------------------------------------


@pytest.mark.parametrize(
    ("question", "where"),
    [
        ("What grade did Glasgow get?", "Glasgow is in Scotland"),
        ("What did Ofsted say about Conwy's fostering?", "Conwy is in Wales"),
        ("How is child protection rated in Fife?", "Fife is in Scotland"),
        ("Is Belfast good for kids in care?", "Belfast is in Northern Ireland"),
    ],
)
def test_a_place_outside_england_is_refused_by_name(pipeline: QAPipeline, question: str, where: str) -> None:
    answer = pipeline.ask(question)
    assert answer.refused and answer.citations == () and answer.trace["refusal"] == "authority-not-indexed"
    assert where in answer.answer and "Camden" in answer.answer  # what the reports do cover


def test_a_town_is_read_as_its_council_and_the_answer_says_so(pipeline: QAPipeline) -> None:
    answer = pipeline.ask("How good is Halifax at helping care leavers?")
    assert not answer.refused and {c.local_authority for c in answer.citations} == {"Calderdale"}
    assert answer.answer.startswith("_Reading \u2018Halifax\u2019 as Calderdale, its council._")


def test_a_town_in_a_council_not_indexed_is_refused_naming_the_council(pipeline: QAPipeline) -> None:
    answer = pipeline.ask("What grade did Preston get?")
    assert answer.refused and answer.citations == () and "Lancashire" in answer.answer


def test_a_place_outside_england_beside_an_indexed_one_is_left_out_and_said(pipeline: QAPipeline) -> None:
    answer = pipeline.ask("Compare care leavers in Cardiff and Camden")
    assert not answer.refused and {c.local_authority for c in answer.citations} == {"Camden"}
    assert answer.answer.startswith("_The indexed reports do not cover Cardiff (Wales), so this answer is about Camden only._")


def test_a_question_with_no_time_is_answered_from_the_latest_inspection(pipeline: QAPipeline) -> None:
    """Trafford: ILACS 2019, 2023 and 2026. "Are children in care looked after properly?" means now: the 2026 report."""
    answer = pipeline.ask("Are Trafford's children in care looked after properly?")
    assert not answer.refused and {c.report_id for c in answer.citations} == {"trafford-ilacs-2026-08-03"}
    assert answer.trace["time_policy"]["current_reports"] == ["trafford-ilacs-2026-08-03"]
    # ... and a question about change still reads every report
    changed = pipeline.ask("How has care for Trafford's children in care changed since 2019?")
    assert "time_policy" not in changed.trace


def test_a_town_no_data_places_is_searched_everywhere_and_said(pipeline: QAPipeline) -> None:
    """No list says which council covers Amersham: refusing lost answerable questions (every such dev probe was one),
    so every council's reports are searched, and the answer says why."""
    answer = pipeline.ask("Does anyone check on kids around Amersham whose parents have taken them out of school to teach them at home?")
    assert not answer.refused
    assert answer.answer.startswith("_I cannot tell which council covers Amersham, so this answer searches every council's reports")


def test_what_the_index_holds_on_an_authority_is_listed_from_the_catalogue(pipeline: QAPipeline) -> None:
    answer = pipeline.ask("Give me all the Buckinghamshire reports in the index, each with its date.")
    assert not answer.refused and answer.trace["route"] == "catalog"
    assert answer.answer.startswith("The index holds 5 reports on Buckinghamshire: 1 SIF inspection, 2 focused visits, 2 ILACS inspections.")
    assert {c.local_authority for c in answer.citations} == {"Buckinghamshire"} and len(answer.citations) == 5


# ---- where it stands now (issue 19) ---------------------------------------------------------------------------------


def test_where_it_stands_now_leads_with_the_areas_grade_and_the_sections_verdict(pipeline: QAPipeline) -> None:
    """A councillor's "are our children in care looked after properly?" means now: the latest inspection's grade for
    children in care, cited, then the opening of that inspection's section on it, then the passages."""
    answer = pipeline.ask("Are Trafford's children in care looked after properly?")
    assert answer.answer.startswith(
        "**Judgements**\n- Trafford (ILACS inspection, 3 August 2026): The experiences and progress of children in care: Good [1]."
    )
    assert answer.citations[0].report_id == "trafford-ilacs-2026-08-03"
    verdict = answer.citations[1]
    assert "children in care" in verdict.heading.lower()
    assert "fell_back" not in answer.trace["time_policy"]


def test_where_it_stands_now_states_the_overall_grade_whatever_the_subject(pipeline: QAPipeline) -> None:
    """Issue 19: "is Harrow's children's social care in trouble?" was answered with the leaders' grade (requires
    improvement) its best passages sat under, never saying that Harrow was judged inadequate overall. A present-tense
    question about one council states the overall grade that stands first, then the area's, then the passages."""
    answer = pipeline.ask("Are Buckinghamshire's social workers carrying too many cases?")
    assert not answer.refused
    assert answer.answer.startswith(
        "**Judgements**\n- Buckinghamshire (ILACS inspection, 14 May 2025): Overall effectiveness: Requires improvement to be good [1]."
    )
    first = answer.citations[0]
    assert first.report_id == "buckinghamshire-ilacs-2025-05-14" and "requires improvement" in first.text.lower()
    # the passages on the subject still follow
    assert any("social worker" in c.text.lower() for c in answer.citations[1:])


@pytest.mark.parametrize(
    "question",
    [
        "Do young people leaving care in Trafford get to know their personal adviser before they turn 18?",
        "When things at home aren't getting better for a child in Trafford, does the council act quickly enough?",
        "Does Trafford ever place children in homes that are not registered with Ofsted?",
        "Is Trafford still struggling to keep its social workers?",
    ],
)
def test_a_word_of_change_read_out_of_context_keeps_the_question_about_now(pipeline: QAPipeline, question: str) -> None:
    """"before they turn 18", "aren't getting better for a child", "ever", "still" took a present-tense question off
    where the council stands now, so an older report's closer wording could lead (Rochdale's "moving to court" was
    answered from a 2021 visit). Only a pointer at an earlier time or report does."""
    answer = pipeline.ask(question)
    assert answer.trace["time_policy"]["current_reports"] == ["trafford-ilacs-2026-08-03"]
    assert answer.citations[0].report_id == "trafford-ilacs-2026-08-03"


@pytest.mark.parametrize(
    "question",
    ["What did Trafford's previous inspection say about care leavers?", "What was care for Trafford's children in care like back then?"],
)
def test_a_pointer_at_an_earlier_report_is_not_about_now(pipeline: QAPipeline, question: str) -> None:
    assert "time_policy" not in pipeline.ask(question).trace


def test_a_kind_of_report_since_replaced_is_not_where_it_stands_now(pipeline: QAPipeline) -> None:
    """"Per the SIF report" asks about Buckinghamshire's 2018 SIF inspection (inadequate overall), not about where it
    stands now (requires improvement, 2025): its passages answer, with no grade above them as if it stood."""
    answer = pipeline.ask("How many care leavers does Buckinghamshire's Aftercare team support, per the SIF report?")
    assert not answer.refused and {c.report_id for c in answer.citations} == {"buckinghamshire-sif-2018-01-29-txt"}
    assert "**Judgements**" not in answer.answer and "time_policy" not in answer.trace


def test_passages_from_an_area_send_inspection_are_headed_by_its_outcome(pipeline: QAPipeline) -> None:
    """An area SEND inspection judges the local area partnership: its outcome heads its passages (Blackpool's only
    report; no time asked, so where it stands now), not a children's services grade."""
    answer = pipeline.ask("How long do families in Blackpool wait for help with their child's special needs?")
    assert not answer.refused
    assert answer.answer.startswith(
        "**Judgements**\n- Blackpool (area SEND inspection, 25 July 2024): Inspection outcome: inconsistent experiences and outcomes [1]."
    )
    assert "inconsistent experiences and outcomes" in answer.citations[0].text.lower()
    assert "Overall effectiveness" not in answer.answer


@pytest.mark.skipif(not all(p.exists() for p in TRAFFORD_2023), reason="../shared/corpus is absent")
def test_where_it_stands_now_takes_its_grade_from_the_kind_of_report_it_quotes(tmp_path, embedder) -> None:
    """Trafford's 2023 reports: an ILACS inspection in January, an area SEND inspection in December. SEND asked about,
    the SEND inspection's outcome heads its passages; children's services asked about, the ILACS inspection's grade."""
    pipeline = pipeline_over(TRAFFORD_2023, tmp_path, embedder)
    send = pipeline.ask("Do children with SEND in Trafford wait too long for assessments?")
    assert send.citations[1].report_id == "trafford-area-send-2023-12-22"
    assert send.answer.startswith("**Judgements**\n- Trafford (area SEND inspection, 22 December 2023): Inspection outcome: ")
    assert "Overall effectiveness" not in send.answer
    care = pipeline.ask("Are Trafford's social workers carrying too many cases?")
    assert care.answer.startswith("**Judgements**\n- Trafford (ILACS inspection, 31 January 2023): Overall effectiveness: ")
    assert "area SEND inspection" not in care.answer


HARROW = [SHARED_CORPUS / "reports" / "ilacs_inspection" / f"harrow_ilacs_{day}.pdf" for day in ("2020-03-16", "2025-03-04")]


@pytest.mark.skipif(not all(p.exists() for p in HARROW), reason="../shared/corpus is absent")
def test_an_inadequate_overall_grade_comes_with_the_areas_judged_inadequate(tmp_path, embedder) -> None:
    """Harrow 2025: inadequate overall because its care leavers' service was judged inadequate. "Is Harrow's
    children's social care in trouble?" gave the overall grade and the leaders' (requires improvement), never which
    area carried it down; the areas judged inadequate now follow, whatever was asked."""
    pipeline = pipeline_over(HARROW, tmp_path, embedder)
    answer = pipeline.ask("Are Harrow's social workers carrying too many cases?")
    block = answer.answer.split("\n\n")[0]
    assert block.startswith("**Judgements**\n- Harrow (ILACS inspection, 4 March 2025): Overall effectiveness: Inadequate [1].")
    assert "The experiences and progress of care leavers: Inadequate [" in block
    assert "harrow-ilacs-2020-03-16" not in {c.report_id for c in answer.citations}


def test_the_area_is_read_from_where_the_best_passages_sit_when_the_question_names_none(pipeline: QAPipeline) -> None:
    """No judged area is named ("the children the council looks after"): the headings of the latest inspection's best
    passages say which one it is about."""
    answer = pipeline.ask("When someone rings Trafford worried about a child, is something done quickly enough?")
    assert not answer.refused
    assert answer.answer.startswith(
        "**Judgements**\n- Trafford (ILACS inspection, 3 August 2026): "
        "The experiences and progress of children who need help and protection: Inadequate ["
    )


def test_a_question_framed_in_words_the_reports_never_use_is_an_overview(pipeline: QAPipeline) -> None:
    """"Are Trafford's children's services a shambles?" names no topic the reports discuss: how it is doing in
    general. "Are Trafford's bin rounds a shambles?" is framed the same way but names no part of the service. The
    route model, trained since on whole-service questions, takes the first before the framing rule; the rule alone
    (no route model) still does."""
    answer = pipeline.ask("Are Trafford's children's services a shambles?")
    assert answer.trace["route"] == "overview"
    assert answer.answer.startswith("**Trafford: ILACS inspection, 3 August 2026**")
    rules = QAPipeline(pipeline.index, pipeline.answerer, route_model=False)
    by_rule = rules.ask("Are Trafford's children's services a shambles?")
    assert by_rule.trace["route"] == "overview" and by_rule.trace["route_reason"].startswith("asks about one authority's service in words")
    for asker in (pipeline, rules):
        bins = asker.ask("Are Trafford's bin rounds a shambles?")
        assert bins.refused and bins.citations == ()


def test_a_follow_up_whose_subject_the_conversation_gives_is_not_read_as_a_whole_service_question(pipeline: QAPipeline) -> None:
    """"And over in Islington, is it any different?" after a question on Camden's out-of-hours service: the route model
    reads the question alone and took it for a comparison of the whole service (the overview); it is about the
    out-of-hours service."""
    first = pipeline.ask("How good is Camden's out-of-hours service?")
    answer = pipeline.ask("And over in Islington, is it any different?", [Turn("How good is Camden's out-of-hours service?", first.answer, first.state)])
    assert answer.trace["route"] != "overview"
    assert {c.local_authority for c in answer.citations} == {"Islington"}
    assert "emergency duty team" in answer.answer
