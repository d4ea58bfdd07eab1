"""`make eval-test`: the dev set, its blind rewrites, the blind test set and the routing set, side by side.

    python -m eval.suite [--corpus ../shared/corpus] [--out eval-out-test] [--cache .eval-cache]

- The test set's reports (eval/datasets/test/reports.csv: 70 reports of 28 authorities that are not
  in the sample corpus) are read from the shared corpus, checked against their recorded sha256, and
  ingested into an index cached under `--cache`, keyed by those hashes and the vectors (ingest is idempotent, so a
  warm cache costs a few seconds and a parser change re-reads what changed).
- The dev set and its rewrites run over an index of the bundled sample corpus, cached the same way.
- Each dataset runs through the same `eval` command as `make eval-ci`, with the naive LangChain and
  BM25 baselines over the report files of the index it is evaluated on, and is judged only against
  a baseline accepted on the same cases (eval/baseline.json).
- Test batches that a fix was made for move to eval/datasets/dev/moved/ and run over the test index as
  "moved" (dev cases now: tuned on, so reported apart from the test set).
- The dev `current` set (eval/datasets/dev/current.yaml, written blind, tuned on) runs as "dev-current" over
  an index of the 44 reports of eval/datasets/dev/current_reports.csv (8 councils in neither other set), and
  eval/datasets/dev/overview.yaml (whole-service questions in councillors' words, written blind, tuned on) as
  "dev-overview" over the same index.
- The blind `current` set (eval/datasets/test/current.yaml: present-tense questions about one council,
  issue 19) runs over the test index as "current", with the currency metrics (leads_with_latest,
  currency: the answer cites the latest report covering the topic first and states its grade).
- Outputs: `OUT/dev`, `OUT/rewrites`, `OUT/test`, `OUT/current`, `OUT/moved` when there is one (results.json,
  report.md, junit.xml, metrics.png each), `OUT/routing` (routing.json, routing.md), and
  `OUT/summary.md` / `OUT/summary.json` with every figure side by side.

Exit status: 0 when everything ran (the figures are reported, not judged: the test set is not a gate,
so that nobody tunes on it; `make eval-ci` gates on dev), 1 on an error, 2 for a bad dataset.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from core.errors import ConfigError, OfstedQAError
from core.settings import Encoder, Settings
from eval.dataset import DatasetError
from eval.metrics import MAIN_METRICS

EVAL_DIR = Path(__file__).resolve().parent
ROOT = EVAL_DIR.parent
DATASETS = EVAL_DIR / "datasets"
DEV_DATASETS = (DATASETS / "dev" / "gold.yaml", DATASETS / "dev" / "gold_structured.yaml")
REWRITES = DATASETS / "dev" / "rewrites.yaml"
PROBES = DATASETS / "dev" / "probes.yaml"  # blind-written probes of how questions are understood (dev: tuned on)
# Test batches a fix was made for: dev cases now, still asked of the test reports (docs/evaluation.md)
MOVED = DATASETS / "dev" / "moved"
TEST_DIR = DATASETS / "test"
TEST_REPORTS = TEST_DIR / "reports.csv"
ROUTING = TEST_DIR / "routing.yaml"
# Dev present-tense questions about one council (issue 19), over an index of 44 reports of 8 other councils
DEV_CURRENT = DATASETS / "dev" / "current.yaml"
DEV_CURRENT_REPORTS = DATASETS / "dev" / "current_reports.csv"
DEV_OVERVIEW = DATASETS / "dev" / "overview.yaml"  # whole-service questions in councillors' words, over the same index
# Blind present-tense questions about one council (issue 19): reported apart from batch 1, with the currency metrics
CURRENT = TEST_DIR / "current.yaml"
PARTS = ("dev", "rewrites", "probes", "dev-current", "dev-overview", "test", "current", "routing")  # what --only may name
SUMMARY_METRICS = ("cases", *MAIN_METRICS, "leads_with_latest", "currency", "latency_p50_s", "latency_p95_s")


def blind_datasets(folder: Path = TEST_DIR) -> list[Path]:
    """The blind test set's batch files, in order (every YAML file of the folder but the routing and currency sets)."""
    return sorted(p for p in folder.glob("*.yaml") if p.name not in {ROUTING.name, CURRENT.name})


