"""An answer with its citations as Markdown footnotes, ready to paste into a briefing paper.

Text from a report, a user or a model is escaped (`escape_html`), so a Markdown viewer shows any HTML in it as
text; a source is named by its official URL or its file name, never by a folder on the server.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import urlsplit

from core.models import Answer, Citation
from ui.labels import report_label

_MARKER = re.compile(r"\[(\d{1,3})\]")
_ENTITY_START = re.compile(r"&(?=#?\w+;)")
_LINKABLE_URL = re.compile(r"https?://[^\s<>\"'`\\]+")  # nothing that could close the <...> around it


def escape_html(text: str) -> str:
    """Text a Markdown viewer shows as written: '<' and '>' as entities, and '&' where it would start one."""
    return _ENTITY_START.sub("&amp;", text).replace("<", "&lt;").replace(">", "&gt;")


def source_reference(citation: Citation) -> str:
    """Where a reader finds the report: its official URL as a link, else its file's name alone ('' if none)."""
    if citation.url and _LINKABLE_URL.fullmatch(citation.url):
        return f"<{citation.url}>"
    source = citation.source
    if source.startswith(("http://", "https://")):
        source = urlsplit(source).path
    return escape_html(re.split(r"[\\/]", source.rstrip("\\/"))[-1])


def footnote(citation: Citation, prefix: str = "") -> str:
    """'[^1]: Trafford, ILACS inspection, 31 January 2023, page 9, paragraph 38 (Section). <url>' (the file's name where
    there is no official URL). A `prefix` keeps footnotes of several answers apart in one document ('[^2-1]')."""
    where = f"page {citation.page}"
    if citation.paragraph_number is not None:
        where += f", paragraph {citation.paragraph_number}"
    section = citation.heading.split(" > ")[-1] if citation.heading else ""
    line = f"[^{prefix}{citation.marker}]: Ofsted, {escape_html(report_label(citation))}, {where}"
    if section:
        line += f' ("{escape_html(section)}")'
    reference = source_reference(citation)
    if reference:
        line += f". {reference}"
    return line


def answer_to_markdown(question: str, answer: Answer, *, searched: str | None = None, prefix: str = "") -> str:
    """The question, the answer with [n] markers as [^n] footnote references, then one footnote per citation."""
    known = {c.marker for c in answer.citations}
    text = escape_html(answer.answer.strip())
    body = _MARKER.sub(lambda m: f"[^{prefix}{m.group(1)}]" if m.group(1) in known else m.group(0), text)
    lines = [f"**Question:** {escape_html(question.strip())}", "", body]
    if searched and searched not in answer.answer:
        lines += ["", f"_{escape_html(searched)}_"]
    if answer.citations:
        lines.append("")
        lines += [footnote(c, prefix) for c in answer.citations]
    return "\n".join(lines) + "\n"


def conversation_to_markdown(exchanges: Sequence[tuple[str, Answer | None, str | None, str]]) -> str:
    """Every answered question of a conversation, in order, each under its own heading, with footnotes kept apart
    by answer ('[^2-1]' is answer 2's first source). Each item: (question, answer, error, searched)."""
    lines = ["# Questions and answers from Ofsted's inspection reports", ""]
    for number, (question, answer, error, searched) in enumerate(exchanges, start=1):
        lines.append(f"## {number}. {escape_html(question.strip())}")
        lines.append("")
        if answer is not None:
            lines.append(answer_to_markdown(question, answer, searched=searched, prefix=f"{number}-").rstrip())
        else:
            asked = escape_html(question.strip())
            lines += [f"**Question:** {asked}", "", f"_No answer: {escape_html(error or 'still being answered')}_"]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
