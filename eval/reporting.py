"""Files a run leaves behind (results.json, report.md, junit.xml, metrics.png) and the two files that
judge it: the thresholds (eval/thresholds.yaml) and the accepted baseline (eval/baseline.json).
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from core.errors import ConfigError
from eval.metrics import (
    LOWER_IS_BETTER,
    MAIN_METRICS,
    MEAN_METRICS,
    REQUIRED_SUMMARY_KEYS,
    Comparison,
    Summary,
    compare,
)
from eval.runner import CaseResult, SuiteResult

EVAL_DIR = Path(__file__).resolve().parent
DEFAULT_THRESHOLDS = EVAL_DIR / "thresholds.yaml"
DEFAULT_BASELINE = EVAL_DIR / "baseline.json"
KNOWN_METRICS: frozenset[str] = frozenset(
    {*REQUIRED_SUMMARY_KEYS, *MEAN_METRICS, "retrieval_p50_s", "generation_p50_s"}
)
# Characters XML 1.0 cannot carry; PDF text sometimes holds them.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_QUOTE_CHARS = 400


# --- thresholds and the accepted baseline -----------------------------------------------------


@dataclass(frozen=True)
class Thresholds:
    """Minimums per summary metric, and how far each may fall against the baseline."""

    minimums: dict[str, float] = field(default_factory=dict)
    tolerances: dict[str, float] = field(default_factory=dict)


def load_thresholds(path: Path) -> Thresholds:
    """Read thresholds.yaml (`minimums:` and `tolerances:` maps of metric to number)."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise ConfigError(f"{path}: thresholds file not found") from None
    except (OSError, yaml.YAMLError) as error:
        raise ConfigError(f"{path}: cannot read thresholds: {error}") from None
    if not isinstance(raw, Mapping) or set(raw) - {"minimums", "tolerances"}:
        raise ConfigError(f"{path}: expected only 'minimums' and 'tolerances' maps")
    return Thresholds(
        minimums=_metric_numbers(raw.get("minimums"), path, "minimums"),
        tolerances=_metric_numbers(raw.get("tolerances"), path, "tolerances"),
    )


def _metric_numbers(value: Any, path: Path, section: str) -> dict[str, float]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(f"{path}: {section} must be a map of metric to number")
    numbers: dict[str, float] = {}
    for metric, number in value.items():
        if metric not in KNOWN_METRICS:
            raise ConfigError(f"{path}: {section}: unknown metric {metric!r}")
        if isinstance(number, bool) or not isinstance(number, (int, float)):
            raise ConfigError(f"{path}: {section}: {metric} must be a number, got {number!r}")
        numbers[metric] = float(number)
    return numbers


@dataclass(frozen=True)
class Baseline:
    """The accepted state of the product on one set of cases: summary metrics and pass/fail per case."""

    summary: Summary
    cases: dict[str, bool]
    accepted: str = ""
    run: dict[str, Any] = field(default_factory=dict)
    case_hashes: dict[str, str] = field(default_factory=dict)  # case id -> sha256 of the case as accepted

    @property
    def corpus_hash(self) -> str | None:
        value = self.run.get("corpus_hash")
        return str(value) if value else None

    @property
    def dataset_hashes(self) -> list[str]:
        """The content hashes of the dataset files, sorted: the same files under another path still match."""
        return sorted(str(digest) for digest in (self.run.get("datasets") or {}).values())


@dataclass(frozen=True)
class BaselineMatch:
    """Which accepted baseline a run is judged against, and how far.

    `same_cases`: the baseline holds exactly these cases over the same corpus, so its summary metrics
    are comparable. Otherwise only the cases in `shared` (same id, same content, same corpus) are
    compared one by one, and `baseline` is None when there are none.
    """

    baseline: Baseline | None = None
    same_cases: bool = False
    shared: tuple[str, ...] = ()
    note: str = ""


BASELINE_STORE_VERSION = 2


def _parse_baseline(raw: Any) -> Baseline:
    summary, cases = raw["summary"], raw["cases"]
    if not isinstance(summary, dict) or not isinstance(cases, dict):
        raise TypeError("summary and cases must be objects")
    hashes = raw.get("case_hashes") or {}
    if not isinstance(hashes, dict):
        raise TypeError("case_hashes must be an object")
    return Baseline(
        summary=summary,
        cases={str(k): bool(v) for k, v in cases.items()},
        accepted=str(raw.get("accepted", "")),
        run=raw.get("run", {}) or {},
        case_hashes={str(k): str(v) for k, v in hashes.items()},
    )


