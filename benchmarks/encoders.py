"""The encoders side by side (issue 23): torch (sentence-transformers), onnx-fp32 and onnx-int8, in one run, with
torch as the same-run baseline.

- passages/s: embedding the sample corpus's chunks (the texts ingest embeds), in batches of 32;
- query p50/p95: the dev questions (eval/datasets/dev/gold.yaml), one at a time, as a question is embedded;
- cold start: a fresh process, from its start to its first vector (imports, model load and checks, one query);
- RSS: that process's resident memory once it has its first vector, and its peak after the passages;
- agreement: the cosine of each question's vector to torch's.

Each encoder runs in a child process of its own (`--child`), in turn, `--rounds` times over (so that the load on the
machine falls on each alike); the medians over rounds are reported beside torch's. Prints a table and writes
benchmarks/results-encoders.json. Run: `make bench-encoders` (builds the ONNX exports first).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np

from core.offline import enforce_offline
from core.settings import Encoder

ENCODERS: tuple[Encoder, ...] = ("torch", "onnx-fp32", "onnx-int8")
READY = "first vector"
ROOT = Path(__file__).resolve().parent.parent


def _memory_mb(field: str) -> float:
    """A field of this process's /proc status (VmRSS now, VmHWM its peak), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _load() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def child(encoder: Encoder, work: Path, out: Path) -> int:
    """One encoder in this fresh process: first vector (announced on stdout for the parent's clock), then the passages
    and the questions; the figures go to `out`, the question vectors beside it."""
    enforce_offline()
    from chatbot.build import build_embedder
    from core.settings import Settings

    embedder = build_embedder(Settings(encoder=encoder))
    embedder.embed_query("How are care leavers supported?")
    print(READY, flush=True)
    rss_ready = _memory_mb("VmRSS")
    data = json.loads(work.read_text(encoding="utf-8"))
    started = time.perf_counter()
    embedder.embed_documents(data["passages"])
    passages_s = time.perf_counter() - started
    latencies, vectors = [], []
    for question in data["questions"]:
        started = time.perf_counter()
        vectors.append(embedder.embed_query(question))
        latencies.append(time.perf_counter() - started)
    np.save(out.with_suffix(".npy"), np.stack(vectors))
    figures = {
        "passages_per_s": len(data["passages"]) / passages_s,
        "query_p50_ms": float(np.percentile(latencies, 50) * 1000),
        "query_p95_ms": float(np.percentile(latencies, 95) * 1000),
        "rss_ready_mb": rss_ready,
        "rss_peak_mb": _memory_mb("VmHWM"),
        "torch_imported": "torch" in sys.modules,
    }
    out.write_text(json.dumps(figures), encoding="utf-8")
    return 0


def run_child(encoder: str, work: Path, out: Path) -> dict[str, Any]:
    """A child process for one encoder; its figures plus the cold start the parent clocked and the load around it."""
    from benchmarks.run import seconds_to_line

    load_before = _load()
    cold_start = seconds_to_line(
        [sys.executable, "-m", "benchmarks.encoders", "--child", encoder, "--work", str(work), "--child-out", str(out)],
        READY,
        f"the {encoder} child",
    )
    figures: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return figures | {"cold_start_s": cold_start, "load_1min": round((load_before + _load()) / 2, 2)}


def summarise(rounds: Sequence[dict[str, dict[str, Any]]], vectors: dict[str, np.ndarray]) -> dict[str, dict[str, Any]]:
    """Medians over rounds per encoder, each beside torch's as a ratio (>1: better than torch)."""
    keys = ("passages_per_s", "query_p50_ms", "query_p95_ms", "cold_start_s", "rss_ready_mb", "rss_peak_mb")
    medians = {e: {k: statistics.median(r[e][k] for r in rounds) for k in keys} for e in rounds[0]}
    base = medians["torch"]
    out = {}
    for encoder, figures in medians.items():
        cosines = (vectors[encoder] * vectors["torch"]).sum(axis=1)
        out[encoder] = figures | {
            "speed_vs_torch": figures["passages_per_s"] / base["passages_per_s"],
            "query_p95_vs_torch": base["query_p95_ms"] / figures["query_p95_ms"],
            "cold_start_vs_torch": base["cold_start_s"] / figures["cold_start_s"],
            "rss_ready_vs_torch": figures["rss_ready_mb"] / base["rss_ready_mb"],
            "query_cosine_to_torch_min": float(cosines.min()),
            "query_cosine_to_torch_mean": float(cosines.mean()),
            "torch_imported": any(r[encoder]["torch_imported"] for r in rounds),
        }
    return out


