"""Which reports mention a phrase: every report in scope that uses it, read in full over the real sample index."""

from __future__ import annotations

import re

import pytest

from chatbot.extractive import ExtractiveAnswerer
from chatbot.mentions import find_mentions, mentioned_phrase, phrase_pattern
from chatbot.pipeline import QAPipeline
from core.models import Filters
from core.text import normalise


@pytest.fixture(scope="module")
def pipeline(sample_index) -> QAPipeline:
    return QAPipeline(sample_index, ExtractiveAnswerer(sample_index.embedder))


@pytest.mark.parametrize(
    ("question", "phrase"),
    [
        ("Which reports mention county lines?", "county lines"),
        ("How many inspections refer to Mockingbird?", "Mockingbird"),
        ("Do any letters use the term 'kinship'?", "kinship"),
        ("Which authorities' reports talk about family hubs?", "family hubs"),
        ("Is Lifelong Links mentioned in any report?", "Lifelong Links"),
        ("Find mentions of staying close", "staying close"),
        ("Which reports mention the Family Drug and Alcohol Court?", "Family Drug and Alcohol Court"),  # not "the"
        ('Which reports mention the word "radicalisation" at all?', "radicalisation"),
        # not a question about where words occur
        ("What did inspectors say about county lines?", None),
        ("Which authorities were judged inadequate?", None),
        ("Which reports discuss how leaders respond to concerns about children at risk of being exploited?", None),
    ],
)
def test_mentioned_phrase(question: str, phrase: str | None) -> None:
    assert mentioned_phrase(question) == phrase


@pytest.mark.parametrize(
    ("phrase", "text", "expected"),
    [
        ("county lines", "risks from gangs, 'county lines' and radicalisation", True),
        ("county line", "the county lines model", True),  # the plural of the last word
        ("family hubs", "a new family hub opened", True),  # and the singular
        ("staying put", "staying-put arrangements", True),  # across a hyphen
        ("PA", "Each young person has a PAthway plan", False),  # whole words only
        ("care leaver", "care leavership", False),
    ],
)
def test_phrase_pattern(phrase: str, text: str, expected: bool) -> None:
    assert bool(phrase_pattern(phrase).search(normalise(text))) is expected


def test_every_report_using_the_phrase_is_found_by_reading_it(sample_index) -> None:
    """The answer is checked against a plain read of every paragraph of every report, not against the search."""
    pattern = re.compile(r"private\s+fostering", re.I)
    expected = {r.report_id for r in sample_index.reports() if any(pattern.search(p.text) for p in sample_index.paragraphs(r.report_id))}
    found = find_mentions(sample_index, "private fostering", None)
    assert {m.report.report_id for m in found.detailed} == {r.report_id for r in found.reports} == expected and len(expected) >= 5
    for mention in found.detailed:
        assert pattern.search(mention.sentence) and mention.sentence in mention.paragraphs[0].text
    # counted in full, read in part: the first two by authority and date are read, every one is counted
    some = find_mentions(sample_index, "private fostering", None, detail=2)
    assert len(some.reports) == len(expected) and [m.report for m in some.detailed] == list(some.reports[:2])


def test_which_reports_mention_a_phrase_lists_them_all_each_cited(pipeline: QAPipeline) -> None:
    """"Which reports mention county lines?" was refused: a search by meaning drowned the two words in the framing."""
    answer = pipeline.ask("Which reports mention county lines?")
    assert answer.trace["route"] == "mentions" and not answer.refused
    assert answer.answer.startswith("\u201ccounty lines\u201d appears in 1 of the 14 reports searched, from 1 authority.")
    assert "(and 1 more paragraph)" in answer.answer
    assert [c.report_id for c in answer.citations] == ["buckinghamshire-sif-2018-01-29-txt"]
    assert "county lines" in normalise(answer.citations[0].text)


def test_a_mention_list_counts_every_report_and_quotes_a_finding(pipeline: QAPipeline) -> None:
    answer = pipeline.ask("Which reports use the term 'private fostering'?")
    assert answer.answer.startswith("\u201cprivate fostering\u201d appears in 7 of the 14 reports searched")
    assert len({c.report_id for c in answer.citations}) == 7
    # Trafford's 2024 focused visit lists "The quality of pathway plans" as what it looked at: a finding is quoted instead
    visits = pipeline.ask("Which focused visits mentioned pathway plans?")
    trafford = next(line for line in visits.answer.splitlines() if "Trafford: focused visit" in line)
    assert "The quality of pathway plans [" not in trafford and len(trafford.split(":", 1)[1].split()) > 6


def test_a_mention_list_keeps_to_the_scope_and_says_when_none_uses_the_phrase(pipeline: QAPipeline) -> None:
    answer = pipeline.ask("Which Trafford reports mention county lines?")
    assert answer.refused and answer.trace["refusal"] == "never-mentioned"
    assert "none of the 5 reports searched uses \u201ccounty lines\u201d" in answer.answer
    filtered = pipeline.ask("Which reports mention private fostering?", filters=Filters(local_authorities=("Camden",)))
    assert {c.local_authority for c in filtered.citations} == {"Camden"}
