"""Issue 21's crash probe, kept as a test: ingest killed with SIGKILL part way through, three times.

After each kill the index opens and answers; the run that is let finish leaves exactly the chunk ids (in
the catalog and in Chroma) that a clean ingest of the same files gives. The real CLI runs in a
subprocess on real sample PDFs, parsing in a worker process and writing in batches of about 20 chunks (one or two
of these reports); the kill lands while a batch is being written, not during start-up, and the parser's worker
goes with the process that started it.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from chatbot.build import build_index
from chatbot.extractive import ExtractiveAnswerer
from chatbot.pipeline import QAPipeline
from core.settings import Settings
from tests.conftest import PROJECT_ROOT, SAMPLE_REPORTS
from vectorstore.ingestion import ingest_targets

REPORTS = [
    SAMPLE_REPORTS / "focused_visit" / "calderdale_focused-visit_2022-03-21.pdf",
    SAMPLE_REPORTS / "focused_visit" / "trafford_focused-visit_2021-05-10.pdf",
    SAMPLE_REPORTS / "focused_visit" / "buckinghamshire_focused-visit_2022-11-16.pdf",
    SAMPLE_REPORTS / "ilacs_inspection" / "islington_ilacs_2025-01-29.pdf",
]


# batches of one or two of the four reports (16, 24, 24 and 51 chunks), so that the kills land between and inside them
BATCHED = os.environ | {"OFSTED_QA_INGEST_BATCH_CHUNKS": "20", "OFSTED_QA_INGEST_WORKERS": "1"}


def _reports_written(index_dir: Path) -> int:
    catalog = index_dir / "catalog.sqlite"
    if not catalog.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{catalog}?mode=ro", uri=True, timeout=1) as db:
            return db.execute("SELECT COUNT(*) FROM reports").fetchone()[0]
    except sqlite3.Error:
        return 0  # the table is not created yet


def _ingest_and_kill(index_dir: Path, folder: Path, after_reports: int) -> int:
    """Run the CLI's ingest and SIGKILL it just after `after_reports` reports are in; the count at the kill."""
    process = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "--index-dir", str(index_dir), "ingest", "--no-progress", str(folder)],
        cwd=PROJECT_ROOT,
        env=BATCHED,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 180
        while _reports_written(index_dir) < after_reports and process.poll() is None:
            if time.monotonic() > deadline:
                pytest.fail("ingest made no progress in 180 s")
            time.sleep(0.05)
        time.sleep(0.4)  # into the next report's embedding and writing
    finally:
        children = _children(process.pid)  # the parser's worker, and multiprocessing's resource tracker
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
        process.wait()
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{pid}").exists() and _state(pid) != "Z" for pid in children):
        assert time.monotonic() < deadline, f"processes of the killed ingest are still running: {children}"
        time.sleep(0.1)
    return _reports_written(index_dir)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"


def _children(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == parent:
                    found.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return found


def _ids(index_dir: Path, embedder) -> tuple[set[str], set[str]]:
    index = build_index(Settings(index_dir=index_dir), embedder=embedder)
    catalog_ids = {c.chunk_id for c in index.chunks_in(None)}
    vector_ids = set().union(*(index.dense.ids_for_report(r.report_id) for r in index.reports()))
    return catalog_ids, vector_ids


def test_ingest_killed_three_times_then_finished_equals_a_clean_ingest(tmp_path, embedder):
    folder = tmp_path / "reports"
    folder.mkdir()
    for report in REPORTS:
        shutil.copy(report, folder / report.name)
    index_dir = tmp_path / "killed"

    for after in (1, 2, 3):
        _ingest_and_kill(index_dir, folder, after)
        index = build_index(Settings(index_dir=index_dir), embedder=embedder)
        assert index.reports(), "each kill leaves the reports written before it"
        for report in index.reports():  # every listed report is whole: its chunks are in the catalog and in Chroma
            listed = {c.chunk_id for c in index.chunks_in([report.report_id])}
            assert listed and listed <= index.dense.ids_for_report(report.report_id)
        answer = QAPipeline(index, ExtractiveAnswerer(embedder)).ask("How are care leavers supported?")
        assert answer.answer

    finished = subprocess.run(
        [sys.executable, "-m", "cli.main", "--index-dir", str(index_dir), "ingest", "--no-progress", str(folder)],
        cwd=PROJECT_ROOT,
        env=BATCHED,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert finished.returncode == 0, finished.stderr

    clean_dir = tmp_path / "clean"
    clean = build_index(Settings(index_dir=clean_dir), embedder=embedder)
    assert not ingest_targets(clean, [str(folder)], max_bytes=50 * 1024 * 1024).failed
    killed_catalog, killed_vectors = _ids(index_dir, embedder)
    clean_catalog, clean_vectors = _ids(clean_dir, embedder)
    assert len(clean_catalog) > 50
    assert killed_catalog == clean_catalog
    assert killed_vectors == clean_vectors == clean_catalog