def blind_report_files(corpus: Path, listing: Path = TEST_REPORTS) -> list[Path]:
    """The test set's report files under `corpus`/reports, each checked against its recorded sha256."""
    rows = list(csv.DictReader(listing.open(encoding="utf-8")))
    files, problems = [], []
    for row in rows:
        path = corpus / "reports" / row["document"]
        if not path.is_file():
            problems.append(f"{row['document']}: missing")
            continue
        if hashlib.sha256(path.read_bytes()).hexdigest() != row["sha256"]:
            problems.append(f"{row['document']}: its content differs from the one the test set was written on")
            continue
        files.append(path.resolve())
    if problems:
        shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        raise ConfigError(
            f"the test set's reports are not all under {corpus / 'reports'} ({shown}): pass --corpus with the "
            "shared corpus folder (the one holding manifest.csv and reports/)"
        )
    return files


def content_key(files: Sequence[Path]) -> str:
    """A short key over the files' contents: the cache folder of the index built from them."""
    digest = hashlib.sha256()
    for path in sorted(files, key=lambda p: p.name):
        digest.update(f"{path.name}\t{hashlib.sha256(path.read_bytes()).hexdigest()}\n".encode())
    return digest.hexdigest()[:16]


def cache_folder(name: str, files: Sequence[Path], encoder: Encoder = "onnx-fp32") -> str:
    """The cached index's folder: one per set of files and per set of vectors, since an index refuses another
    encoder's vectors (docs/adr/0010-encoder.md). torch and onnx-fp32 give the same vectors and share the folder
    torch's had before there was a choice; onnx-int8's has its own."""
    from vectorstore.embeddings import MODEL_NAME, encoder_name

    return f"{name}-{content_key(files)}" + ("" if encoder_name(encoder) == MODEL_NAME else f"-{encoder}")


def cached_index_settings(
    settings: Settings, cache: Path, name: str, files: Sequence[Path], urls: Mapping[str, str] | None = None
) -> Settings:
    """Settings pointing at an index of exactly `files`, built (or brought up to date) under the cache."""
    from chatbot.build import build_index
    from vectorstore.ingestion import ingest_targets

    folder = cache_folder(name, files, settings.encoder)
    index_settings = settings.model_copy(update={"index_dir": (cache / folder).resolve(), "chroma_host": None})
    index = build_index(index_settings)
    summary = ingest_targets(
        index, [str(p) for p in files], max_bytes=settings.max_file_bytes, urls=urls,
        workers=settings.ingest_workers, batch_chunks=settings.ingest_batch_chunks,
    )
    if summary.failed:
        raise ConfigError(f"the {name} index could not read every report: " + "; ".join(map(str, summary.failed)))
    return index_settings


def manifest_urls(corpus: Path) -> dict[str, str]:
    from ingest.loaders import read_url_manifest

    manifest = corpus / "manifest.csv"
    return read_url_manifest(manifest) if manifest.exists() else {}


def run_eval(
    datasets: Sequence[Path], settings: Settings, out: Path, *, baseline: Path | None, accept: bool = False, with_baselines: bool = True
) -> dict[str, Any]:
    """One `ofsted-qa eval` run over the settings' index (with the comparison systems, and judged against `baseline`
    where one is given); returns its results.json."""
    from chatbot.build import build_pipeline
    from eval.cli import add_arguments, run

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    argv = [arg for path in datasets for arg in ("--dataset", str(path))]
    argv += ["--out", str(out)]
    if with_baselines:
        argv.append("--with-baselines")
    if baseline is not None:
        argv += ["--baseline", str(baseline)]
    args = parser.parse_args([*argv, "--accept-baseline"] if accept else argv)
    results_file = out / "results.json"
    results_file.unlink(missing_ok=True)  # never read an earlier run's results as this one's
    printed = io.StringIO()
    code = run(args, lambda: build_pipeline(settings), settings, stdout=printed, stderr=printed)
    print(printed.getvalue(), end="")
    if code == 2:
        raise DatasetError(printed.getvalue().strip())
    if not results_file.exists():
        raise ConfigError(f"the eval run over {', '.join(map(str, datasets))} wrote no results: {printed.getvalue().strip()}")
    results: dict[str, Any] = json.loads(results_file.read_text(encoding="utf-8"))
    return results


