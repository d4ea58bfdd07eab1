"""The blind test set (eval/datasets/test/): frozen, mixed like real users, over reports outside the sample
corpus, every evidence snippet verbatim in a paragraph the project's own loader reads from those reports;
the routing set's labels; and the dev rewrites (eval/datasets/dev/rewrites.yaml) against their originals."""

from __future__ import annotations

import csv
import hashlib
import re
from collections import Counter
from functools import lru_cache
from pathlib import Path

import pytest
import yaml

from core.models import REPORT_TYPES
from core.text import normalise
from eval.dataset import EvalCase, load_cases
from eval.routing import ROUTES, load_routing
from eval.suite import (
    CURRENT,
    DEV_DATASETS,
    REWRITES,
    ROUTING,
    TEST_DIR,
    TEST_REPORTS,
    blind_datasets,
    blind_report_files,
)

DEV_ROUTING = DEV_DATASETS[0].parent / "routing.yaml"

ROOT = Path(__file__).resolve().parents[2]
SHARED_CORPUS = ROOT.parent / "shared" / "corpus"
SAMPLE_MANIFEST = ROOT / "data" / "sample" / "manifest.csv"
FROZEN = TEST_DIR / "FROZEN.sha256"
UNANSWERABLE_KINDS = {"not-in-corpus", "no-inspection-year", "missing-figure", "named-person", "false-premise", "off-topic"}


@lru_cache(maxsize=1)
def _cases() -> tuple[EvalCase, ...]:
    return tuple(load_cases(blind_datasets()))


@lru_cache(maxsize=1)
def _reports() -> tuple[dict[str, str], ...]:
    return tuple(csv.DictReader(TEST_REPORTS.open(encoding="utf-8")))


def _share(tag: str) -> float:
    return sum(tag in case.tags for case in _cases()) / len(_cases())


# ------------------------------------------------------------------------------------------ frozen


def test_batches_are_frozen() -> None:
    """A test case is never edited to match an answer: a changed batch must move to dev, and a new batch be written."""
    _assert_frozen(FROZEN, [*blind_datasets(), ROUTING, TEST_REPORTS, CURRENT])


def _assert_frozen(record: Path, files: list[Path]) -> None:
    """Every file is recorded in `record` (sha256sum's format) and unchanged since."""
    recorded = dict(line.split()[::-1] for line in record.read_text(encoding="utf-8").splitlines() if line.strip())
    assert set(recorded) == {path.name for path in files}, f"every file is recorded in {record.name}"
    for path in files:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        assert digest == recorded[path.name], (
            f"{path.name} changed after it was frozen: move the batch to eval/datasets/dev/ and have a new one "
            "written blind (docs/evaluation.md), never edit a test case"
        )


def test_full_corpus_checks_are_frozen() -> None:
    """The full-corpus checks (issue 19) are blind judges too: each is recorded as written, and a new check is a new
    file, never an edit."""
    full = ROOT / "eval" / "datasets" / "full"
    checks = sorted(full.glob("*.yaml"))
    assert len(checks) >= 2
    _assert_frozen(full / "FROZEN.sha256", checks)


# ------------------------------------------------------------------------------------------ reports


def test_reports_are_outside_the_sample_corpus() -> None:
    rows = _reports()
    sample = list(csv.DictReader(SAMPLE_MANIFEST.open(encoding="utf-8")))
    sample_authorities = {row["local_authority"] for row in sample}
    authorities = {row["local_authority"] for row in rows}
    assert len(rows) >= 50 and len(authorities) >= 25
    assert not authorities & sample_authorities
    assert not {row["document"] for row in rows} & {row["document"] for row in sample}
    assert {row["report_type"] for row in rows} >= {"ilacs_inspection", "focused_visit", "sif_inspection", "area_send_inspection"}
    assert all(row["report_type"] in REPORT_TYPES for row in rows)


needs_shared = pytest.mark.skipif(not SHARED_CORPUS.is_dir(), reason="the shared corpus (../shared/corpus) is absent")


