"""Folders a process saves for the next one (the keyword index, the vector table), written whole or not at all."""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path


def write_folder(folder: Path, fill: Callable[[Path], None]) -> None:
    """Replace `folder` with what `fill` writes into an empty folder: written beside it first and renamed into place,
    so a reader sees the old folder or the new one, whole. A failed write (a full disk, a read-only folder) leaves
    nothing half-written and raises."""
    staging = folder.with_name(f"{folder.name}.tmp-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        staging.mkdir(parents=True)
        fill(staging)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    retired = folder.with_name(f"{folder.name}.old-{os.getpid()}")
    if folder.exists():
        folder.rename(retired)
    staging.rename(folder)
    shutil.rmtree(retired, ignore_errors=True)


def digest(chunk_ids: Sequence[str]) -> str:
    """What a saved folder was built over: the chunk ids, in order."""
    return hashlib.sha256("\n".join(chunk_ids).encode("utf-8")).hexdigest()
