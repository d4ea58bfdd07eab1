"""Ingest throughput, memory and growth (issue 23), each figure beside a baseline measured in the same run.

The slice of the corpus is ingested in rounds (`--rounds`, plus the checkpoints). In each round, in turn, and in the
reverse order the next round, so that a change in the machine's load falls on each alike:
- the encoder alone: passages/s on chunks spread over the round's own reports, in this process;
- the pipeline: the round's reports through parse (in worker processes), chunk, embed and write, into the growing
  index, in a child process of its own (its memory its own), timing the encoder's share as it runs;
- serial (`--serial-baseline`): the same reports read, embedded and written one at a time in one process, as ingest
  ran before the workers and batches, into an index of its own.
Reported: chunks/s of each against the encoder alone (over all rounds, and round by round), the encoder's busy share
inside the pipeline, peak RSS of the ingest process and of its largest parser worker; and the cost of adding one
report to the index of N reports at each checkpoint (`--checkpoints`, fractions of the slice), against that report's
own work (parsing it and embedding its chunks, in the same process): if nothing grows with the index, the ratio stays
near 1 as N grows. `--grow-from DIR` measures the same on a copy of an existing index (the full corpus's, say) as it
is and with reports removed down to `--grow-keep` fractions.

The reports are a deterministic slice of the corpus: every k-th file in path order (`--fraction` or `--reports`);
the reports added one at a time are files outside the slice.

    make bench-ingest          # 10% of ../shared/corpus (83 reports), with the serial baseline: about 15 min on 2 cores
    make bench-ingest-corpus   # all 829 reports, adding one report at 10%, 50% and 100%: about 40 min

Writes benchmarks/results-ingest.json (or --out).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from core.offline import enforce_offline

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus"
TARGETS = {
    "full corpus from an empty index": "<= 12 min on 2 cores",
    "peak RSS": "<= 1.5 GB",
    "pipeline / encoder": ">= 0.9x at full scale",
    "adding one report": "about one report's own work (ratio near 1, not growing with N)",
}


def _load() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def _cpu_s() -> float:
    """CPU seconds used so far by this process (every thread) and by its children that have ended."""
    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def _memory_mb(field: str) -> float:
    """A field of this process's /proc status (VmRSS now, VmHWM its peak), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0


class ChildMemory:
    """The peak resident memory of this process's child processes (the parser workers), sampled from /proc while
    they run. (getrusage's figure for children counts the parent's memory a child shares between fork and exec.)"""

    def __init__(self, every_s: float = 0.25) -> None:
        self.peak_mb: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, args=(every_s,), name="child-memory", daemon=True)
        self._thread.start()

    def _sample(self, every_s: float) -> None:
        me = str(os.getpid())
        while not self._stop.wait(every_s):
            for entry in Path("/proc").iterdir():
                if not entry.name.isdigit():
                    continue
                try:
                    if (entry / "stat").read_text().rsplit(")", 1)[1].split()[1] != me:
                        continue
                    if b"resource_tracker" in (entry / "cmdline").read_bytes():
                        continue  # multiprocessing's own helper, not a worker
                    for line in (entry / "status").read_text().splitlines():
                        if line.startswith("VmHWM:"):
                            pid = int(entry.name)
                            self.peak_mb[pid] = max(self.peak_mb.get(pid, 0.0), int(line.split()[1]) / 1024)
                except (OSError, IndexError):
                    continue

    def stop(self) -> float:
        """The largest child's peak, in MB (0 when no child ran)."""
        self._stop.set()
        self._thread.join()
        return max(self.peak_mb.values(), default=0.0)


