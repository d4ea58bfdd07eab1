"""The ONNX encoders: exported from the packaged all-MiniLM-L6-v2, they give the torch model's vectors (fp32, the
default) or close to them (int8) on the sample corpus's own paragraphs, serve without torch (the app's start-up
included), torch and fp32 read each other's indexes, an index of int8's vectors refuses the others (and the reverse)
naming `ofsted-qa reembed`, which rewrites its vectors.

The exports are built once per module into a temporary folder by the real `vectorstore.export_encoder` (about 20 s).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from chatbot.build import build_embedder, build_index
from core.errors import ConfigError, StoreMismatchError
from core.settings import Settings
from eval.dataset import load_cases
from ingest.loaders import iter_document_paths, load_document
from tests.conftest import PROJECT_ROOT, SAMPLE_REPORTS
from tests.ui.browsing import free_port
from vectorstore.embeddings import (
    MODEL_NAME,
    ONNX_MODEL_FILE,
    MiniLMEmbedder,
    OnnxEmbedder,
    encoder_name,
    encoders_for,
    mean_pool,
    vectors_name,
)
from vectorstore.export_encoder import export_variants

DEV_QUESTIONS = PROJECT_ROOT / "eval" / "datasets" / "dev" / "gold.yaml"


@pytest.fixture(scope="module")
def encoder_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("encoders")
    export_variants(folder)
    return folder


@pytest.fixture(scope="module")
def torch_embedder() -> MiniLMEmbedder:
    """sentence-transformers on torch: the reference every export is compared with."""
    return MiniLMEmbedder()


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
    ("encoder", "name", "encoders"),
    [
        ("torch", MODEL_NAME, ("torch", "onnx-fp32")),
        ("onnx-fp32", MODEL_NAME, ("torch", "onnx-fp32")),  # torch's vectors: one name
        ("onnx-int8", "sentence-transformers/all-MiniLM-L6-v2@onnx-int8", ("onnx-int8",)),
    ],
)
def test_torch_and_fp32_share_their_vectors_name_and_int8_has_its_own(encoder, name, encoders) -> None:
    assert encoder_name(encoder) == name and encoders_for(name) == encoders
    assert encoders_for("sentence-transformers/all-mpnet-base-v2") == ()
    # fp32's name under ADR 0010's first decision reads as what it is: torch's vectors
    assert vectors_name("sentence-transformers/all-MiniLM-L6-v2@onnx-fp32") == MODEL_NAME
    assert encoders_for("sentence-transformers/all-MiniLM-L6-v2@onnx-fp32") == ("torch", "onnx-fp32")


def test_the_default_encoder_is_onnx_fp32_and_the_suite_runs_on_the_configured_one(embedder) -> None:
    assert Settings.model_fields["encoder"].default == "onnx-fp32"
    configured = Settings().encoder  # OFSTED_QA_ENCODER may choose another for a run of the suite
    assert embedder.name == encoder_name(configured)
    assert isinstance(embedder, MiniLMEmbedder if configured == "torch" else OnnxEmbedder)


# ---- against the torch model --------------------------------------------------------------------------------


def test_fp32_gives_the_torch_models_vectors(encoder_dir: Path, torch_embedder, fifty: list[str]) -> None:
    onnx = OnnxEmbedder("onnx-fp32", encoder_dir / "onnx-fp32")
    assert cosines(onnx.embed_documents(fifty), torch_embedder.embed_documents(fifty)).min() >= 0.9999


def test_int8_stays_close_to_the_torch_model_and_finds_the_same_passages(encoder_dir: Path, torch_embedder, fifty, paragraphs) -> None:
    onnx = OnnxEmbedder("onnx-int8", encoder_dir / "onnx-int8")
    assert cosines(onnx.embed_documents(fifty), torch_embedder.embed_documents(fifty)).min() >= 0.98  # 0.984 measured
    # each dev question's nearest paragraph among every fourth of the sample reports' (243): 104 of 115 the same
    questions = [case.question for case in load_cases([DEV_QUESTIONS])]
    candidates = paragraphs[::4]
    torch_nearest = (torch_embedder.embed_documents(questions) @ torch_embedder.embed_documents(candidates).T).argmax(axis=1)
    onnx_nearest = (onnx.embed_documents(questions) @ onnx.embed_documents(candidates).T).argmax(axis=1)
    assert (torch_nearest == onnx_nearest).mean() >= 0.85


def test_a_long_text_is_read_to_256_word_pieces_as_sentence_transformers_reads_it(encoder_dir: Path, torch_embedder) -> None:
    text = " ".join(f"Paragraph {i}: leaders understand practice in area {i} and act on what audits tell them." for i in range(40))
    torch_vector = torch_embedder.embed_query(text)
    assert float(OnnxEmbedder("onnx-fp32", encoder_dir / "onnx-fp32").embed_query(text) @ torch_vector) >= 0.9999
    cut_at_128 = torch_embedder.embed_query(torch_embedder.model.tokenizer.decode(torch_embedder.model.tokenizer(text)["input_ids"][1:127]))
    assert float(cut_at_128 @ torch_vector) < 0.999  # the model's tokenizer.json alone would cut here


@pytest.mark.parametrize(("variant", "least_cosine"), [("onnx-fp32", 0.99999), ("onnx-int8", 0.95)])
def test_batches_give_each_text_its_own_vector(encoder_dir: Path, fifty: list[str], variant: str, least_cosine: float) -> None:
    """In a batch or alone, a text gets its own vector back, in its place. int8's moves a little with its batch:
    dynamic quantisation scales the activations of the whole batch at once, by how much depends on the CPU's int8
    kernels (0.988 at worst measured on one machine, 0.971 on another); each batched vector is still nearest its own
    text's. The same batch gives the same vectors, so an ingest is reproducible."""
    onnx = OnnxEmbedder(variant, encoder_dir / variant, batch_size=7)
    together = onnx.embed_documents(fifty)
    alone = np.stack([onnx.embed_query(text) for text in fifty])
    assert cosines(together, alone).min() >= least_cosine
    nearest = (together @ alone.T).argmax(axis=1)
    assert [fifty[i] for i in nearest] == fifty  # each in its place, none swapped (a repeated heading is its twin)
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


