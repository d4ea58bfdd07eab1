"""Assemble the blind test set's batch 1, the routing set and the `current` set from the writers' files
(eval/audit/writers/).

Run once, when a batch is written: `python eval/audit/build_test_batch.py` (batch 1 and routing) or
`python eval/audit/build_test_batch.py current` (the currency set of issue 19). The outputs are frozen
(eval/datasets/test/FROZEN.sha256 and tests/eval/test_test_dataset.py): a case is never edited to
match an answer; a batch that a fix was made for moves to dev and a new batch is written.
"""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
WRITERS = ROOT / "eval" / "audit" / "writers"
TEST = ROOT / "eval" / "datasets" / "test"


def _writers_cases(pattern: str) -> list[dict]:
    """Every case of the writers' files matching `pattern`, in file order."""
    cases: list[dict] = []
    for path in sorted(WRITERS.glob(pattern)):
        cases.extend(yaml.safe_load(path.read_text(encoding="utf-8"))["cases"])
    return cases


def main() -> None:
    cases = _writers_cases("test_t*.yaml")
    header = (
        "# Blind test set, batch 1: written 2026-12-06 by six writers who saw only the 70 reports of\n"
        "# reports.csv (as text), EVAL_FORMAT.md and their brief (eval/audit/brief_test_set*.md), never the\n"
        "# code, the dev set or any answer. Frozen: never edit a case to match an answer (FROZEN.sha256).\n"
    )
    TEST.mkdir(parents=True, exist_ok=True)
    text = header + yaml.safe_dump({"cases": cases}, sort_keys=False, allow_unicode=True, width=110)
    (TEST / "batch1.yaml").write_text(text, encoding="utf-8")
    routing = yaml.safe_load((WRITERS / "routing.yaml").read_text(encoding="utf-8"))
    header = (
        "# Routing set: questions labelled with the route and slots a careful reader would take, written\n"
        "# 2026-12-06 by a writer who never saw the code (brief: eval/audit/brief_routing.md); half are\n"
        "# paraphrases of the others (paraphrase_of). Asked of the test index. Frozen like batch1.yaml.\n"
    )
    (TEST / "routing.yaml").write_text(
        header + yaml.safe_dump(routing, sort_keys=False, allow_unicode=True, width=110), encoding="utf-8"
    )
    print(f"batch1: {len(cases)} cases; routing: {len(routing['questions'])} questions")


def current() -> None:
    """eval/datasets/test/current.yaml from the two `current` writers' files (brief: eval/audit/brief_current.md)."""
    cases = _writers_cases("current_c*.yaml")
    header = (
        "# Blind test set, currency cases (issue 19): written 2026-12-06 by two writers who saw only the 42\n"
        "# reports of the 14 test councils with three reports (as text), EVAL_FORMAT.md and their brief\n"
        "# (eval/audit/brief_current.md), never the code, the dev set or any answer. Present-tense questions\n"
        "# about one council in councillors' words; each case's evidence lies in the latest report covering\n"
        "# its topic. Frozen: never edit a case to match an answer (FROZEN.sha256).\n"
    )
    text = header + yaml.safe_dump({"cases": cases}, sort_keys=False, allow_unicode=True, width=110)
    (TEST / "current.yaml").write_text(text, encoding="utf-8")
    print(f"current: {len(cases)} cases")


if __name__ == "__main__":
    import sys

    current() if sys.argv[1:] == ["current"] else main()
