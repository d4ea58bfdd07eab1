"""Plain text, Markdown and HTML reports to raw paragraphs.

Text exports of Ofsted reports (the SIF `.txt` files) wrap lines at a fixed width, mark page breaks
with blank lines and do not separate paragraphs at all; Markdown exports separate paragraphs with blank
lines and show a page break as a blank line inside a bullet; HTML has its own blocks.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from ingest.blocks import BULLET, PARAGRAPH_NUMBER, RawParagraph, join_lines

_TERMINAL = re.compile(r"[.!?:;)\u2019'\"]\s*$")
_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
_MD_BULLET = re.compile(r"^\s*[-*+]\s+")
_MD_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_MD_EMPHASIS = re.compile(r"(\*\*|__|\*|_)(?=\S)(.+?)(?<=\S)\1")
_PAGE_NUMBER = re.compile(r"^\s*(page\s+)?\d{1,3}(\s+of\s+\d{1,3})?\s*$", re.IGNORECASE)


def _strip_markdown(text: str) -> str:
    text = _MD_LINK.sub(r"\1", text)
    text = _MD_EMPHASIS.sub(r"\2", text)
    return text.replace("\\", "")


def _continues(previous: str, following: str) -> bool:
    """Whether a block after a page-break blank line carries on the previous one."""
    following = following.lstrip()
    if not following or BULLET.match(following) or PARAGRAPH_NUMBER.match(following) or following.startswith("#"):
        return False
    return not _TERMINAL.search(previous) or following[:1].islower()


def parse_markdown(text: str) -> list[RawParagraph]:
    """Raw paragraphs of a Markdown export; a blank line inside an unfinished sentence is a page break."""
    blocks: list[tuple[str, str, int]] = []  # (kind, text, level)
    for chunk in re.split(r"\n\s*\n", text):
        lines = [ln for ln in chunk.splitlines() if ln.strip()]
        if not lines:
            continue
        current: list[str] = []
        kind = "paragraph"

        def flush() -> None:  # called within the iteration that fills `current`: late binding is intended
            if current:  # noqa: B023
                blocks.append((kind, _strip_markdown(join_lines(current)), 0))  # noqa: B023

        for line in lines:
            heading = _MD_HEADING.match(line)
            if heading:
                flush()
                current = []
                blocks.append(("heading", _strip_markdown(heading.group(2)).strip(), len(heading.group(1))))
                kind = "paragraph"
            elif _MD_BULLET.match(line):
                flush()
                current = ["\u2022 " + _MD_BULLET.sub("", line)]
                kind = "paragraph"
            else:
                current.append(line)
        flush()
    merged: list[tuple[str, str, int]] = []
    for kind, body, level in blocks:
        if merged and kind == "paragraph" and merged[-1][0] == "paragraph" and _continues(merged[-1][1], body):
            merged[-1] = ("paragraph", f"{merged[-1][1]} {body}", 0)
        else:
            merged.append((kind, body, level))
    return [RawParagraph(body, 1, "heading" if kind == "heading" else "paragraph", level) for kind, body, level in merged]


def _wrap_width(lines: list[str]) -> int:
    lengths = sorted(len(ln.rstrip()) for ln in lines if ln.strip())
    if not lengths:
        return 80
    return lengths[int(len(lengths) * 0.9)]


def _looks_like_heading(line: str, following: str | None) -> bool:
    stripped = line.strip()
    if not stripped or _TERMINAL.search(stripped) or len(stripped) > 90:
        return False
    if BULLET.match(stripped) or PARAGRAPH_NUMBER.match(stripped):
        return False
    words = stripped.split()
    if len(words) > 12:
        return False
    # a short unpunctuated line followed by a capitalised line reads as a heading
    return following is None or following.strip()[:1].isupper() or following.strip() == ""


def parse_plain_text(text: str) -> list[RawParagraph]:
    """Raw paragraphs of a line-wrapped text export.

    A paragraph ends where a line finishes a sentence well short of the wrap width; a blank line
    (a page break in these exports) ends one only if the sentence before it is finished.
    """
    raw_lines = text.replace("\f", "\n\n").splitlines()
    width = _wrap_width(raw_lines)
    page = 1
    out: list[RawParagraph] = []
    current: list[str] = []
    blank_before = False

    def close() -> None:
        nonlocal current
        if current:
            out.append(RawParagraph(join_lines(current), page))
        current = []

    for index, line in enumerate(raw_lines):
        stripped = line.strip()
        if not stripped:
            blank_before = True
            continue
        if _PAGE_NUMBER.match(stripped):
            page += 1
            continue
        # a page break inside a sentence follows a full-width line; after a short one the paragraph had ended
        if blank_before and current and (len(current[-1]) < width * 0.75 or not _continues(current[-1], stripped)):
            close()
        blank_before = False
        following = next((ln for ln in raw_lines[index + 1 : index + 3] if ln.strip()), None)
        starts_item = bool(BULLET.match(stripped) or PARAGRAPH_NUMBER.match(stripped))
        if starts_item:
            close()
        elif not current and _looks_like_heading(stripped, following) and len(stripped) < width * 0.8:
            out.append(RawParagraph(stripped, page, "heading", 2))
            continue
        current.append(stripped)
        length = len(line.rstrip())
        if (_TERMINAL.search(stripped) and length < width * 0.82) or length < width * 0.55:
            close()
    close()
    return out


class _HTMLBlocks(HTMLParser):
    BLOCKS = {"p", "li", "div", "td", "th", "br", "tr", "section", "article", "blockquote"}
    HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
    SKIP = {"script", "style", "nav", "footer", "header", "noscript", "template"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[RawParagraph] = []
        self.buffer: list[str] = []
        self.heading_level = 0
        self.bullet = False
        self.skipping = 0

    def _flush(self) -> None:
        text = " ".join("".join(self.buffer).split())
        self.buffer = []
        if not text:
            return
        if self.heading_level:
            self.out.append(RawParagraph(text, 1, "heading", self.heading_level))
        else:
            self.out.append(RawParagraph(("\u2022 " if self.bullet else "") + text, 1))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in self.HEADINGS:
            self._flush()
            self.heading_level = self.HEADINGS[tag]
        elif tag in self.BLOCKS:
            self._flush()
            self.bullet = tag == "li"

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self.HEADINGS:
            self._flush()
            self.heading_level = 0
        elif tag in self.BLOCKS:
            self._flush()
            self.bullet = False

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.buffer.append(data)

    def close(self) -> None:
        super().close()
        self._flush()


def parse_html(text: str) -> list[RawParagraph]:
    """Raw paragraphs of an HTML page: headings, paragraphs and list items; scripts and navigation dropped."""
    parser = _HTMLBlocks()
    parser.feed(text)
    parser.close()
    return parser.out


def html_to_text(text: str) -> str:
    """The visible text of an HTML page, one block a line (for metadata extraction)."""
    return "\n".join(p.text for p in parse_html(text))
