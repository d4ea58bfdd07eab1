"""The gold regression dataset (eval/datasets/gold.yaml): structure, case mix, and evidence checked
verbatim against the paragraphs the project's own loader reads from the bundled sample corpus."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from functools import lru_cache
from pathlib import Path

import pytest
import yaml

from core.models import REPORT_TYPES
from core.text import normalise
from ingest.loaders import iter_document_paths

ROOT = Path(__file__).resolve().parents[2]
DATASET = ROOT / "eval" / "datasets" / "dev" / "gold.yaml"
SAMPLE = ROOT / "data" / "sample"
DOC_SUFFIXES = {".pdf", ".txt", ".md"}

CASE_KEYS = {"id", "question", "history", "filters", "answerable", "evidence", "facts", "tags"}
FILTER_KEYS = {"local_authority", "report_type", "published_from", "published_to"}
SAMPLE_AUTHORITIES = {"Buckinghamshire", "Trafford", "Camden", "Islington", "Blackpool", "Calderdale"}
KEBAB = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

# Minimum number of cases per tag (the mix the dataset is written to cover).
MIN_TAGS = {
    "single-report": 30,
    "comparison": 8,
    "followup": 8,
    "page-break": 6,
    "near-duplicate": 6,
    "unanswerable": 16,
    "not-in-corpus": 3,
    "false-premise": 3,
    "off-topic": 2,
    "personal": 1,
    "sif": 3,
    "send": 3,
}


@lru_cache(maxsize=1)
def _cases() -> list[dict]:
    data = yaml.safe_load(DATASET.read_text(encoding="utf-8"))
    assert isinstance(data, dict) and isinstance(data.get("cases"), list), "top level must be {cases: [...]}"
    return data["cases"]


def _answerable(case: dict) -> bool:
    return case.get("answerable", True) is not False


def _tagged(tag: str) -> list[dict]:
    return [c for c in _cases() if tag in c.get("tags", [])]


def _sample_documents() -> list[Path]:
    return iter_document_paths(SAMPLE)


# ------------------------------------------------------------------------------------------ structure


def test_dataset_loads_with_enough_cases():
    assert len(_cases()) >= 80


def test_ids_unique_and_kebab_case():
    ids = [c.get("id") for c in _cases()]
    dupes = [i for i, n in Counter(ids).items() if n > 1]
    assert not dupes, f"duplicate ids: {dupes}"
    bad = [i for i in ids if not isinstance(i, str) or not KEBAB.match(i)]
    assert not bad, f"ids not kebab-case: {bad}"


@pytest.mark.parametrize("case", _cases(), ids=lambda c: str(c.get("id")))
def test_case_structure(case):
    unknown = set(case) - CASE_KEYS
    assert not unknown, f"unknown keys {unknown}"
    assert isinstance(case.get("question"), str) and case["question"].strip()
    tags = case.get("tags")
    assert isinstance(tags, list) and tags and all(isinstance(t, str) and t for t in tags)
    assert isinstance(case.get("answerable", True), bool)

    if _answerable(case):
        evidence = case.get("evidence")
        facts = case.get("facts")
        assert isinstance(evidence, list) and evidence, "answerable case needs evidence"
        assert all(isinstance(e, str) and e.strip() for e in evidence)
        for snippet in evidence:
            words = len(snippet.split())
            assert 6 <= words <= 25, f"evidence should be 6-25 words, got {words}: {snippet!r}"
            assert not re.match(r"^\s*(\d+\.|[◼•\-–])\s", snippet), f"starts with a number/bullet: {snippet!r}"
        assert isinstance(facts, list) and facts, "answerable case needs facts"
        for item in facts:
            assert isinstance(item, list) and item, f"fact item must be a non-empty list: {item!r}"
            assert all(isinstance(a, str) and a.strip() for a in item)
        assert "unanswerable" not in tags
    else:
        assert not case.get("evidence") and not case.get("facts"), "unanswerable case has evidence/facts"
        assert "unanswerable" in tags

    history = case.get("history")
    if "followup" in tags:
        assert isinstance(history, list) and history, "follow-up needs history"
    if history is not None:
        assert isinstance(history, list)
        for turn in history:
            assert set(turn) <= {"user", "assistant"} and isinstance(turn.get("user"), str) and turn["user"].strip()
            assert isinstance(turn.get("assistant", ""), str)

    filters = case.get("filters")
    if filters is not None:
        assert isinstance(filters, dict) and filters and set(filters) <= FILTER_KEYS, filters
        if "local_authority" in filters:
            assert filters["local_authority"] in SAMPLE_AUTHORITIES
        if "report_type" in filters:
            assert filters["report_type"] in REPORT_TYPES
        for key in ("published_from", "published_to"):
            if key in filters:
                value = filters[key]
                if not isinstance(value, dt.date):
                    dt.date.fromisoformat(str(value))


def test_case_mix():
    cases = _cases()
    counts = Counter(t for c in cases for t in c["tags"])
    short = {t: (counts[t], n) for t, n in MIN_TAGS.items() if counts[t] < n}
    assert not short, f"tags below their minimum (have, need): {short}"

    unanswerable = [c for c in cases if not _answerable(c)]
    assert len(unanswerable) / len(cases) >= 0.15
    assert all("unanswerable" in c["tags"] for c in unanswerable)

    single = _tagged("single-report")
    paraphrased = [c for c in single if "paraphrase" in c["tags"]]
    lexical = [c for c in single if "lexical" in c["tags"]]
    assert len(paraphrased) >= 15 and len(lexical) >= 10
    assert len(paraphrased) + len(lexical) >= len(single) - 2

    grade_or_date = [c for c in cases if {"grade", "date"} & set(c["tags"]) and _answerable(c)]
    assert len(grade_or_date) >= 10

    with_authority_filter = [c for c in single if (c.get("filters") or {}).get("local_authority")]
    assert len(with_authority_filter) >= 3
    type_or_date_filters = [
        c for c in cases if {"report_type", "published_from", "published_to"} & set(c.get("filters") or {})
    ]
    assert len(type_or_date_filters) >= 3

    for c in _tagged("comparison"):
        if _answerable(c):
            assert len(c["evidence"]) >= 2, f"{c['id']}: comparison needs evidence from both sides"


# ------------------------------------------------------------------------------------------ evidence


@lru_cache(maxsize=1)
def _paragraphs_by_document() -> dict[str, list[str]]:
    from ingest.loaders import (  # the project's loader: headers/footers dropped, page breaks rejoined
        load_document,
    )

    out: dict[str, list[str]] = {}
    for path in _sample_documents():
        parsed = load_document(path)
        out[path.name] = [normalise(p.text) for p in parsed.paragraphs]
    return out


def _answerable_cases() -> list[dict]:
    return [c for c in _cases() if _answerable(c)]


def test_sample_corpus_present():
    assert len(_sample_documents()) == 15


@pytest.mark.parametrize("case", _answerable_cases(), ids=lambda c: c["id"])
def test_evidence_is_verbatim_paragraph_text(case):
    paragraphs = _paragraphs_by_document()
    missing = []
    for snippet in case["evidence"]:
        needle = normalise(snippet)
        if not any(needle in text for texts in paragraphs.values() for text in texts):
            missing.append(snippet)
    assert not missing, f"evidence not found inside any single paragraph: {missing}"


@pytest.mark.parametrize("case", _answerable_cases(), ids=lambda c: c["id"])
def test_facts_occur_in_the_evidence_reports(case):
    paragraphs = _paragraphs_by_document()
    needles = [normalise(s) for s in case["evidence"]]
    docs = [" ".join(texts) for texts in paragraphs.values() if any(n in t for n in needles for t in texts)]
    text = " ".join(docs)
    absent = [item for item in case["facts"] if not any(normalise(alt) in text for alt in item)]
    assert not absent, f"fact items not stated anywhere in the cited reports: {absent}"


@pytest.mark.parametrize("case", _tagged("page-break"), ids=lambda c: c["id"])
def test_page_break_snippets_cross_a_page(case):
    import pymupdf

    pages = []
    for path in _sample_documents():
        if path.suffix.lower() == ".pdf":
            with pymupdf.open(path) as doc:
                pages.extend(normalise(page.get_text()) for page in doc)
    for snippet in case["evidence"]:
        needle = normalise(snippet)
        assert not any(needle in page for page in pages), f"snippet lies within one page: {snippet!r}"
