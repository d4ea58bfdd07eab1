"""Metadata extraction over the whole shared corpus, scored field by field against the hand-checked manifest.

Run with `pytest -m corpus tests/ingest/test_metadata_corpus.py -q -s`; skipped when ../shared/corpus is absent.

Normalisation used when comparing (the manifest records values as read off the reports, in
a few house forms):
- strings: case-insensitive, whitespace collapsed, curly quotes made straight, a final full stop dropped;
- grades: as strings, plus the manifest's forms for "no such judgement" read as empty
  ("(not given post-April-2026 framework)"), the area SEND rank suffix "(top)/(middle)/(bottom)"
  and the "LSCB: " prefix dropped, and "and/or" read as "/";
- dates: ISO strings; letter_date only for documents whose manifest has one (letters); `published` is
  scored against publication_date (Ofsted's listing), which a few reports' printed dates miss by days;
- subtype: ILACS documents whose manifest says "standard" or "short";
- inspectors: sets of names, where the manifest has any; the manifest's free text is cut into names by
  removing titles and roles ("Her Majesty's Inspectors", "HMI", "carried out by", "designate", ...) and
  splitting at commas and "and"; hyphens are dropped (the manifest joins "Thomson-\\nJones" without one);
- fv_focus: focused visits only, as strings with hyphens dropped (the manifest joins words hyphenated at a
  line end without their hyphen), empty meaning no focus sentence.

Known disagreements left in the score (the extractor follows the text): some SIF judgement lists that print
"Require improvement", put a footnote between label and grade, or set the two columns apart are blank in
the manifest; and the manifest's focus sentence for four letters runs past the sentence or is cut short.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from core.models import ReportMetadata
from ingest.metadata import extract_metadata

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
MANIFEST = CORPUS / "manifest.csv"
THRESHOLD = 0.98

# (document, field) pairs where the manifest is wrong against the report's own text; each says why.
EXCEPTIONS: dict[tuple[str, str], str] = {
    ("focused_visit/cambridgeshire_focused-visit_2025-08-29.pdf", "letter_date"): (
        "the letter prints no date; the manifest's 2025-07-30 is the last day of the visit"
    ),
    ("focused_visit/north-somerset_focused-visit_2025-11-06.pdf", "letter_date"): (
        "the letter is dated '6 November 20205' (a typo); the manifest's 2025-10-08 is the last day of the visit"
    ),
    ("focused_visit/west-sussex_focused-visit_2026-01-12.pdf", "inspectors"): (
        "the manifest holds 'primarily on site'; the letter names Sally Sinclair and Steve Lowe"
    ),
    ("focused_visit/westminster_focused-visit_2022-07-20.pdf", "inspectors"): (
        "the letter omits a full stop after the names, and the manifest runs the next sentence into a name"
    ),
}

GRADE_FIELDS: dict[str, str] = {
    "overall_effectiveness": "overall_effectiveness",
    "grade_leaders": "leaders",
    "grade_help_protection": "help_protection",
    "grade_in_care": "in_care",
    "grade_care_leavers": "care_leavers",
}

_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u00a0": " "})
_NO_JUDGEMENT = re.compile(r"^\(not given.*\)$")
_RANK = re.compile(r"\s*\((?:top|middle|bottom)\)$")
_INSPECTOR_TITLES = re.compile(
    r"carried out by|all of whom are|both of whom are|(?:her|his) majesty's(?: (?:chief )?inspectors?)?"
    r"|\([^)]*\)|\bs?hmis?\b|\bsocial care\b|\bschools\b|\b(?:lead|team|deputy lead) inspectors?\b"
    r"|who observed the visit"
    r"|\b(?:both|two|three|four|five|six) of\b|\bboth\b|\bsenior\b|\bdesignate\b|\bwith\b|as a supernumerary inspector",
)


def norm_text(value: str | None) -> str:
    """Case-folded, straight quotes, single spaces, no final full stop."""
    text = re.sub(r"\s+", " ", (value or "").translate(_QUOTES)).strip().casefold()
    return text.rstrip(" .")


def norm_focus(value: str | None) -> str:
    """A focus sentence for comparison: as norm_text, hyphens dropped (the manifest joins "decision-\\nmaking")."""
    return re.sub(r"\s*-\s*", "", norm_text(value))


def norm_grade(value: str | None) -> str:
    """A grade for comparison: the manifest's house forms undone (see the module docstring)."""
    text = norm_text(value)
    if _NO_JUDGEMENT.match(text):
        return ""
    text = _RANK.sub("", text)
    text = re.sub(r"^lscb:\s*", "", text)
    return re.sub(r"\s*(?:and/or|/)\s*", "/", text)


def norm_inspectors(value: str | tuple[str, ...] | None) -> frozenset[str]:
    """A set of normalised names from a tuple of names or the manifest's free text."""
    if isinstance(value, tuple):
        return frozenset(norm_text(name).replace("-", "") for name in value)
    text = _INSPECTOR_TITLES.sub(",", norm_text(value))
    pieces = re.split(r",|\band\b", text.replace("-", ""))
    return frozenset(name for name in (re.sub(r"\s+", " ", piece).strip(" .") for piece in pieces) if name)


