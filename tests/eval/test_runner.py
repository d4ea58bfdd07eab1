"""The runner, the `eval` command's exit statuses and baseline file, and the comparison baselines.

The product answerer is stood in for by a scripted QuestionAnswerer (an injected collaborator):
it returns fixed answers built from a small dict of paragraphs. The baselines run for real over
two documents of the committed sample corpus, read by the project's own loader.
"""

from __future__ import annotations

import argparse
import json
import shutil
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from core.models import Answer, Citation, Filters, Paragraph, Report, ReportMetadata, RetrievedChunk, Turn
from core.settings import Settings
from eval import cli
from eval.dataset import EvalCase, load_cases
from eval.runner import run_suite, settings_record

ROOT = Path(__file__).resolve().parents[2]
Capture = pytest.CaptureFixture[str]
SAMPLE = ROOT / "data" / "sample"

PARAGRAPHS = {
    "bucks-1": Paragraph(
        "bucks-1", "bucks", "The local authority is in touch with the vast majority of its care leavers.", 3, 0
    ),
    "bucks-2": Paragraph("bucks-2", "bucks", "Foster carers spoke positively about the support they received.", 2, 1),
    "bucks-3": Paragraph("bucks-3", "bucks", "Leaders have a clear understanding of the service’s strengths.", 1, 2),
}
REPORT = Report(
    report_id="bucks",
    source="bucks.pdf",
    content_hash="abc123",
    title="Buckinghamshire focused visit",
    metadata=ReportMetadata(
        local_authority="Buckinghamshire", report_type="focused_visit", published=date(2021, 4, 12)
    ),
)


def cite(paragraph_id: str, marker: str = "1", text: str | None = None) -> Citation:
    paragraph = PARAGRAPHS.get(paragraph_id)
    return Citation(
        marker=marker,
        paragraph_id=paragraph_id,
        report_id="bucks",
        local_authority="Buckinghamshire",
        report_type="focused_visit",
        published="2021-04-12",
        page=paragraph.page if paragraph else 1,
        paragraph_number=None,
        heading="",
        text=text if text is not None else (paragraph.text if paragraph else "made up"),
        source="bucks.pdf",
    )


def answer(text: str, *paragraph_ids: str, refused: bool = False, timings: dict[str, float] | None = None) -> Answer:
    return Answer(
        answer=text,
        refused=refused,
        citations=tuple(cite(pid, str(n)) for n, pid in enumerate(paragraph_ids, start=1)),
        retrieved=tuple(
            RetrievedChunk(chunk_id=f"chunk-{pid}", paragraph_ids=(pid,), score=1.0, text=PARAGRAPHS[pid].text)
            for pid in (*paragraph_ids, *(p for p in PARAGRAPHS if p not in paragraph_ids))
            if pid in PARAGRAPHS
        ),
        timings=timings or {},
    )


class ScriptedAnswerer:
    """A real QuestionAnswerer that returns a fixed Answer per question and records what it was asked."""

    def __init__(self, script: dict[str, Answer]) -> None:
        self.script = script
        self.calls: list[tuple[str, tuple[Turn, ...], Filters | None]] = []

    def ask(self, question: str, history: Sequence[Turn] = (), filters: Filters | None = None) -> Answer:
        self.calls.append((question, tuple(history), filters))
        return self.script[question]

    def paragraph(self, paragraph_id: str) -> Paragraph | None:
        return PARAGRAPHS.get(paragraph_id)

    def reports(self) -> list[Report]:
        return [REPORT]


DATASET = """
cases:
  - id: care-leavers
    question: What did inspectors say about care leavers?
    filters: {local_authority: Buckinghamshire}
    evidence: ["in touch with the vast majority of its care leavers"]
    facts: [["vast majority"]]
    tags: [paraphrase]
  - id: foster-followup
    question: And what about foster carers?
    history:
      - user: What did inspectors say about care leavers?
        assistant: The authority is in touch with most of them.
    evidence: ["spoke positively about the support"]
    tags: [followup]
  - id: weather
    question: What will the weather be tomorrow?
    answerable: false
    tags: [off-topic]
"""

