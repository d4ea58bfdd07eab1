"""HTML for the transcript and the sources panel: pure functions over our own types, no gradio.

Everything that came from a report, a user or a model is escaped here; the only markup is ours.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape
from urllib.parse import quote

from core.models import Citation
from core.text import split_sentences
from ui.conversation import Conversation, Exchange
from ui.export import answer_to_markdown, conversation_to_markdown
from ui.labels import report_label
from vectorstore.keyword import tokenize

MARKER = re.compile(r"\[(\d{1,3})\]")
_MARKER_WITH_SPACE = re.compile(r"\s*\[\d{1,3}\]")
_LINK = re.compile(r"\[([^\]\[]+)\]\((https?://[^)\s]+)\)")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_ITALIC = re.compile(r"(?<![\w*])[_*](?![\s_*])(.+?)(?<![\s_*])[_*](?![\w*])")
_CODE = re.compile(r"`([^`]+)`")
_BULLET = re.compile(r"^\s*[-*]\s+(.*)$")
_NUMBERED = re.compile(r"^\s*\d+[.)]\s+(.*)$")
_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
_LIST_PREFIX = re.compile(r"^\s*(?:[-*]|\d+[.)])\s+")

REPORT_ROUTE = "report/"  # ui.serving serves each ingested report's file at /report/{report_id}
PAGE_ROUTE = "/page/"  # ... and a page of it as a PNG at /report/{report_id}/page/{page}?paragraph={paragraph_id}

THINKING = '<p class="thinking">Searching the reports…</p>'

MarkerHtml = Callable[[str, int], str | None]  # (marker, occurrence) -> markup, or None to leave the text


# ---- labels ----------------------------------------------------------------------------------------




def location_label(citation: Citation) -> str:
    """'page 9, paragraph 38' (paragraph only where Ofsted numbered it)."""
    where = f"page {citation.page}"
    if citation.paragraph_number is not None:
        where += f", paragraph {citation.paragraph_number}"
    return where


def report_link(citation: Citation) -> tuple[str, str]:
    """(href, link text): the official Ofsted file where known, else the local copy the app serves by report id;
    either opens at the cited page (Ofsted's files are PDFs; a browser's PDF viewer reads `#page=N`)."""
    if citation.url:
        return _at_page(citation.url, citation.page), "Open the report on the Ofsted website"
    if citation.source.startswith(("http://", "https://")):
        return citation.source, "Open the report"
    return local_file_href(citation), "Open the local copy of the report"


def _at_page(url: str, page: int) -> str:
    return f"{url}#page={page}" if page > 0 and "#" not in url else url


def local_file_href(citation: Citation) -> str:
    """The app's own route for a report's file, by id (relative, so it works behind a proxy; no server path in the
    page), opening a PDF at the cited page."""
    href = REPORT_ROUTE + quote(citation.report_id, safe="")
    if citation.source.lower().endswith(".pdf") and citation.page > 0:
        href += f"#page={citation.page}"
    return href


def page_image_href(citation: Citation) -> str:
    """The app's route for the cited page as a PNG with the paragraph highlighted (ui.serving.page_route)."""
    return (
        REPORT_ROUTE
        + quote(citation.report_id, safe="")
        + PAGE_ROUTE
        + str(citation.page)
        + "?paragraph="
        + quote(citation.paragraph_id, safe="")
    )


# ---- Markdown ----------------------------------------------------------------------------------------


def _inline(text: str, marker_html: MarkerHtml | None, counts: dict[str, int]) -> str:
    """Escape, then the few inline forms answers use: links, bold, italics, code and citation markers."""
    pieces: list[str] = []
    position = 0
    for match in _LINK.finditer(text):
        pieces.append(_inline_plain(text[position : match.start()], marker_html, counts))
        pieces.append(
            f'<a href="{escape(match.group(2))}" target="_blank" rel="noopener noreferrer">{escape(match.group(1))}</a>'
        )
        position = match.end()
    pieces.append(_inline_plain(text[position:], marker_html, counts))
    return "".join(pieces)


