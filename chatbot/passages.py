"""One report's (or one authority's) best passage on a topic: the unit of side-by-side answers.

Timelines and comparisons set reports or authorities side by side, one claim each, so each side gets
the single paragraph that says most about the topic and at most three of its sentences. A side
whose best sentence is far weaker than the best side's is left out rather than padded.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from chatbot.extractive import (
    IMPROVEMENT_LABEL,
    Evidence,
    ScoredSentence,
    about_the_visit,
    in_scope_list,
    rank_below_statements,
    score_sentences,
    with_antecedents,
    with_continuations,
    with_contrasts,
)
from chatbot.improvements import in_improvement_list
from chatbot.query import QueryPlan, expand_terms, glossary_meanings, names_shorthand, search_text, split_expansion
from chatbot.retrieval import HybridRetriever, Scored
from core.models import Paragraph, Report
from core.text import GRADED_HEADING
from vectorstore.index import Index
from vectorstore.keyword import families, word_families


@dataclass(frozen=True)
class Passage:
    """The best paragraph of one side, the sentences quoted from it, and how strongly it answers."""

    paragraph: Paragraph
    report: Report
    sentences: tuple[ScoredSentence, ...]
    hits: tuple[Scored, ...]  # what was retrieved for this side, best first
    on_topic: float = 1.0  # share of the topic's words (weighted by rarity) that the quoted sentences contain
    verdict: bool = False  # the opening paragraph of the report's section on the judged area asked about

    @property
    def score(self) -> float:
        return self.sentences[0].score

    @property
    def similarity(self) -> float:
        return max(s.similarity for s in self.sentences)


def best_passage(
    index: Index,
    retriever: HybridRetriever,
    plan: QueryPlan,
    report_ids: Sequence[str],
    *,
    term_weight: Callable[[str], float] | None = None,
    focus: re.Pattern[str] | None = None,
    chunks: int = 4,
    max_sentences: int = 3,
    same_paragraph_bar: float = 0.6,
    summary_bonus: float = 0.0,
    lead_bonus: float = 0.0,
    only: Sequence[Paragraph] = (),
) -> Passage | None:
    """The best paragraph on the plan's topic among `report_ids`, with its best sentences in text order.

    `summary_bonus` favours paragraphs early in their report, where inspectors sum up (a timeline wants each
    report's verdict on the topic more than a detail of it): up to that much is added to a sentence's score.
    `only` names the paragraphs to choose from instead of searching (a judged section's opening paragraph)."""
    if not report_ids:
        return None
    asked = plan.topic or search_text(plan.standalone)
    topic = expand_terms(asked)
    hits = [] if only else retriever.retrieve(plan, chunks, report_ids, rerank=False)
    evidence: list[Evidence] = []
    seen: set[str] = set()
    if only:
        evidence.extend(_embedded(index, topic, only, 0))
    for rank, hit in enumerate(hits):
        report = index.report(hit.chunk.report_id)
        if report is None:
            continue
        for paragraph_id in hit.chunk.paragraph_ids:
            paragraph = index.paragraph(paragraph_id)
            if paragraph is None or paragraph_id in seen:
                continue
            seen.add(paragraph_id)
            evidence.append(Evidence(str(len(evidence) + 1), paragraph, report, rank, hit.dense))
    # judgement-table rows are stated by the grade lines, not quoted as a side's passage
    scored = score_sentences(topic, evidence, index.embedder, term_weight=term_weight, focus=focus, fields=False)
    # a side is a finding: never what inspectors did, unless that is the question
    listed = {rid: index.paragraphs(rid) for rid in {s.evidence.report.report_id for s in scored}}
    scored = [
        s
        for s in rank_below_statements(scored, plan.standalone)
        if not about_the_visit(s.text, plan.standalone) and not in_scope_list(s.evidence.paragraph, listed[s.evidence.report.report_id])
    ]
    if summary_bonus:
        lengths = {rid: max(1, len(index.paragraphs(rid))) for rid in {s.evidence.report.report_id for s in scored}}
        scored = [
            replace(s, score=s.score + summary_bonus * max(0.0, 1 - s.evidence.paragraph.order / lengths[s.evidence.report.report_id]))
            for s in scored
        ]
    if lead_bonus:
        leads = {rid: _section_positions(index.paragraphs(rid)) for rid in {s.evidence.report.report_id for s in scored}}
        scored = [
            replace(s, score=s.score + lead_bonus / (1 + leads[s.evidence.report.report_id].get(s.evidence.paragraph.paragraph_id, 9)))
            for s in scored
        ]
    scored.sort(key=lambda s: -s.score)
    if not scored:
        return None
    shorthand = split_expansion(topic)[1]
    if shorthand and not names_shorthand(shorthand, [scored[0].evidence.paragraph.text]):
        # "young carers" asked: a paragraph that names them (or a meaning) before one that does not
        naming = [s for s in scored if names_shorthand(shorthand, [s.evidence.paragraph.text])]
        scored = naming + [s for s in scored if s not in naming] if naming else scored
    best = scored[0]
    own = [
        s
        for s in scored
        if s.evidence.paragraph.paragraph_id == best.evidence.paragraph.paragraph_id and s.score >= best.score * same_paragraph_bar
    ][:max_sentences]
    same = [s for s in scored if s.evidence.paragraph.paragraph_id == best.evidence.paragraph.paragraph_id]
    own = with_antecedents(with_continuations(with_contrasts(own, same), same), same)
    return Passage(
        best.evidence.paragraph,
        best.evidence.report,
        tuple(own),
        tuple(hits),
        # the topic as asked or in any one of its glossary meanings ("the front door": "contacts and referrals ...")
        max(topic_share(words, own, term_weight) for words in [asked, *glossary_meanings(asked)]),
    )


def _embedded(index: Index, topic: str, paragraphs: Sequence[Paragraph], rank: int) -> list[Evidence]:
    """Paragraphs as evidence, each with its chunk's stored similarity to the topic (as a search would give it;
    0 when the chunk is not among the report's 200 nearest), so no paragraph is embedded again."""
    if not paragraphs:
        return []
    vector = index.embedder.embed_query(topic)
    dense: dict[str, float] = {}
    for report_id in dict.fromkeys(p.report_id for p in paragraphs):
        for chunk_id, score in index.dense_search(vector, 200, [report_id]):
            chunk = index.chunk(chunk_id)
            for paragraph_id in chunk.paragraph_ids if chunk is not None else ():
                dense.setdefault(paragraph_id, score)
    out = []
    for paragraph in paragraphs:
        report = index.report(paragraph.report_id)
        if report is not None:
            out.append(Evidence("", paragraph, report, rank, dense.get(paragraph.paragraph_id, 0.0)))
    return out


def topic_share(topic: str, sentences: Sequence[ScoredSentence], term_weight: Callable[[str], float] | None = None) -> float:
    """How much of the topic the sentences name: the share of its words they contain, each weighted by rarity."""
    weight = term_weight or (lambda token: 1.0)
    terms: dict[str, float] = {}
    for t, kin in word_families(topic):
        terms[kin] = max(terms.get(kin, 0.0), weight(t))
    total = sum(terms.values())
    if not total:
        return 1.0
    words = families(" ".join(s.text for s in sentences))
    return sum(w for t, w in terms.items() if t in words) / total


def in_text_order(passage: Passage) -> list[str]:
    """The passage's sentences as they read in the paragraph. A point of a "What needs to improve" list names an area
    ("The effectiveness of quality assurance arrangements ...") without saying how it is: it is quoted as what it is."""
    text = passage.paragraph.text
    sentences = [s.text for s in sorted(passage.sentences, key=lambda s: text.find(s.text))]
    if sentences and in_improvement_list(passage.paragraph):
        sentences[0] = f"{IMPROVEMENT_LABEL}{sentences[0]}"
    return sentences


def _section(heading_path: Sequence[str]) -> tuple[str, ...]:
    """The section a paragraph belongs to: its judgement section where it has one (a SIF export's "Summary" and
    "Inspection findings" are parts of it), else its own heading."""
    graded = [i for i, heading in enumerate(heading_path) if GRADED_HEADING.search(heading)]
    return tuple(heading_path[: graded[-1] + 1]) if graded else tuple(heading_path)


def _section_positions(paragraphs: Sequence[Paragraph]) -> dict[str, int]:
    """Each paragraph's position in its section (0 = the section's opening paragraph, where its verdict is)."""
    positions: dict[str, int] = {}
    seen: dict[tuple[str, ...], int] = {}
    for paragraph in paragraphs:
        if paragraph.kind == "heading":
            continue
        key = _section(paragraph.heading_path)
        positions[paragraph.paragraph_id] = seen.get(key, 0)
        seen[key] = seen.get(key, 0) + 1
    return positions