def _iso(value: object) -> str:
    return value.isoformat() if value is not None else ""  # type: ignore[attr-defined]


@dataclass(frozen=True)
class FieldCheck:
    """How one manifest column is compared with one ReportMetadata field, and on which documents."""

    name: str
    expected: Callable[[dict[str, str]], object]
    actual: Callable[[ReportMetadata], object]
    applies: Callable[[dict[str, str]], bool] = lambda row: True


def _grade_check(column: str, area: str) -> FieldCheck:
    return FieldCheck(
        column,
        lambda row: norm_grade(row[column]),
        lambda meta: norm_grade(meta.grade(area)),
    )


CHECKS: tuple[FieldCheck, ...] = (
    FieldCheck(
        "local_authority", lambda row: norm_text(row["local_authority"]), lambda m: norm_text(m.local_authority)
    ),
    FieldCheck("report_type", lambda row: row["report_type"], lambda m: m.report_type),
    FieldCheck(
        "subtype",
        lambda row: row["subtype"],
        lambda m: m.subtype or "",
        lambda row: row["report_type"] == "ilacs_inspection" and row["subtype"] in ("standard", "short"),
    ),
    FieldCheck(
        "visit_dates_raw", lambda row: norm_text(row["visit_dates_raw"]), lambda m: norm_text(m.visit_dates_raw)
    ),
    FieldCheck("visit_start", lambda row: row["visit_start"], lambda m: _iso(m.visit_start)),
    FieldCheck("visit_end", lambda row: row["visit_end"], lambda m: _iso(m.visit_end)),
    FieldCheck("published", lambda row: row["publication_date"], lambda m: _iso(m.published)),
    FieldCheck(
        "letter_date",
        lambda row: row["letter_date"],
        lambda m: _iso(m.letter_date),
        lambda row: bool(row["letter_date"]),
    ),
    FieldCheck(
        "inspectors",
        lambda row: norm_inspectors(row["inspectors"]),
        lambda m: norm_inspectors(m.inspectors),
        lambda row: bool(row["inspectors"].strip()),
    ),
    *(_grade_check(column, area) for column, area in GRADE_FIELDS.items()),
    FieldCheck(
        "fv_focus",
        lambda row: norm_focus(row["fv_focus"]),
        lambda m: norm_focus(m.focus),
        lambda row: row["report_type"] == "focused_visit",
    ),
)


@dataclass
class FieldScore:
    """Running tally for one field."""

    count: int = 0
    correct: int = 0
    mismatches: list[str] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.correct / self.count if self.count else 1.0


def document_text(path: Path) -> str:
    """The text the ingest pipeline hands to extract_metadata: PDF pages joined by form feeds, or the file as is."""
    if path.suffix.lower() == ".pdf":
        import pymupdf

        with pymupdf.open(path) as document:
            return "\f".join(page.get_text() for page in document)
    return path.read_text(encoding="utf-8")


def score_corpus(rows: list[dict[str, str]], texts: Callable[[str], str]) -> dict[str, FieldScore]:
    """Extract every document's metadata and score each field against its manifest row."""
    scores = {check.name: FieldScore() for check in CHECKS}
    for row in rows:
        document = row["document"]
        meta = extract_metadata(texts(document), source_name=Path(document).name)
        for check in CHECKS:
            if not check.applies(row) or (document, check.name) in EXCEPTIONS:
                continue
            score = scores[check.name]
            score.count += 1
            expected, actual = check.expected(row), check.actual(meta)
            if expected == actual:
                score.correct += 1
            else:
                score.mismatches.append(f"{document}: expected {expected!r}, got {actual!r}")
    return scores


def format_scores(scores: dict[str, FieldScore], examples: int = 5) -> str:
    """The accuracy table, then the first few mismatches of each field."""
    lines = [f"{'field':<24}{'count':>7}{'correct':>9}{'%':>8}"]
    for name, score in scores.items():
        lines.append(f"{name:<24}{score.count:>7}{score.correct:>9}{100 * score.accuracy:>7.1f}%")
    for name, score in scores.items():
        if score.mismatches:
            lines.append(f"\n{name}: {len(score.mismatches)} mismatches")
            lines.extend(f"  {line}" for line in score.mismatches[:examples])
    return "\n".join(lines)


@pytest.mark.corpus
@pytest.mark.skipif(not MANIFEST.exists(), reason=f"shared corpus not found at {CORPUS}")
def test_metadata_matches_manifest_per_field() -> None:
    with MANIFEST.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    scores = score_corpus(rows, lambda document: document_text(CORPUS / "reports" / document))
    print()
    print(format_scores(scores))
    below = {name: round(score.accuracy, 4) for name, score in scores.items() if score.accuracy < THRESHOLD}
    assert not below, f"fields below {THRESHOLD:.0%} accuracy: {below}"
