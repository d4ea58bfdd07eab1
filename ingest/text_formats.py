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


# A SIF report's judgement sentences: "Children's services in Barnet are inadequate", "The overall judgement is that
# children's services require" / "improvement", "The Local Safeguarding Children Board is good".
_JUDGEMENT_SUBJECT = re.compile(
    r"^(?:children['\u2019]s services in\b|the overall judgement is\b|the (?:local safeguarding children board|lscb)\b"
    r"|the effectiveness of the (?:local safeguarding children board|lscb)\b)",
    re.IGNORECASE,
)
_GRADE_SENTENCE_END = re.compile(r"\b(?:outstanding|good|inadequate|improvement)(?: because)?[.:]?$", re.IGNORECASE)


def _judgement_sentence(lines: list[str], start: int) -> tuple[str, int] | None:
    """A judgement sentence wrapped over up to three short lines, as one line, and the index after it; None when the
    line does not open one or no grade is in it. A sentence and not a heading: it states the grade."""
    line = lines[start].strip()
    if len(line) > 90 or not _JUDGEMENT_SUBJECT.match(line) or re.search(r"[.!?:;]\s+\S", line):
        return None  # a line that goes on past its sentence opens a paragraph of findings
    parts, end = [line], start + 1
    for _ in range(2):
        following = next((k for k in range(end, min(len(lines), end + 2)) if lines[k].strip()), None)
        if following is None:
            break
        text = lines[following].strip()
        if text.lower().rstrip(".:") not in _GRADE_PIECES and not (text[:1].islower() and len(text) <= 40):
            break
        parts.append(text)
        end = following + 1
        if _TERMINAL.search(text):
            break
    joined = " ".join(parts)
    return (joined, end) if _GRADE_SENTENCE_END.search(joined) else None


# A line that gives a grade ("The graded judgement for adoption performance is that it is good", "Leadership, management
# and governance are good"): a sentence to cite, even where the report sets it as a sub-heading.
_STATES_GRADE = re.compile(r"\b(?:is|are)\b.*\b(?:outstanding|good|inadequate|improvement)$", re.IGNORECASE)


def _looks_like_heading(line: str, following: str | None) -> bool:
    stripped = line.strip()
    if not re.search(r"[A-Za-z]{2}", stripped) or _TERMINAL.search(stripped) or len(stripped) > 90:
        return False
    if BULLET.match(stripped) or PARAGRAPH_NUMBER.match(stripped):
        return False
    words = stripped.split()
    if len(words) > 12 or _STATES_GRADE.search(stripped):
        return False
    # a short unpunctuated line followed by a capitalised line, a numbered paragraph or a bullet ("Inspection
    # findings" / "11. The local authority has ...") reads as a heading
    following = (following or "").strip()
    return not following or following[:1].isupper() or bool(PARAGRAPH_NUMBER.match(following) or BULLET.match(following))


# The sections of a SIF export that hold the others' findings: its judgement sections (with or without their grade
# beside the heading) and its framing sections. Other headings ("Summary", "Inspection findings", "The LSCB") sit
# under the last of these, so a finding's heading path names the judgement it belongs to.
_TOP_SECTION = re.compile(
    r"^(?:contents|executive summary|summary of (?:key )?findings|summary for children|areas for improvement|recommendations"
    r"|inspection findings\s*[\u2013-]\s*the (?:local safeguarding|lscb)"
    r"|information about (?:this|the) (?:local authority|inspection)|inspection judgements? about the local authority"
    r"|the inspection team|what the inspection judge?ments mean|section \d\b"
    r"|the experiences and progress of children (?:who need help|looked after)|leadership, management and governance"
    r"|review of the effectiveness of the local safeguarding|the effectiveness of the (?:local safeguarding|lscb))",
    re.IGNORECASE,
)


def _heading_level(text: str) -> int:
    """1 for a section of `_TOP_SECTION`, else 2."""
    return 1 if _TOP_SECTION.match(text) else 2


def parse_plain_text(text: str) -> list[RawParagraph]:
    """Raw paragraphs of a line-wrapped text export.

    A paragraph ends where a line finishes a sentence well short of the wrap width; a blank line
    (a page break in these exports) ends one only if the sentence before it is finished.
    """
    lines = text.replace("\f", "\n\n").splitlines()
    width = _wrap_width(lines)  # of the export's own lines, before table rows are joined
    raw_lines, rows, graded_headings = _table_rows(lines)
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
        if index in rows or index in graded_headings:  # a judgement table row is a paragraph, a graded heading a heading
            close()
            out.append(RawParagraph(stripped, page, "heading", 1) if index in graded_headings else RawParagraph(stripped, page))
            continue
        following = next((ln for ln in raw_lines[index + 1 : index + 3] if ln.strip()), None)
        starts_item = bool(BULLET.match(stripped) or PARAGRAPH_NUMBER.match(stripped))
        if starts_item:
            close()
        elif not current and _looks_like_heading(stripped, following) and len(stripped) < width * 0.8:
            out.append(RawParagraph(stripped, page, "heading", _heading_level(stripped)))
            continue
        current.append(stripped)
        length = len(line.rstrip())
        if (_TERMINAL.search(stripped) and length < width * 0.82) or length < width * 0.55:
            close()
    close()
    return _grade_rows(out)


_TABLE_LABEL = re.compile(r"^\d(?:\.\d)?\.?\s+[A-Z]")


