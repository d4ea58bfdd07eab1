"""Text in a report that addresses whoever reads it (a person or a model) instead of reporting findings.

An Ofsted report describes a local authority in the third person; its letters address the director
("Dear Ms Jenkins", "your next inspection"). None of its 76,917 paragraphs in the shared corpus tells
its reader to ignore instructions, to reply with set words, to tell "the user" something, to act as an
AI, or to follow a link; a planted or tampered file does. Such a paragraph is kept (nothing is lost)
but flagged at ingest: it is never chunked, retrieved, quoted or cited, and the ingest summary names it.

Each marker below is a way of addressing the reader, not a phrase from one attack; the tests
(`tests/security/test_hostile_text.py`) try wordings the markers were not written from, and sentences of
real reports that speak to their reader which they must leave alone. Run over every paragraph of the
shared corpus's 829 reports, no marker flags any (one that read "as a model" flagged four paragraphs on
"Signs of Safety as a model" and was narrowed).
"""

from __future__ import annotations

import re
from dataclasses import replace

from core.models import Paragraph

_MARKERS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "tells the reader to set aside its instructions",
        re.compile(
            r"\b(?:ignore|disregard|forget|override|overrule|bypass)\b[^.]{0,60}"
            r"\b(?:instructions?|prompts?|rules|guidelines|guidance|directions|context)\b",
            re.I,
        ),
    ),
    (
        "tells the reader what to reply",
        re.compile(
            r"\b(?:reply|respond|answer|output|print|say|write|repeat)\b[^.]{0,20}"
            r"\b(?:only|just|exactly|verbatim|nothing but|nothing else)\b"
            r"|\b(?:reply|respond|answer)\s+(?:with|by saying)\s+[\"“']",
            re.I,
        ),
    ),
    (
        "speaks to the user of a chatbot",
        re.compile(
            r"\b(?:tell|inform|instruct|ask|direct|warn|advise|remind|urge)\s+(?:the|any|every|your)\s+"
            r"(?:user|reader|person asking|human|visitor|customer)s?\b",
            re.I,
        ),
    ),
    (
        "addresses an AI model",
        re.compile(
            r"\b(?:you are(?: now)?|act as|pretend(?: to be| you are))\s+(?:an?\s+|the\s+)?(?:\w+\s+)?"
            r"(?:ai|assistant|chat ?bot|language model|llm|gpt)\b"
            r"|\b(?:as an?|note to(?: the| any)?|dear|attention)\s+(?:ai|a\.i\.|artificial intelligence|chat ?bot|"
            r"(?:large )?language model|llm|gpt|ai (?:model|assistant|system))\b"
            r"|\b(?:system|developer)\s+(?:prompt|message|instructions?)\b"
            r"|\b(?:ai|llm|chat ?bot|language model)s?\s+(?:reading|processing|summari[sz]ing|answering)\b",
            re.I,
        ),
    ),
    (
        "sends the reader to a link",
        re.compile(
            r"\b(?:visit|go to|click|tap|open|follow|log ?in|sign ?in|register|verify)\b[^.]{0,50}"
            r"(?:https?://|www\.)(?![\w.-]*\.(?:gov|nhs)\.uk\b)",
            re.I,
        ),
    ),
    (
        "carries markup that would run or load in a page",
        re.compile(r"<\s*(?:script|iframe|img|object|embed|svg|form|meta|link)\b|javascript\s*:|!\[[^\]]*\]\(", re.I),
    ),
)


def reader_address(text: str) -> str | None:
    """Why this paragraph addresses its reader rather than reporting (the first marker found), or None."""
    for reason, pattern in _MARKERS:
        if pattern.search(text):
            return reason
    return None


def flag_reader_address(paragraphs: list[Paragraph]) -> list[Paragraph]:
    """The paragraphs with each one that addresses its reader marked `kind="flagged"` (ids unchanged)."""
    return [replace(p, kind="flagged") if p.kind != "heading" and reader_address(p.text) else p for p in paragraphs]