def load_baselines(path: Path) -> list[Baseline]:
    """Every accepted baseline in the file (one per set of datasets); [] when the file does not exist yet.

    A file of the first format (one baseline at the top level) reads as a store of one.
    """
    if not path.exists():
        return []
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(raw, dict):
            raise TypeError("expected an object")
        if "baselines" in raw:
            if not isinstance(raw["baselines"], list):
                raise TypeError("baselines must be a list")
            return [_parse_baseline(item) for item in raw["baselines"]]
        return [_parse_baseline(raw)]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ConfigError(f"{path}: not a baseline file ({error}); recreate it with --accept-baseline") from None


def load_baseline(path: Path) -> Baseline | None:
    """The only (or first) accepted baseline in the file, or None when there is none."""
    baselines = load_baselines(path)
    return baselines[0] if baselines else None


def match_baseline(baselines: Sequence[Baseline], result: SuiteResult) -> BaselineMatch:
    """The baseline this run is judged against: one accepted on exactly these cases and this corpus, or else
    the one sharing the most unchanged cases (compared case by case only). Never a baseline of other cases."""
    run = result.run
    hashes: dict[str, str] = dict(run.get("case_hashes") or {})
    corpus = (run.get("corpus") or {}).get("hash")
    datasets = sorted((run.get("datasets") or {}).values())
    other_corpus: Baseline | None = None
    best: tuple[int, Baseline | None, tuple[str, ...]] = (0, None, ())
    for baseline in baselines:
        if baseline.case_hashes:
            same = baseline.case_hashes == hashes
        else:  # a first-format baseline: no case hashes, so the dataset files and case ids must both be equal
            same = baseline.dataset_hashes == datasets and set(baseline.cases) == set(hashes)
        if baseline.corpus_hash and corpus and baseline.corpus_hash != corpus:
            if same:
                other_corpus = baseline
            continue
        if same:
            return BaselineMatch(baseline=baseline, same_cases=True, shared=tuple(hashes), note="")
        shared = tuple(case for case, digest in hashes.items() if baseline.case_hashes.get(case) == digest)
        if len(shared) > best[0]:
            best = (len(shared), baseline, shared)
    count, closest, shared = best
    if closest is not None:
        return BaselineMatch(
            baseline=closest,
            same_cases=False,
            shared=shared,
            note=(
                f"The accepted baseline was made on other cases: {count} of these {len(hashes)} cases are unchanged "
                "in it, and only they are compared, case by case; the summary metrics are not compared."
            ),
        )
    if other_corpus is not None:
        return BaselineMatch(
            note=(
                f"The baseline for these cases was measured over another corpus ({str(other_corpus.corpus_hash)[:12]}, "
                f"this run {str(corpus)[:12]}): figures are reported, nothing is compared."
            )
        )
    return BaselineMatch(
        note="No accepted baseline for these cases: figures are reported, nothing is compared "
        "(record one with --accept-baseline)."
    )


def compare_with(match: BaselineMatch, result: SuiteResult, tolerances: Mapping[str, float]) -> Comparison | None:
    """The comparison a match allows: every metric and case for the same cases, else the shared cases only."""
    baseline = match.baseline
    if baseline is None:
        return None
    passes = result.case_passes()
    if match.same_cases:
        return compare(result.summary, passes, baseline.summary, baseline.cases, tolerances)
    shared = set(match.shared)
    return compare(
        {}, {c: p for c, p in passes.items() if c in shared}, {}, {c: p for c, p in baseline.cases.items() if c in shared}, {}
    )


def baseline_payload(result: SuiteResult) -> dict[str, Any]:
    """What --accept-baseline stores: the summary, pass/fail and content hash per case, and where it came from."""
    run = result.run
    return {
        "accepted": datetime.now(UTC).isoformat(timespec="seconds"),
        "system": result.name,
        "summary": result.summary,
        "cases": result.case_passes(),
        "case_hashes": dict(run.get("case_hashes") or {}),
        "run": {
            "git": run.get("git"),
            "model": run.get("model"),
            "corpus_hash": run.get("corpus", {}).get("hash"),
            "reports": run.get("corpus", {}).get("reports"),
            "datasets": {_relative(path): digest for path, digest in (run.get("datasets") or {}).items()},
        },
    }


def _relative(path: str) -> str:
    """A dataset path relative to the project when it lies inside it, so the file reads the same anywhere."""
    try:
        return str(Path(path).resolve().relative_to(EVAL_DIR.parent))
    except ValueError:
        return path


