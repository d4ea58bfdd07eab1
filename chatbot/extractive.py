"""The offline default answerer: the most relevant sentences of the retrieved paragraphs, each cited.

Sentences are scored by embedding similarity to the question, the question's keywords they contain
and the rank of the paragraph they come from; the best few are kept (at most two from one paragraph),
grouped by report (authority, report type, date) and each given its paragraph's marker. Within a report
the paragraph holding the best sentence comes first, so the answer opens with what best answers it.
"""

from __future__ import annotations

import re
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date

import numpy as np

from chatbot.improvements import improve_intent, in_improvement_list
from chatbot.query import QueryPlan, answer_focus, expand_terms, search_text, split_expansion
from chatbot.structured import list_lead_in
from core.models import REPORT_TYPE_LABELS, Paragraph, Report
from core.text import normalise, split_sentences
from vectorstore.embeddings import Embedder
from vectorstore.keyword import families, tokenize, word_families
from vectorstore.sentence_store import SentenceStore

_EPOCH = date(1900, 1, 1)
_ENDS = re.compile(r"[.!?][\"'\u2019\u201d)]*\s*$")
# Sentences about the report itself rather than about services ("Throughout this report, ...").
# A field of the report's front matter or a table row: "Dates of previous inspection: 28 February to 4 March 2022".
_FIELD = re.compile(r"^[A-Z][\w'\u2019 ,()-]{2,60}:\s+\S")
# Also the grade descriptors older reports print ("An LSCB requires improvement if it does not yet demonstrate ...").
_META = re.compile(
    r"^\s*(throughout|in|for the purposes of) this (report|letter)\b|^\s*this (report|letter) (summarises|sets out)"
    r"|\bcharacteristics of (good|outstanding)\b|\bif (it|they) (does|do) not yet demonstrate\b"
    # the grade scale's descriptors: "An LSCB that is inadequate does not ...", "An outstanding LSCB is ..."
    r"|^\s*(an?|in an?) (?:(outstanding|good|inadequate) )?(lscb|local authority|local safeguarding children board) (that|which) (is|requires)\b"
    r"|^\s*an? (outstanding|good|inadequate) (lscb|local authority|local safeguarding children board)\b"
    r"|\?\s*$",  # a question is a heading set as a sentence ("What does the LSCB need to improve?"), not a finding
    re.I,
)
# A section that explains the grade scale ("What the inspection judgements mean: the LSCB").
_SCALE_SECTION = re.compile(r"^\s*(?:what the inspection judge?ments mean|the inspection judge?ments and what they mean)\b", re.I)
# What inspectors did rather than what they found ("Inspectors looked at ..."): useful only when that is the question.
_PROCEDURE = re.compile(
    r"^\s*(?:in addition,?\s+|also,?\s+)?(inspectors|this visit|the visit|the inspection|this inspection)\s+(also\s+)?"
    r"(looked at|reviewed|evaluated|considered|examined|focused on|spoke|met|observed|sampled|tracked|scrutinised)\b"
    r"|^\s*they\s+also\s+(?:looked at|sampled|tracked|spoke)\b"  # the inspectors again, in a letter's opening
    r"|^\s*the methodology for this (?:visit|inspection)\b|\bagreed arrangements to deliver this (?:visit|inspection)\b"
    r"|\bis leading ofsted['\u2019]s work into\b"  # the covid-era visits' framing: why and how the visit was done
    r"|^\s*(?:this|the) (?:visit|inspection) was (?:carried out|conducted|undertaken)\b|^\s*the delivery model was adapted\b"
    # where the visit sits among the others ("This was the first focused visit since the full inspection ...")
    r"|^\s*this (?:was|is) the (?:first|second|third|fourth|latest|last) (?:\w+ )?(?:visit|inspection|monitoring visit)\b"
    r"|^\s*the purpose of (?:the|this) (?:inspection|visit|review) is\b",  # a 2013 inspection's statement of its remit
    re.I,
)
_ASKS_PROCEDURE = re.compile(
    r"\b(look(?:ed)? at|focus(?:ed)? on|review(?:ed)?|evaluat\w*|examin\w*|scope|what did (?:the )?inspectors do"
    r"|methodology|carried out|conducted|arrangements for the (?:visit|inspection))\b",
    re.I,
)


_SHORT_VERB = re.compile(r"\b(?:is|are|was|were|has|have|had|remains?|continues?|needs?|works?|improved|improving|declined)\b", re.I)