def robustness(originals: Mapping[str, Any], rewrites: Mapping[str, Any]) -> dict[str, Any]:
    """Pass rates on the rewrites against their originals, and how many passing originals a rewrite breaks."""
    passed = {case["id"]: bool(case["passed"]) for case in originals["cases"]}
    rows: dict[str, list[bool]] = {}
    by_number: dict[str, list[bool]] = {"1": [], "2": []}
    for case in rewrites["cases"]:
        original, _, number = case["id"].rpartition("-rw")
        if original in passed:
            rows.setdefault(original, []).append(bool(case["passed"]))
            by_number.setdefault(number, []).append(bool(case["passed"]))
    asked = [original for original in rows if original in passed]
    kept = [o for o in asked if passed[o]]

    def rate(flags: Sequence[bool]) -> float | None:
        return round(sum(flags) / len(flags), 4) if flags else None

    return {
        "originals": len(asked),
        "pass_rate_originals": rate([passed[o] for o in asked]),
        "pass_rate_rewrites": rate([flag for o in asked for flag in rows[o]]),
        "pass_rate_rewrite_1": rate(by_number.get("1", [])),
        "pass_rate_rewrite_2": rate(by_number.get("2", [])),
        "originals_passing": len(kept),
        "both_rewrites_pass": rate([all(rows[o]) for o in kept]),
        "a_rewrite_fails": sorted(o for o in kept if not all(rows[o])),
        "rewrites_pass_original_fails": sorted(o for o in asked if not passed[o] and any(rows[o])),
    }


def _cell(metric: str, value: Any) -> str:
    from eval.reporting import format_value

    return format_value(metric, value)


