"""Batch ingest: files, folders and URLs into the index, one bad file never stopping the batch."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import IngestError
from ingest.loaders import fetch_url, is_url, iter_document_paths, load_document
from vectorstore.index import Index

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


def ingest_targets(
    index: Index,
    targets: Iterable[str],
    *,
    max_bytes: int,
    urls: Mapping[str, str] | None = None,
    progress: Progress | None = None,
    accept_damaged: bool = False,
    authority: str | None = None,
) -> IngestSummary:
    """Ingest every file under the targets; failures are collected with their reasons, never raised.

    `accept_damaged` and `authority` are passed to the loader (see `ingest.loaders.parse_bytes`).
    """
    started = time.perf_counter()
    items, failed = expand_targets(targets)
    summary = IngestSummary(failed=list(failed))
    for done, item in enumerate(items, start=1):
        name = item.rsplit("/", 1)[-1]
        try:
            if is_url(item):
                document = fetch_url(item, max_bytes=max_bytes, accept_damaged=accept_damaged, authority=authority)
            else:
                document = load_document(
                    Path(item), max_bytes=max_bytes, urls=urls, accept_damaged=accept_damaged, authority=authority
                )
            result = index.add_document(document)
            if document.flagged:
                log.warning("%s: %d passage(s) address the reader; kept, never quoted", item, len(document.flagged))
                summary.flagged.append((item, len(document.flagged)))
        except IngestError as error:
            summary.failed.append((error.path, error.reason))
        except Exception as error:  # a bug on one file must not lose the batch: name it and go on
            log.exception("unexpected error ingesting %s", item)
            summary.failed.append((item, f"unexpected error: {type(error).__name__}: {error}"))
        else:
            if result.outcome == "duplicate":
                summary.duplicate.append((item, result.report_id))
            else:
                getattr(summary, result.outcome).append(result.report_id)
                summary.paragraphs += result.paragraphs
                summary.chunks += result.chunks
        if progress is not None:
            progress(done, len(items), name)
    summary.seconds = time.perf_counter() - started
    return summary
