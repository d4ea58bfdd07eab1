"""The reranker against the fused ranking alone, in one run: `make eval-rerank`.

    python -m eval.rerank_compare [--only dev|dev-current|test|current] [--out eval-out-rerank]

Each part (the dev set over the sample index, the dev `current` set, the blind test set and the blind `current` set
over the test index; the indexes are the cached ones of `make eval-test`) is answered twice by the same code: once
with reranking off (dense + BM25 fused by reciprocal rank) and once with the committed reranker. `OUT/rerank.md`
and `OUT/rerank.json` give hit@1, MRR, hit@5, citation recall and precision and pass rate, overall and by tag, side
by side; `OUT/<part>-<mode>/` holds each run's results. Figures are reported, not judged.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from core.errors import OfstedQAError
from core.settings import Settings
from eval.dataset import DatasetError
from eval.suite import (
    CURRENT,
    DEV_CURRENT,
    DEV_CURRENT_REPORTS,
    DEV_DATASETS,
    ROOT,
    blind_datasets,
    blind_report_files,
    cached_index_settings,
    manifest_urls,
    run_eval,
)

MODES = {"fused": False, "reranked": True}
METRICS = ("cases", "pass_rate", "hit@1", "mrr", "hit@5", "citation_recall", "citation_precision", "fact_recall", "latency_p95_s")
TAG_METRICS = ("cases", "hit@1", "mrr", "citation_recall", "citation_precision", "pass_rate")
PARTS = ("dev", "dev-current", "test", "current")


def compare_markdown(runs: dict[str, dict[str, dict[str, Any]]]) -> str:
    from eval.reporting import format_value

    lines = ["# The reranker against the fused ranking, one run", ""]
    columns = [(part, mode) for part in runs for mode in MODES if mode in runs[part]]
    lines += ["| metric | " + " | ".join(f"{part}: {mode}" for part, mode in columns) + " |", "|---|" + "---|" * len(columns)]
    for metric in METRICS:
        lines.append(f"| {metric} | " + " | ".join(format_value(metric, runs[p][m]["summary"].get(metric)) for p, m in columns) + " |")
    for part in runs:
        tags = sorted({tag for mode in runs[part].values() for tag in mode.get("by_tag", {})})
        lines += ["", f"## {part}, by tag", "", "| tag | " + " | ".join(f"{metric} fused / reranked" for metric in TAG_METRICS) + " |"]
        lines.append("|---|" + "---|" * len(TAG_METRICS))
        for tag in tags:
            cells = []
            for metric in TAG_METRICS:
                values = [runs[part][mode].get("by_tag", {}).get(tag, {}).get(metric) for mode in MODES]
                cells.append(" / ".join(format_value(metric, v) for v in values))
            lines.append(f"| {tag} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.rerank_compare", description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--out", type=Path, default=Path("eval-out-rerank"))
    parser.add_argument("--cache", type=Path, default=ROOT / ".eval-cache")
    parser.add_argument("--only", choices=PARTS, action="append", help="run only these parts")
    args = parser.parse_args(argv)
    from core.offline import enforce_offline
    from ingest.loaders import iter_document_paths

    enforce_offline()
    settings = Settings()
    parts = [p for p in PARTS if p in set(args.only or PARTS)]
    indexes: dict[str, Settings] = {}
    if "dev" in parts:
        sample = [p.resolve() for p in iter_document_paths(settings.sample_corpus_dir)]
        indexes["dev"] = cached_index_settings(settings, args.cache, "dev", sample)
    if "dev-current" in parts:
        files = blind_report_files(args.corpus, DEV_CURRENT_REPORTS)
        indexes["dev-current"] = cached_index_settings(settings, args.cache, "devcurrent", files, manifest_urls(args.corpus))
    if {"test", "current"} & set(parts):
        files = blind_report_files(args.corpus)
        indexes["test"] = indexes["current"] = cached_index_settings(settings, args.cache, "test", files, manifest_urls(args.corpus))
    datasets = {"dev": list(DEV_DATASETS), "dev-current": [DEV_CURRENT], "test": blind_datasets(), "current": [CURRENT]}
    runs: dict[str, dict[str, dict[str, Any]]] = {}
    try:
        for part in parts:
            for mode, rerank in MODES.items():
                mode_settings = indexes[part].model_copy(update={"rerank": rerank})
                results = run_eval(datasets[part], mode_settings, args.out / f"{part}-{mode}", baseline=None, with_baselines=False)
                runs.setdefault(part, {})[mode] = results
                print(f"{part} {mode}: " + ", ".join(f"{m} {results['summary'].get(m)}" for m in ("pass_rate", "hit@1", "mrr")), flush=True)
    except DatasetError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 2
    except OfstedQAError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    text = compare_markdown(runs)
    (args.out / "rerank.md").write_text(text, encoding="utf-8")
    payload = {part: {mode: {"summary": r["summary"], "by_tag": r.get("by_tag", {})} for mode, r in modes.items()} for part, modes in runs.items()}
    (args.out / "rerank.json").write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
