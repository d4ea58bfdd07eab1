"""The transcript and sources HTML: escaping, citation buttons, claims and highlighting."""

from __future__ import annotations

from datetime import date

import pytest

from core.models import Answer, Citation, Filters
from ui.conversation import Conversation, Exchange, describe_filters, parse_filters
from ui.render import (
    Surroundings,
    claim_for,
    highlight_paragraph,
    page_image_href,
    render_markdown,
    render_source,
    render_transcript,
    report_link,
    strip_searched_line,
    surroundings,
)

PARAGRAPH = (
    "Despite an increase in the number of care leavers needing support, the council is in touch with the vast "
    "majority of its care leavers. Many young people get some good, practical, financial and emotional support."
)


def citation(marker: str = "1", **changes) -> Citation:
    fields = dict(
        marker=marker,
        paragraph_id="trafford-2019:abc",
        report_id="trafford-2019",
        local_authority="Trafford",
        report_type="ilacs_inspection",
        published="2019-05-08",
        page=7,
        paragraph_number=28,
        heading="Trafford > The experiences and progress of care leavers",
        text=PARAGRAPH,
        source="/data/trafford.pdf",
        url="https://files.ofsted.gov.uk/v1/file/1",
        supporting_sentence="The council is in touch with the vast majority of its care leavers.",
    )
    fields.update(changes)
    return Citation(**fields)


ANSWER_TEXT = (
    "**Trafford: ILACS inspection, 8 May 2019**\n"
    "- The council is in touch with the vast majority of its care leavers [1].\n"
    "- Young people get practical and emotional support [1].\n\n"
    "_Searched 1 of 1 reports: Trafford; all report types; any date._"
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain", "<p>plain</p>"),
        ("**bold** and _it_", "<p><strong>bold</strong> and <em>it</em></p>"),
        ("- one\n- two", "<ul><li>one</li><li>two</li></ul>"),
        ("1. one\n2. two", "<ol><li>one</li><li>two</li></ol>"),
        ("# Title", "<h3>Title</h3>"),
        ("<script>alert(1)</script>", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"),
        (
            "[Ofsted](https://ofsted.gov.uk)",
            '<p><a href="https://ofsted.gov.uk" target="_blank" rel="noopener noreferrer">Ofsted</a></p>',
        ),
        ("[x](javascript:alert(1))", "<p>[x](javascript:alert(1))</p>"),
        ("care_leavers and snake_case", "<p>care_leavers and snake_case</p>"),
    ],
)
def test_render_markdown(text, expected):
    assert render_markdown(text) == expected


def test_markers_become_buttons_only_for_known_citations():
    html = render_markdown("A [1] and B [7].", lambda marker, n: f"<b>{marker}</b>" if marker == "1" else None)
    assert html == "<p>A <b>1</b> and B [7].</p>"


@pytest.mark.parametrize(
    ("marker", "occurrence", "claim"),
    [
        ("1", 0, "The council is in touch with the vast majority of its care leavers"),
        ("1", 1, "Young people get practical and emotional support"),
        ("2", 0, ""),
    ],
)
def test_claim_for_finds_the_sentence_carrying_a_marker(marker, occurrence, claim):
    assert claim_for(ANSWER_TEXT, marker, occurrence) == claim


def test_claim_for_takes_the_last_sentence_of_a_prose_line():
    assert claim_for("First point. Second point [2] and more [3].", "3") == "Second point and more"


def test_highlight_marks_the_supporting_sentence_only():
    html = highlight_paragraph(PARAGRAPH, ["the council is in touch with the vast majority of its care leavers"])
    assert html.count("<mark") == 1
    assert '<mark class="support">Despite an increase' in html
    assert "Many young people" in html.split("</mark>")[1]


def test_highlight_leaves_the_paragraph_plain_when_nothing_matches():
    assert "<mark" not in highlight_paragraph(PARAGRAPH, ["adoption timeliness in Camden"])


def test_transcript_renders_citation_buttons_and_the_searched_line_once():
    answer = Answer(
        answer=ANSWER_TEXT,
        refused=False,
        citations=(citation(),),
        trace={"searched": "Searched 1 of 1 reports: Trafford; all report types; any date."},
    )
    conversation = Conversation([Exchange(question="Care leavers in <Trafford>?", answer=answer)])
    html = render_transcript(conversation, "empty")
    assert "Care leavers in &lt;Trafford&gt;?" in html
    assert html.count('data-action="cite"') == 2
    assert 'data-occurrence="1"' in html
    assert 'aria-label="Source 1: Trafford, ILACS inspection, 8 May 2019, page 7, paragraph 28"' in html
    # the visible line, the answer's export and the conversation's export: never in the answer's text as well
    assert html.count("Searched 1 of 1 reports") == 3
    assert html.count('class="searched"') == 1
    assert 'class="searched"' in html
    assert "[^1]: Ofsted, Trafford" in html  # the export travels with the answer


def test_transcript_empty_state_and_errors():
    assert "Nothing yet" in render_transcript(Conversation(), "Nothing yet")
    html = render_transcript(Conversation([Exchange(question="q", error="Sorry <b>")]), "")
    assert 'role="alert"' in html and "Sorry &lt;b&gt;" in html


def test_strip_searched_line_uses_the_trace_not_the_wording():
    assert strip_searched_line("Body\n\n_Looked at X._", "Looked at X.") == "Body"
    assert strip_searched_line("Body\n\n_Other._", "Looked at X.") == "Body\n\n_Other._"


