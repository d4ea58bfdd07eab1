"""Hybrid retrieval: dense (Chroma) and keyword (BM25) over the same chunks, fused by reciprocal rank.

Scope (authorities, report types, dates, "latest") is resolved to a set of report ids once and applied
to both retrievers. When a question names several authorities, each is searched separately and the
results interleaved, so one authority's wording cannot crowd out another's.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

from chatbot.query import LAST_N, QueryPlan, expand_terms, search_text
from chatbot.reranker import Reranker, RerankerUnavailable, passage_text
from core.models import Chunk, Report
from core.text import normalise
from vectorstore.index import Index

RRF_K = 60
log = logging.getLogger(__name__)
_MIN_DATE = date.min


@dataclass(frozen=True)
class Scored:
    """A fused hit with the evidence of each retriever."""

    chunk: Chunk
    score: float  # fused RRF score
    dense: float  # cosine similarity (0 when dense did not find it)
    keyword: float  # BM25 score (0 when BM25 did not find it)
    rerank: float | None = None  # the reranker's score, where it read this chunk


def reciprocal_rank_fusion(rankings: Sequence[Sequence[str]], k: int = RRF_K, weights: Sequence[float] | None = None) -> dict[str, float]:
    """RRF: each list adds weight / (k + rank) to the items it ranks (rank from 1)."""
    fused: dict[str, float] = {}
    weights = weights or [1.0] * len(rankings)
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, item in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + weight / (k + rank)
    return fused


def _dates(report: Report, dated_by: str) -> list[date]:
    """The report's dates a window is matched against: its publication date, its visit dates, or (by default, or when
    the report lacks the kind named) any of them."""
    meta = report.metadata
    chosen = {"published": (meta.published or meta.letter_date,), "visited": (meta.visit_start, meta.visit_end)}.get(dated_by, ())
    return [d for d in chosen if d] or [d for d in (meta.published, meta.visit_start, meta.visit_end) if d]


def scope_reports(reports: Sequence[Report], plan: QueryPlan) -> list[str] | None:
    """Report ids the plan admits, or None for no restriction. "Latest" keeps each authority's newest."""
    if not (plan.authorities or plan.report_types or plan.published_from or plan.published_to or plan.latest or plan.earliest or plan.latest_count or plan.region):
        return None
    wanted = {normalise(a) for a in plan.authorities or plan.region_authorities}
    selected: list[Report] = []
    for report in reports:
        meta = report.metadata
        if wanted and normalise(meta.local_authority or "") not in wanted:
            continue
        if plan.report_types and meta.report_type not in plan.report_types:
            continue
        dates = _dates(report, plan.dated_by)
        if plan.published_from and not any(d >= plan.published_from for d in dates):
            continue
        if plan.published_to:
            ends = [meta.published or meta.letter_date] if plan.before_published and (meta.published or meta.letter_date) else dates
            if not any(d <= plan.published_to for d in ends if d):
                continue
        selected.append(report)
    if (plan.latest or plan.earliest) and selected:
        by_authority: dict[str, Report] = {}
        for report in sorted(selected, key=_when):
            key = report.metadata.local_authority or report.report_id
            if plan.earliest:
                by_authority.setdefault(key, report)
            else:
                by_authority[key] = report
        selected = list(by_authority.values())
    if plan.latest_count and selected:
        selected = _newest(selected, plan)
    return [r.report_id for r in selected]


def _newest(reports: Sequence[Report], plan: QueryPlan) -> list[Report]:
    """Each authority's newest `plan.latest_count` reports of the kind the question names: "inspections" are full
    inspections of children's services (not area SEND ones unless SEND is asked), "visits" are visits. A PDF and its
    text export count once."""
    noun = LAST_N.search(plan.question) or LAST_N.search(plan.standalone)
    kind = noun.group("noun").lower() if noun else "reports"
    send = bool(re.search(r"\bSEND\b|special educational", plan.standalone))

    def counted(report: Report) -> bool:
        report_type = report.metadata.report_type
        if kind == "inspections":
            return report_type.endswith("_inspection") and (send or report_type != "area_send_inspection")
        if kind == "visits":
            return report_type.endswith("_visit")
        return True

    def key(report: Report) -> tuple[str, date]:  # a PDF and its text export are one report
        return report.metadata.report_type, _when(report)

    by_authority: dict[str, list[Report]] = {}
    for report in sorted(reports, key=_when):
        if counted(report):
            by_authority.setdefault(report.metadata.local_authority or report.report_id, []).append(report)
    kept: list[Report] = []
    for own in by_authority.values():
        newest = set(list(dict.fromkeys(key(r) for r in own))[-plan.latest_count:])
        kept.extend(r for r in own if key(r) in newest)
    return kept


def _when(report: Report) -> date:
    return report.metadata.published or report.metadata.visit_start or report.metadata.letter_date or _MIN_DATE


