"""PDF reports to raw paragraphs, with PyMuPDF's positioned lines.

What this handles, all present in the Ofsted corpus: running headers, footers and page numbers (dropped),
paragraphs and sentences that cross a page break (rejoined), two-column judgement tables (one
paragraph per row, "judgement: grade"), footnotes (kept, after the page's body so they never split
a paragraph), bullets and numbered paragraphs (each its own paragraph), bold headings (with levels).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from ingest.blocks import BULLET, PARAGRAPH_NUMBER, RawParagraph, join_lines

_TERMINAL = re.compile(r"[.!?:;)\u2019'\"]\s*$")
_DIGITS = re.compile(r"\d+")
_MARGIN = 0.095  # share of the page height at top and bottom where running headers and footers live


@dataclass
class Line:
    text: str
    page: int
    x0: float
    y0: float
    x1: float
    y1: float
    size: float
    bold: bool

    @property
    def height(self) -> float:
        return max(self.y1 - self.y0, 1.0)


def _is_bold(span: dict) -> bool:
    return bool(span.get("flags", 0) & 16) or "bold" in str(span.get("font", "")).lower()


def _page_lines(page, number: int) -> list[Line]:
    lines: list[Line] = []
    for block in page.get_text("dict")["blocks"]:
        for line in block.get("lines", []):
            spans = [s for s in line["spans"] if s["text"]]
            if spans:
                # superscript footnote markers ("improve?1") are small digits: not part of the words
                largest = max(s["size"] for s in spans)
                spans = [s for s in spans if not (s["size"] < largest * 0.75 and s["text"].strip().isdigit())]
            if not spans:
                continue
            text = "".join(s["text"] for s in spans)
            visible = [s for s in spans if s["text"].strip()]
            x0, y0, x1, y1 = line["bbox"]
            if not visible:
                lines.append(Line("", number, x0, y0, x1, y1, size=spans[0]["size"], bold=False))
                continue
            size = max(visible, key=lambda s: len(s["text"]))["size"]
            bold = all(_is_bold(s) for s in visible)
            lines.append(Line(text, number, x0, y0, x1, y1, size=round(size, 1), bold=bold))
    return _reading_order(lines)


def _reading_order(lines: list[Line]) -> list[Line]:
    """Top to bottom, then left to right within a row. Lines whose tops differ by a point or two share a row:
    a paragraph number set in a smaller font ("44.") sits a point below its text and must still come first."""
    lines = sorted(lines, key=lambda ln: (ln.y0, ln.x0))
    rows: list[list[Line]] = []
    for line in lines:
        if rows and line.y0 - rows[-1][0].y0 < 2.5:
            rows[-1].append(line)
        else:
            rows.append([line])
    return [line for row in rows for line in sorted(row, key=lambda ln: ln.x0)]


def _furniture_keys(pages: list[list[Line]], heights: list[float]) -> set[str]:
    """Texts (digits masked) that recur in the top or bottom margin of many pages: running headers/footers."""
    counts: Counter[str] = Counter()
    for lines, height in zip(pages, heights, strict=True):
        keys = {
            _DIGITS.sub("#", ln.text.strip().lower())
            for ln in lines
            if ln.text.strip() and (ln.y1 < height * _MARGIN * 1.3 or ln.y0 > height * (1 - _MARGIN * 1.3))
        }
        counts.update(keys)
    threshold = max(2, int(len(pages) * 0.4))
    return {key for key, n in counts.items() if n >= threshold}


def _is_furniture(line: Line, height: float, keys: set[str]) -> bool:
    text = line.text.strip()
    in_margin = line.y1 < height * _MARGIN * 1.3 or line.y0 > height * (1 - _MARGIN * 1.3)
    if not in_margin:
        return False
    if _DIGITS.sub("#", text.lower()) in keys:
        return True
    return bool(re.fullmatch(r"(page )?\d{1,3}( of \d{1,3})?", text.lower()))


def _body_size(pages: list[list[Line]]) -> float:
    sizes: Counter[float] = Counter()
    for lines in pages:
        for ln in lines:
            sizes[ln.size] += len(ln.text.strip())
    return sizes.most_common(1)[0][0] if sizes else 12.0


def _table_rows(lines: list[Line], left: float) -> tuple[list[RawParagraph], set[int]]:
    """Find two-column tables (lines with another line beside them on the same baseline) and join each row.

    Rows are the table's vertically contiguous bands of lines, so that a cell wrapping onto a second line
    ("Requires improvement" / "to be good") or a grade set between the two lines of its label stays in its
    row. Within a band, a capitalised pair of cells on one baseline starts a new row (tables set without
    space between their rows).
    """
    used: set[int] = set()
    rows: list[RawParagraph] = []
    right_cells = [
        i
        for i, ln in enumerate(lines)
        if ln.text.strip()
        and ln.x0 > left + 120
        and any(
            j != i and other.text.strip() and other.x1 < ln.x0 and abs(other.y0 - ln.y0) < 3
            for j, other in enumerate(lines)
        )
    ]
    if len(right_cells) < 2:
        return rows, used
    column_x = min(lines[i].x0 for i in right_cells)
    cells = sorted(
        (i for i, ln in enumerate(lines) if ln.text.strip() and (ln.x0 >= column_x - 2 or ln.x1 < column_x + 2)),
        key=lambda i: (lines[i].y0, lines[i].x0),
    )
    groups: list[list[int]] = []
    bottom = 0.0
    for i in cells:
        line = lines[i]
        if not groups or line.y0 - bottom > line.height * 0.3:
            groups.append([i])
            bottom = line.y1
        else:
            groups[-1].append(i)
            bottom = max(bottom, line.y1)
    starts = set(right_cells)
    with_start = [n for n, group in enumerate(groups) if starts & set(group)]
    table = groups[with_start[0] : with_start[-1] + 1]
    split: list[list[int]] = []
    for group in table:
        # rows set without space between them: a pair of cells on one baseline starts a row, unless it reads
        # as the wrapped continuation of the row above ("and protection" beside "to be good")
        edges = sorted(
            lines[i].y0 - 2
            for i in starts & set(group)
            if lines[i].text.strip()[:1].isupper() or lines[i].text.strip()[:1].isdigit()
        )[1:]
        bounds = [float("-inf"), *edges, float("inf")]
        split.extend(
            [j for j in group if bounds[n] <= lines[j].y0 < bounds[n + 1]] for n in range(len(bounds) - 1)
        )
    for group in split:
        in_order = sorted(group, key=lambda j: lines[j].y0)
        label = join_lines(lines[j].text for j in in_order if lines[j].x0 < column_x - 2)
        value = join_lines(lines[j].text for j in in_order if lines[j].x0 >= column_x - 2)
        if not (label and value):
            continue  # a caption or heading beside the table, not a row: it stays in the text
        used.update(group)
        if not (label.lower().startswith("judgement") and value.lower().startswith("grade")):
            rows.append(RawParagraph(f"{label}: {value}", lines[in_order[0]].page, "paragraph"))
    return rows, used


@dataclass
class _Open:
    """The paragraph being built."""

    lines: list[Line]
    kind: str

    @property
    def last(self) -> Line:
        return self.lines[-1]


# A paragraph number set apart from its text ("4." in the margin, the text beside it on the same row).
_NUMBER_ONLY = re.compile(r"^\d{1,3}\.$")


def _starts_item(text: str) -> bool:
    return bool(BULLET.match(text) or PARAGRAPH_NUMBER.match(text) or _NUMBER_ONLY.match(text))


def parse_pdf_pages(doc) -> list[RawParagraph]:
    """Raw paragraphs of a PyMuPDF document, in reading order, rejoined across page breaks."""
    pages = [_page_lines(page, n + 1) for n, page in enumerate(doc)]
    heights = [page.rect.height for page in doc]
    keys = _furniture_keys(pages, heights)
    body_size = _body_size(pages)
    text_lines = [ln for lines in pages for ln in lines if ln.text.strip()]
    left = min((ln.x0 for ln in text_lines), default=72.0)

    out: list[RawParagraph] = []
    page_footnotes: list[RawParagraph] = []
    current: _Open | None = None
    continuation_x: float | None = None  # x of wrapped lines of the open paragraph

    def close() -> None:
        nonlocal current, continuation_x
        if current is not None:
            text = join_lines(ln.text for ln in current.lines)
            if text.strip():
                kind = "heading" if current.kind == "heading" else "paragraph"
                level = _heading_level(current.lines[0], body_size) if kind == "heading" else 0
                out.append(RawParagraph(text, current.lines[0].page, kind, level))  # type: ignore[arg-type]
        current = None
        continuation_x = None

    for lines, height in zip(pages, heights, strict=True):
        body = [ln for ln in lines if not _is_furniture(ln, height, keys)]
        # footnotes: small text at the foot of the page, kept apart so they never split a paragraph
        footnotes = [
            ln
            for ln in body
            if ln.text.strip() and ln.size < body_size - 1.5 and ln.y0 > height * 0.6 and not ln.bold
        ]
        footnote_ids = {id(ln) for ln in footnotes}
        body = [ln for ln in body if id(ln) not in footnote_ids]
        rows, used = _table_rows(body, left)
        table_top = min((body[i].y0 for i in used), default=None)
        body = [ln for i, ln in enumerate(body) if i not in used]
        first_on_page = True
        emitted_rows = False
        previous: Line | None = None
        for line in body:
            text = line.text.strip()
            if rows and not emitted_rows and table_top is not None and line.y0 > table_top:
                close()
                out.extend(rows)
                emitted_rows = True
            if not text:
                # an empty line is how Word spaces paragraphs: it ends the open one (but not in the margins,
                # where empty lines belong to the running footer)
                in_margin = line.y0 > height * (1 - _MARGIN * 1.3) or line.y1 < height * _MARGIN * 1.3
                if previous is not None and not in_margin is not None and line.y0 - previous.y1 < previous.height * 2:
                    close()
                continue
            is_heading = _is_heading(line, body_size)
            new_paragraph = True
            if current is not None:
                if first_on_page:
                    new_paragraph = not _continues_across_page(current, line, is_heading, continuation_x)
                elif is_heading and current.kind == "heading":
                    new_paragraph = line.y0 - current.last.y1 > line.height * 0.8 or line.size != current.last.size
                elif is_heading or current.kind == "heading":
                    new_paragraph = True
                elif _starts_item(text):
                    new_paragraph = True
                else:
                    gap = line.y0 - current.last.y1
                    new_paragraph = gap > min(line.height, current.last.height) * 0.45
            if new_paragraph:
                close()
                current = _Open([line], "heading" if is_heading else "paragraph")
            else:
                assert current is not None
                current.lines.append(line)
                if len(current.lines) >= 2 and continuation_x is None and line.page == current.lines[0].page:
                    continuation_x = line.x0
            previous = line
            first_on_page = False
        if rows and not emitted_rows:
            close()
            out.extend(rows)
        if footnotes:
            # footnotes go after the report's flow, so a paragraph open at the foot of the page stays whole
            pending = RawParagraph(join_lines(ln.text for ln in footnotes), footnotes[0].page, "footnote")
            page_footnotes.append(pending)
    close()
    out.extend(page_footnotes)
    return out


def _is_heading(line: Line, body_size: float) -> bool:
    text = line.text.strip()
    if _starts_item(text) and line.size <= body_size + 0.5:
        return False
    if line.size >= body_size * 1.4 and len(text) < 160:
        return True
    return line.bold and line.size >= body_size - 0.5 and len(text) < 160


def _heading_level(line: Line, body_size: float) -> int:
    if line.size >= body_size * 1.6:
        return 1
    if line.size > body_size + 0.5:
        return 2
    return 3


def _continues_across_page(current: _Open, line: Line, is_heading: bool, continuation_x: float | None) -> bool:
    """Whether the first line of a page carries on the paragraph left open at the foot of the last one."""
    text = line.text.strip()
    if current.kind == "heading":
        return is_heading and not _TERMINAL.search(current.last.text)
    if is_heading or _starts_item(text):
        return False
    last = current.last.text.rstrip()
    if not _TERMINAL.search(last):
        return True  # the sentence is unfinished
    if text[:1].islower():
        return True
    first_x = current.lines[0].x0
    if continuation_x is not None and abs(continuation_x - first_x) > 3:
        # numbered paragraphs and bullets hang: wrapped lines sit right of the first
        return abs(line.x0 - continuation_x) < 3
    # a finished sentence followed by a capital at the same indent: most likely a new paragraph
    return False