GOOD = {
    "What did inspectors say about care leavers?": answer(
        "It is in touch with the vast majority of its care leavers [1].",
        "bucks-1",
        timings={"retrieval_s": 0.01, "generation_s": 0.02},
    ),
    "And what about foster carers?": answer("Foster carers spoke positively [1].", "bucks-2"),
    "What will the weather be tomorrow?": answer("The reports do not answer this.", refused=True),
}


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    path = tmp_path / "cases.yaml"
    path.write_text(DATASET, encoding="utf-8")
    return path


def test_run_suite_asks_every_case_with_history_and_filters(dataset: Path) -> None:
    cases = load_cases([dataset])
    answerer = ScriptedAnswerer(GOOD)
    result = run_suite(answerer, cases, name="product", settings=Settings(), model="extractive")

    assert [call[0] for call in answerer.calls] == [case.question for case in cases]
    assert answerer.calls[0][2] == Filters(local_authorities=("Buckinghamshire",))
    earlier = Turn("What did inspectors say about care leavers?", "The authority is in touch with most of them.")
    assert answerer.calls[1][1] == (earlier,)
    assert result.case_passes() == {"care-leavers": True, "foster-followup": True, "weather": True}
    assert result.summary["pass_rate"] == 1.0 and result.summary["cases"] == 3
    assert result.summary["citation_validity"] == 1.0
    assert result.summary["refusal_accuracy_unanswerable"] == 1.0
    first = result.cases[0]
    assert first.timings["retrieval_s"] == 0.01 and first.timings["generation_s"] == 0.02
    assert first.timings["latency_s"] >= 0.0
    assert "retrieval_s" not in result.cases[1].timings  # not reported by the answerer
    assert set(result.by_tag) == {"paraphrase", "followup", "off-topic"}


def test_run_records_what_is_needed_to_reproduce_it(dataset: Path) -> None:
    settings = Settings(llm_api_key="sk-very-secret", password="hunter2")  # type: ignore[arg-type]
    cases = load_cases([dataset])
    result = run_suite(ScriptedAnswerer(GOOD), cases, name="product", settings=settings, model="extractive")
    run = result.run
    assert run["corpus"]["documents"] == [{"report_id": "bucks", "content_hash": "abc123"}]
    assert len(run["corpus"]["hash"]) == 64
    assert run["model"] == "extractive"
    assert set(run["datasets"]) == {str(dataset)} and len(run["datasets"][str(dataset)]) == 64
    assert run["settings"]["top_k"] == settings.top_k
    assert "llm_api_key" not in run["settings"] and "password" not in run["settings"]
    assert "sk-very-secret" not in json.dumps(run) and "hunter2" not in json.dumps(run)
    assert run["git"] is None or len(run["git"]["commit"]) == 40


def test_settings_record_from_a_mapping() -> None:
    assert settings_record({"top_k": 5, "index_dir": Path("/x"), "api_key": "s"}) == {"top_k": 5, "index_dir": "/x"}
    assert settings_record(None) == {}


# --- the eval command ---------------------------------------------------------------------------


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="ofsted-qa eval")
    cli.add_arguments(parser)
    return parser.parse_args(list(argv))