class HybridRetriever:
    """Dense + BM25 with RRF, scoped by the query plan, deduplicated by text; then, where a reranker is given, the
    fused top `rerank_depth` reordered by the reranker's reading of each passage against the question, fused with
    their hybrid order by reciprocal rank (`rerank_weight` is the reranker's share: 0.3 by default, since on the dev
    harness the model alone ranks below the hybrid order and the two together a little above it; answering the dev
    sets it still measures below, so reranking is off unless asked for: docs/adr/0009-reranker.md)."""

    def __init__(
        self,
        index: Index,
        *,
        candidates: int = 40,
        dense_weight: float = 1.0,
        keyword_weight: float = 1.0,
        reranker: Reranker | None = None,
        rerank_depth: int = 20,
        rerank_weight: float = 0.3,
    ) -> None:
        self.index = index
        self.candidates = candidates
        self.dense_weight = dense_weight
        self.keyword_weight = keyword_weight
        self.reranker = reranker
        self.rerank_depth = rerank_depth
        self.rerank_weight = rerank_weight

    def retrieve(self, plan: QueryPlan, k: int = 10, report_ids: Sequence[str] | None = None, *, rerank: bool = True) -> list[Scored]:
        """The top `k` passages for the plan among `report_ids` (None: the plan's scope). `rerank=False` keeps the
        hybrid order even where there is a reranker: the timeline's and comparison's choice of each report's
        paragraph, where reranking measured worse on the dev set (docs/adr/0009-reranker.md)."""
        if report_ids is None:
            report_ids = scope_reports(self.index.reports(), plan)
        if report_ids is not None and not report_ids:
            return []
        if len(plan.authorities) > 1:
            per_authority = []
            for authority in plan.authorities:
                ids = [rid for rid in report_ids or [] if self._authority(rid) == authority]
                per_authority.append(self._search(expand_terms(plan.topic or search_text(plan.standalone)), ids, k, plan.standalone, rerank) if ids else [])
            return _interleave(per_authority, k)
        return self._search(expand_terms(plan.topic or search_text(plan.standalone)), report_ids, k, plan.standalone, rerank)

    def _is_pdf(self, report_id: str) -> bool:
        report = self.index.report(report_id)
        return bool(report and report.source.lower().split("?")[0].endswith(".pdf"))

    def _authority(self, report_id: str) -> str | None:
        report = self.index.report(report_id)
        return report.metadata.local_authority if report else None

    def _search(self, query: str, report_ids: Sequence[str] | None, k: int, question: str | None = None, rerank: bool = True) -> list[Scored]:
        """The hybrid search for `query` (the search text); the reranker, where there is one, reads `question` (the
        user's question as planned, without the glossary meanings the search text adds) or, without one, the search
        text."""
        vector = self.index.embedder.embed_query(query)
        dense = self.index.dense_search(vector, self.candidates, report_ids)
        keyword = self.index.keyword_search(query, self.candidates, report_ids)
        fused = reciprocal_rank_fusion(
            [[cid for cid, _ in dense], [cid for cid, _ in keyword]], weights=[self.dense_weight, self.keyword_weight]
        )
        dense_scores = dict(dense)
        keyword_scores = dict(keyword)
        ranked = sorted(fused.items(), key=lambda item: -item[1])
        out: list[Scored] = []
        seen_texts: dict[str, int] = {}
        reranking = rerank and self.reranker is not None
        depth = max(k, self.rerank_depth) if reranking else k
        for chunk_id, score in ranked:
            chunk = self.index.chunk(chunk_id)
            if chunk is None:
                continue
            key = normalise(chunk.text)
            scored = Scored(chunk, score, dense_scores.get(chunk_id, 0.0), keyword_scores.get(chunk_id, 0.0))
            if key in seen_texts:
                # the same words in two copies of a report (a PDF and its text export): show the PDF's
                position = seen_texts[key]
                if self._is_pdf(chunk.report_id) and not self._is_pdf(out[position].chunk.report_id):
                    out[position] = replace(scored, score=out[position].score)
                continue
            seen_texts[key] = len(out)
            out.append(scored)
            if len(out) >= depth:
                break
        if reranking and len(out) > 1:
            out = self._rerank(question or query, out)
        return out[:k]

    def _rerank(self, query: str, hits: list[Scored]) -> list[Scored]:
        """The top `rerank_depth` hits in the order of their fused hybrid and reranker ranks (the rest keep theirs,
        after them): each hit scores 1/(60 + hybrid rank) + rerank_weight/(60 + reranker rank)."""
        assert self.reranker is not None
        head, tail = hits[: self.rerank_depth], hits[self.rerank_depth :]
        try:
            scores = self.reranker.score(query, [passage_text(h.chunk.heading_path, h.chunk.text) for h in head])
        except RerankerUnavailable as error:  # its files passed the check but do not load: say so once, stop reranking
            log.warning("Reranking is off: %s. Answers use the fused dense and keyword ranking.", error)
            self.reranker = None
            return hits
        rescored = [replace(hit, rerank=float(score)) for hit, score in zip(head, scores, strict=True)]
        by_model = sorted(range(len(rescored)), key=lambda i: -scores[i])
        model_rank = {i: rank for rank, i in enumerate(by_model)}
        combined = {i: 1 / (RRF_K + i + 1) + self.rerank_weight / (RRF_K + model_rank[i] + 1) for i in range(len(rescored))}
        order = sorted(range(len(rescored)), key=lambda i: -combined[i])
        return [rescored[i] for i in order] + tail


def _interleave(lists: Sequence[Sequence[Scored]], k: int) -> list[Scored]:
    out: list[Scored] = []
    position = 0
    while len(out) < k and any(position < len(lst) for lst in lists):
        for lst in lists:
            if position < len(lst) and len(out) < k:
                out.append(lst[position])
        position += 1
    return out
