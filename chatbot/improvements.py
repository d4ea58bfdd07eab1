""""What does X need to improve?": the report's own list, from its "What needs to improve" section.

Every ILACS report and focused-visit letter closes its summary with a short list of what the authority
needs to improve (area SEND reports: "Areas for improvement"). A question that asks for that list is
answered with the list itself, complete and each point cited, not with the passages nearest in meaning.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from chatbot.query import DOMAIN_WORDS
from chatbot.structured import _when, distinct_reports
from core.models import Paragraph, Report
from vectorstore.keyword import tokenize

IMPROVE_INTENT = re.compile(
    r"\bwhat\s+(?:do|does|did|should|must|would)\s+.{0,60}?\b(?:need|needs|have|has|had)\s+to\s+(?:improve|do better|work on|get better)"
    r"|\bwhat\s+(?:needs|need|needed)\s+(?:to\s+)?improv\w*"
    r"|\bwhat\b.{0,60}?\bneed(?:s|ed)?\s+to\s+(?:improve|do better|work on)\b"
    r"|\bareas?\s+(?:for|of|needing|requiring)\s+improvement"
    r"|\b(?:ask|asks|asked|tell|told|wanted|want|expect|expected|recommend|recommended|required)\b.{0,60}?\b(?:to\s+)?(?:improve|do better)\b"
    r"|\bdo better\b"
    # "what improvements were needed in Hertfordshire?", "which improvements did inspectors identify?"
    r"|\b(?:what|which)\s+improvements?\b(?!\s+(?:has|have|had|were made|was made|did \w+ make))"
    r"|\brecommendations?\b"
    r"|\bwhat\s+(?:should|must)\s+.{0,40}?\bimprove\b"
    # "what are the main weaknesses in Birmingham's children's services?": what inspectors said must improve
    r"|\b(?:what|which)\b.{0,40}?\b(?:weakness(?:es)?|shortcomings|(?:main|key|biggest|greatest) concerns?)\b",
    re.I,
)
_SECTION = re.compile(r"^\s*(?:what needs to improve|areas for improvement)", re.I)
# Words of the intent itself: what is left names a topic ("for care leavers")
_INTENT_WORDS = frozenset(
    tokenize(
        "what which does do did should must would need needs needed have has had to improve improvement improvements "
        "improving areas area for of needing requiring asked told wanted want expected recommended recommendation "
        "recommendations required better work on get one thing things inspectors inspector ofsted main key most "
        "important biggest the a an is are was were it its their they them this that latest last report inspection visit "
        "ask asks tell compare comparing focused identify identified identifies say said says find found list listed "
        "give gave given make made set out point points raise raised mention mentioned highlight highlighted name named "
        "after following from during send area local partnership partners council authority services service "
        "weakness weaknesses shortcomings concern concerns greatest children's children"
    )
)


def improve_intent(question: str) -> bool:
    return bool(IMPROVE_INTENT.search(question))


def topic_words(topic: str) -> list[str]:
    """What the question is about beyond asking for improvements ("care leavers" in "what must improve for care
    leavers"): [] when what is left names no subject of the reports ("which two things ...", "the covid-era visit")."""
    words = [word for word in re.findall(r"[\w'\u2019+-]+", topic) if any(t not in _INTENT_WORDS for t in tokenize(word))]
    if not DOMAIN_WORDS.search(" ".join(words)):
        return []
    return [token for word in words for token in tokenize(word) if token not in _INTENT_WORDS]


def is_improvement_heading(text: str) -> bool:
    """Whether a heading opens the "What needs to improve" (or "Areas for improvement") list."""
    return bool(_SECTION.match(text))


def in_improvement_list(paragraph: Paragraph) -> bool:
    """Whether a paragraph is a point under a "What needs to improve" (or "Areas for improvement") heading."""
    return paragraph.kind != "heading" and bool(paragraph.heading_path) and bool(_SECTION.match(paragraph.heading_path[-1]))


def improvement_points(paragraphs: Sequence[Paragraph]) -> list[Paragraph]:
    """The points listed under the report's "What needs to improve" (or "Areas for improvement") heading."""
    # sub-headings inside the list ("Help and protection" in SIF reports) are labels, not points
    return [p for p in paragraphs if in_improvement_list(p) and (len(p.text.split()) >= 5 or p.text.rstrip().endswith("."))]


def reports_with_points(
    reports: Sequence[Report], paragraphs_of: Callable[[str], list[Paragraph]], *, every: bool
) -> list[tuple[Report, list[Paragraph]]]:
    """Each authority's latest report that lists what to improve (all of them when `every`), newest first."""
    found: list[tuple[Report, list[Paragraph]]] = []
    for report in sorted(distinct_reports(reports), key=_when, reverse=True):
        points = improvement_points(paragraphs_of(report.report_id))
        if points:
            found.append((report, points))
    if every:
        return found
    latest: dict[str, tuple[Report, list[Paragraph]]] = {}
    for report, points in found:
        latest.setdefault(report.metadata.local_authority or report.report_id, (report, points))
    return list(latest.values())