def _inline_plain(text: str, marker_html: MarkerHtml | None, counts: dict[str, int]) -> str:
    html = escape(text, quote=False)
    html = _CODE.sub(r"<code>\1</code>", html)
    html = _BOLD.sub(r"<strong>\1</strong>", html)
    html = _ITALIC.sub(r"<em>\1</em>", html)
    if marker_html is None:
        return html

    def replace(match: re.Match[str]) -> str:
        marker = match.group(1)
        occurrence = counts.get(marker, 0)
        counts[marker] = occurrence + 1
        markup = marker_html(marker, occurrence)
        return markup if markup is not None else match.group(0)

    return MARKER.sub(replace, html)


def render_markdown(text: str, marker_html: MarkerHtml | None = None) -> str:
    """A small, safe Markdown renderer for answers: paragraphs, lists, headings and inline emphasis.

    Raw HTML in the text is shown as text, never interpreted.
    """
    out: list[str] = []
    paragraph: list[str] = []
    list_tag: str | None = None
    counts: dict[str, int] = {}

    def close_paragraph() -> None:
        if paragraph:
            out.append("<p>" + "<br>".join(paragraph) + "</p>")
            paragraph.clear()

    def close_list() -> None:
        nonlocal list_tag
        if list_tag:
            out.append(f"</{list_tag}>")
            list_tag = None

    for line in text.split("\n"):
        if not line.strip():
            close_paragraph()
            close_list()
            continue
        heading = _HEADING.match(line)
        bullet = _BULLET.match(line)
        numbered = _NUMBERED.match(line) if not bullet else None
        if heading:
            close_paragraph()
            close_list()
            level = min(len(heading.group(1)) + 2, 6)
            out.append(f"<h{level}>{_inline(heading.group(2), marker_html, counts)}</h{level}>")
        elif bullet or numbered:
            close_paragraph()
            tag = "ul" if bullet else "ol"
            if list_tag != tag:
                close_list()
                out.append(f"<{tag}>")
                list_tag = tag
            item = (bullet or numbered).group(1)  # type: ignore[union-attr]
            out.append(f"<li>{_inline(item, marker_html, counts)}</li>")
        else:
            close_list()
            paragraph.append(_inline(line.strip(), marker_html, counts))
    close_paragraph()
    close_list()
    return "".join(out)


# ---- claims and highlighting --------------------------------------------------------------------------


def claim_for(answer_text: str, marker: str, occurrence: int = 0) -> str:
    """The answer sentence that carries the `occurrence`-th [marker], without markers or list prefix."""
    seen = 0
    for line in answer_text.split("\n"):
        for match in MARKER.finditer(line):
            if match.group(1) != marker:
                continue
            if seen == occurrence:
                before = _MARKER_WITH_SPACE.sub("", line[: match.start()])
                before = _LIST_PREFIX.sub("", before).strip()
                sentences = split_sentences(before)
                return sentences[-1] if sentences else before
            seen += 1
    return ""


def _overlap(claim_tokens: set[str], sentence: str) -> float:
    if not claim_tokens:
        return 0.0
    return len(claim_tokens & set(tokenize(sentence))) / len(claim_tokens)


def highlight_paragraph(paragraph: str, claims: Sequence[str], threshold: float = 0.5) -> str:
    """The paragraph as HTML with the sentence(s) best supporting each claim in <mark>."""
    sentences = split_sentences(paragraph) or [paragraph]
    marked: set[int] = set()
    for claim in claims:
        tokens = set(tokenize(claim))
        if not tokens:
            continue
        scores = [_overlap(tokens, s) for s in sentences]
        best = max(range(len(sentences)), key=scores.__getitem__)
        if scores[best] >= threshold:
            marked.add(best)
    return " ".join(
        f'<mark class="support">{escape(s)}</mark>' if i in marked else escape(s) for i, s in enumerate(sentences)
    )


