"""Structured questions answered from report metadata: grades, visit dates, inspectors.

Top-k passages cannot be trusted with "what grade did X get for care leavers in 2023?": the answer is a
field of one report's judgement table. This module reads it from the catalog, applies Ofsted's rules
(focused visits are not graded; the latest graded inspection stands; the April 2026 framework has no
overall effectiveness grade), and cites the paragraph of the report that states it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

from chatbot.query import QueryPlan
from core.models import REPORT_TYPE_LABELS, Judgement, Paragraph, Report
from core.text import and_list, normalise
from vectorstore.keyword import tokenize

GRADE_INTENT = re.compile(
    r"\b(grade[sd]?|grading|judg(?:e)?ments?|judged|rated|rating|ratings|overall effectiveness|"
    r"outcome of .*\bsend\b|send outcomes?)\b"
    r"|\b(?:what|how)\s+(?:was|were|is|are)\s+(?:the|its|their)\s+(?:results?|outcomes?)\b",
    re.I,
)
DATE_INTENT = re.compile(
    r"^\s*(?:when|on which dates?|on what dates?|what dates?)\b.*\b(inspect\w*|visit\w*|carried out|take place|took place)\b"
    r"|\b(inspection|visit) dates\b",
    re.I,
)
# "What did the 2020 focused visit look at?": a visit's focus, from the metadata
FOCUS_INTENT = re.compile(
    r"\b(?:what|which)\b.{0,40}?\b(?:did|does|do|was|were)\b.{0,80}?"
    r"\b(?:look(?:ing)?\s+at|focus(?:ed|ing)?\s+on|examine|review|cover)\b"
    r"|\bwhat\s+(?:was|were|is)\b.{0,60}?\bvisits?\s+(?:about|on)\s*\??\s*$"
    r"|\bwhat\s+(?:was|were|is)\s+the\s+(?:focus|scope|theme|subject)s?\b"
    r"|\b(?:focus|scope|theme|subject)\s+of\s+(?:the|this|that|its|their)\b.{0,40}?\bvisit",
    re.I,
)
INSPECTOR_INTENT = re.compile(r"\b(who|which inspectors?)\b.*\b(lead|led|inspect\w*|carried out)\b|\blead inspector\b", re.I)
_DATED = re.compile(r"\b(?:before|since|prior to)\s+(?:(?:january|february|march|april|may|june|july|august|september|october|november|december)\s+)?(?:19|20)\d\d\b", re.I)
_RELATIVE = re.compile(r"\b(before|previous|prior|earlier|since|changed|improved|compare|comparison|why)\b", re.I)

AREA_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("care_leavers", re.compile(r"\bcare[- ]leavers?\b|\bleaving care\b|\bcare[- ]experienced\b|\bafter ?care\b", re.I)),
    ("in_care", re.compile(r"\bchildren in care\b|\blooked[- ]after\b|\bin care\b(?! leavers)", re.I)),
    ("help_protection", re.compile(r"\bhelp (?:and )?protection\b|\bneed (?:of )?help\b|\bchild protection\b", re.I)),
    ("leaders", re.compile(r"\bleaders?\b|\bleadership\b|\bmanagement\b|\bgovernance\b", re.I)),
    ("adoption", re.compile(r"\badoption\b", re.I)),
    # an area SEND inspection's outcome is its overall verdict ("compare the area SEND outcomes of Dorset and Durham");
    # "outcomes for children" is a topic
    ("overall_effectiveness", re.compile(r"\boverall\b|\boutcome\b|\b(?:send|inspection) outcomes\b", re.I)),
    # a SIF report's review of the local safeguarding children board: its own grade, not the overall judgement
    ("lscb", re.compile(r"\blscb\b|\bsafeguarding children(?:'s|\u2019s)? board\b", re.I)),
)
GRADE_WORDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("outstanding", re.compile(r"\boutstanding\b", re.I)),
    ("good", re.compile(r"(?<!to be )\bgood\b", re.I)),
    ("requires improvement", re.compile(r"\brequires? improvement\b", re.I)),
    ("inadequate", re.compile(r"\binadequate\b", re.I)),
    # an area SEND inspection's outcome (from 2023) stands where a grade would
    ("widespread and/or systemic failings", re.compile(r"\b(?:widespread\W+(?:and\W+or\W+|or\W+|and\W+)?)?systemic failings\b", re.I)),
    ("inconsistent experiences and outcomes", re.compile(r"\binconsistent experiences and outcomes\b", re.I)),
    ("positive experiences and outcomes", re.compile(r"\bpositive experiences and outcomes\b", re.I)),
)
SEND_OUTCOMES = ("widespread and/or systemic failings", "inconsistent experiences and outcomes", "positive experiences and outcomes")
AREA_LABELS = {
    "overall_effectiveness": "overall effectiveness",
    "leaders": "the impact of leaders",
    "help_protection": "help and protection",
    "in_care": "children in care",
    "care_leavers": "care leavers",
    "adoption": "adoption",
    "lscb": "the safeguarding children board",
    "other": "other",
}


@dataclass(frozen=True)
class Fact:
    """One statement of a structured answer and the paragraph that states it."""

    text: str
    report: Report
    paragraph: Paragraph | None
    note: str = ""  # said after the citation, not by the cited paragraph ("no longer standing: ...")
    value: str = ""  # what it answers in a few words, as its text gives it: a grade, visit dates, a lead inspector


@dataclass(frozen=True)
class StructuredAnswer:
    kind: str  # "grade", "date", "inspector"
    facts: tuple[Fact, ...] = ()
    refusal: str | None = None  # set when the question's premise does not hold
    reason: str = ""
    passages_may_answer: bool = False  # no report's metadata matches, but its text may: try the passage route
    lead: str = ""  # said before the facts ("... gives no overall effectiveness grade; its judgements:")


def structured_intent(question: str) -> str | None:
    """Which structured question this is, if any."""
    if _RELATIVE.search(_DATED.sub(" ", question)):
        return None  # "before", "since", "why", "changed": prose questions, not a field lookup ("before 2025" is a date)
    if DATE_INTENT.search(question):
        return "date"
    if FOCUS_INTENT.search(question) and re.search(r"\bvisits?\b", question, re.I):
        return "focus"
    if INSPECTOR_INTENT.search(question):
        return "inspector"
    if GRADE_INTENT.search(question):
        return "grade"
    return None


# "Is Hackney good?", "Was Trafford's help and protection inadequate?": a yes-or-no question about a grade.
_IS_GRADED = re.compile(
    r"^\s*(?:is|are|was|were)\b(?P<middle>.*?)\b(?:still\s+|now\s+|rated\s+|judged\s+)*"
    r"(?:outstanding|good|inadequate|requires? improvement(?: to be good)?|requiring improvement)\s*[?.!]*\s*$",
    re.I,
)
_GRADED_FILLER = frozenset(tokenize("the its their council council's children's children services service overall still now judgement judgment grade rating"))


def yes_no_grade(question: str) -> bool:
    """Whether a question (its authority names already removed) asks if a grade holds, for the authority as a whole or
    a judged area: "Is good?" once "Hackney" is gone, "Was 's help and protection inadequate?"; not "Is the front
    door good?", which asks about more than a grade."""
    match = _IS_GRADED.match(question)
    if match is None:
        return False
    middle = match.group("middle")
    for _, pattern in AREA_PATTERNS:
        middle = pattern.sub(" ", middle)
    return not [t for t in tokenize(middle) if len(t) > 1 and t not in _GRADED_FILLER and t not in _AREA_FILLER]


