"""`python -m eval.suite` (make eval-test): the test reports checked against their hashes, the cache key (per encoder),
paraphrase robustness from two results files, and the side-by-side summary."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import pytest

from core.errors import ConfigError
from eval.suite import blind_report_files, cache_folder, content_key, robustness, summary_markdown


def _corpus(tmp_path: Path, texts: dict[str, bytes]) -> tuple[Path, Path]:
    corpus = tmp_path / "corpus"
    listing = tmp_path / "reports.csv"
    with listing.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["document", "sha256", "local_authority", "report_type", "publication_date"])
        for name, data in texts.items():
            path = corpus / "reports" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            writer.writerow([name, hashlib.sha256(data).hexdigest(), "Bury", "ilacs_inspection", "2025-01-01"])
    return corpus, listing


def test_report_files_are_checked_against_their_hashes(tmp_path: Path) -> None:
    corpus, listing = _corpus(tmp_path, {"ilacs/a.pdf": b"one", "ilacs/b.pdf": b"two"})
    files = blind_report_files(corpus, listing)
    assert [p.name for p in files] == ["a.pdf", "b.pdf"] and all(p.is_absolute() for p in files)
    (corpus / "reports" / "ilacs" / "b.pdf").write_bytes(b"changed")
    with pytest.raises(ConfigError, match=r"b.pdf: its content differs.*pass --corpus"):
        blind_report_files(corpus, listing)
    with pytest.raises(ConfigError, match=r"a.pdf: missing"):
        blind_report_files(tmp_path / "elsewhere", listing)


def test_content_key_follows_content_not_place(tmp_path: Path) -> None:
    corpus, listing = _corpus(tmp_path, {"a.pdf": b"one", "b.pdf": b"two"})
    files = blind_report_files(corpus, listing)
    key = content_key(files)
    assert key == content_key(list(reversed(files)))
    files[0].write_bytes(b"another")
    assert content_key(files) != key


def test_each_set_of_vectors_has_its_own_cached_index(tmp_path: Path) -> None:
    corpus, listing = _corpus(tmp_path, {"a.pdf": b"one"})
    files = blind_report_files(corpus, listing)
    key = content_key(files)
    folders = [cache_folder("dev", files, encoder) for encoder in ("torch", "onnx-fp32", "onnx-int8")]
    # torch and onnx-fp32 give the same vectors: they share the folder torch's had before there was a choice
    assert folders == [f"dev-{key}", f"dev-{key}", f"dev-{key}-onnx-int8"]
    assert cache_folder("dev", files) == f"dev-{key}"


def _results(passes: dict[str, bool]) -> dict:
    return {"cases": [{"id": case_id, "passed": passed} for case_id, passed in passes.items()]}


def test_robustness_sets_rewrites_against_their_originals() -> None:
    originals = _results({"a": True, "b": True, "c": False})
    rewrites = _results({"a-rw1": True, "a-rw2": True, "b-rw1": True, "b-rw2": False, "c-rw1": True, "c-rw2": False})
    kept = robustness(originals, rewrites)
    assert kept["originals"] == 3 and kept["pass_rate_originals"] == pytest.approx(2 / 3, abs=1e-4)
    assert kept["pass_rate_rewrites"] == pytest.approx(4 / 6, abs=1e-4)
    assert kept["pass_rate_rewrite_1"] == 1.0 and kept["pass_rate_rewrite_2"] == pytest.approx(1 / 3, abs=1e-4)
    assert kept["both_rewrites_pass"] == 0.5 and kept["a_rewrite_fails"] == ["b"]
    assert kept["rewrites_pass_original_fails"] == ["c"]


def test_summary_sets_every_run_side_by_side() -> None:
    def run(pass_rate: float) -> dict:
        summary = {"cases": 10, "pass_rate": pass_rate}
        return {
            "summary": summary,
            "run": {"corpus": {"reports": 3, "hash": "f" * 64}, "datasets": {"eval/datasets/test/batch1.yaml": "e" * 64}},
            "verdict": {"baseline_note": "No accepted baseline for these cases"},
            "systems": {"product": {"summary": summary}, "bm25": {"summary": {"cases": 10, "pass_rate": 0.1}}},
            "by_tag": {"grade": {"cases": 4, "pass_rate": pass_rate, "citation_recall": 0.5}},
        }

    kept = robustness(_results({"a": True}), _results({"a-rw1": True, "a-rw2": False}))
    routing = {name: {"questions": 4, "route": 0.75, "authorities": 1.0, "all": 0.5} for name in ("overall", "originals", "paraphrases")}
    text = summary_markdown({"dev": run(0.9), "test": run(0.6)}, kept, routing)
    assert "| metric | dev: product | dev: bm25 | test: product | test: bm25 |" in text
    assert "| pass_rate | 0.900 | 0.100 | 0.600 | 0.100 |" in text
    assert "| pass rate, rewrites (both) | 0.500 |" in text
    assert "| overall | 4 | 0.750 | 1.000 |" in text
    assert "| grade | 4 | 0.900 | 0.500 | 4 | 0.600 | 0.500 |" in text
    assert "batch1.yaml (eeeeeeeeeeee)" in text and "No accepted baseline for these cases" in text
