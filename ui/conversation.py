"""One browser session's conversation: what was asked, under which filters, and what came back."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from core.models import REPORT_TYPE_LABELS, Answer, Citation, Filters, Turn
from ui.regions import with_regions


@dataclass
class Exchange:
    """A question and its answer (or a friendly error) as the page shows them."""

    question: str
    filters: Filters = Filters()
    exchange_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    partial: str = ""  # answer text streamed so far
    answer: Answer | None = None
    error: str | None = None  # a friendly message shown instead of an answer
    feedback: str | None = None  # "up" / "down" once the user rated it

    @property
    def done(self) -> bool:
        return self.answer is not None or self.error is not None

    def citation(self, marker: str) -> Citation | None:
        if self.answer is None:
            return None
        return next((c for c in self.answer.citations if c.marker == marker), None)

    def searched(self) -> str:
        """The line under the answer saying what was searched."""
        if self.answer is not None:
            searched = self.answer.trace.get("searched")
            if isinstance(searched, str) and searched:
                return searched
        return f"Filters: {describe_filters(self.filters)}."


@dataclass
class Conversation:
    """Held in a per-session `gr.State`, so no two browser sessions share one."""

    exchanges: list[Exchange] = field(default_factory=list)

    def history(self) -> list[Turn]:
        """Earlier answered turns, oldest first, for follow-up questions: each with its answer's state, which a
        follow-up reads instead of the answer's text."""
        return [Turn(user=e.question, assistant=e.answer.answer, state=e.answer.state) for e in self.exchanges if e.answer is not None]

    def get(self, index: int) -> Exchange | None:
        return self.exchanges[index] if 0 <= index < len(self.exchanges) else None


def describe_filters(filters: Filters) -> str:
    """'Trafford; ILACS inspection; 2023-01-01 to the latest' in the pipeline's own order."""
    who = ", ".join(filters.local_authorities) or "all authorities"
    kinds = ", ".join(REPORT_TYPE_LABELS.get(t, t) for t in filters.report_types) or "all report types"
    when = "any date"
    if filters.published_from or filters.published_to:
        start = filters.published_from.isoformat() if filters.published_from else "the earliest"
        end = filters.published_to.isoformat() if filters.published_to else "the latest"
        when = f"{start} to {end}"
    return f"{who}; {kinds}; {when}"


def parse_filters(
    authorities: list[str] | None,
    report_types: list[str] | None,
    published_from: str | None,
    published_to: str | None,
    regions: Sequence[str] | None = None,
    members: Mapping[str, Sequence[str]] | None = None,
) -> Filters:
    """The UI's filter widgets as Filters; a bad date, or regions with no indexed authority, raises ValueError with
    a message for the user. Regions add their indexed authorities (`members`, ui.regions) to those chosen."""
    start = _parse_date(published_from, "Published from")
    end = _parse_date(published_to, "Published to")
    if start and end and start > end:
        raise ValueError("The 'Published from' date is after the 'Published to' date.")
    return Filters(
        local_authorities=with_regions(authorities or (), regions or (), members or {}),
        report_types=tuple(report_types or ()),
        published_from=start,
        published_to=end,
    )


def _parse_date(value: str | None, label: str) -> date | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"The '{label}' date must be written as YYYY-MM-DD, for example 2023-01-31.") from None
