"""The `eval` command: run the regression suite, write the reports, and turn the verdict into an exit status.

The main CLI (cli/main.py) adds these arguments to its `eval` sub-command, builds the product's
answerer with its own wiring and calls `run`. Exit status: 0 ok, 1 a threshold failed or something
regressed against the baseline, 2 the dataset is bad.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO, cast

from core.errors import OfstedQAError
from core.protocols import QuestionAnswerer
from core.settings import Settings
from eval.dataset import DatasetError, EvalCase, load_cases, select_tag
from eval.metrics import MAIN_METRICS, threshold_failures
from eval.reporting import (
    DEFAULT_BASELINE,
    DEFAULT_THRESHOLDS,
    Verdict,
    compare_with,
    format_value,
    load_baselines,
    load_thresholds,
    match_baseline,
    write_baseline,
    write_outputs,
)
from eval.runner import SuiteResult, run_suite

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_DATASET = 2

AnswererSource = QuestionAnswerer | Callable[[], QuestionAnswerer]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the eval command's options to a (sub)parser."""
    parser.add_argument(
        "--dataset", action="append", required=True, type=Path, metavar="FILE", help="YAML dataset (repeatable)"
    )
    parser.add_argument("--out", type=Path, default=Path("eval-out"), metavar="DIR", help="where reports go")
    parser.add_argument(
        "--baseline", type=Path, default=DEFAULT_BASELINE, metavar="FILE", help="accepted baseline to compare with"
    )
    parser.add_argument(
        "--thresholds", type=Path, default=DEFAULT_THRESHOLDS, metavar="FILE", help="minimums and tolerances"
    )
    parser.add_argument(
        "--accept-baseline", action="store_true", help="write this run to the baseline file as the accepted state"
    )
    parser.add_argument(
        "--with-baselines", action="store_true", help="also run the naive LangChain and BM25 baselines side by side"
    )
    parser.add_argument(
        "--corpus",
        type=Path,
        default=None,
        metavar="DIR",
        help="documents for --with-baselines (default: the report files of the index being evaluated)",
    )
    parser.add_argument("--tag", default=None, metavar="TAG", help="only the cases with this tag")


def run(
    args: argparse.Namespace,
    answerer: AnswererSource,
    settings: Settings,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run the suite and return the exit status.

    `answerer` may be the answerer itself or a zero-argument factory for it: with a factory, a bad
    dataset is reported before the index and models are loaded.
    """
    out, err = stdout or sys.stdout, stderr or sys.stderr
    try:
        cases = _load(args)
    except DatasetError as error:
        print(f"Error: {error}", file=err)
        return EXIT_BAD_DATASET
    try:
        thresholds = load_thresholds(args.thresholds)
        baselines = load_baselines(args.baseline)
        product = cast(QuestionAnswerer, answerer if hasattr(answerer, "ask") else answerer())  # type: ignore[operator]
        result = run_suite(product, cases, name="product", settings=settings, model=_model_name(settings))
        systems = _run_baselines(args, settings, cases, product) if args.with_baselines else []
    except OfstedQAError as error:
        print(f"Error: {error}", file=err)
        return EXIT_FAILED
    match = match_baseline(baselines, result)
    verdict = Verdict(
        threshold_failures=tuple(threshold_failures(result.summary, thresholds.minimums)),
        comparison=compare_with(match, result, thresholds.tolerances),
        baseline=match.baseline if match.same_cases else None,
        accepted_baseline=args.accept_baseline,
        baseline_note="" if args.accept_baseline else match.note,
    )
    paths = write_outputs(args.out, result, verdict, systems)
    if args.accept_baseline:
        write_baseline(args.baseline, result)
    _print_summary(out, result, systems, verdict, paths["report"], args)
    return EXIT_OK if verdict.ok else EXIT_FAILED


def _load(args: argparse.Namespace) -> list[EvalCase]:
    """The dataset's cases, narrowed to --tag; a tag that selects nothing is a dataset error."""
    if args.tag and args.accept_baseline:
        raise DatasetError("--accept-baseline records the whole datasets: run it without --tag")
    cases = select_tag(load_cases(args.dataset), args.tag)
    if not cases:
        raise DatasetError(f"no case in {', '.join(map(str, args.dataset))} has the tag {args.tag!r}")
    return cases


def _model_name(settings: Settings) -> str:
    """Which answer generator produced the answers."""
    return f"llm:{settings.llm_model}" if settings.answerer == "llm" else "extractive"


def _run_baselines(
    args: argparse.Namespace, settings: Settings, cases: Sequence[EvalCase], product: QuestionAnswerer
) -> list[SuiteResult]:
    """The naive LangChain and BM25 baselines, scored by the same runner over the same reports as the product:
    the report files of the index being evaluated, or the folder given with --corpus."""
    from eval.baselines import BM25Baseline, NaiveLangChainBaseline, load_documents, load_report_files

    documents = load_documents(args.corpus) if args.corpus else load_report_files(product.reports())
    with NaiveLangChainBaseline(documents) as naive:
        naive.prepare()
        naive_result = run_suite(naive, cases, name=naive.name, model=naive.name)
    bm25 = BM25Baseline(documents)
    bm25.prepare()
    return [naive_result, run_suite(bm25, cases, name=bm25.name, model=bm25.name)]


def _print_summary(
    out: TextIO,
    result: SuiteResult,
    systems: Sequence[SuiteResult],
    verdict: Verdict,
    report: Path,
    args: argparse.Namespace,
) -> None:
    """A short table and the verdict on stdout."""
    names = [result.name, *(system.name for system in systems)]
    if verdict.baseline is not None:
        names.append("baseline")
    summaries = [result.summary, *(system.summary for system in systems)]
    if verdict.baseline is not None:
        summaries.append(verdict.baseline.summary)
    metrics = ("cases", *MAIN_METRICS, "latency_p50_s", "latency_p95_s")
    width = max(len(metric) for metric in metrics) + 2
    print("".join([" " * width, *(f"{name:>18}" for name in names)]), file=out)
    for metric in metrics:
        cells = (f"{format_value(metric, summary.get(metric)):>18}" for summary in summaries)
        print(f"{metric:<{width}}" + "".join(cells), file=out)
    print("", file=out)
    if verdict.baseline_note:
        print(verdict.baseline_note, file=out)
    for message in verdict.threshold_failures:
        print(f"FAIL threshold: {message}", file=out)
    for message in verdict.regressions:
        print(f"FAIL regression: {message}", file=out)
    if verdict.comparison is not None and verdict.comparison.newly_passing:
        print("now passing: " + ", ".join(verdict.comparison.newly_passing), file=out)
    if args.accept_baseline:
        print(f"accepted as the new baseline: {args.baseline}", file=out)
    verdict_word = "OK" if verdict.ok else "FAILED"
    print(f"{verdict_word}: {len(result.failing())} of {len(result.cases)} cases fail; report in {report}", file=out)