def run_cli(argv: list[str], answerer: object, capsys: Capture) -> tuple[int, str, str]:
    code = cli.run(parse(*argv), answerer, Settings())  # type: ignore[arg-type]
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_exit_1_when_a_case_flips_from_pass_to_fail(dataset: Path, tmp_path: Path, capsys: Capture) -> None:
    baseline = tmp_path / "baseline.json"
    common = ["--dataset", str(dataset), "--baseline", str(baseline)]

    accept = ["--out", str(tmp_path / "first"), "--accept-baseline"]
    code, out, _ = run_cli([*common, *accept], ScriptedAnswerer(GOOD), capsys)
    assert code == 0, out
    stored = json.loads(baseline.read_text())["baselines"]
    assert len(stored) == 1 and set(stored[0]["case_hashes"]) == {"care-leavers", "foster-followup", "weather"}
    assert stored[0]["cases"] == {"care-leavers": True, "foster-followup": True, "weather": True}
    assert stored[0]["summary"]["pass_rate"] == 1.0

    code, out, _ = run_cli([*common, "--out", str(tmp_path / "same")], ScriptedAnswerer(GOOD), capsys)
    assert code == 0, out

    worse = dict(GOOD)
    worse["And what about foster carers?"] = answer("Leaders understand strengths [1].", "bucks-3")
    out_dir = tmp_path / "second"
    code, out, _ = run_cli([*common, "--out", str(out_dir)], ScriptedAnswerer(worse), capsys)
    assert code == 1
    assert "foster-followup" in out
    report = (out_dir / "report.md").read_text()
    assert "passed in the baseline, fail now: foster-followup" in report
    assert "### foster-followup" in report  # listed among the failing cases
    assert json.loads(baseline.read_text())["baselines"][0]["cases"]["foster-followup"] is True  # baseline untouched

    accept = ["--out", str(tmp_path / "accept"), "--accept-baseline"]
    code, out, _ = run_cli([*common, *accept], ScriptedAnswerer(worse), capsys)
    assert code == 0, out  # the regression is accepted deliberately
    stored = json.loads(baseline.read_text())["baselines"]
    assert len(stored) == 1 and stored[0]["cases"]["foster-followup"] is False  # replaced, not added


def test_a_baseline_judges_only_the_cases_it_was_made_on(dataset: Path, tmp_path: Path, capsys: Capture) -> None:
    """Each set of datasets keeps its own baseline; a run on other cases is reported, never called a regression."""
    baseline = tmp_path / "baseline.json"
    accept = ["--baseline", str(baseline), "--accept-baseline"]
    assert run_cli(["--dataset", str(dataset), "--out", str(tmp_path / "a"), *accept], ScriptedAnswerer(GOOD), capsys)[0] == 0

    other = tmp_path / "other.yaml"
    other.write_text(DATASET.replace("id: care-leavers", "id: care-leavers-elsewhere").replace("id: weather", "id: rain"))
    worse = dict(GOOD)
    worse["What did inspectors say about care leavers?"] = answer("Leaders understand strengths [1].", "bucks-3")
    worse["And what about foster carers?"] = answer("Leaders understand strengths [1].", "bucks-3")
    code, out, _ = run_cli(["--dataset", str(other), "--baseline", str(baseline), "--out", str(tmp_path / "b")], ScriptedAnswerer(worse), capsys)
    # foster-followup is the same case in both files, so it alone is compared, and it regressed
    assert code == 1
    assert "1 of these 3 cases are unchanged" in out and "case foster-followup passed in the baseline" in out
    assert "pass_rate fell" not in out  # the summaries are of other cases: not compared
    report = (tmp_path / "b" / "report.md").read_text()
    assert "| accepted baseline |" not in report and "only they are compared, case by case" in report

    unrelated = tmp_path / "unrelated.yaml"
    unrelated.write_text(DATASET.replace("And what about foster carers?", "And what about their foster carers?"))
    worse["And what about their foster carers?"] = worse["And what about foster carers?"]
    code, out, _ = run_cli(["--dataset", str(unrelated), "--baseline", str(baseline), "--out", str(tmp_path / "c")], ScriptedAnswerer(worse), capsys)
    assert code == 1  # care-leavers is unchanged and now fails
    edited = tmp_path / "edited.yaml"
    edited.write_text(DATASET.replace("What did inspectors say about care leavers?", "What about care leavers?"))
    worse["What about care leavers?"] = worse["What did inspectors say about care leavers?"]
    no_shared = edited.read_text().replace("id: foster-followup", "id: foster-2")
    edited.write_text(no_shared.replace("What will the weather", "What will the sky"))
    worse["What will the sky be tomorrow?"] = GOOD["What will the weather be tomorrow?"]
    code, out, _ = run_cli(["--dataset", str(edited), "--baseline", str(baseline), "--out", str(tmp_path / "d")], ScriptedAnswerer(worse), capsys)
    assert code == 0, out  # no case of the baseline is asked again unchanged: figures only
    assert "No accepted baseline for these cases" in out
    assert json.loads((tmp_path / "d" / "results.json").read_text())["verdict"]["regressions"] == []

    # a second dataset's baseline is kept beside the first; each run finds its own
    assert run_cli(["--dataset", str(edited), "--out", str(tmp_path / "e"), *accept], ScriptedAnswerer(worse), capsys)[0] == 0
    stored = json.loads(baseline.read_text())["baselines"]
    assert len(stored) == 2
    code, out, _ = run_cli(["--dataset", str(dataset), "--baseline", str(baseline), "--out", str(tmp_path / "f")], ScriptedAnswerer(GOOD), capsys)
    assert code == 0 and "No accepted baseline" not in out and "unchanged" not in out


