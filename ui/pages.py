"""A cited paragraph on its page: where its lines lie on the PDF page, and the page as a PNG with them highlighted.

Pure functions over bytes and word boxes, and a small LRU cache; no gradio, and PyMuPDF is imported where a page is
opened (it is heavy, and a text-only deployment never needs it).

Finding the paragraph: the page's words (PyMuPDF's `get_text("words")`, in reading order) and the paragraph are
both reduced to a stream of their letters and digits (NFKC, case-folded), so hyphens broken across lines,
ligatures, curly quotes, bullets and spacing cannot stop a match. The paragraph's stream is anchored in the page's
and followed letter by letter; where the two part (a footnote mark, a running footer, the page ending mid
paragraph) the follow resynchronises on the next few letters a little further on, and stops when it cannot: what
was followed is the part on this page, so a paragraph that continues onto the next page is highlighted as far as
the cited page holds it. Where the follow stops, the rest is anchored again anywhere on the page (table cells
and columns are read in another order than the paragraph joins them). The words that carry the matched letters are grouped into their printed lines, and each
line gives one rectangle.
"""

from __future__ import annotations

import hashlib
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

Rect = tuple[float, float, float, float]  # x0, y0, x1, y1 in PDF points, origin top left

DEFAULT_ZOOM = 1.5  # 893 px across an A4 page: legible in the sources panel and sharp on a 2x phone screen
HIGHLIGHT_RGB = (1.0, 0.82, 0.0)  # a highlighter's yellow, multiplied over the text so the text stays black
ANCHOR_CHARS = 40  # letters of the paragraph looked for at once when anchoring it on the page
MIN_ANCHOR_CHARS = 20  # the shorter piece tried, and the shortest rest of a paragraph anchored again elsewhere
RESYNC_CHARS = 14  # letters looked for again after the page and the paragraph part
PAGE_SKIP_CHARS = 160  # how far on the page a resync may look: a footnote mark, a running header or footer
TEXT_SKIP_CHARS = 24  # how far in the paragraph: letters the stored text has and the page does not

# MuPDF is not thread-safe and PyMuPDF does not support threads ("may crash Python"), while the web server renders
# pages on a pool of threads: one page is opened and rendered at a time (about 60 ms each)
_MUPDF = threading.Lock()


@dataclass(frozen=True)
class WordBox:
    """One word as PyMuPDF places it on the page."""

    x0: float
    y0: float
    x1: float
    y1: float
    text: str
    block: int
    line: int


@dataclass(frozen=True)
class PageMatch:
    """Where a paragraph lies on a page: one rectangle per printed line, and how much of it the page holds."""

    rects: tuple[Rect, ...]
    matched_chars: int
    total_chars: int

    @property
    def fraction(self) -> float:
        return self.matched_chars / self.total_chars if self.total_chars else 0.0


@dataclass(frozen=True)
class PageImage:
    """A rendered page: PNG bytes, its size in pixels, and where the paragraph was found on it."""

    png: bytes
    width: int
    height: int
    match: PageMatch


def letters(text: str) -> str:
    """The letters and digits of a text, NFKC and case-folded: what two renderings of one paragraph share."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", text).casefold() if ch.isalnum())


def word_boxes(raw: Sequence[Sequence[Any]]) -> list[WordBox]:
    """PyMuPDF's word tuples (x0, y0, x1, y1, text, block, line, word) as WordBoxes."""
    return [WordBox(float(w[0]), float(w[1]), float(w[2]), float(w[3]), str(w[4]), int(w[5]), int(w[6])) for w in raw]


def _stream(words: Sequence[WordBox]) -> tuple[str, list[int]]:
    """The page's letters, and for each letter the index of the word it belongs to."""
    chars: list[str] = []
    owners: list[int] = []
    for number, word in enumerate(words):
        for ch in letters(word.text):
            chars.append(ch)
            owners.append(number)
    return "".join(chars), owners