def table(summary: dict[str, dict[str, Any]]) -> str:
    lines = [
        "| encoder | passages/s | query p95 | cold start | RSS at first vector | RSS peak | question cosine to torch (min) | torch imported |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for encoder, s in summary.items():
        lines.append(
            f"| {encoder} | {s['passages_per_s']:.1f} ({s['speed_vs_torch']:.2f}x) | {s['query_p95_ms']:.1f} ms ({s['query_p95_vs_torch']:.2f}x) "
            f"| {s['cold_start_s']:.1f} s ({s['cold_start_vs_torch']:.2f}x) | {s['rss_ready_mb']:.0f} MB ({s['rss_ready_vs_torch']:.2f}) "
            f"| {s['rss_peak_mb']:.0f} MB | {s['query_cosine_to_torch_min']:.4f} | {'yes' if s['torch_imported'] else 'no'} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    enforce_offline()
    parser = argparse.ArgumentParser(prog="python -m benchmarks.encoders", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dataset", type=Path, default=ROOT / "eval" / "datasets" / "dev" / "gold.yaml")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results-encoders.json")
    parser.add_argument("--encoder", choices=ENCODERS, action="append", help="which to run (default: all; torch always)")
    parser.add_argument("--passages", type=int, default=0, help="only the first N passages (a quick trial)")
    parser.add_argument("--child", choices=ENCODERS, help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child-out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(cast(Encoder, args.child), args.work, args.child_out)

    from chatbot.build import build_embedder
    from core.errors import ConfigError
    from core.settings import Settings
    from eval.dataset import load_cases
    from ingest.chunking import build_chunks
    from ingest.loaders import iter_document_paths, load_document

    settings = Settings()
    encoders: list[str] = ["torch", *[e for e in ENCODERS[1:] if not args.encoder or e in args.encoder]]
    try:
        for encoder in encoders[1:]:
            build_embedder(settings.model_copy(update={"encoder": encoder}))  # a missing export says how to build it
    except ConfigError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 1
    documents = [load_document(p) for p in iter_document_paths(settings.sample_corpus_dir)]
    passages = [c.embed_text for d in documents for c in build_chunks(d.report, d.paragraphs, budget=settings.chunk_tokens)]
    passages = passages[: args.passages] if args.passages else passages
    questions = [case.question for case in load_cases([args.dataset])]
    load_start = _load()
    rounds: list[dict[str, dict[str, Any]]] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "work.json"
        work.write_text(json.dumps({"passages": passages, "questions": questions}), encoding="utf-8")
        for number in range(args.rounds):
            results = {}
            for encoder in encoders:
                results[encoder] = run_child(encoder, work, Path(tmp) / f"{encoder}.json")
                print(
                    f"round {number + 1}/{args.rounds} {encoder}: {results[encoder]['passages_per_s']:.1f} passages/s, "
                    f"cold start {results[encoder]['cold_start_s']:.1f} s, load {results[encoder]['load_1min']}",
                    flush=True,
                )
            rounds.append(results)
        vectors = {encoder: np.load(Path(tmp) / f"{encoder}.npy") for encoder in encoders}
    summary = summarise(rounds, vectors)
    loads = [r[e]["load_1min"] for r in rounds for e in r]
    results_file = {
        "corpus": os.path.relpath(settings.sample_corpus_dir, ROOT),
        "passages": len(passages),
        "questions": len(questions),
        "rounds": args.rounds,
        "machine": {
            "cpus": os.cpu_count(),
            "load_1min_mean": round(statistics.fmean([load_start, *loads]), 2),
            "load_1min_max": max([load_start, *loads]),
            "note": "1-minute load average around each child (other workers share the machine); ratios compare encoders measured in turn",
        },
        "encoders": summary,
        "runs": rounds,
    }
    args.out.write_text(json.dumps(results_file, indent=2) + "\n", encoding="utf-8")
    print()
    print(
        f"{len(passages)} passages of the sample corpus, {len(questions)} dev questions, median of {args.rounds} rounds; "
        f"{os.cpu_count()} CPUs, 1-minute load {results_file['machine']['load_1min_mean']} on average"
    )
    print(table(summary))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