def _rerun_worse_against_edited_baseline(
    dataset: Path, tmp_path: Path, capsys: Capture, edit: Callable[[dict], object]
) -> tuple[int, str]:
    """Accept a baseline, let `edit` rewrite the stored JSON, then rerun with foster-followup now failing."""
    baseline = tmp_path / "baseline.json"
    accept = ["--dataset", str(dataset), "--baseline", str(baseline), "--accept-baseline", "--out", str(tmp_path / "a")]
    assert run_cli(accept, ScriptedAnswerer(GOOD), capsys)[0] == 0
    baseline.write_text(json.dumps(edit(json.loads(baseline.read_text()))))
    worse = dict(GOOD)
    worse["And what about foster carers?"] = answer("Leaders understand strengths [1].", "bucks-3")
    code, out, _ = run_cli(["--dataset", str(dataset), "--baseline", str(baseline), "--out", str(tmp_path / "b")], ScriptedAnswerer(worse), capsys)
    return code, out


def test_a_baseline_over_another_corpus_is_not_compared(dataset: Path, tmp_path: Path, capsys: Capture) -> None:
    def other_corpus(stored: dict) -> dict:
        stored["baselines"][0]["run"]["corpus_hash"] = "0" * 64
        return stored

    code, out = _rerun_worse_against_edited_baseline(dataset, tmp_path, capsys, other_corpus)
    assert code == 0 and "measured over another corpus" in out


def test_a_first_format_baseline_still_judges_its_own_datasets(dataset: Path, tmp_path: Path, capsys: Capture) -> None:
    def first_format(stored: dict) -> dict:
        only = stored["baselines"][0]
        del only["case_hashes"]
        return only

    code, out = _rerun_worse_against_edited_baseline(dataset, tmp_path, capsys, first_format)
    assert code == 1 and "pass_rate fell from 1.000" in out


def test_accepting_a_baseline_for_one_tag_is_refused(dataset: Path, tmp_path: Path, capsys: Capture) -> None:
    argv = ["--dataset", str(dataset), "--tag", "followup", "--accept-baseline", "--baseline", str(tmp_path / "b.json")]
    code, _, err = run_cli(argv, ScriptedAnswerer(GOOD), capsys)
    assert code == 2 and "without --tag" in err and not (tmp_path / "b.json").exists()