def summary_markdown(runs: Mapping[str, Mapping[str, Any]], kept: Mapping[str, Any], routing: Mapping[str, Any]) -> str:
    """summary.md: dev and test side by side with both baselines, paraphrase robustness, routing accuracy."""
    columns = []
    for name in ("dev", "dev-current", "dev-overview", "test", "current", "rewrites", "probes", "moved"):
        if name in runs:
            for system, data in runs[name]["systems"].items():
                columns.append((f"{name}: {system}", data["summary"]))
    lines = ["# Evaluation: dev, blind test, rewrites and routing, one run", ""]
    for name, results in runs.items():
        run = results.get("run", {})
        corpus = run.get("corpus", {})
        lines.append(
            f"- {name}: {results['summary']['cases']} cases over {corpus.get('reports', '?')} reports "
            f"(corpus {str(corpus.get('hash', ''))[:12]}); datasets "
            + ", ".join(f"{Path(p).name} ({d[:12]})" for p, d in run.get("datasets", {}).items())
            + (f"; {results['verdict']['baseline_note']}" if results.get("verdict", {}).get("baseline_note") else "")
        )
    lines += ["", "## Answers", "", "| metric | " + " | ".join(name for name, _ in columns) + " |"]
    lines.append("|---|" + "---|" * len(columns))
    for metric in SUMMARY_METRICS:
        lines.append(f"| {metric} | " + " | ".join(_cell(metric, summary.get(metric)) for _, summary in columns) + " |")
    tagged = [name for name in ("dev", "dev-current", "dev-overview", "test", "current", "rewrites", "probes") if name in runs and runs[name].get("by_tag")]
    if tagged:
        tags = sorted({tag for name in tagged for tag in runs[name]["by_tag"]})
        header = " | ".join(f"{name} cases | {name} pass rate | {name} citation recall" for name in tagged)
        lines += ["", "## By tag (product)", "", f"| tag | {header} |", "|---|" + "---|---|---|" * len(tagged)]
        for tag in tags:
            cells = []
            for name in tagged:
                row = runs[name]["by_tag"].get(tag) or {}
                cells += [
                    str(row.get("cases", 0)) if row else "",
                    _cell("pass_rate", row.get("pass_rate")) if row else "",
                    _cell("citation_recall", row.get("citation_recall")) if row else "",
                ]
            lines.append(f"| {tag} | " + " | ".join(cells) + " |")
    if kept:
        lines += [
            "",
            "## Paraphrase robustness (dev questions, each rewritten twice by a blind writer)",
            "",
            "| | value |",
            "|---|---|",
            f"| dev originals | {kept['originals']} |",
            f"| pass rate, originals | {_cell('pass_rate', kept['pass_rate_originals'])} |",
            f"| pass rate, rewrites (both) | {_cell('pass_rate', kept['pass_rate_rewrites'])} |",
            f"| pass rate, rewrite 1 (close) | {_cell('pass_rate', kept['pass_rate_rewrite_1'])} |",
            f"| pass rate, rewrite 2 (everyday or terse) | {_cell('pass_rate', kept['pass_rate_rewrite_2'])} |",
            f"| passing originals whose two rewrites both pass | {_cell('pass_rate', kept['both_rewrites_pass'])} |",
            f"| passing originals broken by a rewrite | {len(kept['a_rewrite_fails'])} |",
        ]
    if routing:
        from eval.routing import SLOTS

        columns_r = ("questions", "route", *SLOTS, "all")
        lines += ["", "## Routing (blind labelled questions, asked of the test index)", ""]
        lines.append("| set | " + " | ".join(columns_r) + " |")
        lines.append("|---|" + "---|" * len(columns_r))
        for name in ("overall", "originals", "paraphrases"):
            row = routing[name]
            lines.append(
                f"| {name} | "
                + " | ".join(str(row[c]) if c == "questions" else _cell("rate", row.get(c)) for c in columns_r)
                + " |"
            )
        lines += ["", "The confusion matrix and every misread question are in `routing/routing.md`."]
    return "\n".join(lines).rstrip() + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.suite", description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus", help="the shared corpus folder")
    parser.add_argument("--out", type=Path, default=Path("eval-out-test"), help="where the outputs go")
    parser.add_argument("--cache", type=Path, default=ROOT / ".eval-cache", help="where the cached indexes live")
    parser.add_argument("--baseline", type=Path, default=EVAL_DIR / "baseline.json", help="the accepted baselines")
    parser.add_argument(
        "--only",
        choices=PARTS,
        action="append",
        help="run only these parts",
    )
    parser.add_argument(
        "--accept-baseline", action="store_true", help="record each dataset's run as its accepted baseline, on purpose"
    )
    args = parser.parse_args(argv)
    parts = set(args.only or PARTS)
    from core.offline import enforce_offline

    enforce_offline()
    settings = Settings()
    runs: dict[str, dict[str, Any]] = {}

    def evaluate(name: str, datasets: Sequence[Path], index_settings: Settings) -> None:
        runs[name] = run_eval(
            datasets, index_settings, args.out / name, baseline=args.baseline, accept=args.accept_baseline
        )

    try:
        kept: dict[str, Any] = {}
        routing: dict[str, Any] = {}
        if parts & {"dev", "rewrites", "probes"}:
            from ingest.loaders import iter_document_paths

            sample = [p.resolve() for p in iter_document_paths(settings.sample_corpus_dir)]
            dev_settings = cached_index_settings(settings, args.cache, "dev", sample)
            if "dev" in parts:
                evaluate("dev", DEV_DATASETS, dev_settings)
            if "rewrites" in parts:
                evaluate("rewrites", [REWRITES], dev_settings)
            if "probes" in parts:
                evaluate("probes", [PROBES], dev_settings)
            if "dev" in runs and "rewrites" in runs:
                kept = robustness(runs["dev"], runs["rewrites"])
        if parts & {"dev-current", "dev-overview"}:
            files = blind_report_files(args.corpus, DEV_CURRENT_REPORTS)
            current_settings = cached_index_settings(settings, args.cache, "devcurrent", files, manifest_urls(args.corpus))
            if "dev-current" in parts:
                evaluate("dev-current", [DEV_CURRENT], current_settings)
            if "dev-overview" in parts:
                evaluate("dev-overview", [DEV_OVERVIEW], current_settings)
        if parts & {"test", "current", "routing"}:
            files = blind_report_files(args.corpus)
            test_settings = cached_index_settings(settings, args.cache, "test", files, manifest_urls(args.corpus))
            if "test" in parts:
                evaluate("test", blind_datasets(), test_settings)
                moved = sorted(MOVED.glob("*.yaml"))
                if moved:
                    evaluate("moved", moved, test_settings)
            if "current" in parts and CURRENT.exists():
                evaluate("current", [CURRENT], test_settings)
            if "routing" in parts:
                from chatbot.build import build_pipeline
                from eval.routing import load_routing, run_routing, summarise, write_routing

                results = run_routing(build_pipeline(test_settings), load_routing(ROUTING))
                paths = write_routing(args.out / "routing", results)
                routing = summarise(results)
                print(f"routing: {len(results)} questions, route accuracy {routing['overall']['route']}; {paths['report']}")
    except DatasetError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 2
    except OfstedQAError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    text = summary_markdown(runs, kept, routing)
    (args.out / "summary.md").write_text(text, encoding="utf-8")
    payload = {
        "runs": {name: {system: data["summary"] for system, data in r["systems"].items()} for name, r in runs.items()},
        "verdicts": {name: r.get("verdict", {}) for name, r in runs.items()},
        "paraphrase_robustness": kept,
        "routing": routing,
    }
    (args.out / "summary.json").write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
