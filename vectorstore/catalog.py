"""The catalog: reports, judgements, paragraphs and live chunks in SQLite, next to the index.

It is the source of truth for what is live: Chroma may briefly hold chunks of a report version that
is being written (or was abandoned by a crash); retrieval only returns chunks the catalog lists.
Each report's rows are replaced in one transaction, so readers see the old version or the new one.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from datetime import date
from pathlib import Path

from core.models import Chunk, Judgement, Paragraph, Report, ReportMetadata

SCHEMA = """
CREATE TABLE IF NOT EXISTS reports (
    report_id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    title TEXT NOT NULL,
    pages INTEGER NOT NULL,
    url TEXT,
    local_authority TEXT,
    report_type TEXT NOT NULL,
    subtype TEXT,
    published TEXT,
    visit_start TEXT,
    visit_end TEXT,
    metadata_json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS judgements (
    report_id TEXT NOT NULL REFERENCES reports(report_id) ON DELETE CASCADE,
    area TEXT NOT NULL,
    label TEXT NOT NULL,
    grade TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS paragraphs (
    paragraph_id TEXT PRIMARY KEY,
    report_id TEXT NOT NULL REFERENCES reports(report_id) ON DELETE CASCADE,
    ord INTEGER NOT NULL,
    page INTEGER NOT NULL,
    kind TEXT NOT NULL,
    paragraph_number INTEGER,
    heading_path TEXT NOT NULL,
    text TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS chunks (
    chunk_id TEXT PRIMARY KEY,
    report_id TEXT NOT NULL REFERENCES reports(report_id) ON DELETE CASCADE,
    ord INTEGER NOT NULL,
    paragraph_ids TEXT NOT NULL,
    text TEXT NOT NULL,
    context TEXT NOT NULL,
    page INTEGER NOT NULL,
    heading_path TEXT NOT NULL,
    tokens INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- chunk ids whose vectors a write put in (or is taking out of) Chroma without the catalog listing them: an
-- interrupted write's leftovers, deleted by the next ingest (Index.sweep_loose_vectors)
CREATE TABLE IF NOT EXISTS loose_vectors (chunk_id TEXT PRIMARY KEY);
CREATE INDEX IF NOT EXISTS paragraphs_report ON paragraphs(report_id, ord);
CREATE INDEX IF NOT EXISTS chunks_report ON chunks(report_id, ord);
CREATE INDEX IF NOT EXISTS judgements_report ON judgements(report_id);
CREATE INDEX IF NOT EXISTS reports_hash ON reports(content_hash);
"""


def _date_or_none(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def metadata_to_json(metadata: ReportMetadata) -> str:
    data = asdict(metadata)
    for key in ("visit_start", "visit_end", "published", "letter_date"):
        data[key] = data[key].isoformat() if data[key] else None
    return json.dumps(data)


def metadata_from_json(raw: str) -> ReportMetadata:
    data = json.loads(raw)
    for key in ("visit_start", "visit_end", "published", "letter_date"):
        data[key] = _date_or_none(data.get(key))
    data["inspectors"] = tuple(data.get("inspectors") or ())
    data["judgements"] = tuple(Judgement(**j) for j in data.get("judgements") or ())
    return ReportMetadata(**data)


class Catalog:
    """SQLite tables of reports, judgements, paragraphs and chunks; safe to share between threads."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.RLock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # ---- writing ---------------------------------------------------------------------------------

    def replace_report(
        self, report: Report, paragraphs: Sequence[Paragraph], chunks: Sequence[Chunk], fingerprint: str = ""
    ) -> None:
        """Swap in a report's new version in one transaction (the old one stays until it commits)."""
        self.replace_reports([(report, paragraphs, chunks, fingerprint)])

    def replace_reports(
        self,
        versions: Sequence[tuple[Report, Sequence[Paragraph], Sequence[Chunk], str]],
        *,
        listed: Sequence[str] = (),
        loose: Sequence[str] = (),
    ) -> None:
        """Swap in several reports' new versions (report, paragraphs, chunks, fingerprint) in one transaction: readers
        see every old version or every new one. `listed`: vector ids noted loose that these versions now list;
        `loose`: ids of the replaced versions' vectors, about to be deleted from Chroma."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for report, paragraphs, chunks, fingerprint in versions:
                    self._insert_report(report, paragraphs, chunks, fingerprint)
                self._db.executemany("DELETE FROM loose_vectors WHERE chunk_id = ?", [(cid,) for cid in listed])
                self._db.executemany("INSERT OR IGNORE INTO loose_vectors VALUES (?)", [(cid,) for cid in loose])
                self._bump_version()
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def _insert_report(self, report: Report, paragraphs: Sequence[Paragraph], chunks: Sequence[Chunk], fingerprint: str) -> None:
        meta = report.metadata
        self._db.execute("DELETE FROM reports WHERE report_id = ?", (report.report_id,))
        self._db.execute(
            "INSERT INTO reports VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                report.report_id,
                report.source,
                report.content_hash,
                fingerprint or report.content_hash,
                report.title,
                report.pages,
                report.url,
                meta.local_authority,
                meta.report_type,
                meta.subtype,
                meta.published.isoformat() if meta.published else None,
                meta.visit_start.isoformat() if meta.visit_start else None,
                meta.visit_end.isoformat() if meta.visit_end else None,
                metadata_to_json(meta),
            ),
        )
        self._db.executemany(
            "INSERT INTO judgements VALUES (?,?,?,?)",
            [(report.report_id, j.area, j.label, j.grade) for j in meta.judgements],
        )
        self._db.executemany(
            "INSERT INTO paragraphs VALUES (?,?,?,?,?,?,?,?)",
            [
                (
                    p.paragraph_id,
                    p.report_id,
                    p.order,
                    p.page,
                    p.kind,
                    p.paragraph_number,
                    json.dumps(list(p.heading_path)),
                    p.text,
                )
                for p in paragraphs
            ],
        )
        self._db.executemany(
            "INSERT INTO chunks VALUES (?,?,?,?,?,?,?,?,?)",
            [
                (
                    c.chunk_id,
                    c.report_id,
                    order,
                    json.dumps(list(c.paragraph_ids)),
                    c.text,
                    c.context,
                    c.page,
                    json.dumps(list(c.heading_path)),
                    c.tokens,
                )
                for order, c in enumerate(chunks)
            ],
        )

    def note_loose_vectors(self, chunk_ids: Sequence[str]) -> None:
        """Record vector ids about to be written to Chroma before the catalog lists them (see loose_vectors)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany("INSERT OR IGNORE INTO loose_vectors VALUES (?)", [(cid,) for cid in chunk_ids])
            self._db.execute("COMMIT")

    def forget_loose_vectors(self, chunk_ids: Sequence[str]) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany("DELETE FROM loose_vectors WHERE chunk_id = ?", [(cid,) for cid in chunk_ids])
            self._db.execute("COMMIT")

    def loose_vectors(self) -> list[str]:
        with self._lock:
            return [r[0] for r in self._db.execute("SELECT chunk_id FROM loose_vectors ORDER BY chunk_id")]

    def listed_chunk_ids(self, chunk_ids: Sequence[str]) -> set[str]:
        """Those of these chunk ids that the catalog lists (by key: the cost follows the ids asked about)."""
        with self._lock:
            return {cid for cid in chunk_ids if self._db.execute("SELECT 1 FROM chunks WHERE chunk_id = ?", (cid,)).fetchone()}

    def set_vectors_name(self, name: str) -> None:
        """Record that every report's vectors are now `name`'s (the last part of each fingerprint; see
        Index.fingerprint), after they were all re-embedded."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                rows = self._db.execute("SELECT report_id, fingerprint FROM reports").fetchall()
                self._db.executemany(
                    "UPDATE reports SET fingerprint = ? WHERE report_id = ?",
                    [
                        (":".join([*fingerprint.split(":", 3)[:3], name]), report_id)
                        for report_id, fingerprint in rows
                        if fingerprint.count(":") >= 3  # hash:parser:budget:vectors
                    ],
                )
                self._bump_version()
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def delete_report(self, report_id: str) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("DELETE FROM reports WHERE report_id = ?", (report_id,))
            self._bump_version()
            self._db.execute("COMMIT")

    def _bump_version(self) -> None:
        self._db.execute(
            "INSERT INTO state VALUES ('version', '1') "
            "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1"
        )

    # ---- reading ---------------------------------------------------------------------------------

    def version(self) -> int:
        with self._lock:
            row = self._db.execute("SELECT value FROM state WHERE key = 'version'").fetchone()
        return int(row[0]) if row else 0

    def fingerprint(self, report_id: str) -> str | None:
        """What the stored version was built from: file hash, parser version, chunk budget, model."""
        with self._lock:
            row = self._db.execute("SELECT fingerprint FROM reports WHERE report_id = ?", (report_id,)).fetchone()
        return row[0] if row else None

    def reports(self) -> list[Report]:
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_REPORT_COLUMNS} FROM reports ORDER BY local_authority, published"
            ).fetchall()
        return [_report(r) for r in rows]

    def report(self, report_id: str) -> Report | None:
        with self._lock:
            row = self._db.execute(f"SELECT {_REPORT_COLUMNS} FROM reports WHERE report_id = ?", (report_id,)).fetchone()
        return _report(row) if row else None

    def set_source(self, report_id: str, source: str) -> None:
        """Where the report's file now is (a moved folder, or a path stored relative by an older version)."""
        with self._lock:
            self._db.execute("UPDATE reports SET source = ? WHERE report_id = ?", (source, report_id))
            self._bump_version()

    def report_with_hash(self, content_hash: str, *, excluding: str) -> str | None:
        """The id of another report read from a byte-identical file, if one is indexed."""
        with self._lock:
            row = self._db.execute(
                "SELECT report_id FROM reports WHERE content_hash = ? AND report_id != ? ORDER BY report_id LIMIT 1",
                (content_hash, excluding),
            ).fetchone()
        return row[0] if row else None

    def paragraph(self, paragraph_id: str) -> Paragraph | None:
        with self._lock:
            row = self._db.execute(
                f"SELECT {_PARAGRAPH_COLUMNS} "
                "FROM paragraphs WHERE paragraph_id = ?",
                (paragraph_id,),
            ).fetchone()
        return _paragraph(row) if row else None

    def paragraphs(self, report_id: str) -> list[Paragraph]:
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_PARAGRAPH_COLUMNS} "
                "FROM paragraphs WHERE report_id = ? ORDER BY ord",
                (report_id,),
            ).fetchall()
        return [_paragraph(r) for r in rows]

    def chunks(self, report_ids: Iterable[str] | None = None) -> list[Chunk]:
        query = "SELECT chunk_id, report_id, paragraph_ids, text, context, page, heading_path, tokens FROM chunks"
        with self._lock:
            if report_ids is None:
                rows = self._db.execute(query + " ORDER BY report_id, ord").fetchall()
            else:
                ids = list(report_ids)
                marks = ",".join("?" * len(ids))
                rows = self._db.execute(f"{query} WHERE report_id IN ({marks}) ORDER BY report_id, ord", ids).fetchall()
        # one JSON parse for every row's paragraph ids, and one per distinct heading path: per-row parsing was half the
        # 1 s this took on the full corpus's 49,380 chunks, at each process's first question
        paragraph_ids = json.loads("[" + ",".join(r[2] for r in rows) + "]")
        headings: dict[str, tuple[str, ...]] = {}
        return [
            Chunk(
                chunk_id=r[0],
                report_id=r[1],
                paragraph_ids=tuple(ids),
                text=r[3],
                context=r[4],
                page=r[5],
                heading_path=headings[r[6]] if r[6] in headings else headings.setdefault(r[6], tuple(json.loads(r[6]))),
                tokens=r[7],
            )
            for r, ids in zip(rows, paragraph_ids, strict=True)
        ]

    def flagged_paragraphs(self) -> list[Paragraph]:
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_PARAGRAPH_COLUMNS} "
                "FROM paragraphs WHERE kind = 'flagged' ORDER BY report_id, ord"
            ).fetchall()
        return [_paragraph(r) for r in rows]

    def chunk_ids(self, report_id: str) -> set[str]:
        with self._lock:
            rows = self._db.execute("SELECT chunk_id FROM chunks WHERE report_id = ?", (report_id,)).fetchall()
        return {r[0] for r in rows}

    def counts(self) -> dict[str, int]:
        with self._lock:
            return {
                table: self._db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
                for table in ("reports", "paragraphs", "chunks", "judgements")
            }


_REPORT_COLUMNS = "report_id, source, content_hash, title, pages, url, metadata_json"
_PARAGRAPH_COLUMNS = "paragraph_id, report_id, text, page, ord, kind, paragraph_number, heading_path"  # as _paragraph reads them


def _report(row: Sequence) -> Report:
    return Report(
        report_id=row[0],
        source=row[1],
        content_hash=row[2],
        title=row[3],
        pages=row[4],
        url=row[5],
        metadata=metadata_from_json(row[6]),
    )


def _paragraph(row: Sequence) -> Paragraph:
    return Paragraph(
        paragraph_id=row[0],
        report_id=row[1],
        text=row[2],
        page=row[3],
        order=row[4],
        kind=row[5],
        paragraph_number=row[6],
        heading_path=tuple(json.loads(row[7])),
    )
