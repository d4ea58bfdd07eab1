"""The extractive answerer: labels and composition as pure functions; scoring and drafting with the real embedder."""

from __future__ import annotations

import re
from datetime import date

import pytest

from chatbot.extractive import (
    Evidence,
    ExtractiveAnswerer,
    ScoredSentence,
    about_the_visit,
    best_first,
    compose,
    in_scope_list,
    report_label,
    score_sentences,
    with_antecedents,
    with_continuations,
    with_contrasts,
)
from chatbot.query import QueryPlan, expand_terms
from core.models import Paragraph, Report, ReportMetadata


def report(report_id: str, authority: str | None, report_type: str, published: date | None) -> Report:
    return Report(report_id, f"/corpus/{report_id}.pdf", "0" * 64, report_id, ReportMetadata(authority, report_type, published=published))


TRAFFORD_2023 = report("trafford-2023", "Trafford", "ilacs_inspection", date(2023, 1, 31))
TRAFFORD_2024 = report("trafford-2024", "Trafford", "focused_visit", date(2024, 8, 1))
CAMDEN_2025 = report("camden-2025", "Camden", "ilacs_inspection", date(2025, 4, 15))


def evidence(marker: str, rep: Report, text: str, order: int = 0, rank: int = 0) -> Evidence:
    paragraph = Paragraph(f"{rep.report_id}:{marker}", rep.report_id, text, page=1, order=order)
    return Evidence(marker, paragraph, rep, rank, 0.5)


@pytest.mark.parametrize(
    ("rep", "expected"),
    [
        (TRAFFORD_2023, "Trafford: ILACS inspection, 31 January 2023"),
        (TRAFFORD_2024, "Trafford: focused visit, 1 August 2024"),
        (report("x", None, "other", None), "Unknown authority: other report, undated"),
        (report("y", "Blackpool", "area_send_inspection", date(2024, 7, 25)), "Blackpool: area SEND inspection, 25 July 2024"),
    ],
)
def test_report_label(rep: Report, expected: str) -> None:
    assert report_label(rep) == expected


def test_compose_groups_by_report_newest_first_within_an_authority() -> None:
    old = evidence("1", TRAFFORD_2023, "Leaders know their services well. Supervision is regular.", order=5)
    new = evidence("2", TRAFFORD_2024, "After-care workers know young people well.", order=3)
    camden = evidence("3", CAMDEN_2025, "Personal advisers are ambitious for care leavers.", order=9)
    chosen = [
        ScoredSentence("Supervision is regular.", old, 0.9, 0.8),
        ScoredSentence("Personal advisers are ambitious for care leavers.", camden, 0.8, 0.7),
        ScoredSentence("Leaders know their services well.", old, 0.7, 0.6),
        ScoredSentence("After-care workers know young people well.", new, 0.6, 0.5),
    ]
    assert compose(chosen).splitlines() == [
        "**Trafford: focused visit, 1 August 2024**",
        "- After-care workers know young people well. [2]",
        "",
        "**Trafford: ILACS inspection, 31 January 2023**",
        "- Leaders know their services well. [1]",  # paragraph order, not score order
        "- Supervision is regular. [1]",
        "",
        "**Camden: ILACS inspection, 15 April 2025**",
        "- Personal advisers are ambitious for care leavers. [3]",
    ]


def test_compose_opens_each_report_with_the_paragraph_of_its_best_sentence() -> None:
    """The sentence that best answers the question comes first, with the rest of its paragraph in text order (a
    qualifier stays after what it qualifies), then the report's other paragraphs in the report's order."""
    early = evidence("1", TRAFFORD_2023, "Leaders have a clear plan for the front door.", order=2)
    best = evidence("2", TRAFFORD_2023, "Contacts are screened promptly. However, thresholds are not always applied consistently.", order=7)
    late = evidence("3", TRAFFORD_2023, "Managers oversee referrals closely.", order=9)
    visit = evidence("4", TRAFFORD_2024, "Strategy meetings are timely. Decisions in the front door are sound.", order=4)
    chosen = [
        ScoredSentence("Leaders have a clear plan for the front door.", early, 0.6, 0.5),
        ScoredSentence("Managers oversee referrals closely.", late, 0.5, 0.4),
        # the qualifier scores higher than the finding it qualifies, and still follows it
        ScoredSentence("However, thresholds are not always applied consistently.", best, 0.95, 0.9),
        ScoredSentence("Contacts are screened promptly.", best, 0.7, 0.6),
        ScoredSentence("Strategy meetings are timely.", visit, 0.4, 0.3),
        ScoredSentence("Decisions in the front door are sound.", visit, 0.8, 0.7),
    ]
    assert compose(chosen).splitlines() == [
        "**Trafford: focused visit, 1 August 2024**",  # the newest report of the authority still leads
        "- Strategy meetings are timely. [4]",
        "- Decisions in the front door are sound. [4]",
        "",
        "**Trafford: ILACS inspection, 31 January 2023**",
        "- Contacts are screened promptly. [2]",
        "- However, thresholds are not always applied consistently. [2]",
        "- Leaders have a clear plan for the front door. [1]",
        "- Managers oversee referrals closely. [3]",
    ]


