"""Latency and throughput benchmarks on the sample corpus (or an existing index: --index), with same-run baselines.

- retrieval: hybrid retrieval per gold question vs a bare Chroma dense query (the floor it builds on);
- answers: the whole extractive pipeline per question vs embedding one query (the model's floor);
- ingest: chunks per second through parse + chunk + embed + write vs the embedding model's own
  encode rate on the same chunk texts.

Prints a table and writes benchmarks/results.json. Run: `make bench` or `python -m benchmarks.run`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from core.offline import enforce_offline

# phrases for "which reports mention X?": rare and common, one word and several
MENTION_PHRASES = ("county lines", "Mockingbird", "family hubs", "private fostering", "staying put", "Lifelong Links", "young carers", "kinship care")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def summarise(name: str, values: list[float]) -> dict[str, Any]:
    return {
        "name": name,
        "n": len(values),
        "p50_ms": percentile(values, 0.5) * 1000,
        "p95_ms": percentile(values, 0.95) * 1000,
        "mean_ms": statistics.fmean(values) * 1000 if values else 0.0,
    }


def seconds_to_line(command: Sequence[str], line: str, what: str, *, quiet: bool = False) -> float:
    """Start `command` (from the project's root) and return the seconds until it prints `line`, once it has exited
    cleanly: a cold start clocked from outside the process. `quiet` drops its stderr. RuntimeError naming `what` when
    it fails or never prints the line."""
    import subprocess

    started = time.perf_counter()
    process = subprocess.Popen(
        list(command), cwd=Path(__file__).resolve().parent.parent, stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL if quiet else None, text=True,
    )
    assert process.stdout is not None
    seconds = None
    for printed in process.stdout:
        if printed.strip() == line and seconds is None:
            seconds = time.perf_counter() - started
    if process.wait() != 0 or seconds is None:
        raise RuntimeError(f"{what} failed (exit {process.returncode}); run it alone to see why")
    return seconds


def _rss_mb() -> float:
    """This process's resident memory now, in MB (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def question_latencies(index, pipeline, embedder, cases, repeat: int) -> dict[str, Any]:
    """Per question, `repeat` times over: hybrid retrieval against a bare Chroma dense query, and the answer end to end
    against embedding one query (the same-run floors each builds on). Answers read sentences whose vectors the process
    keeps (chatbot.extractive.SENTENCE_VECTORS): the first round starts with none kept and is also reported alone
    ("answer_first"); a round before it with nothing kept, in memory or on disk (the store detached), is the same-run
    baseline ("answer_uncached"). The first round reads the index's sentence store as the app would: how many
    vectors it held is reported beside the figures ("sentence_store_at_start")."""
    from chatbot.extractive import SENTENCE_VECTORS
    from chatbot.query import plan_query
    from chatbot.retrieval import scope_reports

    kept = SENTENCE_VECTORS.size
    store = SENTENCE_VECTORS.store_of(index.embedder)
    in_store = store.count() if store is not None else None
    uncached: list[float] = []
    SENTENCE_VECTORS.size = 0
    SENTENCE_VECTORS.attach(index.embedder, None)  # nothing kept in memory or on disk, read or written
    try:
        for case in cases:
            started = time.perf_counter()
            pipeline.ask(case.question, case.history, case.filters)
            uncached.append(time.perf_counter() - started)
    finally:
        SENTENCE_VECTORS.size = kept
        SENTENCE_VECTORS.attach(index.embedder, store)
    SENTENCE_VECTORS.clear()
    retrieval: list[float] = []
    dense_floor: list[float] = []
    answers: list[float] = []
    first: list[float] = []
    embed_floor: list[float] = []
    for round_ in range(repeat):
        for case in cases:
            plan = plan_query(case.question, case.history, case.filters, pipeline.gazetteer)
            started = time.perf_counter()
            vector = embedder.embed_query(plan.topic or plan.standalone)
            embed_floor.append(time.perf_counter() - started)
            started = time.perf_counter()
            index.dense.query(vector, 10)
            dense_floor.append(time.perf_counter() - started)
            started = time.perf_counter()
            pipeline.retriever.retrieve(plan, 20, scope_reports(index.reports(), plan))
            retrieval.append(time.perf_counter() - started)
            started = time.perf_counter()
            pipeline.ask(case.question, case.history, case.filters)
            answers.append(time.perf_counter() - started)
            if round_ == 0:
                first.append(answers[-1])
    return {
        "retrieval": summarise("hybrid retrieval (embed + Chroma + BM25 + RRF)", retrieval),
        "retrieval_baseline": summarise("bare Chroma dense query", dense_floor),
        "answer": summarise("extractive answer, end to end", answers),
        "answer_first": summarise("  first asking (no sentence vector kept at start)", first),
        "answer_uncached": summarise("  no sentence vector kept (same-run baseline)", uncached),
        "answer_baseline": summarise("embed one query", embed_floor),
        "sentence_vectors_kept": SENTENCE_VECTORS.size,
        # sentence vectors on disk when the first round began (None: no store): what "first asking" could read
        "sentence_store_at_start": in_store,
        "sentence_store_reads": SENTENCE_VECTORS.stored,
    }


def _rerank_cost(index, pipeline, cases, embedder, repeat: int) -> dict[str, Any] | None:
    """The reranker reading 30 fused candidates per question (the dev questions' own), against embedding the query:
    p50/p95, model load time and the memory it adds; measured whether or not reranking is on. None when the
    reranker's files are missing or damaged."""
    from chatbot.query import plan_query
    from chatbot.reranker import DEFAULT_DIR, CrossEncoderReranker, RerankerUnavailable, passage_text
    from chatbot.retrieval import HybridRetriever, scope_reports

    configured = pipeline.retriever.reranker
    rss_before = _rss_mb()
    started = time.perf_counter()
    reranker = CrossEncoderReranker(configured.model_dir if isinstance(configured, CrossEncoderReranker) else DEFAULT_DIR)
    try:
        reranker.load()
    except RerankerUnavailable as error:
        print(f"rerank cost not measured: {error}")
        return None
    load_ms = (time.perf_counter() - started) * 1000
    fused = HybridRetriever(index)
    work = []
    for case in cases:
        plan = plan_query(case.question, case.history, case.filters, pipeline.gazetteer)
        query = plan.topic or plan.standalone
        hits = fused.retrieve(plan, 30, scope_reports(index.reports(), plan))
        if len(hits) >= 2:
            work.append((query, [passage_text(h.chunk.heading_path, h.chunk.text) for h in hits]))
    reranker.score(*work[0])  # warm
    rss_mb = _rss_mb() - rss_before
    scoring: list[float] = []
    embedding: list[float] = []
    for _ in range(repeat):
        for query, passages in work:
            started = time.perf_counter()
            reranker.score(query, passages)
            scoring.append(time.perf_counter() - started)
            started = time.perf_counter()
            embedder.embed_query(query)
            embedding.append(time.perf_counter() - started)
    score = summarise("rerank 30 fused candidates (ONNX int8)", scoring)
    embed = summarise("embed one query (same run)", embedding)
    return {
        "score_30": score,
        "embed_baseline": embed,
        "ratio_rerank_p95_to_embed_p95": score["p95_ms"] / max(embed["p95_ms"], 1e-9),
        "load_ms": load_ms,
        "rss_mb": rss_mb,
        "candidates_mean": sum(len(p) for _, p in work) / max(len(work), 1),
    }


def main(argv: list[str] | None = None) -> int:
    enforce_offline()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", type=Path, default=Path("eval/datasets/dev/gold.yaml"))
    parser.add_argument("--corpus", type=Path, default=None, help="documents to ingest (default: the sample corpus)")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results.json"))
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument(
        "--index",
        type=Path,
        default=None,
        help="measure an existing index instead of ingesting a corpus (e.g. the full corpus after `make ingest-corpus`)",
    )
    args = parser.parse_args(argv)

    from chatbot.build import build_embedder, build_index, build_pipeline
    from chatbot.mentions import phrase_pattern
    from core.settings import Settings
    from core.text import normalise
    from eval.dataset import load_cases
    from ingest.chunking import build_chunks
    from ingest.loaders import iter_document_paths, load_document
    from vectorstore.ingestion import ingest_targets

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(index_dir=args.index or Path(tmp))
        corpus = args.index if args.index else args.corpus or settings.sample_corpus_dir
        embedder = build_embedder(settings)
        embedder.embed_query("warm up")
        ingest: dict[str, object] | None = None
        if args.index:
            index = build_index(settings, embedder)
            index.require_ready()
        else:
            # ingest throughput vs the model's own encode rate on the same chunks
            documents = [load_document(p) for p in iter_document_paths(corpus)]
            texts = [c.embed_text for d in documents for c in build_chunks(d.report, d.paragraphs, budget=settings.chunk_tokens)]
            started = time.perf_counter()
            embedder.embed_documents(texts)
            encode_s = time.perf_counter() - started
            index = build_index(settings, embedder)
            started = time.perf_counter()
            summary = ingest_targets(index, [str(corpus)], max_bytes=settings.max_file_bytes)
            ingest_s = time.perf_counter() - started
            ingest = {
                "reports": summary.reports,
                "chunks": summary.chunks,
                "ingest_chunks_per_s": summary.chunks / ingest_s,
                "encode_chunks_per_s": len(texts) / encode_s,
                "ratio_ingest_to_encode": (summary.chunks / ingest_s) / (len(texts) / encode_s),
            }

        pipeline = build_pipeline(settings, index)
        cases = load_cases([args.dataset])
        timings = question_latencies(index, pipeline, embedder, cases, args.repeat)

        rerank = _rerank_cost(index, pipeline, cases, embedder, args.repeat)

        # "which reports mention X?": the answer (keyword index narrows the reports, then each is read) against reading
        # every paragraph of every report in the index for the phrase, the plain way to a complete list
        mentions: list[float] = []
        full_read: list[float] = []
        for _ in range(args.repeat):
            for phrase in MENTION_PHRASES:
                started = time.perf_counter()
                pipeline.ask(f"Which reports mention {phrase}?")
                mentions.append(time.perf_counter() - started)
                started = time.perf_counter()
                pattern = phrase_pattern(phrase)
                [r.report_id for r in index.reports() if any(pattern.search(normalise(p.text)) for p in index.paragraphs(r.report_id))]
                full_read.append(time.perf_counter() - started)

    results = {
        "corpus": str(corpus),
        "reports_indexed": len(index.reports()),
        "questions": len(cases) * args.repeat,
        **timings,
        "mentions": summarise("which reports mention a phrase, end to end", mentions),
        "mentions_baseline": summarise("read every paragraph for the phrase", full_read),
        "ingest": ingest,
        "rerank": rerank,
    }
    results["ratio_retrieval_p95_to_dense_p95"] = results["retrieval"]["p95_ms"] / max(results["retrieval_baseline"]["p95_ms"], 1e-9)
    results["ratio_answer_p95_to_embed_p95"] = results["answer"]["p95_ms"] / max(results["answer_baseline"]["p95_ms"], 1e-9)
    results["ratio_answer_p95_to_uncached_p95"] = results["answer"]["p95_ms"] / max(results["answer_uncached"]["p95_ms"], 1e-9)
    results["ratio_mentions_p95_to_full_read_p95"] = results["mentions"]["p95_ms"] / max(results["mentions_baseline"]["p95_ms"], 1e-9)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    for key in ("retrieval", "retrieval_baseline", "answer", "answer_first", "answer_uncached", "answer_baseline", "mentions", "mentions_baseline"):
        r = results[key]
        print(f"{r['name']:<50} n={r['n']:<4} p50 {r['p50_ms']:7.1f} ms  p95 {r['p95_ms']:7.1f} ms")
    print(f"sentence store: {results['sentence_store_at_start']} vectors at the first round's start, {results['sentence_store_reads']} read from it")
    print(f"retrieval p95 / bare dense p95: {results['ratio_retrieval_p95_to_dense_p95']:.1f}x")
    print(f"answer p95 / one query embedding p95: {results['ratio_answer_p95_to_embed_p95']:.1f}x")
    print(f"answer p95 / the same answers with no sentence vector kept: {results['ratio_answer_p95_to_uncached_p95']:.2f}x")
    print(f"mentions answer p95 / reading every paragraph p95: {results['ratio_mentions_p95_to_full_read_p95']:.2f}x")
    if rerank:
        r = rerank["score_30"]
        print(f"{r['name']:<50} n={r['n']:<4} p50 {r['p50_ms']:7.1f} ms  p95 {r['p95_ms']:7.1f} ms  (target p95 < 150 ms)")
        print(
            f"rerank p95 / one query embedding p95: {rerank['ratio_rerank_p95_to_embed_p95']:.1f}x; model load "
            f"{rerank['load_ms']:.0f} ms, RSS +{rerank['rss_mb']:.0f} MB"
        )
    if ingest is not None:
        print(
            f"ingest: {ingest['chunks']} chunks, {ingest['ingest_chunks_per_s']:.1f} chunks/s vs encode "
            f"{ingest['encode_chunks_per_s']:.1f} chunks/s (ratio {ingest['ratio_ingest_to_encode']:.2f})"
        )
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
