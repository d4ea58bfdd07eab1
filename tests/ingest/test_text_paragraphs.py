"""Paragraphs of plain-text exports (the SIF `.txt` reports): judgement tables and graded section headings.

A text export prints each judgement table row over several lines ("2. Children looked after and achieving" /
"permanence" / blank / "inadequate") and sets a section's grade beside its wrapped heading. Put back together,
the row or heading states the grade and can be cited for it; apart, the grade was a stray word.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from chatbot.structured import judgement_fact, states_grade
from ingest.blocks import build_paragraphs
from ingest.loaders import load_document
from ingest.text_formats import parse_plain_text
from tests.conftest import BUCKS_SIF_TXT, SHARED_CORPUS


def _texts(text: str) -> list[tuple[str, str]]:
    return [(p.kind, p.text) for p in parse_plain_text(text)]


def test_the_sample_sif_exports_judgement_table_gives_one_row_per_judgement() -> None:
    texts = [p.text for p in load_document(BUCKS_SIF_TXT).paragraphs]
    for row in (
        "Children who need help and protection: inadequate",
        "Children looked after and achieving permanence: inadequate",  # label wrapped over two lines
        "2.1 Adoption performance: good",
        "2.2 Experiences and progress of care leavers: requires improvement to be good",  # grade wrapped too
        "Leadership, management and governance: inadequate",
    ):
        assert row in texts
    assert "permanence: inadequate" not in texts and "be good" not in texts


def test_a_row_with_blank_lines_between_label_and_grade() -> None:
    text = "Children's services in Kent are good\n1. Children who need help and protection\n\nRequires improvement\n\n2. Children looked after and achieving\npermanence\n\nGood\n\n"
    assert ("paragraph", "1. Children who need help and protection: Requires improvement") in _texts(text)
    assert ("paragraph", "2. Children looked after and achieving permanence: Good") in _texts(text)


@pytest.mark.parametrize(
    "lines",
    [
        # the heading wrapped, then its grade
        ["The experiences and progress of", "children who need help and", "protection", "", "Requires improvement"],
        # the grade in a column beside the heading, interleaved line by line
        ["The experiences and progress of", "Requires", "children who need help and protection", "improvement"],
        ["The experiences and progress of", "Requires improvement", "children who need help and protection"],
    ],
)
def test_a_graded_section_heading_is_one_heading_with_its_grade(lines: list[str]) -> None:
    body = "Help and protection services overall require improvement, with a front door that responds well to most children."
    texts = _texts("\n".join([*lines, "", "Summary", body, ""]))
    assert ("heading", "The experiences and progress of children who need help and protection: Requires improvement") in texts
    assert ("paragraph", body) in texts


@pytest.mark.parametrize(
    ("text", "reads"),
    [
        ("The graded judgement for adoption performance is that it is\ngood. Adopters are well prepared.", "is that it is good."),
        ("The graded judgement for adoption performance is that it requires\nimprovement", "is that it requires improvement"),
    ],
)
def test_a_sentence_running_on_to_its_grade_is_left_as_written(text: str, reads: str) -> None:
    texts = _texts(text + "\n")
    assert all(": good" not in t and ": improvement" not in t for _, t in texts)
    assert any(reads in t for _, t in texts)


def test_a_numbered_finding_is_not_taken_for_a_table_row() -> None:
    text = "12. Inspectors found that most plans are good\nand regularly reviewed by managers.\n"
    assert _texts(text) == [("paragraph", "12. Inspectors found that most plans are good and regularly reviewed by managers.")]


def test_the_sample_sif_exports_findings_sit_under_their_judgement_section() -> None:
    """A SIF export's judgement section holds a "Summary" and an "Inspection findings" part; a finding's heading path
    names both, so its citation says which judgement it belongs to (before, every section's findings sat under one
    "Summary" heading and "Inspection findings", printed just above a numbered paragraph, was dropped)."""
    paragraphs = load_document(BUCKS_SIF_TXT).paragraphs

    def path_of(snippet: str) -> tuple[str, ...]:
        return next(p.heading_path for p in paragraphs if snippet in p.text)

    protection = "The experiences and progress of children who need help and protection: Inadequate"
    leadership = "Leadership, management and governance: Inadequate"
    assert path_of("There are widespread and serious weaknesses in some services") == (protection, "Summary")
    assert path_of("The local authority has not made sufficient progress since the last inspection of") == (protection, "Inspection findings")
    assert path_of("Despite a concerted effort to stabilise the workforce") == (leadership, "Summary")
    assert path_of("Inspectors found that senior managers within children") == (leadership, "Inspection findings")
    # the framing sections are sections of their own, not parents of what follows them
    assert path_of("Take immediate action to improve the quality of management oversight") == ("Recommendations",)
    # a line that gives a grade is a sentence to cite, even where it is set as a sub-heading
    graded = next(p for p in paragraphs if p.text.startswith("The graded judgement for adoption performance"))
    assert graded.kind == "paragraph"


@pytest.mark.parametrize(
    ("lines", "heading"),
    [
        (["Inspection findings", "11. The local authority has not made sufficient progress since 2014."], "Inspection findings"),
        (["Summary for children and young people", "\u2022 Services for children are still not all good enough."], "Summary for children and young people"),
    ],
)
def test_a_short_line_above_a_numbered_paragraph_or_bullet_is_a_heading(lines: list[str], heading: str) -> None:
    assert ("heading", heading) in _texts("\n".join(lines) + "\n")


def test_a_lone_symbol_line_is_not_a_heading() -> None:
    assert all(kind != "heading" for kind, _ in _texts("\u2212\n\u2022 Children are seen promptly by social workers.\n"))


@pytest.mark.corpus
@pytest.mark.skipif(not SHARED_CORPUS.exists(), reason="../shared/corpus is absent")
def test_no_sif_exports_findings_are_left_under_the_area_information() -> None:
    """Over the 150 SIF exports, "Inspection findings" is always a heading, never a dropped line, and the findings of
    the judgement sections never sit under "Information about this local authority area" (framing that the
    timeline's summaries skip): before, 5,125 paragraphs did."""
    exports = sorted(Path(SHARED_CORPUS / "reports").rglob("*.txt"))
    misplaced: list[str] = []
    findings = 0
    for path in exports:
        paragraphs = load_document(path).paragraphs
        findings += sum(p.kind == "heading" and p.text == "Inspection findings" for p in paragraphs)
        misplaced += [
            f"{path.name}: {p.text[:60]}"
            for p in paragraphs
            if len(p.heading_path) == 1 and p.heading_path[0].startswith("Information about this local authority") and p.paragraph_number
        ]
    assert findings >= 280  # 291 in the 150 exports
    assert not misplaced, misplaced[:10]


@pytest.mark.corpus
@pytest.mark.skipif(not SHARED_CORPUS.exists(), reason="../shared/corpus is absent")
def test_every_sif_exports_grades_are_stated_by_a_paragraph() -> None:
    """Over the corpus's 150 SIF text exports, each judgement the metadata holds is stated by a paragraph that can be
    cited for it (before, 142 of them had no paragraph stating the leadership grade, and 48 none stating the
    overall judgement)."""
    exports = sorted(Path(SHARED_CORPUS / "reports").rglob("*.txt"))
    assert len(exports) >= 100
    unstated: list[str] = []
    for path in exports:
        document = load_document(path)
        for judgement in document.report.metadata.judgements:
            paragraph = judgement_fact(document.report, judgement, document.paragraphs).paragraph
            if paragraph is None or not states_grade(paragraph.text, judgement.grade):
                unstated.append(f"{path.name}: {judgement.label} - {judgement.grade}")
    assert not unstated, unstated[:20]


@pytest.mark.skipif(not SHARED_CORPUS.exists(), reason="../shared/corpus is absent")
@pytest.mark.parametrize(
    ("name", "grade"),
    [
        ("barnet_sif_2017-07-07.txt", "Inadequate"),
        ("kent_sif_2017-06-13.txt", "Requires improvement"),
        ("bury_sif_2016-05-16.txt", "Good"),
        ("bexley_sif_2014-05-23.txt", "Inadequate"),  # its judgement table gives the LSCB grade: read once, not twice
    ],
)
def test_a_sif_reports_lscb_review_grade_is_read_and_stated(name: str, grade: str) -> None:
    """The LSCB review's grade comes after the judgement table ("The Local Safeguarding Children Board is
    inadequate"); it is a judgement of its own, never the overall one."""
    path = SHARED_CORPUS / "reports" / "sif_inspection" / name
    document = load_document(path)
    lscb = [j for j in document.report.metadata.judgements if j.area == "lscb"]
    assert [j.grade for j in lscb] == [grade]
    paragraph = judgement_fact(document.report, lscb[0], document.paragraphs).paragraph
    assert paragraph is not None and "Safeguarding Children Board" in paragraph.text and states_grade(paragraph.text, grade)


def _built(text: str) -> list[tuple[str, str]]:
    return [(p.kind, p.text) for p in build_paragraphs("r", parse_plain_text(text))]


@pytest.mark.parametrize(
    ("marker", "text"),
    [
        ("\uf06e", "the quality of referrals from partner agencies"),  # Wingdings' square, mapped into the Private Use Area
        ("\uf0a7", "the use of qualitative information"),
        ("\u2500", "in primary schools is 8% (the national average is 15%)"),  # a text export's sub-point dash
        ("\u2015", "in secondary schools is 12.1% (the national average is 13.9%)."),
        ("\u2212", "children\u2019s rights to an advocate"),
    ],
)
def test_a_symbol_font_or_dash_bullet_is_a_bullet_without_its_glyph(marker: str, text: str) -> None:
    """Before parser 12, 1,286 corpus paragraphs began with U+F06E, a glyph no font shows, and were quoted with it."""
    found = _built(f"Inspectors looked at:\n{marker} {text}\n{marker} another point inspectors looked at\n")
    assert ("bullet", text) in found
    assert not any(t.startswith(marker) for _, t in found)
