"""`ofsted-qa`: ingest reports, ask questions, list what is indexed, run the evaluation."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from cli.inputs import iso_date
from core.errors import BadQuestionError, OfstedQAError
from core.models import REPORT_TYPES
from core.offline import enforce_offline
from core.settings import Settings

log = logging.getLogger("ofsted_qa")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ofsted-qa", description="Cited answers from Ofsted inspection reports.")
    parser.add_argument("--index-dir", type=Path, help="index folder (default: OFSTED_QA_INDEX_DIR or data/index)")
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)

    ingest = sub.add_parser("ingest", help="ingest PDF/TXT/MD/HTML files, folders (recursively) or http(s) URLs")
    ingest.add_argument("targets", nargs="*", help="files, folders or URLs (default: the bundled sample corpus)")
    ingest.add_argument("--manifest", type=Path, help="manifest.csv with official Ofsted URLs (document, ofsted_file_url)")
    ingest.add_argument("--no-progress", action="store_true")
    ingest.add_argument(
        "--accept-damaged", action="store_true", help="read damaged (truncated or repaired) PDFs anyway; text may be missing"
    )
    ingest.add_argument(
        "--authority", help="the local authority of reports whose text names none that can be read (never overrides the text)"
    )

    reembed = sub.add_parser(
        "reembed", help="rewrite every vector of the index with the configured encoder (OFSTED_QA_ENCODER), from its catalog"
    )
    reembed.add_argument("--no-progress", action="store_true")

    sentences = sub.add_parser(
        "sentences", help="embed the sentences answers read, ahead of the questions, into the index's sentence store"
    )
    sentences.add_argument(
        "--latest", action="store_true", help="only each authority's latest inspection and the reports since (what a question with no time in it reads)"
    )
    sentences.add_argument("--no-progress", action="store_true")

    ask = sub.add_parser("ask", help="ask a question")
    ask.add_argument("question")
    ask.add_argument("--local-authority", action="append", default=[], help="restrict to an authority (repeatable)")
    ask.add_argument(
        "--report-type",
        action="append",
        default=[],
        choices=REPORT_TYPES,
        metavar="TYPE",
        help=f"restrict to a report type (repeatable): {', '.join(REPORT_TYPES)}",
    )
    ask.add_argument("--from", dest="published_from", type=iso_date, help="published on or after YYYY-MM-DD")
    ask.add_argument("--to", dest="published_to", type=iso_date, help="published on or before YYYY-MM-DD")
    ask.add_argument("--history", type=Path, help="JSON list of {user, assistant, state?} turns (a follow-up; state: an answer's --json \"state\")")
    ask.add_argument("--json", action="store_true", help="print the answer JSON")

    sub.add_parser("reports", help="list the indexed reports with their metadata")
    sub.add_parser("stats", help="index statistics")

    feedback = sub.add_parser("eval-case-from-feedback", help="turn UI feedback (JSONL) into eval cases (YAML)")
    feedback.add_argument("args", nargs=argparse.REMAINDER, help="FEEDBACK.jsonl [-o out.yaml] [--include-negative]")

    evaluate = sub.add_parser("eval", help="run the Q&A regression suite against the index")
    from eval.cli import add_arguments

    add_arguments(evaluate)
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {"index_dir": args.index_dir} if args.index_dir else {}
    return Settings(**overrides)


def main(argv: list[str] | None = None) -> int:
    enforce_offline()
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    try:
        settings = _settings(args)
        return COMMANDS[args.command](args, settings)
    except OfstedQAError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130


def _usage_error(message: str) -> int:
    """A bad command-line value: one line on stderr, exit status 2 (as argparse's own errors)."""
    print(f"Error: {message}", file=sys.stderr)
    return 2


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from chatbot.build import build_index
    from ingest.loaders import canonical_authority, read_url_manifest
    from vectorstore.ingestion import ingest_targets

    targets = args.targets or [str(settings.sample_corpus_dir)]
    manifest = args.manifest or settings.manifest_csv
    if manifest is None:
        # a manifest.csv beside the corpus gives the official Ofsted links
        for target in targets:
            candidate = Path(target) / "manifest.csv"
            if candidate.exists():
                manifest = candidate
                break
    urls = read_url_manifest(manifest)
    authority = canonical_authority(args.authority) if args.authority is not None else None
    index = build_index(settings)
    bar = None
    if not args.no_progress:
        from tqdm import tqdm

        bar = tqdm(unit="file", file=sys.stderr)

    def progress(done: int, total: int, name: str) -> None:
        if bar is not None:
            bar.total = total
            bar.set_postfix_str(name[-40:])
            bar.update(1)

    summary = ingest_targets(
        index,
        targets,
        max_bytes=settings.max_file_bytes,
        urls=urls,
        progress=progress,
        accept_damaged=args.accept_damaged,
        authority=authority,
        workers=settings.ingest_workers,
        batch_chunks=settings.ingest_batch_chunks,
    )
    if bar is not None:
        bar.close()
    print("\n".join(summary.lines()))
    return 0 if summary.reports or not summary.failed else 1


def cmd_reembed(args: argparse.Namespace, settings: Settings) -> int:
    import time

    from chatbot.build import build_index

    index = build_index(settings, check_vectors=False)
    if index.dense.holds_own_vectors():
        print(f"The index already holds {index.embedder.name}'s vectors (OFSTED_QA_ENCODER={settings.encoder}): nothing to do.")
        return 0
    bar = None
    if not args.no_progress:
        from tqdm import tqdm

        bar = tqdm(unit="chunk", file=sys.stderr)

    def progress(done: int, total: int) -> None:
        if bar is not None:
            bar.total = total
            bar.update(done - bar.n)

    started = time.perf_counter()
    chunks = index.reembed(progress=progress)
    if bar is not None:
        bar.close()
    print(f"re-embedded {chunks} chunks with {index.embedder.name} in {time.perf_counter() - started:.1f} s")
    return 0


def cmd_sentences(args: argparse.Namespace, settings: Settings) -> int:
    import time

    from chatbot.build import build_index
    from chatbot.extractive import embed_ahead
    from chatbot.structured import latest_reports

    index = build_index(settings)
    index.require_ready()
    store = index.open_sentence_store()
    if store is None:
        print(f"The sentence store beside {index.catalog.path} cannot be opened (see the warning above).", file=sys.stderr)
        return 1
    reports = latest_reports(index.reports()) if args.latest else index.reports()
    paragraphs = [p for r in reports for p in index.paragraphs(r.report_id)]
    bar = None
    if not args.no_progress:
        from tqdm import tqdm

        bar = tqdm(unit="sentence", file=sys.stderr)
    started = time.perf_counter()
    seen, embedded = embed_ahead(index.embedder, paragraphs, store, progress=bar.update if bar is not None else None)
    if bar is not None:
        bar.close()
    print(
        f"{len(reports)} reports, {seen} sentences: {embedded} embedded in {time.perf_counter() - started:.1f} s, "
        f"{seen - embedded} held already; the store holds {store.count()} ({store.path})"
    )
    return 0


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    from chatbot.build import build_pipeline
    from cli.inputs import read_history
    from core.models import Filters, Turn

    history: list[Turn] = []
    if args.history:
        try:
            history = read_history(args.history)
        except ValueError as error:
            return _usage_error(f"--history {args.history}: {error}")
    try:
        filters = Filters(
            local_authorities=tuple(args.local_authority),
            report_types=tuple(args.report_type),
            published_from=args.published_from,
            published_to=args.published_to,
        )
    except BadQuestionError as error:
        return _usage_error(f"--from/--to: {error}")
    pipeline = build_pipeline(settings)
    answer = pipeline.ask(args.question, history, filters)
    if args.json:
        print(json.dumps(answer.to_json(), indent=2, ensure_ascii=False))
        return 0
    print(answer.answer)
    if answer.citations:
        print()
        for citation in answer.citations:
            where = f"p. {citation.page}" + (f", para {citation.paragraph_number}" if citation.paragraph_number else "")
            print(f"[{citation.marker}] {citation.local_authority}, {citation.report_type}, {citation.published} ({where})")
            print(f"    {citation.text}")
            print(f"    {citation.url or citation.source}")
    return 0


def cmd_reports(args: argparse.Namespace, settings: Settings) -> int:
    from chatbot.build import build_index

    index = build_index(settings)
    reports = index.reports()
    if not reports:
        print("No reports indexed yet: run `ofsted-qa ingest DIR`.")
        return 0
    for report in reports:
        meta = report.metadata
        grades = "; ".join(f"{j.area}: {j.grade}" for j in meta.judgements) or "no graded judgements"
        visit = f"{meta.visit_start or '?'} to {meta.visit_end or '?'}"
        print(f"{report.report_id}\n  {report.title} | visit {visit} | {grades}")
    print(f"{len(reports)} reports")
    return 0


def cmd_stats(args: argparse.Namespace, settings: Settings) -> int:
    from chatbot.build import build_index

    index = build_index(settings)
    print(json.dumps(index.stats(), indent=2))
    return 0


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from chatbot.build import build_pipeline
    from eval.cli import run

    # a factory, so that a bad dataset is reported before the index and model load
    return run(args, lambda: build_pipeline(settings), settings)


def cmd_feedback(args: argparse.Namespace, settings: Settings) -> int:
    from ui.feedback import main as feedback_main

    return feedback_main(args.args or [str(settings.feedback_file)])


COMMANDS = {"eval-case-from-feedback": cmd_feedback, "ingest": cmd_ingest, "reembed": cmd_reembed, "sentences": cmd_sentences, "ask": cmd_ask, "reports": cmd_reports, "stats": cmd_stats, "eval": cmd_eval}


if __name__ == "__main__":
    sys.exit(main())
