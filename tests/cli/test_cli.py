"""`ofsted-qa` in-process: ingest, reports, stats, ask --json, and the errors a user sees."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli.main import main
from tests.conftest import BUCKS_FV_2021, SAMPLE_REPORTS

CALDERDALE = SAMPLE_REPORTS / "focused_visit" / "calderdale_focused-visit_2022-03-21.pdf"
ANSWER_KEYS = {"answer", "refused", "citations", "retrieved"}
CITATION_KEYS = {
    "marker", "paragraph_id", "report_id", "local_authority", "report_type", "published",
    "page", "paragraph_number", "heading", "text", "source",
}
RETRIEVED_KEYS = {"chunk_id", "paragraph_ids", "score", "text"}


@pytest.fixture(scope="module")
def cli_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cli_index")


@pytest.fixture(autouse=True)
def index_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # the environment points elsewhere: --index-dir must win
    monkeypatch.setenv("OFSTED_QA_INDEX_DIR", str(tmp_path / "env-index"))


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def ingested(cli_index: Path) -> Path:
    assert main(["--index-dir", str(cli_index), "ingest", "--no-progress", str(BUCKS_FV_2021), str(CALDERDALE)]) == 0
    return cli_index


def test_ingest_two_files(capsys, cli_index: Path, tmp_path: Path) -> None:
    code, out, _ = run(capsys, "--index-dir", str(cli_index), "ingest", "--no-progress", str(BUCKS_FV_2021), str(CALDERDALE))
    assert code == 0
    lines = out.splitlines()
    assert lines[0] in ("reports: 2 (2 added, 0 replaced, 0 unchanged)", "reports: 2 (0 added, 0 replaced, 2 unchanged)")
    assert "failed: 0" in lines
    assert not (tmp_path / "env-index").exists()


def test_ingest_again_is_all_unchanged(capsys, ingested: Path) -> None:
    code, out, _ = run(capsys, "--index-dir", str(ingested), "ingest", "--no-progress", str(BUCKS_FV_2021), str(CALDERDALE))
    assert code == 0
    assert out.splitlines()[0] == "reports: 2 (0 added, 0 replaced, 2 unchanged)"
    assert "chunks written: 0" in out


def test_environment_variable_chooses_the_index(capsys, ingested: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OFSTED_QA_INDEX_DIR", str(ingested))
    code, out, _ = run(capsys, "reports")
    assert code == 0 and out.rstrip().endswith("2 reports")


def test_reports_lists_both(capsys, ingested: Path) -> None:
    code, out, _ = run(capsys, "--index-dir", str(ingested), "reports")
    assert code == 0
    assert "buckinghamshire-focused-visit-2021-04-12\n  Buckinghamshire: focused visit, 2021-04-12" in out
    assert "calderdale-focused-visit-2022-03-21\n  Calderdale: focused visit, 2022-03-21" in out
    assert "visit 2022-02-14 to 2022-02-15" in out
    assert out.rstrip().endswith("2 reports")


def test_stats_is_json(capsys, ingested: Path) -> None:
    code, out, _ = run(capsys, "--index-dir", str(ingested), "stats")
    assert code == 0
    stats = json.loads(out)
    assert stats["reports"] == 2
    assert stats["chunks"] == stats["vectors"] > 0
    assert stats["by_type"] == {"focused_visit": 2}
    assert (stats["earliest"], stats["latest"]) == ("2021-04-12", "2022-03-21")
    assert stats["embedding_model"] == "sentence-transformers/all-MiniLM-L6-v2"


def test_ask_json_matches_the_answer_format(capsys, ingested: Path) -> None:
    code, out, err = run(
        capsys, "--index-dir", str(ingested), "ask", "What did inspectors say about care leavers in Calderdale?", "--json"
    )
    assert code == 0, err
    answer = json.loads(out)
    assert ANSWER_KEYS <= set(answer)
    assert isinstance(answer["answer"], str) and isinstance(answer["refused"], bool)
    assert answer["retrieved"]
    for retrieved in answer["retrieved"]:
        assert RETRIEVED_KEYS <= set(retrieved)
        assert isinstance(retrieved["paragraph_ids"], list)
    if not answer["refused"]:
        assert answer["citations"]
    for citation in answer["citations"]:
        assert CITATION_KEYS <= set(citation)
        assert f"[{citation['marker']}]" in answer["answer"]
        assert citation["report_id"] in ("calderdale-focused-visit-2022-03-21", "buckinghamshire-focused-visit-2021-04-12")
        assert citation["source"].endswith(".pdf")


def test_ask_with_a_filter(capsys, ingested: Path) -> None:
    code, out, _ = run(
        capsys, "--index-dir", str(ingested), "ask", "How are care leavers supported?",
        "--local-authority", "Calderdale", "--json",
    )
    assert code == 0
    answer = json.loads(out)
    assert all(c["local_authority"] == "Calderdale" for c in answer["citations"])


def test_a_history_turn_with_its_state_is_followed_from_the_state(capsys, ingested: Path, tmp_path: Path) -> None:
    # "High Wycombe" is read as Buckinghamshire: the answer's state says so, the question's text does not
    question = "What did inspectors say about care leavers in High Wycombe?"
    code, out, err = run(capsys, "--index-dir", str(ingested), "ask", question, "--json")
    assert code == 0, err
    first = json.loads(out)
    assert first["state"]["authorities"] == ["Buckinghamshire"]
    assert first["state"]["shown"] and all(r["local_authority"] == "Buckinghamshire" for r in first["state"]["shown"])
    follow_up = "And what about their leaders?"
    for turn, expected in (
        ({"user": question, "assistant": first["answer"], "state": first["state"]}, ["Buckinghamshire"]),
        ({"user": question, "assistant": first["answer"]}, []),  # text only: no council named in it
    ):
        history = tmp_path / "history.json"
        history.write_text(json.dumps([turn]), encoding="utf-8")
        code, out, err = run(capsys, "--index-dir", str(ingested), "ask", follow_up, "--history", str(history), "--json")
        assert code == 0, err
        assert json.loads(out)["trace"]["asked"]["authorities"] == expected


def test_ask_on_an_empty_index_is_an_error(capsys, tmp_path: Path) -> None:
    code, out, err = run(capsys, "--index-dir", str(tmp_path / "empty"), "ask", "What about care leavers?")
    assert code != 0
    assert err.startswith("Error: ")
    assert "ofsted-qa ingest" in err
    assert "Traceback" not in err + out


def test_ingest_of_a_missing_path_is_reported_as_failed(capsys, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder"
    code, out, _ = run(capsys, "--index-dir", str(tmp_path / "index"), "ingest", "--no-progress", str(missing))
    assert code == 1
    assert "failed: 1" in out
    assert f"  {missing}: no such file or folder" in out


def test_ingest_of_a_missing_path_beside_a_good_file_succeeds(capsys, tmp_path: Path) -> None:
    missing = tmp_path / "gone.pdf"
    code, out, _ = run(capsys, "--index-dir", str(tmp_path / "index"), "ingest", "--no-progress", str(missing), str(CALDERDALE))
    assert code == 0
    assert "reports: 1 (1 added" in out and "failed: 1" in out and str(missing) in out
