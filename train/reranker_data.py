"""Training data for the reranker, made from the corpus's own structure (no question from any eval set).

Every example is a *group*: one query, the chunk that answers it, and hard negatives. Two kinds of query:

- **heading**: a section heading of a report ("Care leavers", "The experiences and progress of children in care")
  as the query, a chunk under it as the positive (its text only, so the heading cannot give it away), and chunks
  of the same report under other headings as negatives;
- **cloze** (inverse cloze): one sentence of a chunk as the query, either whole or cut to its content words
  (which reads like a user's short question), and the chunk without that sentence as the positive; negatives
  are other chunks of the same report, and one of another authority's report.

Hard negatives are the passages BM25 ranks highest for the query *among those that share no more of its words
than the positive does*. Without that cap the recipe teaches the opposite of what questions need: a cloze
positive has lost the sentence that shared the query's words, so the passages that share the most are always
negatives, and a first model trained that way ranked dev questions' evidence below chance (hit@1 0.03 against
0.58 for the fused ranking).

Reports of the authorities in any eval set (the bundled sample, the dev `current` set, the blind test sets) are
left out, so the dev and test figures stay out of sample; a few other authorities are held out for validation.
The recipe is seeded: the same corpus gives the same groups.
"""

from __future__ import annotations

import csv
import math
import random
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from chatbot.reranker import clean_heading, passage_text
from core.text import split_sentences
from vectorstore.keyword import STOPWORDS, tokenize

ROOT = Path(__file__).resolve().parent.parent
EVAL_REPORT_LISTS = (
    ROOT / "data" / "sample" / "manifest.csv",
    ROOT / "eval" / "datasets" / "dev" / "current_reports.csv",
    ROOT / "eval" / "datasets" / "test" / "reports.csv",
)
_WORD = re.compile(r"[A-Za-z][A-Za-z'\u2019-]*")


@dataclass(frozen=True)
class Passage:
    """A chunk of a report as the reranker reads it."""

    report_id: str
    authority: str
    heading: str
    text: str


@dataclass(frozen=True)
class Group:
    """One training example: a query, the passage that answers it first, then its negatives."""

    kind: str  # "heading", "cloze" or "question"
    query: str
    positive: str
    negatives: tuple[str, ...]
    report_id: str


@dataclass
class Recipe:
    """What was used, written beside the weights."""

    seed: int
    reports_used: list[str] = field(default_factory=list)
    authorities_excluded: list[str] = field(default_factory=list)
    authorities_validation: list[str] = field(default_factory=list)
    groups: dict[str, int] = field(default_factory=dict)


def excluded_authorities(lists: Iterable[Path] = EVAL_REPORT_LISTS) -> set[str]:
    """Every authority with a report in an eval set: none of their reports is trained on."""
    out: set[str] = set()
    for path in lists:
        if path.exists():
            with path.open(newline="", encoding="utf-8") as handle:
                out.update(row["local_authority"] for row in csv.DictReader(handle) if row.get("local_authority"))
    return out


