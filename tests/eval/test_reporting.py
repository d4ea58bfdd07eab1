"""The files a run writes (results.json, report.md, junit.xml, metrics.png) and the thresholds and baseline files."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from collections.abc import Sequence
from pathlib import Path

import pytest

from core.errors import ConfigError
from core.models import Answer, Citation, Filters, Paragraph, Report, ReportMetadata, RetrievedChunk, Turn
from eval.dataset import EvalCase
from eval.metrics import REQUIRED_SUMMARY_KEYS, compare
from eval.reporting import (
    DEFAULT_THRESHOLDS,
    Baseline,
    Verdict,
    load_baseline,
    load_thresholds,
    write_baseline,
    write_outputs,
)
from eval.runner import SuiteResult, run_suite

PARAGRAPHS = {
    "p1": Paragraph("p1", "r1", "The local authority is in touch with the vast majority of its care leavers.", 3, 0),
    "p2": Paragraph("p2", "r1", "Social workers visit children regularly & know them <well>.", 4, 1),
}


def cite(paragraph_id: str, text: str) -> Citation:
    return Citation(
        "1", paragraph_id, "r1", "Buckinghamshire", "focused_visit", "2021-04-12", 3, 7, "Findings", text, "r1.pdf"
    )


class ScriptedAnswerer:
    """A real QuestionAnswerer returning fixed answers per question over a dict of paragraphs."""

    def __init__(self, script: dict[str, Answer]) -> None:
        self.script = script

    def ask(self, question: str, history: Sequence[Turn] = (), filters: Filters | None = None) -> Answer:
        return self.script[question]

    def paragraph(self, paragraph_id: str) -> Paragraph | None:
        return PARAGRAPHS.get(paragraph_id)

    def reports(self) -> list[Report]:
        return [Report("r1", "r1.pdf", "hash-r1", "Bucks", ReportMetadata(local_authority="Buckinghamshire"))]


CASES = [
    EvalCase(id="passes", question="Care leavers?", evidence=("vast majority of its care leavers",),
             facts=(("vast majority",),), tags=("paraphrase",), source=Path("gold.yaml")),
    EvalCase(id="misses-fact", question="Visits?", evidence=("visit children regularly",),
             facts=(("weekly", "every week"),), tags=("paraphrase", "single-report"), source=Path("gold.yaml")),
    EvalCase(
        id="answers-unanswerable", question="Weather?", answerable=False, tags=("off-topic",), source=Path("gold.yaml")
    ),
]
SCRIPT = {
    "Care leavers?": Answer(
        "In touch with the vast majority [1].",
        False,
        (cite("p1", PARAGRAPHS["p1"].text),),
        (RetrievedChunk("c1", ("p1",), 0.9, PARAGRAPHS["p1"].text),),
        timings={"retrieval_s": 0.1, "generation_s": 0.2},
    ),
    "Visits?": Answer(
        "Social workers visit children \x0bregularly [1].",  # a control character XML cannot carry
        False,
        (cite("p2", PARAGRAPHS["p2"].text),),
        (RetrievedChunk("c2", ("p2",), 0.8, PARAGRAPHS["p2"].text),),
    ),
    "Weather?": Answer("Sunny <b>& warm</b>.", False),
}


@pytest.fixture
def result() -> SuiteResult:
    return run_suite(ScriptedAnswerer(SCRIPT), CASES, name="product", model="extractive")


def test_results_json_holds_every_required_key(result: SuiteResult, tmp_path: Path) -> None:
    paths = write_outputs(tmp_path, result, Verdict())
    data = json.loads(paths["results"].read_text())
    assert {"summary", "by_tag", "cases", "run", "systems"} <= set(data)
    assert list(data["summary"])[: len(REQUIRED_SUMMARY_KEYS)] == list(REQUIRED_SUMMARY_KEYS)
    assert data["summary"]["cases"] == 3
    assert data["summary"]["pass_rate"] == pytest.approx(1 / 3)
    assert set(data["by_tag"]) == {"paraphrase", "single-report", "off-topic"}
    assert set(data["by_tag"]["paraphrase"]) >= set(REQUIRED_SUMMARY_KEYS)
    for case in data["cases"]:
        assert {"id", "tags", "question", "answer", "refused", "citations", "retrieved", "metrics"} <= set(case)
    first = data["cases"][0]
    assert first["retrieved"] == ["c1"] and first["citations"][0]["paragraph_id"] == "p1"
    assert first["metrics"]["hit@1"] == 1.0
    assert data["cases"][1]["missed_facts"] == [["weekly", "every week"]]
    assert data["run"]["corpus"]["documents"] == [{"report_id": "r1", "content_hash": "hash-r1"}]
    assert list(data["systems"]) == ["product"]
    assert data["verdict"]["ok"] is True


def test_junit_has_one_testcase_per_case_with_failure_messages(result: SuiteResult, tmp_path: Path) -> None:
    paths = write_outputs(tmp_path, result, Verdict())
    root = ElementTree.parse(paths["junit"]).getroot()
    suite = root.find("testsuite")
    assert suite is not None and suite.get("tests") == "3" and suite.get("failures") == "2"
    testcases = root.iter("testcase")
    by_name = {case.get("name"): case for case in testcases}
    assert list(by_name) == ["passes", "misses-fact", "answers-unanswerable"]
    assert by_name["passes"].find("failure") is None
    failure = by_name["misses-fact"].find("failure")
    assert failure is not None and "fact not stated: 'weekly' | 'every week'" in failure.get("message", "")
    refusal = by_name["answers-unanswerable"].find("failure")
    assert refusal is not None and "expected a refusal" in refusal.get("message", "")
    assert "Sunny <b>& warm</b>." in (refusal.text or "")


def test_chart_is_a_png(result: SuiteResult, tmp_path: Path) -> None:
    baseline = Baseline(summary={**result.summary, "hit@5": 0.5}, cases={})
    paths = write_outputs(tmp_path, result, Verdict(baseline=baseline), systems=[result])
    data = paths["chart"].read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 5000


def test_report_lists_failing_cases_and_deltas(result: SuiteResult, tmp_path: Path) -> None:
    old_summary = {**result.summary, "fact_recall": 1.0, "hit@5": 0.9}
    baseline = Baseline(summary=old_summary, cases={"passes": True, "misses-fact": True, "answers-unanswerable": False})
    comparison = compare(result.summary, result.case_passes(), baseline.summary, baseline.cases, {"fact_recall": 0.02})
    verdict = Verdict(
        threshold_failures=("hit@5 = 1.000 is below the minimum 2.000",), comparison=comparison, baseline=baseline
    )
    report = write_outputs(tmp_path, result, verdict)["report"].read_text()

    assert "**FAILED**" in report
    assert "- threshold: hit@5 = 1.000 is below the minimum 2.000" in report
    assert "- regression: fact_recall fell from 1.000 to 0.500" in report
    assert "- regression: case misses-fact passed in the baseline and fails now" in report
    assert "passed in the baseline, fail now: misses-fact" in report
    assert "| metric | product | accepted baseline | change |" in report
    assert "| hit@5 | 1.000 | 0.900 | +0.100 |" in report
    assert "| fact_recall | 0.500 | 1.000 | -0.500 |" in report
    assert "## Failing cases (2)" in report
    assert "### misses-fact (paraphrase, single-report)" in report
    assert "**Question:** Visits?" in report
    assert "> Social workers visit children" in report
    assert "- [1] `p2` (r1 p.3): Social workers visit children regularly &amp; know them &lt;well&gt;." in report
    assert "> Sunny &lt;b&gt;&amp; warm&lt;/b&gt;." in report  # never rendered as HTML
    assert "- fact not stated: 'weekly' | 'every week'" in report
    assert "### answers-unanswerable" in report and "expected a refusal" in report
    assert "### passes" not in report
    assert "## By tag" in report


def test_report_puts_other_systems_side_by_side(result: SuiteResult, tmp_path: Path) -> None:
    other = run_suite(ScriptedAnswerer(SCRIPT), CASES, name="bm25")
    report = write_outputs(tmp_path, result, Verdict(), systems=[other])["report"].read_text()
    assert "| metric | product | bm25 |" in report
    assert "No accepted baseline yet" in report
    data = json.loads((tmp_path / "results.json").read_text())
    assert list(data["systems"]) == ["product", "bm25"]
    assert data["systems"]["bm25"]["failing_cases"] == ["misses-fact", "answers-unanswerable"]


def test_baseline_round_trip(result: SuiteResult, tmp_path: Path) -> None:
    path = tmp_path / "eval" / "baseline.json"
    assert load_baseline(path) is None
    write_baseline(path, result)
    loaded = load_baseline(path)
    assert loaded is not None
    assert loaded.cases == {"passes": True, "misses-fact": False, "answers-unanswerable": False}
    assert loaded.summary == json.loads(json.dumps(result.summary))
    assert loaded.run["corpus_hash"] == result.run["corpus"]["hash"]


@pytest.mark.parametrize("text", ["not json", "{}", '{"summary": [], "cases": {}}'])
def test_bad_baseline_file(tmp_path: Path, text: str) -> None:
    path = tmp_path / "baseline.json"
    path.write_text(text)
    with pytest.raises(ConfigError, match="not a baseline file.*--accept-baseline"):
        load_baseline(path)


def test_committed_thresholds_demand_valid_citations() -> None:
    thresholds = load_thresholds(DEFAULT_THRESHOLDS)
    assert thresholds.minimums == {"citation_validity": 1.0}
    assert thresholds.tolerances["hit@5"] == 0.02
    assert "latency_p95_s" not in thresholds.tolerances


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("minimums: {hit@6: 0.9}\n", "unknown metric 'hit@6'"),
        ("minimums: {hit@5: high}\n", "must be a number"),
        ("maximums: {}\n", "only 'minimums' and 'tolerances'"),
        ("tolerances: [0.02]\n", "map of metric to number"),
    ],
)
def test_bad_thresholds_file(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "thresholds.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=problem):
        load_thresholds(path)