def test_best_first_keeps_one_paragraph_in_text_order_and_the_others_in_report_order() -> None:
    first = evidence("1", TRAFFORD_2023, "Supervision is regular. Caseloads are manageable.", order=1)
    second = evidence("2", TRAFFORD_2023, "Care leavers are supported well.", order=5)
    third = evidence("3", TRAFFORD_2023, "Personal advisers know young people well.", order=8)
    sentences = [
        ScoredSentence("Caseloads are manageable.", first, 0.5, 0.5),
        ScoredSentence("Personal advisers know young people well.", third, 0.9, 0.9),
        ScoredSentence("Supervision is regular.", first, 0.6, 0.6),
        ScoredSentence("Care leavers are supported well.", second, 0.7, 0.7),
    ]
    assert [s.text for s in best_first(sentences)] == [
        "Personal advisers know young people well.",
        "Supervision is regular.",
        "Caseloads are manageable.",
        "Care leavers are supported well.",
    ]
    assert best_first([]) == []


def test_compose_says_a_point_of_the_improvement_list_is_one() -> None:
    point = Paragraph("t:9", "trafford-2023", "The quality of pathway plans for care leavers.", page=2, order=9,
                      kind="bullet", heading_path=("Inspection of Trafford", "What needs to improve?"))
    finding = evidence("2", TRAFFORD_2023, "Pathway plans are reviewed regularly.", order=20)
    chosen = [
        ScoredSentence("The quality of pathway plans for care leavers.", Evidence("1", point, TRAFFORD_2023, 0, 0.5), 0.9, 0.8),
        ScoredSentence("Pathway plans are reviewed regularly.", finding, 0.8, 0.7),
    ]
    assert compose(chosen).splitlines()[1:3] == [
        "- What needs to improve: The quality of pathway plans for care leavers. [1]",
        "- Pathway plans are reviewed regularly. [2]",
    ]


def test_what_the_grades_mean_is_not_a_finding(embedder) -> None:
    """SIF reports explain the grade scale ("An outstanding LSCB is highly influential ..."): quoted, it read as the
    report's verdict on the authority's own board."""
    scale = Paragraph("t:1", "trafford-2023", "An outstanding LSCB is highly influential in improving the care and protection of children.",
                      page=9, order=90, heading_path=("What the inspection judgements mean", "The LSCB"))
    descriptor = evidence("2", TRAFFORD_2023, "An LSCB that is inadequate does not demonstrate that it has effective arrangements in place.")
    finding = evidence("3", TRAFFORD_2023, "The LSCB does not routinely review local policies and procedures.")
    question = evidence("4", TRAFFORD_2023, "What does the LSCB need to improve?")
    scored = score_sentences("LSCB", [Evidence("1", scale, TRAFFORD_2023, 0, 0.5), descriptor, finding, question], embedder)
    assert [s.text for s in scored] == ["The LSCB does not routinely review local policies and procedures."]


def test_compose_of_nothing_is_empty() -> None:
    assert compose([]) == ""


# ---- with the real embedder ------------------------------------------------------------------------------


CARE_LEAVERS = (
    "Care leavers are supported well by personal advisers who keep in touch with them. "
    "Most care leavers live in suitable accommodation that meets their needs."
)
FRONT_DOOR = "The front door responds quickly to contacts and referrals about children at risk of harm."


def test_score_sentences_prefers_the_relevant_sentence(embedder) -> None:
    items = [evidence("1", TRAFFORD_2023, FRONT_DOOR), evidence("2", TRAFFORD_2023, CARE_LEAVERS, rank=1)]
    scored = score_sentences("care leavers accommodation", items, embedder)
    assert {s.text for s in scored} == {FRONT_DOOR, *re.split(r"(?<=\.) ", CARE_LEAVERS)}
    best = max(scored, key=lambda s: s.score)
    assert best.text == "Most care leavers live in suitable accommodation that meets their needs."
    assert best.evidence.marker == "2"
    front_door = next(s for s in scored if s.text == FRONT_DOOR)
    assert front_door.similarity < best.similarity


