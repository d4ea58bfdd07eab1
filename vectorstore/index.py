"""The index: catalog + Chroma + BM25 over the same chunk ids, written safely and read with filters."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal

import numpy as np

from core.errors import StoreNotReadyError
from core.models import Chunk, Filters, Paragraph, Report, ReportMetadata
from core.text import normalise
from ingest.chunking import build_chunks
from ingest.loaders import PARSER_VERSION, ParsedDocument
from vectorstore.catalog import Catalog
from vectorstore.chroma_store import ChromaStore, chunk_metadata
from vectorstore.embeddings import Embedder, vectors_name
from vectorstore.keyword import KeywordIndex
from vectorstore.sentence_store import SentenceStore
from vectorstore.vector_table import VectorTable

log = logging.getLogger(__name__)

WriteOutcome = Literal["unchanged", "added", "replaced", "duplicate"]


@dataclass(frozen=True)
class PendingReport:
    """A report planned for writing (Index.plan): its document, chunks, fingerprint, and whether it replaces an
    indexed version."""

    document: ParsedDocument
    chunks: list[Chunk]
    fingerprint: str
    replaces: bool


@dataclass(frozen=True)
class WriteResult:
    report_id: str  # for a duplicate, the report already indexed from the same bytes
    outcome: WriteOutcome
    paragraphs: int
    chunks: int


def same_report(old: ReportMetadata, new: ReportMetadata) -> bool:
    """Whether a changed file is a new version of the same report rather than a different report.

    The text decides, not the file name: the same authority, the same kind of report and the same visit.
    """
    return (
        normalise(old.local_authority or "") == normalise(new.local_authority or "")
        and old.report_type == new.report_type
        and (old.visit_start, old.visit_end) == (new.visit_start, new.visit_end)
    )


class Index:
    """Everything retrieval reads and ingest writes, kept in step."""

    def __init__(
        self, catalog: Catalog, dense: ChromaStore, embedder: Embedder, *, chunk_tokens: int = 220, vector_table: bool = True
    ) -> None:
        """`vector_table`: search a saved copy of the vectors in memory (VectorTable) rather than asking Chroma."""
        self.catalog = catalog
        self.dense = dense
        self.embedder = embedder
        self.chunk_tokens = chunk_tokens
        self._lock = threading.RLock()
        self._keyword: KeywordIndex | None = None
        self.keyword_source = ""  # "loaded" (saved by an earlier process) or "built", once the chunks are read
        self.use_vector_table = vector_table
        self._vectors: VectorTable | None = None
        self.vector_source = ""  # "loaded", "built", or "chroma" (no table: Chroma answers), once the chunks are read
        self._rows: dict[str, np.ndarray] = {}  # report id -> its chunks' positions in the keyword index and table
        self._chunks: dict[str, Chunk] = {}
        self._reports: dict[str, Report] = {}
        self._loaded_version = -1

    # ---- writing ---------------------------------------------------------------------------------

    def add_document(self, document: ParsedDocument) -> WriteResult:
        """Write one report (see `plan` and `write`, which ingest uses to write many at once)."""
        planned = self.plan(document)
        return planned if isinstance(planned, WriteResult) else self.write([planned])[0]

    def plan(self, document: ParsedDocument, chunks: Sequence[Chunk] | None = None) -> WriteResult | PendingReport:
        """What writing this report takes: a WriteResult when nothing is to be written (a duplicate, or unchanged),
        else the report with its chunks, for `write`. `chunks` are the document's, when already built (by a parser
        worker). Reads the catalog by key only, so its cost does not grow with what is indexed.

        Identity comes from the content, the file name being only a hint: a byte-identical copy of an
        indexed report (under any name) is a "duplicate" and writes nothing; a file under a known report's
        name whose text is a different report (another authority, kind or visit) is added beside it under
        the name plus a digest of its content, never in its place. Plans are made against the catalog: a
        report planned but not yet written is unknown to the next plan, so a caller writes it first when the
        next document shares its content hash or id.
        """
        report = document.report
        twin = self.catalog.report_with_hash(report.content_hash, excluding=report.report_id)
        if twin is not None:
            return WriteResult(twin, "duplicate", len(document.paragraphs), 0)
        known = self.catalog.report(report.report_id)
        if known is not None and known.content_hash != report.content_hash and not same_report(known.metadata, report.metadata):
            return self.plan(document.with_report_id(f"{report.report_id}-{report.content_hash[:8]}"))
        fingerprint = self.fingerprint(report.content_hash)
        previous = self.catalog.fingerprint(report.report_id)
        if previous == fingerprint:
            if known is not None and known.source != report.source:
                self.catalog.set_source(report.report_id, report.source)
            return WriteResult(report.report_id, "unchanged", len(document.paragraphs), 0)
        if chunks is None or any(c.report_id != report.report_id for c in chunks):
            chunks = build_chunks(report, document.paragraphs, budget=self.chunk_tokens)
        return PendingReport(document, list(chunks), fingerprint, previous is not None)

    def write(self, pending: Sequence[PendingReport]) -> list[WriteResult]:
        """Write planned reports together: one embedding call, one Chroma write, one catalog transaction.

        Order matters for crash safety: the new vectors' ids are noted in the catalog as loose, the vectors go
        into Chroma (invisible: the catalog does not list them), then the catalog swaps every report's version in
        one transaction (which also notes the replaced versions' vectors as loose), then those are deleted. A
        crash at any point leaves every previous version whole and queryable, and the next ingest deletes the
        loose vectors it left (`sweep_loose_vectors`). Vectors already in Chroma under a chunk's id (a chunk
        unchanged in a new version) are kept, not embedded again. Nothing here reads more than these reports'
        own rows, so a write costs the same however much is indexed.
        """
        if not pending:
            return []
        new_ids = [c.chunk_id for p in pending for c in p.chunks]
        present = self.dense.present(new_ids)
        fresh = [(c, p.document.report) for p in pending for c in p.chunks if c.chunk_id not in present]
        if fresh:
            self.catalog.note_loose_vectors([c.chunk_id for c, _ in fresh])
            vectors = self.embedder.embed_documents([c.embed_text for c, _ in fresh])
            self.dense.add([c for c, _ in fresh], vectors, [chunk_metadata(c, report) for c, report in fresh])
        kept = set(new_ids)
        stale = sorted(
            {cid for p in pending if p.replaces for cid in self.catalog.chunk_ids(p.document.report.report_id)} - kept
        )
        self.catalog.replace_reports(
            [(p.document.report, p.document.paragraphs, p.chunks, p.fingerprint) for p in pending],
            listed=[c.chunk_id for c, _ in fresh],
            loose=stale,
        )
        if stale:
            self.dense.delete(stale)
            self.catalog.forget_loose_vectors(stale)
        return [
            WriteResult(p.document.report.report_id, "replaced" if p.replaces else "added", len(p.document.paragraphs), len(p.chunks))
            for p in pending
        ]

    def sweep_loose_vectors(self) -> int:
        """Delete the vectors an interrupted write left in Chroma that the catalog does not list; how many."""
        loose = self.catalog.loose_vectors()
        if not loose:
            return 0
        listed = self.catalog.listed_chunk_ids(loose)
        orphans = sorted(set(loose) - listed)
        if orphans:
            self.dense.delete(orphans)
        self.catalog.forget_loose_vectors(loose)
        return len(orphans)

    def fingerprint(self, content_hash: str) -> str:
        """Re-ingesting is a no-op only when the file and everything that turns it into chunks are unchanged."""
        return f"{content_hash}:{PARSER_VERSION}:{self.chunk_tokens}:{self.embedder.name}"

    def reembed(self, *, batch: int = 512, progress: Callable[[int, int], None] | None = None) -> int:
        """Rewrite every live chunk's vector with this index's embedder, then record its name: a change to an encoder
        whose vectors differ (`ofsted-qa reembed`). The chunks come from the catalog, so no report is read again.
        Vectors Chroma holds that the catalog does not list (left by a crash) are deleted. Until it finishes, the
        collection keeps its old name, so a crash part way leaves it to the old encoder, and running it again starts
        over. Returns the number of chunks embedded."""
        reports = {r.report_id: r for r in self.catalog.reports()}
        chunks = self.catalog.chunks()
        for start in range(0, len(chunks), batch):
            part = chunks[start : start + batch]
            vectors = self.embedder.embed_documents([c.embed_text for c in part])
            self.dense.add(part, vectors, [chunk_metadata(c, reports[c.report_id]) for c in part])
            if progress is not None:
                progress(start + len(part), len(chunks))
        orphans = self.dense.all_ids() - {c.chunk_id for c in chunks}
        if orphans:
            self.dense.delete(sorted(orphans))
        self.dense.record_model()
        self.catalog.set_vectors_name(self.embedder.name)
        return len(chunks)

    def remove_report(self, report_id: str) -> None:
        self.catalog.delete_report(report_id)
        self.dense.delete(sorted(self.dense.ids_for_report(report_id)))

    # ---- reading ---------------------------------------------------------------------------------

    def _refresh(self) -> None:
        """Reload the chunk table and rebuild BM25 when the catalog has changed since the last read."""
        version = self.catalog.version()
        if version == self._loaded_version:
            return
        with self._lock:
            if version == self._loaded_version:
                return
            chunks = self.catalog.chunks()
            reports = {r.report_id: r for r in self.catalog.reports()}
            chunk_ids = [c.chunk_id for c in chunks]
            self._keyword = self._keyword_index(chunk_ids, [c.embed_text for c in chunks])
            self._vectors = self._vector_table(chunk_ids)
            rows: dict[str, list[int]] = {}
            for position, chunk in enumerate(chunks):
                rows.setdefault(chunk.report_id, []).append(position)
            self._rows = {report_id: np.asarray(positions, dtype=np.int64) for report_id, positions in rows.items()}
            self._chunks = {c.chunk_id: c for c in chunks}
            self._reports = reports
            self._loaded_version = version

    @property
    def keyword_dir(self) -> Path:
        """Where the BM25 index over the catalog's chunks is saved, beside the catalog it was built from."""
        return self.catalog.path.with_suffix(".keyword")

    def _keyword_index(self, chunk_ids: list[str], texts: list[str]) -> KeywordIndex:
        """The saved BM25 index when it was built over exactly these chunks; else built (the larger cost of a
        process's first question on a big index: 6.7 s of its 11.7 s on the full corpus) and saved for the next
        process. A folder that cannot be written costs only the saving (a warning)."""
        loaded = KeywordIndex.load(self.keyword_dir, chunk_ids)
        if loaded is not None:
            self.keyword_source = "loaded"
            return loaded
        built = KeywordIndex(chunk_ids, texts)
        self.keyword_source = "built"
        try:
            built.save(self.keyword_dir)
        except OSError as error:
            log.warning("The keyword index is not saved (%s): each process builds it at its first question.", error)
        return built

    @property
    def _vectors_name(self) -> str:
        """The name of the vectors the store holds (an encoder's former names read as its present one): what the
        saved vector table and the sentence store record, so another encoder's are not used."""
        return vectors_name(self.dense.model_name) or self.dense.model_name

    @property
    def vectors_dir(self) -> Path:
        """Where the vector table over the catalog's chunks is saved, beside the catalog it was built from."""
        return self.catalog.path.with_suffix(".vectors")

    def _vector_table(self, chunk_ids: list[str]) -> VectorTable | None:
        """The saved vector table when it holds exactly these chunks' vectors; else built from the last one and Chroma
        (on the full corpus, 3 s to read every vector from Chroma, once) and saved for the next process. None when it
        is turned off or Chroma lacks a chunk's vector: then Chroma answers every search."""
        if not self.use_vector_table or not chunk_ids:
            self.vector_source = "chroma"
            return None
        loaded = VectorTable.load(self.vectors_dir, chunk_ids, self._vectors_name)
        if loaded is not None:
            self.vector_source = "loaded"
            return loaded
        built = VectorTable.build(chunk_ids, self._vectors_name, self.dense.vectors, self._vectors)
        self.vector_source = "built" if built is not None else "chroma"
        if built is not None:
            try:
                built.save(self.vectors_dir)
            except OSError as error:
                log.warning("The vector table is not saved (%s): each process reads it from Chroma at its first question.", error)
        return built

    def open_sentence_store(self) -> SentenceStore | None:
        """The sentence vectors kept on disk beside the catalog (`catalog.sentences.sqlite`) for this encoder; None when
        it cannot be opened (a warning says why)."""
        path = self.catalog.path.with_suffix(".sentences.sqlite")
        return SentenceStore.open(path, self._vectors_name, self.embedder.dimension)

    def _scope_rows(self, report_ids: Sequence[str] | None) -> np.ndarray | None:
        """The positions of these reports' chunks (None: every chunk)."""
        if report_ids is None:
            return None
        parts = [self._rows[r] for r in dict.fromkeys(report_ids) if r in self._rows]
        return np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)

    def warm_up(self) -> None:
        """Load what the first question would otherwise wait for: the chunk table, BM25 and the vector table (saved or
        built), the embedding model, and the table's pages (or, without a table, the vectors Chroma reads into memory at
        its first search). `QAPipeline.warm_up`, which the app runs in the background as it starts, calls this."""
        self._refresh()
        vector = self.embedder.embed_query("warm-up")
        if self._vectors is not None:
            self._vectors.search(vector, 1)  # reads the mapped table from disk
        else:
            self.dense.query(vector, 1)

    def require_ready(self) -> None:
        self._refresh()
        if not self._chunks:
            raise StoreNotReadyError("no reports indexed yet: run `ofsted-qa ingest DIR` (or start the app once)")

    def reports(self) -> list[Report]:
        self._refresh()
        return list(self._reports.values())

    def report(self, report_id: str) -> Report | None:
        self._refresh()
        return self._reports.get(report_id)

    def chunk(self, chunk_id: str) -> Chunk | None:
        self._refresh()
        return self._chunks.get(chunk_id)

    def chunks_in(self, report_ids: Sequence[str] | None) -> list[Chunk]:
        """The chunks of these reports (all when None), from memory."""
        self._refresh()
        if report_ids is None:
            return list(self._chunks.values())
        wanted = set(report_ids)
        return [c for c in self._chunks.values() if c.report_id in wanted]

    def paragraph(self, paragraph_id: str) -> Paragraph | None:
        """A paragraph that may be quoted: never one flagged at ingest for addressing its reader."""
        paragraph = self.catalog.paragraph(paragraph_id)
        return paragraph if paragraph is None or paragraph.kind != "flagged" else None

    def paragraphs(self, report_id: str) -> list[Paragraph]:
        """A report's paragraphs in order, less those flagged at ingest for addressing the reader."""
        return [p for p in self.catalog.paragraphs(report_id) if p.kind != "flagged"]

    def flagged_paragraphs(self) -> list[Paragraph]:
        """Every paragraph flagged at ingest (ingest.hostile): kept for a person to read, never quoted."""
        return self.catalog.flagged_paragraphs()

    def authorities(self) -> list[str]:
        return sorted({r.metadata.local_authority for r in self.reports() if r.metadata.local_authority})

    def report_ids_for(self, filters: Filters | None) -> list[str] | None:
        """The reports a filter admits, or None when it admits everything."""
        if filters is None or filters.is_empty():
            return None
        wanted_authorities = {normalise(a) for a in filters.local_authorities}
        selected = []
        for report in self.reports():
            meta = report.metadata
            if wanted_authorities and normalise(meta.local_authority or "") not in wanted_authorities:
                continue
            if filters.report_types and meta.report_type not in filters.report_types:
                continue
            if filters.published_from and not (meta.published and meta.published >= filters.published_from):
                continue
            if filters.published_to and not (meta.published and meta.published <= filters.published_to):
                continue
            selected.append(report.report_id)
        return selected

    def dense_search(self, vector: np.ndarray, k: int, report_ids: Sequence[str] | None) -> list[tuple[str, float]]:
        self._refresh()
        with self._lock:  # the table and its row positions as one refresh left them, not half of the next
            table, rows = self._vectors, self._scope_rows(report_ids)
        if table is not None:
            return table.search(vector, k, rows)
        # over-fetch: Chroma may hold vectors of a version being written, which the catalog does not list
        hits = self.dense.query(vector, k + 10, report_ids)
        return [(cid, score) for cid, score in hits if cid in self._chunks][:k]

    def term_weight(self, token: str) -> float:
        """Inverse document frequency of a tokenized word over the indexed chunks (see KeywordIndex)."""
        self._refresh()
        assert self._keyword is not None
        return self._keyword.term_weight(token)

    def keyword_search(self, query: str, k: int, report_ids: Sequence[str] | None) -> list[tuple[str, float]]:
        self._refresh()
        with self._lock:
            keyword, rows = self._keyword, self._scope_rows(report_ids)
        assert keyword is not None
        return keyword.search(query, k, rows)

    def stats(self) -> dict[str, object]:
        counts = self.catalog.counts()
        reports = self.reports()
        dates = [r.metadata.published for r in reports if r.metadata.published]
        by_type: dict[str, int] = {}
        for r in reports:
            by_type[r.metadata.report_type] = by_type.get(r.metadata.report_type, 0) + 1
        return {
            **counts,
            "vectors": self.dense.count(),
            "flagged_paragraphs": len(self.flagged_paragraphs()),
            "authorities": len(self.authorities()),
            "by_type": by_type,
            "earliest": min(dates).isoformat() if dates else None,
            "latest": max(dates).isoformat() if dates else None,
            "embedding_model": self.embedder.name,
            "dimension": self.embedder.dimension,
        }


def parse_date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None
