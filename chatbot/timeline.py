"""Timelines: "how has X changed", "since the last inspection".

One authority's reports, oldest to newest, each with its judgement on the topic (and how it moved
from the report before) and its best sentences on the topic, each cited.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from chatbot.extractive import about_the_visit, is_meta
from chatbot.improvements import in_improvement_list, is_improvement_heading
from chatbot.query import LATEST_END, SINCE_LAST
from chatbot.structured import (
    APRIL_2026,
    AREA_LABELS,
    GRADE_INTENT,
    _judgements_for,
    _stating_paragraph,
    _when,
    distinct_reports,
    is_statement,
    list_intent,
    wanted_areas,
)
from core.models import Judgement, Paragraph, Report

TIMELINE_INTENT = re.compile(
    r"\bhow\s+(?:has|have|did)\b.*\b(chang\w*|improv\w*|progress\w*|develop\w*|deteriorat\w*|got (?:better|worse)|mov\w*|evolv\w*)\b"
    r"|\b(?:changed|improved|deteriorated|progressed|got better|got worse)\b.*\b(?:since|over|between|across)\b"
    r"|\bwhat(?:'s| has| have)\s+changed\b"
    r"|\bsince (?:the|its|their) (?:last|previous|earlier) (?:inspection|visit|report)\b"
    r"|\bover time\b|\btimeline\b|\bover the years\b|\bacross (?:its|their|the) (?:inspections|reports)\b"
    r"|\bhas\s+\w+(?:'s)?\s+(?:\w+\s+){0,4}?improved\b|\bhave\s+(?:\w+\s+){0,5}?improved\b"
    # "what improvements have been made in Trafford since 2019?", "what progress has Leeds made since its last inspection?"
    r"|\b(?:improvements?|progress)\b[^?]{0,50}?\b(?:made|achieved|seen)\b[^?]{0,40}?\bsince\b"
    r"|\bcompar\w*\b[^?]{0,40}?\b(?:the one before|the previous(?: one| inspection| report| visit)?|the one prior|the earlier one|before (?:that|it))\b",
    re.I,
)
# Sentences in which inspectors state a change: what a "how has it changed" answer needs first.
CHANGE_FOCUS = re.compile(
    r"\b(?:improv\w*|deteriorat\w*|progress\w*|strengthen\w*|declin\w*|weaken\w*|sustain\w*|better|worse|"
    r"since the (?:last|previous)|at the (?:last|previous)|than (?:at|in|they did)|no longer|now|too slow|pace of)\b",
    re.I,
)
_RANK = {"outstanding": 4, "good": 3, "requires improvement": 2, "inadequate": 1}


# "the 2022 focused visit", "the 2018 SIF report", "the covid-era focused visit", "the 2025 inspection"
_REFERENCE = re.compile(
    r"\b(?:(?P<year>(?:19|20)\d\d)|(?P<covid>covid(?:-19)?(?:-era)?|pandemic(?:-era)?|lockdown))\b"
    r"(?:\s+(?P<kind>focus(?:s)?ed[- ]visits?|monitoring[- ]visits?|SIF|ILACS|(?:area\s+)?SEND)\b)?"
    r"(?:\s+(?P<noun>inspections?|visits?|reports?|letters?)\b)?",
    re.I,
)
_KIND_TYPES = {"focused": "focused_visit", "focussed": "focused_visit", "monitoring": "monitoring_visit", "sif": "sif_inspection", "ilacs": "ilacs_inspection", "send": "area_send_inspection", "area": "area_send_inspection"}
_COMPARE_WORDS = re.compile(r"\b(compar\w*|contrast\w*|differ\w*)\b", re.I)


def timeline_intent(question: str, authorities: Sequence[str]) -> bool:
    """One authority over time: "how has X changed", or two of its reports compared."""
    if len(authorities) != 1:
        return False
    two_ends = bool(_COMPARE_WORDS.search(question) or re.search(r"\bbetween\b", question, re.I))
    return bool(TIMELINE_INTENT.search(question)) or (two_ends and len(_references(question)) >= 2)


def _references(question: str) -> list[tuple[tuple[int, ...], str | None]]:
    """The reports a question points at by year (or era) and kind: [((years...), report type or noun), ...]."""
    found: list[tuple[tuple[int, ...], str | None]] = []
    bare: list[tuple[int, ...]] = []
    for match in _REFERENCE.finditer(question):
        years = (int(match.group("year")),) if match.group("year") else (2020, 2021)
        kind, noun = match.group("kind"), match.group("noun")
        if kind or noun:
            named = _KIND_TYPES.get(kind.split()[0].split("-")[0].lower()) if kind else noun.lower().rstrip("s")
            if (noun or kind or "").lower().endswith("s") and bare:
                # "the 2019 and 2023 inspections": the years before a plural noun share it
                found.extend((earlier, named) for earlier in bare)
                bare = []
            found.append((years, named))
        elif match.group("year") and years not in bare:
            bare.append(years)
    for match in LATEST_END.finditer(question):
        # "the latest inspection": the newest report (of that kind), whatever its year
        words = match.group(0).lower().split()
        kind = next((_KIND_TYPES[w] for w in words if w in _KIND_TYPES), None)
        noun = words[-1].rstrip("s") if words[-1].rstrip("s") in ("inspection", "visit", "report", "letter") else None
        found.append(((), kind or noun))
    if len(found) < 2 and bare and _COMPARE_WORDS.search(question):
        # "compare ... in 2019 and in 2026": each year's report, when it has one; "from 2017 to 2025" is a span
        found.extend((years, None) for years in bare)
    return found


def _matches(report: Report, years: tuple[int, ...], kind: str | None) -> bool:
    """Whether a report is the one a reference means: visited or published in one of the years (any year when none
    is given: the latest), of that kind."""
    meta = report.metadata
    when = {d.year for d in (meta.visit_start, meta.visit_end, meta.published) if d}
    if years and not when & set(years):
        return False
    if kind == "inspection":
        return meta.report_type.endswith("_inspection")
    if kind == "visit":
        return meta.report_type.endswith("_visit")
    if kind in ("report", "letter", None):
        return True
    return meta.report_type == kind


def referenced_reports_one(question: str, reports: Sequence[Report]) -> Report | None:
    """The one report a question names by year and kind ("the 2023 inspection"), when it names exactly one and
    exactly one report matches; else None."""
    references = [r for r in _references(question) if r[1] is not None]
    if len(references) != 1:
        return None
    found = [r for r in distinct_reports(reports) if _matches(r, *references[0])]
    return found[0] if len(found) == 1 else None


def referenced_reports(question: str, reports: Sequence[Report]) -> list[Report]:
    """The reports a question names as its two ends ("between the 2022 focused visit and the 2025 inspection"),
    oldest first, when it names two and each matches exactly one report; else []."""
    references = _references(question)
    if len(references) != 2:
        return []
    chosen: list[Report] = []
    for years, kind in references:
        found = [r for r in distinct_reports(reports) if _matches(r, years, kind)]
        if not years and found:
            found = [max(found, key=_when)]  # the latest
        if len(found) != 1 or found[0] in chosen:
            return []
        chosen.append(found[0])
    return oldest_first(chosen)


# "How has X changed between A and B?", "... from A to B": the path between them, every report on it; "how did X
# change between A and B?" and "compare A and B" ask about the two ends alone.
_PATH = re.compile(r"\bhow\s+(?:has|have)\b|\bfrom\b.+\bto\b", re.I)


def between_ends(question: str, reports: Sequence[Report], ends: Sequence[Report]) -> list[Report]:
    """The reports a timeline sets side by side when the question names two ends: the two alone, or every report
    from one to the other when it asks how things have changed along the way."""
    if len(ends) != 2 or not _PATH.search(question) or _COMPARE_WORDS.search(question):
        return list(ends)
    first, last = _when(ends[0]), _when(ends[1])
    return [r for r in oldest_first(reports) if first <= _when(r) <= last]


def since_last(question: str, reports: Sequence[Report]) -> list[Report]:
    """ "Has it improved since its last inspection?": the last inspection set beside the one before it (and the visits
    between), or, when visits came after it, the last inspection and those visits; [] when the question does not ask
    that, or names dates."""
    if not SINCE_LAST.search(question) or _references(question):
        return []
    ordered = oldest_first(reports)
    inspections = [r for r in ordered if r.metadata.report_type.endswith("_inspection") and r.metadata.report_type != "area_send_inspection"]
    if not inspections:
        return []
    start = inspections[-1] if ordered[-1] is not inspections[-1] or len(inspections) < 2 else inspections[-2]
    return [r for r in ordered if _when(r) >= _when(start) and r.metadata.report_type != "area_send_inspection"]


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


def timeline_areas(question: str) -> list[str]:
    """The judgement areas a timeline follows: those named; every area for "which judgements improved?"; else overall."""
    named = wanted_areas(question)
    if named:
        return named
    if GRADE_INTENT.search(question) and not re.search(r"\boverall\b", question, re.I):
        return [a for a in AREA_LABELS if a not in ("lscb", "other")]
    return ["overall_effectiveness"]


def grade_lines(reports: Sequence[Report], question: str, paragraphs_of, areas: Sequence[str] = ()) -> dict[str, list[GradeLine]]:
    """Per report (oldest first), its judgements on the question's areas, with the movement since the last.

    A report of the April 2026 framework gives no overall grade: where the overall grade is asked for, such a
    report's grade lines are its area judgements instead, each with its movement since the last grade for it.
    `areas` overrides the areas the question names (the area a narrower topic is judged under)."""
    areas = list(areas) or timeline_areas(question)
    previous: dict[str, str] = {}
    out: dict[str, list[GradeLine]] = {}
    for report in sorted(reports, key=_when):
        wanted = _judgements_for(report, areas)
        if not wanted and areas == ["overall_effectiveness"] and _when(report) >= APRIL_2026:
            wanted = list(report.metadata.judgements)
        lines = []
        for judgement in report.metadata.judgements:
            key = _area_key(judgement)
            change = movement(previous.get(key), judgement.grade)
            previous[key] = judgement.grade
            if judgement in wanted:
                paragraph = _stating_paragraph(paragraphs_of(report.report_id), [judgement.grade, judgement.label])
                lines.append(GradeLine(report, judgement, change, paragraph))
        out[report.report_id] = lines
    return out


def _area_key(judgement: Judgement) -> str:
    """The area a grade is followed by over time: an older "children in care and care leavers" grade continues
    as the care leavers grade."""
    return judgement.area if judgement.area != "in_care" or "care leavers" not in judgement.label.lower() else "care_leavers"


# Parts of practice and the judged area an ILACS report grades them under ("the front door" is part of help and
# protection): a timeline on one shows that area's grade at each inspection. Not the leaders judgement: it weighs
# everything, so its grade says little about the workforce or audits alone.
TOPIC_AREAS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "help_protection",
        re.compile(
            r"\bfront door\b|\bmash\b|\bmulti-agency safeguarding hub\b|\bcontacts?\b|\breferrals?\b|\bearly help\b"
            r"|\bstrategy (?:meetings?|discussions?)\b|\bsection 47\b|\bpre-proceedings\b|\bpublic law outline\b|\bhomeless\b"
            r"|\bprivate fostering\b|\blado\b|\bdomestic abuse\b|\bchildren in need\b",
            re.I,
        ),
    ),
    ("in_care", re.compile(r"\bplacements?\b|\bpermanence\b|\bfoster(?:ing| carers?)\b|\bvirtual school\b|\bcorporate parent", re.I)),
    ("care_leavers", re.compile(r"\bpersonal advisers?\b|\bpas?\b|\bpathway plans?\b|\bstaying put\b|\bstaying close\b", re.I)),
)


def topic_areas(topic: str) -> list[str]:
    """The one judged area a narrower topic sits under, or [] when it names none or several."""
    found = [area for area, pattern in TOPIC_AREAS if pattern.search(topic)]
    return found if len(found) == 1 else []


def area_phrase(question: str) -> str:
    areas = timeline_areas(question)
    return "graded" if len(areas) > 2 else " and ".join(AREA_LABELS[a] for a in areas)


def oldest_first(reports: Sequence[Report]) -> list[Report]:
    return sorted(distinct_reports(reports), key=lambda r: _when(r) or date.min)


# Sections that frame a report rather than give findings: what the inspection looked at, what its grades mean,
# figures about the area ("Kent is a shire county ..."). A 2013 inspection opens with them.
_FRAMING = re.compile(
    r"^\s*(?:about this (?:inspection|visit)|the inspection judgements and what they mean|service information|contents"
    r"|information about this (?:local authority|area)|local authority context)\b",
    re.I,
)


def opening_summary(paragraphs: Sequence[Paragraph]) -> list[Paragraph]:
    """A report's own summary of how things stand: the findings that open it, before its "What needs to improve"
    list (an ILACS report's headline paragraphs, a letter's headline findings). A letter that opens with the list
    (the covid-era focused visits) is summed up by the first findings after it."""
    # what comes before the first heading is the letter's address, not a finding
    findings = [
        p for p in paragraphs
        if p.heading_path and is_statement(p) and not about_the_visit(p.text, "") and not is_meta(p.text)
        and not any(_FRAMING.match(heading) for heading in p.heading_path)
    ]
    end = next((p.order for p in paragraphs if p.kind == "heading" and is_improvement_heading(p.text)), None)
    opening = [p for p in findings if end is None or p.order < end]
    # a summary of one long paragraph is a summary (Islington 2025); a line or two before the list is not
    if sum(len(p.text.split()) for p in opening) < 60:
        opening = [p for p in findings if not in_improvement_list(p)][:8]
    return opening[:12]


# "Which authorities improved ...?", "whose overall grade went down at their latest inspection?": a list of grade
# movements between an authority's consecutive graded inspections, not a list of grades. Verbs of movement only:
# "requires improvement" and "areas for improvement" name a grade or a list, not a move.
_UP = re.compile(r"\b(?:improved|improving|improves|went up|gone up|go(?:es)? up|rose|risen|upgraded|moved up|got better)\b", re.I)
_DOWN = re.compile(
    r"\b(?:declined|declining|declines|went down|gone down|go(?:es)? down|fell|fallen|dropped|downgraded|moved down|got worse|"
    r"deteriorated|deteriorating)\b",
    re.I,
)
_GRADE_NAME = r"(outstanding|good|requires? improvement(?: to be good)?|inadequate)"
_FROM_TO = re.compile(rf"\bfrom\s+{_GRADE_NAME}\s+to\s+{_GRADE_NAME}\b", re.I)
_TO_GRADE = re.compile(rf"\b(?:to|into)\s+(?:an?\s+)?{_GRADE_NAME}\b", re.I)
_FROM_GRADE = re.compile(rf"\bfrom\s+(?:an?\s+)?{_GRADE_NAME}\b", re.I)
_LATEST_PAIR = re.compile(r"\b(?:latest|last|most recent|recent|current)\b", re.I)


_WHICH = re.compile(r"^\s*(?:(?:and|but|so|then)\s*,?\s*)?(?:which|what)\b", re.I)


def movement_intent(question: str) -> bool:
    """Whether the question asks which authorities' grades moved (up, down, or from one grade to another): a list
    question with a verb of movement, or a follow-up ("and which went down from good to inadequate?") that names a
    grade or asks for one."""
    moved = bool(_FROM_TO.search(question) or _UP.search(question) or _DOWN.search(question))
    if not moved:
        return False
    graded = bool(_FROM_TO.search(question) or _TO_GRADE.search(question) or _FROM_GRADE.search(question) or GRADE_INTENT.search(question))
    return list_intent(question) or (bool(_WHICH.match(question)) and graded)


@dataclass(frozen=True)
class Move:
    """One authority's judgement on an area at two consecutive graded inspections."""

    earlier: tuple[Report, Judgement]
    later: tuple[Report, Judgement]


