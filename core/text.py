"""Text normalisation shared by ingest, retrieval and evaluation (EVAL_FORMAT.md matching rules)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

_QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2033": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2015": "-",
        "\u2212": "-",
        "\u00ad": "",
    }
)
_HYPHEN_BREAK = re.compile(r"-\s*\n\s*")
_SPACES = re.compile(r"\s+")


def normalise(text: str) -> str:
    """NFKC, ASCII quotes and dashes, hyphen + line break joined, single spaces, case-folded."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    text = _HYPHEN_BREAK.sub("-", text)
    return _SPACES.sub(" ", text).strip().casefold()


def tidy(text: str) -> str:
    """Display form: NFKC and single spaces, case and punctuation kept."""
    text = unicodedata.normalize("NFKC", text).replace("\u00ad", "")
    return _SPACES.sub(" ", text).strip()


_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'\u2019\u201d)]?\s+(?=[\"'\u2018\u201c(]?[A-Z0-9])")
_ABBREVIATIONS = ("e.g.", "i.e.", "etc.", "Mr.", "Mrs.", "Ms.", "Dr.", "St.", "No.", "approx.")


def split_sentences(text: str) -> list[str]:
    """Split a paragraph into sentences at ., ! or ? followed by a capital; keeps abbreviations whole."""
    parts: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        candidate = text[start : match.start() + 1]
        if candidate.rstrip().endswith(_ABBREVIATIONS):
            continue
        parts.append(text[start : match.end()].strip())
        start = match.end()
    tail = text[start:].strip()
    if tail:
        parts.append(tail)
    return [p for p in parts if p]


def slugify(text: str) -> str:
    """Lower-case ASCII slug with hyphens."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def counted(n: int, singular: str, plural: str | None = None) -> str:
    """'1 report', '2 reports', '1 local authority', '3 local authorities': the number and the noun that agrees."""
    if n == 1:
        return f"1 {singular}"
    if plural is None:
        plural = singular[:-1] + "ies" if singular.endswith("y") and singular[-2:-1] not in "aeiou" else singular + "s"
    return f"{n} {plural}"


# A judgement section's heading: "The experiences and progress of care leavers: requires improvement to be good".
GRADED_HEADING = re.compile(r":\s*(?:outstanding|good|requires improvement(?: to be good)?|inadequate)\s*$", re.IGNORECASE)


def and_list(names: Sequence[str]) -> str:
    """"Devon", "Devon and Leeds", "Devon, Leeds and York"."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