def _default_encoder_env(encoder_dir: Path, index_dir: Path) -> dict[str, str]:
    """The environment of a fresh process on the default encoder (whatever this run of the suite configured)."""
    env = {k: v for k, v in os.environ.items() if k != "OFSTED_QA_ENCODER"}
    return env | {"OFSTED_QA_ENCODER_DIR": str(encoder_dir), "OFSTED_QA_INDEX_DIR": str(index_dir)}


def test_the_app_ingests_starts_and_answers_on_the_default_encoder_without_torch(tmp_path: Path, encoder_dir: Path) -> None:
    """What serving does, in fresh processes on the default settings: ingest a report, build the pipeline and the UI,
    warm up and answer (in one process, its modules listed); then `python app.py` itself on that index, whose memory
    maps show ONNX Runtime loaded by the warm-up and no torch library."""
    report = SAMPLE_REPORTS / "focused_visit" / "calderdale_focused-visit_2022-03-21.pdf"
    env = _default_encoder_env(encoder_dir, tmp_path / "index")
    code = f"""
import json, sys
from chatbot.build import build_index, build_pipeline
from core.settings import Settings
from vectorstore.ingestion import ingest_targets
settings = Settings()
index = build_index(settings)
summary = ingest_targets(index, [{str(report)!r}], max_bytes=settings.max_file_bytes)
pipeline = build_pipeline(settings, index)
from ui.app import build_app
from ui.indexing import IndexBuild
build_app(pipeline, index, settings, build=IndexBuild(index, settings), gazetteer=pipeline.gazetteer)
index.warm_up()
answer = pipeline.ask("How well are care leavers supported in Calderdale?")
loaded = sorted(m for m in ("torch", "sentence_transformers", "transformers") if m in sys.modules)
print(json.dumps({{"encoder": settings.encoder, "added": summary.added, "cited": bool(answer.citations), "loaded": loaded}}))
"""
    result = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen == {"encoder": "onnx-fp32", "added": ["calderdale-focused-visit-2022-03-21"], "cited": True, "loaded": []}

    port = free_port()
    app = subprocess.Popen(
        [sys.executable, "app.py"], cwd=PROJECT_ROOT, env=env | {"OFSTED_QA_PORT": str(port)}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    maps = Path(f"/proc/{app.pid}/maps")
    try:
        deadline = time.monotonic() + 180
        status = None
        while status != 200 or "/onnxruntime/capi/" not in maps.read_text():  # serving, and warmed up: encoder loaded
            assert app.poll() is None, "the app exited"
            assert time.monotonic() < deadline, "the app did not serve its page with the encoder loaded in 180 s"
            time.sleep(0.5)
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30) as page:
                    status = page.status
            except OSError:
                continue  # not listening yet
        assert "/torch/lib/" not in maps.read_text()
    finally:
        app.terminate()
        app.wait(30)


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


