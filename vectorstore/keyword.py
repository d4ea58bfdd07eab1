"""The keyword index: BM25 (bm25s) over the same chunks as Chroma, rebuilt when the catalog changes."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from vectorstore.saved import digest, write_folder

_TOKEN = re.compile(r"[a-z0-9]+(?:['-][a-z0-9]+)*")
STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have
    having he her here hers herself him himself his how i if in into is it its itself just me more most my
    myself no nor not now of off on once only or other our ours ourselves out over own same she should so
    some such than that the their theirs them themselves then there these they this those through to too
    under until up very was we were what when where which while who whom why will with would you your
    yours yourself yourselves did say said tell told inspectors inspector report reports ofsted""".split()
)


def stem(word: str) -> str:
    """A light English stemmer: enough to match plurals and common verb endings."""
    for suffix, replacement in (("ies", "y"), ("sses", "ss"), ("ness", ""), ("ing", ""), ("ed", ""), ("es", "e"), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            return word[: -len(suffix)] + replacement
    return word


def tokenize(text: str) -> list[str]:
    """Lower-cased, stop-worded, stemmed word tokens; hyphenated compounds also give their parts."""
    tokens: list[str] = []
    for raw in _TOKEN.findall(text.lower().replace("\u2019", "'")):
        tokens.extend(_word_tokens(raw))
    return tokens


@lru_cache(maxsize=200_000)
def _word_tokens(raw: str) -> tuple[str, ...]:
    """One lower-cased word's tokens. Cached: the full corpus's 5 million words are some 60,000 distinct ones, and
    stemming each occurrence took most of the keyword index's build (about 10 s at the first question)."""
    return tuple(stem(part) for part in _parts(raw))


def _parts(raw: str) -> list[str]:
    """The words a lower-cased word gives tokens for: itself and, when hyphenated, its parts; possessives off,
    stopwords out."""
    parts = (part.replace("'s", "").strip("'") for part in ([raw, *raw.split("-")] if "-" in raw else [raw]))
    return [part for part in parts if part and part not in STOPWORDS]


@lru_cache(maxsize=1)
def _english():
    import Stemmer  # PyStemmer: the Snowball project's English (Porter2) stemmer, in C

    return Stemmer.Stemmer("english")


# Derivational endings the Snowball stemmer keeps, that make one word family of "leadership" and "leaders",
# "placement" and "placed", or "stability", "stabilise" and "stable"
_FAMILY_ENDINGS = (("ship", ""), ("ments", ""), ("ment", ""), ("ilis", "l"), ("bil", "bl"))


@lru_cache(maxsize=200_000)
def _word_families(raw: str) -> tuple[tuple[str, str], ...]:
    out = []
    for part in _parts(raw):
        word = _english().stemWord(part)
        for ending, replacement in _FAMILY_ENDINGS:
            if word.endswith(ending) and len(word) - len(ending) >= 3:
                word = _english().stemWord(word[: -len(ending)] + replacement)
                break
        out.append((stem(part), word[:-1] if word.endswith("e") and len(word) > 4 else word))
    return tuple(out)


def word_families(text: str) -> list[tuple[str, str]]:
    """Each keyword token of `text` (as `tokenize` gives them) with its word family: the Snowball English (Porter2)
    stem, less the derivational endings above. "adoption", "adoptive" and "adopted" are one family, as are
    "stability", "stabilised" and "stable", or "assessment" and "assessed": for matching a question's words in a
    sentence, not for the keyword index, where BM25 still tells "stability" from "stable"."""
    pairs: list[tuple[str, str]] = []
    for raw in _TOKEN.findall(text.lower().replace("\u2019", "'")):
        pairs.extend(_word_families(raw))
    return pairs


def families(text: str) -> set[str]:
    """The word families of `text` (`word_families`)."""
    return {family for _, family in word_families(text)}


# Bump when tokenize(), the stemmer or the BM25 parameters change: a saved keyword index of another format is rebuilt.
KEYWORD_FORMAT = "1"
_META = "keyword.json"


class KeywordIndex:
    """BM25 over a fixed list of chunk ids and texts."""

    def __init__(self, chunk_ids: Sequence[str], texts: Sequence[str] | None = None, *, _bm25=None, _frequency: dict[str, int] | None = None) -> None:
        import logging

        import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs each index build at DEBUG level
        self.chunk_ids = list(chunk_ids)
        self._position = {cid: i for i, cid in enumerate(self.chunk_ids)}
        self._empty = not self.chunk_ids
        if _bm25 is not None:  # loaded (KeywordIndex.load)
            self._bm25 = _bm25
            self._document_frequency = dict(_frequency or {})
            return
        self._bm25 = bm25s.BM25()
        self._document_frequency = {}
        if not self._empty:
            corpus = [tokenize(t) or ["_"] for t in texts or ()]
            self._bm25.index(corpus, show_progress=False)
            for tokens in corpus:
                for token in set(tokens):
                    self._document_frequency[token] = self._document_frequency.get(token, 0) + 1

    def save(self, folder: Path) -> None:
        """Write the index to `folder` (replacing what is there, whole: `saved.write_folder`) so that a later process
        loads it instead of building it again."""
        import json

        if self._empty:
            return

        def fill(staging: Path) -> None:
            self._bm25.save(str(staging), show_progress=False)
            meta = {"format": KEYWORD_FORMAT, "chunk_ids": digest(self.chunk_ids), "count": len(self.chunk_ids), "frequency": self._document_frequency}
            (staging / _META).write_text(json.dumps(meta), encoding="utf-8")

        write_folder(folder, fill)

    @classmethod
    def load(cls, folder: Path, chunk_ids: Sequence[str]) -> KeywordIndex | None:
        """The index saved in `folder` if it was built over exactly these chunk ids with this format; else None (build
        it). A damaged or partial folder is None too, never an error: it is rebuilt."""
        import json

        import bm25s

        try:
            meta = json.loads((folder / _META).read_text(encoding="utf-8"))
            if meta.get("format") != KEYWORD_FORMAT or meta.get("count") != len(chunk_ids) or meta.get("chunk_ids") != digest(chunk_ids):
                return None
            bm25 = bm25s.BM25.load(str(folder), mmap=False, show_progress=False)
            frequency = {str(k): int(v) for k, v in meta["frequency"].items()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None
        return cls(chunk_ids, _bm25=bm25, _frequency=frequency)

    def term_weight(self, token: str) -> float:
        """How much a (tokenized) word says about a passage: log(1 + N / df); unseen words weigh the most."""
        count = len(self.chunk_ids)
        return math.log(1 + max(count, 1) / self._document_frequency.get(token, 1))

    def __len__(self) -> int:
        return len(self.chunk_ids)

    def search(self, query: str, k: int, rows: np.ndarray | None = None) -> list[tuple[str, float]]:
        """Top-k (chunk id, BM25 score) pairs, restricted to the chunks at these positions of `chunk_ids` when given."""
        tokens = tokenize(query)
        if self._empty or not tokens or (rows is not None and not len(rows)):
            return []
        scores = np.asarray(self._bm25.get_scores(tokens), dtype=np.float32)
        if rows is not None:
            scores = scores[rows]
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        chosen = top if rows is None else rows[top]
        order = np.lexsort((chosen, -scores[top]))  # best first; equal scores in the chunks' order
        top, chosen = top[order], chosen[order]
        return [(self.chunk_ids[i], float(score)) for i, score in zip(chosen, scores[top], strict=True) if score > 0]
