"""A cited paragraph on its page (ui.pages): found among the page's words, highlighted, rendered and cached.

Real sample PDFs, read by the real ingest (so the paragraphs are the ones the index stores), and real PyMuPDF.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pymupdf
import pytest

from core.models import Paragraph
from ingest.loaders import load_document
from tests.conftest import BUCKS_FV_2021, SAMPLE_REPORTS
from ui.pages import (
    DEFAULT_ZOOM,
    PageCache,
    PageImage,
    PageMatch,
    WordBox,
    cache_key,
    find_paragraph,
    letters,
    render_bare_page,
    render_page,
    word_boxes,
)

TRAFFORD_2026 = SAMPLE_REPORTS / "ilacs_inspection" / "trafford_ilacs_2026-08-03.pdf"
CAMDEN_2025 = SAMPLE_REPORTS / "ilacs_inspection" / "camden_ilacs_2025-04-15.pdf"
BLACKPOOL_2024 = SAMPLE_REPORTS / "area_send_inspection" / "blackpool_area-send_2024-07-25.pdf"


@cache
def paragraphs(pdf: Path) -> tuple[Paragraph, ...]:
    return tuple(load_document(pdf).paragraphs)


def paragraph(pdf: Path, start: str) -> Paragraph:
    return next(p for p in paragraphs(pdf) if p.text.startswith(start))


def words_on(pdf: Path, page: int) -> list[WordBox]:
    with pymupdf.open(pdf) as document:
        return word_boxes(document[page - 1].get_text("words"))


# ---- finding a paragraph on its page ------------------------------------------------------------------------

# (file, paragraph start, page offset from the paragraph's own page, lines, least and most of its letters found)
CASES = [
    # an ordinary paragraph, wholly on its page: one rectangle per printed line, all at the left margin
    (TRAFFORD_2026, "Political and corporate commitment", 0, 6, 1.0, 1.0),
    # a judgement table row: the label's two lines in the left cell and the grade in the right one
    (TRAFFORD_2026, "The impact of leaders on social work", 0, 3, 1.0, 1.0),
    # a bullet that runs from the foot of page 3 onto page 4: five lines here, the rest on the next page
    (BUCKS_FV_2021, "When concerns escalate or children", 0, 5, 0.35, 0.45),
    (BUCKS_FV_2021, "When concerns escalate or children", 1, 8, 0.55, 0.65),
    (CAMDEN_2025, "Support for physical and emotional well-being", 0, 11, 0.65, 0.75),
    # a contact table whose cells the ingest joined with ':', read by PyMuPDF column by column
    (BLACKPOOL_2024, "Victoria Gent, director of children", 0, 5, 0.95, 1.0),
    # a paragraph is not found on a page that does not hold it
    (TRAFFORD_2026, "Political and corporate commitment", 1, 0, 0.0, 0.0),
]


@pytest.mark.parametrize(("pdf", "start", "offset", "lines", "least", "most"), CASES)
def test_a_paragraph_is_found_line_by_line_on_its_page(pdf, start, offset, lines, least, most):
    cited = paragraph(pdf, start)
    match = find_paragraph(words_on(pdf, cited.page + offset), cited.text)
    assert len(match.rects) == lines, match.rects
    assert least <= match.fraction <= most, match.fraction
    tops = [r[1] for r in match.rects]
    assert tops == sorted(tops)  # top to bottom


def test_a_paragraph_across_a_page_break_is_found_whole_between_the_two_pages():
    cited = paragraph(BUCKS_FV_2021, "When concerns escalate or children")
    here = find_paragraph(words_on(BUCKS_FV_2021, cited.page), cited.text)
    there = find_paragraph(words_on(BUCKS_FV_2021, cited.page + 1), cited.text)
    assert here.matched_chars + there.matched_chars >= 0.98 * here.total_chars
    assert min(r[1] for r in here.rects) > 600  # the foot of page 3, where it starts
    assert max(r[3] for r in there.rects) < 300  # the head of page 4, where it ends


def test_every_paragraph_of_a_report_is_found_on_its_page_or_the_next():
    for cited in paragraphs(TRAFFORD_2026):
        if cited.kind not in ("paragraph", "bullet"):
            continue
        here = find_paragraph(words_on(TRAFFORD_2026, cited.page), cited.text)
        there = find_paragraph(words_on(TRAFFORD_2026, cited.page + 1), cited.text) if cited.page < 12 else here
        assert here.rects, cited.text[:60]
        assert here.fraction >= 0.99 or here.matched_chars + there.matched_chars >= 0.95 * here.total_chars, cited.text[:60]


def box(text: str, x0: float, line: int, block: int = 0) -> WordBox:
    top = 100.0 + 14 * line
    return WordBox(x0, top, x0 + 6 * len(text), top + 12, text, block, line)


SENTENCE = [box("Young", 72, 0), box("people’s", 110, 0), box("well-", 170, 0), box("being", 72, 1), box("is", 110, 1), box("good.", 130, 1)]


@pytest.mark.parametrize(
    ("words", "text", "lines", "fraction"),
    [
        # a word hyphenated across two lines, and a curly apostrophe, against the stored text
        (SENTENCE, "Young people's wellbeing is good.", 2, 1.0),
        (SENTENCE, "Young people’s well-being is good.", 2, 1.0),
        # a ligature on the page ("ﬁ") and plain letters in the text
        ([box("The", 72, 0), box("ﬁrst", 100, 0), box("response", 140, 0), box("team", 200, 0), box("works", 240, 0), box("closely", 280, 0), box("with", 330, 0), box("the", 360, 0), box("police.", 390, 0)],
         "The first response team works closely with the police.", 1, 1.0),
        # a footnote mark the stored text does not have, and a running footer between two lines
        ([box("Leaders", 72, 0), box("understand", 130, 0), box("practice", 200, 0), box("well.2", 260, 0), box("Page", 72, 1, 1), box("3", 100, 1, 1), box("They", 72, 2, 2), box("act", 110, 2, 2), box("on", 140, 2, 2), box("what", 160, 2, 2), box("they", 200, 2, 2), box("find", 240, 2, 2)],
         "Leaders understand practice well. They act on what they find", 2, 1.0),
        # not on the page, and nothing to find
        (SENTENCE, "Inspectors saw no evidence of this at all.", 0, 0.0),
        (SENTENCE, "", 0, 0.0),
        ([], "Young people's wellbeing is good.", 0, 0.0),
    ],
    ids=["hyphen-and-apostrophe", "as-printed", "ligature", "footnote-and-footer", "elsewhere", "empty-text", "empty-page"],
)
def test_words_are_matched_whatever_the_typography(words, text, lines, fraction):
    match = find_paragraph(words, text)
    assert len(match.rects) == lines
    assert match.fraction == pytest.approx(fraction)


def test_letters_keep_only_letters_and_digits_case_folded():
    assert letters("Well-being: ‘ﬁrst’ 21+ TEAM") == "wellbeingfirst21team"


# ---- rendering ---------------------------------------------------------------------------------------------


def pixels(png: bytes) -> np.ndarray:
    image = pymupdf.Pixmap(png)
    return np.frombuffer(image.samples, dtype=np.uint8).reshape(image.height, image.width, image.n)


def test_the_page_is_rendered_with_only_the_paragraphs_lines_highlighted():
    cited = paragraph(TRAFFORD_2026, "Political and corporate commitment")
    data = TRAFFORD_2026.read_bytes()
    image = render_page(data, cited.page, cited.text)
    assert image.png.startswith(b"\x89PNG\r\n\x1a\n")
    assert (image.width, image.height) == (893, 1263)  # A4, 595.3 x 841.9 points, at 1.5 pixels a point
    assert len(image.match.rects) == 6
    highlighted, bare = pixels(image.png).astype(int), pixels(render_bare_page(data, cited.page)).astype(int)
    changed = np.argwhere(np.abs(highlighted - bare).sum(axis=2) > 30)
    assert len(changed) > 1000
    # every changed pixel lies within the paragraph's lines (give or take the highlight's rounded ends)
    top = min(r[1] for r in image.match.rects) * DEFAULT_ZOOM - 6
    bottom = max(r[3] for r in image.match.rects) * DEFAULT_ZOOM + 6
    assert top <= changed[:, 0].min() and changed[:, 0].max() <= bottom
    # and it is yellow: red and green kept, blue taken away
    colours = highlighted[changed[:, 0], changed[:, 1]]
    assert colours[:, 2].mean() < colours[:, 0].mean() - 60


def test_a_page_without_a_paragraph_is_the_bare_page():
    data = TRAFFORD_2026.read_bytes()
    assert pixels(render_page(data, 2).png).tolist() == pixels(render_bare_page(data, 2)).tolist()


@pytest.mark.parametrize("page", [0, 13, -1])
def test_a_page_the_report_does_not_have_is_refused(page):
    with pytest.raises(ValueError, match="not in this document of 12 pages"):
        render_page(TRAFFORD_2026.read_bytes(), page, "anything")


def test_pages_rendered_from_several_threads_at_once_are_the_pages_rendered_one_by_one():
    """The web server renders on a pool of threads, and MuPDF is not thread-safe: renders take turns."""
    from concurrent.futures import ThreadPoolExecutor

    jobs = [(pdf, p.page, p.text) for pdf in (TRAFFORD_2026, CAMDEN_2025) for p in paragraphs(pdf)[20:24]]
    one_by_one = [render_page(pdf.read_bytes(), page, text).png for pdf, page, text in jobs]
    with ThreadPoolExecutor(max_workers=4) as pool:
        at_once = list(pool.map(lambda job: render_page(job[0].read_bytes(), job[1], job[2]).png, jobs))
    assert at_once == one_by_one


# ---- the cache ---------------------------------------------------------------------------------------------


def image(tag: bytes) -> PageImage:
    return PageImage(tag, 1, 1, PageMatch((), 0, 0))


def test_the_cache_keeps_the_most_recently_used_pages():
    pages = PageCache(max_pages=2)
    one, two, three = (cache_key("r", "hash", n, "text") for n in (1, 2, 3))
    pages.put(one, image(b"1"))
    pages.put(two, image(b"2"))
    assert pages.get(one) == image(b"1")  # one is now the most recent
    pages.put(three, image(b"3"))  # so two goes
    assert pages.get(two) is None
    assert pages.get(one) == image(b"1") and pages.get(three) == image(b"3")
    assert len(pages) == 2


@pytest.mark.parametrize(
    "other",
    [
        cache_key("trafford", "other-hash", 3, "A paragraph."),  # the file changed and was re-ingested
        cache_key("trafford", "hash", 4, "A paragraph."),
        cache_key("trafford", "hash", 3, "Another paragraph."),
        cache_key("trafford", "hash", 3, "A paragraph.", zoom=2.0),
        cache_key("camden", "hash", 3, "A paragraph."),
    ],
)
def test_a_cache_key_names_everything_the_image_depends_on(other):
    assert cache_key("trafford", "hash", 3, "A paragraph.") != other
    assert cache_key("trafford", "hash", 3, "A paragraph.") == cache_key("trafford", "hash", 3, "A paragraph.")
