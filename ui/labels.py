"""How a report is named in the UI and in exports: "Trafford, ILACS inspection, 31 January 2023"."""

from __future__ import annotations

from datetime import date

from core.models import REPORT_TYPE_LABELS, Citation


def format_date(value: str | None) -> str:
    """'2023-01-31' as '31 January 2023'; unknown dates say so."""
    if not value:
        return "date unknown"
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        return value
    return f"{parsed.day} {parsed:%B %Y}"


def report_label(citation: Citation) -> str:
    """'Trafford, ILACS inspection, 31 January 2023'."""
    authority = citation.local_authority or "Unknown authority"
    kind = REPORT_TYPE_LABELS.get(citation.report_type, citation.report_type)
    return f"{authority}, {kind}, {format_date(citation.published)}"