def yes_no_verdict(question: str, reports: Sequence[Report]) -> str:
    """The answer to "Is Hackney good?" from the reports whose grades answer it: "Yes" when every one of them gives the
    grade asked for the area asked (overall effectiveness when none is named), else "No"; "" when none gives a
    judgement on it."""
    wanted = presupposed_grade(question)
    areas = wanted_areas(question) or ["overall_effectiveness"]
    judged = [j for r in reports for j in _judgements_for(r, areas)]
    if wanted is None or not judged:
        return ""
    return "Yes" if all(_grade_is(j.grade, wanted) for j in judged) else "No"


def without_grade(question: str) -> str:
    """The question less the grade it asks about: "Is Hackney good?" -> "Is Hackney?", so that the grade is looked up,
    not presupposed."""
    match = _IS_GRADED.match(question)
    return f"{question[: match.end('middle')].rstrip()}?" if match else question


def structured_intents(question: str) -> list[str]:
    """Every structured question asked, first the main one: "Who led the inspection and when was it?" asks two."""
    first = structured_intent(question)
    if first is None:
        return []
    kinds = [first]
    for clause in re.split(r"\band\b|[,;]", question)[1:]:
        kind = structured_intent(clause.strip())
        if kind is not None and kind not in kinds:
            kinds.append(kind)
    return kinds


def wanted_areas(question: str) -> list[str]:
    return [area for area, pattern in AREA_PATTERNS if pattern.search(question)]


# Words that add nothing to a judged area: "help and protection services", "support for care leavers".
_AREA_FILLER = frozenset(
    tokenize(
        "services service support supported provision practice work experiences experience progress quality "
        "children child young people families local authority council compare comparison latest last recent "
        "inspection inspections visit findings judgement judgements grade grades rated rating view views"
    )
)


# Every judgement asked for, no area named: "Camden's grades", "all of Leeds's judgements", "the full set of ratings"
_EVERY_GRADE = re.compile(
    r"\b(?:grades|judgements|judgments|ratings)\b|\b(?:all|each|every)\b(?:\s+(?:of\s+)?(?:the|its|their|[\w'\u2019]+['\u2019]s))?\s+(?:grade|judgement|judgment|rating)s?\b",
    re.I,
)


def about_areas_only(topic: str) -> bool:
    """Whether the topic is a judged area and nothing narrower ("help and protection", not "care leavers' housing")."""
    if not wanted_areas(topic):
        return False
    rest = topic
    for _, pattern in AREA_PATTERNS:
        rest = pattern.sub(" ", rest)
    return not [t for t in tokenize(rest) if t not in _AREA_FILLER]


def presupposed_grade(question: str) -> str | None:
    """A grade the question takes for granted ("why was X judged inadequate ...")."""
    for name, pattern in GRADE_WORDS:
        if pattern.search(question):
            return name
    return None


APRIL_2026 = date(2026, 4, 1)  # the framework from which ILACS reports give no overall grade


def _framework_note(report: Report) -> str:
    """Why a report has no overall grade, where the framework is the reason."""
    return " (the April 2026 framework gives none)" if _when(report) >= APRIL_2026 else ""


def standing_reports(own: Sequence[Report], send: bool) -> list[Report]:
    """Where one authority stands now, for a question with no time in it: its latest inspection of the kind asked (an
    area SEND inspection for SEND; else an ILACS or SIF inspection) and its reports of that kind since; all of that
    kind when none is an inspection, and all its reports when it has none of that kind."""
    kind = [r for r in own if (r.metadata.report_type == "area_send_inspection") == send]
    if not kind:
        return list(own)
    inspections = [r for r in kind if r.metadata.report_type in ("ilacs_inspection", "sif_inspection", "area_send_inspection")]
    since = _when(max(inspections, key=_when)) if inspections else _when(max(kind, key=_when))
    return [r for r in kind if _when(r) >= since]


def latest_reports(reports: Sequence[Report]) -> list[Report]:
    """Every authority's standing reports (`standing_reports`): children's services, and SEND where it has any."""
    by_authority: dict[str, list[Report]] = {}
    for report in reports:
        by_authority.setdefault(report.metadata.local_authority or "", []).append(report)
    out: list[Report] = []
    for own in by_authority.values():
        out += standing_reports(own, False)
        if any(r.metadata.report_type == "area_send_inspection" for r in own):
            out += standing_reports(own, True)
    return list({r.report_id: r for r in out}.values())


def _when(report: Report) -> date:
    meta = report.metadata
    return meta.published or meta.visit_end or meta.visit_start or date.min


def distinct_reports(reports: Sequence[Report]) -> list[Report]:
    """One report per (authority, type, date): a PDF and its text export are the same report; the PDF stands."""
    chosen: dict[tuple[str, str, date], Report] = {}
    for report in reports:
        meta = report.metadata
        key = (meta.local_authority or report.report_id, meta.report_type, _when(report))
        current = chosen.get(key)
        if current is None or (report.source.lower().endswith(".pdf") and not current.source.lower().endswith(".pdf")):
            chosen[key] = report
    kept = {id(report) for report in chosen.values()}
    return [r for r in reports if id(r) in kept]


def _judgements_for(report: Report, areas: Sequence[str]) -> list[Judgement]:
    found = []
    for judgement in report.metadata.judgements:
        label = judgement.label.lower()
        for area in areas:
            if judgement.area == area or (area == "care_leavers" and "care leavers" in label):
                found.append(judgement)
                break
    return found


def is_statement(paragraph: Paragraph) -> bool:
    """A sentence of prose, not a heading or a judgement-table row ("Overall effectiveness: Inadequate")."""
    return paragraph.kind != "heading" and len(paragraph.text.split()) >= 6 and ": " not in paragraph.text[:120]