def grade_moves(question: str, reports: Sequence[Report], window: tuple[date | None, date | None]) -> tuple[list[Move], str]:
    """The moves the question asks about, and a sentence saying what was compared. With two grades named ("from
    inadequate to good") every consecutive pair of an authority's graded inspections counts; otherwise only its
    latest graded inspection against the one before. A pair counts when its later inspection falls in `window`."""
    areas = wanted_areas(question) or ["overall_effectiveness"]
    named = _FROM_TO.search(question)
    wanted: tuple[int | None, int | None] = (grade_rank(named.group(1)), grade_rank(named.group(2))) if named else (None, None)
    up, down = bool(_UP.search(question)), bool(_DOWN.search(question))
    to, origin = _TO_GRADE.search(question), _FROM_GRADE.search(question)
    start, end = window
    # "went down in 2025": any pair whose later inspection is in 2025; "went down" alone: the latest pair
    latest_only = (not named and not (start or end)) or bool(_LATEST_PAIR.search(question))
    by_authority: dict[str, list[Report]] = {}
    for report in distinct_reports([r for r in reports if r.metadata.judgements and r.metadata.report_type != "area_send_inspection"]):
        by_authority.setdefault(report.metadata.local_authority or report.report_id, []).append(report)
    moves: list[Move] = []
    compared: set[str] = set()
    ungraded: set[str] = set()
    for authority in sorted(by_authority):
        for area in areas:
            graded = [
                (report, judgement)
                for report in sorted(by_authority[authority], key=_when)
                for judgement in _judgements_for(report, [area])[:1]
                if grade_rank(judgement.grade) is not None
            ]
            pairs = list(zip(graded, graded[1:], strict=False))
            newest = max(by_authority[authority], key=_when)
            if latest_only and graded and newest is not graded[-1][0] and not _judgements_for(newest, [area]) and _when(newest) >= APRIL_2026:
                ungraded.add(authority)  # its latest inspection gives no overall grade: no latest move to report
                continue
            if latest_only:
                pairs = pairs[-1:]
            pairs = [(a, b) for a, b in pairs if (not start or _when(b[0]) >= start) and (not end or _when(b[0]) <= end)]
            if pairs:
                compared.add(authority)
            for (a, b) in pairs:
                before, after = grade_rank(a[1].grade), grade_rank(b[1].grade)
                assert before is not None and after is not None
                if named and (before, after) != wanted:
                    continue
                if not named and ((up and not after > before) or (down and not after < before)):
                    continue
                if not named and ((to and after != grade_rank(to.group(1))) or (origin and before != grade_rank(origin.group(1)))):
                    continue  # "dropped to inadequate", "went up from requires improvement"
                moves.append(Move(a, b))
    which = " or ".join(AREA_LABELS.get(a, a) for a in areas)
    pairs_meant = "consecutive graded inspections" if not latest_only else "latest graded inspection against the one before"
    change = f"from {named.group(1).lower()} to {named.group(2).lower()}" if named else ("went down" if down and not up else "went up")
    if not named and origin:
        change += f" from {origin.group(1).lower()}"
    if not named and to:
        change += f" to {to.group(1).lower()}"
    authorities = sorted({m.later[0].metadata.local_authority or "" for m in moves})
    listed = f" ({', '.join(authorities)})" if authorities else ""
    counted = f"{len(authorities)} authorit{'y' if len(authorities) == 1 else 'ies'}" if authorities else "No authority"
    reason = (
        f"{counted}{listed} of the {len(compared)} with two graded inspections "
        f"to compare: {which}, {change}, comparing each authority's {pairs_meant}."
    )
    if ungraded:
        reason += (
            f" Left out: {', '.join(sorted(ungraded))}, whose latest inspection (the April 2026 framework) gives no "
            f"{which} grade."
        )
    return moves, reason
