"""Which reports mention a word or phrase: every report in scope that uses it, found in the text, not top-k.

"Which reports mention county lines?" asks where a phrase occurs, and a search ranked by meaning answers it badly: it
returns the few paragraphs most like the question, and refused this one outright (the question's own words,
"which reports mention", drowned the two words it was about). Here the phrase is looked for in every report in
scope, and each report that uses it is listed with the first sentence that does, cited.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from chatbot.extractive import in_scope_list
from chatbot.improvements import in_improvement_list
from chatbot.structured import distinct_reports
from core.models import Paragraph, Report
from core.text import normalise, split_sentences
from vectorstore.index import Index
from vectorstore.keyword import tokenize

# "which reports mention county lines?", "how many inspections refer to Mockingbird?", "do any letters use the term
# 'kinship'?", "which authorities' reports talk about family hubs?"
_WHICH_MENTION = re.compile(
    r"^\s*(?:(?:which|what|how many|do|does|did|are there|have|has|list|name|show me|find)\b[^?]{0,50}?)?"
    r"\b(?:reports?|inspections?|letters?|visits?|authorities(?:['\u2019]s?)?|authority['\u2019]s|councils?(?:['\u2019]s?)?|areas?)\b"
    r"(?:\s+(?:\w+\s+){0,3}?)?"
    r"(?:ever\s+|also\s+|still\s+)?"
    r"(?:mention(?:s|ed)?|refer(?:s|red)?\s+to|reference[sd]?|use[sd]?\s+the\s+(?:word|term|phrase|words)|"
    r"contain(?:s|ed)?\s+the\s+(?:word|term|phrase|words)|talk(?:s|ed)?\s+about|discuss(?:es|ed)?)\s+(?P<phrase>.+)$",
    re.I,
)
# "is Mockingbird mentioned in any report?", "where are family hubs mentioned?", "find mentions of county lines"
_IS_MENTIONED = re.compile(
    r"^\s*(?:(?:where|in which reports?|in what reports?)\s+)?(?:is|are|was|were|has|have)\s+(?:the\s+(?:word|term|phrase)\s+)?"
    r"(?P<phrase>.+?)\s+(?:ever\s+|been\s+)*mentioned\b"
    r"|^\s*(?:find|show|list|search for|search)\s+(?:me\s+)?(?:all\s+|every\s+|any\s+)?(?:the\s+)?mentions?\s+of\s+(?P<phrase2>.+)$",
    re.I,
)
_QUOTES = "\"'\u2018\u2019\u201c\u201d`"
# what follows the phrase but is not part of it: "at all", "in their reports", "anywhere"
_TAIL = re.compile(
    r"\s*(?:\b(?:at all|anywhere|ever|in (?:any|the|their|its) (?:reports?|inspections?|letters?)|in any of them|in them)\b\s*)+$",
    re.I,
)
_LEAD = re.compile(r"^\s*(?:the\s+(?:(?:word|term|phrase|words)\s+)?|(?:word|term|phrase|words)\s+|an?\s+)", re.I)
_MAX_WORDS = 6  # a longer "phrase" is a question, not words to look for
MAX_LISTED = 30  # reports quoted in one answer; the count covers them all
_NO_DATE = date.min


def mentioned_phrase(text: str) -> str | None:
    """The word or phrase a "which reports mention X" question asks about, or None when it asks no such thing."""
    match = _WHICH_MENTION.search(text) or _IS_MENTIONED.search(text)
    if match is None:
        return None
    phrase = next(group for group in match.groups() if group is not None)
    phrase = phrase.strip().rstrip("?.!").strip()
    phrase = _TAIL.sub("", _LEAD.sub("", phrase)).strip().strip(_QUOTES + " ,;:").strip()
    words = re.findall(r"[\w'\u2019-]+", phrase)
    if not words or len(words) > _MAX_WORDS:
        return None
    return phrase


def phrase_pattern(phrase: str) -> re.Pattern[str]:
    """The phrase as whole words, in any case, across spaces or hyphens, its last word also in the plural ("county
    line" finds "county lines"; "family hub" finds "family hubs"), matched against normalised text."""
    words = [re.escape(w) for w in re.findall(r"[\w']+", normalise(phrase))]
    if words and words[-1].isalpha():
        last = words[-1]
        stem = last[:-1] if last.endswith("s") and not last.endswith("ss") and len(last) > 3 else last
        words[-1] = f"{stem}(?:s|es)?"
    return re.compile(r"(?<!\w)" + r"[\s-]+".join(words) + r"(?!\w)")


@dataclass(frozen=True)
class Mention:
    """One report that uses the phrase: the paragraphs that do (the quoted one first) and the sentence quoted, the
    first whole sentence of a finding that uses it."""

    report: Report
    paragraphs: tuple[Paragraph, ...]
    sentence: str


@dataclass(frozen=True)
class Mentions:
    """The reports in scope that use a phrase (a PDF and its text export once), by authority then date, and the first
    `detail` of them read in full (the rest are counted from the index's chunks, not read)."""

    reports: tuple[Report, ...]
    detailed: tuple[Mention, ...]


def find_mentions(index: Index, phrase: str, report_ids: Sequence[str] | None, detail: int | None = None) -> Mentions:
    """Every report in scope (all when `report_ids` is None) whose text uses the phrase, by authority name then date;
    the first `detail` (all when None) read paragraph by paragraph for the one to quote."""
    pattern = phrase_pattern(phrase)
    # a chunk that uses the phrase holds its rarest word: a plain look for that word (less a plural ending) narrows the
    # chunks to normalise and match
    words = re.findall(r"[\w]+", normalise(phrase))
    rarest = max(words, key=lambda w: max((index.term_weight(t) for t in tokenize(w)), default=0.0)) if words else ""
    probe = rarest[:-1] if rarest.endswith("s") and len(rarest) > 3 else rarest
    candidates: dict[str, None] = {}
    for chunk in index.chunks_in(report_ids):
        if chunk.report_id not in candidates and probe in chunk.text.lower() and pattern.search(normalise(chunk.text)):
            candidates[chunk.report_id] = None
    reports = distinct_reports([r for r in (index.report(i) for i in candidates) if r is not None])
    reports.sort(key=lambda r: (r.metadata.local_authority or "", r.metadata.published or r.metadata.visit_end or _NO_DATE))
    detailed: list[Mention] = []
    for report in reports[:detail] if detail is not None else reports:
        mention = _read(index, report, pattern)
        if mention is not None:
            detailed.append(mention)
    return Mentions(tuple(reports), tuple(detailed))


def _read(index: Index, report: Report, pattern: re.Pattern[str]) -> Mention | None:
    """The report's paragraphs using the phrase and the sentence to quote: the first whole sentence of a finding."""
    paragraphs = index.paragraphs(report.report_id)
    using = tuple(p for p in paragraphs if p.kind != "heading" and pattern.search(normalise(p.text)))
    if not using:
        return None
    # a finding before a line of what the visit looked at ("The quality of pathway plans.") or a point of what needs to
    # improve ("The identification and response to young carers")
    findings = [p for p in using if not in_scope_list(p, paragraphs) and not in_improvement_list(p)] or list(using)
    sentences = [s for p in findings for s in split_sentences(p.text) if pattern.search(normalise(s))]
    sentence = next((s for s in sentences if len(s.split()) >= 6), sentences[0] if sentences else findings[0].text)
    first = next((p for p in findings if sentence in p.text), findings[0])
    return Mention(report, (first, *(p for p in using if p is not first)), sentence)