class TimedEmbedder:
    """The configured embedder, timing its work: how long the encoder ran inside the pipeline, and on how many texts."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.name = inner.name
        self.dimension = inner.dimension
        self.seconds = 0.0
        self.texts = 0

    def embed_documents(self, texts):
        started = time.perf_counter()
        vectors = self.inner.embed_documents(texts)
        self.seconds += time.perf_counter() - started
        self.texts += len(texts)
        return vectors

    def embed_query(self, text):
        return self.inner.embed_query(text)


def select_reports(files: Sequence[Path], count: int) -> tuple[list[Path], list[Path]]:
    """`count` files spread evenly over the corpus in path order (so over report types and years), and three others
    spread over the rest: the reports added one at a time."""
    count = max(1, min(count, len(files)))
    chosen_at = sorted({round(i * len(files) / count) for i in range(count)} - {len(files)})
    chosen = [files[i] for i in chosen_at]
    rest = [f for f in files if f not in set(chosen)]
    probes = [rest[round(i * (len(rest) - 1) / 2)] for i in range(3)] if len(rest) >= 3 else rest
    return chosen, probes


def _own_work(embedder, probe: Path, chunk_tokens: int) -> tuple[float, int]:
    """Seconds to parse one report and embed its chunks in this process, and its chunk count."""
    from ingest.workers import ParseOptions, parse_item

    options = ParseOptions(max_bytes=1 << 30, chunk_tokens=chunk_tokens)
    started = time.perf_counter()
    outcome = parse_item(str(probe), options)
    assert outcome.chunks is not None, outcome.reason
    embedder.embed_documents([c.embed_text for c in outcome.chunks])
    return time.perf_counter() - started, len(outcome.chunks)


def add_one(index, probes: Sequence[Path], urls: dict[str, str]) -> dict[str, Any]:
    """Each probe report added to the index by itself, as `ofsted-qa ingest FILE` does, against its own work; then
    removed, so that the index keeps its size. Medians over the probes."""
    from ingest.loaders import report_id_for
    from ingest.workers import ParseOptions, parse_item
    from vectorstore.ingestion import ingest_targets

    for probe in probes:  # an existing index may hold them already
        if index.catalog.report(report_id_for(probe.name)) is not None:
            index.remove_report(report_id_for(probe.name))
    counts = index.catalog.counts()
    index.dense.query(index.embedder.embed_query("warm"), 1)  # the vector index loaded, as in a process that has ingested
    rows: list[dict[str, Any]] = []
    for probe in probes:
        parse_item(str(probe), ParseOptions(max_bytes=1 << 30, chunk_tokens=index.chunk_tokens))  # file and caches warm
        own_s, chunks = _own_work(index.embedder, probe, index.chunk_tokens)
        started = time.perf_counter()
        summary = ingest_targets(index, [str(probe)], max_bytes=1 << 30, urls=urls)
        add_s = time.perf_counter() - started
        assert summary.added, summary.lines()
        rows.append({"report": probe.name, "chunks": float(chunks), "add_s": add_s, "own_work_s": own_s, "ratio": add_s / own_s})
        for report_id in summary.added:
            index.remove_report(report_id)
    return {
        "indexed_reports": counts["reports"],
        "indexed_chunks": counts["chunks"],
        "add_s_median": statistics.median(float(r["add_s"]) for r in rows),
        "own_work_s_median": statistics.median(float(r["own_work_s"]) for r in rows),
        "ratio_median": statistics.median(float(r["ratio"]) for r in rows),
        "probes": rows,
    }


def child_pipeline(spec: dict[str, Any]) -> dict[str, Any]:
    """In a fresh process: ingest one round's files into the index (serially when `spec["serial"]`), then add one
    report when asked; the encoder's own share of the time is taken as it runs."""
    from chatbot.build import build_embedder, build_index
    from core.settings import Settings
    from vectorstore.ingestion import ingest_targets

    settings = Settings(index_dir=Path(spec["index_dir"]))
    timed = TimedEmbedder(build_embedder(settings))
    index = build_index(settings, embedder=timed)
    timed.embed_query("warm")  # the model loaded, as the encoder-alone rounds have it
    workers_memory = ChildMemory()
    cpu_before = _cpu_s()
    started = time.perf_counter()
    summary = ingest_targets(
        index,
        spec["files"],
        max_bytes=settings.max_file_bytes,
        urls=spec["urls"],
        workers=0 if spec["serial"] else settings.ingest_workers,
        batch_chunks=1 if spec["serial"] else settings.ingest_batch_chunks,
    )
    seconds = time.perf_counter() - started
    cpu = _cpu_s() - cpu_before  # this process's threads and its reaped parser workers
    result: dict[str, Any] = {
        "chunks": summary.chunks,
        "failed": summary.failed,
        "ingest_s": seconds,
        "cpu_s": cpu,
        "encoder_s": timed.seconds,
        "encoder_texts": timed.texts,
        "worker_rss_peak_mb": workers_memory.stop(),
        "rss_peak_mb": _memory_mb("VmHWM"),
    }
    if spec.get("probes"):
        result["add_one"] = add_one(index, [Path(p) for p in spec["probes"]], spec["urls"])
    return result