def test_fail_to_pass_is_named_but_not_a_failure(dataset: Path, tmp_path: Path, capsys: Capture) -> None:
    baseline = tmp_path / "baseline.json"
    worse = dict(GOOD)
    worse["What will the weather be tomorrow?"] = answer("Sunny [1].", "bucks-2")
    common = ["--dataset", str(dataset), "--baseline", str(baseline)]
    accept = ["--out", str(tmp_path / "a"), "--accept-baseline"]
    assert run_cli([*common, *accept], ScriptedAnswerer(worse), capsys)[0] == 0
    code, out, _ = run_cli([*common, "--out", str(tmp_path / "b")], ScriptedAnswerer(GOOD), capsys)
    assert code == 0
    assert "now passing: weather" in out
    assert "failed in the baseline, pass now: weather" in (tmp_path / "b" / "report.md").read_text()


def test_exit_1_when_a_threshold_fails(dataset: Path, tmp_path: Path, capsys: Capture) -> None:
    invalid = dict(GOOD)
    invalid["What did inspectors say about care leavers?"] = Answer(
        answer="In touch with the vast majority [1].",
        refused=False,
        citations=(cite("bucks-1", text="The local authority is in touch with some of its care leavers."),),
    )
    argv = ["--dataset", str(dataset), "--baseline", str(tmp_path / "none.json"), "--out", str(tmp_path / "out")]
    code, out, _ = run_cli(argv, ScriptedAnswerer(invalid), capsys)
    assert code == 1
    assert "citation_validity = 0.500 is below the minimum 1.000" in out  # mean of 0/1 and 1/1 (weather cites nothing)


def test_exit_2_for_a_bad_dataset_before_building_the_answerer(tmp_path: Path, capsys: Capture) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "cases:\n  - id: broken-date\n    question: Q?\n    evidence: [x]\n    filters: {published_from: 2021-02-30}\n"
    )
    built: list[bool] = []

    def factory() -> ScriptedAnswerer:
        built.append(True)
        return ScriptedAnswerer(GOOD)

    code, out, err = run_cli(["--dataset", str(bad), "--out", str(tmp_path / "out")], factory, capsys)
    assert code == 2
    assert err.startswith("Error: ")
    assert "case 'broken-date'" in err and "filters.published_from" in err
    assert not built and not (tmp_path / "out").exists()


def test_tag_filter_and_factory(dataset: Path, tmp_path: Path, capsys: Capture) -> None:
    answerer = ScriptedAnswerer(GOOD)
    argv = ["--dataset", str(dataset), "--tag", "followup", "--out", str(tmp_path / "out")]
    argv += ["--baseline", str(tmp_path / "b.json")]
    code, _, _ = run_cli(argv, lambda: answerer, capsys)
    assert code == 0
    assert [call[0] for call in answerer.calls] == ["And what about foster carers?"]
    code, _, err = run_cli(["--dataset", str(dataset), "--tag", "nope"], answerer, capsys)
    assert code == 2 and "'nope'" in err


# --- the comparison baselines, over real documents of the sample corpus -------------------------

SMALL_CORPUS = (
    "seed/buckinghamshire_focused-visit_2021-04-12.md",
    "reports/focused_visit/calderdale_focused-visit_2022-03-21.pdf",
)
CORPUS_DATASET = """
cases:
  - id: bucks-care-leavers
    question: Is the local authority in touch with its care leavers?
    filters: {local_authority: Buckinghamshire}
    evidence: ["in touch with the vast majority of its care leavers"]
    tags: [single-report]
  - id: calderdale-pathway-advisers
    question: What are pathway advisers in Calderdale?
    filters: {local_authority: Calderdale, report_type: focused_visit}
    evidence: ["Pathway advisers (the local term for personal advisers)"]
    tags: [single-report]
  - id: not-in-corpus
    question: What did inspectors say about Devon's adoption service?
    answerable: false
    tags: [unanswerable]
"""


@pytest.fixture(scope="module")
def small_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("corpus")
    for relative in SMALL_CORPUS:
        shutil.copy(SAMPLE / relative, root / Path(relative).name)
    return root


@pytest.fixture(scope="module")
def corpus_cases(tmp_path_factory: pytest.TempPathFactory) -> list[EvalCase]:
    path = tmp_path_factory.mktemp("data") / "corpus.yaml"
    path.write_text(CORPUS_DATASET, encoding="utf-8")
    return load_cases([path])


