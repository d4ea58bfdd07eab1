"""Timelines: "how has X changed", "since the last inspection".

One authority's reports, oldest to newest, each with its judgement on the topic (and how it moved
from the report before) and its best sentences on the topic, each cited.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from chatbot.structured import AREA_LABELS, _judgements_for, _stating_paragraph, _when, distinct_reports, wanted_areas
from core.models import Judgement, Paragraph, Report

TIMELINE_INTENT = re.compile(
    r"\bhow\s+(?:has|have|did)\b.*\b(chang\w*|improv\w*|progress\w*|develop\w*|deteriorat\w*|got (?:better|worse)|mov\w*|evolv\w*)\b"
    r"|\b(?:changed|improved|deteriorated|progressed|got better|got worse)\b.*\b(?:since|over|between|across)\b"
    r"|\bwhat(?:'s| has| have)\s+changed\b"
    r"|\bsince (?:the|its|their) (?:last|previous|earlier) (?:inspection|visit|report)\b"
    r"|\bover time\b|\btimeline\b|\bover the years\b|\bacross (?:its|their|the) (?:inspections|reports)\b"
    r"|\bhas\s+\w+(?:'s)?\s+(?:\w+\s+){0,4}?improved\b|\bhave\s+(?:\w+\s+){0,5}?improved\b",
    re.I,
)
_RANK = {"outstanding": 4, "good": 3, "requires improvement": 2, "inadequate": 1}


def timeline_intent(question: str, authorities: Sequence[str]) -> bool:
    return len(authorities) == 1 and bool(TIMELINE_INTENT.search(question))


def grade_rank(grade: str) -> int | None:
    text = grade.lower()
    for name, rank in _RANK.items():
        if text.startswith(name) or (name == "requires improvement" and text.startswith("require")):
            return rank
    return None


def movement(previous: str | None, current: str) -> str:
    """ "up from inadequate", "down from good", "unchanged", or "" when there is nothing to compare."""
    if previous is None:
        return ""
    before, after = grade_rank(previous), grade_rank(current)
    if before is None or after is None:
        return ""
    if after > before:
        return f"up from {previous.lower()}"
    if after < before:
        return f"down from {previous.lower()}"
    return "unchanged"


@dataclass(frozen=True)
class GradeLine:
    report: Report
    judgement: Judgement
    change: str
    paragraph: Paragraph | None

    @property
    def text(self) -> str:
        change = f" ({self.change})" if self.change else ""
        return f"{self.judgement.label}: {self.judgement.grade}{change}."


def grade_lines(reports: Sequence[Report], question: str, paragraphs_of) -> dict[str, list[GradeLine]]:
    """Per report (oldest first), its judgements on the question's areas, with the movement since the last."""
    areas = wanted_areas(question) or ["overall_effectiveness"]
    previous: dict[str, str] = {}
    out: dict[str, list[GradeLine]] = {}
    for report in sorted(reports, key=_when):
        lines = []
        for judgement in _judgements_for(report, areas):
            key = judgement.area if judgement.area != "in_care" or "care leavers" not in judgement.label.lower() else "care_leavers"
            change = movement(previous.get(key), judgement.grade)
            previous[key] = judgement.grade
            paragraph = _stating_paragraph(paragraphs_of(report.report_id), [judgement.grade, judgement.label])
            lines.append(GradeLine(report, judgement, change, paragraph))
        out[report.report_id] = lines
    return out


def area_phrase(question: str) -> str:
    return " and ".join(AREA_LABELS[a] for a in wanted_areas(question) or ["overall_effectiveness"])


def oldest_first(reports: Sequence[Report]) -> list[Report]:
    return sorted(distinct_reports(reports), key=lambda r: _when(r) or date.min)


def prose_statement(paragraphs: Sequence[Paragraph], judgement: Judgement) -> tuple[Paragraph, str] | None:
    """A sentence in the report's prose that gives this judgement's grade, and its paragraph."""
    from chatbot.structured import _first_sentence_with

    paragraph = _stating_paragraph(paragraphs, [judgement.grade, judgement.label], prefer_prose=True)
    if paragraph is None or paragraph.kind == "heading" or len(paragraph.text.split()) < 14:
        return None
    return paragraph, _first_sentence_with(paragraph.text, judgement.grade)
