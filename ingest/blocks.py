"""Turn a report's raw lines into paragraphs: the format-independent half of ingest.

Loaders (PDF, text, Markdown, HTML) produce `RawParagraph`s in reading order, already rejoined across
page breaks; this module numbers them, mends hyphenation, tracks the heading path, drops boilerplate
and gives each a stable id.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from core.models import Paragraph, ParagraphKind
from core.text import normalise, tidy

# A paragraph that starts with Ofsted's own number: "12. Children in care ..." (not "2.1 Adoption").
PARAGRAPH_NUMBER = re.compile(r"^\s*(\d{1,3})\.\s+(?=\S)")
# A bullet glyph: the usual ones; any symbol-font glyph a PDF maps into the Private Use Area (U+F020 to U+F0FF: Wingdings'
# square is U+F06E), never a letter of text; a dash before a space, as text exports draw sub-points ("─ in primary
# schools is 8%").
BULLET = re.compile(
    r"^\s*([\u25fc\u25a0\u25aa\u25cf\u2022\u25e6\u2023\u2043\u2219\u27a2\u25ba\uf020-\uf0ff]|[-*\u2013\u2014\u2015\u2500\u2212\u0336](?=\s))\s*"
)
# Placeholder left where a line ended in a hyphen; resolved once the document's vocabulary is known.
HYPHEN_JOIN = "\u2060-\u2060"
_WORD = re.compile(r"[A-Za-z]+")
_HYPHEN_JOIN_WORDS = re.compile(r"([A-Za-z]+)" + re.escape(HYPHEN_JOIN) + r"([A-Za-z]+)")

# Text that is never part of the findings: the OGL notice, contact details, distribution notes.
BOILERPLATE = re.compile(
    r"|".join(
        [
            r"open government licen[cs]e",
            r"nationalarchives\.gov\.uk",
            r"crown copyright",
            r"psi@nationalarchives",
            r"enquiries@ofsted\.gov\.uk",
            r"piccadilly gate",
            r"textphone",
            r"^t 0300 123",
            r"www\.gov\.uk/ofsted",
            r"store street",
            r"\bm1 2wd\b",
            r"if you would like a copy of this document in a different format",
            r"you can subscribe to (our|ofsted)",
            r"interested in our work",
            r"follow us on twitter",
            r"^this publication is available at",
            r"^this report is available at",
            r"^any enquiries regarding this publication",
            r"^the office for standards in education, children's services and skills \(ofsted\) regulates",
            r"^ofsted will consider any complaints",
            r"^ofsted has published this report",
            r"^ofsted, \w+ gate",
            r"reference no\.? \d",
            r"^no\. \d{6}",
            r"^yours sincerely$",
            r"^dear (mr|mrs|ms|miss|dr|professor|sir|madam)\b[^.]*$",
            r"^(royal exchange buildings|clive house|agora)",
            r"^(telephone|email|t):? ?\+?\d",
        ]
    ),
    re.IGNORECASE,
)


@dataclass
class RawParagraph:
    """A paragraph as a loader found it, before cleaning."""

    text: str
    page: int
    kind: ParagraphKind = "paragraph"
    level: int = 0  # heading level, 1 = top; only for headings


@dataclass
class _HeadingStack:
    entries: list[tuple[int, str]] = field(default_factory=list)

    def push(self, level: int, text: str) -> None:
        while self.entries and self.entries[-1][0] >= level:
            self.entries.pop()
        self.entries.append((level, text))

    def path(self) -> tuple[str, ...]:
        return tuple(text for _, text in self.entries)


def resolve_hyphens(texts: Sequence[str]) -> list[str]:
    """Mend line-end hyphens: keep the hyphen of a compound ("pre-proceedings"), drop one that broke a word.

    A hyphen is dropped only when the joined word appears elsewhere in the document and the hyphenated
    form does not.
    """
    joined = " ".join(texts)
    words = {w.lower() for w in _WORD.findall(joined.replace(HYPHEN_JOIN, " "))}
    hyphenated = {m.group(0).lower() for m in re.finditer(r"[A-Za-z]+-[A-Za-z]+", joined)}

    def mend(match: re.Match[str]) -> str:
        left, right = match.group(1), match.group(2)
        whole = (left + right).lower()
        if whole in words and f"{left}-{right}".lower() not in hyphenated:
            return left + right
        return f"{left}-{right}"

    return [_HYPHEN_JOIN_WORDS.sub(mend, t).replace(HYPHEN_JOIN, "-") for t in texts]


def join_lines(lines: Iterable[str]) -> str:
    """Join wrapped lines with spaces, leaving a placeholder where a line ended in a hyphen."""
    out = ""
    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        if not out:
            out = line
        elif out.endswith("-") and not out.endswith(" -") and line[:1].isalpha():
            out = out[:-1] + HYPHEN_JOIN + line
        else:
            out = f"{out} {line}"
    return out


def is_boilerplate(text: str) -> bool:
    return bool(BOILERPLATE.search(normalise(text)))


def paragraph_id(report_id: str, text: str, occurrence: int) -> str:
    """Stable id from the report and the paragraph's own content (and which repeat of it this is)."""
    digest = hashlib.sha256(f"{report_id}\x00{normalise(text)}\x00{occurrence}".encode()).hexdigest()
    return f"{report_id}:{digest[:16]}"