def test_torch_and_fp32_read_each_others_index_and_int8_refuses_them_naming_reembed(tmp_path: Path, torch_embedder, encoder_dir: Path) -> None:
    torch_settings = Settings(index_dir=tmp_path / "torch", encoder="torch")
    build_index(torch_settings, embedder=torch_embedder)
    fp32 = build_index(torch_settings.model_copy(update={"encoder": "onnx-fp32", "encoder_dir": encoder_dir}))
    assert fp32.dense.collection.metadata["embedding_model"] == MODEL_NAME
    with pytest.raises(StoreMismatchError, match=r"built with 'sentence-transformers/all-MiniLM-L6-v2' \(384 dimensions\), not 'sentence-transformers/all-MiniLM-L6-v2@onnx-int8'") as caught:
        build_index(torch_settings.model_copy(update={"encoder": "onnx-int8", "encoder_dir": encoder_dir}))
    assert "set OFSTED_QA_ENCODER=torch or onnx-fp32 to use it as built, or re-embed it with this encoder: `ofsted-qa reembed`" in str(caught.value)

    int8_settings = Settings(index_dir=tmp_path / "int8", encoder="onnx-int8", encoder_dir=encoder_dir)
    assert build_index(int8_settings).dense.collection.metadata["embedding_model"] == "sentence-transformers/all-MiniLM-L6-v2@onnx-int8"
    with pytest.raises(StoreMismatchError, match="OFSTED_QA_ENCODER=onnx-int8 to use it as built, or re-embed it with this encoder: `ofsted-qa reembed`"):
        build_index(int8_settings.model_copy(update={"encoder": "onnx-fp32"}))
    with pytest.raises(StoreMismatchError, match="OFSTED_QA_ENCODER=onnx-int8 to use it as built"):
        build_index(int8_settings.model_copy(update={"encoder": "torch"}), embedder=torch_embedder)


def test_an_index_of_fp32_vectors_under_their_former_name_opens_as_torchs(tmp_path: Path, torch_embedder) -> None:
    """ADR 0010 first named fp32's vectors apart; such an index holds torch's vectors and opens with either."""
    from vectorstore.chroma_store import build_chroma_client

    client = build_chroma_client(tmp_path / "chroma")
    client.create_collection("ofsted_paragraphs", embedding_function=None, metadata={"embedding_model": f"{MODEL_NAME}@onnx-fp32", "dimension": 384})
    assert build_index(Settings(index_dir=tmp_path, encoder="torch"), embedder=torch_embedder).dense.holds_own_vectors()


def test_reembed_rewrites_every_vector_with_the_configured_encoder(tmp_path: Path, encoder_dir: Path, monkeypatch, capsys) -> None:
    """`ofsted-qa reembed`: an fp32 index re-embedded with int8 opens with int8 (its vectors int8's own, from the
    catalog's chunks), refuses fp32, and back again; a report re-ingested afterwards is unchanged, not re-embedded.
    (In this process: Chroma does not see another process's writes to a store it holds open.)"""
    from cli.main import main
    from vectorstore.ingestion import ingest_targets

    def reembed(encoder: str) -> subprocess.CompletedProcess[str]:
        monkeypatch.setenv("OFSTED_QA_ENCODER", encoder)
        monkeypatch.setenv("OFSTED_QA_ENCODER_DIR", str(encoder_dir))
        code = main(["--index-dir", str(fp32_settings.index_dir), "reembed", "--no-progress"])
        captured = capsys.readouterr()
        return subprocess.CompletedProcess([], code, captured.out, captured.err)

    report = SAMPLE_REPORTS / "focused_visit" / "calderdale_focused-visit_2022-03-21.pdf"
    fp32_settings = Settings(index_dir=tmp_path / "index", encoder="onnx-fp32", encoder_dir=encoder_dir)
    int8_settings = fp32_settings.model_copy(update={"encoder": "onnx-int8"})
    fp32 = build_index(fp32_settings)
    ingest_targets(fp32, [str(report)], max_bytes=fp32_settings.max_file_bytes)
    chunks = fp32.chunks_in(None)
    assert "already holds" in reembed("onnx-fp32").stdout
    with pytest.raises(StoreMismatchError):
        build_index(int8_settings)

    result = reembed("onnx-int8")
    assert result.returncode == 0, result.stderr
    assert f"re-embedded {len(chunks)} chunks with {MODEL_NAME}@onnx-int8" in result.stdout
    int8 = build_index(int8_settings)
    stored = int8.dense.collection.get(ids=[c.chunk_id for c in chunks], include=["embeddings"])
    by_id = dict(zip(stored["ids"], stored["embeddings"], strict=True))
    expected = int8.embedder.embed_documents([c.embed_text for c in chunks])
    assert cosines(np.asarray([by_id[c.chunk_id] for c in chunks]), expected).min() >= 0.9999
    with pytest.raises(StoreMismatchError, match="OFSTED_QA_ENCODER=onnx-int8"):
        build_index(fp32_settings)
    assert ingest_targets(int8, [str(report)], max_bytes=int8_settings.max_file_bytes).unchanged == ["calderdale-focused-visit-2022-03-21"]

    assert int8.embedder.name != fp32.embedder.name
    fp32_back = build_index(fp32_settings, check_vectors=False)
    assert fp32_back.reembed() == len(chunks)
    assert build_index(fp32_settings).dense.holds_own_vectors()
    assert ingest_targets(build_index(fp32_settings), [str(report)], max_bytes=fp32_settings.max_file_bytes).unchanged


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
