"""The structured-questions gold dataset (eval/datasets/gold_structured.yaml, issue 5): structure, the
metadata / comparison / timeline mix, ids and questions distinct from gold.yaml, and every evidence
snippet checked verbatim against the paragraphs the project's own loader reads from the bundled
sample corpus. Comparison and timeline cases must cite at least two different reports."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date
from functools import lru_cache
from pathlib import Path

import pytest
import yaml

from core.models import REPORT_TYPES
from core.text import normalise
from eval.dataset import load_cases
from ingest.loaders import iter_document_paths, load_document

ROOT = Path(__file__).resolve().parents[2]
DATASET = ROOT / "eval" / "datasets" / "dev" / "gold_structured.yaml"
GOLD = ROOT / "eval" / "datasets" / "dev" / "gold.yaml"
SAMPLE = ROOT / "data" / "sample"

KINDS = ("metadata", "comparison", "timeline")
MIN_PER_KIND = 16
CASE_KEYS = {"id", "question", "history", "filters", "answerable", "evidence", "facts", "tags"}
FILTER_KEYS = {"local_authority", "report_type", "published_from", "published_to"}
SAMPLE_AUTHORITIES = {"Buckinghamshire", "Trafford", "Camden", "Islington", "Blackpool", "Calderdale"}
KEBAB = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# A judgement row quoted whole may be shorter than six words ("Overall effectiveness: Outstanding").
JUDGEMENT_ROW = re.compile(
    r"^[a-z ,'-]+: (outstanding|good|requires improvement to be good|inadequate)\.?$"
)


# ------------------------------------------------------------------------------------------ helpers


@lru_cache(maxsize=1)
def _cases() -> list[dict]:
    data = yaml.safe_load(DATASET.read_text(encoding="utf-8"))
    assert isinstance(data, dict) and set(data) == {"cases"}, "top level must be {cases: [...]}"
    assert isinstance(data["cases"], list) and data["cases"]
    return data["cases"]


@lru_cache(maxsize=1)
def _gold_cases() -> list[dict]:
    return yaml.safe_load(GOLD.read_text(encoding="utf-8"))["cases"]


def _answerable(case: dict) -> bool:
    return case.get("answerable", True) is not False


def _kind(case: dict) -> str:
    kinds = [t for t in case.get("tags", []) if t in KINDS]
    assert len(kinds) == 1, f"{case.get('id')}: needs exactly one of {KINDS}, has {kinds}"
    return kinds[0]


def _of_kind(kind: str, *, answerable: bool | None = None) -> list[dict]:
    return [
        c
        for c in _cases()
        if kind in c.get("tags", []) and (answerable is None or _answerable(c) == answerable)
    ]


class _Report:
    """One sample report: its identity (the seed Markdown copy shares the PDF's), paragraphs and metadata."""

    def __init__(self, path: Path) -> None:
        parsed = load_document(path)
        meta = parsed.report.metadata
        self.name = path.name
        self.authority = meta.local_authority
        self.published: date | None = meta.published
        self.key = (meta.local_authority, meta.report_type, meta.published)
        self.paragraphs = [normalise(p.text) for p in parsed.paragraphs]
        self.text = " ".join(self.paragraphs)
        self.metadata_text = normalise(" ".join(_metadata_words(meta)))

    def contains(self, snippet: str) -> bool:
        needle = normalise(snippet)
        return any(needle in paragraph for paragraph in self.paragraphs)


def _metadata_words(meta) -> list[str]:
    """What a structured answer may state from a report's metadata besides its text."""
    words = [meta.local_authority or "", meta.report_type.replace("_", " "), meta.visit_dates_raw or ""]
    for day in (meta.published, meta.letter_date, meta.visit_start, meta.visit_end):
        if day:
            words += [day.isoformat(), f"{day.day} {day:%B %Y}", f"{day:%B %Y}", str(day.year)]
    words += list(meta.inspectors)
    words += [f"{j.label}: {j.grade}" for j in meta.judgements]
    return words


@lru_cache(maxsize=1)
def _reports() -> tuple[_Report, ...]:
    return tuple(_Report(path) for path in iter_document_paths(SAMPLE))


def _reports_containing(snippet: str) -> dict[tuple, _Report]:
    """The distinct reports (by identity, not file) with a paragraph containing the snippet."""
    return {r.key: r for r in _reports() if r.contains(snippet)}


def _answerable_ids() -> list[dict]:
    return [c for c in _cases() if _answerable(c)]


# ------------------------------------------------------------------------------------------ structure


def test_dataset_passes_the_eval_validator():
    cases = load_cases([DATASET])
    assert len(cases) == len(_cases())
    # ids are unique across both gold files, so they can be evaluated together
    both = load_cases([GOLD, DATASET])
    assert len(both) == len(cases) + len(_gold_cases())


def test_ids_unique_kebab_and_new():
    ids = [c.get("id") for c in _cases()]
    dupes = [i for i, n in Counter(ids).items() if n > 1]
    assert not dupes, f"duplicate ids: {dupes}"
    bad = [i for i in ids if not isinstance(i, str) or not KEBAB.match(i)]
    assert not bad, f"ids not kebab-case: {bad}"
    clash = set(ids) & {c["id"] for c in _gold_cases()}
    assert not clash, f"ids already used in gold.yaml: {sorted(clash)}"


def test_questions_not_in_gold():
    gold = {normalise(c["question"]) for c in _gold_cases()}
    repeated = [c["id"] for c in _cases() if normalise(c["question"]) in gold]
    assert not repeated, f"questions repeated from gold.yaml: {repeated}"
    questions = [normalise(c["question"]) for c in _cases()]
    assert len(set(questions)) == len(questions), "a question appears twice"


@pytest.mark.parametrize("case", _cases(), ids=lambda c: str(c.get("id")))
def test_case_structure(case):
    unknown = set(case) - CASE_KEYS
    assert not unknown, f"unknown keys {unknown}"
    assert isinstance(case.get("question"), str) and case["question"].strip()
    tags = case.get("tags")
    assert isinstance(tags, list) and tags and all(isinstance(t, str) and t for t in tags)
    assert isinstance(case.get("answerable", True), bool)
    _kind(case)

    if _answerable(case):
        evidence, facts = case.get("evidence"), case.get("facts")
        assert isinstance(evidence, list) and evidence, "answerable case needs evidence"
        for snippet in evidence:
            assert isinstance(snippet, str) and snippet.strip()
            assert not re.match(r"^\s*(\d+\.|[◼•\-–])\s", snippet), f"starts with a number/bullet: {snippet!r}"
            words = len(snippet.split())
            if words < 6:
                assert JUDGEMENT_ROW.match(normalise(snippet)), f"under 6 words and not a judgement row: {snippet!r}"
            else:
                assert words <= 25, f"evidence should be 6-25 words, got {words}: {snippet!r}"
        assert len(set(map(normalise, evidence))) == len(evidence), "an evidence snippet is repeated"
        assert isinstance(facts, list) and facts, "answerable case needs facts"
        for item in facts:
            assert isinstance(item, list) and item, f"fact item must be a non-empty list: {item!r}"
            assert all(isinstance(a, str) and a.strip() for a in item)
        assert "unanswerable" not in tags and "false-premise" not in tags
    else:
        assert not case.get("evidence") and not case.get("facts"), "unanswerable case has evidence/facts"
        assert "unanswerable" in tags and "false-premise" in tags

    history = case.get("history")
    if "followup" in tags:
        assert isinstance(history, list) and history, "follow-up needs history"
    if history is not None:
        assert isinstance(history, list) and history
        for turn in history:
            assert set(turn) <= {"user", "assistant"} and isinstance(turn.get("user"), str) and turn["user"].strip()

    filters = case.get("filters")
    if filters is not None:
        assert isinstance(filters, dict) and filters and set(filters) <= FILTER_KEYS, filters
        if "local_authority" in filters:
            assert filters["local_authority"] in SAMPLE_AUTHORITIES
        if "report_type" in filters:
            assert filters["report_type"] in REPORT_TYPES
        for key in ("published_from", "published_to"):
            if key in filters:
                date.fromisoformat(str(filters[key]))
        assert "filtered" in tags, "a case with filters is tagged 'filtered'"


def test_case_mix():
    counts = Counter(_kind(c) for c in _cases())
    short = {k: counts[k] for k in KINDS if counts[k] < MIN_PER_KIND}
    assert not short, f"kinds below {MIN_PER_KIND} cases: {short}"

    false_premise = [c for c in _of_kind("metadata", answerable=False) if "false-premise" in c["tags"]]
    assert len(false_premise) >= 3
    metadata = _of_kind("metadata", answerable=True)
    for tag, least in (("grade", 6), ("date", 4), ("inspector", 4), ("list", 6), ("count", 1)):
        assert sum(tag in c["tags"] for c in metadata) >= least, f"too few metadata cases tagged {tag}"
    assert all(_answerable(c) for c in _of_kind("comparison") + _of_kind("timeline"))
    filtered = [c for c in _cases() if c.get("filters")]
    assert len(filtered) >= 6
    assert any({"published_from", "published_to"} & set(c["filters"]) for c in filtered)
    assert any("report_type" in c["filters"] for c in filtered)


# ------------------------------------------------------------------------------------------ evidence


def test_sample_corpus_present():
    reports = _reports()
    assert len(reports) == 15
    assert len({r.key for r in reports}) == 14  # the seed Markdown letter is the 2021 Bucks PDF again


@pytest.mark.parametrize("case", _answerable_ids(), ids=lambda c: c["id"])
def test_evidence_is_verbatim_paragraph_text(case):
    missing = [snippet for snippet in case["evidence"] if not _reports_containing(snippet)]
    assert not missing, f"evidence not found inside any single paragraph: {missing}"
    for snippet in case["evidence"]:
        if len(snippet.split()) < 6:  # a short judgement row must be the whole paragraph
            needle = normalise(snippet)
            assert any(needle == p for r in _reports() for p in r.paragraphs), snippet


@pytest.mark.parametrize("case", _of_kind("comparison") + _of_kind("timeline"), ids=lambda c: c["id"])
def test_comparisons_and_timelines_cite_two_reports(case):
    distinctive = []  # the one report each snippet singles out (shared wording singles out none)
    for snippet in case["evidence"]:
        found = _reports_containing(snippet)
        if len(found) == 1:
            distinctive.append(next(iter(found.values())))
    assert len({r.key for r in distinctive}) >= 2, (
        f"{case['id']}: evidence must single out at least two different reports, got {[r.name for r in distinctive]}"
    )
    if "comparison" in case["tags"]:
        return
    authorities = {r.authority for r in distinctive}
    assert len(authorities) == 1, f"a timeline follows one authority, got {authorities}"
    dates = [r.published for r in distinctive]
    assert dates == sorted(dates), f"timeline evidence should run oldest to newest: {dates}"


@pytest.mark.parametrize("case", _of_kind("comparison"), ids=lambda c: c["id"])
def test_comparisons_cover_each_named_side(case):
    """Every sample authority the question names has evidence from one of its reports."""
    named = {a for a in SAMPLE_AUTHORITIES if a.lower() in case["question"].lower()}
    if not named and case.get("history"):
        named = {a for a in SAMPLE_AUTHORITIES for t in case["history"] if a.lower() in t["user"].lower()}
        named |= {a for a in SAMPLE_AUTHORITIES if a.lower() in case["question"].lower()}
    cited = {r.authority for s in case["evidence"] for r in _reports_containing(s).values()}
    assert named <= cited, f"no evidence from {named - cited}"


@pytest.mark.parametrize("case", _answerable_ids(), ids=lambda c: c["id"])
def test_facts_occur_in_the_evidence_reports(case):
    """Each fact is stated in the text or the metadata of a report the evidence comes from.
    Counts are derived by counting reports, so their number words are not looked for."""
    if "count" in case["tags"]:
        return
    reports = {key: r for s in case["evidence"] for key, r in _reports_containing(s).items()}
    haystack = " ".join(r.text + " " + r.metadata_text for r in reports.values())
    absent = [item for item in case["facts"] if not any(normalise(alt) in haystack for alt in item)]
    assert not absent, f"fact items not stated in the cited reports: {absent}"
