"""Fixtures of the browser tests: the real app over the sample index (and over an empty one), and Chromium (its fixture, `browser`, is in tests/conftest.py: the security tests use it too).

Module-scoped: each browser test module starts its own app and browser.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ui.browsing import BrokenPipeline, start_app


@pytest.fixture(scope="module")
def app(sample_index, sample_settings, tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """(url, feedback file) of the app over the whole sample index."""
    from chatbot.build import build_pipeline

    feedback_file = tmp_path_factory.mktemp("ui") / "feedback.jsonl"
    settings = sample_settings.model_copy(update={"feedback_file": feedback_file, "host": "127.0.0.1"})
    demo, url = start_app(build_pipeline(settings, sample_index), sample_index, settings)
    yield url, feedback_file
    demo.close()


@pytest.fixture(scope="module")
def empty_app(embedder, tmp_path_factory) -> Iterator[str]:
    """The app over an index with nothing in it and a pipeline that fails."""
    from chatbot.build import build_index
    from core.settings import Settings

    folder = tmp_path_factory.mktemp("empty_index")
    settings = Settings(index_dir=folder, feedback_file=folder / "feedback.jsonl")
    index = build_index(settings, embedder=embedder)
    demo, url = start_app(BrokenPipeline(), index, settings)
    yield url
    demo.close()
