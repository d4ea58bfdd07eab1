"""The ONNX encoders: exported from the packaged all-MiniLM-L6-v2, they give the torch model's vectors (fp32) or
close to them (int8) on the sample corpus's own paragraphs, serve without torch, and an index built with one
encoder refuses another.

The exports are built once per module into a temporary folder by the real `vectorstore.export_encoder` (about 20 s).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from chatbot.build import build_embedder, build_index
from core.errors import ConfigError, StoreMismatchError
from core.settings import Settings
from eval.dataset import load_cases
from ingest.loaders import iter_document_paths, load_document
from tests.conftest import PROJECT_ROOT, SAMPLE_REPORTS
from vectorstore.embeddings import MODEL_NAME, ONNX_MODEL_FILE, OnnxEmbedder, encoder_for, encoder_name, mean_pool
from vectorstore.export_encoder import export_variants

DEV_QUESTIONS = PROJECT_ROOT / "eval" / "datasets" / "dev" / "gold.yaml"


@pytest.fixture(scope="module")
def encoder_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("encoders")
    export_variants(folder)
    return folder


@pytest.fixture(scope="module")
def paragraphs() -> list[str]:
    """Every paragraph of the sample reports, in corpus order."""
    return [p.text for path in iter_document_paths(SAMPLE_REPORTS) for p in load_document(path).paragraphs]


@pytest.fixture(scope="module")
def fifty(paragraphs: list[str]) -> list[str]:
    """50 paragraphs spread evenly over the sample reports: one-word headings to 100-word paragraphs."""
    return paragraphs[:: len(paragraphs) // 50][:50]


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1)


# ---- pure parts -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hidden", "mask", "expected"),
    [
        ([[[3.0, 4.0]]], [[1]], [[0.6, 0.8]]),  # one token: its vector, at unit length
        ([[[1.0, 0.0], [0.0, 1.0]]], [[1, 1]], [[2**-0.5, 2**-0.5]]),  # the mean of the tokens
        ([[[1.0, 0.0], [0.0, 9.0]]], [[1, 0]], [[1.0, 0.0]]),  # padding is not counted
        ([[[0.0, 2.0], [5.0, 5.0]], [[2.0, 0.0], [0.0, 2.0]]], [[1, 0], [1, 1]], [[0.0, 1.0], [2**-0.5, 2**-0.5]]),
        ([[[1.0, 1.0]]], [[0]], [[0.0, 0.0]]),  # nothing to pool: zeros, never NaN
    ],
)
def test_mean_pool(hidden, mask, expected) -> None:
    assert np.allclose(mean_pool(np.asarray(hidden, dtype=np.float32), np.asarray(mask)), expected, atol=1e-6)


@pytest.mark.parametrize(
    ("encoder", "name"),
    [
        ("torch", MODEL_NAME),
        ("onnx-fp32", "sentence-transformers/all-MiniLM-L6-v2@onnx-fp32"),
        ("onnx-int8", "sentence-transformers/all-MiniLM-L6-v2@onnx-int8"),
    ],
)
def test_every_encoder_names_its_vectors_apart(encoder, name) -> None:
    assert encoder_name(encoder) == name and encoder_for(name) == encoder
    assert encoder_for("sentence-transformers/all-mpnet-base-v2") is None


# ---- against the torch model --------------------------------------------------------------------------------


def test_fp32_gives_the_torch_models_vectors(encoder_dir: Path, embedder, fifty: list[str]) -> None:
    onnx = OnnxEmbedder("onnx-fp32", encoder_dir / "onnx-fp32")
    assert cosines(onnx.embed_documents(fifty), embedder.embed_documents(fifty)).min() >= 0.9999


def test_int8_stays_close_to_the_torch_model_and_finds_the_same_passages(encoder_dir: Path, embedder, fifty, paragraphs) -> None:
    onnx = OnnxEmbedder("onnx-int8", encoder_dir / "onnx-int8")
    assert cosines(onnx.embed_documents(fifty), embedder.embed_documents(fifty)).min() >= 0.98  # 0.984 measured
    # each dev question's nearest paragraph among every fourth of the sample reports' (243): 104 of 115 the same
    questions = [case.question for case in load_cases([DEV_QUESTIONS])]
    candidates = paragraphs[::4]
    torch_nearest = (embedder.embed_documents(questions) @ embedder.embed_documents(candidates).T).argmax(axis=1)
    onnx_nearest = (onnx.embed_documents(questions) @ onnx.embed_documents(candidates).T).argmax(axis=1)
    assert (torch_nearest == onnx_nearest).mean() >= 0.85


def test_a_long_text_is_read_to_256_word_pieces_as_sentence_transformers_reads_it(encoder_dir: Path, embedder) -> None:
    text = " ".join(f"Paragraph {i}: leaders understand practice in area {i} and act on what audits tell them." for i in range(40))
    torch_vector = embedder.embed_query(text)
    assert float(OnnxEmbedder("onnx-fp32", encoder_dir / "onnx-fp32").embed_query(text) @ torch_vector) >= 0.9999
    cut_at_128 = embedder.embed_query(embedder.model.tokenizer.decode(embedder.model.tokenizer(text)["input_ids"][1:127]))
    assert float(cut_at_128 @ torch_vector) < 0.999  # the model's tokenizer.json alone would cut here


@pytest.mark.parametrize(("variant", "least_cosine"), [("onnx-fp32", 0.99999), ("onnx-int8", 0.98)])
def test_batches_give_each_text_its_own_vector(encoder_dir: Path, fifty: list[str], variant: str, least_cosine: float) -> None:
    """In a batch or alone, a text gets its own vector back, in its place. int8's moves a little with its batch:
    dynamic quantisation scales the activations of the whole batch at once (0.988 measured); the same batch gives
    the same vectors, so an ingest is reproducible."""
    onnx = OnnxEmbedder(variant, encoder_dir / variant, batch_size=7)
    together = onnx.embed_documents(fifty)
    alone = np.stack([onnx.embed_query(text) for text in fifty])
    assert cosines(together, alone).min() >= least_cosine
    assert np.array_equal(together, onnx.embed_documents(fifty))
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    assert onnx.embed_documents([]).shape == (0, 384)


# ---- serving --------------------------------------------------------------------------------------------------


def test_serving_imports_neither_torch_nor_sentence_transformers(encoder_dir: Path) -> None:
    code = f"""