_RI_PROSE = re.compile(r"\brequire[sd]? (?:further |some )?improvements? to be good\b")
_RI_PROSE_SHORT = re.compile(r"\brequire[sd]? (?:further |some )?improvements?\b(?! to be good)")
_GRADE_PHRASES = ("requires improvement to be good", "requires improvement", "outstanding", "good", "inadequate")


def states_grade(text: str, grade: str) -> bool:
    """Whether the text gives this grade: "good" is not stated by "requires improvement to be good"."""
    wanted = normalise(grade)
    # prose words the middle grade its own way: "services still require further improvements to be good"
    found = _RI_PROSE.sub("requires improvement to be good", normalise(text))
    found = _RI_PROSE_SHORT.sub("requires improvement", found)  # the pre-2015 scale: "services require improvement"
    for longer in _GRADE_PHRASES:
        if wanted != longer and wanted in longer:
            found = found.replace(longer, " ")
    return re.search(rf"\b{re.escape(wanted)}\b", found) is not None


def _stating_paragraph(paragraphs: Sequence[Paragraph], phrases: Sequence[str]) -> Paragraph | None:
    """The paragraph that best states the given phrases (all words of the first must appear; a grade, as a grade)."""
    required = set(tokenize(phrases[0])) if phrases else set()
    grade = phrases[0] if phrases and normalise(phrases[0]) in _GRADE_PHRASES else None
    best: tuple[float, Paragraph] | None = None
    for paragraph in paragraphs:
        words = set(tokenize(paragraph.text))
        if required and not required <= words:
            continue
        if grade is not None and (not states_grade(paragraph.text, grade) or about_an_earlier_inspection(paragraph, paragraphs)):
            continue
        if grade is not None and len(phrases) > 1 and not _names_area(phrases[1], words) and not _states_overall(phrases[1], paragraph):
            continue  # "Management oversight ... is inadequate" does not give the leadership grade
        score = sum(len(set(tokenize(p)) & words) / max(1, len(set(tokenize(p)))) for p in phrases[1:])
        score -= len(paragraph.text) / 5000  # shorter, more direct statements first
        if best is None or score > best[0]:
            best = (score, paragraph)
    return best[1] if best else None


def under_judgement(paragraph: Paragraph, judgement: Judgement) -> bool:
    """Whether the paragraph sits under the heading that gives this judgement ("The experiences and progress of care
    leavers: requires improvement to be good"), directly or under one of its sub-headings (a SIF export's "Summary"
    and "Inspection findings"): its citation, heading and all, states the grade."""
    label = set(tokenize(judgement.label))
    return any(label <= set(tokenize(heading)) and states_grade(heading, judgement.grade) for heading in paragraph.heading_path)


# A sentence about an earlier judgement ("when all services were judged to require improvement") does not give this one.
_EARLIER = re.compile(
    r"\b(?:last|previous|prior|earlier|preceding)\s+(?:full\s+|standard\s+|ilacs\s+)?(?:inspection|visit|judgement)s?\b"
    r"|\bwhen (?:all )?(?:services|it|they|the \w+) (?:was|were) (?:judged|rated|found)\b",
    re.I,
)
# Words of a judgement's label that do not tell one area from another.
_LABEL_FILLER = frozenset(tokenize("experiences progress impact social work practice families children child local authority services"))


def _area_words(label: str) -> set[str]:
    """The words of a judgement's label that tell its area from the others ("care leavers", not "experiences")."""
    return set(tokenize(label)) - _LABEL_FILLER


def _names_area(label: str, words: set[str]) -> bool:
    """Whether a paragraph's words name a judgement's area: at least half the words that tell it from the others."""
    area = _area_words(label)
    return not area or len(area & words) >= len(area) / 2


# A SIF report gives its overall judgement as "Children's services in Barnet are inadequate", naming no area.
_OVERALL_SENTENCE = re.compile(r"^children'?s services in [\w ,.'&()-]+? (?:are|is|requires?|remains?)\b")


def _states_overall(label: str, paragraph: Paragraph) -> bool:
    """Whether the paragraph is a SIF report's overall judgement sentence and the label the overall judgement's."""
    return "overall" in tokenize(label) and bool(_OVERALL_SENTENCE.match(normalise(paragraph.text)))


def list_lead_in(paragraph: Paragraph, paragraphs: Sequence[Paragraph]) -> Paragraph | None:
    """The sentence that introduces the list a bullet belongs to ("... This included:", "The judgements for the
    local authority were:"): the nearest paragraph before it, back over the list's other bullets, that ends with a
    colon; None when the bullet is not in such a list. `paragraphs` are the report's, in order."""
    if paragraph.kind != "bullet":
        return None
    for before in reversed([p for p in paragraphs if p.order < paragraph.order]):
        if before.text.rstrip().endswith(":"):
            return before if before.kind != "heading" else None
        if before.kind != "bullet":
            return None
    return None


def about_an_earlier_inspection(paragraph: Paragraph, paragraphs: Sequence[Paragraph]) -> bool:
    """Whether a paragraph is a point of a list of an earlier inspection's findings: a SIF report's "The last
    inspection report ... The judgements for the local authority were:" followed by one grade a bullet. (A
    paragraph's own sentences are judged one at a time, by `grade_sentence`: "since the last inspection ... is
    inadequate" gives the grade now.)"""
    lead = list_lead_in(paragraph, paragraphs)
    return lead is not None and bool(_EARLIER.search(lead.text))


def grade_sentence(paragraphs: Sequence[Paragraph], judgement: Judgement) -> tuple[Paragraph, str] | None:
    """The first sentence of the report's prose that gives this judgement's grade: it names the grade and the
    area ("The progress and experiences of care leavers are outstanding") and is not about an earlier inspection."""
    from core.text import split_sentences

    area = _area_words(judgement.label)
    for paragraph in paragraphs:
        if not is_statement(paragraph):
            continue
        for sentence in split_sentences(paragraph.text):
            if (
                states_grade(sentence, judgement.grade) and _grade_as_verdict(sentence, judgement.grade)
                and area <= set(tokenize(sentence)) and not _EARLIER.search(sentence)
            ):
                return paragraph, sentence
    return None


# After a grade given as a verdict ("care leavers' experiences are good", "judged good overall") comes the end of the
# clause, a linking word or "service"; after a grade word used as praise comes what it praises ("good support").
_AFTER_VERDICT = frozenset(
    "overall and or but in at for across since with as when because now again already still yet than by".split()
) | {"service", "services"}  # "children in care now receive a good service" is how some reports give the grade


