"""The page view: a cited paragraph's page rendered as a PNG with its lines highlighted, cold and cached, beside
PyMuPDF's bare render of the same page at the same zoom in the same run.

Ingests the sample corpus into a temporary index (or opens one: --index), asks the dev gold questions through the
real pipeline until --paragraphs distinct PDF paragraphs have been cited, then for each cited paragraph times:

- cold: what the app's `report/{id}/page/{n}` route does on a cache miss (ui.serving.page_image): look the report
  and paragraph up, read the file and check its ingest hash, open it, find the paragraph's lines, add the highlights,
  render and encode the PNG, and keep it in the cache;
- cached: the same call again, answered from the in-memory cache;
- baseline: PyMuPDF alone, opening the same bytes and rendering the same page to PNG at the same zoom, nothing found
  or drawn (the floor the cold path builds on).

--repeat rounds, each with an empty cache. Target: cold p95 < 300 ms. Prints a table, writes --out
(benchmarks/results-page-render.json). Run: `make bench-page` or `python -m benchmarks.page_render`.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.run import summarise
from core.offline import enforce_offline

TARGET_P95_MS = 300.0


def cited_paragraphs(pipeline: Any, index: Any, questions: list[Any], wanted: int) -> list[tuple[str, str, int]]:
    """(report id, paragraph id, page) of the first `wanted` distinct PDF paragraphs the pipeline cites."""
    found: dict[str, tuple[str, str, int]] = {}
    for case in questions:
        answer = pipeline.ask(case.question, case.history, case.filters)
        for citation in answer.citations:
            report = index.report(citation.report_id)
            if report is None or not report.source.lower().endswith(".pdf") or citation.paragraph_id in found:
                continue
            found[citation.paragraph_id] = (citation.report_id, citation.paragraph_id, citation.page)
            if len(found) >= wanted:
                return list(found.values())
    return list(found.values())


def main(argv: list[str] | None = None) -> int:
    enforce_offline()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", type=Path, default=Path("eval/datasets/dev/gold.yaml"))
    parser.add_argument("--index", type=Path, default=None, help="an existing index (default: ingest the sample corpus)")
    parser.add_argument("--paragraphs", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results-page-render.json"))
    args = parser.parse_args(argv)

    from chatbot.build import build_index, build_pipeline
    from core.settings import Settings
    from eval.dataset import load_cases
    from ui.pages import DEFAULT_ZOOM, PageCache, render_bare_page
    from ui.serving import page_image, report_bases, report_file
    from vectorstore.ingestion import ingest_targets

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(index_dir=args.index or Path(tmp))
        index = build_index(settings)
        if not args.index:
            ingest_targets(index, [str(settings.sample_corpus_dir)], max_bytes=settings.max_file_bytes)
        index.require_ready()
        pipeline = build_pipeline(settings, index)
        cases = [c for c in load_cases([args.dataset]) if c.answerable]
        cited = cited_paragraphs(pipeline, index, cases, args.paragraphs)
        bases = report_bases()
        files = {r: report_file(index, r, bases, max_bytes=settings.max_file_bytes) for r, _, _ in cited}

        cold: list[float] = []
        cached: list[float] = []
        bare: list[float] = []
        sizes: list[int] = []
        highlighted = 0
        for _ in range(args.repeat):
            cache = PageCache()
            for report_id, paragraph_id, page in cited:
                started = time.perf_counter()
                image = page_image(index, report_id, page, paragraph_id, bases, max_bytes=settings.max_file_bytes, cache=cache)
                cold.append(time.perf_counter() - started)
                assert image is not None, (report_id, paragraph_id, page)
                started = time.perf_counter()
                page_image(index, report_id, page, paragraph_id, bases, max_bytes=settings.max_file_bytes, cache=cache)
                cached.append(time.perf_counter() - started)
                data = files[report_id]
                assert data is not None
                started = time.perf_counter()
                render_bare_page(data.data, page, zoom=DEFAULT_ZOOM)
                bare.append(time.perf_counter() - started)
                sizes.append(len(image.png))
                highlighted += bool(image.match.rects)

    results: dict[str, Any] = {
        "paragraphs": len(cited),
        "reports": len(files),
        "rounds": args.repeat,
        "zoom": DEFAULT_ZOOM,
        "cold": summarise("page view, cold (read, check, find, highlight, render)", cold),
        "cached": summarise("page view, cached", cached),
        "baseline": summarise("PyMuPDF bare page render, same zoom (same run)", bare),
        "highlighted_share": highlighted / max(len(cold), 1),
        "png_kb_mean": sum(sizes) / max(len(sizes), 1) / 1024,
        "target_cold_p95_ms": TARGET_P95_MS,
    }
    results["ratio_cold_p95_to_bare_p95"] = results["cold"]["p95_ms"] / max(results["baseline"]["p95_ms"], 1e-9)
    results["ratio_cached_p95_to_bare_p95"] = results["cached"]["p95_ms"] / max(results["baseline"]["p95_ms"], 1e-9)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    for key in ("cold", "cached", "baseline"):
        row = results[key]
        print(f"{row['name']:<58} n={row['n']:<4} p50 {row['p50_ms']:7.1f} ms  p95 {row['p95_ms']:7.1f} ms")
    print(
        f"cold p95 / bare render p95: {results['ratio_cold_p95_to_bare_p95']:.2f}x; cached: "
        f"{results['ratio_cached_p95_to_bare_p95']:.3f}x (target: cold p95 < {TARGET_P95_MS:.0f} ms)"
    )
    print(
        f"{results['paragraphs']} cited paragraphs of {results['reports']} reports; highlighted on their page: "
        f"{results['highlighted_share']:.0%}; PNG {results['png_kb_mean']:.0f} KB on average"
    )
    print(f"wrote {args.out}")
    return 0 if results["cold"]["p95_ms"] < TARGET_P95_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
