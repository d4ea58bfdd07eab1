#!/usr/bin/env python3
"""The blind writers' checker: format, tags and verbatim evidence of a hand-written test-set file.

    python3 check.py FILE.yaml [FILE2.yaml ...]

Copied as check.py beside the `reports/` folder the writer is given (eval/audit/export_texts.py writes it);
it needs only PyYAML, so a writer runs it without the project. Evidence snippets must lie inside one
paragraph of a report text (blocks separated by a blank line; the '## ' and '- ' prefixes are not text).
Normalisation is EVAL_FORMAT.md's, as in core.text.normalise.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
QUOTES = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u201c": '"', "\u201d": '"',
        "\u201e": '"', "\u2033": '"', "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-",
        "\u2015": "-", "\u2212": "-", "\u00ad": "",
    }
)
KEBAB = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
KEYS = {"id", "question", "history", "filters", "answerable", "evidence", "facts", "tags"}
FILTERS = {"local_authority", "report_type", "published_from", "published_to"}


def norm(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).translate(QUOTES)
    text = re.sub(r"-\s*\n\s*", "-", text)
    return re.sub(r"\s+", " ", text).strip().casefold()


def paragraphs() -> dict[str, list[str]]:
    out = {}
    for path in sorted((HERE / "reports").glob("*.txt")):
        blocks = []
        for block in path.read_text(encoding="utf-8").split("\n\n"):
            block = block.strip()
            if block and not block.startswith("# "):
                blocks.append(norm(re.sub(r"^(## |- )", "", block)))
        out[path.name] = blocks
    return out


def case_problems(case: dict, seen: set[str], paras: dict[str, list[str]]) -> list[str]:
    problems = []
    case_id = case.get("id")
    if not isinstance(case_id, str) or not KEBAB.match(case_id):
        problems.append("id must be kebab-case")
    if case_id in seen:
        problems.append("duplicate id")
    seen.add(str(case_id))
    if set(case) - KEYS:
        problems.append(f"unknown keys {set(case) - KEYS}")
    if not isinstance(case.get("question"), str) or not case["question"].strip():
        problems.append("no question")
    tags = case.get("tags") or []
    if not tags:
        problems.append("no tags")
    if case.get("answerable", True) is not False:
        evidence, facts = case.get("evidence") or [], case.get("facts") or []
        if not evidence:
            problems.append("answerable case needs evidence")
        if not facts:
            problems.append("answerable case needs facts")
        if "unanswerable" in tags:
            problems.append("answerable case tagged unanswerable")
        for snippet in evidence:
            words = len(str(snippet).split())
            if not 6 <= words <= 25:
                problems.append(f"evidence must be 6-25 words ({words}): {snippet!r}")
            if re.match(r"^\s*(\d+\.|[◼•\-–])\s", str(snippet)):
                problems.append(f"evidence starts with a number/bullet: {snippet!r}")
            needle = norm(str(snippet))
            if not any(needle in p for ps in paras.values() for p in ps):
                problems.append(f"evidence not found inside any single paragraph: {snippet!r}")
        for item in facts:
            if not isinstance(item, list) or not item or not all(isinstance(a, str) and a.strip() for a in item):
                problems.append(f"fact item must be a non-empty list of strings: {item!r}")
    else:
        if case.get("evidence") or case.get("facts"):
            problems.append("unanswerable case must have no evidence/facts")
        if "unanswerable" not in tags:
            problems.append("unanswerable case needs the tag 'unanswerable'")
    if "current" in tags and case.get("answerable", True) is not False:
        holders = [{name for name, ps in paras.items() if any(norm(str(snippet)) in p for p in ps)} for snippet in case.get("evidence") or []]
        common = set.intersection(*holders) if holders else set()
        if len(common) != 1:
            problems.append(
                "a 'current' case takes its evidence from one report (the latest that covers the topic): together its "
                f"snippets must pick out exactly one report, they fit {sorted(common) or 'none in common'} "
                "(a stock grade line fits many reports: add a finding from the same report)"
            )
    history = case.get("history")
    if "followup" in tags and not history:
        problems.append("followup needs history")
    if history is not None:
        if not isinstance(history, list):
            problems.append("history must be a list")
        else:
            for turn in history:
                if not isinstance(turn, dict) or set(turn) - {"user", "assistant"} or not isinstance(turn.get("user"), str):
                    problems.append(f"bad history turn {turn!r}")
    filters = case.get("filters")
    if filters is not None and (not isinstance(filters, dict) or set(filters) - FILTERS):
        problems.append(f"bad filters {filters!r}")
    return problems


def main(files: list[str]) -> int:
    paras = paragraphs()
    problems: list[str] = []
    count, seen = 0, set[str]()
    for file in files:
        data = yaml.safe_load(Path(file).read_text(encoding="utf-8"))
        if not isinstance(data, dict) or not isinstance(data.get("cases"), list):
            print(f"{file}: top level must be 'cases: [...]'")
            return 1
        for case in data["cases"]:
            count += 1
            problems += [f"{file} {case.get('id')}: {problem}" for problem in case_problems(case, seen, paras)]
    for problem in problems:
        print(problem)
    print(f"{count} cases, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
