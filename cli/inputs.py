"""What a user hands the CLI, checked before anything loads: a bad value raises ValueError with a message to print."""

from __future__ import annotations

import argparse
import json
from datetime import date
from pathlib import Path
from typing import Any

from core.models import Turn, TurnState

HISTORY_MAX_TURNS = 50  # a conversation far longer than anyone pastes back, and far shorter than a flood
HISTORY_MAX_BYTES = 200_000  # 50 turns of a 2,000-character question and an answer of that size, with room to spare
TURN_FIELDS = ("user", "assistant", "state")


def iso_date(text: str) -> date:
    """An argparse type: a YYYY-MM-DD date, or an error that shows the format."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date written YYYY-MM-DD, for example 2023-01-31, got {text!r}") from None


def json_kind(value: Any) -> str:
    """A JSON value's kind as a user wrote it: 'null', 'a list', 'a number'."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


def parse_history(value: Any, max_turns: int = HISTORY_MAX_TURNS) -> list[Turn]:
    """Earlier turns from parsed JSON: a list of {"user": text, "assistant": text} objects, oldest first, each with an
    optional "state": the "state" object of that answer's `ask --json` output, which a follow-up then reads instead of
    the answer's text (core.models.TurnState)."""
    if not isinstance(value, list):
        raise ValueError(f'expected a JSON list of {{"user": ..., "assistant": ...}} turns, got {json_kind(value)}')
    if len(value) > max_turns:
        raise ValueError(f"{len(value)} turns: a history holds at most {max_turns} turns (keep the latest ones)")
    turns = []
    for number, entry in enumerate(value, start=1):
        if not isinstance(entry, dict):
            raise ValueError(f"turn {number}: expected an object with 'user' and 'assistant', got {json_kind(entry)}")
        unknown = sorted(set(entry) - set(TURN_FIELDS))
        if unknown:
            raise ValueError(f"turn {number}: unknown field {unknown[0]!r} (allowed: 'user', 'assistant', 'state')")
        user, assistant = entry.get("user"), entry.get("assistant", "")
        if not isinstance(user, str):
            raise ValueError(f"turn {number}: 'user' must be a non-empty string, got {json_kind(user)}")
        if not user.strip():
            raise ValueError(f"turn {number}: 'user' must be a non-empty string, got an empty one")
        if not isinstance(assistant, str):
            raise ValueError(f"turn {number}: 'assistant' must be a string, got {json_kind(assistant)}")
        state = None
        if entry.get("state") is not None:
            try:
                state = TurnState.from_json(entry["state"])
            except ValueError as error:
                raise ValueError(f"turn {number}: {error}") from None
        turns.append(Turn(user=user.strip(), assistant=assistant.strip(), state=state))
    return turns


def read_history(path: Path, max_bytes: int = HISTORY_MAX_BYTES, max_turns: int = HISTORY_MAX_TURNS) -> list[Turn]:
    """A --history file: UTF-8 JSON of at most `max_bytes` bytes, holding what `parse_history` accepts."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(max_bytes + 1)  # never more: the file may be huge, or endless (a device)
    except OSError as error:
        raise ValueError(f"cannot read the file ({error.strerror or error})") from None
    if len(raw) > max_bytes:
        raise ValueError(f"the file is too large: a history may be at most {max_bytes:,} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("the file is not UTF-8 text") from None
    try:
        value = json.loads(text)
    except ValueError as error:
        raise ValueError(f"not valid JSON ({error})") from None
    return parse_history(value, max_turns)
