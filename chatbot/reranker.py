"""The reranker: a small cross-encoder, trained on the corpus's own structure, that reads a passage against the question.

The weights ship in the project (`chatbot/data/reranker/`, an int8 ONNX model and its tokenizer; see the model card
there) and run on ONNX Runtime, without torch. `make train-reranker` rebuilds them from the corpus (`train/`).
Missing or damaged weights are reported once, clearly, and retrieval keeps the fused ranking.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from core.onnx_models import ModelFilesError, ModelFilesMissing, load_tokenizer, open_session, read_manifest
from core.text import GRADED_HEADING

DEFAULT_DIR = Path(__file__).resolve().parent / "data" / "reranker"
MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
MANIFEST_FILE = "manifest.json"
MAX_LENGTH = 128  # question and passage together, in word pieces: the first ~110 of a passage's

log = logging.getLogger(__name__)


class Reranker(Protocol):
    """Scores passages against a question: higher is more relevant."""

    name: str

    def score(self, query: str, passages: Sequence[str]) -> np.ndarray: ...


def clean_heading(heading: str) -> str:
    """A heading without the grade printed after it ("Care leavers: good" -> "Care leavers")."""
    return GRADED_HEADING.sub("", heading).strip(" :")


def passage_text(heading_path: Sequence[str], text: str) -> str:
    """A passage as the reranker reads it: its section heading, then its text (the same in training and serving)."""
    heading = clean_heading(heading_path[-1]) if heading_path else ""
    return f"{heading}. {text}" if heading else text


class RerankerUnavailable(RuntimeError):
    """The reranker's files are missing or cannot be read."""


def encode_pairs(tokenizer, query: str, passages: Sequence[str], max_length: int = MAX_LENGTH) -> dict[str, np.ndarray]:
    """The model's inputs for (query, passage) pairs: the passage is cut to fit, never the question. Training and
    serving both use this, so they read text the same way."""
    tokenizer.enable_truncation(max_length=max_length, strategy="only_second")
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
    encodings = tokenizer.encode_batch([(query, passage) for passage in passages])
    return {
        "input_ids": np.asarray([e.ids for e in encodings], dtype=np.int64),
        "attention_mask": np.asarray([e.attention_mask for e in encodings], dtype=np.int64),
        "token_type_ids": np.asarray([e.type_ids for e in encodings], dtype=np.int64),
    }


class CrossEncoderReranker:
    """The committed cross-encoder on ONNX Runtime, loaded on first use."""

    def __init__(self, model_dir: Path = DEFAULT_DIR, *, threads: int | None = None, max_length: int = MAX_LENGTH) -> None:
        self.model_dir = Path(model_dir)
        self.threads = threads
        self.max_length = max_length
        self.name = f"cross-encoder:{self.model_dir.name}"
        self._session = None
        self._tokenizer = None
        self._loading = threading.Lock()
        self._scoring = threading.Lock()  # the tokenizer's truncation settings are shared state

    def check(self) -> None:
        """Raise RerankerUnavailable with the reason when the files are missing, damaged or do not match their manifest."""
        model, tokenizer, manifest = (self.model_dir / name for name in (MODEL_FILE, TOKENIZER_FILE, MANIFEST_FILE))
        try:
            read_manifest(model, manifest, [tokenizer])
        except ModelFilesMissing as error:
            raise RerankerUnavailable(f"the reranker {error} (run `make train-reranker` to rebuild it)") from error
        except ModelFilesError as error:
            raise RerankerUnavailable(f"the reranker {error}") from error

    def load(self) -> None:
        if self._session is not None:
            return
        with self._loading:
            if self._session is not None:
                return
            self.check()
            try:
                self._tokenizer = load_tokenizer(self.model_dir / TOKENIZER_FILE)
                self._session = open_session(self.model_dir / MODEL_FILE, self.threads)
            except Exception as error:  # noqa: BLE001 - onnxruntime and tokenizers raise their own types for a bad file
                raise RerankerUnavailable(f"the reranker in {self.model_dir} cannot be loaded ({error})") from error

    def score(self, query: str, passages: Sequence[str]) -> np.ndarray:
        if not passages:
            return np.zeros(0, dtype=np.float32)
        self.load()
        assert self._session is not None
        with self._scoring:
            inputs = encode_pairs(self._tokenizer, query, passages, self.max_length)
        names = {i.name for i in self._session.get_inputs()}
        logits = self._session.run(None, {k: v for k, v in inputs.items() if k in names})[0]
        return np.asarray(logits, dtype=np.float32).reshape(-1)


def load_reranker(model_dir: Path = DEFAULT_DIR) -> CrossEncoderReranker | None:
    """The committed reranker, or None (with one warning saying why) when its files are missing or damaged."""
    reranker = CrossEncoderReranker(model_dir)
    try:
        reranker.check()
    except RerankerUnavailable as error:
        log.warning("Reranking is off: %s. Answers use the fused dense and keyword ranking.", error)
        return None
    return reranker
