"""The project's exceptions. Library code raises these; front ends translate them.

    OfstedQAError
    ├── ConfigError            bad or contradictory settings
    ├── IngestError            a file or URL could not be turned into a report (carries the path)
    ├── StoreNotReadyError     nothing indexed yet, or the store cannot be reached
    ├── StoreMismatchError     the index was built with another embedding model
    ├── LLMUnavailableError    the configured LLM endpoint failed
    └── BadQuestionError       the question cannot be asked as given (empty, too long, dates back to front)
"""

from __future__ import annotations


class OfstedQAError(Exception):
    """Base of every error this project raises on purpose."""


class ConfigError(OfstedQAError):
    """Settings are missing or contradictory."""


class IngestError(OfstedQAError):
    """A file or URL could not be ingested; `path` names it."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class StoreNotReadyError(OfstedQAError):
    """The index is empty or cannot be reached."""


class StoreMismatchError(OfstedQAError):
    """The index was built with a different embedding model or dimension."""


class LLMUnavailableError(OfstedQAError):
    """The LLM endpoint could not be reached or answered with an error."""


class BadQuestionError(OfstedQAError):
    """The question is empty or too long to ask, or its filters' dates are the wrong way round."""
