"""The chain: question + history + filters -> plan -> retrieval -> draft -> citation check -> Answer.

It coordinates; the work is done by the pure functions and collaborators it is given.
"""

from __future__ import annotations

import math
import queue
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Literal, Protocol

from chatbot.authorities import SUCCESSORS, Gazetteer
from chatbot.citations import MARKER, build_citation, check_citations, supports
from chatbot.extractive import (
    Draft,
    Evidence,
    candidate_sentences,
    in_scope_list,
    kept_similarity,
    report_label,
    score_sentences,
)
from chatbot.improvements import improve_intent, reports_with_points
from chatbot.improvements import topic_words as improvement_topic
from chatbot.intent import RouteModel, route_text
from chatbot.links import keep_own_links
from chatbot.llm import FALLBACK_NOTE
from chatbot.mentions import MAX_LISTED, find_mentions, mentioned_phrase
from chatbot.passages import Passage, best_passage, in_text_order
from chatbot.places import Place, Places
from chatbot.query import (
    DOMAIN_WORDS,
    PAST_ASKED,
    PERSON_OPINION,
    YEAR,
    QueryPlan,
    answer_focus,
    answer_state,
    detect_report_types,
    expand_terms,
    expected_answer_type,
    figure_asked,
    has_answer_type,
    names_shorthand,
    plan_query,
    search_text,
    split_expansion,
)
from chatbot.retrieval import HybridRetriever, Scored, scope_reports
from chatbot.routes import Route, Routing, run_routes
from chatbot.structured import (
    APRIL_2026,
    AREA_LABELS,
    AREA_PATTERNS,
    GRADE_INTENT,
    StructuredAnswerer,
    _grade_is,
    _judgements_for,
    _stating_paragraph,
    _when,
    about_areas_only,
    direct_answer,
    distinct_reports,
    grade_sentence,
    is_statement,
    judgement_fact,
    latest_reports,
    list_answer,
    list_intent,
    presupposed_grade,
    standing_reports,
    states_grade,
    structured_intent,
    structured_intents,
    under_judgement,
    visit_fact,
    wanted_areas,
    without_grade,
    yes_no_grade,
    yes_no_verdict,
)
from chatbot.timeline import (
    CHANGE_FOCUS,
    area_phrase,
    between_ends,
    grade_lines,
    grade_moves,
    movement_intent,
    oldest_first,
    opening_summary,
    referenced_reports,
    referenced_reports_one,
    since_last,
    timeline_areas,
    timeline_intent,
    topic_areas,
)
from core.errors import BadQuestionError
from core.models import (
    REPORT_TYPE_LABELS,
    Answer,
    Citation,
    Filters,
    Judgement,
    Paragraph,
    Report,
    RetrievedChunk,
    ShownReport,
    Turn,
    TurnState,
)
from core.text import and_list, counted, normalise, split_sentences
from vectorstore.index import Index
from vectorstore.keyword import families, tokenize

# Words that ask about change over time, not what changed.
_CHANGE_WORDS = frozenset(tokenize(
    "how has have did changed change changes improved improve improvement progressed progress developed deteriorated "
    "got better worse moved evolved since last previous earlier inspection inspections visit report reports over time "
    "years timeline across inspectors inspector ofsted view views opinion opinions between made achieved "
    "compare compared comparison one before prior"
))

# Words that ask about judgements rather than name a topic.
_GRADE_WORDS = frozenset(tokenize("judgement judgements judged grade grades graded rating ratings rated which of"))

# ... and asks what inspectors made of it, not when, who or how many.
_OVERVIEW_ASK = re.compile(
    r"\b(?:say|said|says|tell|told|find|found|findings|think|thought|verdict|summar\w*|sum up|how good|how well|how (?:is|are)\b"
    r"|happen(?:ed|s)?|brief(?:ing)?|overview|latest on|how did\b.*\b(?:do|fare)|(?:doing|faring|fared)\b"
    r"|strengths?|prais\w*|positives?|(?:working|going|done) well)",
    re.I,
)

# "Why was Halton judged inadequate?", "why did Camden get outstanding for care leavers?": the reasons for a grade
_WHY_GRADED = re.compile(r"\bwhy\b.*\b(?:judged|rated|graded|found|given|get|got|receive[d]?|awarded|deemed)\b", re.I)

# "When is Trafford's next inspection?", "when will Camden be inspected again?": the future, which no report records
_NEXT_INSPECTION = re.compile(
    r"^(?=[^?]*\b(?:when|date|dates|due|expect\w*|schedul\w*|plann\w*|likely|soon)\b)"
    r"(?:[^?]*\b(?:next|upcoming|future|forthcoming)\b[^?]{0,30}?\b(?:inspection|visit|ilacs)s?\b"
    r"|[^?]*\b(?:inspected|visited)\b[^?]{0,20}?\b(?:again|next)\b)",
    re.I,
)

# "Which one had the better leadership?", "is Camden stronger than Islington for care leavers?"
_WHICH_BETTER = re.compile(
    r"\b(?:which|who|whose)\b[^?]{0,40}?\b(?:better|worse|stronger|weaker|best|worst)\b|\b(?:better|worse|stronger|weaker)\s+than\b",
    re.I,
)

_SEND_ASKED = re.compile(r"\bSEND\b|special educational|\bEHCPs?\b|education, health and care", re.I)

# "Which authority has the best care leaver services?", "which councils are the worst for help and protection?"
_RANKED = re.compile(
    r"^\s*(?:which|what|who|name)\b[^?]{0,60}?\b(?:(?P<best>best|strongest|top[- ]rated|highest[- ]rated|most successful)"
    r"|(?P<worst>worst|weakest|lowest[- ]rated|poorest|most failing))\b",
    re.I,
)

_RANKED_FILLER = frozenset(tokenize(
    "which what who name local authority authorities council councils la las area areas has have had is are was were "
    "best strongest top rated highest successful worst weakest lowest poorest failing most the for in at of with "
    "services service support provision practice children's children young people overall england country judged graded"
))

# A question about the index itself: "which authorities do you cover?", "which report types are in the index?"
_CATALOG = re.compile(
    r"\b(?:which|what|how many)\b[^?]{0,40}?\b(?:authorities|councils|areas|reports?|report types?|kinds? of reports?|inspections)\b[^?]{0,30}?"
    r"\b(?:do you (?:have|hold|cover|know)|can you (?:search|answer)|(?:are|is) (?:there )?in (?:the|your) (?:index|corpus|collection|database|data)"
    r"|(?:are|is) (?:indexed|covered|included|available)|does (?:the|your) (?:index|corpus|tool) (?:have|hold|cover))\b"
    r"|\bwhat(?:'s| is) in (?:the|your) (?:index|corpus|collection|database)\b",
    re.I,
)

# The tool's own index named: "which Trafford reports are in the index?", "what does the index contain on Bucks?"
_INDEX_ASKED = re.compile(
    r"\b(?:in|from|does|do|by|to) (?:the|your|this) (?:index|database|collection|corpus|data ?set)\b"
    r"|\b(?:the|your) (?:index|database|collection|corpus) (?:contains?|holds?|has|have|includes?)\b",
    re.I,
)

# What a visit did, asked about: "what did the 2023 focused visit look at?"
_VISIT_VERBS = frozenset(tokenize("look looked looking at cover covered covering examine examined"))

# How rare a word must be (its inverse document frequency over the index's chunks) to tell what a question is about:
# "caseloads" (3.6 on the sample corpus); not "support" (1.1) or "leaders" (1.5).
_TELLING_WEIGHT = 2.5

# What a report's summary is searched for when the question names no narrower topic.
_SUMMARY_TOPIC = "quality of services and pace of improvement"

# The plan's note when no report lies in the question's time window and every date was searched instead.
_WIDENED = "no report in the time window; searched all dates"


def _marker(sources: dict[str, Paragraph], paragraph: Paragraph) -> str:
    """The marker that cites this paragraph in a composed answer, numbering it next when it is new: one marker a
    paragraph, however many lines cite it."""
    for marker, known in sources.items():
        if known.paragraph_id == paragraph.paragraph_id:
            return marker
    sources[str(len(sources) + 1)] = paragraph
    return str(len(sources))


def _window(plan: QueryPlan) -> str:
    """The plan's dates as the answers write them: "2024-01-01 to 2024-12-31", "2024-01-01 to 2024-12-31, by publication
    date", "any date"."""
    if not (plan.published_from or plan.published_to):
        return "any date"
    start = plan.published_from.isoformat() if plan.published_from else "the earliest"
    end = plan.published_to.isoformat() if plan.published_to else "the latest"
    basis = {"published": ", by publication date", "visited": ", by visit date"}.get(plan.dated_by, "")
    return f"{start} to {end}{basis}"


def _no_report_then(plan: QueryPlan) -> str:
    """"No report of Hertfordshire's falls in the dates asked (2024-01-01 to 2024-12-31)"."""
    who = f"of {and_list(plan.authorities)}'s " if plan.authorities else ""
    kinds = " or ".join(REPORT_TYPE_LABELS.get(t, t) for t in plan.report_types) if plan.report_types else "report"
    if plan.published_from or plan.published_to:
        return f"No {kinds} {who}falls in the dates asked ({_window(plan)})"
    return f"No {kinds} {who}is in the scope asked"


# Words that set authorities side by side rather than name a topic.
_COMPARE_WORDS = frozenset(tokenize(
    "compare compared comparing comparison differ differs different difference differences latest visit visits "
    "inspection inspections report reports"
))


# What every report is about, and the report a question dates itself by: not a subject ("quality assurance in
# Buckinghamshire children's services since the 2017 re-inspection" is about quality assurance).
_NO_SUBJECT = re.compile(r"\bre-?inspections?\b|\blocal authority(?:['\u2019]s)?(?!\w)", re.I)
_SERVICE = re.compile(r"(?P<before>[\w'\u2019-]+)?(?P<gap>\W*)\bchildren['\u2019]s (?:social care )?services?\b", re.I)
_SERVICE_AS_A_WHOLE = frozenset("in of for across the its their our and or about on at by to from into within with how has have had did do does is are was were what".split())


def _without_the_service(topic: str) -> str:
    """The topic less "children's services" as a whole ("in Trafford's children's services"), keeping a service of
    some children ("disabled children's services")."""

    def cut(match: re.Match[str]) -> str:
        before = match.group("before") or ""
        whole = not before or before.lower() in _SERVICE_AS_A_WHOLE or before.lower().endswith(("'s", "\u2019s"))
        return f"{before}{match.group('gap')}" if whole else match.group(0)

    return _SERVICE.sub(cut, topic)


def _subject_words(topic: str, asking: frozenset[str]) -> list[str]:
    """The topic's words that name its subject: not stop words ("in", "at their") and not `asking` words, which
    say how the question is put (change, grades, comparison) rather than what it is about."""
    return [w for w in re.findall(r"[\w'\u2019+-]+", _NO_SUBJECT.sub(" ", _without_the_service(topic))) if any(t not in asking for t in tokenize(w))]


# Words of date and inspector questions that say what is asked, not which report it is about.
_INTENT_WORDS = frozenset(tokenize(
    "when which what date dates day days visit visited visits inspect inspected inspection inspections carried out "
    "took take place happen happened lead led leader inspector inspectors who last first latest report letter"
))

# Words of a question about an authority in general: "what did inspectors say about Kent's children's services?".
_OVERVIEW_WORDS = _INTENT_WORDS | _CHANGE_WORDS | frozenset(tokenize(
    "say said says tell told about think thought find found findings main key overall summary sum general generally "
    "like how good children's children services service council authority local what "
    # "what happened at Slough's last focused visit?", "give me a briefing on Knowsley for a councillor"
    "focused monitoring sif ilacs give me brief briefing overview councillor councillors member members "
    "do doing did done fare fared faring news "
    # "what did inspectors praise in Leeds?", "what are Cornwall's strengths?"
    "strength strengths praise praised positive positives working going well good practice "
    # "compare the latest grades of Leeds, Bradford and Kirklees": each one's grades, side by side
    "grade grades graded grading judgement judgements judgment judgments rating ratings rated result results outcome outcomes"
))


def _asked_subject(plan: QueryPlan) -> list[str]:
    """The subject asked about, in the question's words: not "has improved since" or "what did the ... look at"."""
    return _subject_words(search_text(plan.topic or plan.standalone), _OVERVIEW_WORDS | _COMPARE_WORDS | _VISIT_VERBS)


class Answerer(Protocol):
    """Turns a plan and numbered evidence into a draft with [n] markers."""

    name: str

    def draft(self, plan: QueryPlan, evidence: Sequence[Evidence]) -> Draft: ...


@dataclass(frozen=True)
class RefusalPolicy:
    """When the evidence is too weak to answer. Calibrated on the gold set's unanswerable cases."""

    min_sentence_similarity: float = 0.42
    min_chunk_similarity: float = 0.20
    # A question that names no authority, place, region, report type or time, and whose nearest passage is further
    # than this, is off-topic. Calibrated on dev: every on-topic question that names nothing scores 0.34 or more on
    # the sample corpus, off-topic ones from 0.05 ("a recipe for a Victoria sponge") to 0.42 ("a poem about social
    # workers"): the bar refuses most of them and no on-topic one.
    min_on_topic_similarity: float = 0.30
    min_side_topic_share: float = 0.15  # a timeline's or comparison's side names at least this share of the topic
    side_bar: float = 0.65  # ... and its passage scores at least this share of the strongest side's


