"""Our own value types. LangChain and Chroma objects are converted at the edges and never travel here."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, Literal

from core.errors import BadQuestionError

# Report types, aligned with the shared corpus manifest's `report_type` column.
REPORT_TYPES: tuple[str, ...] = (
    "ilacs_inspection",
    "focused_visit",
    "monitoring_visit",
    "sif_inspection",
    "area_send_inspection",
    "pre_sif_lac_inspection",
    "lscb_review",
    "other",
)

REPORT_TYPE_LABELS: dict[str, str] = {
    "ilacs_inspection": "ILACS inspection",
    "focused_visit": "focused visit",
    "monitoring_visit": "monitoring visit",
    "sif_inspection": "SIF inspection",
    "area_send_inspection": "area SEND inspection",
    "pre_sif_lac_inspection": "looked-after children inspection",
    "lscb_review": "LSCB review",
    "other": "other report",
}

# Canonical judgement areas; `Judgement.area` is one of these or "other".
JUDGEMENT_AREAS: tuple[str, ...] = (
    "overall_effectiveness",
    "leaders",
    "help_protection",
    "in_care",
    "care_leavers",
    "adoption",
    "lscb",
    "other",
)


@dataclass(frozen=True)
class Judgement:
    """One graded judgement as printed in a report's judgement table."""

    area: str  # one of JUDGEMENT_AREAS
    label: str  # the judgement's wording in the report
    grade: str  # the grade as printed, tidied (e.g. "Requires improvement to be good")


@dataclass(frozen=True)
class ReportMetadata:
    """What a report says about itself, read from its text."""

    local_authority: str | None = None
    report_type: str = "other"  # one of REPORT_TYPES
    subtype: str | None = None  # "standard" / "short" for ILACS, else None
    visit_dates_raw: str | None = None
    visit_start: date | None = None
    visit_end: date | None = None
    published: date | None = None  # publication date, or the letter date for letters
    letter_date: date | None = None
    inspectors: tuple[str, ...] = ()
    judgements: tuple[Judgement, ...] = ()
    focus: str | None = None  # a focused visit's focus sentence

    def grade(self, area: str) -> str | None:
        """The grade for a judgement area, or None when the report has no such judgement."""
        for judgement in self.judgements:
            if judgement.area == area:
                return judgement.grade
        return None


@dataclass(frozen=True)
class Report:
    """One ingested document."""

    report_id: str
    source: str  # local path or URL it was read from
    content_hash: str  # sha256 of the file bytes
    title: str
    metadata: ReportMetadata
    pages: int = 0
    url: str | None = None  # official Ofsted file URL where known


# "flagged": text addressing its reader (a planted instruction, a phishing link): kept, never chunked or
# quoted (see ingest.hostile)
ParagraphKind = Literal["paragraph", "bullet", "heading", "footnote", "flagged"]


@dataclass(frozen=True)
class Paragraph:
    """The unit of citation: a whole paragraph (or bullet) of a report, rejoined across pages."""

    paragraph_id: str
    report_id: str
    text: str
    page: int  # page it starts on, 1-based
    order: int  # position in the report, 0-based
    kind: ParagraphKind = "paragraph"
    paragraph_number: int | None = None  # Ofsted's own paragraph number, where printed
    heading_path: tuple[str, ...] = ()


@dataclass(frozen=True)
class Chunk:
    """A retrieval unit: one or more whole paragraphs (or a piece of a long one), token-budgeted."""

    chunk_id: str
    report_id: str
    paragraph_ids: tuple[str, ...]
    text: str  # the paragraphs' own text
    context: str  # report and heading line prefixed for embedding and display
    page: int
    heading_path: tuple[str, ...] = ()
    tokens: int = 0

    @property
    def embed_text(self) -> str:
        return f"{self.context}\n{self.text}" if self.context else self.text


@dataclass(frozen=True)
class Filters:
    """What a user or the question itself restricts the search to."""

    local_authorities: tuple[str, ...] = ()
    report_types: tuple[str, ...] = ()
    published_from: date | None = None
    published_to: date | None = None

    def __post_init__(self) -> None:
        # a back-to-front range matches no report: searching everything instead would hide the mistake
        if self.published_from and self.published_to and self.published_from > self.published_to:
            raise BadQuestionError(
                f"the 'from' date {self.published_from.isoformat()} is after the 'to' date "
                f"{self.published_to.isoformat()}, so no report could match: swap the two dates"
            )

    def is_empty(self) -> bool:
        return not (self.local_authorities or self.report_types or self.published_from or self.published_to)


@dataclass(frozen=True)
class ShownReport:
    """A report an answer showed: its id, authority, type and dates. Read from an answer's text (an earlier turn given
    as text only), only what its heading prints is known: the authority, type and publication date."""

    report_id: str = ""
    local_authority: str | None = None
    report_type: str = "other"  # one of REPORT_TYPES
    published: date | None = None
    visit_start: date | None = None
    visit_end: date | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "report_id": self.report_id,
            "local_authority": self.local_authority,
            "report_type": self.report_type,
            "published": _iso(self.published),
            "visit_start": _iso(self.visit_start),
            "visit_end": _iso(self.visit_end),
        }

    @classmethod
    def from_json(cls, value: Any, where: str = "shown") -> ShownReport:
        """The inverse of `to_json`; a malformed value raises ValueError naming the field."""
        fields = _object(value, where, ("report_id", "local_authority", "report_type", "published", "visit_start", "visit_end"))
        report_type = _string(fields, "report_type", where, "other")
        if report_type not in REPORT_TYPES:
            raise ValueError(f"{where}.report_type: {report_type!r} is not a report type (one of {', '.join(REPORT_TYPES)})")
        authority = fields.get("local_authority")
        if authority is not None and not isinstance(authority, str):
            raise ValueError(f"{where}.local_authority: expected a string or null")
        return cls(
            report_id=_string(fields, "report_id", where, ""),
            local_authority=authority,
            report_type=report_type,
            published=_date(fields, "published", where),
            visit_start=_date(fields, "visit_start", where),
            visit_end=_date(fields, "visit_end", where),
        )


