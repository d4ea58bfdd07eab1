"""Wiring: the one place that turns settings into clients, stores and pipelines."""

from __future__ import annotations

from core.offline import enforce_offline
from core.settings import Settings
from vectorstore.catalog import Catalog
from vectorstore.chroma_store import ChromaStore, build_chroma_client
from vectorstore.embeddings import Embedder, MiniLMEmbedder, OnnxEmbedder, default_encoder_dir
from vectorstore.index import Index


def build_embedder(settings: Settings) -> Embedder:
    """The embedding model the `encoder` setting names. An ONNX encoder that has not been built is a ConfigError
    saying how to build it (`make export-encoder`), raised here so that a front end says so before it starts; it is
    never built on the fly, which would load torch in the process the ONNX encoder keeps free of it."""
    if settings.encoder == "torch":
        return MiniLMEmbedder(batch_size=settings.embed_batch_size)
    embedder = OnnxEmbedder(
        settings.encoder,
        (settings.encoder_dir or default_encoder_dir()) / settings.encoder,
        batch_size=settings.embed_batch_size,
        threads=settings.encoder_threads,
    )
    embedder.check()
    return embedder


def build_index(settings: Settings, embedder: Embedder | None = None, *, check_vectors: bool = True) -> Index:
    """The index the settings point at: embedded Chroma under index_dir, or a Chroma server. One whose vectors another
    encoder made is refused (StoreMismatchError), unless `check_vectors` is off, which `ofsted-qa reembed` alone does."""
    enforce_offline()
    embedder = embedder or build_embedder(settings)
    client = build_chroma_client(
        path=settings.index_dir / "chroma",
        host=settings.chroma_host,
        port=settings.chroma_port,
        ssl=settings.chroma_ssl,
    )
    dense = ChromaStore(client, settings.collection, embedder.name, embedder.dimension, check=check_vectors)
    catalog_name = "catalog.sqlite" if not settings.chroma_host else f"catalog-{settings.chroma_host}-{settings.chroma_port}.sqlite"
    catalog = Catalog(settings.index_dir / catalog_name)
    return Index(catalog, dense, embedder, chunk_tokens=settings.chunk_tokens, vector_table=settings.vector_table)


def build_answerer(settings: Settings, index: Index):
    """The extractive answerer, or the LLM answerer (falling back to extractive when its endpoint fails)."""
    from chatbot.extractive import ExtractiveAnswerer

    if settings.answerer == "llm":
        from chatbot.llm import LLMAnswerer, build_chat_model

        return LLMAnswerer(build_chat_model(settings), index.embedder, fallback=ExtractiveAnswerer(index.embedder, term_weight=index.term_weight))
    return ExtractiveAnswerer(index.embedder, term_weight=index.term_weight)


def build_reranker(settings: Settings):
    """The committed reranker (or the one `reranker_dir` names); None when reranking is off or its files are missing
    or damaged (then a warning says why, and retrieval keeps the fused ranking)."""
    if not settings.rerank:
        return None
    from chatbot.reranker import DEFAULT_DIR, load_reranker

    return load_reranker(settings.reranker_dir or DEFAULT_DIR)


def build_pipeline(settings: Settings, index: Index | None = None):
    """The Q&A pipeline the CLI, the app and the eval runner all use."""
    from chatbot.extractive import SENTENCE_VECTORS
    from chatbot.pipeline import QAPipeline
    from chatbot.retrieval import HybridRetriever

    index = index or build_index(settings)
    SENTENCE_VECTORS.size = settings.sentence_cache  # one process, one setting: the answers' sentence vectors
    SENTENCE_VECTORS.attach(index.embedder, index.open_sentence_store() if settings.sentence_store else None)
    return QAPipeline(
        index,
        build_answerer(settings, index),
        top_k=settings.top_k,
        max_question_chars=settings.max_question_chars,
        retriever=HybridRetriever(
            index, reranker=build_reranker(settings), rerank_depth=settings.rerank_depth, rerank_weight=settings.rerank_weight
        ),
    )
