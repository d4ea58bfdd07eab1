"""Load Q&A regression datasets (YAML, docs/EVAL_FORMAT.md) into frozen, validated cases.

Every problem raises `DatasetError` with a message that names the file, the case and the
field, so an evaluator can fix a hand-written file without reading a traceback.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from core.errors import OfstedQAError
from core.models import REPORT_TYPES, Filters, Turn
from core.text import normalise

CASE_FIELDS: frozenset[str] = frozenset(
    {"id", "question", "history", "filters", "answerable", "evidence", "facts", "tags"}
)
FILTER_FIELDS: frozenset[str] = frozenset({"local_authority", "report_type", "published_from", "published_to"})
TURN_FIELDS: frozenset[str] = frozenset({"user", "assistant"})
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class _DatasetLoader(yaml.SafeLoader):
    """SafeLoader that leaves dates as strings, so a bad one is reported with its case and field."""


_DatasetLoader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_yaml(text: str) -> Any:
    """YAML as the datasets read it: dates stay strings, so a bad one is reported with its case and field."""
    return yaml.load(text, Loader=_DatasetLoader)  # noqa: S506 - a SafeLoader


class DatasetError(OfstedQAError):
    """A dataset file is missing, unreadable or breaks the format; the message names file, case and field."""


@dataclass(frozen=True)
class EvalCase:
    """One question of the regression suite with what a correct answer must cite and say."""

    id: str
    question: str
    history: tuple[Turn, ...] = ()
    filters: Filters = Filters()
    answerable: bool = True
    evidence: tuple[str, ...] = ()
    facts: tuple[tuple[str, ...], ...] = ()  # each fact lists its alternatives
    tags: tuple[str, ...] = ()
    source: Path = Path("")


def load_cases(paths: Iterable[Path]) -> list[EvalCase]:
    """Load and validate every case of every file, in file order; ids must be unique across files."""
    cases: list[EvalCase] = []
    seen: dict[str, Path] = {}
    for path in paths:
        for case in load_file(Path(path)):
            if case.id in seen:
                raise DatasetError(
                    f"{path}: case {case.id!r}: field 'id': duplicate id (already used in {seen[case.id]})"
                )
            seen[case.id] = case.source
            cases.append(case)
    return cases


def load_file(path: Path) -> list[EvalCase]:
    """Load and validate one dataset file."""
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_DatasetLoader)  # noqa: S506 - a SafeLoader
    except FileNotFoundError:
        raise DatasetError(f"{path}: dataset file not found") from None
    except (OSError, UnicodeDecodeError) as error:
        raise DatasetError(f"{path}: cannot read dataset file: {error}") from None
    except yaml.YAMLError as error:
        raise DatasetError(f"{path}: not valid YAML: {error}") from None
    if not isinstance(raw, Mapping) or "cases" not in raw:
        raise DatasetError(f"{path}: expected a mapping with a 'cases' list at the top level")
    unknown = sorted(set(raw) - {"cases"})
    if unknown:
        raise DatasetError(f"{path}: unknown top-level field {unknown[0]!r} (only 'cases' is allowed)")
    items = raw["cases"]
    if not isinstance(items, list) or not items:
        raise DatasetError(f"{path}: 'cases' must be a non-empty list")
    cases: list[EvalCase] = []
    seen: set[str] = set()
    for position, item in enumerate(items, start=1):
        case = parse_case(item, source=path, position=position)
        if case.id in seen:
            raise DatasetError(f"{path}: case {case.id!r}: field 'id': duplicate id in this file")
        seen.add(case.id)
        cases.append(case)
    return cases


def select_tag(cases: Sequence[EvalCase], tag: str | None) -> list[EvalCase]:
    """The cases carrying `tag`, or all of them when no tag is given."""
    return [case for case in cases if tag is None or tag in case.tags]


def case_hash(case: EvalCase) -> str:
    """sha256 of what a case asks and expects (not its tags or file): equal hashes mean the same case."""
    filters = case.filters
    payload = {
        "id": case.id,
        "question": case.question,
        "history": [[turn.user, turn.assistant] for turn in case.history],
        "filters": [
            list(filters.local_authorities),
            list(filters.report_types),
            filters.published_from.isoformat() if filters.published_from else None,
            filters.published_to.isoformat() if filters.published_to else None,
        ],
        "answerable": case.answerable,
        "evidence": list(case.evidence),
        "facts": [list(alternatives) for alternatives in case.facts],
    }
    return hashlib.sha256(json.dumps(payload, ensure_ascii=False, sort_keys=True).encode("utf-8")).hexdigest()


def file_hashes(cases: Iterable[EvalCase]) -> dict[str, str]:
    """sha256 of each dataset file the cases came from, keyed by path."""
    hashes: dict[str, str] = {}
    for case in cases:
        key = str(case.source)
        if key not in hashes and case.source.is_file():
            hashes[key] = hashlib.sha256(case.source.read_bytes()).hexdigest()
    return hashes


class _Where:
    """Builds error messages that point at one case (and field) of one file."""

    def __init__(self, source: Path, case: str) -> None:
        self.source = source
        self.case = case

    def error(self, field: str, problem: str) -> DatasetError:
        return DatasetError(f"{self.source}: case {self.case}: field {field!r}: {problem}")


def parse_case(item: Any, *, source: Path, position: int) -> EvalCase:
    """Validate one raw YAML case and build an EvalCase from it."""
    where = _Where(source, f"#{position}")
    if not isinstance(item, Mapping):
        raise DatasetError(f"{source}: case #{position}: expected a mapping of fields, got {_kind(item)}")
    case_id = item.get("id")
    if not isinstance(case_id, str) or not case_id.strip():
        raise where.error("id", f"required non-empty string, got {_kind(case_id)}")
    where = _Where(source, repr(case_id))
    unknown = sorted(set(item) - CASE_FIELDS)
    if unknown:
        raise where.error(str(unknown[0]), f"unknown field (allowed: {', '.join(sorted(CASE_FIELDS))})")
    question = item.get("question")
    if not isinstance(question, str) or not question.strip():
        raise where.error("question", f"required non-empty string, got {_kind(question)}")
    answerable = item.get("answerable", True)
    if not isinstance(answerable, bool):
        raise where.error("answerable", f"expected true or false, got {_kind(answerable)}")
    evidence = _strings(item.get("evidence"), where, "evidence")
    facts = _facts(item.get("facts"), where)
    for snippet in evidence:
        if not normalise(snippet):
            raise where.error("evidence", "an evidence snippet is blank")
    if answerable and not evidence and not facts:
        raise where.error("evidence", "an answerable case needs evidence or facts")
    if not answerable and (evidence or facts):
        raise where.error("answerable", "an unanswerable case cannot list evidence or facts")
    return EvalCase(
        id=case_id.strip(),
        question=question.strip(),
        history=_history(item.get("history"), where),
        filters=_filters(item.get("filters"), where),
        answerable=answerable,
        evidence=evidence,
        facts=facts,
        tags=_strings(item.get("tags"), where, "tags"),
        source=source,
    )


def _kind(value: Any) -> str:
    """A short description of a YAML value for error messages."""
    if value is None:
        return "nothing"
    return f"{type(value).__name__} {value!r}" if not isinstance(value, (list, dict)) else type(value).__name__


def _strings(value: Any, where: _Where, field: str) -> tuple[str, ...]:
    """An optional list of non-empty strings."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise where.error(field, f"expected a list of strings, got {_kind(value)}")
    for entry in value:
        if not isinstance(entry, str) or not entry.strip():
            raise where.error(field, f"expected non-empty strings, got {_kind(entry)}")
    return tuple(entry.strip() for entry in value)


