"""Keyword tokens and word families: pure functions."""

from __future__ import annotations

import pytest

from vectorstore.keyword import families, tokenize, word_families


@pytest.mark.parametrize(
    ("words", "same"),
    [
        ("stability stable stabilise stabilised", True),
        ("assessment assessments assessed assess", True),
        ("improvement improved improves", True),
        ("leadership leaders", True),
        ("allocation allocated", True),
        ("placement placements placed", True),
        ("adoption adoptive adopted adopters", True),
        ("exploitation exploited exploit", True),
        ("education educational", True),
        ("independence independent", True),
        ("stable staff", False),
        ("care carers", False),
        ("plan planet", False),
    ],
)
def test_word_families(words: str, same: bool) -> None:
    assert (len(families(words)) == 1) is same


def test_the_keyword_index_keeps_its_own_tokens() -> None:
    """Families are for matching a question's words in a sentence; BM25 still tells "stability" from "stable"."""
    assert tokenize("stability stable") == ["stability", "stable"]


def test_each_token_is_paired_with_its_family() -> None:
    """A question's word is weighed by its keyword token's rarity and matched by its family: the pairs line up, a
    hyphenated word's parts included, stopwords left out."""
    assert word_families("The adoptive child-in-need families") == [
        ("adoptive", "adopt"), ("child-in-ne", "child-in-n"), ("child", "child"), ("need", "need"), ("family", "famili")
    ]
