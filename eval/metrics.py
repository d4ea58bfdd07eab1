"""Pure metric functions for the regression suite, exactly the table of docs/EVAL_FORMAT.md.

Matching (EVAL_FORMAT.md): texts and snippets are compared after `core.text.normalise`; a text
*hits* an evidence snippet when it contains it; a fact is *stated* when any alternative is a
substring of the normalised answer. Retrieved chunks are matched on `RetrievedChunk.text`, cited
paragraphs on `Citation.text`.

Which cases a metric applies to (a metric that does not apply is None for that case and left out
of every average, so a mean is always "over the cases where it means something"):

- hit@k, evidence recall@k, MRR, citation recall: answerable cases with evidence;
- citation precision: answerable cases with evidence that cite at least one paragraph;
- citation validity: any case that cites at least one paragraph (an invalid citation is a bug
  whatever the question);
- fact recall: answerable cases with facts;
- refusal accuracy: every case; also split as refusal_accuracy_answerable / _unanswerable;
- latency: every case; summarised as percentiles, not means;
- leads_with_latest, currency (issue 19): answerable cases tagged `current` whose evidence the
  runner could place in a report. leads_with_latest is 1 when the answer's first citation is from
  the newest report holding the evidence (the latest report that covers the topic: the writers'
  brief puts a `current` case's evidence in that one report); currency is 1 when it also states
  every fact (the standing grade is the first fact of such a case).

A summary metric with no applicable case is None (null in JSON, "n/a" in reports).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from core.models import Answer, Citation, Paragraph
from core.text import normalise

if TYPE_CHECKING:
    from eval.dataset import EvalCase

ParagraphLookup = Callable[[str], Paragraph | None]
Summary = dict[str, float | int | None]

K_VALUES: tuple[int, ...] = (1, 3, 5, 10)
MRR_DEPTH = 10
RECALL_DEPTHS: tuple[int, ...] = (5, 10)

# The summary keys EVAL_FORMAT.md requires, in its order; extras follow them.
REQUIRED_SUMMARY_KEYS: tuple[str, ...] = (
    "cases",
    "pass_rate",
    "hit@1",
    "hit@3",
    "hit@5",
    "hit@10",
    "evidence_recall@5",
    "mrr",
    "citation_recall",
    "citation_precision",
    "citation_validity",
    "fact_recall",
    "refusal_accuracy",
    "latency_p50_s",
    "latency_p95_s",
)
# Per-case metrics that are averaged over the cases they apply to.
MEAN_METRICS: tuple[str, ...] = (
    *(f"hit@{k}" for k in K_VALUES),
    *(f"evidence_recall@{k}" for k in RECALL_DEPTHS),
    "mrr",
    "citation_recall",
    "citation_precision",
    "citation_validity",
    "fact_recall",
    "refusal_accuracy",
    "refusal_accuracy_answerable",
    "refusal_accuracy_unanswerable",
    "leads_with_latest",
    "currency",
)
# The tag whose cases get the currency metrics: a present-tense question about one council.
CURRENT_TAG = "current"
LATENCY_METRICS: tuple[str, ...] = ("latency_s", "retrieval_s", "generation_s")
# Summary metrics where a smaller number is better (for baseline comparison).
LOWER_IS_BETTER: frozenset[str] = frozenset(
    {"latency_p50_s", "latency_p95_s", "retrieval_p50_s", "generation_p50_s"}
)
# The headline metrics shown in tables and charts.
MAIN_METRICS: tuple[str, ...] = (
    "pass_rate",
    "hit@5",
    "mrr",
    "evidence_recall@5",
    "citation_recall",
    "citation_precision",
    "citation_validity",
    "fact_recall",
    "refusal_accuracy",
)

_MARKER = re.compile(r"\s*\[\d+(?:\s*[,;]\s*\d+)*\]")


# --- matching ---------------------------------------------------------------------------------


def hits(text: str, snippet: str) -> bool:
    """Whether a paragraph or chunk text contains an evidence snippet, both normalised."""
    return normalise(snippet) in normalise(text)


def _hit_matrix(texts: Sequence[str], evidence: Sequence[str]) -> list[list[bool]]:
    """matrix[i][j]: text i hits evidence item j (each text normalised once)."""
    snippets = [normalise(item) for item in evidence]
    rows = []
    for text in texts:
        normalised = normalise(text)
        rows.append([snippet in normalised for snippet in snippets])
    return rows


def strip_markers(answer: str) -> str:
    """The answer without its citation markers ("[1]", "[2, 3]"), which are not part of what it says."""
    return _MARKER.sub("", answer)


def stated(answer: str, alternatives: Sequence[str]) -> bool:
    """Whether any alternative of a fact is a substring of the normalised answer (markers removed)."""
    said = normalise(strip_markers(answer))
    return any(normalise(alternative) in said for alternative in alternatives)


# --- retrieval metrics ------------------------------------------------------------------------


def hit_at_k(texts: Sequence[str], evidence: Sequence[str], k: int) -> float:
    """1.0 when any of the top-k texts hits any evidence item, else 0.0."""
    return 1.0 if any(any(row) for row in _hit_matrix(texts[:k], evidence)) else 0.0


def evidence_recall_at_k(texts: Sequence[str], evidence: Sequence[str], k: int) -> float:
    """Share of evidence items hit by the top-k texts."""
    if not evidence:
        raise ValueError("evidence recall needs at least one evidence item")
    matrix = _hit_matrix(texts[:k], evidence)
    found = sum(1 for j in range(len(evidence)) if any(row[j] for row in matrix))
    return found / len(evidence)


def reciprocal_rank(texts: Sequence[str], evidence: Sequence[str], depth: int = MRR_DEPTH) -> float:
    """1 / rank of the first text that hits any evidence item, 0.0 if none within `depth`."""
    for rank, row in enumerate(_hit_matrix(texts[:depth], evidence), start=1):
        if any(row):
            return 1.0 / rank
    return 0.0


# --- citation metrics -------------------------------------------------------------------------


def cited_paragraphs(citations: Sequence[Citation]) -> list[Citation]:
    """Citations with repeated paragraph ids dropped (first kept): a paragraph cited twice counts once."""
    seen: set[str] = set()
    unique = []
    for citation in citations:
        if citation.paragraph_id not in seen:
            seen.add(citation.paragraph_id)
            unique.append(citation)
    return unique


def missed_evidence(texts: Sequence[str], evidence: Sequence[str]) -> list[str]:
    """Evidence items that none of the texts hits."""
    matrix = _hit_matrix(texts, evidence)
    return [item for j, item in enumerate(evidence) if not any(row[j] for row in matrix)]


def citation_recall(cited_texts: Sequence[str], evidence: Sequence[str]) -> float:
    """Share of evidence items hit by the cited paragraphs."""
    if not evidence:
        raise ValueError("citation recall needs at least one evidence item")
    return 1.0 - len(missed_evidence(cited_texts, evidence)) / len(evidence)


def citation_precision(cited_texts: Sequence[str], evidence: Sequence[str]) -> float | None:
    """Share of cited paragraphs that hit at least one evidence item; None when nothing is cited."""
    if not cited_texts:
        return None
    matrix = _hit_matrix(cited_texts, evidence)
    return sum(1 for row in matrix if any(row)) / len(cited_texts)


def citation_problem(citation: Citation, lookup: ParagraphLookup) -> str | None:
    """Why a citation is invalid (no such paragraph, or its text differs from the stored one), or None."""
    stored = lookup(citation.paragraph_id)
    if stored is None:
        return f"[{citation.marker}] {citation.paragraph_id}: no such paragraph in the index"
    if normalise(stored.text) != normalise(citation.text):
        return f"[{citation.marker}] {citation.paragraph_id}: quoted text differs from the stored paragraph"
    return None


def citation_validity(citations: Sequence[Citation], lookup: ParagraphLookup) -> float | None:
    """Share of citations that point to an existing paragraph and quote it exactly; None without citations."""
    if not citations:
        return None
    valid = sum(1 for citation in citations if citation_problem(citation, lookup) is None)
    return valid / len(citations)


# --- answer metrics ---------------------------------------------------------------------------


def missed_facts(answer: str, facts: Sequence[Sequence[str]]) -> list[tuple[str, ...]]:
    """Fact items (their alternatives) that the answer does not state."""
    return [tuple(alternatives) for alternatives in facts if not stated(answer, alternatives)]


def fact_recall(answer: str, facts: Sequence[Sequence[str]]) -> float:
    """Share of fact items stated in the answer."""
    if not facts:
        raise ValueError("fact recall needs at least one fact")
    return 1.0 - len(missed_facts(answer, facts)) / len(facts)


def refusal_accuracy(answerable: bool, refused: bool, citation_count: int) -> float:
    """Unanswerable: 1.0 when it refused and cited nothing. Answerable: 1.0 when it did not refuse."""
    if answerable:
        return 0.0 if refused else 1.0
    return 1.0 if refused and citation_count == 0 else 0.0


def leads_with_latest(citations: Sequence[Citation], evidence_reports: Mapping[str, str]) -> float:
    """1.0 when the first citation is from the newest report holding evidence, else 0.0.

    `evidence_reports` maps each report that holds an evidence snippet to its publication date
    (ISO); ties on the date accept any of the tied reports.
    """
    if not citations or not evidence_reports:
        return 0.0
    newest = max(evidence_reports.values())
    first = citations[0].report_id
    return 1.0 if evidence_reports.get(first) == newest else 0.0


def passes(
    *,
    answerable: bool,
    refusal: float,
    citation_recall_value: float | None,
    fact_recall_value: float | None,
    invalid_citations: int,
) -> bool:
    """The pass rule of EVAL_FORMAT.md.

    Answerable: it did not refuse, citation recall > 0 and fact recall = 1 (each where the case
    lists evidence / facts) and no citation is invalid. Unanswerable: it refused, citing nothing.
    """
    if not answerable:
        return refusal == 1.0
    return (
        refusal == 1.0
        and (citation_recall_value is None or citation_recall_value > 0.0)
        and (fact_recall_value is None or fact_recall_value == 1.0)
        and invalid_citations == 0
    )


# --- one case ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseScore:
    """Every metric of one case (None where it does not apply) and what a failing case missed."""

    metrics: dict[str, float | None]
    passed: bool
    missed_evidence: tuple[str, ...] = ()
    missed_facts: tuple[tuple[str, ...], ...] = ()
    invalid_citations: tuple[str, ...] = ()
    problems: tuple[str, ...] = field(default=())  # human-readable reasons it failed


def score_case(
    case: EvalCase,
    answer: Answer,
    lookup: ParagraphLookup,
    timings: Mapping[str, float] | None = None,
    evidence_reports: Mapping[str, str] | None = None,
) -> CaseScore:
    """Score one answer against its case. `timings` holds latency_s / retrieval_s / generation_s;
    `evidence_reports` (report id to publication date of each report holding an evidence snippet)
    enables the currency metrics of a case tagged `current`."""
    metrics: dict[str, float | None] = {name: None for name in MEAN_METRICS}
    chunk_texts = [chunk.text for chunk in answer.retrieved]
    cited = [citation.text for citation in cited_paragraphs(answer.citations)]
    evidence, facts = case.evidence, case.facts

    if case.answerable and evidence:
        for k in K_VALUES:
            metrics[f"hit@{k}"] = hit_at_k(chunk_texts, evidence, k)
        for k in RECALL_DEPTHS:
            metrics[f"evidence_recall@{k}"] = evidence_recall_at_k(chunk_texts, evidence, k)
        metrics["mrr"] = reciprocal_rank(chunk_texts, evidence)
        metrics["citation_recall"] = citation_recall(cited, evidence)
        metrics["citation_precision"] = citation_precision(cited, evidence)
    if case.answerable and facts:
        metrics["fact_recall"] = fact_recall(answer.answer, facts)
    invalid = tuple(
        problem for problem in (citation_problem(c, lookup) for c in answer.citations) if problem is not None
    )
    if answer.citations:
        metrics["citation_validity"] = 1.0 - len(invalid) / len(answer.citations)
    refusal = refusal_accuracy(case.answerable, answer.refused, len(answer.citations))
    metrics["refusal_accuracy"] = refusal
    metrics["refusal_accuracy_answerable" if case.answerable else "refusal_accuracy_unanswerable"] = refusal
    for name in LATENCY_METRICS:
        metrics[name] = (timings or {}).get(name)
    if case.answerable and CURRENT_TAG in case.tags and evidence_reports:
        leads = leads_with_latest(answer.citations, evidence_reports)
        metrics["leads_with_latest"] = leads
        metrics["currency"] = leads if metrics["fact_recall"] in (None, 1.0) else 0.0

    missing_evidence = tuple(missed_evidence(cited, evidence)) if case.answerable else ()
    missing_facts = tuple(missed_facts(answer.answer, facts)) if case.answerable else ()
    passed = passes(
        answerable=case.answerable,
        refusal=refusal,
        citation_recall_value=metrics["citation_recall"],
        fact_recall_value=metrics["fact_recall"],
        invalid_citations=len(invalid),
    )
    return CaseScore(
        metrics=metrics,
        passed=passed,
        missed_evidence=missing_evidence,
        missed_facts=missing_facts,
        invalid_citations=invalid,
        problems=() if passed else _problems(case, answer, missing_evidence, missing_facts, invalid),
    )


def _problems(
    case: EvalCase,
    answer: Answer,
    missing_evidence: Sequence[str],
    missing_facts: Sequence[Sequence[str]],
    invalid: Sequence[str],
) -> tuple[str, ...]:
    """Plain-English reasons a case failed, for report.md and junit.xml."""
    problems: list[str] = []
    if not case.answerable:
        if not answer.refused:
            problems.append("answered a question the reports do not answer (expected a refusal)")
        if answer.citations:
            problems.append(f"cited {len(answer.citations)} paragraph(s) on an unanswerable question")
        return tuple(problems)
    if answer.refused:
        problems.append("refused a question the reports answer")
    if case.evidence and len(missing_evidence) == len(case.evidence):
        problems.append("cited none of the evidence")
    problems.extend(f"evidence not cited: {snippet!r}" for snippet in missing_evidence)
    problems.extend(f"fact not stated: {' | '.join(repr(a) for a in alternatives)}" for alternatives in missing_facts)
    problems.extend(f"invalid citation {problem}" for problem in invalid)
    return tuple(problems)


# --- aggregation ------------------------------------------------------------------------------


def mean(values: Iterable[float | None]) -> float | None:
    """Mean of the values that are not None; None when there are none."""
    present = [value for value in values if value is not None]
    return sum(present) / len(present) if present else None


def percentile(values: Iterable[float | None], q: float) -> float | None:
    """The q-th percentile (0-100) with linear interpolation, ignoring None; None when empty."""
    present = sorted(value for value in values if value is not None)
    if not present:
        return None
    position = (len(present) - 1) * q / 100.0
    lower, upper = math.floor(position), math.ceil(position)
    return present[lower] + (present[upper] - present[lower]) * (position - lower)


def aggregate(scores: Sequence[CaseScore], answerable: Sequence[bool]) -> Summary:
    """Summary over cases: counts, pass rate, means of per-case metrics, latency percentiles."""
    summary: Summary = {
        "cases": len(scores),
        "pass_rate": mean(1.0 if score.passed else 0.0 for score in scores),
    }
    for name in MEAN_METRICS:
        summary[name] = mean(score.metrics.get(name) for score in scores)
    summary["latency_p50_s"] = percentile((s.metrics.get("latency_s") for s in scores), 50)
    summary["latency_p95_s"] = percentile((s.metrics.get("latency_s") for s in scores), 95)
    summary["retrieval_p50_s"] = percentile((s.metrics.get("retrieval_s") for s in scores), 50)
    summary["generation_p50_s"] = percentile((s.metrics.get("generation_s") for s in scores), 50)
    summary["answerable_cases"] = sum(1 for flag in answerable if flag)
    summary["unanswerable_cases"] = sum(1 for flag in answerable if not flag)
    summary["failed_cases"] = sum(1 for score in scores if not score.passed)
    return {key: summary[key] for key in (*REQUIRED_SUMMARY_KEYS, *summary) if key in summary}


def aggregate_by_tag(cases: Sequence[EvalCase], scores: Sequence[CaseScore]) -> dict[str, Summary]:
    """One summary per tag, over the cases that carry it; tags sorted."""
    tags = sorted({tag for case in cases for tag in case.tags})
    result: dict[str, Summary] = {}
    for tag in tags:
        chosen = [(case, score) for case, score in zip(cases, scores, strict=True) if tag in case.tags]
        result[tag] = aggregate([score for _, score in chosen], [case.answerable for case, _ in chosen])
    return result


# --- thresholds and baseline comparison -------------------------------------------------------


def threshold_failures(summary: Mapping[str, float | int | None], minimums: Mapping[str, float]) -> list[str]:
    """A message per summary metric below its minimum; a metric with no applicable case is skipped."""
    failures = []
    for metric, minimum in minimums.items():
        value = summary.get(metric)
        if value is not None and value < minimum:
            failures.append(f"{metric} = {value:.3f} is below the minimum {minimum:.3f}")
    return failures


@dataclass(frozen=True)
class MetricDelta:
    """One summary metric now and in the baseline."""

    metric: str
    current: float | None
    baseline: float | None
    tolerance: float | None  # None: not checked for regression
    regressed: bool

    @property
    def delta(self) -> float | None:
        if self.current is None or self.baseline is None:
            return None
        return self.current - self.baseline


@dataclass(frozen=True)
class Comparison:
    """What changed against the accepted baseline: metric deltas and cases that flipped."""

    deltas: tuple[MetricDelta, ...]
    newly_failing: tuple[str, ...]  # passed in the baseline, fail now: regressions
    newly_passing: tuple[str, ...]
    new_cases: tuple[str, ...]  # not in the baseline

    @property
    def regressed_metrics(self) -> tuple[MetricDelta, ...]:
        return tuple(delta for delta in self.deltas if delta.regressed)

    @property
    def ok(self) -> bool:
        return not self.regressed_metrics and not self.newly_failing

    def messages(self) -> list[str]:
        """One line per regression, for the console and report."""
        lines = [
            f"{d.metric} fell from {d.baseline:.3f} to {d.current:.3f} (tolerance {d.tolerance})"
            if d.metric not in LOWER_IS_BETTER
            else f"{d.metric} rose from {d.baseline:.3f} to {d.current:.3f} (tolerance {d.tolerance})"
            for d in self.regressed_metrics
            if d.baseline is not None and d.current is not None
        ]
        lines.extend(f"case {case_id} passed in the baseline and fails now" for case_id in self.newly_failing)
        return lines


def metric_regressed(metric: str, current: float | None, baseline: float | None, tolerance: float | None) -> bool:
    """Whether a metric moved the wrong way by more than its tolerance (unmeasured values never regress)."""
    if tolerance is None or current is None or baseline is None:
        return False
    if metric in LOWER_IS_BETTER:
        return current > baseline + tolerance + 1e-12
    return current < baseline - tolerance - 1e-12


def compare(
    summary: Mapping[str, float | int | None],
    case_passes: Mapping[str, bool],
    baseline_summary: Mapping[str, float | int | None],
    baseline_passes: Mapping[str, bool],
    tolerances: Mapping[str, float],
) -> Comparison:
    """Compare a run with the baseline: metrics beyond tolerance and cases that flipped either way."""
    deltas = []
    for metric in dict.fromkeys([*summary, *baseline_summary]):
        if metric == "cases" or metric.endswith("_cases"):
            continue
        current, baseline = summary.get(metric), baseline_summary.get(metric)
        tolerance = tolerances.get(metric)
        deltas.append(
            MetricDelta(
                metric=metric,
                current=None if current is None else float(current),
                baseline=None if baseline is None else float(baseline),
                tolerance=tolerance,
                regressed=metric_regressed(
                    metric,
                    None if current is None else float(current),
                    None if baseline is None else float(baseline),
                    tolerance,
                ),
            )
        )
    shared = [case_id for case_id in case_passes if case_id in baseline_passes]
    return Comparison(
        deltas=tuple(deltas),
        newly_failing=tuple(c for c in shared if baseline_passes[c] and not case_passes[c]),
        newly_passing=tuple(c for c in shared if not baseline_passes[c] and case_passes[c]),
        new_cases=tuple(c for c in case_passes if c not in baseline_passes),
    )
