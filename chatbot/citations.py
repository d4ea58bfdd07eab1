"""The citation check every answerer's draft goes through before a user sees it.

- every marker must name a retrieved paragraph; unknown markers are removed;
- a sentence whose cited paragraph does not support it (word overlap, and embedding similarity when an
  embedder is given) loses that marker; a claim left with no supporting marker is dropped;
- the text shown for a citation is the stored paragraph's own text;
- markers are renumbered 1..n in order of first use.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from core.models import Citation, Paragraph, Report
from core.text import split_sentences
from vectorstore.keyword import tokenize

MARKER = re.compile(r"\s*\[(\d{1,3})\]")
SUPPORT_THRESHOLD = 0.5
EMBEDDING_THRESHOLD = 0.55

SimilarityFn = Callable[[str, str], float]


@dataclass(frozen=True)
class CheckedAnswer:
    text: str
    citations: tuple[Citation, ...]
    dropped: tuple[str, ...]  # sentences removed because nothing supported them
    removed_markers: tuple[str, ...]  # markers that named no retrieved paragraph


def lexical_support(sentence: str, paragraph: str) -> float:
    """Share of the sentence's content words that the paragraph contains (1.0 for a verbatim quote)."""
    words = set(tokenize(MARKER.sub("", sentence)))
    if not words:
        return 1.0
    return len(words & set(tokenize(paragraph))) / len(words)


def supports(sentence: str, paragraph: str, similarity: SimilarityFn | None = None, heading: str = "") -> bool:
    """Whether the paragraph backs the sentence: its words (a heading's count too), else its meaning."""
    if lexical_support(sentence, f"{heading}\n{paragraph}" if heading else paragraph) >= SUPPORT_THRESHOLD:
        return True
    return similarity is not None and similarity(MARKER.sub("", sentence), paragraph) >= EMBEDDING_THRESHOLD


def build_citation(marker: str, paragraph: Paragraph, report: Report | None, sentence: str) -> Citation:
    meta = report.metadata if report else None
    return Citation(
        marker=marker,
        paragraph_id=paragraph.paragraph_id,
        report_id=paragraph.report_id,
        local_authority=meta.local_authority if meta else None,
        report_type=meta.report_type if meta else "other",
        published=meta.published.isoformat() if meta and meta.published else None,
        page=paragraph.page,
        paragraph_number=paragraph.paragraph_number,
        heading=" > ".join(paragraph.heading_path),
        text=paragraph.text,
        source=report.source if report else "",
        url=report.url if report else None,
        supporting_sentence=MARKER.sub("", sentence).strip(),
    )


def _units(text: str) -> list[str]:
    """Lines, and sentences within prose lines, keeping list and heading lines whole."""
    units: list[str] = []
    for line in text.split("\n"):
        if not line.strip() or line.lstrip().startswith(("#", "**", "- ", "* ")) or not MARKER.search(line):
            units.append(line)
            continue
        units.extend(split_sentences(line))
    return units


def check_citations(
    draft: str,
    sources: Mapping[str, Paragraph],
    reports: Mapping[str, Report],
    similarity: SimilarityFn | None = None,
) -> CheckedAnswer:
    """Verify a draft's markers against the paragraphs it was given (`sources`: marker -> paragraph)."""
    renumber: dict[str, str] = {}
    citations: list[Citation] = []
    dropped: list[str] = []
    removed: list[str] = []
    kept_lines: list[str] = []
    for unit in _units(draft):
        markers = MARKER.findall(unit)
        if not markers:
            kept_lines.append(unit)
            continue
        body = MARKER.sub("", unit).rstrip()
        good: list[str] = []
        for marker in markers:
            paragraph = sources.get(marker)
            if paragraph is None:
                removed.append(marker)
                continue
            # a heading's words count too: "Care leavers: good" is stated by a paragraph under that ILACS heading, or
            # under its "Summary" sub-heading in a SIF export
            heading = " ".join(paragraph.heading_path[-2:])
            if supports(body, paragraph.text, similarity, heading) and marker not in good:
                good.append(marker)
        if not good:
            dropped.append(body.strip())
            continue
        labels = []
        for marker in good:
            if marker not in renumber:
                renumber[marker] = str(len(renumber) + 1)
                paragraph = sources[marker]
                citations.append(build_citation(renumber[marker], paragraph, reports.get(paragraph.report_id), body))
            labels.append(f"[{renumber[marker]}]")
        trailing = ""
        stripped = body.rstrip()
        if stripped and stripped[-1] in ".!?":
            # keep markers after the words and before nothing: "sentence. [1]" reads as "sentence [1]."
            stripped, trailing = stripped[:-1], stripped[-1]
        kept_lines.append(f"{stripped} {''.join(labels)}{trailing}")
    text = _tidy("\n".join(kept_lines) if "\n" in draft else " ".join(kept_lines))
    return CheckedAnswer(text, tuple(citations), tuple(dropped), tuple(removed))


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.split("\n")]
    # drop group headings left with nothing under them
    out: list[str] = []
    for i, line in enumerate(lines):
        if line.startswith("**") and line.endswith("**"):
            following = next((x for x in lines[i + 1 :] if x.strip()), "")
            if not following or following.startswith("**"):
                continue
        out.append(line)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip()


def embedding_similarity(embed: Callable[[Sequence[str]], np.ndarray]) -> SimilarityFn:
    """A similarity function from an embedder (unit vectors: the dot product is the cosine)."""

    def similarity(a: str, b: str) -> float:
        vectors = embed([a, b])
        return float(np.dot(vectors[0], vectors[1]))

    return similarity
