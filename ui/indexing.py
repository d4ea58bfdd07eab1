"""First start: build the index from the bundled sample corpus in the background, reporting progress."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from core.settings import Settings
from core.text import counted
from ingest.loaders import read_url_manifest
from vectorstore.index import Index
from vectorstore.ingestion import IngestSummary, ingest_targets

log = logging.getLogger(__name__)


class IndexBuild:
    """The state of the first-start build, read by the UI's status banner from any thread."""

    def __init__(self, index: Index, settings: Settings, *, echo: Callable[[str], None] | None = None) -> None:
        self.index = index
        self.settings = settings
        self.echo = echo
        self._lock = threading.Lock()
        self.state = "idle"  # idle | building | ready | failed
        self.done = 0
        self.total = 0
        self.current = ""
        self.summary: IngestSummary | None = None
        self.error: str | None = None
        self._thread: threading.Thread | None = None

    @property
    def building(self) -> bool:
        return self.state == "building"

    def message(self) -> str:
        """What the banner (and the console) says about the build."""
        with self._lock:
            if self.state == "building":
                if self.total:
                    return f"Building the index from the sample corpus: {self.done}/{self.total} reports…"
                return "Building the index from the sample corpus…"
            if self.state == "failed":
                return f"Building the index failed: {self.error}"
            if self.state == "ready" and self.summary is not None:
                return f"Index built from the sample corpus: {counted(self.summary.reports, 'report')}."
            return ""

    def start(self) -> threading.Thread:
        """Build in a daemon thread; the app serves pages meanwhile."""
        with self._lock:
            self.state = "building"
        self._thread = threading.Thread(target=self.run, name="index-build", daemon=True)
        self._thread.start()
        return self._thread

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def run(self) -> IngestSummary | None:
        """Ingest the sample corpus, with official URLs from its manifest where known."""
        with self._lock:
            self.state = "building"
        corpus: Path = self.settings.sample_corpus_dir
        manifest = self.settings.manifest_csv or corpus / "manifest.csv"
        self._echo(f"No reports indexed yet: building the index from the sample corpus in {corpus}")
        try:
            summary = ingest_targets(
                self.index,
                [str(corpus)],
                max_bytes=self.settings.max_file_bytes,
                urls=read_url_manifest(manifest),
                progress=self._progress,
                workers=self.settings.ingest_workers,
                batch_chunks=self.settings.ingest_batch_chunks,
            )
        except Exception as error:  # the UI must say so rather than hang on "building"
            log.exception("building the index failed")
            with self._lock:
                self.state, self.error = "failed", str(error) or type(error).__name__
            self._echo(self.message())
            return None
        with self._lock:
            self.summary = summary
            self.state = "ready" if summary.reports else "failed"
            if not summary.reports:
                self.error = f"no report could be read from {corpus}"
        for line in summary.lines():
            self._echo(f"  {line}")
        return summary

    def _progress(self, done: int, total: int, name: str) -> None:
        with self._lock:
            self.done, self.total, self.current = done, total, name
        self._echo(f"  {done}/{total} {name}")

    def _echo(self, text: str) -> None:
        if self.echo is not None:
            self.echo(text)