def test_bm25_baseline_is_scored_by_the_same_runner(small_corpus: Path, corpus_cases: list[EvalCase]) -> None:
    from eval.baselines import BM25Baseline, load_documents

    documents = load_documents(small_corpus)
    baseline = BM25Baseline(documents)
    assert {r.report_id for r in baseline.reports()} == {d.report.report_id for d in documents}
    assert all(len(chunk.text) <= 1000 for chunk in baseline.chunks)

    result = run_suite(baseline, corpus_cases, name=baseline.name)
    by_id = {case.case.id: case for case in result.cases}
    assert result.summary["citation_validity"] == 1.0  # its citations are its own chunks, quoted exactly
    expected = (("bucks-care-leavers", "Buckinghamshire"), ("calderdale-pathway-advisers", "Calderdale"))
    for case_id, authority in expected:
        answered = by_id[case_id].answer
        assert not answered.refused and 1 <= len(answered.citations) <= 4
        assert {c.local_authority for c in answered.citations} == {authority}  # the filter was applied
        assert by_id[case_id].score.metrics["hit@5"] == 1.0
    assert not by_id["not-in-corpus"].answer.refused  # the naive answer rule never refuses when it finds words
    assert baseline.ask("the of and").refused  # nothing retrieved: refuses
    assert baseline.paragraph("no-such-chunk") is None


def test_with_baselines_runs_naive_and_bm25_side_by_side(
    small_corpus: Path, tmp_path: Path, capsys: Capture
) -> None:
    dataset = tmp_path / "corpus.yaml"
    dataset.write_text(CORPUS_DATASET, encoding="utf-8")
    script = {
        "Is the local authority in touch with its care leavers?": answer("The vast majority [1].", "bucks-1"),
        "What are pathway advisers in Calderdale?": answer("Nothing found.", refused=True),
        "What did inspectors say about Devon's adoption service?": answer("The reports do not say.", refused=True),
    }
    out_dir = tmp_path / "out"
    argv = ["--dataset", str(dataset), "--out", str(out_dir), "--baseline", str(tmp_path / "b.json")]
    argv += ["--with-baselines", "--corpus", str(small_corpus)]
    code, out, _ = run_cli(argv, ScriptedAnswerer(script), capsys)
    assert code == 0, out
    results = json.loads((out_dir / "results.json").read_text())
    assert list(results["systems"]) == ["product", "naive-langchain", "bm25"]
    naive = results["systems"]["naive-langchain"]["summary"]
    assert naive["citation_validity"] == 1.0
    assert naive["hit@5"] is not None and naive["cases"] == 3
    assert "| metric | product | naive-langchain | bm25 |" in (out_dir / "report.md").read_text()
    assert "naive-langchain" in out and "bm25" in out
    ElementTree.parse(out_dir / "junit.xml")


def test_naive_langchain_baseline_applies_filters_as_chroma_where(small_corpus: Path) -> None:
    from eval.baselines import NaiveLangChainBaseline, chroma_where, load_documents

    assert chroma_where(Filters()) is None
    assert chroma_where(Filters(local_authorities=("Calderdale",))) == {"local_authority": {"$in": ["Calderdale"]}}
    with NaiveLangChainBaseline(load_documents(small_corpus)) as baseline:
        answered = baseline.ask("What do care leavers say?", filters=Filters(local_authorities=("Calderdale",)))
        assert not answered.refused and len(answered.citations) == 4
        assert {c.local_authority for c in answered.citations} == {"Calderdale"}
        assert [c.paragraph_id for c in answered.citations] == [r.chunk_id for r in answered.retrieved]
        first = answered.citations[0]
        assert baseline.paragraph(first.paragraph_id) is not None
        assert baseline.paragraph(first.paragraph_id).text == first.text  # type: ignore[union-attr]
        assert answered.answer.endswith("[1]") and answered.timings["retrieval_s"] < 30
        nothing = baseline.ask("care leavers", filters=Filters(local_authorities=("Devon",)))
        assert nothing.refused and not nothing.citations