def _facts(value: Any, where: _Where) -> tuple[tuple[str, ...], ...]:
    """Facts: a list whose items are a string (one alternative) or a list of alternatives."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise where.error("facts", f"expected a list, got {_kind(value)}")
    facts: list[tuple[str, ...]] = []
    for entry in value:
        alternatives = [entry] if isinstance(entry, str) else entry
        if not isinstance(alternatives, list) or not alternatives:
            raise where.error("facts", f"each fact is a string or a non-empty list of strings, got {_kind(entry)}")
        for alternative in alternatives:
            if not isinstance(alternative, str) or not normalise(alternative):
                raise where.error("facts", f"expected non-empty strings, got {_kind(alternative)}")
        facts.append(tuple(alternative.strip() for alternative in alternatives))
    return tuple(facts)


def _history(value: Any, where: _Where) -> tuple[Turn, ...]:
    """Earlier turns, oldest first, each a mapping with `user` and optional `assistant`."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise where.error("history", f"expected a list of turns, got {_kind(value)}")
    turns: list[Turn] = []
    for number, entry in enumerate(value, start=1):
        if not isinstance(entry, Mapping):
            raise where.error(f"history[{number}]", f"expected a mapping with 'user', got {_kind(entry)}")
        unknown = sorted(set(entry) - TURN_FIELDS)
        if unknown:
            raise where.error(f"history[{number}].{unknown[0]}", "unknown field (allowed: user, assistant)")
        user, assistant = entry.get("user"), entry.get("assistant", "")
        if not isinstance(user, str) or not user.strip():
            raise where.error(f"history[{number}].user", f"required non-empty string, got {_kind(user)}")
        if not isinstance(assistant, str):
            raise where.error(f"history[{number}].assistant", f"expected a string, got {_kind(assistant)}")
        turns.append(Turn(user=user.strip(), assistant=assistant.strip()))
    return tuple(turns)


def _filters(value: Any, where: _Where) -> Filters:
    """The UI filters: authority and report type (a string or a list), and a publication date range."""
    if value is None:
        return Filters()
    if not isinstance(value, Mapping):
        raise where.error("filters", f"expected a mapping, got {_kind(value)}")
    unknown = sorted(set(value) - FILTER_FIELDS)
    if unknown:
        raise where.error(f"filters.{unknown[0]}", f"unknown filter (allowed: {', '.join(sorted(FILTER_FIELDS))})")
    authorities = _one_or_many(value.get("local_authority"), where, "filters.local_authority")
    report_types = _one_or_many(value.get("report_type"), where, "filters.report_type")
    for report_type in report_types:
        if report_type not in REPORT_TYPES:
            raise where.error(
                "filters.report_type", f"unknown report type {report_type!r} (one of {', '.join(REPORT_TYPES)})"
            )
    published_from = _date(value.get("published_from"), where, "filters.published_from")
    published_to = _date(value.get("published_to"), where, "filters.published_to")
    if published_from and published_to and published_from > published_to:
        raise where.error("filters.published_from", "is after published_to")
    return Filters(
        local_authorities=authorities,
        report_types=report_types,
        published_from=published_from,
        published_to=published_to,
    )


def _one_or_many(value: Any, where: _Where, field: str) -> tuple[str, ...]:
    """A string or a list of strings."""
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise where.error(field, f"expected a string or a list of strings, got {_kind(value)}")
    return _strings(value, where, field)


def _date(value: Any, where: _Where, field: str) -> date | None:
    """A YYYY-MM-DD date (the loader leaves even unquoted dates as strings)."""
    if value is None:
        return None
    if isinstance(value, str) and _ISO_DATE.fullmatch(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise where.error(field, f"bad date {value!r} (expected YYYY-MM-DD)")
