"""Thumbs up/down on answers, kept as JSONL, and turned into Q&A regression cases (docs EVAL_FORMAT).

Each record holds what is needed to replay the question: the question, earlier turns, the filters,
the answer, its citations (with the whole cited paragraphs) and the settings that produced it. A
rating and a later comment on the same answer share an `id`; the last record for an id wins.

    python -m ui.feedback data/feedback.jsonl -o feedback-cases.yaml [--include-negative]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import threading
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from core.models import Answer, Filters, Turn
from core.text import normalise, split_sentences
from vectorstore.keyword import tokenize

RATINGS = ("up", "down")
# A comment says what was wrong or right with one answer: a few paragraphs at most. The UI's box stops at this
# length and a longer one is refused (never cut), so nothing a user typed is lost without their knowing.
FEEDBACK_COMMENT_MAX_CHARS = 2_000

_TERMINAL_SEQUENCE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")  # ANSI colour, cursor and the like
_LINE_BREAK = re.compile(r"\r\n?|[\x85\u2028\u2029]")
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_NON_CHARACTERS = frozenset("\ufffe\uffff")


def _unwanted(character: str) -> bool:
    if character in "\n\t":
        return False
    return unicodedata.category(character) in ("Cc", "Cs") or character in _BIDI_CONTROLS or character in _NON_CHARACTERS


def clean_text(text: str) -> str:
    """Free text made safe to store and to write into YAML: every line break as a newline, tabs kept, and control
    characters (NUL, ESC and terminal sequences), lone surrogates, direction overrides and non-characters dropped."""
    text = _LINE_BREAK.sub("\n", _TERMINAL_SEQUENCE.sub("", text))
    return "".join(character for character in text if not _unwanted(character))


def clean_comment(comment: str) -> str:
    """A user's comment as it is saved: cleaned and trimmed; over FEEDBACK_COMMENT_MAX_CHARS raises ValueError."""
    cleaned = clean_text(comment).strip()
    if len(cleaned) > FEEDBACK_COMMENT_MAX_CHARS:
        raise ValueError(
            f"the comment is {len(cleaned):,} characters long; the limit is {FEEDBACK_COMMENT_MAX_CHARS:,} characters"
        )
    return cleaned


def capped_comment(comment: str) -> str:
    """A stored comment for a dataset file: cleaned, and cut at FEEDBACK_COMMENT_MAX_CHARS with a note saying so
    (files written before the limit may hold longer ones; the feedback file keeps the whole)."""
    cleaned = clean_text(comment).strip()
    if len(cleaned) <= FEEDBACK_COMMENT_MAX_CHARS:
        return cleaned
    return (
        cleaned[:FEEDBACK_COMMENT_MAX_CHARS]
        + f" [comment cut at {FEEDBACK_COMMENT_MAX_CHARS:,} characters of {len(cleaned):,}: the feedback file has it all]"
    )


def filters_to_json(filters: Filters) -> dict[str, Any]:
    """Filters in the eval format's `filters` shape, leaving out what was not set."""
    out: dict[str, Any] = {}
    if filters.local_authorities:
        out["local_authority"] = list(filters.local_authorities)
    if filters.report_types:
        out["report_type"] = list(filters.report_types)
    if filters.published_from:
        out["published_from"] = filters.published_from.isoformat()
    if filters.published_to:
        out["published_to"] = filters.published_to.isoformat()
    return out


def feedback_record(
    *,
    feedback_id: str,
    rating: str,
    comment: str,
    question: str,
    history: Sequence[Turn],
    filters: Filters,
    answer: Answer,
    searched: str,
    settings: Mapping[str, Any],
    session: str = "",
    user: str | None = None,
) -> dict[str, Any]:
    """One JSONL line of feedback; the comment is cleaned (`clean_comment`), and one too long raises ValueError."""
    if rating not in RATINGS:
        raise ValueError(f"rating must be one of {RATINGS}, got {rating!r}")
    return {
        "id": feedback_id,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "rating": rating,
        "comment": clean_comment(comment),
        "question": question,
        "history": [{"user": t.user, "assistant": t.assistant} for t in history],
        "filters": filters_to_json(filters),
        "answer": answer.answer,
        "refused": answer.refused,
        "citations": [c.to_json() for c in answer.citations],
        "searched": searched,
        "trace": {k: v for k, v in answer.trace.items() if k in ("refusal", "route", "answerer", "confidence")},
        "settings": dict(settings),
        "session": session,
        "user": user,
    }


