"""Ask every case of a dataset of one answerer, time it, score it, and record how to reproduce the run."""

from __future__ import annotations

import hashlib
import platform
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from pydantic import SecretStr

from core.errors import BadQuestionError
from core.models import Answer, Paragraph, Report
from core.protocols import QuestionAnswerer
from core.settings import PROJECT_ROOT
from core.text import normalise
from eval.dataset import EvalCase, case_hash, file_hashes
from eval.metrics import CURRENT_TAG, CaseScore, Summary, aggregate, aggregate_by_tag, score_case

# Settings whose names contain one of these are left out of the record even when not a SecretStr.
_SECRET_WORDS = ("password", "secret", "api_key", "token")


@dataclass(frozen=True)
class CaseResult:
    """One case as asked: the answer, how long it took, and its score."""

    case: EvalCase
    answer: Answer
    score: CaseScore
    timings: dict[str, float]
    error: str | None = None  # set when the answerer rejected the question

    @property
    def passed(self) -> bool:
        return self.score.passed

    def to_json(self) -> dict[str, Any]:
        """The case entry of results.json (EVAL_FORMAT.md)."""
        return {
            "id": self.case.id,
            "tags": list(self.case.tags),
            "question": self.case.question,
            "history": [{"user": t.user, "assistant": t.assistant} for t in self.case.history],
            "answerable": self.case.answerable,
            "passed": self.passed,
            "answer": self.answer.answer,
            "refused": self.answer.refused,
            "citations": [citation.to_json() for citation in self.answer.citations],
            "retrieved": [chunk.chunk_id for chunk in self.answer.retrieved],
            "metrics": dict(self.score.metrics),
            "timings": dict(self.timings),
            "missed_evidence": list(self.score.missed_evidence),
            "missed_facts": [list(alternatives) for alternatives in self.score.missed_facts],
            "invalid_citations": list(self.score.invalid_citations),
            "problems": list(self.score.problems),
            "error": self.error,
            "source": str(self.case.source),
        }


@dataclass(frozen=True)
class SuiteResult:
    """A whole run of one system over the cases: per-case results, summaries and reproducibility info."""

    name: str
    cases: tuple[CaseResult, ...]
    summary: Summary
    by_tag: dict[str, Summary]
    run: dict[str, Any] = field(default_factory=dict)

    def case_passes(self) -> dict[str, bool]:
        """Pass/fail per case id."""
        return {result.case.id: result.passed for result in self.cases}

    def failing(self) -> list[CaseResult]:
        """The cases that failed, in dataset order."""
        return [result for result in self.cases if not result.passed]


@runtime_checkable
class ReportParagraphs(Protocol):
    """An answerer that also lists a report's paragraphs (the product's does): needed only to place
    a `current` case's evidence in its report for the currency metrics."""

    def report_paragraphs(self, report_id: str) -> list[Paragraph]: ...


class EvidenceReports:
    """Which indexed reports hold a case's evidence snippets, by EVAL_FORMAT.md's matching rule.

    Reads every report's paragraphs once, on the first question; an answerer that cannot list
    paragraphs gives None (the currency metrics are then left out)."""

    def __init__(self, answerer: QuestionAnswerer) -> None:
        self._answerer = answerer
        self._texts: list[tuple[str, str, str]] | None = None  # (report id, published, normalised text)

    def __call__(self, snippets: Sequence[str]) -> dict[str, str] | None:
        if not isinstance(self._answerer, ReportParagraphs):
            return None
        if self._texts is None:
            self._texts = [
                (report.report_id, report.metadata.published.isoformat() if report.metadata.published else "", normalise(paragraph.text))
                for report in self._answerer.reports()
                for paragraph in self._answerer.report_paragraphs(report.report_id)
            ]
        holders = [
            {rid: published for rid, published, text in self._texts if needle in text}
            for needle in (normalise(snippet) for snippet in snippets)
        ]
        holders = [found for found in holders if found]
        # a stock line ("Overall effectiveness: Good") is in many councils' reports: the reports holding
        # every snippet are the case's own; only when none holds them all does any holder count
        common = set.intersection(*(set(found) for found in holders)) if holders else set()
        every = {rid: published for found in holders for rid, published in found.items()}
        return {rid: every[rid] for rid in common} if common else every