@lru_cache(maxsize=1)
def _paragraphs() -> dict[str, list[str]]:
    from ingest.loaders import load_document

    return {path.name: [normalise(p.text) for p in load_document(path).paragraphs] for path in blind_report_files(SHARED_CORPUS)}


@needs_shared
def test_report_files_match_their_recorded_hashes() -> None:
    assert len(blind_report_files(SHARED_CORPUS)) == len(_reports())


@needs_shared
@pytest.mark.parametrize("case", [c for c in _cases() if c.answerable], ids=lambda c: c.id)
def test_evidence_is_verbatim_paragraph_text(case: EvalCase) -> None:
    paragraphs = _paragraphs()
    missing = [s for s in case.evidence if not any(normalise(s) in text for texts in paragraphs.values() for text in texts)]
    assert not missing, f"evidence not found inside any single paragraph of the test reports: {missing}"


# ------------------------------------------------------------------------------------------ current (issue 19)


def test_current_cases_are_present_tense_questions_about_councils_with_three_reports() -> None:
    cases = load_cases([CURRENT])
    assert len(cases) >= 40
    assert all(c.answerable and "current" in c.tags and "own-words" in c.tags for c in cases)
    assert sum("followup" in c.tags for c in cases) >= 5 and sum("improvements" in c.tags for c in cases) >= 5
    # no year in a current question: it is about now
    assert not [c.id for c in cases if re.search(r"\b(19|20)\d\d\b", c.question)]


@needs_shared
def test_each_current_case_takes_its_evidence_from_one_report_of_a_council_with_three() -> None:
    paragraphs = _paragraphs()
    counts = Counter(row["local_authority"] for row in _reports())
    council = {Path(row["document"]).name: row["local_authority"] for row in _reports()}
    for case in load_cases([CURRENT]):
        holders = [
            {name for name, texts in paragraphs.items() if any(normalise(s) in t for t in texts)} for s in case.evidence
        ]
        common = set.intersection(*holders)
        assert len(common) == 1, (case.id, common)
        assert counts[council[common.pop()]] >= 3, case.id


# ------------------------------------------------------------------------------------------ cases


def test_case_mix_is_like_real_users() -> None:
    cases = _cases()
    counts = Counter(tag for case in cases for tag in case.tags)
    assert len(cases) >= 200
    assert _share("own-words") >= 0.30
    assert _share("followup") >= 0.15
    unanswerable = [case for case in cases if not case.answerable]
    assert len(unanswerable) / len(cases) >= 0.15
    assert all("unanswerable" in case.tags for case in unanswerable)
    assert all(set(case.tags) & UNANSWERABLE_KINDS for case in unanswerable), "each refusal says what kind it is"
    assert all(counts[kind] >= 5 for kind in UNANSWERABLE_KINDS), {kind: counts[kind] for kind in UNANSWERABLE_KINDS}
    for kind, least in {"grade": 30, "date": 10, "list": 10, "comparison": 15, "timeline": 15, "count": 4}.items():
        assert counts[kind] >= least, (kind, counts[kind])
    assert all(case.history for case in cases if "followup" in case.tags)


def test_cases_name_only_indexed_authorities_in_filters() -> None:
    authorities = {row["local_authority"] for row in _reports()}
    filtered = [case for case in _cases() if case.filters.local_authorities]
    assert filtered
    for case in filtered:
        assert set(case.filters.local_authorities) <= authorities, case.id


@needs_shared
def test_answerable_cases_cover_most_reports() -> None:
    """At least 50 of the test reports hold evidence of some case (a case's snippets are matched to reports)."""
    paragraphs = _paragraphs()
    used = {
        name
        for case in _cases()
        for snippet in case.evidence
        for name, texts in paragraphs.items()
        if any(normalise(snippet) in text for text in texts)
    }
    assert len(used) >= 50, len(used)


# ------------------------------------------------------------------------------------------ routing