def test_a_refusal_says_what_was_searched_once():
    """A refusal states the search inside its sentence; the UI shows it under the answer, so it goes from the text."""
    searched = "Searched 5 of 14 reports: Trafford; all report types; any date."
    refusal = f"_No report of Trafford's falls in the dates asked; this answer searches any date._\n\nThe reports do not answer this. {searched}"
    stripped = strip_searched_line(refusal, searched)
    assert searched not in stripped
    assert stripped.endswith("The reports do not answer this.")
    assert stripped.startswith("_No report of Trafford's")
    more = f"The reports do not answer this. {searched} Other reports mention it: Trafford, 2023."
    assert strip_searched_line(more, searched) == "The reports do not answer this. Other reports mention it: Trafford, 2023."
    assert strip_searched_line("Nothing here.", "") == "Nothing here."


def test_source_card_shows_report_details_highlight_and_official_link():
    html = render_source(citation(), ["in touch with the vast majority of its care leavers"])
    assert "Trafford, ILACS inspection, 8 May 2019" in html
    assert "page 7, paragraph 28" in html
    assert "The experiences and progress of care leavers" in html
    assert "<mark" in html
    # the official file, opened at the cited page
    assert 'href="https://files.ofsted.gov.uk/v1/file/1#page=7"' in html
    assert "<img" not in html and "in-context" not in html


def test_source_card_shows_the_cited_page_with_the_paragraph_highlighted():
    html = render_source(citation(), [], page_image=True)
    src = "report/trafford-2019/page/7?paragraph=trafford-2019%3Aabc"
    assert page_image_href(citation()) == src
    assert f'<img src="{src}" alt="Page 7 of the report as printed, the cited paragraph highlighted"' in html
    assert "<figcaption>Page 7 of the report as printed: the cited paragraph is highlighted.</figcaption>" in html
    # the paragraph's text and the link come first, the page after
    assert html.index("blockquote") < html.index("report-link") < html.index("<figure")
    hostile = render_source(citation(report_id='x"><script>', paragraph_id="x:<b>"), [], page_image=True)
    assert "<script>" not in hostile and "<b>" not in hostile


def test_a_text_source_shows_the_paragraph_between_its_neighbours():
    context = Surroundings(before=("Care leavers <told> inspectors.",), after=("Leaders know this.",))
    html = render_source(citation(source="/data/trafford.txt"), ["in touch with the vast majority"], context=context)
    assert '<div class="in-context" role="group" aria-label="The paragraph in its surrounding text">' in html
    before, cited, after = html.index("&lt;told&gt;"), html.index("cited"), html.index("Leaders know this.")
    assert before < cited < after
    assert '<span class="sr-only">Cited paragraph: </span>' in html
    assert "<mark" in html and "<img" not in html


@pytest.mark.parametrize(
    ("position", "around", "expected"),
    [
        (2, 1, Surroundings(("b",), ("d",))),
        (2, 2, Surroundings(("a", "b"), ("d", "e"))),
        (0, 1, Surroundings((), ("b",))),
        (4, 1, Surroundings(("d",), ())),
        (9, 1, Surroundings()),
        (-1, 1, Surroundings()),
    ],
)
def test_surroundings(position, around, expected):
    assert surroundings(["a", "b", "c", "d", "e"], position, around) == expected


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        # the app's own route, by report id, at the cited page: no server path in the page
        ({"source": "/data/my report.pdf"}, "report/trafford-2019#page=7"),
        ({"source": "../shared/corpus/reports/trafford.PDF"}, "report/trafford-2019#page=7"),
        ({"source": "/data/trafford.txt", "report_id": "trafford-2019-txt"}, "report/trafford-2019-txt"),
        ({"source": "/data/my report.pdf", "report_id": "odd/id#1"}, "report/odd%2Fid%231#page=7"),
    ],
)
def test_report_link_falls_back_to_the_local_copy_by_report_id(changes, expected):
    href, text = report_link(citation(url=None, **changes))
    assert href == expected
    assert text == "Open the local copy of the report"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((["Trafford"], [], "", ""), Filters(local_authorities=("Trafford",))),
        (
            (None, ["focused_visit"], "2023-01-01", None),
            Filters(report_types=("focused_visit",), published_from=date(2023, 1, 1)),
        ),
    ],
)
def test_parse_filters(args, expected):
    assert parse_filters(*args) == expected


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [("31/01/2023", "", "YYYY-MM-DD"), ("2024-01-01", "2023-01-01", "after")],
)
def test_parse_filters_explains_bad_dates(start, end, message):
    with pytest.raises(ValueError, match=message):
        parse_filters([], [], start, end)


def test_describe_filters():
    assert describe_filters(Filters()) == "all authorities; all report types; any date"
    assert describe_filters(Filters(local_authorities=("Camden",), report_types=("focused_visit",))) == (
        "Camden; focused visit; any date"
    )


def test_conversation_history_holds_answered_turns_only():
    answered = Exchange(question="one", answer=Answer(answer="first", refused=False))
    failed = Exchange(question="two", error="Sorry")
    history = Conversation([answered, failed]).history()
    assert [(t.user, t.assistant) for t in history] == [("one", "first")]


def test_counts_agree_with_their_nouns():
    from core.text import counted

    assert counted(1, "report") == "1 report"
    assert counted(14, "report") == "14 reports"
    assert counted(1, "local authority") == "1 local authority"
    assert counted(6, "local authority") == "6 local authorities"
    assert counted(0, "inspection") == "0 inspections"
    assert counted(2, "day") == "2 days"
    assert counted(3, "child", "children") == "3 children"

