"""The citation check, as a pure function over hand-built paragraphs and reports."""

from __future__ import annotations

import re
from datetime import date

import pytest

from chatbot.citations import MARKER, build_citation, check_citations, lexical_support, supports
from core.models import Paragraph, Report, ReportMetadata

TRAFFORD = Report(
    report_id="trafford-2023",
    source="/corpus/trafford_ilacs_2023-01-31.pdf",
    content_hash="0" * 64,
    title="Trafford ILACS",
    metadata=ReportMetadata(local_authority="Trafford", report_type="ilacs_inspection", published=date(2023, 1, 31)),
    pages=12,
    url="https://files.ofsted.gov.uk/v1/file/1",
)
CAMDEN = Report(
    report_id="camden-2025",
    source="/corpus/camden_ilacs_2025-04-15.pdf",
    content_hash="1" * 64,
    title="Camden ILACS",
    metadata=ReportMetadata(local_authority="Camden", report_type="ilacs_inspection", published=date(2025, 4, 15)),
)
CARE_LEAVERS = Paragraph(
    paragraph_id="trafford-2023:p1",
    report_id="trafford-2023",
    text="Care leavers are supported well by personal advisers who know them well and keep in touch with them.",
    page=8,
    order=40,
    paragraph_number=61,
    heading_path=("The experiences and progress of children in care and care leavers",),
)
FRONT_DOOR = Paragraph(
    paragraph_id="trafford-2023:p2",
    report_id="trafford-2023",
    text="The front door responds quickly to contacts and referrals about children at risk of harm.",
    page=2,
    order=10,
)
CAMDEN_CARE_LEAVERS = Paragraph(
    paragraph_id="camden-2025:p9",
    report_id="camden-2025",
    text="Care leavers in Camden are supported by personal advisers who are ambitious for them.",
    page=7,
    order=55,
)
SOURCES = {"1": CARE_LEAVERS, "2": FRONT_DOOR, "3": CAMDEN_CARE_LEAVERS}
REPORTS = {r.report_id: r for r in (TRAFFORD, CAMDEN)}


def markers_in(text: str) -> list[str]:
    return MARKER.findall(text)


def test_valid_markers_are_kept_and_renumbered_in_order_of_first_use() -> None:
    draft = (
        "The front door responds quickly to referrals [2]. "
        "Care leavers are supported by personal advisers [1]. "
        "The front door responds quickly to contacts [2]."
    )
    checked = check_citations(draft, SOURCES, REPORTS)
    assert [(c.marker, c.paragraph_id) for c in checked.citations] == [("1", FRONT_DOOR.paragraph_id), ("2", CARE_LEAVERS.paragraph_id)]
    assert markers_in(checked.text) == ["1", "2", "1"]
    assert checked.dropped == () and checked.removed_markers == ()


def test_unknown_markers_are_removed_and_listed() -> None:
    checked = check_citations("Care leavers are supported by personal advisers [1] [7].", SOURCES, REPORTS)
    assert markers_in(checked.text) == ["1"]
    assert checked.removed_markers == ("7",)
    assert [c.paragraph_id for c in checked.citations] == [CARE_LEAVERS.paragraph_id]


def test_a_sentence_citing_only_unknown_markers_is_dropped() -> None:
    checked = check_citations("Care leavers are supported by personal advisers [7]. The front door responds quickly [2].", SOURCES, REPORTS)
    assert "personal advisers" not in checked.text
    assert checked.removed_markers == ("7",)
    assert checked.dropped == ("Care leavers are supported by personal advisers.",)
    assert [c.paragraph_id for c in checked.citations] == [FRONT_DOOR.paragraph_id]
    assert markers_in(checked.text) == ["1"]


def test_unsupported_sentence_is_dropped() -> None:
    draft = "Care leavers are supported by personal advisers [1]. The council has doubled its budget for fostering allowances [1]."
    checked = check_citations(draft, SOURCES, REPORTS)
    assert "budget" not in checked.text
    assert checked.dropped == ("The council has doubled its budget for fostering allowances.",)
    assert len(checked.citations) == 1


def test_marker_on_a_paragraph_that_does_not_support_the_sentence_is_removed_but_a_supporting_one_kept() -> None:
    checked = check_citations("Care leavers are supported by personal advisers [2][1].", SOURCES, REPORTS)
    assert [c.paragraph_id for c in checked.citations] == [CARE_LEAVERS.paragraph_id]
    assert markers_in(checked.text) == ["1"]


def test_several_supporting_markers_on_one_sentence() -> None:
    checked = check_citations("Care leavers are supported by personal advisers [3] [1].", SOURCES, REPORTS)
    assert [(c.marker, c.paragraph_id) for c in checked.citations] == [
        ("1", CAMDEN_CARE_LEAVERS.paragraph_id),
        ("2", CARE_LEAVERS.paragraph_id),
    ]
    assert checked.text == "Care leavers are supported by personal advisers [1][2]."


def test_citation_text_is_the_stored_paragraph_not_the_draft_quote() -> None:
    checked = check_citations('Inspectors wrote that "care leavers are supported by personal advisers" [1].', SOURCES, REPORTS)
    (citation,) = checked.citations
    assert citation.text == CARE_LEAVERS.text
    assert "Inspectors wrote" in citation.supporting_sentence