# --- the currency metrics of a `current` case (issue 19) -----------------------------------------------

OLD_REPORT = Report(
    report_id="bucks-old",
    source="bucks-old.pdf",
    content_hash="def456",
    title="Buckinghamshire SIF",
    metadata=ReportMetadata(local_authority="Buckinghamshire", report_type="sif_inspection", published=date(2018, 1, 29)),
)
OLD_PARAGRAPH = Paragraph("old-1", "bucks-old", "Too many care leavers are not in touch with the local authority.", 4, 0)


class ParagraphListingAnswerer(ScriptedAnswerer):
    """Also lists each report's paragraphs, as the product's answerer does (eval.runner.ReportParagraphs)."""

    def paragraph(self, paragraph_id: str) -> Paragraph | None:
        return OLD_PARAGRAPH if paragraph_id == "old-1" else PARAGRAPHS.get(paragraph_id)

    def reports(self) -> list[Report]:
        return [REPORT, OLD_REPORT]

    def report_paragraphs(self, report_id: str) -> list[Paragraph]:
        return list(PARAGRAPHS.values()) if report_id == "bucks" else [OLD_PARAGRAPH]


def test_a_current_case_must_lead_with_the_latest_report_holding_its_evidence(tmp_path: Path) -> None:
    path = tmp_path / "current.yaml"
    path.write_text(
        """
cases:
  - id: now
    question: Are Bucks care leavers kept in touch with?
    evidence: ["in touch with the vast majority of its care leavers"]
    facts: [["vast majority"]]
    tags: [current]
  - id: now-led-by-old
    question: Are Bucks care leavers kept in touch with now?
    evidence: ["in touch with the vast majority of its care leavers"]
    facts: [["vast majority"]]
    tags: [current]
  - id: not-current
    question: What did inspectors say about care leavers?
    evidence: ["in touch with the vast majority of its care leavers"]
    facts: [["vast majority"]]
    tags: [passage]
""",
        encoding="utf-8",
    )
    old = replace(cite("bucks-1"), paragraph_id="old-1", report_id="bucks-old", published="2018-01-29", text=OLD_PARAGRAPH.text)
    latest = answer("It is in touch with the vast majority of its care leavers [1].", "bucks-1")
    led_by_old = Answer(
        answer="Too many were not in touch [1]; now the vast majority are [2].",
        refused=False,
        citations=(old, cite("bucks-1", "2")),
    )
    script = {
        "Are Bucks care leavers kept in touch with?": latest,
        "Are Bucks care leavers kept in touch with now?": led_by_old,
        "What did inspectors say about care leavers?": latest,
    }
    result = run_suite(ParagraphListingAnswerer(script), load_cases([path]), name="product")
    metrics = {r.case.id: r.score.metrics for r in result.cases}
    assert (metrics["now"]["leads_with_latest"], metrics["now"]["currency"]) == (1.0, 1.0)
    # both pass the EVAL_FORMAT rule; only the currency check sees that the older report came first
    assert all(r.passed for r in result.cases)
    assert (metrics["now-led-by-old"]["leads_with_latest"], metrics["now-led-by-old"]["currency"]) == (0.0, 0.0)
    assert metrics["not-current"]["currency"] is None
    assert result.summary["currency"] == 0.5
    assert result.by_tag["current"]["leads_with_latest"] == 0.5


def test_currency_is_left_out_when_the_answerer_cannot_list_paragraphs(dataset: Path, tmp_path: Path) -> None:
    path = tmp_path / "current.yaml"
    path.write_text(DATASET.replace("tags: [paraphrase]", "tags: [current]"), encoding="utf-8")
    result = run_suite(ScriptedAnswerer(GOOD), load_cases([path]), name="product")
    assert result.summary["currency"] is None
