"""Keyword tokens and word families: pure functions."""

from __future__ import annotations

import pytest

from vectorstore.keyword import family, tokenize


@pytest.mark.parametrize(
    ("words", "same"),
    [
        ("stability stable stabilise stabilised", True),
        ("assessment assessments assessed assess", True),
        ("improvement improved improves", True),
        ("leadership leaders", True),
        ("allocation allocated", True),
        ("placement placements placed", True),
        ("stable staff", False),
        ("care carers", False),
        ("plan planet", False),
    ],
)
def test_word_families(words: str, same: bool) -> None:
    families = {family(token) for token in tokenize(words)}
    assert (len(families) == 1) is same


def test_the_keyword_index_keeps_its_own_tokens() -> None:
    """Families are for matching a question's words in a sentence; BM25 still tells "stability" from "stable"."""
    assert tokenize("stability stable") == ["stability", "stable"]