def rekey_paragraphs(paragraphs: list[Paragraph], report_id: str) -> list[Paragraph]:
    """The paragraphs filed under another report id, with the ids `build_paragraphs` would have given."""
    seen: dict[str, int] = {}
    out = []
    for paragraph in paragraphs:
        key = normalise(paragraph.text)
        occurrence = seen.get(key, 0)
        seen[key] = occurrence + 1
        out.append(
            replace(paragraph, paragraph_id=paragraph_id(report_id, paragraph.text, occurrence), report_id=report_id)
        )
    return out


# A judgement table row read across its two columns out of order, the grade wrapped around the label:
# "Requires improvement Overall effectiveness to be good" (28 ILACS PDFs of 2019-20).
_GRADE_AROUND_LABEL = re.compile(
    r"^(?P<grade>requires improvement|good|outstanding|inadequate)\s+(?P<label>overall effectiveness)\s+(?P<tail>to be good)$"
    r"|^(?P<grade2>requires improvement to be good|good|outstanding|inadequate)\s+(?P<label2>overall effectiveness)$",
    re.IGNORECASE,
)


def _mend_grade_row(text: str) -> str:
    """"Requires improvement Overall effectiveness to be good" -> "Overall effectiveness: Requires improvement to be
    good", as the row reads in the report."""
    match = _GRADE_AROUND_LABEL.match(text)
    if match is None:
        return text
    if match.group("label"):
        return f"{match.group('label')}: {match.group('grade')} {match.group('tail')}"
    return f"{match.group('label2')}: {match.group('grade2')}"


def build_paragraphs(report_id: str, raw: Sequence[RawParagraph]) -> list[Paragraph]:
    """Clean raw paragraphs into citable `Paragraph`s with numbers, heading paths and stable ids."""
    texts = resolve_hyphens([r.text for r in raw])
    headings = _HeadingStack()
    seen: dict[str, int] = {}
    paragraphs: list[Paragraph] = []
    for item, text in zip(raw, texts, strict=True):
        text = _mend_grade_row(tidy(text))
        if not text or is_boilerplate(text):
            continue
        kind = item.kind
        number: int | None = None
        if kind == "heading":
            text = text.rstrip(":").strip()
            headings.push(max(item.level, 1), text)
        else:
            bullet = BULLET.match(text)
            if bullet and len(text) > bullet.end():
                text = text[bullet.end() :].strip()
                kind = "bullet"
            numbered = PARAGRAPH_NUMBER.match(text)
            if numbered and kind != "bullet":
                number = int(numbered.group(1))
                text = text[numbered.end() :].strip()
            if len(_WORD.findall(text)) < 3 and kind != "bullet":
                continue  # page furniture, address lines, stray grades: not findings
        key = normalise(text)
        occurrence = seen.get(key, 0)
        seen[key] = occurrence + 1
        heading_path = headings.path()
        if kind == "heading":
            heading_path = heading_path[:-1]
        paragraphs.append(
            Paragraph(
                paragraph_id=paragraph_id(report_id, text, occurrence),
                report_id=report_id,
                text=text,
                page=item.page,
                order=len(paragraphs),
                kind=kind,
                paragraph_number=number,
                heading_path=heading_path,
            )
        )
    return paragraphs
