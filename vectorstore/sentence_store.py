"""Sentence vectors on disk, beside the catalog: embedded once for every process on the index, and across restarts.

An answer scores every sentence of the paragraphs it reads against the question, so it embeds them (issue 23: 90% of
an answer's time). `chatbot.extractive.SentenceVectors` keeps them in a process's memory; this store keeps them in
`catalog.sentences.sqlite`, keyed by a hash of the sentence, for the encoder's vectors named in the file: filled as
answers read sentences, or ahead of the questions by `ofsted-qa sentences` (all reports, or each authority's latest).
They are derived data: a store of another encoder's vectors is emptied, and one that cannot be opened is left alone
(answers embed as before). See docs/adr/0014-sentence-store.md.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

_SCHEMA = """
-- a rowid table: a 1.5 KB vector is too large a row for WITHOUT ROWID's pages (it tripled the file)
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sentences (key BLOB PRIMARY KEY, vector BLOB NOT NULL);
"""
_LOOKUP_BATCH = 500  # well under SQLite's limit on bound parameters


def sentence_key(sentence: str) -> bytes:
    return hashlib.blake2b(sentence.encode("utf-8"), digest_size=16).digest()


class SentenceStore:
    """One encoder's sentence vectors (float32, `dimension` each) in a SQLite file; thread-safe."""

    def __init__(self, path: Path, vectors_name: str, dimension: int) -> None:
        self.path = path
        self.dimension = dimension
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30)
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            recorded = dict(self._db.execute("SELECT key, value FROM meta").fetchall())
            wanted = {"vectors": vectors_name, "dimension": str(dimension)}
            if recorded != wanted:
                # another encoder's vectors (or a new file): what is here cannot be used
                self._db.execute("BEGIN IMMEDIATE")
                self._db.execute("DELETE FROM sentences")
                self._db.execute("DELETE FROM meta")
                self._db.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", sorted(wanted.items()))
                self._db.execute("COMMIT")
        except sqlite3.Error:
            self._db.close()
            raise

    @classmethod
    def open(cls, path: Path, vectors_name: str, dimension: int) -> SentenceStore | None:
        """The store at `path`, or None (with a warning) when it cannot be opened or written: answers embed as before."""
        try:
            return cls(path, vectors_name, dimension)
        except (sqlite3.Error, OSError) as error:
            log.warning("sentence vectors are not kept on disk (%s: %s): each process embeds them again", path, error)
            return None

    def get(self, sentences: Iterable[str]) -> dict[str, np.ndarray]:
        """The stored vectors of those of these sentences the store holds."""
        by_key = {sentence_key(s): s for s in dict.fromkeys(sentences)}
        keys = list(by_key)
        found: dict[str, np.ndarray] = {}
        try:
            with self._lock:
                for start in range(0, len(keys), _LOOKUP_BATCH):
                    part = keys[start : start + _LOOKUP_BATCH]
                    marks = ",".join("?" * len(part))
                    for key, blob in self._db.execute(f"SELECT key, vector FROM sentences WHERE key IN ({marks})", part):
                        vector = np.frombuffer(blob, dtype=np.float32)
                        if vector.shape == (self.dimension,):
                            found[by_key[key]] = vector
        except sqlite3.Error as error:
            log.warning("sentence vectors not read from %s (%s)", self.path, error)
        return found

    def put(self, vectors: Mapping[str, np.ndarray]) -> None:
        """Keep these sentences' vectors (one transaction). A failed write loses only the keeping."""
        rows = [(sentence_key(s), np.asarray(v, dtype=np.float32).tobytes()) for s, v in vectors.items()]
        if not rows:
            return
        try:
            with self._lock:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    self._db.executemany("INSERT OR IGNORE INTO sentences (key, vector) VALUES (?, ?)", rows)
                    self._db.execute("COMMIT")
                except sqlite3.Error:
                    self._db.execute("ROLLBACK")
                    raise
        except sqlite3.Error as error:
            log.warning("sentence vectors not kept in %s (%s)", self.path, error)

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM sentences").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()
