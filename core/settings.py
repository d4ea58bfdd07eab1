"""One settings object, read from `OFSTED_QA_*` environment variables and an optional `.env`."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = PROJECT_ROOT / "data"
SAMPLE_CORPUS_DIR = DEFAULT_DATA_DIR / "sample"

# How all-MiniLM-L6-v2 runs: sentence-transformers on torch, or an ONNX export of it on ONNX Runtime (docs/adr/0010)
Encoder = Literal["torch", "onnx-fp32", "onnx-int8"]


class Settings(BaseSettings):
    """Every knob of the product. Built once in an entry point and passed down."""

    model_config = SettingsConfigDict(env_prefix="OFSTED_QA_", env_file=".env", extra="ignore", frozen=True)

    # Index
    index_dir: Path = Field(default=DEFAULT_DATA_DIR / "index", description="where the index lives")
    collection: str = Field(default="ofsted_paragraphs", description="Chroma collection name")
    chroma_host: str | None = Field(default=None, description="use a Chroma server at this host instead of the embedded store")
    chroma_port: int = Field(default=8000, description="Chroma server port")
    chroma_ssl: bool = False

    # Corpus
    sample_corpus_dir: Path = SAMPLE_CORPUS_DIR
    manifest_csv: Path | None = Field(default=None, description="optional manifest.csv giving official URLs")

    # Chunking and retrieval
    chunk_tokens: int = Field(default=220, ge=32, le=2000, description="token budget per chunk (cl100k)")
    embed_batch_size: int = Field(default=32, ge=1, le=512)
    # ingest: parser processes beside the encoder, and how many chunks are embedded and written together
    ingest_workers: int | None = Field(default=None, ge=0, le=64, description="parser processes (default: cores - 1, 1 to 4; 0: parse in the main process)")
    ingest_batch_chunks: int = Field(default=512, ge=1, le=100_000, description="chunks embedded and written together (1: each report alone)")
    # onnx-fp32 gives torch's vectors without torch (docs/adr/0010); int8's vectors differ, so an index built with it
    # refuses the others and the reverse (re-embed on purpose: `ofsted-qa reembed`)
    encoder: Encoder = Field(default="onnx-fp32", description="onnx-fp32 (built by `make setup`), onnx-int8 or torch")
    encoder_dir: Path | None = Field(default=None, description="where the ONNX encoders live (default ~/.cache/ofsted-qa/encoders)")
    top_k: int = Field(default=10, ge=1, le=100)
    max_question_chars: int = Field(default=2000, ge=10)
    encoder_threads: int | None = Field(
        default=None, ge=1, le=64, description="the ONNX encoder's threads per call (default: one per core)"
    )
    sentence_cache: int = Field(
        default=50_000, ge=0, description="sentence vectors kept in memory for answers (about 1.5 KB each; 0: none)"
    )
    sentence_store: bool = Field(
        default=True, description="keep embedded sentence vectors on disk beside the catalog, for every process and restart (about 1.5 KB each)"
    )
    vector_table: bool = Field(
        default=True, description="search a saved copy of the vectors in memory (about 1.5 KB a chunk) rather than asking Chroma each time"
    )
    max_file_bytes: int = Field(default=200 * 1024 * 1024, description="files larger than this are skipped")
    # off by default: on the dev questions the committed reranker ranks below the fused ranking (docs/adr/0009)
    rerank: bool = Field(default=False, description="reorder the fused top passages with the trained reranker")
    rerank_depth: int = Field(default=20, ge=2, le=100, description="how many fused passages the reranker reads")
    rerank_weight: float = Field(
        default=0.3, ge=0.0, le=100.0, description="the reranker's share when its order is fused with the hybrid order (0: hybrid order kept)"
    )
    reranker_dir: Path | None = Field(default=None, description="reranker weights (default: the committed chatbot/data/reranker)")

    # Answering
    answerer: Literal["extractive", "llm"] = "extractive"
    llm_base_url: str | None = None
    llm_model: str = "gpt-4o-mini"
    llm_api_key: SecretStr = SecretStr("not-needed")
    llm_timeout_s: float = 60.0
    llm_temperature: float = 0.0

    # UI
    host: str = "127.0.0.1"
    port: int = 7860
    username: str | None = None
    password: SecretStr | None = None
    feedback_file: Path = DEFAULT_DATA_DIR / "feedback.jsonl"
    # wrong passwords, per client address: the next try waits login_delay_s, doubling (at most 30 s); after
    # login_max_failures within login_window_s, tries are refused unchecked until the oldest leaves the window
    login_delay_s: float = Field(default=1.0, ge=0, description="wait after one wrong password; doubles per failure")
    login_max_failures: int = Field(default=10, ge=1, description="wrong passwords per address before it is refused")
    login_window_s: float = Field(default=900.0, gt=0, description="how long a wrong password counts, in seconds")

    @property
    def uses_chroma_server(self) -> bool:
        return bool(self.chroma_host)
