"""Parse every document of the shared corpus (no embedding): counts, failures with reasons, time.

Run with `pytest -m corpus tests/ingest/test_corpus_ingest.py -q -s`; skipped when ../shared/corpus is absent.
"""

from __future__ import annotations

import time
from collections import Counter

import pytest

from core.errors import IngestError
from ingest.loaders import iter_document_paths, load_document
from tests.conftest import SHARED_CORPUS

REPORTS = SHARED_CORPUS / "reports"
pytestmark = [
    pytest.mark.corpus,
    pytest.mark.skipif(not REPORTS.is_dir(), reason=f"shared corpus absent ({REPORTS})"),
]


def test_every_corpus_document_parses_or_fails_with_a_reason() -> None:
    paths = iter_document_paths(REPORTS)
    assert paths
    started = time.perf_counter()
    ok = 0
    paragraphs = 0
    kinds: Counter[str] = Counter()
    failed: list[tuple[str, str]] = []
    for path in paths:
        try:
            document = load_document(path)
        except IngestError as error:
            assert error.reason and error.path == str(path)
            failed.append((path.relative_to(REPORTS).as_posix(), error.reason))
            continue
        ok += 1
        paragraphs += len(document.paragraphs)
        kinds.update(p.kind for p in document.paragraphs)
    seconds = time.perf_counter() - started
    print(f"\ncorpus: {len(paths)} documents, {ok} parsed, {len(failed)} failed, {paragraphs} paragraphs {dict(kinds)}")
    print(f"time: {seconds:.1f} s ({seconds / len(paths) * 1000:.0f} ms a document)")
    for name, reason in failed:
        print(f"  FAILED {name}: {reason}")
    assert ok / len(paths) >= 0.99