def write_baseline(path: Path, result: SuiteResult) -> None:
    """Record the current run as the accepted baseline for its datasets, keeping the other datasets' baselines.

    An earlier baseline of the same dataset files (by path) is replaced: the datasets changed, or the product did.
    """
    payload = baseline_payload(result)
    files = set(payload["run"]["datasets"])
    kept = [
        raw
        for raw in _stored(path)
        if set((raw.get("run") or {}).get("datasets") or {}) != files
        and sorted(((raw.get("run") or {}).get("datasets") or {}).values()) != sorted(payload["run"]["datasets"].values())
    ]
    store = {"version": BASELINE_STORE_VERSION, "baselines": [*kept, payload]}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(store, indent=2, sort_keys=False) + "\n", encoding="utf-8")


def _stored(path: Path) -> list[dict[str, Any]]:
    """The raw baselines already in the file (validated by load_baselines first)."""
    if not load_baselines(path):
        return []
    raw = json.loads(path.read_text(encoding="utf-8"))
    return list(raw["baselines"]) if "baselines" in raw else [raw]


# --- the run's verdict ------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """Everything that decides the exit status, kept with the run so every report says the same."""

    threshold_failures: tuple[str, ...] = ()
    comparison: Comparison | None = None
    baseline: Baseline | None = None
    accepted_baseline: bool = False  # this run was written as the new baseline; regressions accepted
    baseline_note: str = ""  # why no baseline, or only some cases, were compared

    @property
    def regressions(self) -> list[str]:
        if self.comparison is None or self.accepted_baseline:
            return []
        return self.comparison.messages()

    @property
    def ok(self) -> bool:
        return not self.threshold_failures and not self.regressions


# --- writing everything -----------------------------------------------------------------------


def write_outputs(
    out_dir: Path, result: SuiteResult, verdict: Verdict, systems: Sequence[SuiteResult] = ()
) -> dict[str, Path]:
    """Write results.json, report.md, junit.xml and metrics.png into `out_dir`; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "results": out_dir / "results.json",
        "report": out_dir / "report.md",
        "junit": out_dir / "junit.xml",
        "chart": out_dir / "metrics.png",
    }
    paths["results"].write_text(
        json.dumps(results_json(result, verdict, systems), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    paths["report"].write_text(report_markdown(result, verdict, systems), encoding="utf-8")
    paths["junit"].write_bytes(junit_xml(result))
    write_chart(paths["chart"], result, verdict.baseline, systems)
    return paths


def results_json(result: SuiteResult, verdict: Verdict, systems: Sequence[SuiteResult] = ()) -> dict[str, Any]:
    """results.json: summary, by_tag, cases (EVAL_FORMAT.md) plus run info, every system and the verdict."""
    comparison = verdict.comparison
    return {
        "summary": result.summary,
        "by_tag": result.by_tag,
        "cases": [case.to_json() for case in result.cases],
        "run": result.run,
        "systems": {
            system.name: {
                "summary": system.summary,
                "by_tag": system.by_tag,
                "failing_cases": [case.case.id for case in system.failing()],
                "run": {key: value for key, value in system.run.items() if key != "corpus"}
                | {"corpus_hash": system.run.get("corpus", {}).get("hash")},
            }
            for system in (result, *systems)
        },
        "verdict": {
            "ok": verdict.ok,
            "threshold_failures": list(verdict.threshold_failures),
            "regressions": verdict.regressions,
            "accepted_baseline": verdict.accepted_baseline,
            "baseline_accepted_at": verdict.baseline.accepted if verdict.baseline else None,
            "baseline_note": verdict.baseline_note,
            "newly_failing": list(comparison.newly_failing) if comparison else [],
            "newly_passing": list(comparison.newly_passing) if comparison else [],
            "new_cases": list(comparison.new_cases) if comparison else [],
            "deltas": {d.metric: d.delta for d in comparison.deltas} if comparison else {},
        },
    }


def format_value(metric: str, value: float | int | None) -> str:
    """A summary value for tables: n/a, counts as integers, seconds with a unit, rates to 3 places."""
    if value is None:
        return "n/a"
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if metric in LOWER_IS_BETTER:
        return f"{value:.3f} s"
    return f"{value:.3f}"


def _format_delta(metric: str, delta: float | None) -> str:
    if delta is None:
        return ""
    if abs(delta) < 5e-4:
        return "="
    return f"{delta:+.3f}" + (" s" if metric in LOWER_IS_BETTER else "")


def summary_table(result: SuiteResult, systems: Sequence[SuiteResult], baseline: Baseline | None) -> list[str]:
    """Markdown table: every summary metric for this run, each side-by-side system and the baseline."""
    header = ["metric", result.name, *(system.name for system in systems)]
    if baseline is not None:
        header += ["accepted baseline", "change"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for metric in result.summary:
        row = [metric, format_value(metric, result.summary[metric])]
        row += [format_value(metric, system.summary.get(metric)) for system in systems]
        if baseline is not None:
            old = baseline.summary.get(metric)
            new = result.summary[metric]
            delta = None if old is None or new is None else float(new) - float(old)
            row += [format_value(metric, old), _format_delta(metric, delta)]
        lines.append("| " + " | ".join(row) + " |")
    return lines


def tag_table(result: SuiteResult) -> list[str]:
    """Markdown table of the main metrics per tag."""
    columns = ("cases", *MAIN_METRICS)
    lines = ["| tag | " + " | ".join(columns) + " |", "|---|" + "---|" * len(columns)]
    for tag, summary in result.by_tag.items():
        lines.append(f"| {tag} | " + " | ".join(format_value(c, summary.get(c)) for c in columns) + " |")
    return lines


def _markdown_safe(text: str) -> str:
    """Text with angle brackets escaped, so report text never renders as HTML."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _quote(text: str, limit: int = _QUOTE_CHARS) -> str:
    """Text shortened for the report, on one line, HTML-safe."""
    text = " ".join(text.split())
    return _markdown_safe(text if len(text) <= limit else text[: limit - 1].rstrip() + "…")


