"""Files to parsed, chunked documents in worker processes, so that parsing runs while the encoder embeds.

`parse_items` hands the files and URLs of a batch to a pool of worker processes (spawned: nothing of the caller's
state is shared, and it works the same under threads, the app's and the CLI's) and yields their outcomes in the
order of the items, each as soon as it and every item before it are parsed; a few items are parsed ahead, never the
whole batch, so memory does not grow with the batch. Each outcome is a document with its chunks, or the reason its
file could not be read: one bad file never stops the others. A worker that dies on a file (a crash inside the PDF
library) takes only that file with it: the others in flight are parsed again in a fresh pool, and a file that kills
a worker twice is reported as failed.

With no workers (or one item) the items are parsed here, in turn: the same outcomes, in the same order; so are the
items left when no worker can start at all (as in a script that starts its work without `if __name__ ==
"__main__":`, which every spawned worker would run again).
"""

from __future__ import annotations

import logging
import os
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Generator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from multiprocessing import get_context
from pathlib import Path

from core.errors import IngestError
from core.models import Chunk
from ingest.chunking import build_chunks
from ingest.loaders import ParsedDocument, fetch_url, is_url, load_document

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ParseOptions:
    """What every file of a batch is read with (sent to each worker once per file: keep it small)."""

    max_bytes: int
    chunk_tokens: int
    urls: Mapping[str, str] = field(default_factory=dict)
    accept_damaged: bool = False
    authority: str | None = None


@dataclass(frozen=True)
class ParseOutcome:
    """One item's result: a document and its chunks, or the path and reason it failed."""

    item: str
    document: ParsedDocument | None = None
    chunks: list[Chunk] | None = None
    failed_path: str | None = None
    reason: str | None = None


Parser = Callable[[str, ParseOptions], ParseOutcome]


def parse_item(item: str, options: ParseOptions) -> ParseOutcome:
    """Read, parse and chunk one file or URL; every failure is an outcome naming the file, never an exception."""
    try:
        if is_url(item):
            document = fetch_url(item, max_bytes=options.max_bytes, accept_damaged=options.accept_damaged, authority=options.authority)
        else:
            document = load_document(
                Path(item), max_bytes=options.max_bytes, urls=options.urls, accept_damaged=options.accept_damaged, authority=options.authority
            )
        chunks = build_chunks(document.report, document.paragraphs, budget=options.chunk_tokens)
    except IngestError as error:
        return ParseOutcome(item, failed_path=error.path, reason=error.reason)
    except Exception as error:  # a bug on one file must not lose the batch: name it and go on
        log.error("unexpected error parsing %s\n%s", item, traceback.format_exc())
        return ParseOutcome(item, failed_path=item, reason=f"unexpected error: {type(error).__name__}: {error}")
    return ParseOutcome(item, document=document, chunks=chunks)


def default_workers() -> int:
    """Parser processes beside the encoder: one per core beyond the first, at most four (on 2 cores, one: parsing a
    report takes about a fifth of the time embedding it does, so one worker keeps the encoder fed)."""
    return max(1, min(4, (os.cpu_count() or 1) - 1))


def _watch_parent(parent: int) -> None:
    """In a worker: exit when the process that started it has gone (killed, say), instead of waiting forever."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _start_worker(parent: int) -> None:
    from core.offline import enforce_offline

    enforce_offline()
    _watch_parent(parent)


def _pool(workers: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"), initializer=_start_worker, initargs=(os.getpid(),))


def parse_items(
    items: Sequence[str], options: ParseOptions, *, workers: int | None = None, ahead: int | None = None, parser: Parser = parse_item
) -> Generator[ParseOutcome, None, None]:
    """Every item's outcome, in the items' order; parsed by `workers` processes (default: `default_workers()`), or
    here when there are none or a single item. At most `ahead` items are parsed ahead of the one yielded (default:
    two per worker, and two more): a caller that stops to embed a batch should ask for a batch's worth, or the
    workers wait with it. `parser` must be a module-level function (workers import it)."""
    workers = default_workers() if workers is None else workers
    if workers <= 0 or len(items) <= 1:
        for item in items:
            yield parser(item, options)
        return
    ahead = max(ahead or 0, 2 * workers + 2)
    waiting = deque(items)
    pool = _pool(workers)
    flight: deque[tuple[str, Future[ParseOutcome]]] = deque()
    try:
        while waiting or flight:
            while waiting and len(flight) < ahead:
                item = waiting.popleft()
                flight.append((item, pool.submit(parser, item, _for(item, options))))
            item, future = flight.popleft()
            try:
                outcome = future.result()
            except BrokenProcessPool:
                # a worker died: which file killed it is not known, so this one is tried alone in a fresh pool, and
                # the others in flight are parsed again after it
                pool.shutdown(wait=True, cancel_futures=True)
                again = [other for other, _ in flight]
                flight.clear()
                pool = _pool(workers)
                alone = _alone(pool, parser, item, _for(item, options))
                if alone is None:
                    pool.shutdown(wait=True, cancel_futures=True)
                    pool = _pool(workers)
                    if not _starts(pool):
                        # no worker can start here (a script without `if __name__ == "__main__":`, say): parse here
                        log.warning("parser worker processes cannot start; parsing in this process instead")
                        for rest in (item, *again, *waiting):
                            yield parser(rest, options)
                        return
                    alone = ParseOutcome(item, failed_path=item, reason="the parser crashed reading this file (its process died); the file may be corrupt")
                outcome = alone
                waiting.extendleft(reversed(again))
            except Exception as error:  # the item or its outcome could not travel between the processes
                outcome = ParseOutcome(item, failed_path=item, reason=f"unexpected error: {type(error).__name__}: {error}")
            yield outcome
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _for(item: str, options: ParseOptions) -> ParseOptions:
    """The options one item is sent with: of the official links, its own only (the manifest has one per report)."""
    name = Path(item).name
    return replace(options, urls={name: options.urls[name]} if name in options.urls else {})


def _ready() -> bool:
    return True


def _starts(pool: ProcessPoolExecutor) -> bool:
    """Whether a worker of this pool starts and answers at all."""
    try:
        return pool.submit(_ready).result()
    except BrokenProcessPool:
        return False


def _alone(pool: ProcessPoolExecutor, parser: Parser, item: str, options: ParseOptions) -> ParseOutcome | None:
    """One item parsed by itself; None when it kills its worker too."""
    try:
        return pool.submit(parser, item, options).result()
    except BrokenProcessPool:
        return None