def child_grow(spec: dict[str, Any]) -> dict[str, Any]:
    """In a fresh process, on a copy of an existing index: add one report as it is, then with reports removed down to
    each kept fraction (removed vectors may stay in Chroma's graph as deleted entries: if anything, adding costs more)."""
    from chatbot.build import build_index
    from core.settings import Settings

    started = time.perf_counter()
    index = build_index(Settings(index_dir=Path(spec["index_dir"])))
    reports = sorted(r.report_id for r in index.catalog.reports())
    index.dense.query(index.embedder.embed_query("warm"), 1)
    opened_s = time.perf_counter() - started
    results = []
    for keep in sorted(spec["keep"], reverse=True):
        target = round(len(reports) * keep)
        present = sorted(r.report_id for r in index.catalog.reports())
        for report_id in present[target:]:  # the same reports go whatever the order of sizes
            index.remove_report(report_id)
        results.append({"keep": keep, **add_one(index, [Path(p) for p in spec["probes"]], spec["urls"])})
    return {"open_and_load_s": opened_s, "sizes": results}


def _run_child(kind: str, spec: dict[str, Any], work: Path) -> dict[str, Any]:
    spec_file, out = work / f"{kind}-spec.json", work / f"{kind}-out.json"
    spec_file.write_text(json.dumps(spec), encoding="utf-8")
    subprocess.run([sys.executable, "-m", "benchmarks.ingest", "--child", kind, str(spec_file), str(out)], cwd=ROOT, check=True)
    return json.loads(out.read_text(encoding="utf-8"))


def encoder_rate(embedder, texts: Sequence[str]) -> tuple[float, float, int]:
    """Seconds and CPU seconds the encoder alone takes on these texts, in this process (batches of the configured
    size), and how many."""
    started, cpu = time.perf_counter(), time.process_time()
    embedder.embed_documents(list(texts))
    return time.perf_counter() - started, time.process_time() - cpu, len(texts)


