"""Batch ingest: files, folders and URLs into the index, one bad file never stopping the batch.

Parsing runs in worker processes (`ingest.workers`) while this process embeds and writes; reports are written in
batches of about `batch_chunks` chunks (one embedding call, one Chroma write, one catalog transaction each), and
nothing read or written per report grows with what is already indexed (no keyword index is built, no catalog read
beyond the report's own rows; see `Index.plan` and `Index.write`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import IngestError
from core.models import Chunk
from ingest.loaders import ParsedDocument, is_url, iter_document_paths
from ingest.workers import ParseOptions, Parser, parse_item, parse_items
from vectorstore.index import Index, PendingReport, WriteResult

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]  # (done, total, name)


@dataclass
class IngestSummary:
    """What a batch did, for the CLI's closing report and the app's first start."""

    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    duplicate: list[tuple[str, str]] = field(default_factory=list)  # (path, id of the report it copies)
    flagged: list[tuple[str, int]] = field(default_factory=list)  # (path, paragraphs addressing the reader)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    paragraphs: int = 0
    chunks: int = 0
    seconds: float = 0.0

    @property
    def reports(self) -> int:
        return len(self.added) + len(self.replaced) + len(self.unchanged)

    def lines(self) -> list[str]:
        out = [
            f"reports: {self.reports} ({len(self.added)} added, {len(self.replaced)} replaced, "
            f"{len(self.unchanged)} unchanged)",
            f"paragraphs: {self.paragraphs}",
            f"chunks written: {self.chunks}",
            f"skipped (unchanged): {len(self.unchanged)}",
            f"duplicates skipped: {len(self.duplicate)}",
        ]
        out.extend(f"  {path}: the same file as report {report_id}" for path, report_id in self.duplicate)
        if self.flagged:
            out.append(f"passages addressing the reader, kept but never quoted: {sum(n for _, n in self.flagged)}")
            out.extend(f"  {path}: {n}" for path, n in self.flagged)
        out.append(f"failed: {len(self.failed)}")
        out.extend(f"  {path}: {reason}" for path, reason in self.failed)
        out.append(f"time: {self.seconds:.1f} s")
        return out


def expand_targets(targets: Iterable[str]) -> tuple[list[str], list[tuple[str, str]]]:
    """Files and URLs to ingest from the given paths (folders recursively) and URLs; bad paths reported."""
    items: list[str] = []
    failed: list[tuple[str, str]] = []
    for target in targets:
        if is_url(target):
            items.append(target)
            continue
        try:
            items.extend(str(p) for p in iter_document_paths(Path(target)))
        except IngestError as error:
            failed.append((error.path, error.reason))
    return items, failed


DEFAULT_BATCH_CHUNKS = 512  # about 8 inspection reports: 10 to 15 s of embedding on 2 cores between catalog commits


def ingest_targets(
    index: Index,
    targets: Iterable[str],
    *,
    max_bytes: int,
    urls: Mapping[str, str] | None = None,
    progress: Progress | None = None,
    accept_damaged: bool = False,
    authority: str | None = None,
    workers: int | None = None,
    batch_chunks: int = DEFAULT_BATCH_CHUNKS,
    parser: Parser = parse_item,
) -> IngestSummary:
    """Ingest every file under the targets; failures are collected with their reasons, never raised.

    `accept_damaged` and `authority` are passed to the loader (see `ingest.loaders.parse_bytes`). `workers`: parser
    processes (default `ingest.workers.default_workers()`; 0 parses here, in turn). `batch_chunks`: how many chunks
    are embedded and written together (1 writes each report alone). `parser` reads one item (a module-level function:
    the workers import it). The outcome is the same whatever the workers and batch: the same reports, paragraphs
    and chunk ids as reading and writing the files one by one, in order.
    """
    started = time.perf_counter()
    items, failed = expand_targets(targets)
    summary = IngestSummary(failed=list(failed))
    swept = index.sweep_loose_vectors()
    if swept:
        log.warning("deleted %d vectors an interrupted ingest left behind", swept)
    options = ParseOptions(
        max_bytes=max_bytes, chunk_tokens=index.chunk_tokens, urls=dict(urls or {}), accept_damaged=accept_damaged, authority=authority
    )
    batch = _Batch(index, summary, batch_chunks)
    # parsed ahead while a batch is embedded: about a batch's worth of reports (an inspection report is 60 chunks
    # on average, a focused visit 25), so that the workers never wait for the encoder to finish
    ahead = max(8, batch_chunks // 16)
    with closing(parse_items(items, options, workers=workers, ahead=ahead, parser=parser)) as outcomes:
        for done, outcome in enumerate(outcomes, start=1):
            if outcome.document is None:
                summary.failed.append((outcome.failed_path or outcome.item, outcome.reason or "could not be read"))
            else:
                batch.add(outcome.item, outcome.document, outcome.chunks)
            if progress is not None:
                progress(done, len(items), outcome.item.rsplit("/", 1)[-1])
    batch.flush()
    summary.seconds = time.perf_counter() - started
    return summary


class _Batch:
    """Reports planned and waiting to be written together, and what their writing tells the summary."""

    def __init__(self, index: Index, summary: IngestSummary, batch_chunks: int) -> None:
        self.index = index
        self.summary = summary
        self.batch_chunks = max(1, batch_chunks)
        self.pending: list[tuple[str, PendingReport]] = []  # (item, planned report)
        self.chunks = 0

    def add(self, item: str, document: ParsedDocument, chunks: list[Chunk] | None) -> None:
        report = document.report
        # a plan reads the catalog, which does not know the reports waiting here: one that shares their content or
        # id is planned after they are written, as if the files were written one by one
        if any(p.document.report.content_hash == report.content_hash or p.document.report.report_id == report.report_id for _, p in self.pending):
            self.flush()
        try:
            planned = self.index.plan(document, chunks)
        except Exception as error:  # a bug on one file must not lose the batch: name it and go on
            log.exception("unexpected error ingesting %s", item)
            self.summary.failed.append((item, f"unexpected error: {type(error).__name__}: {error}"))
            return
        if document.flagged:
            log.warning("%s: %d passage(s) address the reader; kept, never quoted", item, len(document.flagged))
            self.summary.flagged.append((item, len(document.flagged)))
        if isinstance(planned, WriteResult):
            self._record(item, planned)
            return
        self.pending.append((item, planned))
        self.chunks += len(planned.chunks)
        if self.chunks >= self.batch_chunks:
            self.flush()

    def flush(self) -> None:
        pending, self.pending, self.chunks = self.pending, [], 0
        if not pending:
            return
        try:
            results = self.index.write([p for _, p in pending])
        except Exception:  # which report failed is not known: write each alone, so that only its own file fails
            log.exception("writing %d reports together failed; writing each alone", len(pending))
            for item, planned in pending:
                try:
                    [result] = self.index.write([planned])
                except Exception as error:
                    log.exception("unexpected error ingesting %s", item)
                    self.summary.failed.append((item, f"unexpected error: {type(error).__name__}: {error}"))
                else:
                    self._record(item, result)
            return
        for (item, _), result in zip(pending, results, strict=True):
            self._record(item, result)

    def _record(self, item: str, result: WriteResult) -> None:
        if result.outcome == "duplicate":
            self.summary.duplicate.append((item, result.report_id))
            return
        getattr(self.summary, result.outcome).append(result.report_id)
        self.summary.paragraphs += result.paragraphs
        self.summary.chunks += result.chunks