def _grade_as_verdict(sentence: str, grade: str) -> bool:
    """Whether the sentence gives the grade as a verdict, not as praise of something ("PAs provide good support to
    care leavers" does not say the care leavers judgement is good)."""
    if " " in normalise(grade).strip():
        return True  # "requires improvement" is never praise
    text = normalise(sentence)
    for match in re.finditer(rf"\b{re.escape(normalise(grade))}\b", text):
        following = re.match(r"\s*(\w+)?", text[match.end():])
        word = following.group(1) if following else None
        if word is None or word in _AFTER_VERDICT or not text[match.end():match.end() + 1].isspace():
            return True
    return False


def judgement_fact(report: Report, judgement: Judgement, paragraphs: Sequence[Paragraph]) -> Fact:
    """ "Trafford, ILACS inspection of 31 January 2023: <judgement> - <grade>.", with the paragraph stating it."""
    kind = REPORT_TYPE_LABELS.get(report.metadata.report_type, "report")
    who = report.metadata.local_authority or "The authority"
    statement = f"{who}, {kind} of {_when(report):%-d %B %Y}: {judgement.label} - {judgement.grade}."
    return Fact(statement, report, _stating_paragraph(paragraphs, [judgement.grade, judgement.label]), value=judgement.grade)


def _date_phrase(start: date | None, end: date | None) -> str:
    if not start:
        return "on dates the report does not give"
    if not end or end == start:
        return f"on {start.day} {start:%B %Y}"
    if (start.year, start.month) == (end.year, end.month):
        return f"from {start.day} to {end.day} {end:%B %Y}"
    return f"from {start.day} {start:%B %Y} to {end.day} {end:%B %Y}"


# A field question about every report in scope, not the latest: "the inspections of Kent", "each visit", "when has
# Merton been inspected?" ("according to the reports" is not one).
_EVERY_REPORT = re.compile(
    r"\b(?:inspections|visits|each|every)\b|\bha(?:s|ve) (?:\w+ )?been (?:inspected|visited)\b|\bover the years\b",
    re.I,
)