@dataclass(frozen=True)
class TurnState:
    """What an answer was about, as data: the conversation's state after it, which a follow-up reads instead of the
    answer's rendered text. Scope set by the user's filters is not part of it (the filters are the user's to keep)."""

    authorities: tuple[str, ...] = ()  # named in the question or carried from the conversation
    report_types: tuple[str, ...] = ()  # asked or carried
    published_from: date | None = None  # the dates asked or carried ("in 2023", "since then")
    published_to: date | None = None
    topic: str = ""  # what it was about: the question's subject, or the conversation's when it named none
    route: str = ""  # the kind of answer it got (the trace's `route`)
    shown: tuple[ShownReport, ...] = ()  # the reports it showed, in the order shown
    listed: tuple[str, ...] = ()  # the authorities of its items, in order: what "the first one" points at

    def to_json(self) -> dict[str, Any]:
        return {
            "authorities": list(self.authorities),
            "report_types": list(self.report_types),
            "published_from": _iso(self.published_from),
            "published_to": _iso(self.published_to),
            "topic": self.topic,
            "route": self.route,
            "shown": [report.to_json() for report in self.shown],
            "listed": list(self.listed),
        }

    @classmethod
    def from_json(cls, value: Any, where: str = "state") -> TurnState:
        """The inverse of `to_json` (every field optional); a malformed value raises ValueError naming the field."""
        fields = _object(value, where, ("authorities", "report_types", "published_from", "published_to", "topic", "route", "shown", "listed"))
        report_types = _strings(fields, "report_types", where)
        unknown = [t for t in report_types if t not in REPORT_TYPES]
        if unknown:
            raise ValueError(f"{where}.report_types: {unknown[0]!r} is not a report type (one of {', '.join(REPORT_TYPES)})")
        shown = fields.get("shown", [])
        if not isinstance(shown, list):
            raise ValueError(f"{where}.shown: expected a list of reports")
        state = cls(
            authorities=_strings(fields, "authorities", where),
            report_types=report_types,
            published_from=_date(fields, "published_from", where),
            published_to=_date(fields, "published_to", where),
            topic=_string(fields, "topic", where, ""),
            route=_string(fields, "route", where, ""),
            shown=tuple(ShownReport.from_json(item, f"{where}.shown[{number}]") for number, item in enumerate(shown)),
            listed=_strings(fields, "listed", where),
        )
        if state.published_from and state.published_to and state.published_from > state.published_to:
            raise ValueError(f"{where}: published_from is after published_to")
        return state


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _object(value: Any, where: str, allowed: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"{where}: expected an object")
    unknown = sorted(set(value) - set(allowed))
    if unknown:
        raise ValueError(f"{where}: unknown field {unknown[0]!r} (allowed: {', '.join(allowed)})")
    return value


def _string(fields: dict[str, Any], name: str, where: str, default: str) -> str:
    value = fields.get(name, default)
    if not isinstance(value, str):
        raise ValueError(f"{where}.{name}: expected a string")
    return value


def _strings(fields: dict[str, Any], name: str, where: str) -> tuple[str, ...]:
    value = fields.get(name, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"{where}.{name}: expected a list of strings")
    return tuple(value)


def _date(fields: dict[str, Any], name: str, where: str) -> date | None:
    value = fields.get(name)
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(f"{where}.{name}: expected a date written YYYY-MM-DD, or null")


@dataclass(frozen=True)
class Turn:
    """One earlier exchange of a conversation: what was asked, the answer's text, and the answer's state where the
    front end kept it (None for a turn given as text only: the planner then reads the state from the text)."""

    user: str
    assistant: str = ""
    state: TurnState | None = None


@dataclass(frozen=True)
class Citation:
    """A verified pointer from an answer marker to one paragraph."""

    marker: str
    paragraph_id: str
    report_id: str
    local_authority: str | None
    report_type: str
    published: str | None  # YYYY-MM-DD
    page: int
    paragraph_number: int | None
    heading: str
    text: str  # the whole paragraph, as stored
    source: str
    url: str | None = None
    supporting_sentence: str = ""  # the answer sentence this citation supports

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class RetrievedChunk:
    """A chunk as retrieval ranked it."""

    chunk_id: str
    paragraph_ids: tuple[str, ...]
    score: float
    text: str
    report_id: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "chunk_id": self.chunk_id,
            "paragraph_ids": list(self.paragraph_ids),
            "score": self.score,
            "text": self.text,
            "report_id": self.report_id,
        }


@dataclass(frozen=True)
class Answer:
    """What every answerer returns; the CLI, UI and eval runner all read this."""

    answer: str
    refused: bool
    citations: tuple[Citation, ...] = ()
    retrieved: tuple[RetrievedChunk, ...] = ()
    trace: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    state: TurnState | None = None  # what a follow-up reads: set by the pipeline

    def to_json(self) -> dict[str, Any]:
        out = {
            "answer": self.answer,
            "refused": self.refused,
            "citations": [c.to_json() for c in self.citations],
            "retrieved": [r.to_json() for r in self.retrieved],
            "trace": self.trace,
            "timings": self.timings,
        }
        if self.state is not None:
            out["state"] = self.state.to_json()
        return out
