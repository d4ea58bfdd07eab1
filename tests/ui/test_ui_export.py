"""Markdown export: the answer with [^n] footnotes naming report, date and link."""

from __future__ import annotations

from core.models import Answer, Citation
from ui.export import answer_to_markdown, conversation_to_markdown, footnote


def citation(marker: str, **changes) -> Citation:
    fields = dict(
        marker=marker,
        paragraph_id=f"p{marker}",
        report_id="camden-2025",
        local_authority="Camden",
        report_type="ilacs_inspection",
        published="2025-04-15",
        page=3,
        paragraph_number=None,
        heading="Camden > The experiences and progress of children who need help and protection",
        text="Paragraph text.",
        source="/data/camden.pdf",
        url="https://files.ofsted.gov.uk/v1/file/9",
    )
    fields.update(changes)
    return Citation(**fields)


def test_footnote_names_report_date_place_and_link():
    assert footnote(citation("1", paragraph_number=12)) == (
        "[^1]: Ofsted, Camden, ILACS inspection, 15 April 2025, page 3, paragraph 12 "
        '("The experiences and progress of children who need help and protection"). '
        "<https://files.ofsted.gov.uk/v1/file/9>"
    )


def test_footnote_falls_back_to_the_local_file_by_name_alone():
    assert footnote(citation("2", url=None, heading="", published=None)).endswith(
        "Camden, ILACS inspection, date unknown, page 3. camden.pdf"
    )


def test_answer_markers_become_footnote_references():
    answer = Answer(
        answer="- Leaders act quickly [1].\n- Social workers visit [2]. See note [9].",
        refused=False,
        citations=(citation("1"), citation("2")),
    )
    markdown = answer_to_markdown("How is Camden doing?", answer, searched="Searched 1 of 9 reports: Camden.")
    lines = markdown.splitlines()
    assert lines[0] == "**Question:** How is Camden doing?"
    assert "- Leaders act quickly [^1]." in lines
    assert "- Social workers visit [^2]. See note [9]." in lines  # an unknown marker is left alone
    assert "_Searched 1 of 9 reports: Camden._" in lines
    assert [line[:5] for line in lines if line.startswith("[^")] == ["[^1]:", "[^2]:"]
    assert markdown.endswith("\n")


def test_refusal_exports_without_footnotes():
    answer = Answer(answer="The reports do not answer this.", refused=True)
    markdown = answer_to_markdown("q", answer)
    assert "[^" not in markdown
    assert "The reports do not answer this." in markdown


def test_conversation_export_keeps_each_answers_footnotes_apart():
    first = Answer(answer="- Leaders act quickly [1].", refused=False, citations=(citation("1"),))
    second = Answer(answer="- Visits are regular [1]. Plans are clear [2].", refused=False, citations=(citation("1", page=5), citation("2", page=6)))
    refused = Answer(answer="The reports do not answer this.", refused=True)
    markdown = conversation_to_markdown(
        [
            ("How is Camden doing?", first, None, "Searched 1 of 9 reports: Camden."),
            ("And its visits?", second, None, "Searched 1 of 9 reports: Camden."),
            ("What about Glasgow?", refused, None, "Searched 0 of 9 reports."),
            ("Broken?", None, "Sorry, something went wrong.", ""),
        ]
    )
    lines = markdown.splitlines()
    assert lines[0] == "# Questions and answers from Ofsted's inspection reports"
    assert [line for line in lines if line.startswith("## ")] == ["## 1. How is Camden doing?", "## 2. And its visits?", "## 3. What about Glasgow?", "## 4. Broken?"]
    assert "- Leaders act quickly [^1-1]." in lines
    assert "- Visits are regular [^2-1]. Plans are clear [^2-2]." in lines
    notes = [line.split(":")[0] for line in lines if line.startswith("[^")]
    assert notes == ["[^1-1]", "[^2-1]", "[^2-2]"]  # every reference has one footnote, none shared between answers
    assert any(line.startswith("[^2-2]: Ofsted, Camden, ILACS inspection, 15 April 2025, page 6") for line in lines)
    assert "The reports do not answer this." in lines and "_No answer: Sorry, something went wrong._" in lines