class StructuredAnswerer:
    """Answers grade, date and inspector questions from the catalog's metadata."""

    def __init__(self, paragraphs_of) -> None:  # paragraphs_of: report_id -> list[Paragraph]
        self.paragraphs_of = paragraphs_of

    def answer(self, kind: str, plan: QueryPlan, reports: Sequence[Report]) -> StructuredAnswer | None:
        if not reports:
            return None
        if kind == "grade":
            return self._grade(plan, reports)
        if kind == "date":
            return self._dates(plan, reports)
        if kind == "inspector":
            return self._inspectors(plan, reports)
        if kind == "focus":
            return self._focus(plan, reports)
        return None

    def _pick(self, plan: QueryPlan, reports: Sequence[Report]) -> list[Report]:
        """The reports a field question is about: each authority's latest unless a date scope was given or the question
        asks about all of them ("which inspectors led the inspections of Kent?")."""
        ordered = sorted(distinct_reports(reports), key=_when)
        if (_EVERY_REPORT.search(plan.standalone) and not plan.latest) or plan.latest_count:
            return ordered  # "its last two inspections": the scope holds just those
        if plan.published_from or plan.published_to or plan.earliest:
            return ordered if not plan.earliest else ordered[:1]
        latest: dict[str, Report] = {}
        for report in ordered:
            latest[report.metadata.local_authority or report.report_id] = report
        return list(latest.values())

    def _grade(self, plan: QueryPlan, reports: Sequence[Report]) -> StructuredAnswer | None:
        question = plan.standalone
        areas = wanted_areas(question)
        supposed = presupposed_grade(question)
        if not re.search(r"\bsend\b|special educational", question, re.I):
            # an area SEND outcome is not a graded judgement of children's services
            reports = [r for r in reports if r.metadata.report_type != "area_send_inspection"]
        graded = [r for r in reports if r.metadata.judgements]
        if not graded:
            if not reports:
                return StructuredAnswer("grade", refusal="The reports do not answer this: no graded inspection of children's services is in the reports searched.", reason="no graded report in scope")
            listing = "; ".join(
                f"{r.metadata.local_authority} {REPORT_TYPE_LABELS.get(r.metadata.report_type)} of {_when(r):%-d %B %Y}"
                for r in sorted(reports, key=_when)
            )
            return StructuredAnswer(
                "grade",
                refusal=f"The reports do not give a grade here: the reports searched ({listing}) carry no graded judgements; Ofsted does not grade focused or monitoring visits.",
                reason="no graded report in scope",
                # "according to the visit letter, how was the last full inspection judged?": the letter's text may say
                passages_may_answer=bool(_EARLIER.search(question)),
            )
        if supposed and not (plan.published_from or plan.published_to):
            # "when was X rated outstanding?": look through every graded report for that grade
            chosen = sorted(graded, key=_when)
        else:
            chosen = self._pick(plan, graded)
        facts: list[Fact] = []
        missing: list[str] = []
        leads: list[str] = []
        quoted: set[str] = set()  # prose paragraphs already quoted: one sentence can state several grades
        for report in chosen:
            when = f"{_when(report):%-d %B %Y}"
            who = report.metadata.local_authority or "The authority"
            kind = REPORT_TYPE_LABELS.get(report.metadata.report_type, "report")
            others = [j for j in report.metadata.judgements if j.area not in ("lscb", "overall_effectiveness")]
            no_overall = not _judgements_for(report, ["overall_effectiveness"])
            if areas:
                judgements = _judgements_for(report, areas)
            elif supposed:
                judgements = [j for j in report.metadata.judgements if supposed in normalise(j.grade)]
            elif _EVERY_GRADE.search(question):
                # "give me Camden's grades": every judgement of the report, not the overall one alone
                judgements = [j for j in report.metadata.judgements if j.area != "lscb"]
            elif no_overall and others:
                # "what grade did Blackpool get?" of a report that gives no overall grade (the April 2026 framework):
                # the judgements it gives, after a sentence saying there is no overall one
                judgements = others
                leads.append(f"{who}'s {kind} of {when} gives no overall effectiveness grade{_framework_note(report)}; its judgements:")
            else:
                judgements = _judgements_for(report, ["overall_effectiveness"])
            if not judgements:
                wanted = " or ".join(AREA_LABELS[a] for a in areas or ["overall_effectiveness"])
                note = ""
                if "overall_effectiveness" in (areas or ["overall_effectiveness"]) and _when(report) >= APRIL_2026:
                    note = " (the April 2026 framework gives no overall effectiveness grade)"
                records = ""
                if no_overall and others and areas == ["overall_effectiveness"]:
                    # "what overall grade did Trafford get in 2026?": none, and what the report does record
                    records = "; what it records: " + "; ".join(f"{AREA_LABELS.get(j.area, j.label)}: {j.grade}" for j in others)
                missing.append(f"{who}'s {kind} of {when} gives no judgement on {wanted}{note}{records}")
                continue
            paragraphs = self.paragraphs_of(report.report_id)
            for judgement in judgements:
                fact = judgement_fact(report, judgement, paragraphs)
                paragraph = fact.paragraph
                facts.append(fact)
                stated = grade_sentence(paragraphs, judgement)
                if stated is not None and paragraph is not None and stated[0].paragraph_id != paragraph.paragraph_id and stated[0].paragraph_id not in quoted:
                    quoted.add(stated[0].paragraph_id)
                    facts.append(Fact(stated[1], report, stated[0]))
        if not facts and supposed and not areas:
            # "why was Camden judged inadequate?" when no report gave that grade: what the latest graded one gave
            latest = max(graded, key=_when)
            actual = " ".join(judgement_fact(latest, j, []).text for j in _judgements_for(latest, ["overall_effectiveness"]))
            return StructuredAnswer(
                "grade",
                refusal=f"The reports do not say that: no report searched gives the grade {supposed}."
                + (f" The latest graded inspection records: {actual}" if actual else ""),
                reason=f"false premise: the question assumes {supposed}",
            )
        if not facts:
            return StructuredAnswer("grade", refusal="The reports do not answer this: " + "; ".join(missing) + ".", reason="no such judgement")
        if supposed and not any(supposed in normalise(f.text) for f in facts):
            actual = " ".join(f.text for f in facts[:2])
            return StructuredAnswer(
                "grade",
                refusal=f"The reports do not say that. What they record: {actual}",
                reason=f"false premise: the question assumes {supposed}",
            )
        if supposed:
            # "when was Trafford judged good?" asks when, not the grade it names: no grade said first
            facts = [replace(f, value="") for f in facts]
        return StructuredAnswer("grade", tuple(facts), reason="; ".join(missing), lead=" ".join(leads))

    def check_premise(self, plan: QueryPlan, reports: Sequence[Report]) -> str | None:
        """For a prose question that assumes a grade ("why was X judged inadequate for Y?"): a refusal if
        no report in scope gave that grade, else None."""
        if not GRADE_INTENT.search(plan.standalone) or not presupposed_grade(plan.standalone):
            return None
        result = self._grade(replace(plan, published_from=None, published_to=None), reports)
        if result is not None and result.refusal and result.reason.startswith("false premise"):
            return result.refusal
        return None

    def _dates(self, plan: QueryPlan, reports: Sequence[Report]) -> StructuredAnswer:
        facts: list[Fact] = []
        for report in self._pick(plan, reports):
            meta = report.metadata
            kind = REPORT_TYPE_LABELS.get(meta.report_type, "report")
            published = f", published {meta.published:%-d %B %Y}" if meta.published else ""
            visit = meta.visit_dates_raw or _date_phrase(meta.visit_start, meta.visit_end)
            statement = f"{meta.local_authority}, {kind}{published}: inspectors visited - {visit}."
            phrases = [meta.visit_dates_raw] if meta.visit_dates_raw else [f"{meta.visit_start:%B %Y}" if meta.visit_start else ""]
            paragraph = _stating_paragraph(self.paragraphs_of(report.report_id), phrases)
            # the dates as the report gives them ("5 to 9 December 2022 and 14 to 15 February 2023"), not re-spelt
            value = f"{meta.published:%-d %B %Y}" if meta.published and _ASKS_PUBLISHED.search(plan.standalone) else (
                meta.visit_dates_raw or (_date_phrase(meta.visit_start, meta.visit_end).split(" ", 1)[1] if meta.visit_start else "")
            )
            facts.append(Fact(statement, report, paragraph, value=value))
        return StructuredAnswer("date", tuple(facts))

    def _focus(self, plan: QueryPlan, reports: Sequence[Report]) -> StructuredAnswer | None:
        """What a focused visit looked at: its focus sentence, cited. None when no visit in scope records one."""
        facts: list[Fact] = []
        for report in self._pick(plan, [r for r in reports if r.metadata.report_type == "focused_visit"]):
            focus = report.metadata.focus
            if not focus:
                continue
            when = f"{_when(report):%-d %B %Y}"
            statement = f"{report.metadata.local_authority}, focused visit of {when}: {focus.rstrip('.')}."
            facts.append(Fact(statement, report, _stating_paragraph(self.paragraphs_of(report.report_id), [_opening_words(focus)])))
        return StructuredAnswer("focus", tuple(facts)) if facts else None

    def _inspectors(self, plan: QueryPlan, reports: Sequence[Report]) -> StructuredAnswer:
        facts: list[Fact] = []
        for report in self._pick(plan, reports):
            meta = report.metadata
            if not meta.inspectors:
                continue
            kind = REPORT_TYPE_LABELS.get(meta.report_type, "report")
            others = f" (with {', '.join(meta.inspectors[1:])})" if len(meta.inspectors) > 1 else ""
            statement = f"{meta.local_authority}, {kind} of {_when(report):%-d %B %Y}{others}: lead inspector - {meta.inspectors[0]}."
            # the paragraph naming the whole team where there is one, not the lead's signature alone
            paragraph = _stating_paragraph(self.paragraphs_of(report.report_id), list(meta.inspectors))
            # "who led ...?" is answered by the lead; "who inspected ...?" by the team, the lead first
            team = meta.inspectors[1:] if not _ASKS_LEAD.search(plan.standalone) else ()
            value = f"{meta.inspectors[0]}, with {and_list(team)}" if team else meta.inspectors[0]
            facts.append(Fact(statement, report, paragraph, value=value))
        if not facts:
            return StructuredAnswer("inspector", refusal="The reports searched do not name their inspectors.")
        return StructuredAnswer("inspector", tuple(facts))


_ASKS_PUBLISHED = re.compile(r"\bpublish(?:ed|ing)?\b|\bpublication\b", re.I)
_ASKS_LEAD = re.compile(r"\blead\b|\bled\b|\bleading\b", re.I)




def direct_answer(facts: Sequence[Fact]) -> str:
    """The answer in a few words, said before the cited facts, where they give one: "Requires improvement to be
    good.", "8 June 2026 to 19 June 2026.", "Sarah Canto.". Only when the facts are one report's and exactly one of
    them gives a value (the others, if any, quote the report's prose for it); else "" (several authorities, reports
    or values are answered by the facts themselves). It states nothing the fact with the value does not."""
    valued = [f for f in facts if f.value.strip()]
    if len(valued) != 1 or len({f.report.report_id for f in facts}) != 1:
        return ""
    value = valued[0].value.strip().rstrip(".")
    return f"{value[:1].upper()}{value[1:]}."