@dataclass(frozen=True)
class Evidence:
    """A retrieved paragraph offered to an answerer under a marker."""

    marker: str
    paragraph: Paragraph
    report: Report
    rank: int  # rank of the chunk it came from, 0 = best
    dense: float  # cosine similarity of that chunk to the question


@dataclass(frozen=True)
class ScoredSentence:
    text: str
    evidence: Evidence
    score: float
    similarity: float
    overlap: float = 0.0  # share of the question's words it contains, weighted by rarity


@dataclass(frozen=True)
class Draft:
    """An answerer's output before the citation check: text with [n] markers."""

    text: str
    confidence: float  # best sentence similarity to the question, for the refusal decision
    sentences: tuple[ScoredSentence, ...] = ()


def report_label(report: Report) -> str:
    meta = report.metadata
    authority = meta.local_authority or "Unknown authority"
    kind = REPORT_TYPE_LABELS.get(meta.report_type, "report")
    when = meta.published.strftime("%-d %B %Y") if meta.published else "undated"
    return f"{authority}: {kind}, {when}"


class SentenceVectors:
    """The vectors of the sentences answers read, kept per embedder (least recently used out first), so that a
    paragraph's sentences are embedded once per process, not at every answer that reads them: embedding them was
    some 90% of an answer's time (issue 23). `size` sentences per embedder (384 float32s each: 50,000 is about
    75 MB); 0 keeps none. Behind it, an embedder may have a store on disk (`attach`: vectorstore.sentence_store),
    shared by every process on the index and filled ahead by `ofsted-qa sentences`. Thread-safe: the app answers
    several sessions at once."""

    def __init__(self, size: int = 50_000) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._tables: weakref.WeakKeyDictionary[Embedder, OrderedDict[str, np.ndarray]] = weakref.WeakKeyDictionary()
        self._stores: weakref.WeakKeyDictionary[Embedder, SentenceStore] = weakref.WeakKeyDictionary()
        self.hits = 0
        self.misses = 0
        self.stored = 0  # of the misses, those read from a store on disk rather than embedded

    def attach(self, embedder: Embedder, store: SentenceStore | None) -> None:
        """Read this embedder's sentence vectors from `store` (and keep the ones it embeds there); None detaches."""
        with self._lock:
            if store is None:
                self._stores.pop(embedder, None)
            else:
                self._stores[embedder] = store

    def store_of(self, embedder: Embedder) -> SentenceStore | None:
        """The store on disk this embedder's vectors are read from and kept in, if any."""
        with self._lock:
            return self._stores.get(embedder)

    def embed(self, embedder: Embedder, question: str, sentences: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """The question's vector and one row per sentence, embedding in one call the question and the sentences
        not yet kept."""
        wanted = list(dict.fromkeys(sentences))
        with self._lock:
            table = self._table(embedder)
            known: dict[str, np.ndarray] = {}
            for sentence in wanted:
                vector = table.get(sentence)
                if vector is not None:
                    table.move_to_end(sentence)
                    known[sentence] = vector
            self.hits += len(known)
            self.misses += len(wanted) - len(known)
            store = self._stores.get(embedder)
        missing = [sentence for sentence in wanted if sentence not in known]
        stored = store.get(missing) if store is not None and missing else {}
        self.stored += len(stored)
        missing = [sentence for sentence in missing if sentence not in stored]
        vectors = embedder.embed_documents([question, *missing])
        fresh = dict(zip(missing, vectors[1:], strict=True))
        if store is not None and fresh:
            store.put(fresh)
        fresh |= stored
        if self.size > 0 and fresh:
            with self._lock:
                table = self._table(embedder)
                for sentence, vector in fresh.items():
                    kept = vector.copy()  # not a view: a kept row must not hold its whole batch in memory
                    kept.setflags(write=False)
                    table[sentence] = kept
                while len(table) > self.size:
                    table.popitem(last=False)
        rows = known | fresh
        matrix = np.stack([rows[s] for s in sentences]) if sentences else np.zeros((0, vectors.shape[1]), dtype=np.float32)
        return vectors[0], matrix

    def clear(self) -> None:
        """Keep nothing from before (the benchmarks' first round starts here)."""
        with self._lock:
            self._tables = weakref.WeakKeyDictionary()
            self.hits = self.misses = self.stored = 0

    def _table(self, embedder: Embedder) -> OrderedDict[str, np.ndarray]:
        """This embedder's table (a throwaway one when nothing is kept, or the embedder cannot be weakly referenced)."""
        if self.size <= 0:
            return OrderedDict()
        try:
            return self._tables.setdefault(embedder, OrderedDict())
        except TypeError:
            return OrderedDict()


SENTENCE_VECTORS = SentenceVectors()


def kept_similarity(embedder: Embedder) -> Callable[[str, str], float]:
    """The citation check's similarity of a statement to a paragraph, reading the paragraph's vector from the kept
    ones (SENTENCE_VECTORS: memory, then the store on disk) instead of embedding it at every check: a list answer over
    the full corpus checked 52 statements, each against its paragraph, in 1.7 s."""

    def similarity(statement: str, paragraph: str) -> float:
        vector, rows = SENTENCE_VECTORS.embed(embedder, statement, [paragraph])
        return float(rows[0] @ vector)

    return similarity


def embed_ahead(
    embedder: Embedder,
    paragraphs: Iterable[Paragraph],
    store: SentenceStore,
    *,
    batch: int = 512,
    progress: Callable[[int], None] | None = None,
) -> tuple[int, int]:
    """Embed into `store` the sentences answers may quote from these paragraphs (`candidate_sentences`), so that no
    answer embeds them: (sentences seen, sentences embedded; the rest were held already). `progress` hears each
    batch's count of sentences."""
    seen = embedded = 0
    pending: list[str] = []

    def flush() -> None:
        nonlocal embedded
        held = store.get(pending)
        todo = [s for s in dict.fromkeys(pending) if s not in held]
        if todo:
            store.put(dict(zip(todo, embedder.embed_documents(todo), strict=True)))
            embedded += len(todo)
        if progress is not None:
            progress(len(pending))
        pending.clear()

    for paragraph in paragraphs:
        sentences = candidate_sentences(paragraph)
        seen += len(sentences)
        pending += sentences
        if len(pending) >= batch:
            flush()
    if pending:
        flush()
    return seen, embedded


def candidate_sentences(paragraph: Paragraph, *, fields: bool = True) -> list[str]:
    """The sentences of a paragraph an answer may quote (and so scores, and embeds): whole sentences, and with `fields`
    front-matter fields and table rows; none from the section on what the grades mean."""
    if any(_SCALE_SECTION.match(heading) for heading in paragraph.heading_path):
        return []  # what the grades mean, not what inspectors found
    out = []
    for sentence in split_sentences(paragraph.text):
        # whole sentences or fields only: list fragments ("Care leavers at risk of specific harm") read as non-sequiturs
        words = len(sentence.split())
        # a short sentence counts when it has a verb ("Joint commissioning is improving."); a fragment does not
        whole = (words >= 6 or (words >= 3 and _SHORT_VERB.search(sentence))) and not _META.search(sentence) and _ENDS.search(sentence)
        if whole or (fields and words >= 4 and _FIELD.match(sentence)):
            out.append(sentence)
    return out


def score_sentences(
    question: str,
    evidence: Sequence[Evidence],
    embedder: Embedder,
    *,
    max_paragraphs: int = 12,
    term_weight: Callable[[str], float] | None = None,
    focus: re.Pattern[str] | None = None,
    fields: bool = True,
) -> list[ScoredSentence]:
    """Every sentence of the top paragraphs, scored against the question.

    The score mixes the sentence's embedding similarity to the question, the share of the question's
    words it contains (weighted by how rare each word is in the index, when `term_weight` is given),
    how well its chunk matched the question as a whole and that chunk's retrieval rank, plus a bonus
    when it contains what the question asks for (`focus`: a figure, a date, a duration). `fields` admits
    front-matter fields and table rows ("Dates of previous inspection: ...") as sentences."""
    candidates = [(sentence, item) for item in evidence[:max_paragraphs] for sentence in candidate_sentences(item.paragraph, fields=fields)]
    if not candidates:
        return []
    weight = term_weight or (lambda token: 1.0)
    # overlap counts the words asked; a glossary meaning counts as the shorthand it explains, and only as a whole
    # phrase ("multi-agency safeguarding hub" says "front door"; "multi-agency safeguarding partnership" does not)
    asked, shorthand = split_expansion(question)
    query_terms: dict[str, float] = {}
    for term, kin in word_families(asked):
        query_terms[kin] = max(query_terms.get(kin, 0.0), weight(term))
    meanings = [(families(short), [families(p) for p in phrases if tokenize(p)]) for short, phrases in shorthand]
    total = sum(query_terms.values())
    question_vector, sentence_vectors = SENTENCE_VECTORS.embed(embedder, question, [s for s, _ in candidates])
    similarities = sentence_vectors @ question_vector
    scored = []
    for (sentence, item), similarity in zip(candidates, similarities, strict=True):
        terms = families(sentence)
        said = terms | {t for short, phrases in meanings if any(phrase <= terms for phrase in phrases) for t in short}
        overlap = sum(w for term, w in query_terms.items() if term in said) / total if total else 0.0
        score = 0.5 * float(similarity) + 0.3 * overlap + 0.1 / (1 + item.rank) + 0.2 * max(item.dense, 0.0)
        if focus is not None and focus.search(sentence):
            score += 0.1
        if about_the_visit(sentence, question):  # demoted: what inspectors did, unless that is asked
            score *= 0.85
        scored.append(ScoredSentence(sentence, item, score, float(similarity), overlap))
    return scored


def is_meta(sentence: str) -> bool:
    """A sentence about the report itself ("Throughout this report, ...") or a grade descriptor."""
    return bool(_META.search(sentence))


def in_scope_list(paragraph: Paragraph, paragraphs: Sequence[Paragraph]) -> bool:
    """Whether a bullet lists what the visit looked at ("Inspectors looked at ... This included:" then "Staying in
    touch."): the scope of the visit, not a finding."""
    lead = list_lead_in(paragraph, paragraphs)
    return lead is not None and bool(_PROCEDURE.search(lead.text))


def about_the_visit(sentence: str, question: str) -> bool:
    """A sentence on what inspectors did ("Inspectors looked at ...", "The methodology for this visit ..."), when the
    question is not about that: it says nothing about the services."""
    return bool(_PROCEDURE.search(sentence)) and not _ASKS_PROCEDURE.search(question)


# A sentence that qualifies the one before it: quoting the first without it would tell half the finding.
_CONTRAST = re.compile(r"^\s*(?:however|but|yet|nevertheless|nonetheless|despite this|even so|although this|that said)\b", re.I)


def with_contrasts(chosen: Sequence[ScoredSentence], candidates: Sequence[ScoredSentence]) -> list[ScoredSentence]:
    """The chosen sentences and, for each paragraph quoted, the first later sentence of it that qualifies what was
    quoted ("... they receive prompt assessments. ... However, there are serious delays ...")."""
    out = list(chosen)
    for paragraph_id in dict.fromkeys(s.evidence.paragraph.paragraph_id for s in chosen):
        quoted = [s for s in out if s.evidence.paragraph.paragraph_id == paragraph_id]
        text = quoted[0].evidence.paragraph.text
        first = min(text.find(s.text) for s in quoted)
        later = sorted(
            (c for c in candidates if c.evidence.paragraph.paragraph_id == paragraph_id and text.find(c.text) > first),
            key=lambda c: text.find(c.text),
        )
        contrast = next((c for c in later if _CONTRAST.match(c.text)), None)
        if contrast is not None and contrast not in out:
            out.append(contrast)
    return out


# A sentence that leans on the one before it: quoted alone, "They had no awareness of the decline" names no one, and
# "However, take-up of return home interviews is low" drops the finding it qualifies.
_ANAPHORIC = re.compile(
    r"^\s*(?:they|this|these|those|it|its|their|such|both|he|she|his|her"
    r"|however|but|yet|nevertheless|nonetheless|despite this|even so|that said)\b",
    re.I,
)


def _beside(sentence: ScoredSentence, candidates: Sequence[ScoredSentence], *, after: bool) -> ScoredSentence | None:
    """The candidate sentence of `sentence`'s paragraph just before it (or just after it), if any."""
    text = sentence.evidence.paragraph.text
    at = text.find(sentence.text)
    same = [c for c in candidates if c.evidence.paragraph.paragraph_id == sentence.evidence.paragraph.paragraph_id]
    if after:
        return min((c for c in same if text.find(c.text) >= at + len(sentence.text)), key=lambda c: text.find(c.text), default=None)
    return max((c for c in same if 0 <= text.find(c.text) < at), key=lambda c: text.find(c.text), default=None)


def with_antecedents(chosen: Sequence[ScoredSentence], candidates: Sequence[ScoredSentence]) -> list[ScoredSentence]:
    """The chosen sentences and, for each that opens with a pronoun ("They ...", "This means ...") or qualifies what
    came before ("However, ..."), the sentence of its paragraph just before it, so that the pronoun has something to
    refer to and the qualifier the finding it qualifies."""
    out = list(chosen)
    for sentence in chosen:
        previous = _beside(sentence, candidates, after=False) if _ANAPHORIC.match(sentence.text) else None
        if previous is not None and previous not in out:
            out.append(previous)
    return out


# A sentence that carries on from the one before it: refers back to it ("This area of practice has improved", "For
# these children, ...", "Within this team, ...") or draws from it ("As a result, ...", "For example, ...")
_CONTINUES = re.compile(
    r"^\s*(?:they|this|these|those|it|such|both"
    r"|as a result|consequently|for example|for instance"
    r"|(?:for|within|in|of|at|from|with|despite|because of) (?:this|these|those|them|it)\b)\b",
    re.I,
)


def with_continuations(chosen: Sequence[ScoredSentence], candidates: Sequence[ScoredSentence]) -> list[ScoredSentence]:
    """The chosen sentences and, for each, the sentence of its paragraph just after it when that one carries on from it
    (`_CONTINUES`): quoting "Children who go missing ... are responded to effectively" without "For these children,
    the adolescent safeguarding team is a valuable resource" drops the finding's detail."""
    out = list(chosen)
    for sentence in chosen:
        following = _beside(sentence, candidates, after=True)
        if following is None or following in out or not _CONTINUES.match(following.text):
            continue
        text = sentence.evidence.paragraph.text
        if not text[text.find(sentence.text) + len(sentence.text) : text.find(following.text)].strip(" .;:"):  # the very next
            out.append(following)
    return out


def rank_below_statements(scored: list[ScoredSentence], question: str) -> list[ScoredSentence]:
    """Points of a "What needs to improve" list at 0.8 of their score, unless the list is what was asked for: such a
    point names a topic ("The quality of pathway plans") without saying how it is."""
    if improve_intent(question):
        return scored
    return [replace(s, score=s.score * 0.8) if in_improvement_list(s.evidence.paragraph) else s for s in scored]


class ExtractiveAnswerer:
    """Composes an answer from retrieved sentences; needs no LLM."""

    name = "extractive"

    def __init__(
        self,
        embedder: Embedder,
        *,
        term_weight: Callable[[str], float] | None = None,
        max_sentences: int = 6,
        per_paragraph: int = 3,
        max_reports: int = 4,
        other_bar: float = 0.95,
        same_paragraph_bar: float = 0.6,
        other_overlap: float = 0.8,
    ) -> None:
        self.embedder = embedder
        self.term_weight = term_weight
        self.same_paragraph_bar = same_paragraph_bar
        self.max_reports = max_reports
        self.other_bar = other_bar
        self.max_sentences = max_sentences
        self.per_paragraph = per_paragraph
        self.other_overlap = other_overlap

    def draft(self, plan: QueryPlan, evidence: Sequence[Evidence]) -> Draft:
        scored = score_sentences(
            expand_terms(plan.topic or search_text(plan.standalone)),
            evidence,
            self.embedder,
            term_weight=self.term_weight,
            focus=answer_focus(plan.standalone),
        )
        if not scored:
            return Draft("", 0.0)
        scored = rank_below_statements(scored, plan.standalone)
        chosen = with_antecedents(with_continuations(with_contrasts(self._select(scored, plan), scored), scored), scored)
        confidence = max(s.similarity for s in scored)
        return Draft(compose(chosen), confidence, tuple(chosen))

    def _select(self, scored: Sequence[ScoredSentence], plan: QueryPlan) -> list[ScoredSentence]:
        """Best sentences overall, but each relevant report (and authority) gets its best one first."""
        ordered = sorted(scored, key=lambda s: -s.score)
        best = ordered[0].score
        # best first, not a set's order: a set of names iterates differently in each process, so the answer would too
        authorities = list(dict.fromkeys(s.evidence.report.metadata.local_authority for s in ordered))
        best_by_report: dict[str, ScoredSentence] = {}
        for sentence in ordered:
            best_by_report.setdefault(sentence.evidence.report.report_id, sentence)
        bar = 0.75 if len(authorities) == 1 else 0.65
        # a broad question ("what about care leavers?") deserves each report's view; a specific one, the best answer
        broad = len(set(tokenize(plan.topic or plan.standalone))) <= 3
        leaders = [s for s in best_by_report.values() if s.score >= best * bar][: self.max_reports] if broad else ordered[:1]
        if len(authorities) > 1:
            # every authority in play gets its best sentence, even below the bar
            for authority in authorities:
                if not any(s.evidence.report.metadata.local_authority == authority for s in leaders):
                    leaders.append(next(s for s in ordered if s.evidence.report.metadata.local_authority == authority))
        limit = max(self.max_sentences, len(leaders) + 2)
        # side by side: no authority takes more than its share of the answer
        per_authority_cap = -(-limit // len(authorities)) if len(authorities) > 1 else limit
        per_authority: dict[str | None, int] = {}
        best_of: dict[str | None, ScoredSentence] = {}
        for sentence in ordered:
            best_of.setdefault(sentence.evidence.report.metadata.local_authority, sentence)
        chosen: list[ScoredSentence] = []
        per_paragraph: dict[str, int] = {}
        seen: set[str] = set()
        for sentence in leaders + [s for s in ordered if s not in leaders]:
            if len(chosen) >= limit:
                break
            key = normalise(sentence.text)
            pid = sentence.evidence.paragraph.paragraph_id
            authority = sentence.evidence.report.metadata.local_authority
            if key in seen or per_paragraph.get(pid, 0) >= self.per_paragraph:
                continue
            if per_authority.get(authority, 0) >= per_authority_cap:
                continue
            # each authority's sentences are measured against that authority's best (comparisons stay balanced)
            own_best = best_of.get(authority, sentence)
            from_best = pid == own_best.evidence.paragraph.paragraph_id
            if sentence not in leaders and sentence.score < own_best.score * (self.same_paragraph_bar if from_best else self.other_bar):
                continue  # adds little to the best evidence
            if sentence not in leaders and not from_best and sentence.overlap < own_best.overlap * self.other_overlap:
                continue  # another paragraph that misses the question's telling words
            seen.add(key)
            per_paragraph[pid] = per_paragraph.get(pid, 0) + 1
            per_authority[authority] = per_authority.get(authority, 0) + 1
            chosen.append(sentence)
        return chosen


IMPROVEMENT_LABEL = "What needs to improve: "


def best_first(members: Sequence[ScoredSentence]) -> list[ScoredSentence]:
    """One report's quoted sentences in the order they are shown: the paragraph holding the best-scoring sentence
    first, then the others in the report's order; a paragraph's own sentences always in text order, so a qualifier
    ("However, ...") stays after what it qualifies and a pronoun after what it refers to."""
    if not members:
        return []
    best = max(members, key=lambda s: s.score).evidence.paragraph.paragraph_id
    return sorted(
        members,
        key=lambda s: (s.evidence.paragraph.paragraph_id != best, s.evidence.paragraph.order, s.evidence.paragraph.text.find(s.text)),
    )


def compose(chosen: Sequence[ScoredSentence]) -> str:
    """Group sentences by report (newest first within an authority), each report's best paragraph first, with
    markers."""
    groups: dict[str, list[ScoredSentence]] = {}
    for sentence in chosen:
        groups.setdefault(sentence.evidence.report.report_id, []).append(sentence)

    first_seen = {rid: i for i, rid in enumerate(groups)}
    authority_order: dict[str, int] = {}
    for rid in groups:
        authority_order.setdefault(groups[rid][0].evidence.report.metadata.local_authority or "", first_seen[rid])
    ordered_ids = sorted(
        groups,
        key=lambda rid: (
            authority_order[groups[rid][0].evidence.report.metadata.local_authority or ""],
            -(groups[rid][0].evidence.report.metadata.published or _EPOCH).toordinal(),
        ),
    )
    lines: list[str] = []
    for report_id in ordered_ids:
        members = best_first(groups[report_id])
        lines.append(f"**{report_label(members[0].evidence.report)}**")
        labelled: set[str] = set()
        for sentence in members:
            paragraph = sentence.evidence.paragraph
            # a point of the "What needs to improve" list names an area without saying how it is: say what it is
            label = IMPROVEMENT_LABEL if in_improvement_list(paragraph) and paragraph.paragraph_id not in labelled else ""
            labelled.add(paragraph.paragraph_id)
            lines.append(f"- {label}{sentence.text} [{sentence.evidence.marker}]")
        lines.append("")
    return "\n".join(lines).strip()
