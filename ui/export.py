"""An answer with its citations as Markdown footnotes, ready to paste into a briefing paper."""

from __future__ import annotations

import re
from collections.abc import Sequence

from core.models import Answer, Citation
from ui.labels import report_label

_MARKER = re.compile(r"\[(\d{1,3})\]")


def footnote(citation: Citation, prefix: str = "") -> str:
    """'[^1]: Trafford, ILACS inspection, 31 January 2023, page 9, paragraph 38 (Section). <url>'. A `prefix` keeps
    footnotes of several answers apart in one document ('[^2-1]')."""
    where = f"page {citation.page}"
    if citation.paragraph_number is not None:
        where += f", paragraph {citation.paragraph_number}"
    section = citation.heading.split(" > ")[-1] if citation.heading else ""
    line = f"[^{prefix}{citation.marker}]: Ofsted, {report_label(citation)}, {where}"
    if section:
        line += f' ("{section}")'
    link = citation.url or citation.source
    if link:
        line += f". <{link}>" if link.startswith(("http://", "https://")) else f". {link}"
    return line


def answer_to_markdown(question: str, answer: Answer, *, searched: str | None = None, prefix: str = "") -> str:
    """The question, the answer with [n] markers as [^n] footnote references, then one footnote per citation."""
    known = {c.marker for c in answer.citations}
    body = _MARKER.sub(lambda m: f"[^{prefix}{m.group(1)}]" if m.group(1) in known else m.group(0), answer.answer.strip())
    lines = [f"**Question:** {question.strip()}", "", body]
    if searched and searched not in answer.answer:
        lines += ["", f"_{searched}_"]
    if answer.citations:
        lines.append("")
        lines += [footnote(c, prefix) for c in answer.citations]
    return "\n".join(lines) + "\n"


def conversation_to_markdown(exchanges: Sequence[tuple[str, Answer | None, str | None, str]]) -> str:
    """Every answered question of a conversation, in order, each under its own heading, with footnotes kept apart
    by answer ('[^2-1]' is answer 2's first source). Each item: (question, answer, error, searched)."""
    lines = ["# Questions and answers from Ofsted's inspection reports", ""]
    for number, (question, answer, error, searched) in enumerate(exchanges, start=1):
        lines.append(f"## {number}. {question.strip()}")
        lines.append("")
        if answer is not None:
            lines.append(answer_to_markdown(question, answer, searched=searched, prefix=f"{number}-").rstrip())
        else:
            lines += [f"**Question:** {question.strip()}", "", f"_No answer: {error or 'still being answered'}_"]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
