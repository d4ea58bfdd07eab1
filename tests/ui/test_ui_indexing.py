"""First start: the sample corpus is ingested in the background with progress the UI can show."""

from __future__ import annotations

import shutil
from pathlib import Path

from core.settings import Settings
from ui.indexing import IndexBuild

SEED = Path(__file__).resolve().parents[2] / "data" / "sample" / "seed" / "buckinghamshire_focused-visit_2021-04-12.md"


def test_build_reports_progress_and_fills_the_index(tmp_path, embedder):
    from chatbot.build import build_index

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SEED, corpus / SEED.name)
    (corpus / "manifest.csv").write_text(
        f"document,ofsted_file_url\nfocused_visit/{SEED.name},https://files.ofsted.gov.uk/v1/file/1\n", encoding="utf-8"
    )
    settings = Settings(index_dir=tmp_path / "index", sample_corpus_dir=corpus)
    index = build_index(settings, embedder=embedder)
    lines: list[str] = []
    build = IndexBuild(index, settings, echo=lines.append)
    assert build.message() == ""

    build.start()
    assert build.building or build.state == "ready"
    build.join(timeout=120)

    assert build.state == "ready"
    assert build.message() == "Index built from the sample corpus: 1 report."
    from ui.app import index_status

    assert index_status(index, build) == ("ready", "1 report from 1 local authority, published 2021 is indexed.", True)
    assert any(line.strip() == f"1/1 {SEED.name}" for line in lines)
    assert [r.url for r in index.reports()] == ["https://files.ofsted.gov.uk/v1/file/1"]


def test_build_of_an_empty_folder_fails_with_a_message(tmp_path, embedder):
    from chatbot.build import build_index

    settings = Settings(index_dir=tmp_path / "index", sample_corpus_dir=tmp_path / "missing")
    build = IndexBuild(build_index(settings, embedder=embedder), settings)
    build.run()
    assert build.state == "failed"
    assert "Building the index failed" in build.message()
