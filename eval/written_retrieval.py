"""Hybrid retrieval on the questions written for training (`train/data/questions.jsonl`), over the full index.

    python -m eval.written_retrieval [--index .eval-cache/full] [--reranker DIR]

Each written question is asked of its own report and of all its authority's reports; the figure is the rank of the
first passage its writer marked as answering (hit@1, hit@5, hit@20, MRR), overall and by the writer's style
(councillor, staff, keywords). The hybrid ranking never saw these questions; a reranker trained with `--questions`
did (all but the `validation` split), so read its figures on that split only. Reports, not judges.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from train.reranker_data import ROOT, load_questions


def main(argv: Sequence[str] | None = None) -> int:
    from core.offline import enforce_offline

    enforce_offline()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, default=ROOT / ".eval-cache" / "full", help="an index of the full corpus")
    parser.add_argument("--reranker", type=Path, default=None, help="also rank with this reranker (fused with the hybrid order)")
    parser.add_argument("--split", choices=("train", "validation", "all"), default="all")
    args = parser.parse_args(argv)
    if not (args.index / "catalog.sqlite").is_file():
        print(f"error: no index at {args.index} (build one of ../shared/corpus with `make ingest-corpus`)", file=sys.stderr)
        return 2
    from chatbot.build import build_pipeline
    from chatbot.query import plan_query
    from chatbot.reranker import CrossEncoderReranker
    from chatbot.retrieval import HybridRetriever
    from core.settings import Settings

    pipeline = build_pipeline(Settings().model_copy(update={"index_dir": args.index.resolve(), "chroma_host": None}))
    reports = {r.report_id: r for r in pipeline.index.reports()}
    retriever = HybridRetriever(pipeline.index, reranker=CrossEncoderReranker(args.reranker) if args.reranker else None)
    questions = [q for q in load_questions() if args.split == "all" or q.split == args.split]
    ranks: dict[str, list[tuple[str, int]]] = {"its report": [], "its authority's reports": []}
    missing = 0
    for question in questions:
        report = reports.get(question.report_id)
        if report is None:
            missing += 1
            continue
        plan = plan_query(question.question, [], None, pipeline.gazetteer)
        authority = report.metadata.local_authority
        scopes = {
            "its report": [question.report_id],
            "its authority's reports": [rid for rid, r in reports.items() if r.metadata.local_authority == authority],
        }
        for name, scope in scopes.items():
            hits = retriever.retrieve(plan, 20, scope)
            rank = next(
                (
                    position + 1
                    for position, hit in enumerate(hits)
                    if hit.chunk.report_id == question.report_id and any(start[:40] in hit.chunk.text for _, start in question.positives)
                ),
                0,
            )
            ranks[name].append((question.style, rank))
    print(f"{len(questions) - missing} written questions ({missing} of reports not in the index); rank of the first answering passage")
    for name, rows in ranks.items():
        for style in ("all", "councillor", "staff", "keywords"):
            chosen = [rank for s, rank in rows if style == "all" or s == style]
            if not chosen:
                continue
            n = len(chosen)
            at = {k: sum(1 for r in chosen if 0 < r <= k) / n for k in (1, 5, 20)}
            mrr = sum(1 / r for r in chosen if r) / n
            print(f"{name:>24} {style:>10} ({n}): hit@1 {at[1]:.3f} hit@5 {at[5]:.3f} hit@20 {at[20]:.3f} MRR {mrr:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