def _table_rows(lines: list[str]) -> tuple[list[str], set[int], set[int]]:
    """A SIF export's numbered judgement table, one row a line: "2. Children looked after and achieving" /
    "permanence" / "requires improvement to" / "be good" becomes "2. Children looked after and achieving
    permanence: requires improvement to be good". A numbered line is a row only when a grade follows within
    two lines of label. Section headings with their grade are put together too (`_graded_heading`). Returns the
    lines and the positions of the rows and of the graded headings among them."""
    out: list[str] = []
    rows: set[int] = set()
    headings: set[int] = set()
    index = 0
    readers = ((_table_row, rows), (_judgement_sentence, rows), (_graded_heading, headings))
    while index < len(lines):
        for read, marks in readers:
            found = read(lines, index)
            if found is not None:
                text, index = found
                marks.add(len(out))
                out.extend([text, ""])
                break
        else:
            out.append(lines[index])
            index += 1
    return out, rows, headings


# A label that ends like this is a sentence going on to its grade, not a heading or a table row.
_SENTENCE_END = re.compile(r"\b(?:is|are|was|were|be|been|as|it)\s*$", re.IGNORECASE)

# The pieces a grade is wrapped into when it sits in a column beside a wrapped heading.
_GRADE_PIECES = frozenset(
    ["outstanding", "good", "inadequate", "requires", "improvement", "requires improvement", "to be good", "be good",
     "requires improvement to", "improvement to be good", "improvement to", "requires improvement to be good"]
)


def _graded_heading(lines: list[str], start: int) -> tuple[str, int] | None:
    """A section heading of a SIF export with its grade: "The experiences and progress of" / "children who need help
    and" / "protection" / "Requires improvement", or with the grade column interleaved ("The experiences and progress
    of" / "Requires" / "children who need help and protection" / "improvement"), becomes "The experiences and progress
    of children who need help and protection: Requires improvement". None unless a whole grade is found."""
    first = lines[start].strip()
    if not first[:1].isupper() or not _heading_line(first) or first.lower() in _GRADE_PIECES:
        return None
    label, grade, end = [first], [], start + 1
    for k in range(start + 1, min(len(lines), start + 9)):
        text = lines[k].strip()
        if not text:
            continue
        if text.lower().rstrip(".") in _GRADE_PIECES:
            grade.append(text.rstrip("."))
        elif text[:1].islower() and _heading_line(text):
            label.append(text)
        else:
            break
        end = k + 1
    joined = " ".join(grade)
    if not grade or not _GRADE_ONLY.match(joined) or _SENTENCE_END.search(label[-1]):
        return None  # "The graded judgement for adoption performance is that it is" / "good.": a sentence, left as it is
    return f"{' '.join(label)}: {joined}", end


def _table_row(lines: list[str], start: int) -> tuple[str, int] | None:
    """The row starting at `start` and the index after it, or None when the line opens no row (a numbered label with
    a grade within two lines of label)."""
    first = lines[start].strip()
    if not _TABLE_LABEL.match(first) or len(first) > 90:
        return None
    following = [k for k in range(start + 1, min(len(lines), start + 10)) if lines[k].strip()]
    label = [lines[start].strip()]
    for position, k in enumerate(following[:3]):
        line = lines[k].strip()
        for width in (1, 2):  # a grade may wrap: "requires improvement to" / "be good"
            parts = [lines[j].strip() for j in following[position : position + width]]
            if len(parts) == width and _GRADE_ONLY.match(" ".join(parts)):
                end = following[position + width - 1] + 1
                return f"{' '.join(label)}: {' '.join(parts).rstrip('.')}", end
        if _TABLE_LABEL.match(line) or len(line) > 60 or position == 2:
            return None
        label.append(line)
    return None


# A line that is only a grade: the second column of a SIF export's judgement table.
_GRADE_ONLY = re.compile(r"^(?:outstanding|good|requires? improvement(?: to be good)?|inadequate)\.?$", re.IGNORECASE)


_COLUMN_HEADS = re.compile(r"^(?:key judgements?|judgement grades?|judgements?|grades?)$", re.IGNORECASE)


def _heading_line(line: str) -> bool:
    """A line that can be part of a wrapped heading: short, unfinished, not a bullet or numbered paragraph."""
    text = line.strip()
    return (
        len(text) <= 70
        and not _COLUMN_HEADS.match(text)
        and not re.search(r"[.!?;:,]\s*$", text)
        and not BULLET.match(text)
        and not PARAGRAPH_NUMBER.match(text)
    )


def _grade_rows(paragraphs: list[RawParagraph]) -> list[RawParagraph]:
    """A grade left on a paragraph of its own (one the line-level passes did not place): after a heading it is that
    heading's verdict ("...: Requires improvement", as the PDFs print it); after a short label it completes a table
    row ("Leadership, management and governance: Good"). Apart, the grade was a stray word no citation could use."""
    out: list[RawParagraph] = []
    for paragraph in paragraphs:
        text = paragraph.text.strip()
        previous = out[-1] if out else None
        if (
            _GRADE_ONLY.match(text)
            and previous is not None
            and len(previous.text) <= 120
            and not _GRADE_ONLY.match(previous.text.strip())
            and not re.search(r"[.!?;:]\s*$", previous.text)
            and not _SENTENCE_END.search(previous.text)
            and not _COLUMN_HEADS.match(previous.text.strip())
        ):
            joined = f"{previous.text.strip()}: {text.rstrip('.')}"
            heading = previous.kind == "heading"
            out[-1] = RawParagraph(joined, previous.page, "heading", previous.level) if heading else RawParagraph(joined, previous.page)
            continue
        out.append(paragraph)
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