class QAPipeline:
    """Implements `core.protocols.QuestionAnswerer` over an index."""

    def __init__(
        self,
        index: Index,
        answerer: Answerer,
        *,
        gazetteer: Gazetteer | None = None,
        retriever: HybridRetriever | None = None,
        top_k: int = 10,
        evidence_chunks: int = 8,
        per_report_cap: int = 3,
        max_question_chars: int = 2000,
        refusal: RefusalPolicy | None = None,
        route_model: RouteModel | None | Literal[False] = None,
        places: Places | None = None,
    ) -> None:
        """`route_model`: the learned route model (None: the committed one, chatbot/intent.py; False: rules only)."""
        self.index = index
        self.answerer = answerer
        self.gazetteer = gazetteer or Gazetteer()
        self.retriever = retriever or HybridRetriever(index)
        self.top_k = top_k
        self.summary_paragraphs = 6  # an overview quotes at most this many paragraphs of a report's opening summary
        self.evidence_chunks = evidence_chunks
        self.per_report_cap = per_report_cap
        self.max_question_chars = max_question_chars
        self.refusal = refusal or RefusalPolicy()
        self._similarity = kept_similarity(index.embedder)
        self.structured = StructuredAnswerer(index.paragraphs)
        self.route_model = RouteModel.load() if route_model is None else (route_model or None)
        self.places = places or Places(self.gazetteer)

    # ---- QuestionAnswerer ------------------------------------------------------------------------

    def paragraph(self, paragraph_id: str) -> Paragraph | None:
        return self.index.paragraph(paragraph_id)

    def reports(self) -> list[Report]:
        return self.index.reports()

    def report_paragraphs(self, report_id: str) -> list[Paragraph]:
        """One report's paragraphs in order (the eval runner's `ReportParagraphs`)."""
        return self.index.paragraphs(report_id)

    def warm_up(self) -> None:
        """Load what the first question would otherwise wait for (the app runs this in the background as it starts):
        the index's tables, encoder and first Chroma search (`Index.warm_up`), and the places table (GeoNames' towns:
        about 1 s). On the full corpus these were 3.2 s of a first answer."""
        self.index.warm_up()
        self.places.find("warm up")

    def ask(
        self,
        question: str,
        history: Sequence[Turn] = (),
        filters: Filters | None = None,
        on_text: Callable[[str], None] | None = None,
    ) -> Answer:
        """Answer a question. `on_text`, when given, receives a streaming answerer's text as it grows
        (before the citation check; the returned Answer is the checked one)."""
        understood: list[QueryPlan] = []
        answer = self._ask(question, history, filters, on_text, understood)
        if understood:
            # what a follow-up reads (core.models.TurnState): the plan as understood, the route, the reports shown
            answer = replace(answer, state=self._state(understood[0], filters, answer))
        # "compare Devon and Cornwall" with no Devon report, "caseloads in Hertfordshire in 2024" with no report then:
        # the answer says so first, not only in its trace
        notes = [n for n in (answer.trace.get(k) for k in ("reading_note", "missing_note", "scope_note")) if isinstance(n, str) and n]
        text = "\n\n".join([*notes, answer.answer])
        # whichever answerer wrote it, no link or image but the cited reports' own (chatbot.links)
        text = keep_own_links(text, [c.url for c in answer.citations if c.url])
        return replace(answer, answer=text) if text != answer.answer else answer

    def _ask(
        self,
        question: str,
        history: Sequence[Turn],
        filters: Filters | None,
        on_text: Callable[[str], None] | None,
        understood: list[QueryPlan],
    ) -> Answer:
        """`understood` receives the plan as understood, for the answer's state."""
        started = time.perf_counter()
        question = self._validate(question)
        self.index.require_ready()
        # "care leavers in Tamside": a misspelt name is read as the nearest authority, and the answer says so
        question, read = self.gazetteer.correct(question)
        # "Altrincham", "Cardiff", "Glasgw": places beyond the authorities' own names. A town inside an English
        # authority is read as it (and the answer says so); a place elsewhere is refused below, by name
        places = self.places.find(question)
        for place in sorted(places, key=lambda p: -p.start):
            if place.authority:
                question = question[: place.start] + place.authority + question[place.end :]
                read.insert(0, (place.written, f"{place.authority}, its council"))
        plan = plan_query(question, history, filters, self.gazetteer)
        trace: dict[str, object] = {"plan": plan.to_json(), "answerer": self.answerer.name, "route": "passage"}
        if read:
            reading = "_" + "; ".join(f"Reading \u2018{written}\u2019 as {name}" for written, name in read) + "._"
            trace["reading_note"] = reading
            if on_text is not None:
                told = on_text
                on_text = lambda text: told(f"{reading}\n\n{text}")  # noqa: E731
        plan = self._rewrite_follow_up(plan, question, history, filters, trace)
        trace["asked"] = plan.to_json()  # the question as understood, before any scope is widened or narrowed
        understood.append(plan)
        opinion = PERSON_OPINION.search(plan.question)
        if opinion and not self.gazetteer.find(opinion.group("name") or opinion.group("owner") or ""):
            who = opinion.group("name") or opinion.group("owner")
            return self._refuse(
                f"The reports do not answer this: they set out what inspectors found, not {who}'s own opinions. "
                "Ask what the reports found on the subject instead.",
                trace | {"refusal": "named-person-opinion"},
                started,
            )
        if plan.personal:
            return self._refuse(
                "I can't help with questions about identifiable children or individuals: the inspection "
                "reports do not identify children, and this tool does not speculate about people.",
                trace | {"refusal": "personal"},
                started,
            )
        elsewhere = [p for p in places if not p.authority and p.nation != "England"]
        unplaced = [p for p in places if not p.authority and p.nation == "England"]
        if unplaced and not plan.authorities and not elsewhere:
            # "kids taught at home in Amersham": no data says which council covers it; search them all, and say so
            where = and_list([p.name for p in unplaced])
            trace["reading_note"] = (
                f"_I cannot tell which council covers {where}, so this answer searches every council's reports; "
                "name the council to narrow it._"
            )
            if on_text is not None:
                told_place = on_text
                place_note = trace["reading_note"]
                on_text = lambda text: told_place(f"{place_note}\n\n{text}")  # noqa: E731
        if elsewhere and not plan.authorities:
            return self._refuse(self._not_covered(elsewhere), trace | {"refusal": "authority-not-indexed", "places": [p.name for p in elsewhere]}, started)
        if elsewhere:
            # "compare Cardiff and Camden": Camden alone, saying why
            where = and_list([f"{p.name} ({p.nation})" if p.nation != "England" else p.name for p in elsewhere])
            place_note = f"_The indexed reports do not cover {where}, so this answer is about {and_list(plan.authorities)} only._"
            trace["missing_note"] = place_note
            if on_text is not None:
                noted = on_text
                on_text = lambda text: noted(f"{place_note}\n\n{text}")  # noqa: E731
        if not plan.authorities and _CATALOG.search(question):
            return self._catalog(question, trace, started)
        indexed = set(self.index.authorities())
        missing = [a for a in plan.authorities if a not in indexed]
        if missing and len(missing) == len(plan.authorities):
            names = ", ".join(missing)
            return self._refuse(
                f"The indexed reports do not cover {names}, so they cannot answer this.{successor_note(missing, indexed)} "
                f"{self._searched(plan, [])}",
                trace | {"refusal": "authority-not-indexed", "missing_authorities": missing},
                started,
            )
        if missing:
            # compare only what is indexed, and say which named authorities have no reports here
            plan = replace(plan, authorities=tuple(a for a in plan.authorities if a in indexed),
                           notes=plan.notes + (f"no reports indexed for {', '.join(missing)}",))
            trace["plan"] = plan.to_json()
            trace["missing_authorities"] = missing
            note = f"_The indexed reports do not cover {and_list(missing)}, so this answer is about {and_list(plan.authorities)} only._"
            trace["missing_note"] = note
            if on_text is not None:
                streamed = on_text
                on_text = lambda text: streamed(f"{note}\n\n{text}")  # noqa: E731
        report_ids = scope_reports(self.index.reports(), plan)
        if report_ids is not None and not report_ids and plan.dated_by:
            # none published (or visited) then: the reports of either date then, which a list tells apart ("No report
            # ... was visited in the dates asked") and a passage answer may quote
            report_ids = scope_reports(self.index.reports(), replace(plan, dated_by=""))
        asked = plan  # the time asked, before any widening
        if report_ids is not None and not report_ids and (plan.published_from or plan.published_to or plan.latest or plan.earliest):
            # nothing in the time window: later reports often say what came before ("since the last inspection
            # in 2015"), so search the named authorities' reports without the time scope, and say so
            plan = replace(plan, published_from=None, published_to=None, latest=False, earliest=False,
                           notes=plan.notes + (_WIDENED,))
            report_ids = scope_reports(self.index.reports(), plan)
            trace["plan"] = plan.to_json()
            if report_ids:
                whose = f"{and_list(plan.authorities)}'s" if plan.authorities else "the"
                scope_note = f"_{_no_report_then(asked)}; this answer searches {whose} reports of any date._"
                trace["scope_note"] = scope_note
                if on_text is not None:
                    shown = on_text
                    on_text = lambda text: shown(f"{scope_note}\n\n{text}")  # noqa: E731
        if report_ids is not None and not report_ids and plan.authorities and plan.report_types:
            # "the last monitoring visit to Birmingham" when Birmingham has none: say so, and what it does have
            held = scope_reports(self.index.reports(), replace(plan, report_types=(), published_from=None, published_to=None, latest=False, earliest=False))
            types = " or ".join(REPORT_TYPE_LABELS.get(t, t) for t in plan.report_types)
            own = sorted((r for r in (self.index.report(i) for i in held or []) if r is not None), key=_when)
            listing = "; ".join(f"{report_label(r)}" for r in distinct_reports(own))
            return self._refuse(
                f"The reports do not answer this: the index holds no {types} report for {and_list(plan.authorities)}."
                + (f" Its reports are: {listing}." if listing else "")
                + f" {self._searched(plan, report_ids)}",
                trace | {"refusal": "no-report-of-type"},
                started,
            )
        # the declared route table (chatbot/routes.py, ROUTES below): the first route whose decision holds and whose
        # handler answers; else the passage search
        routing = Routing(plan, asked, report_ids, trace, started, widened=_WIDENED in plan.notes)
        routed = run_routes(self, routing, ROUTES)
        if routed is not None:
            return routed
        plan, trace = routing.plan, routing.trace
        retrieval_started = time.perf_counter()
        # a question about an authority with no time in it is about where it stands now: its latest inspection and the
        # visits since; older reports only when those say nothing on the subject, and then the answer says so first
        standing = self._standing_scope(plan, report_ids, filters)
        current = standing if standing is not None and set(standing) != set(report_ids or ()) else None  # leaves some out
        hits = self.retriever.retrieve(plan, max(self.top_k, 20), current if current is not None else report_ids)
        older_note = ""
        if current is not None:
            trace["time_policy"] = {"current_reports": current}
            # older reports only when the latest cannot answer by the test every answer faces (the weak-evidence
            # refusal): never because an older report's wording is closer
            if not self._answers_from(plan, hits):
                hits = self.retriever.retrieve(plan, max(self.top_k, 20), report_ids)
                latest = [r for r in (self.index.report(i) for i in current) if r is not None]
                older_note = "_" + "; ".join(
                    f"The latest reports on {a} ({', '.join(report_label(r).split(': ', 1)[1] for r in sorted(latest, key=_when) if r.metadata.local_authority == a)}) have little on this"
                    for a in plan.authorities
                ) + ": these passages are from all " + ("its" if len(plan.authorities) == 1 else "their") + " reports, older ones included._"
                trace["time_policy"] = {"current_reports": current, "fell_back": True}
        retrieval_s = time.perf_counter() - retrieval_started
        if current is not None and not older_note:
            report_ids = current  # what was searched: the shorthand retry and the notes below keep to it
        searched = self._searched(plan, report_ids)
        trace |= {"scope_reports": report_ids, "searched": searched}
        retrieved = tuple(
            RetrievedChunk(h.chunk.chunk_id, h.chunk.paragraph_ids, round(h.score, 6), h.chunk.text, h.chunk.report_id)
            for h in hits[: self.top_k]
        )
        best_chunk = max((h.dense for h in hits), default=0.0)
        if best_chunk < self.refusal.min_on_topic_similarity and self._names_nothing(plan, filters):
            # off-topic from the evidence, not a word list: nothing the corpus knows is named, and no passage is near
            trace["plan"] = replace(plan, off_topic=True).to_json()
            return self._refuse(
                "I can only answer questions about Ofsted's inspection reports on children's services. "
                "Try asking about an authority, a service area (for example care leavers or the front door) "
                "or a judgement.",
                trace | {"refusal": "off-topic", "best_chunk_similarity": round(best_chunk, 4)},
                started,
                retrieval_s,
            )
        if not hits:
            return self._refuse(f"The reports do not answer this. {searched}{self._elsewhere(plan, report_ids)}", trace | {"refusal": "no-evidence"}, started, retrieval_s)
        evidence = self._evidence(hits)
        generation_started = time.perf_counter()
        draft = self._draft(plan, evidence, on_text)
        note = getattr(draft, "note", "")  # a fallback draft says why the LLM did not answer
        if note:
            trace["answerer_note"] = note
        trace |= {"confidence": round(draft.confidence, 4), "best_chunk_similarity": round(best_chunk, 4)}
        if draft.confidence < self.refusal.min_sentence_similarity or best_chunk < self.refusal.min_chunk_similarity:
            return self._refuse(
                f"The reports do not answer this. {searched}{self._elsewhere(plan, report_ids)}",
                trace | {"refusal": "weak-evidence"},
                started,
                retrieval_s,
                retrieved,
            )
        chosen_texts = [s.text for s in draft.sentences] or [draft.text]
        caveat = ""
        shorthand = _shorthand_asked(search_text(plan.topic or plan.standalone))
        if shorthand and draft.sentences and not names_shorthand(shorthand, chosen_texts):
            # "young carers" asked, and no quoted sentence names them: answer from the passages that do, if any
            naming = [h for h in self.retriever.retrieve(plan, 60, report_ids, rerank=False) if names_shorthand(shorthand, [h.chunk.text])]
            retry_evidence = self._evidence(naming) if naming else []
            retry = self.answerer.draft(plan, retry_evidence) if retry_evidence else None
            if retry is not None and retry.sentences and names_shorthand(shorthand, [s.text for s in retry.sentences]):
                draft, evidence = retry, retry_evidence
                chosen_texts = [s.text for s in draft.sentences]
                trace["shorthand_retry"] = [short for short, _ in shorthand]
            else:
                unnamed = next(short for short, phrases in shorthand if not names_shorthand([(short, phrases)], chosen_texts))
                caveat = f"_No passage found names \u2018{unnamed}\u2019: these are the nearest, and may not answer the question._\n\n"
                trace["shorthand_unnamed"] = unnamed
        elif not shorthand:
            # "caseloads in Cheshire East in 2024": its report never uses the word; say so before the nearest passages
            never = self._never_named(plan, report_ids)
            if never:
                caveat = f"_The reports searched never mention \u2018{never}\u2019: these are the nearest passages, and may not answer the question._\n\n"
                trace["subject_unnamed"] = never
        wanted = expected_answer_type(plan.topic or plan.standalone)
        counted = figure_asked(self.gazetteer.strip(plan.standalone))
        if wanted and not any(has_answer_type(wanted, text, counted) for text in chosen_texts):
            described = {"amount": "an amount of money", "person": "a person's name", "number": "a figure", "proportion": "a proportion"}[wanted]
            return self._refuse(
                f"The reports do not answer this: the passages found do not give {described} for it. {searched}",
                trace | {"refusal": f"no-{wanted}-in-evidence"},
                started,
                retrieval_s,
                retrieved,
            )
        sources = {e.marker: e.paragraph for e in evidence}
        reports = {e.report.report_id: e.report for e in evidence}
        text = draft.text
        # where it stands now: a question about one council with no time in it, answered from its standing reports
        # (whether or not it has older ones); not when Ofsted shorthand names something narrower ("young carers")
        now = standing is not None and not older_note and len(plan.authorities) == 1 and not shorthand
        areas = wanted_areas(plan.standalone) or (self._judged_area_of(hits, report_ids) if now else [])
        # where it stands now: the overall grade that stands leads, beside the area's, whatever the question's subject
        # ("is Harrow's children's social care in trouble?" is answered by its inadequate overall grade, not by the one
        # area its best passages sit under), from the reports of the kind the answer quotes first: an area SEND
        # inspection's outcome above its passages, not the council's children's services grade
        first = next((sources[m] for m in MARKER.findall(text) if m in sources), None)  # the first quoted paragraph
        alike = self._graded_alike(reports.get(first.report_id) if first is not None else None, report_ids) if now else []
        graded = ["overall_effectiveness", *[a for a in areas if a != "overall_effectiveness"]] if alike else areas
        # an inadequate overall grade is carried by the areas judged inadequate: say which, whatever was asked
        graded += [a for a in self._failing_areas(alike) if a not in graded]
        if alike or (areas and (len(plan.authorities) > 1 or (len(plan.authorities) == 1 and (about_areas_only(plan.topic) or now)))):
            # a comparison on a judged area: each authority's judgement, from the catalog, before the passages; one
            # authority's judged area and nothing narrower ("tell me about Halton's care leavers"), or where it stands
            # now ("are our children in care looked after properly?"): its grades first
            cited = {m: sources[m] for m in MARKER.findall(text) if m in sources}
            grades, extra_sources, extra_reports = self._comparison_grades(plan, alike or report_ids, len(sources), cited, graded)
            if grades:
                if now and first is not None and first.report_id not in extra_reports and _when(reports[first.report_id]) > max(
                    (_when(r) for r in extra_reports.values()), default=date.min
                ):
                    # the latest word is a later visit's: it leads, and the grade that stands follows
                    text = text + "\n\n**The grade that stands**\n" + "\n".join(grades)
                else:
                    verdict = self._area_verdict(plan, areas, extra_reports, cited) if now and areas else []
                    marker = str(len(sources) + len(extra_sources) + 1)
                    if verdict:
                        extra_sources[marker] = verdict[0].paragraph
                    lead = [f"- {sentence} [{marker}]" for sentence in in_text_order(verdict[0])] if verdict else []
                    text = _lead_with("**Judgements**\n" + "\n".join([*grades, *lead]) + "\n\n", text)
                sources |= extra_sources
                reports |= extra_reports
        checked = check_citations(text, sources, reports, self._similarity)
        generation_s = time.perf_counter() - generation_started
        trace |= {"dropped_sentences": list(checked.dropped), "removed_markers": list(checked.removed_markers)}
        if not checked.citations:
            return self._refuse(
                f"The reports do not answer this. {searched}{self._elsewhere(plan, report_ids)}",
                trace | {"refusal": "no-supported-claim"},
                started,
                retrieval_s,
                retrieved,
            )
        if _WIDENED in plan.notes and asked.published_to and plan.authorities and not self._speaks_of(asked, checked.citations):
            # "what did inspectors say about Camden in 2021?" with no Camden report then: a later report's findings
            # answer only where its text speaks of that time ("since the last inspection in 2015"); else say so
            return self._refuse(
                f"The reports do not answer this: {_no_report_then(asked)[0].lower()}{_no_report_then(asked)[1:]}, "
                f"and the other reports do not speak of that time. {self._nearest_reports(asked)}{searched}",
                {k: v for k, v in trace.items() if k != "scope_note"} | {"refusal": "no-report-then"},
                started,
                retrieval_s,
                retrieved,
            )
        text = (f"{older_note}\n\n" if older_note else "") + caveat + checked.text + f"\n\n_{searched}_"
        return Answer(
            answer=text,
            refused=False,
            citations=checked.citations,
            retrieved=retrieved,
            trace=trace,
            timings={
                "retrieval_s": retrieval_s,
                "generation_s": generation_s,
                "total_s": time.perf_counter() - started,
            },
        )

    def stream(self, question: str, history: Sequence[Turn] = (), filters: Filters | None = None) -> Iterator[str | Answer]:
        """Yield the answer's text as it grows, then the final, checked Answer (the UI renders both).

        A streaming answerer (the LLM) is streamed token by token from a worker thread; the extractive
        answer, which is ready at once, is revealed block by block (each of its paragraphs and lists: every step
        re-renders the conversation in the UI, so a line at a time cost 13 renders for a 13-line answer). Errors are
        raised here, in the caller."""
        if not hasattr(self.answerer, "stream_draft"):
            answer = self.ask(question, history, filters)
            shown = ""
            for block in answer.answer.split("\n\n"):
                shown = f"{shown}\n\n{block}" if shown else block
                yield shown
            yield answer
            return
        updates: queue.Queue[tuple[str, object]] = queue.Queue()

        def work() -> None:
            try:
                updates.put(("answer", self.ask(question, history, filters, on_text=lambda text: updates.put(("text", text)))))
            except BaseException as error:  # handed to the caller's thread
                updates.put(("error", error))

        threading.Thread(target=work, daemon=True).start()
        while True:
            kind, value = updates.get()
            if kind == "text":
                yield keep_own_links(str(value), ())  # a draft: no link until the checked answer says which
            elif kind == "error":
                raise value  # type: ignore[misc]
            else:
                yield value  # type: ignore[misc]
                return

    def _state(self, plan: QueryPlan, filters: Filters | None, answer: Answer) -> TurnState:
        """The answer's state: the plan as understood, its route, the reports its citations show in the order shown, and
        the authorities of a list's items (the trace's `listed`, which counts items cited or not)."""
        shown: list[ShownReport] = []
        for citation in answer.citations:
            if any(r.report_id == citation.report_id for r in shown):
                continue
            report = self.index.report(citation.report_id)
            if report is not None:
                meta = report.metadata
                shown.append(ShownReport(report.report_id, meta.local_authority, meta.report_type, meta.published, meta.visit_start, meta.visit_end))
            else:
                published = date.fromisoformat(citation.published) if citation.published else None
                shown.append(ShownReport(citation.report_id, citation.local_authority, citation.report_type, published))
        listed = answer.trace.get("listed")
        items = [str(a) for a in listed] if isinstance(listed, list) else []
        return answer_state(plan, filters, str(answer.trace.get("route", "")), shown, items)

    def _rewrite_follow_up(
        self, plan: QueryPlan, question: str, history: Sequence[Turn], filters: Filters | None, trace: dict[str, object]
    ) -> QueryPlan:
        """With an answerer that can rewrite follow-ups (the LLM), make a follow-up standalone with it and plan the
        rewritten question. The rule-based plan stands when the rewrite names no authority while the
        conversation did, or the model's reply is unusable (the rewrite returns the question unchanged)."""
        rewrite = getattr(self.answerer, "rewrite_question", None)
        if not plan.follow_up or rewrite is None:
            return plan
        rewritten = rewrite(history, question)
        if not rewritten or rewritten.strip() == question.strip():
            return plan
        llm_plan = plan_query(rewritten, (), filters, self.gazetteer)
        trace["rewritten_question"] = rewritten
        if plan.authorities and not llm_plan.authorities:
            trace["rewrite_used"] = False
            return plan
        trace["rewrite_used"] = True
        llm_plan = replace(
            llm_plan,
            question=question,
            follow_up=True,
            notes=llm_plan.notes + ("follow-up made standalone by the language model",),
        )
        trace["plan"] = llm_plan.to_json()
        return llm_plan

    def _side_passage(self, plan: QueryPlan, own: Sequence[Report], areas: Sequence[str], as_it_stands: bool) -> Passage | None:
        """One authority's passage in a comparison, found on its own reports only."""
        if not own:
            return None
        focus = answer_focus(plan.standalone)
        if areas and about_areas_only(plan.topic):
            # a judged area and nothing narrower: the verdict that opens the latest graded report's section on it
            graded = [r for r in distinct_reports(own) if r.metadata.judgements]
            verdict = self._verdict(plan, max(graded, key=_when), areas, focus) if graded else None
            if verdict is not None:
                return verdict

        def side(ids: list[str]) -> Passage | None:
            return best_passage(
                self.index, self.retriever, plan, ids, term_weight=self.index.term_weight, focus=focus, summary_bonus=0.1, lead_bonus=0.1
            )

        if as_it_stands:
            # side by side means as things stand: each authority's latest report first, then its latest graded
            # inspection, older ones if both are silent; a report answers when its passage does and names most of
            # what was asked (Essex's 2025 visit on "disabled children's services" answered with its services)
            current = _childrens_services(distinct_reports(own), plan)
            latest = max(current, key=_when)
            graded = [r for r in current if r.metadata.judgements]
            standing = max(graded, key=_when) if graded else latest
            found = {report: side([report.report_id]) for report in dict.fromkeys([latest, standing])}
            answering = [p for p in found.values() if p is not None and p.similarity >= self.refusal.min_sentence_similarity]
            for passage in answering:
                if passage.on_topic >= 0.5:
                    return passage
            # neither names most of it: the standing inspection's passage, if it names the topic at all
            for passage in answering[::-1]:
                if passage.on_topic >= self.refusal.min_side_topic_share:
                    return passage
        return side([r.report_id for r in own])

    def _ranked_as_graded(self, plan: QueryPlan) -> tuple[QueryPlan, str] | None:
        """"Which authority has the best (worst) care leaver services?" asks for a ranking Ofsted does not make: read as
        the authorities it judged outstanding (inadequate) for that area, or overall; None for any other question."""
        match = _RANKED.search(plan.standalone)
        if match is None or plan.authorities or GRADE_INTENT.search(plan.standalone.replace(match.group(0), " ")):
            return None
        areas = [a for a in wanted_areas(plan.standalone) if a in AREA_LABELS and a not in ("lscb", "other")]
        # a judged area or the services as a whole, and nothing narrower or elsewhere ("on return home interviews",
        # "in the north west"): grades do not answer those
        rest = plan.topic.replace(match.group(0), " ")
        for _, pattern in AREA_PATTERNS:
            rest = pattern.sub(" ", rest)
        if [t for t in tokenize(rest) if t not in _RANKED_FILLER]:
            return None
        best = match.group("best") is not None
        grade = "outstanding" if best else "inadequate"
        area = " and ".join(AREA_LABELS[a] for a in areas) if areas else "overall effectiveness"
        rewritten = replace(plan, standalone=f"Which authorities were judged {grade} for {area}?")
        note = (
            f"_Ofsted grades authorities; it does not rank them. Read as: which authorities were judged {grade} "
            f"({'its highest' if best else 'its lowest'} grade) for {area}._"
        )
        return rewritten, note

    def _learned_route(
        self, plan: QueryPlan, report_ids: Sequence[str] | None, trace: dict[str, object], started: float
    ) -> Answer | None:
        """The rules found no route but a passage search: ask the route model (chatbot/intent.py), and when its
        model is sure and that route's handler can answer, answer there; else None, and the search goes on."""
        if self.route_model is None or _WIDENED in plan.notes:
            return None  # no report in the window asked: the rules search later reports' text on purpose
        guess = self.route_model.guess(self.index.embedder.embed_query(route_text(plan.question, self.gazetteer)))
        vote: dict[str, object] = {"route": guess.route, "confidence": guess.confidence, "sure": guess.sure}
        trace["route_model"] = vote
        if not guess.sure or guess.route == "passage":
            return None
        answer: Answer | None = None
        one = len(plan.authorities) == 1
        # the model reads the question alone: a follow-up whose subject the conversation supplies ("And over in
        # Islington, is it any different?" after a question on out-of-hours services) is about that subject, not the
        # whole service its own words seem to ask about
        carried = plan.follow_up and plan.standalone != plan.question
        if guess.route in ("grade", "date", "inspector", "focus") and plan.authorities and report_ids:
            answer = self._structured([guess.route], plan, report_ids, trace, started)
        elif guess.route == "improvements" and plan.authorities and report_ids:
            answer = self._improvements(plan, report_ids, trace, started)
        elif guess.route == "list" and not one:
            answer = self._list(plan, report_ids, trace, started)
        elif guess.route == "movement" and not one:
            answer = self._moves(plan, trace, started)
        elif guess.route == "timeline" and one and report_ids:
            answer = self._timeline(plan, report_ids, trace, started)
        elif guess.route in ("overview", "comparison") and plan.authorities and report_ids and not carried:
            answer = self._overview(plan, report_ids, trace, started)
        elif guess.route == "catalog" and not plan.authorities:
            answer = self._catalog(plan.question, trace, started)
        elif guess.route == "catalog" and report_ids:
            answer = self._catalog_of(plan, report_ids, trace, started)  # "Trafford: how many reports are in the index?"
        if answer is not None:
            answer.trace["route_model"] = vote | {"taken": True}
        return answer

    def _not_covered(self, places: Sequence[Place]) -> str:
        """The refusal for places the index does not cover: where each is, and what the reports do cover."""
        parts = [f"{place.name} is in {place.nation}, and Ofsted inspects children's services in England only" for place in places]
        covered = sorted(self.index.authorities())
        listing = and_list(covered) if len(covered) <= 12 else f"{len(covered)} English local authorities"
        return f"The reports do not answer this: {'; '.join(parts)}. The indexed reports cover {listing}; name a council to ask about one."

    def _answers_from(self, plan: QueryPlan, hits: Sequence[Scored]) -> bool:
        """Whether these passages pass the weak-evidence refusal the answer itself faces: a chunk and a sentence near
        enough the question (the sentence score is the answerers' own, `score_sentences`)."""
        if not hits or max(h.dense for h in hits) < self.refusal.min_chunk_similarity:
            return False
        scored = score_sentences(
            expand_terms(plan.topic or search_text(plan.standalone)),
            self._evidence(hits),
            self.index.embedder,
            term_weight=self.index.term_weight,
            focus=answer_focus(plan.standalone),
        )
        return bool(scored) and max(s.similarity for s in scored) >= self.refusal.min_sentence_similarity

    def _standing_scope(self, plan: QueryPlan, report_ids: Sequence[str] | None, filters: Filters | None) -> list[str] | None:
        """The reports that say where each named authority stands now, for a question with no time in it that does not
        point at an earlier time or report (`PAST_ASKED`): its latest inspection and the visits since, and its latest area SEND inspection
        where it has one (only that when SEND is asked). Whichever answers is quoted, and the grades that lead are of
        its kind, so no word list has to tell a SEND question ("getting help for a child with special needs") from
        another. None when the question is not of that kind."""
        timed = plan.published_from or plan.published_to or plan.earliest or plan.latest_count
        if not plan.authorities or not report_ids or timed or PAST_ASKED.search(plan.question):
            return None
        if filters is not None and (filters.published_from or filters.published_to):
            return None
        reports = [r for r in (self.index.report(i) for i in report_ids) if r is not None]
        send = "area_send_inspection" in plan.report_types or bool(_SEND_ASKED.search(plan.standalone))
        chosen: list[str] = []
        for authority in plan.authorities:
            own = [r for r in reports if r.metadata.local_authority == authority]
            picked = [r.report_id for r in (standing_reports(own, True) if send else latest_reports(own))]
            if plan.report_types:
                # a kind of report asked whose latest is not where the authority stands ("per the SIF report", a
                # framework since replaced): the question is about those reports, not about now
                standing = {r.report_id for r in latest_reports([r for r in self.index.reports() if r.metadata.local_authority == authority])}
                if not set(picked) <= standing:
                    return None
            chosen += picked
        return chosen

    @staticmethod
    def _names_nothing(plan: QueryPlan, filters: Filters | None) -> bool:
        """Whether the question names nothing the corpus knows: no authority (indexed or not), region, report type,
        time or filter, and carries none from the conversation."""
        named = plan.authorities or plan.region or plan.report_types or plan.published_from or plan.published_to
        return not (named or plan.follow_up or plan.latest or plan.earliest or (filters is not None and not filters.is_empty()))

    def _catalog(self, question: str, trace: dict[str, object], started: float) -> Answer:
        """"Which authorities do you cover?", "which report types are in the index?": what the index holds, counted from
        its catalogue (a fact about the index, not a claim from a report: nothing to cite)."""
        reports = distinct_reports(self.index.reports())
        authorities = sorted({r.metadata.local_authority for r in reports if r.metadata.local_authority})
        dates = sorted(_when(r) for r in reports if _when(r) != date.min)
        kinds: dict[str, int] = {}
        for report in reports:
            kinds[report.metadata.report_type] = kinds.get(report.metadata.report_type, 0) + 1
        span = f", published from {dates[0]:%-d %B %Y} to {dates[-1]:%-d %B %Y}" if dates else ""
        lines = [f"The index holds {counted(len(reports), 'report')} on {counted(len(authorities), 'local authority')}{span}:", ""]
        lines += [f"- {REPORT_TYPE_LABELS.get(kind, kind)}: {count}" for kind, count in sorted(kinds.items(), key=lambda item: -item[1])]
        if re.search(r"\b(?:authorit|council|areas?\b|places?\b|where)", question, re.I):
            lines += ["", f"Authorities: {'; '.join(authorities)}."]  # "Bristol, City of" holds a comma
        lines += ["", "_Counted from the index's catalogue of reports. Name an authority, a report type or a year to ask about them._"]
        trace = trace | {"route": "catalog"}
        return _composed("\n".join(lines), (), (), trace, started)

    def _catalog_of(self, plan: QueryPlan, report_ids: Sequence[str], trace: dict[str, object], started: float) -> Answer | None:
        """"Give me all the Buckinghamshire reports in the index, each with its date": the reports in scope, counted by
        kind, each with its dates and cited from the line that gives them."""
        reports = sorted(distinct_reports([r for r in (self.index.report(i) for i in report_ids) if r is not None]), key=_when)
        if not reports:
            return None
        kinds: dict[str, int] = {}
        for report in reports:
            label = REPORT_TYPE_LABELS.get(report.metadata.report_type, report.metadata.report_type)
            kinds[label] = kinds.get(label, 0) + 1
        counted = ", ".join(f"{n} {label}{'s' if n > 1 else ''}" for label, n in kinds.items())
        whose = and_list(plan.authorities) if plan.authorities else "the scope asked"
        facts = [visit_fact(report, self.index.paragraphs) for report in reports]
        noun = "report" if len(reports) == 1 else "reports"
        searched = self._searched(plan, report_ids)
        preamble = f"The index holds {len(reports)} {noun} on {whose}: {counted}.\n\n"
        return self._facts_answer(facts, preamble, searched, trace | {"route": "catalog", "searched": searched}, started)

    def _why_graded(self, plan: QueryPlan, reports: Sequence[Report], trace: dict[str, object], started: float) -> Answer | None:
        """"Why was Halton judged inadequate?": the latest report in scope that gave that grade (for the area asked, else
        overall), its grade, and inspectors' reasons: the opening of the area's section, or for the grade overall the
        report's opening summary, its sentences chosen for what explains the grade. None when no report gave it."""
        grade = presupposed_grade(plan.standalone)
        areas = wanted_areas(plan.standalone) or ["overall_effectiveness"]
        held = [
            (report, judgement)
            for report in reports
            if report.metadata.report_type != "area_send_inspection"
            for judgement in _judgements_for(report, areas)
            if grade and _grade_is(judgement.grade, grade)
        ]
        if not held:
            return None
        report, judgement = max(held, key=lambda pair: _when(pair[0]))
        paragraphs = self.index.paragraphs(report.report_id)
        focus = answer_focus(plan.standalone)
        if areas == ["overall_effectiveness"]:
            summary = replace(plan, topic=f"overall effectiveness {_SUMMARY_TOPIC}")
            passage = best_passage(
                self.index, self.retriever, summary, [report.report_id], term_weight=self.index.term_weight, focus=focus, only=opening_summary(paragraphs)
            )
        else:
            passage = self._verdict(replace(plan, topic=area_phrase(plan.standalone)), report, areas, focus)
        fact = judgement_fact(report, judgement, paragraphs)
        if passage is None or fact.paragraph is None:
            return None
        sources: dict[str, Paragraph] = {}
        lines = [f"**{report_label(report)}**", f"- {judgement.label.rstrip('.')}: {judgement.grade} [{_marker(sources, fact.paragraph)}]."]
        marker = _marker(sources, passage.paragraph)
        lines.extend(f"- {text} [{marker}]" for text in in_text_order(passage))
        checked = check_citations("\n".join(lines), sources, {report.report_id: report}, self._similarity)
        if not checked.citations:
            return None
        searched = self._searched(plan, [r.report_id for r in reports])
        trace = trace | {"route": "why-graded", "searched": searched, "why_report": report.report_id}
        return _composed(f"{checked.text}\n\n_{searched}_", checked.citations, _retrieved_for(checked.citations, passage.hits), trace, started)

    def _verdict(self, plan: QueryPlan, report: Report, areas: Sequence[str], focus: re.Pattern[str] | None) -> Passage | None:
        """The opening paragraph of the report's section on a judged area ("The experiences and progress of care
        leavers: ..."), where inspectors give their verdict on it; None when the report has no such section."""
        paragraphs = self.index.paragraphs(report.report_id)
        # only a section on that area alone: "children in care and care leavers" may open on children in care
        for judgement in [j for j in _judgements_for(report, areas) if j.area in areas]:
            opener = next((p for p in paragraphs if under_judgement(p, judgement) and is_statement(p)), None)
            if opener is not None:
                found = best_passage(
                    self.index, self.retriever, plan, [report.report_id], term_weight=self.index.term_weight, focus=focus, only=[opener]
                )
                return replace(found, verdict=True) if found is not None else None
        return None

    def _shown(self, passage: Passage, strongest: float) -> bool:
        """Whether a side's passage is worth setting beside the others: it answers at all (similarity), is not far weaker
        than the strongest side's, and names the topic (a passage on something else scores well on a visit's generic
        sentences)."""
        if passage.verdict:
            return True  # the section's heading names the area; its opening paragraph is the verdict on it
        return (
            passage.similarity >= self.refusal.min_sentence_similarity * 0.6
            and passage.score >= strongest * self.refusal.side_bar
            and passage.on_topic >= self.refusal.min_side_topic_share
        )

    def _grade_source(self, report: Report, judgement: Judgement, quoted: Paragraph | None) -> Paragraph | None:
        """The paragraph a grade line cites: the report's own sentence giving that grade for that area, or the line or
        heading stating it, so that the citation itself shows the grade; the paragraph already quoted under the
        heading that gives it only when the report has neither; None leaves it to the judgement table."""
        paragraphs = self.index.paragraphs(report.report_id)
        prose = grade_sentence(paragraphs, judgement)
        if prose is not None:
            return prose[0]
        stating = _stating_paragraph(paragraphs, [judgement.grade, judgement.label])
        if stating is not None:
            return stating
        if quoted is not None and under_judgement(quoted, judgement):
            return quoted
        return None

    def _area_verdict(
        self, plan: QueryPlan, areas: Sequence[str], graded: Mapping[str, Report], cited: Mapping[str, Paragraph]
    ) -> list[Passage]:
        """Where it stands now on a judged area ("how well does Rochdale look after the children in its care?"): the
        opening paragraph of the latest inspection's section on it, where inspectors give their verdict (the headline
        a councillor needs, whatever the question's wording matched), unless the answer quotes it already; [] else."""
        if len(graded) != 1:
            return []
        report = next(iter(graded.values()))
        verdict = self._verdict(replace(plan, topic=area_phrase(plan.standalone)), report, areas, answer_focus(plan.standalone))
        if verdict is None or any(p.paragraph_id == verdict.paragraph.paragraph_id for p in cited.values()):
            return []
        return [verdict]

    def _graded_alike(self, quoted: Report | None, report_ids: Sequence[str] | None) -> list[str]:
        """The reports searched of the kind a drafted answer quotes first (`quoted`): area SEND inspections when it is
        one (they grade the local area partnership), else the council's children's services reports; [] when it
        quotes nothing."""
        if quoted is None:
            return []
        send = quoted.metadata.report_type == "area_send_inspection"
        kinds = {i: r.metadata.report_type for i in report_ids or [] if (r := self.index.report(i)) is not None}
        return [i for i, kind in kinds.items() if (kind == "area_send_inspection") == send]

    def _failing_areas(self, report_ids: Sequence[str]) -> list[str]:
        """The areas judged inadequate by the latest graded inspection among these reports, when it judged the
        authority inadequate overall (Ofsted's overall grade is inadequate when any area is); [] else."""
        graded = [r for r in (self.index.report(i) for i in report_ids) if r is not None and r.metadata.judgements]
        if not graded:
            return []
        latest = max(graded, key=_when)
        if not states_grade(latest.metadata.grade("overall_effectiveness") or "", "inadequate"):
            return []
        return [j.area for j in latest.metadata.judgements if j.area != "overall_effectiveness" and states_grade(j.grade, "inadequate")]

    def _judged_area_of(self, hits: Sequence[Scored], report_ids: Sequence[str] | None) -> list[str]:
        """The judged area a question is about, read from where its best passages sit in the latest graded inspection
        searched: when most of the top five passages from that report lie under one judgement's heading ("The
        experiences and progress of children in care: good"), that judgement's area; else []. The report's own
        structure says what "kids in care" or "when a neighbour rings about a child" is about, not a word list."""
        graded = [r for r in (self.index.report(i) for i in (report_ids or [])) if r is not None and r.metadata.judgements
                  and r.metadata.report_type != "area_send_inspection"]
        if not graded:
            return []
        report = max(graded, key=_when)
        judgements = [j for j in report.metadata.judgements if j.area != "overall_effectiveness"]
        votes: dict[str, int] = {}
        for hit in [h for h in hits if h.chunk.report_id == report.report_id][:5]:
            paragraph = self.index.paragraph(hit.chunk.paragraph_ids[0]) if hit.chunk.paragraph_ids else None
            area = next((j.area for j in judgements if paragraph is not None and under_judgement(paragraph, j)), None)
            if area is not None:
                votes[area] = votes.get(area, 0) + 1
        best = max(votes.items(), key=lambda item: item[1], default=None)
        return [best[0]] if best is not None and best[1] >= 3 else []

    def _comparison_grades(
        self,
        plan: QueryPlan,
        report_ids: Sequence[str] | None,
        offset: int,
        cited: Mapping[str, Paragraph] | None = None,
        areas: Sequence[str] | None = None,
    ) -> tuple[list[str], dict[str, Paragraph], dict[str, Report]]:
        """Each compared authority's latest judgement on the question's area (`areas`, else the areas it names), as
        cited lines. A grade is cited from a paragraph the answer already cites (`cited`: marker -> paragraph) when it
        sits under the heading giving that grade, so one citation serves both."""
        in_scope = [r for r in (self.index.report(i) for i in (report_ids or [])) if r is not None]
        reports = [r for r in _childrens_services(in_scope, plan) if r.metadata.judgements]
        latest: dict[str, Report] = {}
        for report in sorted(reports, key=_when):
            latest[report.metadata.local_authority or report.report_id] = report
        lines: list[str] = []
        sources: dict[str, Paragraph] = {}
        for authority in plan.authorities:
            newest = latest.get(authority)
            if newest is None:
                continue
            paragraphs = self.index.paragraphs(newest.report_id)
            asked = list(areas) if areas else wanted_areas(plan.standalone)
            for judgement in sorted(_judgements_for(newest, asked), key=lambda j: asked.index(j.area) if j.area in asked else len(asked)):
                kind = REPORT_TYPE_LABELS.get(newest.metadata.report_type, "report")
                # the line or heading that states the grade, so the citation itself shows it; else a quoted paragraph
                # under the heading that gives it (its heading states the grade)
                paragraph = _stating_paragraph(paragraphs, [judgement.grade, judgement.label])
                already = next(
                    (m for m, p in (cited or {}).items() if p.report_id == newest.report_id
                     and (p.paragraph_id == paragraph.paragraph_id if paragraph is not None else under_judgement(p, judgement))),
                    None,
                )
                if already is not None:
                    lines.append(f"- {authority} ({kind}, {_when(newest):%-d %B %Y}): {judgement.label}: {judgement.grade} [{already}].")
                    continue
                if paragraph is None:
                    continue
                marker = str(offset + len(sources) + 1)
                sources[marker] = paragraph
                lines.append(f"- {authority} ({kind}, {_when(newest):%-d %B %Y}): {judgement.label}: {judgement.grade} [{marker}].")
        return lines, sources, {r.report_id: r for r in latest.values()}

    def _summary_lines(self, plan: QueryPlan, sources: dict[str, Paragraph], reports: dict[str, Report]) -> list[str]:
        """With an LLM answerer: a few sentences summing up a side-by-side answer, over the paragraphs it cites and
        numbered as it numbers them, one line each under "In short" (they go through the same citation check);
        [] with the extractive answerer, or when the model has nothing to add or cannot be reached."""
        summarise = getattr(self.answerer, "summarise", None)
        if summarise is None or not sources:
            return []
        evidence = [Evidence(m, p, reports[p.report_id], 0, 0.0) for m, p in sources.items() if p.report_id in reports]
        text = summarise(plan.standalone, evidence)
        # cited sentences only: a heading or a stray line the model wrote is not a claim the check can verify
        sentences = [s for line in text.splitlines() for s in split_sentences(line.lstrip("-* ").strip()) if MARKER.search(s)]
        return ["**In short**", *(f"- {s}" for s in sentences), ""] if sentences else []

    def _draft(self, plan: QueryPlan, evidence: Sequence[Evidence], on_text: Callable[[str], None] | None) -> Draft:
        stream_draft = getattr(self.answerer, "stream_draft", None)
        finish = getattr(self.answerer, "draft_from_reply", None)
        if on_text is None or stream_draft is None or finish is None:
            return self.answerer.draft(plan, evidence)
        pieces: list[str] = []
        for piece in stream_draft(plan, evidence):
            pieces.append(piece)
            on_text("".join(pieces))
        return finish(plan, evidence, "".join(pieces))

    # ---- helpers ---------------------------------------------------------------------------------

    def _list(self, plan: QueryPlan, report_ids: Sequence[str] | None, trace: dict[str, object], started: float) -> Answer | None:
        """Which authorities / how many reports: complete answers from the catalog, each item cited."""
        reports = self.index.reports() if report_ids is None else [r for r in (self.index.report(i) for i in report_ids) if r]
        result = list_answer(plan, reports, self.index.paragraphs)
        searched = self._searched(plan, report_ids)
        trace = trace | {"route": "structured:list", "structured_reason": result.reason, "searched": searched}
        if result.refusal and result.passages_may_answer:
            return None
        if result.refusal:
            return self._refuse(f"{result.refusal} {searched}", trace | {"refusal": "structured"}, started)
        return self._facts_answer(result.facts, f"{result.reason}\n\n", searched, trace, started)

    def _no_next_inspection(self, plan: QueryPlan, report_ids: Sequence[str] | None) -> str:
        """Why a question about the next inspection is not answered, and what the reports do record: each authority's
        latest report."""
        in_scope = [r for r in (self.index.reports() if report_ids is None else (self.index.report(i) for i in report_ids)) if r is not None]
        latest = [max(own, key=_when) for a in plan.authorities if (own := [r for r in in_scope if r.metadata.local_authority == a])]
        known = "; ".join(f"{report_label(r)}" for r in latest)
        return (
            "The reports do not answer this: an inspection report records an inspection that has happened, not when the "
            "next one will be (Ofsted does not publish its inspection dates in advance)."
            + (f" The latest report{'s' if len(latest) > 1 else ''} in the index: {known}." if known else "")
            + f" {self._searched(plan, report_ids)}"
        )

    def _mentions(self, plan: QueryPlan, phrase: str, report_ids: Sequence[str] | None, trace: dict[str, object], started: float) -> Answer | None:
        """Every report in scope that uses a phrase, each with the first sentence that does, cited; the count covers
        them all though at most MAX_LISTED are quoted. None when no report uses it (a search by meaning may still
        find the subject in other words)."""
        found = find_mentions(self.index, phrase, report_ids, detail=MAX_LISTED)
        mentions = found.detailed
        searched = self._searched(plan, report_ids)
        trace = trace | {"route": "mentions", "phrase": phrase, "mentions": len(found.reports), "searched": searched}
        total = len(distinct_reports(self.index.reports() if report_ids is None else [r for r in (self.index.report(i) for i in report_ids) if r]))
        if not mentions:
            if len(phrase.split()) > 3:
                return None  # a longer phrase may be put another way: a search by meaning may find it
            return self._refuse(
                f"The reports do not answer this: none of the {total} reports searched uses \u201c{phrase}\u201d. {searched}",
                trace | {"refusal": "never-mentioned"},
                started,
            )
        authorities = sorted({r.metadata.local_authority or "" for r in found.reports})
        header = (
            f"\u201c{phrase}\u201d appears in {len(found.reports)} of the {total} reports searched, "
            f"from {len(authorities)} authorit{'ies' if len(authorities) != 1 else 'y'}."
        )
        if len(found.reports) > MAX_LISTED:
            header += f" The first {MAX_LISTED}, by authority, are quoted; name an authority, a report type or a year to narrow the list."
        sources: dict[str, Paragraph] = {}
        lines = [header, ""]
        for mention in mentions:
            marker = _marker(sources, mention.paragraphs[0])
            more = f" (and {len(mention.paragraphs) - 1} more paragraph{'s' if len(mention.paragraphs) > 2 else ''})" if len(mention.paragraphs) > 1 else ""
            lines.append(f"- **{report_label(mention.report)}**{more}: {mention.sentence} [{marker}]")
        shown = {m.report.report_id: m.report for m in mentions}
        checked = check_citations("\n".join(lines), sources, shown, self._similarity)
        if not checked.citations:
            return None
        return _composed(f"{checked.text}\n\n_{searched}_", checked.citations, _retrieved_for(checked.citations, []), trace, started)

    def _overview(self, plan: QueryPlan, report_ids: Sequence[str], trace: dict[str, object], started: float) -> Answer | None:
        """What inspectors said about an authority, with no narrower topic: the latest report in scope, its grades and
        the best sentences of its opening summary (the paragraphs before "What needs to improve"), each cited. With
        several authorities ("compare Kent and Essex"), each one's, side by side."""
        sources: dict[str, Paragraph] = {}
        lines: list[str] = []
        shown: dict[str, Report] = {}
        cited: dict[str, Report] = {}  # every report a line cites
        hits: list[Scored] = []
        counts: list[int] = []
        for authority in plan.authorities:
            own = distinct_reports(
                [r for r in (self.index.report(i) for i in report_ids) if r is not None and r.metadata.local_authority == authority]
            )
            if not own:
                continue
            report = max(_childrens_services(own, plan), key=_when)
            found = self._overview_lines(plan, report, sources)
            if found is None:
                continue
            more, passage = found
            # a visit is not graded: the grade that stands is its latest graded inspection's, given under the heading
            graded = None if report.metadata.judgements else self._standing_inspection(report)
            standing = self._standing_lines(report, graded, sources, cited) if graded is not None else []
            lines.extend([more[0], *standing, *more[1:], ""])
            shown[report.report_id] = report
            hits.extend(passage.hits)
            asked = plan.report_types or plan.published_from or plan.published_to  # a visit or a time asked: that alone
            earlier = self._overview_lines(plan, graded, sources, grades=False) if graded is not None and standing and not asked else None
            if earlier is not None:
                # "how are we doing?" after a visit: the inspection whose grades stand also gave the verdict that
                # stands, its own summary of the service (a visit looks at one part of it); not when a visit is asked
                lines.extend([*earlier[0], ""])
                hits.extend(earlier[1].hits)
            counts.append(len(own))
        if not shown:
            return None
        checked = check_citations("\n".join(lines).strip(), sources, shown | cited, self._similarity)
        if not checked.citations:
            return None
        searched = self._searched(plan, report_ids)
        if len(shown) == 1:
            note = f"\n\n_The latest of {counts[0]} reports in scope. Name a topic or a year to hear from the others._" if counts[0] > 1 else ""
        else:
            note = "\n\n_Each authority's latest report in scope. Name a topic to compare them on it._"
        trace = trace | {"route": "overview", "searched": searched, "overview_report": next(iter(shown)), "overview_reports": list(shown)}
        return _composed(f"{checked.text}{note}\n\n_{searched}_", checked.citations, _retrieved_for(checked.citations, hits), trace, started)

    def _standing_inspection(self, report: Report) -> Report | None:
        """The authority's latest graded inspection up to this report (an area SEND inspection grades something else):
        its judgements stand until the next one. None when there is none."""
        return self._graded_up_to(report.metadata.local_authority, _when(report))

    def _graded_up_to(self, authority: str | None, until: date) -> Report | None:
        """The authority's latest graded inspection of children's services (not an area SEND inspection) on or
        before a date; None when there is none."""
        earlier = [
            r for r in self.index.reports()
            if r.metadata.local_authority == authority and r.metadata.judgements
            and r.metadata.report_type != "area_send_inspection" and _when(r) <= until
        ]
        return max(earlier, key=_when) if earlier else None

    def _standing_lines(self, report: Report, standing: Report, sources: dict[str, Paragraph], cited: dict[str, Report]) -> list[str]:
        """For an ungraded report (a focused or monitoring visit): every judgement of `standing`, the authority's latest
        graded inspection before it (`_standing_inspection`), which stand until the next one, each cited, as a graded
        report's overview gives its own; [] when none can be cited."""
        paragraphs = self.index.paragraphs(standing.report_id)
        grades: list[str] = []
        for judgement in (j for j in standing.metadata.judgements if j.area != "lscb"):
            paragraph = judgement_fact(standing, judgement, paragraphs).paragraph
            if paragraph is not None:
                grades.append(f"- {judgement.label.rstrip('.')}: {judgement.grade} [{_marker(sources, paragraph)}].")
        if not grades:
            return []
        cited[standing.report_id] = standing
        kind = REPORT_TYPE_LABELS.get(report.metadata.report_type, "report")
        plural = "grades that stand are" if len(grades) > 1 else "grade that stands is"
        return [f"_The {kind} is not graded; the {plural} from the {report_label(standing).split(': ', 1)[-1]}:_", *grades]

    def _overview_lines(
        self, plan: QueryPlan, report: Report, sources: dict[str, Paragraph], *, grades: bool = True
    ) -> tuple[list[str], Passage] | None:
        """One report's grades (unless `grades` is False) and the best sentences of its opening summary, as cited
        lines; None when it has no summary to quote."""
        paragraphs = self.index.paragraphs(report.report_id)
        summary = replace(plan, topic=f"overall effectiveness {_SUMMARY_TOPIC}", authorities=(report.metadata.local_authority or "",))
        # "what did inspectors praise in Leeds?": the summary's sentences on strengths first
        passage = best_passage(
            self.index, self.retriever, summary, [report.report_id], term_weight=self.index.term_weight,
            focus=answer_focus(plan.standalone), only=opening_summary(paragraphs),
        )
        if passage is None:
            return None
        lines = [f"**{report_label(report)}**"]
        for judgement in (j for j in report.metadata.judgements if j.area != "lscb") if grades else ():
            source = self._grade_source(report, judgement, passage.paragraph) or judgement_fact(report, judgement, paragraphs).paragraph
            if source is not None:
                lines.append(f"- {judgement.label.rstrip('.')}: {judgement.grade} [{_marker(sources, source)}].")
        overall = report.metadata.grade("overall_effectiveness") or ""
        # judged requires improvement or inadequate: the weakness the report leads its summary with is told in full,
        # whatever sentences scored best (Stockport is not shown only through its praise)
        weak = bool(overall) and not _grade_is(overall, "good") and not _grade_is(overall, "outstanding")
        # the summary of the summary: each of its paragraphs opens with the point it makes ("There are serious failures
        # that leave children being harmed ..."), so each paragraph's first sentence, in the report's order; the best
        # passage's paragraph gives its best sentences instead
        # not the list of what a visit looked at ("quality of matching, placement and decision-making ..."): its scope
        shown = [p for p in opening_summary(paragraphs) if not in_scope_list(p, paragraphs)][: self.summary_paragraphs]
        if passage.paragraph not in shown:
            shown.append(passage.paragraph)
        for index, paragraph in enumerate(shown):
            marker = _marker(sources, paragraph)
            if paragraph.paragraph_id == passage.paragraph.paragraph_id:
                lines.extend(f"- {text} [{marker}]" for text in in_text_order(passage))
            else:
                opening = candidate_sentences(paragraph, fields=False)
                lines.extend(f"- {text} [{marker}]" for text in opening[: 2 if weak and index == 0 else 1])
        return lines, passage

    def _moves(self, plan: QueryPlan, trace: dict[str, object], started: float) -> Answer | None:
        """Which authorities' grades went up, went down, or moved from one grade to another: each authority's graded
        inspections compared in order (every date, so the grade before a window counts), each grade cited."""
        everything = replace(plan, published_from=None, published_to=None, latest=False, earliest=False, report_types=())
        scope = scope_reports(self.index.reports(), everything)
        reports = self.index.reports() if scope is None else [r for r in (self.index.report(i) for i in scope) if r is not None]
        moves, reason = grade_moves(plan.standalone, reports, (plan.published_from, plan.published_to))
        searched = self._searched(replace(plan, latest=False, earliest=False), scope)
        trace = trace | {"route": "structured:moves", "structured_reason": reason, "searched": searched}
        if not moves:
            return self._refuse(f"The reports do not answer this: {reason} {searched}", trace | {"refusal": "structured"}, started)
        facts = []
        for move in moves:
            for report, judgement in (move.earlier, move.later):
                facts.append(judgement_fact(report, judgement, self.index.paragraphs(report.report_id)))
        return self._facts_answer(facts, f"{reason}\n\n", searched, trace, started)

    def _timeline(self, plan: QueryPlan, report_ids: Sequence[str], trace: dict[str, object], started: float) -> Answer | None:
        """One authority over time, oldest first: each report's judgement on the topic (with its movement) when
        the question is about a judged area or about the authority as a whole, and its best passage on the topic."""
        in_scope = _childrens_services(oldest_first([r for r in (self.index.report(i) for i in report_ids) if r is not None]), plan)
        ends = referenced_reports(plan.question, in_scope)
        asked = plan.question
        if not ends and plan.follow_up:
            # "how does that compare with 2023?": the report the last answer showed is the other end
            ends, asked = referenced_reports(plan.standalone, in_scope), plan.standalone
        reports = between_ends(asked, in_scope, ends) if ends else in_scope
        if not ends and not plan.published_from:  # an end date may be the report a follow-up compares with the one before
            reports = since_last(plan.question, reports) or reports
        if len(reports) < 2:
            return None
        # the topic in the question's own words, less the words that ask about change or grades
        topic_words = _subject_words(plan.topic, _CHANGE_WORDS | _GRADE_WORDS)
        general = not topic_words
        areas = wanted_areas(plan.standalone) or ([a for a in timeline_areas(plan.standalone) if a != "overall_effectiveness"] if GRADE_INTENT.search(plan.standalone) else [])
        # a narrower topic ("the front door"): the grade of the area it is judged under
        under = [] if areas or general else topic_areas(" ".join(topic_words))
        # each grade's movement is since the inspection before it in scope, shown or not ("since its last inspection")
        grades = grade_lines(in_scope, plan.standalone, self.index.paragraphs, under) if areas or general or under else {}
        phrase = " and ".join(AREA_LABELS[a] for a in under) if under else area_phrase(plan.standalone)
        topic = " ".join(topic_words) if topic_words else f"{area_phrase(plan.standalone)} {_SUMMARY_TOPIC}"
        sub_plan = replace(plan, topic=topic, authorities=plan.authorities[:1])
        area_only = bool(areas) and not general and about_areas_only(topic)

        def passage_for(report: Report) -> Passage | None:
            if area_only and report.metadata.judgements:
                # a judged area and nothing narrower: the graded report's verdict on it, as in a comparison
                verdict = self._verdict(sub_plan, report, areas, CHANGE_FOCUS)
                if verdict is not None:
                    return verdict
            found = best_passage(
                self.index, self.retriever, sub_plan, [report.report_id], term_weight=self.index.term_weight, focus=CHANGE_FOCUS,
                summary_bonus=0.1, lead_bonus=0.1,
                # the authority as a whole: each report's own summary of how things stand and have changed
                only=opening_summary(self.index.paragraphs(report.report_id)) if general else (),
            )
            # a report's summary is its verdict on the whole: always set beside the others
            return replace(found, verdict=True) if general and found is not None else found

        passages = {r.report_id: passage_for(r) for r in reports}
        strongest = max((p.score for p in passages.values() if p is not None), default=0.0)
        sources: dict[str, Paragraph] = {}

        lines: list[str] = []
        used: list[Passage] = []
        for report in reports:
            lines.append(f"**{report_label(report)}**")
            header = len(lines)
            report_grades = grades.get(report.report_id, [])
            overall_asked = "overall" in phrase
            no_overall = overall_asked and _when(report) >= APRIL_2026 and all(g.judgement.area != "overall_effectiveness" for g in report_grades)
            if report.metadata.judgements and (areas or general or under) and (no_overall or not report_grades):
                note = " (the April 2026 framework gives none" + ("; its judgements follow)" if report_grades else ")") if no_overall else ""
                lines.append(f"- No {phrase} judgement in this report{note}.")
            passage = passages.get(report.report_id)
            if passage is not None and not self._shown(passage, strongest):
                passage = None
            for grade in report_grades:
                # one citation per grade: the quoted passage when it sits under the heading giving the grade, else
                # the report's own sentence giving it, else its table row
                paragraph = self._grade_source(report, grade.judgement, passage.paragraph if passage else None) or grade.paragraph
                if paragraph is not None:
                    lines.append(f"- {grade.text.rstrip('.')} [{_marker(sources, paragraph)}].")
            if passage is not None:
                used.append(passage)
                marker = _marker(sources, passage.paragraph)
                lines.extend(f"- {text} [{marker}]" for text in in_text_order(passage))
            if len(lines) == header and not report.metadata.judgements and GRADE_INTENT.search(plan.standalone):
                # a grade asked about, and a focused or monitoring visit: Ofsted does not grade those
                lines.append(f"- _Not graded: Ofsted does not grade a {REPORT_TYPE_LABELS.get(report.metadata.report_type, 'report')}._")
            elif len(lines) == header:  # no passage, and no grade it could cite
                lines.append("- _Nothing found on this in this report._")
            lines.append("")
        by_id = {r.report_id: r for r in reports}
        summary = self._summary_lines(plan, sources, by_id)
        checked = check_citations("\n".join([*summary, "Oldest to newest:", "", *lines]), sources, by_id, self._similarity)
        if not checked.citations:
            return None
        searched = self._searched(plan, report_ids)
        trace = trace | {
            "summary": "llm" if summary else "none",
            "route": "timeline",
            "searched": searched,
            "timeline_reports": [r.report_id for r in reports],
            "timeline_ends_named": bool(ends),
            "grade_lines": bool(grades),
            "dropped_sentences": list(checked.dropped),
        }
        return _composed(
            f"{checked.text}\n\n_{searched}_",
            checked.citations,
            _retrieved_for(checked.citations, [h for p in used for h in p.hits]),
            trace,
            started,
        )

    def _improvements(self, plan: QueryPlan, report_ids: Sequence[str], trace: dict[str, object], started: float) -> Answer | None:
        """What the reports say the authority needs to improve: their own list, complete, each point cited. A question
        on a narrower topic ("what must improve for care leavers?") keeps the points on that topic, or goes to passages."""
        reports = [r for r in (self.index.report(i) for i in report_ids) if r is not None]
        timed = bool(plan.published_from or plan.published_to or plan.report_types) and not plan.latest
        if len(plan.authorities) == 1:
            # "what was Trafford told to improve after the 2023 inspection?": the report named is the one meant
            everything = scope_reports(self.index.reports(), replace(plan, published_from=None, published_to=None, latest=False, report_types=()))
            named = referenced_reports_one(plan.question, [r for r in (self.index.report(i) for i in everything or []) if r is not None])
            if named is not None:
                reports, timed = [named], True
                plan = replace(plan, published_from=None, published_to=None, latest=False, report_types=())
                report_ids = everything or report_ids
        if not timed:
            reports = _childrens_services(reports, plan)
        found = reports_with_points(reports, self.index.paragraphs, every=timed)
        if not found:
            return None
        wanted = improvement_topic(plan.topic)
        lines: list[str] = []
        sources: dict[str, Paragraph] = {}
        for report, points in found:
            about_topic = report.metadata.focus and set(tokenize(" ".join(wanted))) <= set(tokenize(report.metadata.focus))
            if wanted and not about_topic:  # a visit about care leavers: every point is about care leavers
                words = set(tokenize(expand_terms(" ".join(wanted))))
                points = [p for p in points if words & set(tokenize(p.text))]
                if not points:
                    continue
            lines.append(f"**{report_label(report)}**: what needs to improve")
            for point in points:
                marker = str(len(sources) + 1)
                sources[marker] = point
                lines.append(f"- {point.text.rstrip()} [{marker}]")
            lines.append("")
        if not sources:
            return None
        checked = check_citations("\n".join(lines), sources, {r.report_id: r for r, _ in found}, self._similarity)
        if not checked.citations:
            return None
        searched = self._searched(plan, report_ids)
        trace = trace | {"route": "structured:improvements", "searched": searched, "improvement_reports": [r.report_id for r, _ in found]}
        return _composed(f"{checked.text}\n\n_{searched}_", checked.citations, _retrieved_for(checked.citations, []), trace, started)

    def _comparison(self, plan: QueryPlan, report_ids: Sequence[str], trace: dict[str, object], started: float) -> Answer | None:
        """Two or more authorities side by side: for each, its latest judgement on the question's area (when it
        asks about a judged area) and its best passage on the topic, each found separately, one citation a claim."""
        areas = wanted_areas(plan.standalone)
        # each side's grade when the question is about the judged area itself or asks for grades; on something
        # narrower ("support for care leavers over 21") the area's grade does not answer it
        # ... or asks which is better: Ofsted's grade is its verdict on that ("which one had the better leadership?")
        graded_question = bool(areas) and (about_areas_only(plan.topic) or bool(GRADE_INTENT.search(plan.standalone) or _WHICH_BETTER.search(plan.question)))
        sources: dict[str, Paragraph] = {}
        reports: dict[str, Report] = {}
        lines: list[str] = []
        used: list[Passage] = []
        sides: list[tuple[str, list[Report], Passage | None]] = []
        years = self.gazetteer.years_named(plan.question)
        # each side is searched for the subject alone: "workforce stability", not "workforce stability in at their"
        subject = _subject_words(plan.topic, _COMPARE_WORDS | _CHANGE_WORDS)
        side_plan = replace(plan, topic=" ".join(subject)) if subject else plan
        for authority in plan.authorities:
            own = [r for r in (self.index.report(i) for i in report_ids) if r is not None and r.metadata.local_authority == authority]
            if authority in years:
                # "Calderdale (2022) and Trafford (2024)": each side at its own point in time, when it has a report then
                dated = [r for r in own if years[authority] in {d.year for d in (r.metadata.visit_start, r.metadata.visit_end, r.metadata.published) if d}]
                own = dated or own
            as_it_stands = not (plan.published_from or plan.published_to or plan.earliest or authority in years)
            sides.append((authority, own, self._side_passage(replace(side_plan, authorities=(authority,)), own, areas, as_it_stands)))
        strongest = max((p.similarity for _, _, p in sides if p is not None), default=0.0)
        best_score = max((p.score for _, _, p in sides if p is not None), default=0.0)
        if strongest < self.refusal.min_sentence_similarity and not areas:
            return None  # the passage route refuses with its own reasons
        for authority, own, passage in sides:
            # an area SEND inspection's outcome is not a grade of children's services (Medway's 2024 one hid its 2023 grades)
            graded = [r for r in sorted(distinct_reports(_childrens_services(own, plan)), key=_when) if r.metadata.judgements]
            judged: list[tuple[str, Paragraph]] = []
            latest = graded[-1] if graded else None
            strong = passage is not None and self._shown(passage, best_score)
            if graded_question and latest is not None:
                paragraphs = self.index.paragraphs(latest.report_id)
                for judgement in _judgements_for(latest, areas):
                    quoted_here = passage.paragraph if strong and passage is not None and passage.report.report_id == latest.report_id else None
                    paragraph = self._grade_source(latest, judgement, quoted_here) or _stating_paragraph(paragraphs, [judgement.grade, judgement.label])
                    if paragraph is not None:
                        judged.append((f"{judgement.label}: {judgement.grade}", paragraph))
            quoted = passage if strong else None
            one_report = {r.report_id for r in ([latest] if judged and latest else []) + ([quoted.report] if quoted else [])}
            if len(one_report) == 1:
                only = latest if judged and latest else quoted.report if quoted else None
                lines.append(f"**{report_label(only)}**" if only is not None else f"**{authority}**")
            else:
                lines.append(f"**{authority}**")

            def source_of(report: Report, one_report: set[str] = one_report) -> str:
                if len(one_report) == 1:
                    return ""
                kind = REPORT_TYPE_LABELS.get(report.metadata.report_type, "report")
                return f"{kind[0].upper()}{kind[1:]} of {_when(report):%-d %B %Y}: "

            if judged and latest is not None:
                reports[latest.report_id] = latest
                for statement, paragraph in judged:
                    marker = str(len(sources) + 1)
                    sources[marker] = paragraph
                    lines.append(f"- {source_of(latest)}{statement} [{marker}].")
            if quoted is not None:
                used.append(quoted)
                known = next((m for m, p in sources.items() if p.paragraph_id == quoted.paragraph.paragraph_id), None)
                marker = known or str(len(sources) + 1)
                sources[marker] = quoted.paragraph
                reports[quoted.report.report_id] = quoted.report
                for i, text in enumerate(in_text_order(quoted)):
                    lines.append(f"- {source_of(quoted.report) if i == 0 else ''}{text} [{marker}]")
            elif not judged:
                lines.append(f"- _Nothing found on this for {authority}._")
            lines.append("")
        summary = self._summary_lines(plan, sources, reports)
        checked = check_citations("\n".join([*summary, *lines]), sources, reports, self._similarity)
        if not checked.citations:
            return None
        searched = self._searched(plan, report_ids)
        trace = trace | {
            "route": "comparison",
            "summary": "llm" if summary else "none",
            "searched": searched,
            "dropped_sentences": list(checked.dropped),
        }
        return _composed(
            f"{checked.text}\n\n_{searched}_",
            checked.citations,
            _retrieved_for(checked.citations, [h for p in used for h in p.hits]),
            trace,
            started,
        )

    def _reports_described(self, kind: str, plan: QueryPlan, reports: list[Report]) -> list[Report]:
        """When a date or inspector question describes the visit ("the covid-era focused visit") rather than
        dating it, pick the report whose text matches the description best, per authority."""
        timed = plan.published_from or plan.published_to or plan.latest or plan.earliest
        words = [w for w in tokenize(plan.topic) if w not in _INTENT_WORDS]
        if kind not in ("date", "inspector") or timed or not words or len(reports) < 2:
            return reports
        hits = self.retriever.retrieve(replace(plan, topic=" ".join(words)), 5, [r.report_id for r in reports], rerank=False)
        best: dict[str, Report] = {}
        for hit in hits:
            report = self.index.report(hit.chunk.report_id)
            if report is not None:
                best.setdefault(report.metadata.local_authority or report.report_id, report)
        return list(best.values()) or reports

    def _structured(
        self, kinds: Sequence[str], plan: QueryPlan, report_ids: Sequence[str], trace: dict[str, object], started: float, verdict_of: str = ""
    ) -> Answer | None:
        """Answer grade, date, focus or inspector questions from metadata, citing the paragraph that states each fact.
        A second question in the same sentence ("... and when were inspectors on site?") adds its facts. `verdict_of`
        is a yes-or-no grade question ("Is Hackney good?") that the grades found answer first."""
        all_reports = [r for r in (self.index.report(rid) for rid in report_ids) if r is not None]
        kind, *others = kinds
        reports = self._reports_described(kind, plan, all_reports)
        standing_note = ""
        if kind == "grade":
            reports, standing_note = self._standing(plan, reports)
        result = self.structured.answer(kind, plan, reports)
        if result is None:
            return None
        searched = self._searched(plan, report_ids)
        trace = trace | {"route": f"structured:{kind}", "structured_reason": result.reason, "searched": searched}
        if result.refusal and result.passages_may_answer:
            return None
        if result.refusal:
            return self._refuse(f"{result.refusal} {searched}", trace | {"refusal": "structured"}, started)
        facts = list(result.facts)
        for other in others:
            described = self._reports_described(other, plan, all_reports)
            if other == "grade":
                described, standing_note = self._standing(plan, described)
            more = self.structured.answer(other, plan, described)
            if more is not None and not more.refusal:
                facts.extend(f for f in more.facts if f not in facts)
                trace["route"] = f"{trace['route']}+{other}"
        verdict = yes_no_verdict(verdict_of, list({f.report.report_id: f.report for f in facts}.values())) if verdict_of else ""
        preamble = " ".join(part for part in (f"{verdict}." if verdict else "", standing_note, result.lead) if part)
        # the answer in a few words first ("Requires improvement to be good."), where one report gives one value and
        # the question names at most one authority; a yes-or-no question's verdict is its answer in a few words already
        direct = "" if verdict or len(plan.authorities) > 1 else direct_answer(facts)
        return self._facts_answer(facts, f"{preamble}\n\n" if preamble else "", searched, trace, started, direct=direct)

    def _standing(self, plan: QueryPlan, reports: list[Report]) -> tuple[list[Report], str]:
        """The grades asked of an authority's latest report when that report is a focused or monitoring visit: Ofsted
        does not grade those, and the latest graded inspection before it stands until the next one. Returns the
        reports to take grades from and a sentence saying which stand in for which."""
        if plan.published_to and not plan.latest and not plan.earliest:
            return self._standing_then(plan, reports)
        if not plan.latest or any(r.metadata.judgements for r in reports):
            return reports, ""
        chosen: list[Report] = []
        notes: list[str] = []
        for report in reports:
            standing = self._standing_inspection(report)
            if standing is None:
                chosen.append(report)
                continue
            chosen.append(standing)
            notes.append(
                f"{report.metadata.local_authority}'s latest report, the {REPORT_TYPE_LABELS.get(report.metadata.report_type, 'report')} of {_when(report):%-d %B %Y}, is not graded; "
                f"the judgements that stand are those of its {REPORT_TYPE_LABELS.get(standing.metadata.report_type, 'report')} of {_when(standing):%-d %B %Y}."
            )
        return chosen, " ".join(notes)

    def _standing_then(self, plan: QueryPlan, reports: list[Report]) -> tuple[list[Report], str]:
        """"Trafford's overall grade in 2021": when no graded inspection of an authority falls in the dates asked, the
        grades that stood then are those of its latest graded inspection before their end. The reports to take grades
        from, and a sentence saying so; the reports unchanged when the dates hold a graded inspection."""
        if {"focused_visit", "monitoring_visit"} & set(detect_report_types(plan.standalone)):
            return reports, ""  # "the grade from the July 2024 focused visit": about that visit, which is not graded
        start, end = plan.published_from or date.min, plan.published_to or date.max
        in_window = [r for r in reports if start <= _when(r) <= end and r.metadata.report_type != "area_send_inspection"]
        if any(r.metadata.judgements for r in in_window) or not plan.authorities:
            return reports, ""
        when = f"in {end.year}" if start.year == end.year and (start.month, start.day, end.month, end.day) == (1, 1, 12, 31) else f"between {start:%-d %B %Y} and {end:%-d %B %Y}"
        chosen: list[Report] = []
        notes: list[str] = []
        for authority in plan.authorities:
            own = [r for r in in_window if r.metadata.local_authority == authority]
            standing = self._graded_up_to(authority, end)
            if standing is None:
                if any(start <= _when(r) <= end for r in reports if r.metadata.local_authority == authority):
                    return reports, ""  # its reports then are not graded (Blackpool's 2024 area SEND inspection): say so
                continue  # no report then, nor a graded one before: a later report's text may say (searched as passages)
            chosen.append(standing)
            held = "; ".join(f"the {REPORT_TYPE_LABELS.get(r.metadata.report_type, 'report')} of {_when(r):%-d %B %Y}" for r in sorted(own, key=_when))
            notes.append(
                f"{authority} had no graded inspection {when}"
                + (f" (its report then, {held}, is not graded)" if held else "")
                + f"; the judgements that stood then were those of its {REPORT_TYPE_LABELS.get(standing.metadata.report_type, 'report')} of {_when(standing):%-d %B %Y}."
            )
        return chosen, " ".join(notes)

    @staticmethod
    def _speaks_of(asked: QueryPlan, citations: Sequence[Citation]) -> bool:
        """Whether a cited paragraph names a year of the dates asked; for a grade, the year of any inspection before
        their end ("since the last inspection in 2022, when services were judged outstanding" for 2023)."""
        grade = "grade" in structured_intents(asked.standalone)
        start = (asked.published_from if asked.published_from and not grade else date(1990, 1, 1)).year
        end = (asked.published_to or date.today()).year
        years = {str(y) for y in range(start, end + 1)}
        return any(years & set(YEAR.findall(c.text)) for c in citations)

    def _nearest_reports(self, asked: QueryPlan) -> str:
        """"Camden's reports nearest that time: ILACS inspection of 15 April 2025." for a refusal."""
        start = asked.published_from or date.min
        lines = []
        for authority in asked.authorities:
            own = [r for r in distinct_reports(self.index.reports()) if r.metadata.local_authority == authority]
            before = [r for r in own if _when(r) < start]
            after = [r for r in own if _when(r) > (asked.published_to or date.max)]
            near = ([max(before, key=_when)] if before else []) + ([min(after, key=_when)] if after else [])
            if near:
                lines.append(f"{authority}'s reports nearest that time: " + "; ".join(report_label(r) for r in near) + ".")
        return " ".join(lines) + (" " if lines else "")

    def _facts_answer(
        self, facts, preamble: str, searched: str, trace: dict[str, object], started: float, direct: str = ""
    ) -> Answer | None:
        """Compose cited statements of fact; each cited paragraph must state the value it is cited for. `direct`, the
        answer in a few words, goes first when every fact giving a value is cited (it has no marker of its own)."""
        citations: list[Citation] = []
        lines: list[str] = []
        markers: dict[str, str] = {}
        for fact in facts:
            paragraph = fact.paragraph
            # the citation check for a field: the cited paragraph must state the value
            if paragraph is None or (not supports(fact.text, paragraph.text, self._similarity) and not _states_value(fact.text, paragraph.text)):
                lines.append(f"- {fact.text}")
                if getattr(fact, "value", ""):
                    direct = ""  # a value no cited paragraph states is not said first
                continue
            marker = markers.get(paragraph.paragraph_id)
            if marker is None:
                marker = markers[paragraph.paragraph_id] = str(len(markers) + 1)
                citations.append(build_citation(marker, paragraph, fact.report, fact.text))
            note = f" ({fact.note})" if getattr(fact, "note", "") else ""
            lines.append(f"- {fact.text.rstrip('.')} [{marker}]{note}.")
        if not citations:
            return None
        if direct:
            preamble = f"{direct} {preamble}" if preamble else f"{direct}\n\n"
        text = preamble + "\n".join(lines) + f"\n\n_{searched}_"
        # the items in order, cited or not: what "the first one" points at
        trace = trace | {"listed": list(dict.fromkeys(f.report.metadata.local_authority for f in facts if f.report.metadata.local_authority))}
        return _composed(text, tuple(citations), _retrieved_for(citations, []), trace, started)

    def _validate(self, question: str) -> str:
        question = (question or "").strip()
        if not question:
            raise BadQuestionError("the question is empty: type a question about the inspection reports")
        if len(question) > self.max_question_chars:
            raise BadQuestionError(
                f"the question is {len(question):,} characters long; please keep it under "
                f"{self.max_question_chars:,} characters"
            )
        return question

    def _evidence(self, hits: Sequence[Scored]) -> list[Evidence]:
        """Paragraphs of the best chunks, at most `per_report_cap` chunks from one report, numbered."""
        picked: list[tuple[int, Scored]] = []
        per_report: dict[str, int] = {}
        # the cap spreads evidence over reports; with one or two reports in play it would only starve them
        cap = max(self.per_report_cap, -(-self.evidence_chunks // max(1, len({h.chunk.report_id for h in hits}))))
        for rank, hit in enumerate(hits):
            if len(picked) >= self.evidence_chunks:
                break
            if per_report.get(hit.chunk.report_id, 0) >= cap:
                continue
            per_report[hit.chunk.report_id] = per_report.get(hit.chunk.report_id, 0) + 1
            picked.append((rank, hit))
        evidence: list[Evidence] = []
        seen: set[str] = set()
        listed: dict[str, list[Paragraph]] = {}
        for rank, hit in picked:
            report = self.index.report(hit.chunk.report_id)
            if report is None:
                continue
            for paragraph_id in hit.chunk.paragraph_ids:
                if paragraph_id in seen:
                    continue
                paragraph = self.index.paragraph(paragraph_id)
                if paragraph is None:
                    continue
                seen.add(paragraph_id)
                if paragraph.kind == "bullet":
                    if report.report_id not in listed:
                        listed[report.report_id] = self.index.paragraphs(report.report_id)
                    if in_scope_list(paragraph, listed[report.report_id]):
                        continue  # what the visit looked at ("Care leavers at risk of specific harm."), not a finding
                evidence.append(Evidence(str(len(evidence) + 1), paragraph, report, rank, hit.dense))
        return evidence

    def _searched(self, plan: QueryPlan, report_ids: Sequence[str] | None) -> str:
        """One line saying what was searched: authorities, report types, dates, how many reports."""
        # a PDF and its text export are one report, as the catalogue counts them
        total = len(distinct_reports(self.index.reports()))
        count = total if report_ids is None else len(distinct_reports([r for r in (self.index.report(i) for i in report_ids) if r is not None]))
        who = ", ".join(plan.authorities) if plan.authorities else f"the {len(plan.region_authorities)} authorities of {_region_name(plan.region)}" if plan.region else "all authorities"
        kinds = ", ".join(REPORT_TYPE_LABELS.get(t, t) for t in plan.report_types) if plan.report_types else "all report types"
        when = _window(plan)
        if plan.latest:
            when += ", latest report only"
        if plan.earliest:
            when += ", earliest report only"
        if plan.latest_count:
            when += f", latest {plan.latest_count} of each authority's reports of the kind asked"
        return f"Searched {count} of {total} reports: {who}; {kinds}; {when}."

    def _never_named(self, plan: QueryPlan, report_ids: Sequence[str] | None, most_reports: int = 12) -> str:
        """The question's telling word (its rarest subject word, a rare one and a word of the reports' subject matter,
        such as "caseloads") when no paragraph of the reports searched uses it in any form; "" when one does, when
        the question has no such word, or when the scope is too wide to read through."""
        if not report_ids or len(report_ids) > most_reports:
            return ""
        named = set(tokenize(" ".join(plan.authorities)))
        words = [w for w in _asked_subject(plan) if tokenize(w) and not set(tokenize(w)) <= named]
        weighed = [(max(self.index.term_weight(t) for t in tokenize(w)), w) for w in words]
        if not weighed:
            return ""
        weight, word = max(weighed)
        # a framing word ("problem", "according") can be as rare as a subject: only the reports' own vocabulary counts
        if weight < _TELLING_WEIGHT or not DOMAIN_WORDS.search(word):
            return ""
        wanted = families(word)
        for report_id in report_ids:
            for paragraph in self.index.paragraphs(report_id):
                if wanted & families(paragraph.text):
                    return ""
        return word.strip("?.!,;:'\u2019")

    def _elsewhere(self, plan: QueryPlan, report_ids: Sequence[str] | None) -> str:
        """When a scope narrowed by dates, report type or "latest" finds nothing on the topic: the named authorities'
        other reports with a paragraph naming every word of it (all of them, not the best few), so the user can widen
        the question; "" when none does, or the topic is too long to look for word by word."""
        if not plan.authorities or not (plan.published_from or plan.published_to or plan.latest or plan.earliest or plan.report_types):
            return ""
        wide = replace(plan, published_from=None, published_to=None, latest=False, earliest=False, report_types=())
        searched = set(report_ids or ())
        others = [rid for rid in scope_reports(self.index.reports(), wide) or [] if rid not in searched]
        # the subject asked about, in the question's words: not "has improved since" or "what did the ... look at"
        topic = " ".join(_asked_subject(plan)).strip("?.!, ")
        words = set(tokenize(topic))
        if not others or not words or len(words) > 4:
            return ""
        naming = [rid for rid in others if any(words <= set(tokenize(p.text)) for p in self.index.paragraphs(rid))]
        reports = distinct_reports([r for r in (self.index.report(rid) for rid in naming) if r is not None])
        if not reports:
            return ""
        listed = "; ".join(report_label(r) for r in sorted(reports, key=_when))
        narrowed = [
            name
            for name, narrows in (
                ("the dates", plan.published_from or plan.published_to),
                ("the report type", plan.report_types),
                ("'latest'" if plan.latest else "'earliest'", plan.latest or plan.earliest),
            )
            if narrows
        ]
        return f" Other reports mention {topic}: {listed}. Ask again without {' or '.join(narrowed)} to hear from them."

    def _refuse(
        self,
        message: str,
        trace: dict[str, object],
        started: float,
        retrieval_s: float = 0.0,
        retrieved: tuple[RetrievedChunk, ...] = (),
    ) -> Answer:
        return Answer(
            answer=message,
            refused=True,
            citations=(),
            retrieved=retrieved,
            trace=trace,
            timings={"retrieval_s": retrieval_s, "generation_s": 0.0, "total_s": time.perf_counter() - started},
        )


def _region_name(region: str) -> str:
    """"the North West", "London", "Yorkshire and the Humber"."""
    return region if region in ("London", "Yorkshire and the Humber") else f"the {region}"


def _lead_with(block: str, text: str) -> str:
    """`block` at the head of a drafted answer, after the note that the language model could not be reached (that
    note is always the answer's first line)."""
    if text.startswith(FALLBACK_NOTE):
        return f"{FALLBACK_NOTE}\n\n{block}{text[len(FALLBACK_NOTE):].lstrip()}"
    return block + text


def _childrens_services(reports: Sequence[Report], plan: QueryPlan) -> list[Report]:
    """An authority's children's services reports: an area SEND inspection judges the local area partnership, so it
    is left out of overviews, timelines, improvement lists and comparison sides unless SEND is asked about or it is
    all there is."""
    if _SEND_ASKED.search(plan.standalone):
        return list(reports)
    return [r for r in reports if r.metadata.report_type != "area_send_inspection"] or list(reports)


def _shorthand_asked(topic: str) -> list[tuple[str, list[str]]]:
    """Each piece of Ofsted shorthand the question asks about ("young carers", "the LADO"), with its meanings."""
    return split_expansion(expand_terms(topic))[1]


def successor_note(missing: Sequence[str], indexed: set[str]) -> str:
    """For an abolished council asked about: which authorities took over its children's services, and when, where the
    index holds their reports ("" otherwise)."""
    notes = []
    for name in missing:
        when, successors = SUCCESSORS.get(name, ("", ()))
        covered = [s for s in successors if s in indexed]
        if covered:
            named = " and ".join(f"‘{s}’" for s in successors)
            ask = "either" if len(covered) == len(successors) > 1 else " or ".join(f"‘{s}’" for s in covered)
            notes.append(f" {name} County Council was replaced in {when} by {named}: ask about {ask}.")
    return "".join(notes)


def _states_value(statement: str, paragraph: str) -> bool:
    """Whether a paragraph states the value a structured statement gives (its grade, dates or name)."""
    value = statement.rsplit(" - ", 1)[-1].rstrip(".") if " - " in statement else statement
    return normalise(value) in normalise(paragraph)


def _composed(
    text: str, citations: tuple[Citation, ...], retrieved: tuple[RetrievedChunk, ...], trace: dict[str, object], started: float
) -> Answer:
    """An answer composed from the catalog and the reports' own sentences: no separate retrieval or generation step."""
    return Answer(
        answer=text,
        refused=False,
        citations=citations,
        retrieved=retrieved,
        trace=trace,
        timings={"retrieval_s": 0.0, "generation_s": 0.0, "total_s": time.perf_counter() - started},
    )


def _retrieved_for(citations: Sequence[Citation], hits: Sequence[Scored]) -> tuple[RetrievedChunk, ...]:
    """What a composed answer drew on: retrieved chunks holding its cited paragraphs first, then the rest (cited
    paragraphs no retrieved chunk holds, such as judgement rows read from the catalog, come first as they are)."""
    cited = {c.paragraph_id for c in citations}
    ordered = sorted(enumerate(hits), key=lambda item: (not (set(item[1].chunk.paragraph_ids) & cited), item[0]))
    out: list[RetrievedChunk] = []
    seen: set[str] = set()
    for _, hit in ordered:
        if hit.chunk.chunk_id in seen:
            continue
        seen.add(hit.chunk.chunk_id)
        out.append(RetrievedChunk(hit.chunk.chunk_id, hit.chunk.paragraph_ids, round(hit.score, 6), hit.chunk.text, hit.chunk.report_id))
    covered = {pid for chunk in out for pid in chunk.paragraph_ids}
    extra = tuple(RetrievedChunk(c.paragraph_id, (c.paragraph_id,), 1.0, c.text, c.report_id) for c in citations if c.paragraph_id not in covered)
    return extra + tuple(out)


# ---- the route table ---------------------------------------------------------------------------------------------
# Each route: a decision on the routing context and a handler (chatbot/routes.py). Order matters: the first route
# whose decision holds and whose handler answers wins. docs/routes.md sets out each one's rules.


def _next_inspection(p: QAPipeline, r: Routing) -> Answer | None:
    # "when is Trafford's next inspection?": no report can say; the latest one is what they do say
    return p._refuse(p._no_next_inspection(r.plan, r.report_ids), r.trace | {"route": "structured:next-inspection", "refusal": "next-inspection"}, r.started)


def _ranked(p: QAPipeline, r: Routing) -> bool:
    r.notes["ranked"] = p._ranked_as_graded(r.plan)
    return r.notes["ranked"] is not None


def _rewrite_ranked(p: QAPipeline, r: Routing) -> Answer | None:
    # "which authority had the best care leaver services?": Ofsted grades, it does not rank; the routes after it read
    # the question as "which authorities were judged outstanding for care leavers?"
    r.plan, r.trace["reading_note"] = r.notes["ranked"]
    r.trace["plan"] = r.plan.to_json()
    return None


def _mentioned(p: QAPipeline, r: Routing) -> bool:
    r.notes["phrase"] = mentioned_phrase(r.plan.topic) or mentioned_phrase(r.plan.standalone)
    return bool(r.notes["phrase"])


def _field_kinds(p: QAPipeline, r: Routing) -> bool:
    """Grade, date, inspector or focus asked: works out the kinds, a yes-or-no grade question's verdict, and the dates
    a grade is asked at when no report falls in them."""
    plan = r.plan
    kinds = structured_intents(plan.standalone)
    verdict_of, field_plan = "", plan
    if kinds in ([], ["grade"]) and plan.authorities and yes_no_grade(p.gazetteer.strip(plan.standalone)):
        # "Is Hackney good?": the grades that stand, and whether they are the one asked about
        kinds, verdict_of = ["grade"], plan.standalone
        field_plan = replace(plan, standalone=without_grade(plan.standalone), latest=True)
    # no report in the window asked about ("when was X inspected before 2019?"): no report's own metadata answers
    # it, though a later report's text may ("since the last inspection in 2015, ..."); but what each visit looked at
    # is its own ("the 2023 focused visit" when there was none: the visits there were), and so is the grade that
    # stood then ("Trafford's grade in 2020", between its inspections)
    if r.widened and kinds == ["grade"] and plan.authorities and r.asked.published_to:
        field_plan = replace(field_plan, published_from=r.asked.published_from, published_to=r.asked.published_to)
    r.notes |= {"kinds": kinds, "verdict_of": verdict_of, "field_plan": field_plan}
    return bool(
        kinds and (plan.authorities or plan.report_types) and r.report_ids
        and (not r.widened or kinds == ["focus"] or field_plan.published_to)
    )


def _premise(p: QAPipeline, r: Routing) -> Answer | None:
    in_scope = [x for x in (p.index.report(rid) for rid in r.report_ids or []) if x is not None]
    premise = p.structured.check_premise(r.plan, in_scope)
    if premise:
        return p._refuse(f"{premise} {p._searched(r.plan, r.report_ids)}", r.trace | {"refusal": "false-premise"}, r.started)
    return None


def _why(p: QAPipeline, r: Routing) -> Answer | None:
    in_scope = [x for x in (p.index.report(rid) for rid in r.report_ids or []) if x is not None]
    return p._why_graded(r.plan, in_scope, r.trace, r.started)


def _no_subject(p: QAPipeline, r: Routing) -> bool:
    """Whether the question names no subject of its own beyond the authorities, years and framing words."""
    named = set(tokenize(" ".join(r.plan.authorities)))
    subject = [
        w for w in _subject_words(r.plan.topic, _OVERVIEW_WORDS | _COMPARE_WORDS)
        if not re.fullmatch(r"(?:19|20)\d\d", w) and not set(tokenize(w)) <= named
    ]
    return not subject


# A word in more than this share of the index's passages names no subject ("children", "care", "services"); one in
# fewer than this share is the asker's framing, not a subject the reports discuss ("worried", "in trouble"). Read off
# the index's own document frequencies (chunk idf, log(1 + N/df)), so it holds at any corpus size.
_GENERIC_SHARE = 0.15
_FRAMING_SHARE = 0.002


def _framing_only(p: QAPipeline, r: Routing) -> bool:
    """Whether every word of the question's subject is one the reports use everywhere or hardly ever: it asks how the
    authority is doing in general ("how worried should we be about Tameside's children's services?"), in words no
    passage is about. Needs a word of each kind (a bare "Tameside?" is not asked in general)."""
    named = set(tokenize(" ".join(r.plan.authorities)))
    tokens = [t for w in _subject_words(r.plan.topic, _OVERVIEW_WORDS | _COMPARE_WORDS) for t in tokenize(w) if t not in named]
    generic, framing = math.log(1 + 1 / _GENERIC_SHARE), math.log(1 + 1 / _FRAMING_SHARE)
    weights = [p.index.term_weight(t) for t in tokens]
    # it must also name the service in the reports' everyday words ("children's services"): "Trafford's bin
    # collections" is framed in words the reports hardly use too, but is about something else
    service = any(p.index.term_weight(t) < generic for t in tokenize(r.plan.topic) if t not in named)
    return service and any(w >= framing for w in weights) and all(w < generic or w >= framing for w in weights)


ROUTES: tuple[Route, ...] = (
    Route(
        "next-inspection",
        lambda p, r: bool(_NEXT_INSPECTION.search(r.plan.question)),
        _next_inspection,
        "asks when the next inspection is: no report can say, so a refusal that gives the latest report",
    ),
    Route(
        "improvements",
        lambda p, r: bool(improve_intent(r.plan.standalone) and (r.plan.authorities or r.plan.report_types) and r.report_ids),
        lambda p, r: p._improvements(r.plan, r.report_ids or [], r.trace, r.started),
        "asks what needs to improve, of a named authority or report type: the report's own list",
    ),
    Route(
        "movement",
        lambda p, r: bool(movement_intent(r.plan.standalone)) and len(r.plan.authorities) != 1,
        lambda p, r: p._moves(r.plan, r.trace, r.started),
        "asks which authorities' grades went up or down (one authority's moves are its timeline)",
    ),
    Route(
        "ranked-as-graded",
        _ranked,
        _rewrite_ranked,
        "asks for the best or worst: read as the highest or lowest grade, for the routes after it",
    ),
    Route(
        "mentions",
        _mentioned,
        lambda p, r: p._mentions(r.plan, r.notes["phrase"], r.report_ids, r.trace, r.started),
        "asks which reports mention a phrase: every report in scope that uses it, read in full",
    ),
    Route(
        "catalog-of",
        lambda p, r: bool(r.plan.authorities and r.report_ids and _INDEX_ASKED.search(r.plan.question)),
        lambda p, r: p._catalog_of(r.plan, r.report_ids or [], r.trace, r.started),
        "asks what the index holds on named authorities: their reports, counted by kind, each dated and cited",
    ),
    Route(
        "list",
        lambda p, r: bool(list_intent(r.plan.standalone)) and structured_intent(r.plan.standalone) not in ("focus", "inspector"),
        lambda p, r: p._list(r.plan, r.report_ids, r.trace, r.started),
        "asks which authorities or reports match a grade, type or date: listed from the catalogue",
    ),
    Route(
        "timeline",
        lambda p, r: bool(timeline_intent(r.plan.standalone, r.plan.authorities) and r.report_ids),
        lambda p, r: p._timeline(r.plan, r.report_ids or [], r.trace, r.started),
        "asks how one authority changed over time, or sets two of its reports side by side",
    ),
    Route(
        "structured",
        _field_kinds,
        lambda p, r: p._structured(r.notes["kinds"], r.notes["field_plan"], r.report_ids or [], r.trace, r.started, r.notes["verdict_of"]),
        "asks for a grade, a date, a lead inspector or a visit's focus: from the reports' metadata, citing the line",
    ),
    Route(
        "false-premise",
        lambda p, r: bool(r.plan.authorities and r.report_ids),
        _premise,
        "assumes a grade or visit the reports contradict: a refusal that says what they do say",
    ),
    Route(
        "why-graded",
        lambda p, r: bool(r.plan.authorities and r.report_ids and len(r.plan.authorities) == 1 and _WHY_GRADED.search(r.plan.standalone)),
        _why,
        "asks why an authority got a grade: the report's own summary of that judgement",
    ),
    Route(
        "overview-compared",
        lambda p, r: len(r.plan.authorities) > 1 and bool(r.report_ids) and _no_subject(p, r),
        lambda p, r: p._overview(r.plan, r.report_ids or [], r.trace, r.started),
        "names several authorities and no subject: each one's latest grades and summary, side by side",
    ),
    Route(
        "comparison",
        lambda p, r: len(r.plan.authorities) > 1 and bool(r.report_ids),
        lambda p, r: p._comparison(r.plan, r.report_ids or [], r.trace, r.started),
        "names several authorities and a subject: each one's best passage on it, side by side",
    ),
    Route(
        "overview",
        lambda p, r: (
            len(r.plan.authorities) == 1 and bool(r.report_ids) and not r.widened and _no_subject(p, r)
            and bool(_OVERVIEW_ASK.search(r.plan.question) or r.plan.follow_up)
        ),
        lambda p, r: p._overview(r.plan, r.report_ids or [], r.trace, r.started),
        "asks about one authority in general (or a follow-up with no subject): its latest grades and summary",
    ),
    Route(
        "learned",
        lambda p, r: p.route_model is not None and not r.widened,
        lambda p, r: p._learned_route(r.plan, r.report_ids, r.trace, r.started),
        "no rule held: the route model's route, when it is sure and that route's handler answers (ADR 0007)",
    ),
    Route(
        "overview-framed",
        lambda p, r: len(r.plan.authorities) == 1 and bool(r.report_ids) and not r.widened and _framing_only(p, r),
        lambda p, r: p._overview(r.plan, r.report_ids or [], r.trace, r.started),
        "asks about one authority's service in words the reports use everywhere or hardly ever (\"how worried should we "
        "be about Tameside's children's services?\"): its latest grades and summary",
    ),
)