def _opening_words(text: str, count: int = 10) -> str:
    """The first whole words of a text (a cut mid-word would name a word the paragraph does not contain)."""
    return " ".join(text.split()[:count])


LIST_INTENT = re.compile(
    r"^\s*(?:which|what)\s+(?:[\w'\u2019&-]+\s+){0,3}?(?:local\s+)?(?:authorities|councils|las|areas|places|boroughs|counties|inspections|reports|visits|focused visits)\b"
    r"|^\s*(?:list|name)\s+(?:all\s+|every\s+|the\s+)?(?:authorities|councils|reports|inspections|visits|focused visits)\b"
    r"|^\s*list\b"
    r"|^\s*(?:are|were|was|is|has|have|did|do|does)\s+(?:there\s+)?any\s+(?:other\s+)?(?:local\s+)?(?:authorities|authority|councils?|las?)\b"
    r"|^\s*how many\s+(?:\w+\s+){0,2}?(?:reports|inspections|visits|authorities|councils|boroughs|letters)\b"
    # "how many times has Trafford been inspected?": a count of its reports
    r"|^\s*how (?:many times|often)\s+(?:has|have|was|were|did)\b.*\b(?:inspect\w*|visit\w*)\b"
    r"|^\s*(?:which|what)\s+(?:local\s+)?(?:authority|council|area)\b.*\b(?:most|fewest|least)\b",
    re.I,
)
# "Which authority has had the most focused visits?": reports counted per authority
_MOST = re.compile(r"\b(?:the\s+)?(most|fewest|least)\b", re.I)
_ANY_AREA = re.compile(r"\b(any|anything|at least one|any judgement|any area)\b", re.I)
_CURRENT = re.compile(r"\b(currently|now|current|today|at present|still)\b", re.I)
_LIST_WORDS = frozenset(
    tokenize(
        "which what list name how many authorities councils las areas places reports report inspections inspection "
        "visits visit focused letters looked look looking at on about for were was judged rated graded given "
        "all every the index in of overall hold holds held type types date dates its their with does do have has "
        "there are is and what lead led involved published publish full ilacs sif send inspector inspectors or "
        "inspected visited took place carried out happened between during january february march april may june july "
        "august september october november december times often been by ofsted"
    )
)


def _visited_in_window(plan: QueryPlan, reports: Sequence[Report]) -> str:
    """A sentence for reports listed by their publication date though only their visit falls in the dates asked
    about ("in 2024": an inspection in December 2024, published in January 2025)."""
    start, end = plan.published_from, plan.published_to
    if not (start or end):
        return ""
    outside = [
        r for r in dict.fromkeys(reports)
        if r.metadata.published and ((start and r.metadata.published < start) or (end and r.metadata.published > end))
    ]
    notes = [
        f"{r.metadata.local_authority}'s {REPORT_TYPE_LABELS.get(r.metadata.report_type, 'report')} of {r.metadata.published:%-d %B %Y} "
        f"is included because inspectors visited {r.metadata.visit_dates_raw or _date_phrase(r.metadata.visit_start, r.metadata.visit_end)}"
        for r in outside
    ]
    return f" {'; '.join(notes)}." if notes else ""


def _grade_is(grade: str, wanted: str) -> bool:
    """Whether a judgement's grade is the one asked for: "requires improvement" is also the ILACS "requires improvement
    to be good" (the same point of the scale), but "good" is never "requires improvement to be good"."""
    if normalise(wanted).startswith("requires improvement"):
        return bool(re.match(r"requires? improvement", normalise(grade)))
    return states_grade(grade, wanted)


def grade_area_pairs(question: str) -> list[tuple[str, str]]:
    """Each grade the question names with the area it is for: "good for help and protection but inadequate for care
    leavers" gives [("good", "help_protection"), ("inadequate", "care_leavers")]. A grade with no area after it
    (before the next grade) is left out."""
    found: list[tuple[int, str]] = sorted(
        (match.start(), name) for name, pattern in GRADE_WORDS for match in pattern.finditer(question)
    )
    pairs: list[tuple[str, str]] = []
    for index, (start, name) in enumerate(found):
        end = found[index + 1][0] if index + 1 < len(found) else len(question)
        after = question[start:end]
        named = min(((m.start(), area) for area, pattern in AREA_PATTERNS if (m := pattern.search(after))), default=None)
        if named is not None and (name, named[1]) not in pairs:
            pairs.append((name, named[1]))
    return pairs


# "Which authorities have never been judged inadequate?", "... were not judged good?": the grade is what they lack.
_NEGATED = re.compile(
    r"(?:\bnever\b|\bnot\b|n['\u2019]t\b|\bno longer\b)(?:\s+(?:been|judged|rated|graded|found|as|yet|ever|currently|now|an?))*\s+"
    r"(?:outstanding|good|inadequate|requires? improvement)\b",
    re.I,
)


def _never_judged(plan: QueryPlan, reports: Sequence[Report], grade: str, areas: Sequence[str], paragraphs_of) -> StructuredAnswer:
    """The authorities none of whose graded inspections in scope gave this grade for the area ("never"), or whose
    latest did not ("not", "no longer"); each shown with its latest judgement on the area, cited. An authority with
    no judgement on the area at all is not counted either way."""
    question = plan.standalone
    graded = [r for r in reports if r.metadata.judgements and r.metadata.report_type != "area_send_inspection"]
    by_authority: dict[str, list[Report]] = {}
    for report in sorted(distinct_reports(graded), key=_when):
        by_authority.setdefault(report.metadata.local_authority or report.report_id, []).append(report)
    # "never", "haven't been": at any inspection; "weren't", "are not": at the latest
    ever = bool(re.search(r"\bnever\b|\bat any\b|\bever\b|\bha(?:ve|s)(?:n['\u2019]t| not)\s+been\b", question, re.I))
    facts: list[Fact] = []
    judged = 0
    for authority in sorted(by_authority):
        own = [(r, j) for r in by_authority[authority] for j in _judgements_for(r, areas)]
        if not own:
            continue
        judged += 1
        looked_at = own if ever else [pair for pair in own if pair[0] is own[-1][0]]
        if any(_grade_is(j.grade, grade) for _, j in looked_at):
            continue
        latest, judgement = own[-1]
        facts.append(judgement_fact(latest, judgement, paragraphs_of(latest.report_id)))
    area = " and ".join(AREA_LABELS.get(a, a) for a in areas)
    verb = "were never" if ever else "were not"
    scope = "at any of their graded inspections" if ever else "at their latest graded inspection"
    summary = (
        f"{len(facts)} of the {judged} authorities with a judgement on {area} in the reports searched {verb} judged "
        f"{grade} {scope}; each is shown with its latest judgement"
    )
    if not facts:
        return StructuredAnswer("list", refusal=f"The reports do not answer this: {summary}.", reason="no authority matches")
    return StructuredAnswer("list", tuple(facts), reason=summary + ".")