import json, sys
from chatbot.build import build_embedder
from core.settings import Settings
for encoder in ("onnx-fp32", "onnx-int8"):
    vector = build_embedder(Settings(encoder=encoder, encoder_dir={str(encoder_dir)!r})).embed_query("care leavers")
print(json.dumps({{"dimension": len(vector), "loaded": sorted(m for m in ("torch", "sentence_transformers", "transformers") if m in sys.modules)}}))
"""
    result = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120, check=True)
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {"dimension": 384, "loaded": []}


def test_concurrent_first_use_loads_once_and_agrees(encoder_dir: Path) -> None:
    onnx = OnnxEmbedder("onnx-int8", encoder_dir / "onnx-int8")
    vectors: list[np.ndarray] = []
    sessions: set[int] = set()

    def embed() -> None:
        vectors.append(onnx.embed_query("How are care leavers supported?"))
        sessions.add(id(onnx._session))

    threads = [threading.Thread(target=embed) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(vectors) == 4 and len(sessions) == 1
    assert all(np.array_equal(vectors[0], v) for v in vectors)


def test_an_index_refuses_another_encoder_and_says_which_to_set(tmp_path: Path, embedder, encoder_dir: Path) -> None:
    torch_settings = Settings(index_dir=tmp_path / "torch")
    build_index(torch_settings, embedder=embedder)
    with pytest.raises(StoreMismatchError, match=r"built with 'sentence-transformers/all-MiniLM-L6-v2' \(384 dimensions\), not 'sentence-transformers/all-MiniLM-L6-v2@onnx-int8'") as caught:
        build_index(torch_settings.model_copy(update={"encoder": "onnx-int8", "encoder_dir": encoder_dir}))
    assert "set OFSTED_QA_ENCODER=torch to use it as built" in str(caught.value)

    int8_settings = Settings(index_dir=tmp_path / "int8", encoder="onnx-int8", encoder_dir=encoder_dir)
    assert build_index(int8_settings).dense.collection.metadata["embedding_model"] == "sentence-transformers/all-MiniLM-L6-v2@onnx-int8"
    with pytest.raises(StoreMismatchError, match="OFSTED_QA_ENCODER=onnx-int8 to use it as built"):
        build_index(int8_settings.model_copy(update={"encoder": "onnx-fp32"}))
    with pytest.raises(StoreMismatchError, match="OFSTED_QA_ENCODER=onnx-int8 to use it as built"):
        build_index(int8_settings.model_copy(update={"encoder": "torch"}), embedder=embedder)


def test_an_encoder_not_built_is_a_clear_error_saying_how_to_build_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"the onnx-int8 encoder is not built .*make export-encoder.*or set OFSTED_QA_ENCODER=torch"):
        build_embedder(Settings(encoder="onnx-int8", encoder_dir=tmp_path))


def test_damaged_or_misplaced_exports_are_refused(tmp_path: Path, encoder_dir: Path) -> None:
    damaged = tmp_path / "onnx-int8"
    shutil.copytree(encoder_dir / "onnx-int8", damaged)
    data = bytearray((damaged / ONNX_MODEL_FILE).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (damaged / ONNX_MODEL_FILE).write_bytes(bytes(data))
    with pytest.raises(ConfigError, match="do not match their manifest.*make export-encoder"):
        OnnxEmbedder("onnx-int8", damaged).embed_query("care leavers")

    misplaced = tmp_path / "onnx-fp32"
    shutil.copytree(encoder_dir / "onnx-int8", misplaced)
    with pytest.raises(ConfigError, match="holds the 'onnx-int8' encoder .* not 'onnx-fp32'"):
        build_embedder(Settings(encoder="onnx-fp32", encoder_dir=tmp_path))