# ---- the transcript -------------------------------------------------------------------------------------


def _marker_button(turn: int, exchange: Exchange) -> MarkerHtml:
    def markup(marker: str, occurrence: int) -> str | None:
        citation = exchange.citation(marker)
        if citation is None:
            return None
        label = f"Source {marker}: {report_label(citation)}, {location_label(citation)}"
        return (
            f'<button type="button" class="cite" data-action="cite" data-turn="{turn}" data-marker="{escape(marker)}" '
            f'data-occurrence="{occurrence}" aria-label="{escape(label)}" title="{escape(label)}">'
            f"{escape(marker)}</button>"
        )

    return markup


def strip_searched_line(text: str, searched: str) -> str:
    """Drop the answer's own 'Searched ...' statement from its last line: the UI shows it under the answer instead.
    An answer closes with it on a line of its own; a refusal says it inside its last sentence ("The reports do not
    answer this. Searched 5 of 14 reports: ..."), and was shown twice before."""
    lines = text.rstrip().split("\n")
    wanted = searched.strip()
    if not lines or not wanted:
        return text
    last = lines[-1]
    if last.strip().strip("_*").strip() == wanted:
        return "\n".join(lines[:-1]).rstrip()
    if wanted in last:
        kept = " ".join(part.strip() for part in last.split(wanted, 1) if part.strip())
        return "\n".join([*lines[:-1], kept] if kept else lines[:-1]).rstrip()
    return text


def render_exchange(turn: int, exchange: Exchange) -> str:
    question = escape(exchange.question)
    parts = [
        f'<article class="exchange" id="exchange-{turn}" aria-label="Question {turn + 1}">',
        f'<div class="msg user"><span class="who">You asked</span><p>{question}</p></div>',
    ]
    if exchange.error is not None:
        parts.append(
            '<div class="msg bot error" role="alert"><span class="who">Answer</span>'
            f"<p>{escape(exchange.error)}</p></div>"
        )
    elif exchange.answer is not None:
        answer = exchange.answer
        searched = exchange.searched()
        body = render_markdown(strip_searched_line(answer.answer, searched), _marker_button(turn, exchange))
        css = "msg bot refused" if answer.refused else "msg bot"
        markdown = answer_to_markdown(exchange.question, answer, searched=searched)
        up = "true" if exchange.feedback == "up" else "false"
        down = "true" if exchange.feedback == "down" else "false"
        parts.append(
            f'<div class="{css}"><span class="who">Answer</span><div class="answer-body">{body}</div>'
            f'<p class="searched">{escape(searched)}</p>'
            f'<div class="actions" role="group" aria-label="Actions for answer {turn + 1}">'
            f'<button type="button" data-action="copy" data-turn="{turn}">Copy as Markdown</button>'
            f'<button type="button" data-action="download" data-turn="{turn}">Download .md</button>'
            f'<button type="button" data-action="up" data-turn="{turn}" aria-pressed="{up}">Helpful</button>'
            f'<button type="button" data-action="down" data-turn="{turn}" aria-pressed="{down}">Not helpful</button>'
            "</div>"
            '<textarea class="export-md" hidden aria-hidden="true" tabindex="-1" readonly>'
            f"{escape(markdown)}</textarea>"
            "</div>"
        )
    else:
        partial = render_markdown(exchange.partial) if exchange.partial else THINKING
        parts.append(
            '<div class="msg bot pending" aria-busy="true"><span class="who">Answer</span>'
            f'<div class="answer-body">{partial}</div></div>'
        )
    parts.append("</article>")
    return "".join(parts)


