"""Loading and validating YAML regression datasets (docs/EVAL_FORMAT.md)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from core.errors import OfstedQAError
from core.models import Filters, Turn
from eval.dataset import DatasetError, EvalCase, file_hashes, load_cases, select_tag

ROOT = Path(__file__).resolve().parents[2]

FULL = """
cases:
  - id: care-leavers-bucks-2021
    question: What did inspectors say about care leavers?
    history:
      - user: What did the letter say about foster carers?
        assistant: Foster carers spoke positively about the support they received.
    filters:
      local_authority: Buckinghamshire
      report_type: [focused_visit, ilacs_inspection]
      published_from: 2021-01-01
      published_to: "2021-12-31"
    answerable: true
    evidence:
      - "in touch with the vast majority of its care leavers"
    facts:
      - ["vast majority", "most"]
      - personal advisers
    tags: [paraphrase, followup]
  - id: weather
    question: What will the weather be tomorrow?
    answerable: false
    tags: [off-topic]
"""


def write(tmp_path: Path, text: str, name: str = "cases.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_full_case_is_loaded_into_frozen_dataclasses(tmp_path: Path) -> None:
    path = write(tmp_path, FULL)
    first, second = load_cases([path])
    assert first == EvalCase(
        id="care-leavers-bucks-2021",
        question="What did inspectors say about care leavers?",
        history=(
            Turn(
                "What did the letter say about foster carers?",
                "Foster carers spoke positively about the support they received.",
            ),
        ),
        filters=Filters(
            local_authorities=("Buckinghamshire",),
            report_types=("focused_visit", "ilacs_inspection"),
            published_from=date(2021, 1, 1),
            published_to=date(2021, 12, 31),
        ),
        answerable=True,
        evidence=("in touch with the vast majority of its care leavers",),
        facts=(("vast majority", "most"), ("personal advisers",)),
        tags=("paraphrase", "followup"),
        source=path,
    )
    assert second.answerable is False and second.evidence == () and second.filters == Filters()
    with pytest.raises(AttributeError):
        first.id = "changed"  # type: ignore[misc]


def test_local_authority_list_and_defaults(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "cases:\n  - id: a\n    question: Compare them\n    filters: {local_authority: [Camden, Islington]}\n"
        "    facts: [camden]\n",
    )
    (case,) = load_cases([path])
    assert case.filters.local_authorities == ("Camden", "Islington")
    assert case.answerable and case.history == () and case.tags == ()


def test_cases_from_several_files_and_tag_selection(tmp_path: Path) -> None:
    one = write(tmp_path, FULL, "one.yaml")
    two = write(
        tmp_path, "cases:\n  - id: other\n    question: Q?\n    evidence: [x]\n    tags: [paraphrase]\n", "two.yaml"
    )
    cases = load_cases([one, two])
    assert [c.id for c in cases] == ["care-leavers-bucks-2021", "weather", "other"]
    assert [c.id for c in select_tag(cases, "paraphrase")] == ["care-leavers-bucks-2021", "other"]
    assert len(select_tag(cases, None)) == 3
    assert set(file_hashes(cases)) == {str(one), str(two)}


CASE = "cases:\n  - id: c1\n    question: What about care leavers?\n    evidence: [vast majority]\n"


@pytest.mark.parametrize(
    ("yaml_text", "field", "problem"),
    [
        ("cases:\n  - id: c1\n    evidence: [x]\n", "question", "required"),
        ("cases:\n  - id: c1\n    question: '  '\n    evidence: [x]\n", "question", "required"),
        ("cases:\n  - id: c1\n    question: Q?\n", "evidence", "needs evidence or facts"),
        (
            "cases:\n  - id: c1\n    question: Q?\n    answerable: false\n    evidence: [x]\n",
            "answerable",
            "cannot list",
        ),
        (CASE + "    filters: {published_from: 2021-13-01}\n", "filters.published_from", "bad date"),
        (CASE + "    filters: {published_to: 'last year'}\n", "filters.published_to", "bad date"),
        (CASE + "    filters: {published_to: '2021-1-5'}\n", "filters.published_to", "bad date"),
        (
            CASE + "    filters: {published_from: 2022-01-01, published_to: 2021-01-01}\n",
            "filters.published_from",
            "after",
        ),
        (CASE + "    filters: {region: London}\n", "filters.region", "unknown filter"),
        (CASE + "    filters: {report_type: inspection}\n", "filters.report_type", "unknown report type"),
        (CASE + "    filters: {local_authority: 42}\n", "filters.local_authority", "a string or a list of strings"),
        (CASE + "    filters: {local_authority: [Camden, 42]}\n", "filters.local_authority", "non-empty strings"),
        (CASE + "    colour: blue\n", "colour", "unknown field"),
        (CASE + "    answerable: 'yes'\n", "answerable", "true or false"),
        (CASE + "    tags: paraphrase\n", "tags", "list of strings"),
        (CASE + "    facts: [[]]\n", "facts", "non-empty list"),
        (CASE + "    facts: [[vast, 3]]\n", "facts", "non-empty strings"),
        (CASE + "    facts: {a: b}\n", "facts", "expected a list"),
        (CASE + "    history: [{assistant: hi}]\n", "history[1].user", "required"),
        (CASE + "    history: [{user: hi, bot: x}]\n", "history[1].bot", "unknown field"),
        (CASE + "    history: hello\n", "history", "list of turns"),
        ("cases:\n  - id: c1\n    question: Q?\n    evidence: ['  ']\n", "evidence", "non-empty strings"),
        ("cases:\n  - id: c1\n    question: Q?\n    evidence: x\n", "evidence", "list of strings"),
        (CASE + "  - id: c1\n    question: Again?\n    evidence: [x]\n", "id", "duplicate id"),
    ],
)
def test_bad_case_names_file_case_and_field(tmp_path: Path, yaml_text: str, field: str, problem: str) -> None:
    path = write(tmp_path, yaml_text)
    with pytest.raises(DatasetError, match=re.escape(f"{path}: case 'c1': field {field!r}")) as raised:
        load_cases([path])
    assert problem in str(raised.value)
    assert isinstance(raised.value, OfstedQAError)


def test_case_without_id_is_named_by_position(tmp_path: Path) -> None:
    path = write(tmp_path, CASE + "  - question: No id here\n    evidence: [x]\n")
    with pytest.raises(DatasetError, match=re.escape(f"{path}: case #2: field 'id'")):
        load_cases([path])


def test_numeric_id_is_a_type_error(tmp_path: Path) -> None:
    path = write(tmp_path, "cases:\n  - id: 17\n    question: Q?\n    evidence: [x]\n")
    with pytest.raises(DatasetError, match=r"case #1: field 'id': required non-empty string, got int 17"):
        load_cases([path])


def test_duplicate_id_across_files_names_both(tmp_path: Path) -> None:
    one = write(tmp_path, CASE, "one.yaml")
    two = write(tmp_path, CASE, "two.yaml")
    expected = f"{two}: case 'c1': field 'id': duplicate id (already used in {one})"
    with pytest.raises(DatasetError, match=re.escape(expected)):
        load_cases([one, two])


@pytest.mark.parametrize(
    ("yaml_text", "problem"),
    [
        ("cases: [", "not valid YAML"),
        ("- id: c1\n", "'cases' list at the top level"),
        ("cases: []\n", "non-empty list"),
        ("cases:\n  - just a string\n", "case #1: expected a mapping"),
        ("cases:\n  - id: c1\n    question: Q?\n    facts: [x]\nversion: 2\n", "unknown top-level field 'version'"),
    ],
)
def test_bad_file_is_named(tmp_path: Path, yaml_text: str, problem: str) -> None:
    path = write(tmp_path, yaml_text)
    with pytest.raises(DatasetError, match=re.escape(str(path))) as raised:
        load_cases([path])
    assert problem in str(raised.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="nope.yaml: dataset file not found"):
        load_cases([tmp_path / "nope.yaml"])


def test_the_committed_gold_datasets_load() -> None:
    files = [ROOT / "eval" / "datasets" / "dev" / "gold.yaml", ROOT / "eval" / "datasets" / "dev" / "gold_structured.yaml"]
    cases = load_cases(files)
    assert len(cases) >= 180 and len({case.id for case in cases}) == len(cases)
