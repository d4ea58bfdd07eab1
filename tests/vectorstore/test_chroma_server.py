"""The index against a real Chroma server on loopback (`chroma run`), started and stopped by the test."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.errors import StoreNotReadyError
from core.models import Filters
from core.settings import Settings
from tests.conftest import BUCKS_ILACS_2025, SAMPLE_REPORTS

CHROMA = Path(sys.executable).parent / "chroma"
CALDERDALE = SAMPLE_REPORTS / "focused_visit" / "calderdale_focused-visit_2022-03-21.pdf"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[int]:
    """A Chroma server on a free loopback port, polled until its heartbeat answers (up to 60 s)."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    assert CHROMA.exists(), f"the chroma executable should sit beside {sys.executable}"
    port = _free_port()
    log = (tmp_path / "chroma.log").open("wb")
    process = subprocess.Popen(
        [str(CHROMA), "run", "--path", str(tmp_path / "server-data"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, (tmp_path / "chroma.log").read_text(errors="replace")
            try:
                client = chromadb.HttpClient(
                    host="127.0.0.1", port=port, settings=ChromaSettings(anonymized_telemetry=False)
                )
                client.heartbeat()
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.25)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def test_index_on_a_chroma_server(chroma_server: int, tmp_path: Path, embedder) -> None:
    from chatbot.build import build_index
    from vectorstore.ingestion import ingest_targets

    settings = Settings(chroma_host="127.0.0.1", chroma_port=chroma_server, index_dir=tmp_path / "index")
    index = build_index(settings, embedder=embedder)
    assert not (tmp_path / "index" / "chroma").exists()  # nothing embedded: the vectors live on the server
    summary = ingest_targets(index, [str(BUCKS_ILACS_2025), str(CALDERDALE)], max_bytes=settings.max_file_bytes)
    assert summary.failed == []
    assert sorted(summary.added) == ["buckinghamshire-ilacs-2025-05-14", "calderdale-focused-visit-2022-03-21"]
    assert index.dense.count() == index.catalog.counts()["chunks"] == summary.chunks

    query = embedder.embed_query("Do care leavers have trusting relationships with their personal advisers?")
    hits = index.dense_search(query, 5, None)
    assert len(hits) == 5
    only_calderdale = index.report_ids_for(Filters(local_authorities=("Calderdale",)))
    filtered = index.dense_search(query, 5, only_calderdale)
    assert filtered and {index.chunk(cid).report_id for cid, _ in filtered} == {"calderdale-focused-visit-2022-03-21"}

    # a second client (another process's view) sees the same collection and model record
    reopened = build_index(settings, embedder=embedder)
    assert reopened.dense.count() == index.dense.count()
    assert reopened.dense.collection.metadata["embedding_model"] == embedder.name
    again = ingest_targets(reopened, [str(CALDERDALE)], max_bytes=settings.max_file_bytes)
    assert again.unchanged == ["calderdale-focused-visit-2022-03-21"]


def test_unreachable_chroma_server_is_store_not_ready(tmp_path: Path, embedder) -> None:
    from chatbot.build import build_index

    settings = Settings(chroma_host="127.0.0.1", chroma_port=_free_port(), index_dir=tmp_path / "index")
    with pytest.raises(StoreNotReadyError, match=r"Chroma server at 127\.0\.0\.1:\d+|Chroma collection"):
        build_index(settings, embedder=embedder)