def test_a_glossary_meaning_counts_only_as_a_whole_phrase(embedder) -> None:
    """"The front door" means contacts, referrals and the multi-agency safeguarding hub: a sentence on the
    multi-agency safeguarding partnership shares three of the hub's words but is not about the front door (Kent's 2022
    answer quoted it)."""
    partnership = evidence("1", TRAFFORD_2023, "The local authority has brought strong leadership to the local multi-agency safeguarding partnership.")
    front_door = evidence("2", TRAFFORD_2023, "Children's needs are responded to swiftly by practitioners in the front door.")
    hub = evidence("3", TRAFFORD_2023, "Decisions in the multi-agency safeguarding hub are timely.")
    scored = {s.evidence.marker: s for s in score_sentences(expand_terms("front door"), [partnership, front_door, hub], embedder)}
    assert scored["2"].overlap == scored["3"].overlap == 1.0  # the words asked, or a whole meaning of them
    assert scored["1"].overlap == 0.0


def test_a_question_word_counts_in_another_form_of_it(embedder) -> None:
    """"How has the stability of the workforce changed?": "the workforce is stable" says it (Trafford's 2019 sentence
    scored half the overlap of a sentence that only named "workforce stability", and was left out of the timeline)."""
    stable = evidence("1", TRAFFORD_2023, "The workforce in Trafford is stable, with low rates of staff turnover and sickness.")
    plan = evidence("2", TRAFFORD_2023, "There is a comprehensive workforce development plan and recruitment strategy in place.")
    scored = {s.evidence.marker: s for s in score_sentences("stability workforce", [stable, plan], embedder)}
    assert scored["1"].overlap == 1.0
    assert scored["2"].overlap < 1.0


def test_a_question_word_counts_in_its_derived_forms(embedder) -> None:
    """"How good is Torbay at finding adoptive families?": "adopted" and "adoption" say "adoptive" (the Snowball stem),
    so the sentence on adoption is not outscored on overlap by one that only names "families" (Torbay's answer quoted
    early help and said the reports "never mention 'adoptive'")."""
    adopted = evidence("1", TRAFFORD_2023, "A significant number of children who cannot return home are adopted successfully.")
    families = evidence("2", TRAFFORD_2023, "Approximately 10,000 families are now receiving help from family hubs.")
    scored = {s.evidence.marker: s for s in score_sentences("finding adoptive families for children", [adopted, families], embedder)}
    assert scored["1"].overlap > scored["2"].overlap
    assert scored["1"].score > scored["2"].score


def test_score_sentences_without_evidence(embedder) -> None:
    assert score_sentences("care leavers", [], embedder) == []


def test_draft_cites_only_offered_markers(embedder) -> None:
    items = [evidence("1", TRAFFORD_2023, CARE_LEAVERS), evidence("2", CAMDEN_2025, FRONT_DOOR, rank=1)]
    plan = QueryPlan(question="What about care leavers?", standalone="What about care leavers?", topic="care leavers")
    draft = ExtractiveAnswerer(embedder).draft(plan, items)
    used = set(re.findall(r"\[(\d+)\]", draft.text))
    assert used and used <= {"1", "2"}
    assert "1" in used
    assert draft.confidence == pytest.approx(max(s.similarity for s in draft.sentences))
    assert all(s.text in draft.text for s in draft.sentences)


def test_draft_without_evidence_is_empty(embedder) -> None:
    plan = QueryPlan(question="care leavers", standalone="care leavers", topic="care leavers")
    draft = ExtractiveAnswerer(embedder).draft(plan, [])
    assert (draft.text, draft.confidence) == ("", 0.0)


def test_another_paragraph_must_name_the_questions_telling_words() -> None:
    """A second paragraph scoring almost as well is added only when it names the question's words about as well as
    the best: "custody" decides, not "after-care workers"."""
    general = evidence("1", TRAFFORD_2024, "After-care workers know young people well and visit them regularly.", order=1)
    custody = evidence("2", TRAFFORD_2024, "For young people in custody, after-care workers make persistent efforts to visit.", order=2)
    scored = [
        ScoredSentence(custody.paragraph.text, custody, 0.80, 0.7, overlap=0.9),
        ScoredSentence(general.paragraph.text, general, 0.79, 0.7, overlap=0.4),
    ]
    plan = QueryPlan(
        question="How do after-care workers support young people in custody?",
        standalone="How do after-care workers support young people in custody?",
        topic="after-care workers support young people in custody",
    )
    strict = ExtractiveAnswerer(embedder=None)._select(scored, plan)
    assert [s.evidence.marker for s in strict] == ["2"]
    lenient = ExtractiveAnswerer(embedder=None, other_overlap=0.0)._select(scored, plan)
    assert [s.evidence.marker for s in lenient] == ["2", "1"]