def _dated_as_asked(plan: QueryPlan, reports: Sequence[Report]) -> list[Report]:
    """A window admits a report visited or published in it; "inspected in March 2025" means visited then, "published
    in 2025" published then (`QueryPlan.dated_by`). Reports without the date asked about stay."""
    start, end = plan.published_from, plan.published_to
    if not (start or end):
        return list(reports)
    low, high = start or date.min, end or date.max
    if plan.dated_by == "published":
        return [r for r in reports if r.metadata.published is None or low <= r.metadata.published <= high]
    if plan.dated_by == "visited":
        kept = []
        for report in reports:
            first, last = report.metadata.visit_start, report.metadata.visit_end or report.metadata.visit_start
            if first is None or last is None or (first <= high and last >= low):
                kept.append(report)
        return kept
    return list(reports)


def list_intent(question: str) -> bool:
    return bool(LIST_INTENT.search(question))


def visit_fact(report: Report, paragraphs_of) -> Fact:
    """ "Kent, focused visit of 27 February 2024 (visit: 23 and 24 January 2024).", cited from the line giving the visit
    dates (uncited when the report gives none)."""
    meta = report.metadata
    visit = f" (visit: {meta.visit_dates_raw})" if meta.visit_dates_raw else ""
    paragraph = _stating_paragraph(paragraphs_of(report.report_id), [meta.visit_dates_raw]) if meta.visit_dates_raw else None
    statement = f"{meta.local_authority}, {REPORT_TYPE_LABELS.get(meta.report_type, 'report')} of {_when(report):%-d %B %Y}{visit}."
    return Fact(statement, report, paragraph)


def _most_reports(plan: QueryPlan, reports: Sequence[Report], most: bool, paragraphs_of) -> StructuredAnswer:
    """The authorities with the most (or fewest) reports in scope, counted from the catalog, each report cited."""
    counts: dict[str, list[Report]] = {}
    for report in distinct_reports(reports):
        if report.metadata.local_authority:
            counts.setdefault(report.metadata.local_authority, []).append(report)
    if not counts:
        return StructuredAnswer("list", refusal="The reports do not answer this: no report is in the scope asked.", reason="no report in scope")
    target = max(len(v) for v in counts.values()) if most else min(len(v) for v in counts.values())
    top = sorted(name for name, held in counts.items() if len(held) == target)
    kinds = " or ".join(REPORT_TYPE_LABELS.get(t, t) for t in plan.report_types) or "report"
    facts = [visit_fact(report, paragraphs_of) for name in top[:10] for report in sorted(counts[name], key=_when)]
    shown = top[:10] + ([f"{len(top) - 10} more"] if len(top) > 10 else [])
    who = shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} and {shown[-1]}"
    each = " each" if len(top) > 1 else ""
    reason = (
        f"{who} {'have' if len(top) > 1 else 'has'} the {'most' if most else 'fewest'}: {target} {kinds}{'s' if target != 1 else ''}{each}, "
        f"of the {sum(len(v) for v in counts.values())} in scope, across the {len(counts)} authorities that have one"
    )
    return StructuredAnswer("list", tuple(facts), reason=reason + ".")


