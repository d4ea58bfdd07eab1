"""Ingest at the encoder's rate: parsing in worker processes and writing in batches give the index that reading and
writing the files one by one gives; a file that fails (or kills its parser's process) is reported by name and the
others are ingested; an interrupted write's vectors are swept; adding a report reads only that report's rows.

Real parts: the sample PDFs, worker processes, Chroma in tmp_path, the configured encoder.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from chatbot.build import build_index
from core.settings import Settings
from ingest.workers import ParseOptions, ParseOutcome, parse_item, parse_items
from tests.conftest import PROJECT_ROOT, SAMPLE_DIR, SAMPLE_REPORTS
from vectorstore.index import Index, PendingReport
from vectorstore.ingestion import ingest_targets

MAX_BYTES = 50 * 1024 * 1024
FOCUSED_VISITS = sorted((SAMPLE_REPORTS / "focused_visit").glob("*.pdf"))


def crash_on_marked_files(item: str, options: ParseOptions) -> ParseOutcome:
    """A parser that kills its own process on a file named crash-*: what a crash inside the PDF library does."""
    if Path(item).name.startswith("crash-"):
        os._exit(3)
    return parse_item(item, options)


def _contents(index: Index) -> dict[str, object]:
    """Everything ingest decides: each report's fingerprint, its paragraph ids and chunk ids, and Chroma's ids."""
    reports = index.catalog.reports()
    return {
        "reports": {r.report_id: (index.catalog.fingerprint(r.report_id), r.content_hash, r.metadata) for r in reports},
        "paragraphs": {r.report_id: [p.paragraph_id for p in index.catalog.paragraphs(r.report_id)] for r in reports},
        "chunks": [(c.chunk_id, c.embed_text) for c in index.catalog.chunks()],
        "vectors": index.dense.all_ids(),
    }


def test_workers_and_batches_give_the_index_of_a_serial_ingest_on_the_sample_corpus(tmp_path: Path, sample_ingest, embedder) -> None:
    """The session's sample index is built the default way (parser workers, batches of 512 chunks); one by one, in
    turn, gives the same catalog, paragraph ids, chunk ids, vectors and summary."""
    parallel, parallel_summary = sample_ingest
    serial = build_index(Settings(index_dir=tmp_path / "serial"), embedder=embedder)
    serial_summary = ingest_targets(serial, [str(SAMPLE_DIR)], max_bytes=MAX_BYTES, workers=0, batch_chunks=1)
    assert serial_summary.chunks == parallel_summary.chunks > 600
    assert (serial_summary.added, serial_summary.duplicate, serial_summary.failed, serial_summary.paragraphs) == (
        parallel_summary.added,
        parallel_summary.duplicate,
        parallel_summary.failed,
        parallel_summary.paragraphs,
    )
    assert _contents(serial) == _contents(parallel)


def test_parsed_in_workers_in_the_order_of_the_files_with_their_links(tmp_path: Path) -> None:
    links = {p.name: f"https://files.ofsted.gov.uk/{p.stem}.pdf" for p in FOCUSED_VISITS[1:3]}
    options = ParseOptions(max_bytes=MAX_BYTES, chunk_tokens=220, urls=links)
    items = [str(p) for p in FOCUSED_VISITS]
    in_workers = list(parse_items(items, options, workers=2))
    here = list(parse_items(items, options, workers=0))
    assert [o.item for o in in_workers] == items
    assert [o.document.report.url for o in in_workers if o.document] == [links.get(Path(item).name) for item in items]
    assert [(o.document.report, o.document.paragraphs, o.chunks) for o in in_workers if o.document] == [
        (o.document.report, o.document.paragraphs, o.chunks) for o in here if o.document
    ]


def test_a_corrupt_file_and_one_that_kills_its_parser_are_reported_and_the_rest_ingested(tmp_path: Path, embedder) -> None:
    folder = tmp_path / "incoming"
    folder.mkdir()
    good = FOCUSED_VISITS[:4]
    for path in good:
        shutil.copy(path, folder / path.name)
    (folder / "b-corrupt.pdf").write_bytes(b"%PDF-1.7\n" + os.urandom(4000))
    (folder / "crash-report.pdf").write_bytes(good[0].read_bytes())
    truncated = good[1].read_bytes()
    (folder / "d-truncated.pdf").write_bytes(truncated[: len(truncated) // 2])

    index = build_index(Settings(index_dir=tmp_path / "index"), embedder=embedder)
    seen: list[str] = []
    summary = ingest_targets(
        index, [str(folder)], max_bytes=MAX_BYTES, workers=2, batch_chunks=100, parser=crash_on_marked_files,
        progress=lambda done, total, name: seen.append(name),
    )
    failed = dict(summary.failed)
    assert set(failed) == {str(folder / name) for name in ("b-corrupt.pdf", "crash-report.pdf", "d-truncated.pdf")}
    assert "not a readable PDF" in failed[str(folder / "b-corrupt.pdf")]
    assert "the parser crashed reading this file" in failed[str(folder / "crash-report.pdf")]
    assert "damaged" in failed[str(folder / "d-truncated.pdf")]
    assert sorted(summary.added) == sorted(p.stem.replace("_", "-") for p in good)
    assert sorted(seen) == sorted(p.name for p in folder.iterdir())  # every file tried, once
    assert {r.report_id for r in index.reports()} == set(summary.added)

    serial = build_index(Settings(index_dir=tmp_path / "serial"), embedder=embedder)
    assert not ingest_targets(serial, [str(p) for p in good], max_bytes=MAX_BYTES, workers=0, batch_chunks=1).failed
    assert _contents(serial)["chunks"] == _contents(index)["chunks"]


def test_a_copy_and_a_new_version_in_one_batch_are_read_as_one_by_one(tmp_path: Path, embedder) -> None:
    """A plan reads the catalog, which does not know the reports waiting in the batch: a second copy of one of them,
    or a file under the same name, is planned after they are written, as a serial ingest would."""
    first, second = FOCUSED_VISITS[:2]
    folder = tmp_path / "incoming"
    (folder / "a").mkdir(parents=True)
    (folder / "b").mkdir()
    shutil.copy(first, folder / "a" / first.name)
    shutil.copy(first, folder / "a" / "copy-of-first.pdf")
    shutil.copy(second, folder / "b" / first.name)  # another report under the first one's name
    index = build_index(Settings(index_dir=tmp_path / "index"), embedder=embedder)
    summary = ingest_targets(index, [str(folder)], max_bytes=MAX_BYTES, workers=1, batch_chunks=10_000)
    serial = build_index(Settings(index_dir=tmp_path / "serial"), embedder=embedder)
    serial_summary = ingest_targets(serial, [str(folder)], max_bytes=MAX_BYTES, workers=0, batch_chunks=1)
    assert summary.duplicate == serial_summary.duplicate and len(summary.duplicate) == 1
    assert summary.added == serial_summary.added and len(summary.added) == 2
    assert _contents(index) == _contents(serial)


def test_vectors_an_interrupted_write_left_are_swept_by_the_next_ingest(tmp_path: Path, embedder) -> None:
    """Vectors written to Chroma for a report whose catalog swap never happened (a crash) are not listed; the next
    ingest deletes them, and the report is then written whole."""
    from ingest.loaders import load_document
    from vectorstore.chroma_store import chunk_metadata

    index = build_index(Settings(index_dir=tmp_path / "index"), embedder=embedder)
    document = load_document(FOCUSED_VISITS[0])
    planned = index.plan(document)
    assert isinstance(planned, PendingReport)
    orphans = planned.chunks[:3]
    index.catalog.note_loose_vectors([c.chunk_id for c in orphans])  # the first half of Index.write, then a crash
    index.dense.add(orphans, embedder.embed_documents([c.embed_text for c in orphans]), [chunk_metadata(c, document.report) for c in orphans])
    assert index.dense.all_ids() == {c.chunk_id for c in orphans} and not index.chunks_in(None)

    summary = ingest_targets(index, [str(FOCUSED_VISITS[1])], max_bytes=MAX_BYTES)
    assert summary.added and index.catalog.loose_vectors() == []
    assert index.dense.all_ids() == {c.chunk_id for c in index.chunks_in(None)}  # the orphans are gone
    ingest_targets(index, [str(FOCUSED_VISITS[0])], max_bytes=MAX_BYTES)
    assert index.dense.all_ids() == {c.chunk_id for c in index.chunks_in(None)} >= {c.chunk_id for c in orphans}


@pytest.mark.parametrize("indexed", [1, 4])
def test_adding_a_report_reads_only_its_own_catalog_rows(tmp_path: Path, embedder, indexed: int) -> None:
    """Nothing in ingest grows with what is indexed: adding one report runs the same SQL, each statement by key (no
    statement reads a table whole), whether 1 or 4 reports are indexed, and builds no keyword index."""
    index = build_index(Settings(index_dir=tmp_path / "index"), embedder=embedder)
    ingest_targets(index, [str(p) for p in FOCUSED_VISITS[:indexed]], max_bytes=MAX_BYTES)
    statements: list[str] = []
    index.catalog._db.set_trace_callback(statements.append)  # observed, not changed
    summary = ingest_targets(index, [str(FOCUSED_VISITS[-1])], max_bytes=MAX_BYTES)
    index.catalog._db.set_trace_callback(None)
    assert summary.added == [FOCUSED_VISITS[-1].stem.replace("_", "-")]
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert selects and all(" WHERE " in s.upper() for s in selects if "loose_vectors" not in s), selects
    assert index._keyword is None  # no BM25 built by ingest


def test_a_script_whose_workers_cannot_start_still_parses_every_file(tmp_path: Path) -> None:
    """A script without `if __name__ == "__main__":` makes every spawned worker run it again and die: its files are
    parsed in its own process instead, none reported as crashing the parser."""
    script = tmp_path / "unguarded.py"
    items = [str(p) for p in FOCUSED_VISITS[:3]]
    script.write_text(
        "from ingest.workers import ParseOptions, parse_items\n"
        f"for outcome in parse_items({items!r}, ParseOptions(max_bytes=10**8, chunk_tokens=220), workers=1):\n"
        "    print(outcome.document.report.report_id if outcome.document else outcome.reason)\n",
        encoding="utf-8",
    )
    result = subprocess.run([sys.executable, str(script)], cwd=PROJECT_ROOT, env=os.environ | {"PYTHONPATH": str(PROJECT_ROOT)}, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == [Path(item).stem.replace("_", "-") for item in items]