def failing_case_markdown(case: CaseResult) -> list[str]:
    """One failing case: question, answer, citations and what was missed."""
    tags = f" ({', '.join(case.case.tags)})" if case.case.tags else ""
    lines = [f"### {case.case.id}{tags}", "", f"**Question:** {_quote(case.case.question)}", ""]
    for turn in case.case.history:
        lines += [f"- earlier question: {_quote(turn.user)}"]
    if case.case.history:
        lines.append("")
    if not case.case.filters.is_empty():
        lines += [f"**Filters:** {_filters_text(case)}", ""]
    expected = "an answer" if case.case.answerable else "a refusal"
    state = "refused" if case.answer.refused else "answered"
    lines += [f"**Expected** {expected}; the system {state}:", ""]
    answer_lines = _markdown_safe(case.answer.answer or "(empty)").splitlines()
    lines += [f"> {line.rstrip()}" if line.strip() else ">" for line in answer_lines]
    lines.append("")
    if case.answer.citations:
        lines.append("**Citations:**")
        for citation in case.answer.citations:
            where = f"{citation.report_id} p.{citation.page}"
            lines.append(f"- [{citation.marker}] `{citation.paragraph_id}` ({where}): {_quote(citation.text, 240)}")
        lines.append("")
    lines.append("**Missed:**")
    lines += [f"- {problem}" for problem in case.score.problems] or ["- (nothing recorded)"]
    lines.append("")
    return lines


def _filters_text(case: CaseResult) -> str:
    filters = case.case.filters
    parts = []
    if filters.local_authorities:
        parts.append("local authority " + ", ".join(filters.local_authorities))
    if filters.report_types:
        parts.append("report type " + ", ".join(filters.report_types))
    if filters.published_from:
        parts.append(f"published from {filters.published_from.isoformat()}")
    if filters.published_to:
        parts.append(f"published to {filters.published_to.isoformat()}")
    return "; ".join(parts)