def render_transcript(conversation: Conversation | None, empty_html: str) -> str:
    """The whole conversation; `empty_html` when nothing has been asked yet."""
    if conversation is None or not conversation.exchanges:
        return f'<div class="transcript empty">{empty_html}</div>'
    inner = "".join(render_exchange(i, e) for i, e in enumerate(conversation.exchanges))
    done = [e for e in conversation.exchanges if e.done]
    if done:
        markdown = conversation_to_markdown([(e.question, e.answer, e.error, e.searched()) for e in done])
        answers = "1 answer" if len(done) == 1 else f"{len(done)} answers"
        # the visible words begin the accessible name (WCAG 2.5.3, label in name): voice control users say what they see
        inner += (
            '<div class="conversation-actions">'
            '<button type="button" data-action="download-all">Download the whole conversation (.md)'
            f'<span class="sr-only">({answers}, as Markdown)</span></button>'
            '<textarea class="export-conversation-md" hidden aria-hidden="true" tabindex="-1" readonly>'
            f"{escape(markdown)}</textarea></div>"
        )
    return f'<div class="transcript">{inner}</div>'


# ---- the sources panel ------------------------------------------------------------------------------------

SOURCES_PLACEHOLDER = (
    '<div class="source-empty"><h2>Source</h2><p>Select a numbered citation in an answer to read the paragraph '
    "it comes from here, with a link to the report.</p></div>"
)


@dataclass(frozen=True)
class Surroundings:
    """The paragraphs around a cited one, for a source with no page to show (text, Markdown): nearest last."""

    before: tuple[str, ...] = ()
    after: tuple[str, ...] = ()


def surroundings(paragraphs: Sequence[str], position: int, around: int = 1) -> Surroundings:
    """The `around` paragraphs before and after the one at `position` in a report's paragraphs."""
    if not 0 <= position < len(paragraphs):
        return Surroundings()
    return Surroundings(
        before=tuple(paragraphs[max(0, position - around) : position]),
        after=tuple(paragraphs[position + 1 : position + 1 + around]),
    )


def render_source(
    citation: Citation,
    claims: Sequence[str],
    *,
    page_image: bool = False,
    context: Surroundings | None = None,
) -> str:
    """The cited paragraph with its report details, the supporting sentence highlighted, and a link to the report.

    With `page_image`, the cited page of the PDF follows, the paragraph's lines highlighted on it (served by the app,
    ui.serving.page_route); with `context` (a text or Markdown source), the paragraph sits between its neighbours.
    """
    href, link_text = report_link(citation)
    heading = citation.heading.split(" > ")[-1] if citation.heading else ""
    rows = [
        ("Report", report_label(citation)),
        ("Where", location_label(citation)),
    ]
    if heading:
        rows.append(("Section", heading))
    details = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in rows)
    text = highlight_paragraph(citation.text, [c for c in claims if c])
    quoted = f'<blockquote class="paragraph">{text}</blockquote>'
    if context is not None and (context.before or context.after):
        quoted = (
            '<div class="in-context" role="group" aria-label="The paragraph in its surrounding text">'
            + "".join(f'<p class="around">{escape(p)}</p>' for p in context.before)
            + f'<blockquote class="paragraph cited"><span class="sr-only">Cited paragraph: </span>{text}</blockquote>'
            + "".join(f'<p class="around">{escape(p)}</p>' for p in context.after)
            + "</div>"
        )
    link = (
        f'<p><a class="report-link" href="{escape(href)}" target="_blank" rel="noopener noreferrer">'
        f"{escape(link_text)}</a></p>"
    )
    figure = ""
    if page_image:
        where = f"Page {citation.page} of the report as printed"
        figure = (
            f'<figure class="page-view">'
            f'<img src="{escape(page_image_href(citation))}" alt="{escape(where)}, the cited paragraph highlighted" '
            'loading="lazy" decoding="async">'
            f"<figcaption>{escape(where)}: the cited paragraph is highlighted.</figcaption>"
            "</figure>"
        )
    return (
        f'<div class="source-card" tabindex="-1" data-marker="{escape(citation.marker)}" '
        f'data-paragraph-id="{escape(citation.paragraph_id)}" data-page="{citation.page}">'
        f"<h2>Source [{escape(citation.marker)}]</h2>"
        f"<dl>{details}</dl>"
        f"{quoted}{link}{figure}"
        "</div>"
    )