def test_a_qualifying_sentence_follows_what_it_qualifies() -> None:
    text = (
        "Homeless 16- and 17-year-olds receive prompt and thorough assessments. Children are helped to return home when safe. "
        "However, there are serious delays in agreeing for these children to come into care. Leaders know this."
    )
    item = evidence("1", TRAFFORD_2024, text)
    sentences = [ScoredSentence(t, item, score, 0.5) for t, score in zip(re.split(r"(?<=\.) ", text), (0.9, 0.5, 0.4, 0.3), strict=True)]
    chosen = with_contrasts(sentences[:1], sentences)
    assert [s.text for s in chosen] == [sentences[0].text, sentences[2].text]
    # nothing to add when no later sentence qualifies the quote
    assert with_contrasts(sentences[2:3], sentences) == sentences[2:3]
    assert with_contrasts([], sentences) == []


def test_a_sentence_that_carries_on_from_a_quoted_one_is_quoted_with_it() -> None:
    """Harrow: "Children who go missing ... are responded to effectively." was quoted without "For these children, the
    multidisciplinary adolescent safeguarding team is a valuable resource." Only the very next sentence, and only when
    it refers back or draws from it."""
    text = (
        "Children who go missing or are at risk of exploitation are recognised and responded to effectively. "
        "For these children, the multidisciplinary adolescent safeguarding team is a valuable resource. "
        "Return home interviews are offered. This area of practice has improved since the last inspection. "
        "Leaders know their services well."
    )
    item = evidence("1", TRAFFORD_2024, text)
    sentences = [ScoredSentence(t, item, score, 0.5) for t, score in zip(re.split(r"(?<=\.) ", text), (0.9, 0.3, 0.6, 0.2, 0.5), strict=True)]
    chosen = with_continuations([sentences[0], sentences[2]], sentences)
    assert [s.text for s in chosen] == [sentences[0].text, sentences[2].text, sentences[1].text, sentences[3].text]
    # a following sentence that starts afresh is not added
    assert with_continuations([sentences[3]], sentences) == [sentences[3]]
    assert with_continuations([], sentences) == []


def test_a_qualifier_is_never_quoted_without_what_it_qualifies() -> None:
    """York's "take-up of return home interviews is low" was quoted without the sentence it qualifies."""
    text = (
        "Children who go missing are offered a return home interview. "
        "However, take-up of return home interviews is low. Leaders know this."
    )
    item = evidence("1", TRAFFORD_2024, text)
    sentences = [ScoredSentence(t, item, score, 0.5) for t, score in zip(re.split(r"(?<=\.) ", text), (0.3, 0.9, 0.2), strict=True)]
    chosen = with_antecedents(sentences[1:2], sentences)
    assert [s.text for s in chosen] == [sentences[1].text, sentences[0].text]


def test_a_short_sentence_with_a_verb_can_be_quoted_but_not_a_fragment(embedder) -> None:
    text = "Joint commissioning is improving. Key strengths. Partners identify needs well and plan services together."
    scored = score_sentences("joint commissioning", [evidence("1", TRAFFORD_2023, text)], embedder)
    quoted = {s.text for s in scored}
    assert "Joint commissioning is improving." in quoted
    assert "Key strengths." not in quoted


@pytest.mark.parametrize(
    ("sentence", "question", "expected"),
    [
        ("Inspectors looked at the quality of plans.", "What about care leavers?", True),
        ("This visit was carried out in line with the ILACS framework.", "What about care leavers?", True),
        ("The methodology for this visit was in line with the ILACS framework.", "What about children in care?", True),
        ("This visit was carried out in line with the ILACS framework.", "How was the visit carried out?", False),  # asked
        ("Care leavers are well supported.", "What about care leavers?", False),
        ("In addition, inspectors spoke to care-experienced young people and their workers.", "What about care leavers?", True),
        ("They also looked at performance management and quality assurance information.", "What about audits?", True),
        ("This was the first focused visit since the full inspection in December 2022.", "What about care leavers?", True),
        ("They also have a clear plan for care leavers.", "What about care leavers?", False),  # leaders, not inspectors
        ("This was the first time that leaders had audited plans.", "What about audits?", False),
    ],
)
def test_about_the_visit(sentence: str, question: str, expected: bool) -> None:
    assert about_the_visit(sentence, question) is expected


def test_a_list_of_what_the_visit_looked_at_is_its_scope_not_a_finding() -> None:
    def para(order: int, text: str, kind: str = "paragraph") -> Paragraph:
        return Paragraph(f"p{order}", "r", text, 1, order, kind)  # type: ignore[arg-type]

    paragraphs = [
        para(0, "Inspectors looked at the local authority's arrangements for care leavers. This included:"),
        para(1, "Staying in touch.", "bullet"),
        para(2, "Care leavers at risk of specific harm.", "bullet"),
        para(3, "Headline findings", "heading"),
        para(4, "Leaders have strengthened the service and now know it well:"),
        para(5, "Care leavers are seen often.", "bullet"),
    ]
    assert [in_scope_list(p, paragraphs) for p in paragraphs] == [False, True, True, False, False, False]