def report_markdown(result: SuiteResult, verdict: Verdict, systems: Sequence[SuiteResult] = ()) -> str:
    """report.md: verdict, summary table (with baselines and deltas), per-tag table, flips and failing cases."""
    run = result.run
    git = run.get("git") or {}
    corpus = run.get("corpus", {})
    lines = [
        f"# Evaluation report: {result.name}",
        "",
        f"- started {run.get('started', '?')}, {result.summary['cases']} cases, "
        f"{corpus.get('reports', '?')} reports (corpus {str(corpus.get('hash', ''))[:12]})",
        f"- code {str(git.get('commit', 'unknown'))[:12]}{' (with local changes)' if git.get('dirty') else ''}, "
        f"model {run.get('model') or 'n/a'}",
        "- datasets: "
        + (", ".join(f"{path} ({digest[:12]})" for path, digest in run.get("datasets", {}).items()) or "not recorded"),
        "",
        "## Verdict",
        "",
    ]
    if verdict.ok:
        lines.append("**OK**: every threshold holds and nothing regressed against the baseline.")
    else:
        lines.append("**FAILED**")
        lines += [f"- threshold: {message}" for message in verdict.threshold_failures]
        lines += [f"- regression: {message}" for message in verdict.regressions]
    if verdict.accepted_baseline:
        lines.append("")
        lines.append("This run was accepted as the new baseline (--accept-baseline).")
    elif verdict.baseline_note:
        lines.append("")
        lines.append(verdict.baseline_note)
    elif verdict.baseline is None:
        lines.append("")
        lines.append("No accepted baseline yet: run with --accept-baseline to record one.")
    lines += ["", "## Summary", ""]
    if systems:
        lines += [f"Baselines run side by side over the same documents: {', '.join(s.name for s in systems)}.", ""]
    lines += summary_table(result, systems, verdict.baseline)
    lines += [
        "",
        "Averages are over the cases a metric applies to (retrieval and citation metrics: answerable "
        "cases with evidence; precision: those that cite something; validity: any case with citations; "
        "fact recall: answerable cases with facts; refusal accuracy: all cases).",
    ]
    if result.by_tag:
        lines += ["", "## By tag", ""] + tag_table(result)
    comparison = verdict.comparison
    if comparison is not None:
        lines += ["", "## Changes against the baseline", ""]
        lines.append("- passed in the baseline, fail now: " + (", ".join(comparison.newly_failing) or "none"))
        lines.append("- failed in the baseline, pass now: " + (", ".join(comparison.newly_passing) or "none"))
        if comparison.new_cases:
            lines.append("- new cases (not in the baseline): " + ", ".join(comparison.new_cases))
    failing = result.failing()
    lines += ["", f"## Failing cases ({len(failing)})", ""]
    if not failing:
        lines.append("None.")
    for case in failing:
        lines += failing_case_markdown(case)
    return "\n".join(lines).rstrip() + "\n"


def _xml_text(text: str) -> str:
    return _XML_ILLEGAL.sub("", text)


def junit_xml(result: SuiteResult) -> bytes:
    """junit.xml: one testcase per case; a failing case's message says what was missed."""
    total_time = sum(case.timings.get("latency_s", 0.0) for case in result.cases)
    suites = ElementTree.Element("testsuites")
    suite = ElementTree.SubElement(
        suites,
        "testsuite",
        name=f"ofsted-qa-eval.{result.name}",
        tests=str(len(result.cases)),
        failures=str(len(result.failing())),
        errors="0",
        time=f"{total_time:.3f}",
    )
    for case in result.cases:
        element = ElementTree.SubElement(
            suite,
            "testcase",
            classname=f"eval.{case.case.source.stem or 'dataset'}",
            name=case.case.id,
            time=f"{case.timings.get('latency_s', 0.0):.3f}",
        )
        if not case.passed:
            failure = ElementTree.SubElement(
                element, "failure", message=_xml_text("; ".join(case.score.problems) or "failed"), type="EvalFailure"
            )
            failure.text = _xml_text(
                "\n".join(
                    [
                        f"question: {case.case.question}",
                        f"answer: {case.answer.answer}",
                        f"refused: {case.answer.refused}",
                        *(f"cited [{c.marker}] {c.paragraph_id}" for c in case.answer.citations),
                        *(f"missed: {problem}" for problem in case.score.problems),
                    ]
                )
            )
    ElementTree.indent(suites)
    return ElementTree.tostring(suites, encoding="utf-8", xml_declaration=True)


def write_chart(
    path: Path, result: SuiteResult, baseline: Baseline | None, systems: Sequence[SuiteResult] = ()
) -> None:
    """metrics.png: grouped bars of the main metrics for this run, the accepted baseline and other systems."""
    # The object-oriented API with the Agg canvas: no pyplot global state, no display needed.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    series: list[tuple[str, Mapping[str, Any]]] = [(result.name, result.summary)]
    if baseline is not None:
        series.append(("accepted baseline", baseline.summary))
    series += [(system.name, system.summary) for system in systems]
    figure = Figure(figsize=(11, 5), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(1, 1, 1)
    width = 0.8 / len(series)
    positions = range(len(MAIN_METRICS))
    for index, (label, summary) in enumerate(series):
        values = [summary.get(metric) for metric in MAIN_METRICS]
        heights = [float("nan") if value is None else float(value) for value in values]
        offsets = [p - 0.4 + width * (index + 0.5) for p in positions]
        axes.bar(offsets, heights, width=width, label=label)
    axes.set_xticks(list(positions))
    axes.set_xticklabels(MAIN_METRICS, rotation=30, ha="right")
    axes.set_ylim(0, 1.05)
    axes.set_ylabel("score (0-1)")
    axes.set_title(f"Evaluation: {result.summary['cases']} cases")
    axes.grid(axis="y", alpha=0.3)
    axes.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small")
    figure.tight_layout()
    figure.savefig(path, format="png")