def test_routing_set_labels() -> None:
    cases = load_routing(ROUTING)
    authorities = {row["local_authority"] for row in _reports()}
    paraphrases = [case for case in cases if case.paraphrase_of]
    assert len(cases) >= 300 and len(paraphrases) >= len(cases) / 2 - 1
    by_id = {case.id: case for case in cases}
    for case in paraphrases:
        original = by_id[case.paraphrase_of or ""]
        assert (case.route, case.authorities, case.time, case.area) == (original.route, original.authorities, original.time, original.area), case.id
        assert case.question != original.question
    counts = Counter(case.route for case in cases)
    assert all(counts[route] >= 12 for route in ROUTES), counts
    assert sum(case.follow_up for case in cases) >= 40
    for case in cases:
        assert set(case.authorities) <= authorities, (case.id, case.authorities)


# ------------------------------------------------------------------------------------------ rewrites


def test_every_dev_question_is_rewritten_twice_keeping_its_expectations() -> None:
    originals = {case.id: case for case in load_cases(DEV_DATASETS)}
    rewrites = load_cases([REWRITES])
    assert len(rewrites) == 2 * len(originals)
    seen = Counter()
    for rewrite in rewrites:
        original_id, _, number = rewrite.id.rpartition("-rw")
        original = originals[original_id]
        seen[original_id] += 1
        assert number in ("1", "2") and "rewrite" in rewrite.tags
        assert rewrite.question != original.question
        assert (rewrite.history, rewrite.filters, rewrite.answerable, rewrite.evidence, rewrite.facts) == (
            original.history,
            original.filters,
            original.answerable,
            original.evidence,
            original.facts,
        )
    assert set(seen.values()) == {2}


def test_rewrites_file_is_generated_from_the_writers_files() -> None:
    """rewrites.yaml is what eval/audit/build_rewrites.py makes of the writers' files: nobody edited a rewrite."""
    writers = ROOT / "eval" / "audit" / "writers"
    written = {}
    for name in ("rewrites_gold.yaml", "rewrites_gold_structured.yaml"):
        for item in yaml.safe_load((writers / name).read_text(encoding="utf-8"))["rewrites"]:
            written[item["id"]] = item["rewrites"]
    for rewrite in load_cases([REWRITES]):
        original_id, _, number = rewrite.id.rpartition("-rw")
        assert rewrite.question == written[original_id][int(number) - 1]


def test_dev_routing_set_labels() -> None:
    """The route model's training questions (chatbot/intent.py): every route, over the sample corpus's authorities."""
    cases = load_routing(DEV_ROUTING)
    sample = {row["local_authority"] for row in csv.DictReader(SAMPLE_MANIFEST.open(encoding="utf-8"))}
    counts = Counter(case.route for case in cases)
    assert len(cases) >= 600 and all(counts[route] >= 20 for route in ROUTES), counts
    assert all(set(case.authorities) <= sample for case in cases)
    # written apart, the two sets share only a few stock questions ("Which councils do you have reports for?")
    shared = {case.question for case in cases} & {case.question for case in load_routing(ROUTING)}
    assert len(shared) <= 10, sorted(shared)


def test_dev_routing_supplement_labels() -> None:
    """The supplement (whole-service questions in councillors' words, narrow ones that sound general, improvement
    questions without "improve"): over the sample corpus's authorities, and none a question of the test routing set."""
    cases = load_routing(DEV_ROUTING.parent / "routing_dc.yaml")
    sample = {row["local_authority"] for row in csv.DictReader(SAMPLE_MANIFEST.open(encoding="utf-8"))}
    assert Counter(case.route for case in cases) == {"overview": 70, "passage": 50, "improvements": 30}
    assert all(case.authorities and set(case.authorities) <= sample for case in cases)
    assert not {case.question for case in cases} & {case.question for case in load_routing(ROUTING)}
    assert not any("improv" in case.question.lower() for case in cases if case.route == "improvements")