def main(argv: list[str] | None = None) -> int:
    enforce_offline()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="the shared corpus (reports/ and manifest.csv)")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--fraction", type=float, default=0.1, help="the share of the corpus's reports to ingest (default 0.1)")
    size.add_argument("--reports", type=int, help="how many of the corpus's reports to ingest")
    parser.add_argument("--checkpoints", default="0.25,1.0", help="fractions of the slice at which one report is added (default 0.25,1.0)")
    parser.add_argument("--rounds", type=int, default=4, help="the slice is ingested in this many rounds, each beside the encoder alone (and serial)")
    parser.add_argument("--baseline-texts", type=int, default=300, help="chunks of each round's reports the encoder embeds alone, per round")
    parser.add_argument("--serial-baseline", action="store_true", help="also ingest the slice one report at a time in one process")
    parser.add_argument("--grow-from", type=Path, help="an existing index to copy and add one report to (e.g. the full corpus's)")
    parser.add_argument("--grow-keep", default="1.0,0.5", help="fractions of --grow-from's reports to measure at (default 1.0,0.5)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results-ingest.json")
    parser.add_argument("--child", nargs=3, metavar=("KIND", "SPEC", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        kind, spec_file, out = args.child
        spec = json.loads(Path(spec_file).read_text(encoding="utf-8"))
        result = child_pipeline(spec) if kind in ("pipeline", "serial") else child_grow(spec)
        Path(out).write_text(json.dumps(result), encoding="utf-8")
        return 0

    from chatbot.build import build_embedder
    from core.settings import Settings
    from ingest.loaders import iter_document_paths, read_url_manifest
    from ingest.workers import ParseOptions, default_workers, parse_item

    settings = Settings()
    files = iter_document_paths(args.corpus / "reports")
    count = args.reports or round(len(files) * args.fraction)
    chosen, probes = select_reports(files, count)
    checkpoints = {max(1, round(len(chosen) * float(f))) for f in args.checkpoints.split(",")}
    bounds = sorted(checkpoints | {round(len(chosen) * (i + 1) / args.rounds) for i in range(args.rounds)})
    urls = read_url_manifest(args.corpus / "manifest.csv")
    embedder = build_embedder(settings)
    embedder.embed_query("warm")
    print(f"{len(chosen)} of {len(files)} reports in {len(bounds)} rounds ending at {bounds}; one report added at {sorted(checkpoints)}; "
          f"encoder {settings.encoder}, {settings.ingest_workers if settings.ingest_workers is not None else default_workers()} "
          f"parser worker(s), batches of {settings.ingest_batch_chunks} chunks", flush=True)

    rounds: list[dict[str, Any]] = []
    stages: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        work = Path(tmp)
        done = 0
        for number, stop in enumerate(bounds):
            group = [str(f) for f in chosen[done:stop]]
            # the encoder's texts: chunks spread over all of the round's reports (every k-th), so that their lengths,
            # and so the padding of their batches, are the pipeline's
            parsed = [parse_item(f, ParseOptions(max_bytes=1 << 30, chunk_tokens=settings.chunk_tokens)) for f in group]
            texts = [c.embed_text for o in parsed for c in (o.chunks or [])]
            texts = texts[:: max(1, len(texts) // args.baseline_texts)][: args.baseline_texts]
            row: dict[str, Any] = {"reports": stop, "load": _load()}
            runs = ["encoder", "pipeline", "serial"] if number % 2 == 0 else ["serial", "pipeline", "encoder"]
            for run in runs:  # in turn, the order reversed each round, so that a change of load falls on each alike
                if run == "encoder":
                    row["encoder_s"], row["encoder_cpu_s"], row["encoder_texts"] = encoder_rate(embedder, texts)
                elif run == "pipeline":
                    spec = {"index_dir": str(work / "index"), "files": group, "urls": urls, "serial": False}
                    row["pipeline"] = _run_child("pipeline", spec | {"probes": [str(p) for p in probes] if stop in checkpoints else []}, work)
                elif args.serial_baseline:
                    row["serial"] = _run_child("pipeline", {"index_dir": str(work / "serial"), "files": group, "urls": urls, "serial": True}, work)
            rounds.append(row)
            encoder_rate_now = row["encoder_texts"] / row["encoder_s"]
            line = (f"round {number + 1}: {stop} reports, load {row['load']:.1f}; encoder alone {encoder_rate_now:.1f} passages/s, "
                    f"pipeline {row['pipeline']['chunks'] / row['pipeline']['ingest_s']:.1f} chunks/s")
            if "serial" in row:
                line += f", serial {row['serial']['chunks'] / row['serial']['ingest_s']:.1f} chunks/s"
            print(line, flush=True)
            if "add_one" in row["pipeline"]:
                stages.append(row["pipeline"]["add_one"])
            done = stop
        grow = None
        if args.grow_from:
            copy = work / "grow"
            shutil.copytree(args.grow_from, copy)
            keep = [float(k) for k in args.grow_keep.split(",")]
            grow = _run_child("grow", {"index_dir": str(copy), "probes": [str(p) for p in probes], "urls": urls, "keep": keep}, work)

    def rate(runs: list[dict[str, Any]]) -> float:
        return sum(r["chunks"] for r in runs) / sum(r["ingest_s"] for r in runs)

    pipelines = [r["pipeline"] for r in rounds]
    serials = [r["serial"] for r in rounds if "serial" in r]
    encoder = sum(r["encoder_texts"] for r in rounds) / sum(r["encoder_s"] for r in rounds)
    pipeline_rate = rate(pipelines)
    serial_rate = rate(serials) if serials else None
    in_pipeline = sum(p["encoder_s"] for p in pipelines)
    results: dict[str, Any] = {
        "corpus": str(args.corpus),
        "reports": len(chosen),
        "corpus_reports": len(files),
        "encoder": settings.encoder,
        "targets": TARGETS,
        "rounds": rounds,
        "encoder_alone_passages_per_s": encoder,
        "pipeline_chunks_per_s": pipeline_rate,
        "ratio_pipeline_to_encoder": pipeline_rate / encoder,
        "ratio_pipeline_to_encoder_per_round": [
            (r["pipeline"]["chunks"] / r["pipeline"]["ingest_s"]) / (r["encoder_texts"] / r["encoder_s"]) for r in rounds
        ],
        "encoder_busy_in_pipeline": in_pipeline / sum(p["ingest_s"] for p in pipelines),
        "encoder_rate_in_pipeline": sum(p["encoder_texts"] for p in pipelines) / in_pipeline,
        "serial_chunks_per_s": serial_rate,
        "ratio_serial_to_encoder": serial_rate / encoder if serial_rate else None,
        "ratio_pipeline_to_serial_per_round": [
            (r["pipeline"]["chunks"] / r["pipeline"]["ingest_s"]) / (r["serial"]["chunks"] / r["serial"]["ingest_s"]) for r in rounds if "serial" in r
        ],
        # CPU per chunk: what the machine's load changes least (wall-clock rates above move with the other work on
        # a shared machine); on cores of its own, the pipeline runs at about the encoder's rate divided by this ratio
        "cpu_ms_per_chunk": {
            "encoder_alone": 1000 * sum(r["encoder_cpu_s"] for r in rounds) / sum(r["encoder_texts"] for r in rounds),
            "pipeline": 1000 * sum(p["cpu_s"] for p in pipelines) / sum(p["chunks"] for p in pipelines),
            "serial": 1000 * sum(p["cpu_s"] for p in serials) / sum(p["chunks"] for p in serials) if serials else None,
        },
        "rss_peak_mb": max(p["rss_peak_mb"] for p in pipelines),
        "worker_rss_peak_mb": max(p["worker_rss_peak_mb"] for p in pipelines),
        "failed": [f for p in pipelines for f in p["failed"]],
        "add_one": stages,
        "grow_from": {"index": str(args.grow_from), **grow} if grow else None,
        "full_corpus_minutes_at_this_rate": 49_380 / pipeline_rate / 60,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")

    print()
    print(f"{'measure':<58} {'figure':>14}  {'same-run baseline':<34} {'ratio':>7}  target")
    print(f"{'pipeline chunks/s (parse, chunk, embed, write)':<58} {pipeline_rate:>14.1f}  "
          f"{f'encoder alone {encoder:.1f} passages/s':<34} {results['ratio_pipeline_to_encoder']:>6.2f}x  {TARGETS['pipeline / encoder']}")
    per_round = ", ".join(f"{x:.2f}" for x in results["ratio_pipeline_to_encoder_per_round"])
    print(f"{'  the same, median of the rounds (each round)':<58} {'':>14}  {'':<34} {statistics.median(results['ratio_pipeline_to_encoder_per_round']):>6.2f}x  ({per_round})")
    print(f"{'encoder busy in the pipeline (share of its wall time)':<58} {results['encoder_busy_in_pipeline']:>13.0%}  "
          f"{'its rate there ' + format(results['encoder_rate_in_pipeline'], '.1f') + ' passages/s':<34}")
    if serial_rate:
        print(f"{'serial chunks/s (one report at a time, one process)':<58} {serial_rate:>14.1f}  "
              f"{f'encoder alone {encoder:.1f} passages/s':<34} {results['ratio_serial_to_encoder']:>6.2f}x")
        per_round = ", ".join(f"{x:.2f}" for x in results["ratio_pipeline_to_serial_per_round"])
        print(f"{'pipeline / serial':<58} {pipeline_rate / serial_rate:>13.2f}x  {'median of the rounds (each round)':<34} "
              f"{statistics.median(results['ratio_pipeline_to_serial_per_round']):>6.2f}x  ({per_round})")
    cpu = results["cpu_ms_per_chunk"]
    print(f"{'CPU per chunk, pipeline (ms, its process and workers)':<58} {cpu['pipeline']:>14.1f}  "
          f"{'encoder alone ' + format(cpu['encoder_alone'], '.1f') + ' ms':<34} {cpu['pipeline'] / cpu['encoder_alone']:>6.2f}x")
    if cpu["serial"]:
        print(f"{'CPU per chunk, serial (ms)':<58} {cpu['serial']:>14.1f}  "
              f"{'encoder alone ' + format(cpu['encoder_alone'], '.1f') + ' ms':<34} {cpu['serial'] / cpu['encoder_alone']:>6.2f}x")
    print(f"{'peak RSS, ingest process / largest parser worker (MB)':<58} {results['rss_peak_mb']:>7.0f} / {results['worker_rss_peak_mb']:<5.0f}"
          f"{'':36}{'':>9}{TARGETS['peak RSS']}")
    print(f"{'full corpus (49,380 chunks) at this rate, minutes':<58} {results['full_corpus_minutes_at_this_rate']:>14.1f}  {'':34} {'':>7}  {TARGETS['full corpus from an empty index']}")
    rows = [(a, "") for a in stages]
    if grow:
        rows += [(s, f" (copy of {args.grow_from.name}, {s['keep']:.0%})") for s in grow["sizes"]]
    for add, where in rows:
        label = f"add one report to {add['indexed_reports']} reports ({add['indexed_chunks']} chunks){where}"
        print(f"{label:<58} {add['add_s_median']:>12.2f} s  {'its own work (parse + embed) ' + format(add['own_work_s_median'], '.2f') + ' s':<34} "
              f"{add['ratio_median']:>6.2f}x  {TARGETS['adding one report']}")
    if grow:
        print(f"opening the copied index and loading its vectors: {grow['open_and_load_s']:.1f} s (once per process)")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
