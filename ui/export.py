"""An answer with its citations as Markdown footnotes, ready to paste into a briefing paper."""

from __future__ import annotations

import re

from core.models import Answer, Citation
from ui.labels import report_label

_MARKER = re.compile(r"\[(\d{1,3})\]")


def footnote(citation: Citation) -> str:
    """'[^1]: Trafford, ILACS inspection, 31 January 2023, page 9, paragraph 38 (Section). <url>'."""
    where = f"page {citation.page}"
    if citation.paragraph_number is not None:
        where += f", paragraph {citation.paragraph_number}"
    section = citation.heading.split(" > ")[-1] if citation.heading else ""
    line = f"[^{citation.marker}]: Ofsted, {report_label(citation)}, {where}"
    if section:
        line += f' ("{section}")'
    link = citation.url or citation.source
    if link:
        line += f". <{link}>" if link.startswith(("http://", "https://")) else f". {link}"
    return line


def answer_to_markdown(question: str, answer: Answer, *, searched: str | None = None) -> str:
    """The question, the answer with [n] markers as [^n] footnote references, then one footnote per citation."""
    known = {c.marker for c in answer.citations}
    body = _MARKER.sub(lambda m: f"[^{m.group(1)}]" if m.group(1) in known else m.group(0), answer.answer.strip())
    lines = [f"**Question:** {question.strip()}", "", body]
    if searched and searched not in answer.answer:
        lines += ["", f"_{searched}_"]
    if answer.citations:
        lines.append("")
        lines += [footnote(c) for c in answer.citations]
    return "\n".join(lines) + "\n"