def test_citation_carries_report_and_paragraph_fields() -> None:
    citation = check_citations("Care leavers are supported by personal advisers [1].", SOURCES, REPORTS).citations[0]
    assert citation.report_id == "trafford-2023"
    assert citation.local_authority == "Trafford"
    assert citation.report_type == "ilacs_inspection"
    assert citation.published == "2023-01-31"
    assert (citation.page, citation.paragraph_number) == (8, 61)
    assert citation.heading == "The experiences and progress of children in care and care leavers"
    assert citation.source == TRAFFORD.source and citation.url == TRAFFORD.url
    assert not re.search(r"\[\d+\]", citation.supporting_sentence)


def test_build_citation_without_a_report() -> None:
    citation = build_citation("4", FRONT_DOOR, None, "The front door is quick [4].")
    assert (citation.marker, citation.local_authority, citation.report_type, citation.published, citation.source) == ("4", None, "other", None, "")
    assert citation.supporting_sentence == "The front door is quick."


def test_group_headings_with_nothing_under_them_are_removed() -> None:
    draft = (
        "**Trafford: ILACS inspection, 31 January 2023**\n"
        "- Care leavers are supported by personal advisers [1]\n"
        "\n"
        "**Camden: ILACS inspection, 15 April 2025**\n"
        "- The council has doubled its budget for fostering allowances [3]\n"
    )
    checked = check_citations(draft, SOURCES, REPORTS)
    assert "Trafford" in checked.text and "personal advisers [1]" in checked.text
    assert "Camden" not in checked.text
    assert [c.paragraph_id for c in checked.citations] == [CARE_LEAVERS.paragraph_id]


def test_headings_and_lines_are_kept_when_supported() -> None:
    draft = (
        "**Camden: ILACS inspection, 15 April 2025**\n"
        "- Care leavers in Camden are supported by ambitious personal advisers [3]\n"
        "\n"
        "**Trafford: ILACS inspection, 31 January 2023**\n"
        "- The front door responds quickly to referrals [2]"
    )
    checked = check_citations(draft, SOURCES, REPORTS)
    assert checked.text.splitlines() == [
        "**Camden: ILACS inspection, 15 April 2025**",
        "- Care leavers in Camden are supported by ambitious personal advisers [1]",
        "",
        "**Trafford: ILACS inspection, 31 January 2023**",
        "- The front door responds quickly to referrals [2]",
    ]


def test_sentences_without_markers_are_left_alone() -> None:
    checked = check_citations("In summary: Care leavers are supported by personal advisers [1].", SOURCES, REPORTS)
    assert checked.text.startswith("In summary:")


def test_nothing_supported_gives_no_text_and_no_citations() -> None:
    checked = check_citations("The moon is made of green cheese [1].", SOURCES, REPORTS)
    assert (checked.text, checked.citations) == ("", ())


def test_embedding_similarity_can_rescue_a_paraphrase() -> None:
    sentence = "Young adults who grew up looked after get help from PAs [1]."
    assert not check_citations(sentence, SOURCES, REPORTS).citations

    def similar(a: str, b: str) -> float:  # a stand-in similarity: only this paragraph is close
        return 0.9 if b == CARE_LEAVERS.text else 0.0

    checked = check_citations(sentence, SOURCES, REPORTS, similarity=similar)
    assert [c.paragraph_id for c in checked.citations] == [CARE_LEAVERS.paragraph_id]
    assert not check_citations(sentence.replace("[1]", "[2]"), SOURCES, REPORTS, similarity=similar).citations


@pytest.mark.parametrize(
    ("sentence", "paragraph", "expected"),
    [
        ("Care leavers are supported by personal advisers [1].", CARE_LEAVERS.text, 1.0),  # markers do not count
        ("care leavers", "Care leavers are supported.", 1.0),
        ("the moon is green", CARE_LEAVERS.text, 0.0),
        ("Care leavers eat cheese", CARE_LEAVERS.text, 0.5),  # care, leaver of care, leaver, eat, cheese
        ("the of and", CARE_LEAVERS.text, 1.0),  # no content words: nothing to contradict
        ("Supporting leavers", "Care leavers are supported.", 1.0),  # stemmed
        ("", "anything", 1.0),
    ],
)
def test_lexical_support(sentence: str, paragraph: str, expected: float) -> None:
    assert lexical_support(sentence, paragraph) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("Care leavers are supported by personal advisers.", True),
        ("Care leavers eat cheese.", True),  # exactly the 0.5 threshold
        ("The budget for agency social workers doubled.", False),
    ],
)
def test_supports_lexically(sentence: str, expected: bool) -> None:
    assert supports(sentence, CARE_LEAVERS.text) is expected


def test_a_paragraphs_heading_counts_as_what_it_states() -> None:
    """An ILACS section heading gives the grade: a grade line may cite a paragraph under it."""
    graded = Paragraph(
        paragraph_id="trafford-2023:p9",
        report_id="trafford-2023",
        text="Personal advisers keep in touch with most young people and visit them regularly.",
        page=9,
        order=41,
        heading_path=("Inspection of Trafford", "The experiences and progress of care leavers: requires improvement to be good"),
    )
    line = "- The experiences and progress of care leavers: Requires improvement to be good [1]."
    checked = check_citations(line, {"1": graded}, {"trafford-2023": TRAFFORD})
    assert [c.paragraph_id for c in checked.citations] == ["trafford-2023:p9"]
    # the heading supports only what it says: another section's grade is not backed by it
    other = "- The impact of leaders on social work practice with children and families: Inadequate [1]."
    assert not check_citations(other, {"1": graded}, {"trafford-2023": TRAFFORD}).citations