def list_answer(plan: QueryPlan, reports: Sequence[Report], paragraphs_of) -> StructuredAnswer:
    """Complete answers over the catalog, not top-k: which authorities had a grade, how many visits on a theme."""
    question = plan.standalone
    # "good but not outstanding": the grade asked for is the one not negated
    grade = presupposed_grade(_NEGATED.sub(" ", question)) or presupposed_grade(question)
    areas = wanted_areas(question)
    pairs = grade_area_pairs(question)
    facts: list[Fact] = []
    most = _MOST.search(question)
    if most and not grade and re.search(r"\b(?:reports?|inspections?|visits?|letters?)\b", question, re.I):
        return _most_reports(plan, reports, most.group(1).lower() == "most", paragraphs_of)
    negated = _NEGATED.search(question)
    if negated and len(pairs) <= 1 and {name for name, pattern in GRADE_WORDS if pattern.search(question)} == {name for name, pattern in GRADE_WORDS if pattern.search(negated.group(0))}:
        # the one grade named is the one they lack ("good but not outstanding" names two: a list of the good)
        return _never_judged(plan, reports, presupposed_grade(negated.group(0)) or grade or "", areas or ["overall_effectiveness"], paragraphs_of)
    if grade:
        candidates = [r for r in reports if r.metadata.judgements]
        if not re.search(r"\bsend\b", question, re.I):
            candidates = [r for r in candidates if r.metadata.report_type != "area_send_inspection"]
        timed = plan.published_from or plan.published_to
        # LSCB reviews ended with the SIF framework: each authority's last one is its board's last grade
        superseded: dict[str, Report] = {}  # an earlier graded report's id -> the later graded report that replaced it
        if (not timed or _CURRENT.search(question)) and areas != ["lscb"]:
            # the latest graded inspection stands until the next one
            latest: dict[str, Report] = {}
            for report in sorted(candidates, key=_when):
                key = report.metadata.local_authority or report.report_id
                if key in latest:
                    superseded[latest[key].report_id] = report
                latest[key] = report
            earlier = [r for r in candidates if r.report_id in superseded]
            candidates = list(latest.values())
        else:
            earlier = []


        def listed(report: Report) -> list[Judgement]:
            """The report's judgements the list is about: the areas asked, any area ("for anything"), else overall."""
            if areas:
                return _judgements_for(report, areas)
            return list(report.metadata.judgements) if _ANY_AREA.search(question) else _judgements_for(report, ["overall_effectiveness"])

        for report in sorted(candidates, key=lambda r: (r.metadata.local_authority or "", _when(r))):
            judgements = listed(report)
            if len(pairs) > 1:
                # "good for help and protection but inadequate for care leavers": every pair must hold
                held = [[j for j in _judgements_for(report, [area]) if _grade_is(j.grade, wanted)] for wanted, area in pairs]
                if all(held):
                    facts.extend(judgement_fact(report, found[0], paragraphs_of(report.report_id)) for found in held)
                continue
            for judgement in judgements:
                if not _grade_is(judgement.grade, grade):  # "good" is not "requires improvement to be good"
                    continue
                facts.append(judgement_fact(report, judgement, paragraphs_of(report.report_id)))
        standing = len(facts)
        if not _CURRENT.search(question) and not len(pairs) > 1:
            # "which authorities were judged inadequate?": the grades a later inspection replaced, marked as such
            for report in sorted(earlier, key=lambda r: (r.metadata.local_authority or "", _when(r))):
                later = superseded[report.report_id]
                for judgement in (j for j in listed(report) if _grade_is(j.grade, grade)):
                    fact = judgement_fact(report, judgement, paragraphs_of(report.report_id))
                    note = f"no longer standing: replaced by the {REPORT_TYPE_LABELS.get(later.metadata.report_type, 'inspection')} of {_when(later):%-d %B %Y}"
                    facts.append(replace(fact, note=note))
        outcome = grade in SEND_OUTCOMES  # an area SEND inspection's outcome is not a judgement of a service
        scope = f"{len(candidates)} {'area SEND inspection' if outcome else 'graded report'}{'s' if len(candidates) != 1 else ''}"
        authorities = sorted({f.report.metadata.local_authority or "" for f in facts[:standing]})
        summary = (
            f"{len(authorities)} authorit{'ies' if len(authorities) != 1 else 'y'} "
            f"({', '.join(authorities)})" if authorities else "No authority"
        ) + f" in the {scope} searched {'was' if len(authorities) <= 1 else 'were'} " + (
            f"found to have {grade}"
            if outcome
            else "judged " + (" and ".join(f"{g} for {AREA_LABELS[a]}" for g, a in pairs) if len(pairs) > 1 else grade)
        )
        if len(facts) > standing:
            replaced = sorted({f.report.metadata.local_authority or "" for f in facts[standing:]})
            who_else = replaced[0] if len(replaced) == 1 else f"{', '.join(replaced[:-1])} and {replaced[-1]}"
            summary += (
                f" at {'its' if len(authorities) == 1 else 'their'} latest graded inspection. Earlier inspections, since replaced by a later one, gave it to {len(replaced)} "
                f"authorit{'ies' if len(replaced) != 1 else 'y'} ({who_else}), listed after"
                if standing else
                f" at its latest graded inspection; earlier inspections, since replaced by a later one, gave it to {who_else}"
            )
        if not facts:
            return StructuredAnswer("list", refusal=f"The reports do not answer this: {summary}.", reason="no report matches")
        return StructuredAnswer("list", tuple(facts), reason=summary + "." + _visited_in_window(plan, [f.report for f in facts[:standing]]))
    if areas and not re.search(r"\b(visits?|letters?|reports?)\b", question, re.I):
        # "which authorities have a care leavers grade, and what was it?": each authority's latest judgement
        newest: dict[str, Report] = {}
        for report in sorted((r for r in reports if r.metadata.judgements and r.metadata.report_type != "area_send_inspection"), key=_when):
            newest[report.metadata.local_authority or report.report_id] = report
        for report in sorted(newest.values(), key=lambda r: r.metadata.local_authority or ""):
            for judgement in _judgements_for(report, areas):
                facts.append(judgement_fact(report, judgement, paragraphs_of(report.report_id)))
        if facts:
            count = len({f.report.report_id for f in facts})
            return StructuredAnswer("list", tuple(facts), reason=f"{count} of the {len(newest)} authorities' latest graded inspections have this judgement.")
    # reports an inspector led or took part in
    names = {name for r in reports for name in r.metadata.inspectors}
    named = [name for name in names if normalise(name) in normalise(question)]
    if named:
        for report in sorted(reports, key=lambda r: (r.metadata.local_authority or "", _when(r))):
            meta = report.metadata
            for name in named:
                if name in meta.inspectors:
                    role = "lead inspector" if meta.inspectors and meta.inspectors[0] == name else "inspector"
                    kind = REPORT_TYPE_LABELS.get(meta.report_type, "report")
                    statement = f"{meta.local_authority}, {kind} of {_when(report):%-d %B %Y}: {role} - {name}."
                    team = [name, *(other for other in meta.inspectors if other != name)]
                    facts.append(Fact(statement, report, _stating_paragraph(paragraphs_of(report.report_id), team)))
        if facts:
            return StructuredAnswer("list", tuple(facts), reason=f"{len(facts)} of the {len(reports)} reports searched name {', '.join(named)}.")
    # a list or count of reports, optionally on a theme ("focused visits that looked at care leavers")
    searched = distinct_reports(reports)
    reports = _dated_as_asked(plan, searched)
    # "inspected in March 2025" counts the visits then, of all the reports the window admitted
    when = f" {plan.dated_by} in the dates asked" if len(reports) < len(searched) and plan.dated_by else ""
    theme = [w for w in tokenize(plan.topic or question) if w not in _LIST_WORDS and not w.isdigit()]
    matching: list[Report] = []
    for report in sorted(reports, key=lambda r: (r.metadata.local_authority or "", _when(r))):
        meta = report.metadata
        if theme:
            focus = meta.focus or ""
            if not focus or not set(theme) <= set(tokenize(focus)):
                continue
            paragraph = _stating_paragraph(paragraphs_of(report.report_id), [_opening_words(focus)]) if focus else None
            kind = REPORT_TYPE_LABELS.get(meta.report_type, "report")
            facts.append(Fact(f"{meta.local_authority}, {kind} of {_when(report):%-d %B %Y}: {meta.focus}", report, paragraph))
        else:
            facts.append(visit_fact(report, paragraphs_of))
        matching.append(report)
    if when and not theme:
        summary = f"{len(matching)} of the {len(searched)} reports searched were{when}"
    elif not theme and len(matching) == len(searched):
        # "how many times has Trafford been inspected?": every report in scope is the answer
        summary = f"The index holds {len(matching)} report{'s' if len(matching) != 1 else ''} in the scope asked"
    else:
        summary = f"{len(matching)} of the {len(searched)} reports searched match" + (f" ({len(reports)}{when})" if when else "")
    if not searched:
        kinds = " or ".join(REPORT_TYPE_LABELS.get(t, t) for t in plan.report_types) or "report"
        dated = " in the dates asked" if plan.published_from or plan.published_to else ""
        return StructuredAnswer("list", refusal=f"The reports do not answer this: the index holds no {kinds} report{dated}.", reason="no report in scope")
    if not facts:
        return StructuredAnswer(
            "list",
            refusal=(
                f"The reports do not answer this: none of the {len(searched)} reports searched "
                + (f"were{when}." if when and not theme else f"match{f' ({len(reports)}{when})' if when else ''}.")
            ),
            reason="no report matches",
            # "which reports mention young carers?": a theme no report is about may still be discussed in one
            passages_may_answer=bool(theme) and not re.search(r"^\s*how many\b", question, re.I),
        )
    return StructuredAnswer("list", tuple(facts), reason=summary + ".")