def run_suite(
    answerer: QuestionAnswerer,
    cases: Sequence[EvalCase],
    *,
    name: str,
    settings: Any = None,
    model: str | None = None,
) -> SuiteResult:
    """Ask every case (history and filters passed through), time and score it, and summarise.

    `settings` (a Settings object or a mapping) and `model` are recorded for reproducibility,
    secrets excluded. Retrieval and generation timings come from `Answer.timings`
    ("retrieval_s", "generation_s") when the answerer reports them; the total is measured here.
    """
    started = datetime.now(UTC)
    locate = EvidenceReports(answerer)
    results = [ask_case(answerer, case, locate) for case in cases]
    scores = [result.score for result in results]
    return SuiteResult(
        name=name,
        cases=tuple(results),
        summary=aggregate(scores, [case.answerable for case in cases]),
        by_tag=aggregate_by_tag(cases, scores),
        run=run_info(
            name=name,
            reports=answerer.reports(),
            cases=cases,
            settings=settings,
            model=model,
            started=started,
            finished=datetime.now(UTC),
        ),
    )


def ask_case(answerer: QuestionAnswerer, case: EvalCase, locate: EvidenceReports | None = None) -> CaseResult:
    """Ask one case and score it; a question the answerer rejects fails the case with the reason.
    `locate` places a `current` case's evidence in its reports for the currency metrics."""
    error = None
    start = time.perf_counter()
    try:
        answer = answerer.ask(case.question, case.history, case.filters)
    except BadQuestionError as rejected:
        answer = Answer(answer="", refused=True)
        error = str(rejected)
    total = time.perf_counter() - start
    timings = {"latency_s": total}
    for key in ("retrieval_s", "generation_s"):
        if key in answer.timings:
            timings[key] = float(answer.timings[key])
    evidence_reports = (
        locate(case.evidence) if locate is not None and CURRENT_TAG in case.tags and case.evidence else None
    )
    score = score_case(case, answer, answerer.paragraph, timings, evidence_reports)
    if error is not None:
        score = CaseScore(
            metrics=score.metrics,
            passed=False,
            missed_evidence=score.missed_evidence,
            missed_facts=score.missed_facts,
            invalid_citations=score.invalid_citations,
            problems=(f"the answerer rejected the question: {error}", *score.problems),
        )
    return CaseResult(case=case, answer=answer, score=score, timings=timings, error=error)


def run_info(
    *,
    name: str,
    reports: Sequence[Report],
    cases: Sequence[EvalCase],
    settings: Any,
    model: str | None,
    started: datetime,
    finished: datetime,
) -> dict[str, Any]:
    """What is needed to reproduce a run: corpus, settings, model, code version and dataset files."""
    corpus = sorted(({"report_id": r.report_id, "content_hash": r.content_hash} for r in reports), key=_by_id)
    return {
        "system": name,
        "started": started.isoformat(timespec="seconds"),
        "duration_s": round((finished - started).total_seconds(), 3),
        "model": model,
        "settings": settings_record(settings),
        "git": git_state(PROJECT_ROOT),
        "python": platform.python_version(),
        "corpus": {"reports": len(corpus), "hash": corpus_hash(corpus), "documents": corpus},
        "datasets": file_hashes(cases),
        "case_hashes": {case.id: case_hash(case) for case in cases},
    }


def _by_id(entry: Mapping[str, str]) -> str:
    return entry["report_id"]


def corpus_hash(corpus: Sequence[Mapping[str, str]]) -> str:
    """One sha256 over the sorted (report id, content hash) pairs: equal hashes mean the same corpus."""
    digest = hashlib.sha256()
    for entry in corpus:
        digest.update(f"{entry['report_id']}\t{entry['content_hash']}\n".encode())
    return digest.hexdigest()


def settings_record(settings: Any) -> dict[str, Any]:
    """Settings as plain JSON values, without secrets (SecretStr values and secret-sounding names)."""
    if settings is None:
        return {}
    raw = settings.model_dump() if hasattr(settings, "model_dump") else dict(settings)
    record: dict[str, Any] = {}
    for key, value in raw.items():
        if isinstance(value, SecretStr) or any(word in key.lower() for word in _SECRET_WORDS):
            continue
        record[key] = _plain(value)
    return record


def _plain(value: Any) -> Any:
    """A JSON-friendly copy of a settings value."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return str(value)


def git_state(root: Path) -> dict[str, Any] | None:
    """The commit checked out at `root` and whether the tree has local changes; None outside git."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": commit, "dirty": bool(status.strip())}
