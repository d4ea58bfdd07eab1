"""The seams between layers: small Protocols with real implementations."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from core.models import Answer, Filters, Paragraph, Report, Turn


class QuestionAnswerer(Protocol):
    """What the CLI, UI and eval runner need from a Q&A pipeline."""

    def ask(self, question: str, history: Sequence[Turn] = (), filters: Filters | None = None) -> Answer:
        """Answer a question (with its conversation so far) under optional filters."""
        ...

    def paragraph(self, paragraph_id: str) -> Paragraph | None:
        """The stored paragraph with this id, or None."""
        ...

    def reports(self) -> list[Report]:
        """Every indexed report."""
        ...