class FeedbackStore:
    """Appends feedback records to a JSONL file; safe across the app's worker threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def write(self, record: Mapping[str, Any]) -> None:
        line = json.dumps(record, ensure_ascii=False)
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(line + "\n")


def read_feedback(path: Path) -> list[dict[str, Any]]:
    """The latest record for each feedback id, in the order the ids first appeared; bad lines are skipped."""
    latest: dict[str, dict[str, Any]] = {}
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            line = line.strip()
            if not line:
                continue
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and record.get("id") and record.get("question"):
                latest[str(record["id"])] = {**latest.get(str(record["id"]), {}), **record}
    return list(latest.values())


def evidence_snippet(paragraph: str, claim: str, max_chars: int = 160) -> str:
    """A verbatim piece of the paragraph that supports the claim: its best-matching sentence, trimmed."""
    sentences = split_sentences(paragraph) or [paragraph]
    claim_tokens = set(tokenize(claim))

    def score(sentence: str) -> float:
        return len(claim_tokens & set(tokenize(sentence))) / len(claim_tokens) if claim_tokens else 0.0

    best = max(sentences, key=score) if claim_tokens else sentences[0]
    best = best.strip()
    if len(best) > max_chars:
        cut = best[:max_chars]
        best = cut[: cut.rfind(" ")] if " " in cut else cut
    return best.rstrip(" .;:,")


def _case_id(record: Mapping[str, Any]) -> str:
    day = str(record.get("created", ""))[:10] or "undated"
    return f"feedback-{day}-{str(record['id'])[:8]}"


def _case_filters(filters: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in ("local_authority", "report_type", "published_from", "published_to"):
        value = filters.get(key)
        if isinstance(value, list):
            value = value[0] if len(value) == 1 else value
        if value:
            out[key] = value
    return out


def record_to_case(record: Mapping[str, Any]) -> dict[str, Any]:
    """One feedback record as an eval case.

    Thumbs up on an answer: answerable, with verbatim evidence from each cited paragraph. Thumbs up on a
    refusal: unanswerable. Thumbs down: a case tagged `needs-review` with no evidence or facts yet; an
    evaluator fills those in (the dataset loader names the case until they do).
    """
    case: dict[str, Any] = {"id": _case_id(record), "question": str(record["question"]).strip()}
    history = [
        {"user": t["user"], "assistant": t.get("assistant", "")}
        for t in record.get("history") or []
        if isinstance(t, Mapping) and t.get("user")
    ]
    if history:
        case["history"] = history
    filters = _case_filters(record.get("filters") or {})
    if filters:
        case["filters"] = filters
    rating = record.get("rating")
    tags = ["feedback", f"thumbs-{rating}"]
    if rating == "up" and record.get("refused"):
        case["answerable"] = False
    elif rating == "up":
        evidence: list[str] = []
        for citation in record.get("citations") or []:
            snippet = evidence_snippet(str(citation.get("text", "")), str(citation.get("supporting_sentence", "")))
            if snippet and normalise(snippet) not in {normalise(e) for e in evidence}:
                evidence.append(snippet)
        case["answerable"] = True
        case["evidence"] = evidence[:5]
    else:
        case["answerable"] = True
        case["evidence"] = []
        tags.append("needs-review")
    case["tags"] = tags
    return case


def feedback_to_eval_cases(jsonl_path: Path | str, *, include_negative: bool = False) -> list[dict[str, Any]]:
    """Eval cases (EVAL_FORMAT.md) from a feedback file: thumbs-up answers, and thumbs-down ones on request."""
    cases = []
    for record in read_feedback(Path(jsonl_path)):
        if record.get("rating") == "down" and not include_negative:
            continue
        if record.get("rating") == "up" and not record.get("refused") and not record.get("citations"):
            continue  # nothing verifiable to keep
        cases.append(record_to_case(record))
    return cases


def cases_to_yaml(cases: Sequence[Mapping[str, Any]], comments: Mapping[str, str] | None = None) -> str:
    """A dataset file; each case preceded by a comment (the user's feedback) where there is one."""
    comments = comments or {}
    out = ["# Cases made from user feedback (ui.feedback): review them before adding them to the suite.", "cases:"]
    for case in cases:
        note = clean_text(comments.get(case["id"]) or "")  # a YAML comment may hold no control character
        if note:
            out.extend(f"  # {line}" for line in note.splitlines())
        dumped = yaml.safe_dump([dict(case)], sort_keys=False, allow_unicode=True, width=1000)
        out.extend("  " + line for line in dumped.rstrip("\n").split("\n"))
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write eval cases made from a feedback JSONL file as YAML (stdout or --out)."""
    parser = argparse.ArgumentParser(
        prog="ofsted-qa eval-case-from-feedback",
        description="Turn answer feedback (JSONL written by the app) into Q&A regression cases (YAML).",
    )
    parser.add_argument("feedback", type=Path, help="feedback JSONL file (OFSTED_QA_FEEDBACK_FILE)")
    parser.add_argument("-o", "--out", type=Path, help="write the YAML here (default: stdout)")
    parser.add_argument(
        "--include-negative",
        action="store_true",
        help="also write thumbs-down answers, tagged needs-review, for an evaluator to complete",
    )
    args = parser.parse_args(argv)
    if not args.feedback.exists():
        print(f"Error: {args.feedback}: no such feedback file", file=sys.stderr)
        return 1
    records = {_case_id(r): r for r in read_feedback(args.feedback)}
    cases = feedback_to_eval_cases(args.feedback, include_negative=args.include_negative)
    comments = {}
    for case_id, record in records.items():
        note = f"feedback: thumbs {record.get('rating')}"
        comment = capped_comment(str(record.get("comment") or ""))
        if comment:
            note += f" - {comment}"
        if record.get("rating") == "down":
            note += "\nanswer given: " + " ".join(str(record.get("answer", "")).split())[:300]
        comments[case_id] = note
    text = cases_to_yaml(cases, comments)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
        print(f"{len(cases)} case(s) written to {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