def _anchor(page: str, target: str, start: int = 0) -> tuple[int, int] | None:
    """(position in the target, position on the page) of the first piece of `target[start:]` found on the page,
    walked back over the letters before it that match too. Pieces of 40 letters first, then of 20 (a table row's
    cells are short)."""
    rest = len(target) - start
    if rest < MIN_ANCHOR_CHARS and start > 0:
        return None  # a short tail could match anywhere: the rest of the paragraph is on the next page
    for size in dict.fromkeys((min(ANCHOR_CHARS, rest), min(MIN_ANCHOR_CHARS, rest))):
        for offset in range(start, max(start + 1, len(target) - size + 1), max(1, size // 2)):
            found = page.find(target[offset : offset + size])
            if found >= 0:
                while offset > start and found > 0 and target[offset - 1] == page[found - 1]:
                    offset, found = offset - 1, found - 1
                return offset, found
    return None


def matched_letters(page: str, target: str) -> list[int]:
    """Positions on the page of the target's letters, followed in order from where it is anchored (see the module
    docstring); empty when the target is not on the page.

    Where the follow stops, the rest of the target is anchored again anywhere on the page: the cells of a table row
    or a two-column layout are read in another order than the paragraph joins them."""
    positions: list[int] = []
    i = 0
    while i < len(target):
        anchor = _anchor(page, target, i)
        if anchor is None:
            break  # the rest of the paragraph is not on this page
        i, j = anchor
        while i < len(target):
            while i < len(target) and j < len(page) and target[i] == page[j]:
                positions.append(j)
                i, j = i + 1, j + 1
            if i >= len(target) or j >= len(page):
                break
            piece = target[i : i + RESYNC_CHARS]
            skip = page.find(piece, j, j + PAGE_SKIP_CHARS + len(piece))
            if skip >= 0:
                j = skip
                continue
            ahead = page[j : j + RESYNC_CHARS]
            extra = target.find(ahead, i, i + TEXT_SKIP_CHARS + len(ahead)) if len(ahead) == RESYNC_CHARS else -1
            if extra >= 0:
                i = extra
                continue
            break
    return sorted(set(positions))


def line_rects(words: Sequence[WordBox], chosen: Sequence[int]) -> tuple[Rect, ...]:
    """One rectangle per printed line (PyMuPDF's block and line) around the chosen words, top to bottom."""
    lines: dict[tuple[int, int], list[float]] = {}
    for number in sorted(set(chosen)):
        word = words[number]
        box = lines.get((word.block, word.line))
        if box is None:
            lines[(word.block, word.line)] = [word.x0, word.y0, word.x1, word.y1]
        else:
            box[0], box[1] = min(box[0], word.x0), min(box[1], word.y0)
            box[2], box[3] = max(box[2], word.x1), max(box[3], word.y1)
    rects = [(b[0], b[1], b[2], b[3]) for b in lines.values()]
    return tuple(sorted(rects, key=lambda r: (round(r[1], 1), r[0])))


def find_paragraph(words: Sequence[WordBox], paragraph: str) -> PageMatch:
    """Where the paragraph's text lies among the page's words: its printed lines, as far as this page holds it."""
    target = letters(paragraph)
    page, owners = _stream(words)
    if not target or not page:
        return PageMatch((), 0, len(target))
    positions = matched_letters(page, target)
    return PageMatch(line_rects(words, [owners[p] for p in positions]), len(positions), len(target))


def render_page(pdf: bytes, page_number: int, paragraph: str = "", *, zoom: float = DEFAULT_ZOOM) -> PageImage:
    """Page `page_number` (1-based) of a PDF as a PNG, the paragraph's lines highlighted where it is found.

    The highlights are highlight annotations added to a copy of the document opened from the bytes (never saved),
    so MuPDF blends them like a highlighter pen. Safe to call from several threads (they take turns). Raises
    ValueError for a page the document does not have.
    """
    import pymupdf  # heavy: imported where used

    with _MUPDF, pymupdf.open(stream=pdf, filetype="pdf") as document:
        if not 1 <= page_number <= document.page_count:
            raise ValueError(f"page {page_number} is not in this document of {document.page_count} pages")
        page = document[page_number - 1]
        match = find_paragraph(word_boxes(page.get_text("words")), paragraph) if paragraph else PageMatch((), 0, 0)
        if match.rects:
            annotation = page.add_highlight_annot([pymupdf.Rect(r) for r in match.rects])
            annotation.set_colors(stroke=HIGHLIGHT_RGB)
            annotation.set_opacity(0.45)
            annotation.update()
        pixmap = page.get_pixmap(matrix=pymupdf.Matrix(zoom, zoom), alpha=False)
        return PageImage(pixmap.tobytes("png"), pixmap.width, pixmap.height, match)


def render_bare_page(pdf: bytes, page_number: int, *, zoom: float = DEFAULT_ZOOM) -> bytes:
    """The page as a PNG with nothing found or drawn: the benchmark's baseline."""
    import pymupdf

    with _MUPDF, pymupdf.open(stream=pdf, filetype="pdf") as document:
        return document[page_number - 1].get_pixmap(matrix=pymupdf.Matrix(zoom, zoom), alpha=False).tobytes("png")


# ---- the cache ------------------------------------------------------------------------------------------------

CacheKey = tuple[str, str, int, float, str]


def cache_key(report_id: str, content_hash: str, page_number: int, paragraph: str, zoom: float = DEFAULT_ZOOM) -> CacheKey:
    """What a rendered page depends on: the report and its bytes (by their ingest hash), the page, the zoom and
    the paragraph highlighted (by a digest of its text)."""
    digest = hashlib.sha256(paragraph.encode("utf-8")).hexdigest()[:16]
    return (report_id, content_hash, page_number, zoom, digest)


class PageCache:
    """The most recently rendered pages, in memory, least recently used first out. Thread-safe."""

    def __init__(self, max_pages: int = 64) -> None:
        self.max_pages = max_pages
        self._pages: OrderedDict[CacheKey, PageImage] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: CacheKey) -> PageImage | None:
        with self._lock:
            image = self._pages.get(key)
            if image is not None:
                self._pages.move_to_end(key)
            return image

    def put(self, key: CacheKey, image: PageImage) -> None:
        with self._lock:
            self._pages[key] = image
            self._pages.move_to_end(key)
            while len(self._pages) > self.max_pages:
                self._pages.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:
            return len(self._pages)