def corpus_documents(corpus: Path, excluded: set[str]) -> list[tuple[str, Path]]:
    """(authority, path) of each corpus report whose authority is in no eval set, in manifest order."""
    with (corpus / "manifest.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [(row["local_authority"], corpus / "reports" / row["document"]) for row in rows if row["local_authority"] not in excluded]


def _passages_of(item: tuple[str, Path]) -> list[Passage]:
    from ingest.chunking import build_chunks
    from ingest.loaders import load_document

    authority, path = item
    try:
        document = load_document(path)
    except Exception:  # noqa: BLE001 - a report that does not parse is left out of the training data, not fatal
        return []
    chunks = build_chunks(document.report, document.paragraphs)
    return [
        Passage(document.report.report_id, authority, clean_heading(chunk.heading_path[-1]) if chunk.heading_path else "", chunk.text)
        for chunk in chunks
        if len(chunk.text.split()) >= 12
    ]


def load_passages(documents: Sequence[tuple[str, Path]], workers: int = 2) -> list[list[Passage]]:
    """Each report's chunks, parsed in worker processes."""
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return [passages for passages in pool.map(_passages_of, documents, chunksize=8) if passages]


class BM25:
    """BM25 over a fixed list of passages (the whole training corpus), for hard negatives."""

    def __init__(self, texts: Sequence[str], k1: float = 1.2, b: float = 0.75) -> None:
        self.docs = [Counter(tokenize(text)) for text in texts]
        self.lengths = [sum(doc.values()) for doc in self.docs]
        self.mean_length = sum(self.lengths) / max(len(self.lengths), 1)
        frequency: Counter[str] = Counter()
        for doc in self.docs:
            frequency.update(doc.keys())
        n = len(self.docs)
        self.idf = {term: math.log(1 + (n - df + 0.5) / (df + 0.5)) for term, df in frequency.items()}
        self.k1, self.b = k1, b

    def score(self, query_terms: Sequence[str], doc_index: int) -> float:
        return self._score(query_terms, self.docs[doc_index], self.lengths[doc_index])

    def score_text(self, query_terms: Sequence[str], text: str) -> float:
        doc = Counter(tokenize(text))
        return self._score(query_terms, doc, sum(doc.values()))

    def _score(self, query_terms: Sequence[str], doc: Counter[str], length: int) -> float:
        total = 0.0
        for term in query_terms:
            tf = doc.get(term)
            if tf:
                total += self.idf.get(term, 0.0) * tf * (self.k1 + 1) / (tf + self.k1 * (1 - self.b + self.b * length / self.mean_length))
        return total


def keyword_query(sentence: str, rng: random.Random) -> str:
    """A sentence cut to a run of its content words: the length and shape of a user's short question."""
    words = [w for w in _WORD.findall(sentence) if w.lower() not in STOPWORDS and len(w) > 2]
    if len(words) <= 4:
        return " ".join(words)
    size = rng.randint(3, min(8, len(words)))
    start = rng.randint(0, len(words) - size)
    return " ".join(words[start : start + size])


def _flattened(reports: Sequence[Sequence[Passage]]) -> tuple[list[Passage], BM25, list[int]]:
    """Every report's passages in one list, BM25 over them (heading and text), and where each report starts in it."""
    flat = [p for report in reports for p in report]
    offsets: list[int] = []
    position = 0
    for report in reports:
        offsets.append(position)
        position += len(report)
    return flat, BM25([f"{p.heading} {p.text}" for p in flat]), offsets


def build_groups(
    reports: Sequence[Sequence[Passage]], *, seed: int, per_report: int, negatives: int = 3, other_authority: bool = True
) -> list[Group]:
    """Up to `per_report` groups from each report, half heading and half cloze queries where the report allows.

    Training groups take the `negatives` hardest passages (the last from another authority's report); validation
    groups (`other_authority=False`, many negatives) rank the positive among the report's own passages, which is
    the choice the reranker makes at question time."""
    rng = random.Random(seed)
    flat, bm25, offsets = _flattened(reports)
    groups: list[Group] = []
    for number, report in enumerate(reports):
        base = offsets[number]
        indices = range(base, base + len(report))
        groups.extend(_heading_groups(report, base, bm25, rng, per_report // 2, negatives, other_authority))
        wanted = per_report - sum(1 for g in groups if g.report_id == report[0].report_id)
        groups.extend(_cloze_groups(report, base, indices, flat, bm25, rng, wanted, negatives, other_authority))
    rng.shuffle(groups)
    return groups


def _ranked(query: str, candidates: Iterable[int], bm25: BM25, cap: float | None = None) -> list[int]:
    """Candidates by BM25 for the query, best first; with `cap`, only those scoring no higher than it (the
    positive's own score), so that sharing the query's words is never what marks a negative."""
    terms = tokenize(query)
    scored = [(bm25.score(terms, i), i) for i in candidates]
    return [i for score, i in sorted(scored, key=lambda item: -item[0]) if cap is None or score <= cap]


def _heading_groups(
    report: Sequence[Passage], base: int, bm25: BM25, rng: random.Random, wanted: int, negatives: int, capped: bool
) -> list[Group]:
    by_heading: dict[str, list[int]] = {}
    for offset, passage in enumerate(report):
        if passage.heading and len(passage.heading) >= 4:
            by_heading.setdefault(passage.heading, []).append(offset)
    # a heading over a third of the report is its title, not a topic
    headings = [h for h, members in by_heading.items() if len(members) <= max(2, len(report) // 3)]
    rng.shuffle(headings)
    out: list[Group] = []
    for heading in headings[:wanted]:
        positive = rng.choice(by_heading[heading])
        others = [o for o in range(len(report)) if report[o].heading != heading]
        # scored on the text alone, as the model will read them
        terms = tokenize(heading)
        cap = bm25.score_text(terms, report[positive].text) if capped else None
        scored = sorted(((bm25.score_text(terms, report[o].text), o) for o in others), key=lambda item: -item[0])
        chosen = [base + o for score, o in scored if cap is None or score <= cap][:negatives]
        if len(chosen) < min(negatives, 3):
            continue
        # text only on both sides: the heading would give the answer away
        out.append(Group("heading", heading, report[positive].text, tuple(report[i - base].text for i in chosen), report[0].report_id))
    return out


def _with_heading(passage: Passage) -> str:
    """A passage as the reranker reads it at question time: its section heading, then its text."""
    return passage_text((passage.heading,) if passage.heading else (), passage.text)


def _cloze_groups(
    report: Sequence[Passage],
    base: int,
    indices: range,
    flat: Sequence[Passage],
    bm25: BM25,
    rng: random.Random,
    wanted: int,
    negatives: int,
    other_authority: bool,
) -> list[Group]:
    eligible = [o for o, p in enumerate(report) if len(split_sentences(p.text)) >= 3]
    rng.shuffle(eligible)
    out: list[Group] = []
    for offset in eligible[: max(wanted, 0)]:
        passage = report[offset]
        sentences = split_sentences(passage.text)
        long_ones = [s for s in sentences if len(s.split()) >= 8]
        if not long_ones:
            continue
        sentence = rng.choice(long_ones)
        query = sentence if rng.random() < 0.4 else keyword_query(sentence, rng)
        if len(query.split()) < 3:
            continue
        rest = " ".join(s for s in sentences if s != sentence)
        positive = Passage(passage.report_id, passage.authority, passage.heading, rest)
        cap = bm25.score_text(tokenize(query), f"{passage.heading} {rest}") if other_authority else None
        same = _ranked(query, (i for i in indices if i != base + offset), bm25, cap)[: negatives - other_authority]
        other: list[int] = []
        if other_authority:
            sample = rng.sample(range(len(flat)), min(300, len(flat)))
            other = _ranked(query, (i for i in sample if flat[i].authority != passage.authority), bm25, cap)[:1]
        chosen = [flat[i] for i in same + other]
        if len(chosen) < min(negatives, 3):
            continue
        out.append(Group("cloze", query, _with_heading(positive), tuple(_with_heading(p) for p in chosen), passage.report_id))
    return out


# --- questions written for training ------------------------------------------------------------------------------

QUESTIONS = ROOT / "train" / "data" / "questions.jsonl"


@dataclass(frozen=True)
class WrittenQuestion:
    """A question written for training only, over one training or validation report, by a writer who saw no eval
    set: the passages that answer it, and those on the same broad topic that do not (the writer's near misses).
    Passages are named by their position among the report's passages and the start of their text, so a changed
    chunker drops a stale label instead of moving it to another passage."""

    report_id: str
    question: str
    positives: tuple[tuple[int, str], ...]
    near_misses: tuple[tuple[int, str], ...]
    style: str
    split: str  # "train" or "validation"


def load_questions(path: Path = QUESTIONS) -> list[WrittenQuestion]:
    """The written questions (JSON lines); an absent file gives none."""
    import json

    if not path.is_file():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        out.append(
            WrittenQuestion(
                row["report"],
                row["question"],
                tuple((int(i), s) for i, s in row["positives"]),
                tuple((int(i), s) for i, s in row.get("near_misses", [])),
                row.get("style", ""),
                row.get("split", "train"),
            )
        )
    return out


def _resolve(report: Sequence[Passage], labels: Iterable[tuple[int, str]]) -> list[int] | None:
    """Positions of the labelled passages in the report as parsed now; None when any label no longer matches."""
    out = []
    for position, start in labels:
        if 0 <= position < len(report) and report[position].text.startswith(start):
            out.append(position)
            continue
        found = [i for i, p in enumerate(report) if p.text.startswith(start)]
        if len(found) != 1:
            return None
        out.append(found[0])
    return out


def question_groups(
    reports: Sequence[Sequence[Passage]],
    questions: Sequence[WrittenQuestion],
    *,
    seed: int,
    negatives: int = 3,
    repeats: int = 1,
    validation: bool = False,
) -> tuple[list[Group], int]:
    """Groups from written questions, and how many questions were dropped because their labels no longer match.

    Training (`validation=False`): one group per positive passage and repeat; the negatives are the writer's near
    misses first, then the passages of the same report that BM25 ranks highest for the question, then one passage of
    another authority's report; a passage the writer marked as answering is never a negative. There is no cap on
    the negatives' shared words here: the question was not cut from the positive, so choosing the passage that
    answers among those that share the question's words is exactly the lesson. Validation: the first positive
    among every passage of its report that does not answer (up to 30, BM25's best first)."""
    rng = random.Random(seed)
    by_id = {parsed[0].report_id: parsed for parsed in reports if parsed}
    flat, bm25, offsets = _flattened(reports)
    base_of = {parsed[0].report_id: base for parsed, base in zip(reports, offsets, strict=True) if parsed}
    groups: list[Group] = []
    dropped = 0
    for question in questions:
        report = by_id.get(question.report_id)
        positives = _resolve(report, question.positives) if report else None
        near = _resolve(report, question.near_misses) if report else None
        if not report or not positives or near is None:
            dropped += bool(question.positives)
            continue
        base = base_of[question.report_id]
        answering = set(positives)
        near = [n for n in near if n not in answering]
        ranked = [i - base for i in _ranked(question.question, range(base, base + len(report)), bm25)]
        others = [i for i in ranked if i not in answering]
        if validation:
            chosen = others[:30]
            groups.append(Group("question", question.question, _with_heading(report[positives[0]]), tuple(_with_heading(report[i]) for i in chosen), question.report_id))
            continue
        author = report[0].authority
        texts = {report[i].text for i in answering}
        for _ in range(repeats):
            for positive in positives[:3]:
                picks = rng.sample(near, min(len(near), negatives - 1))
                picks += [i for i in others if i not in picks][: negatives - 1 - len(picks)]
                sample = rng.sample(range(len(flat)), min(300, len(flat)))
                other = _ranked(question.question, (i for i in sample if flat[i].authority != author and flat[i].text not in texts), bm25)[:1]
                candidates = [_with_heading(report[i]) for i in picks] + [_with_heading(flat[i]) for i in other]
                if len(candidates) < negatives:
                    continue
                groups.append(Group("question", question.question, _with_heading(report[positive]), tuple(candidates[:negatives]), question.report_id))
    rng.shuffle(groups)
    return groups, dropped
