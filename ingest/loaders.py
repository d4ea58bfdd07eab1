"""Files and URLs to `ParsedDocument`s: a report, its metadata and its paragraphs.

Every failure is an `IngestError` naming the file and saying why: corrupt, damaged (truncated or
repaired), encrypted, empty, scanned (no text layer), too large, undecodable, not an Ofsted report, or
a report whose local authority cannot be read.

A report's metadata comes from its text. The file name gives only the report id and a publication date
that the text must bear out (see `ingest.metadata.checked_name_date`).
"""

from __future__ import annotations

import hashlib
import re
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from core.errors import IngestError
from core.models import Paragraph, Report, ReportMetadata
from core.text import slugify
from ingest.blocks import RawParagraph, build_paragraphs, rekey_paragraphs
from ingest.hostile import flag_reader_address
from ingest.metadata import extract_metadata, match_local_authority
from ingest.text_formats import html_to_text, parse_html, parse_markdown, parse_plain_text

# Bump when parsing or chunking changes, so that re-ingesting rebuilds reports instead of skipping them.
PARSER_VERSION = "13"
# A corpus folder's own notes are not reports.
NOT_REPORTS = re.compile(r"^(readme|licen[cs]e|notice|changelog|attribution)\b", re.IGNORECASE)
SUPPORTED_SUFFIXES = (".pdf", ".txt", ".md", ".markdown", ".html", ".htm")
DEFAULT_MAX_BYTES = 200 * 1024 * 1024
_MIN_WORDS = 80  # fewer words than this in a whole document: nothing to cite


@dataclass(frozen=True)
class ParsedDocument:
    """A report read from one file, ready to chunk."""

    report: Report
    paragraphs: list[Paragraph]
    text: str  # the document's raw text, pages separated by form feeds

    @property
    def flagged(self) -> list[Paragraph]:
        """Paragraphs that address the reader instead of reporting: kept, never quoted (ingest.hostile)."""
        return [p for p in self.paragraphs if p.kind == "flagged"]

    def with_report_id(self, report_id: str) -> ParsedDocument:
        """The same document filed under another id (paragraph ids follow the report id)."""
        return ParsedDocument(
            report=replace(self.report, report_id=report_id),
            paragraphs=rekey_paragraphs(self.paragraphs, report_id),
            text=self.text,
        )


def iter_document_paths(root: Path) -> list[Path]:
    """Every supported file under a folder (recursively), or the file itself, in a stable order."""
    if root.is_file():
        return [root]
    if not root.exists():
        raise IngestError(str(root), "no such file or folder")
    return sorted(
        p
        for p in root.rglob("*")
        if p.is_file()
        and p.suffix.lower() in SUPPORTED_SUFFIXES
        and not p.name.startswith(".")
        and not NOT_REPORTS.match(p.name)
    )


def report_id_for(name: str) -> str:
    """A report's id from its file name: the stem, plus the format when it is not a PDF."""
    path = Path(urllib.parse.urlparse(name).path if "://" in name else name)
    stem = slugify(path.stem) or "report"
    suffix = path.suffix.lower().lstrip(".")
    return stem if suffix in ("pdf", "") else f"{stem}-{suffix}"


def _decode(data: bytes, source: str) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise IngestError(source, "text is neither UTF-8 nor Windows-1252; re-save it as UTF-8")


def _read_pdf(data: bytes, source: str, *, accept_damaged: bool = False) -> tuple[str, list[RawParagraph], int]:
    import pymupdf  # heavy: imported where used

    pymupdf.TOOLS.mupdf_warnings()  # clear what earlier files left, so the warnings read below are this file's
    try:
        doc = pymupdf.open(stream=data, filetype="pdf")
    except Exception as error:  # pymupdf raises its own FileDataError and friends
        raise IngestError(source, f"not a readable PDF ({error})") from error
    try:
        if doc.needs_pass:
            raise IngestError(source, "the PDF is encrypted with a password")
        if doc.page_count == 0:
            raise IngestError(source, "the PDF has no pages")
        text = "\f".join(page.get_text() for page in doc.pages())
        damage = pdf_damage(doc.is_repaired, pymupdf.TOOLS.mupdf_warnings())
        if damage and not accept_damaged:
            raise IngestError(
                source, f"the PDF is damaged ({damage}): text may be missing; re-download it, or ingest with --accept-damaged"
            )
        if len(text.split()) < _MIN_WORDS:
            raise IngestError(source, "the PDF has no text layer (scanned?); run OCR first")
        return text, _parse_pdf(doc), doc.page_count
    except IngestError:
        raise
    except Exception as error:
        raise IngestError(source, f"the PDF could not be read ({error})") from error
    finally:
        doc.close()


def pdf_damage(repaired: bool, warnings: str) -> str | None:
    """Why a PDF's structure cannot be trusted, from MuPDF's own account of opening and reading it.

    Damaged: the cross-reference table had to be rebuilt, or a stream or object ended early. None of
    the 679 PDFs in the shared corpus draws either; a truncated download does both. Cosmetic warnings
    (a broken colour profile, say) are not damage.
    """
    serious = [line.strip() for line in warnings.splitlines() if _SERIOUS_PDF_WARNING.search(line)]
    if not repaired and not serious:
        return None
    cause = serious[0] if serious else "its cross-reference table was rebuilt"
    return f"{'repaired on opening: ' if repaired else ''}{cause}"[:160]


_SERIOUS_PDF_WARNING = re.compile(
    r"premature end|truncat|cannot find startxref|missing 'endobj'|object is not a stream|stream length incorrect"
    r"|page tree|cannot load object",
    re.IGNORECASE,
)


def _parse_pdf(doc) -> list[RawParagraph]:
    from ingest.pdf import parse_pdf_pages

    return parse_pdf_pages(doc)


def parse_bytes(
    data: bytes,
    name: str,
    *,
    source: str | None = None,
    url: str | None = None,
    accept_damaged: bool = False,
    authority: str | None = None,
) -> ParsedDocument:
    """Parse one document's bytes; `name` gives the format (its suffix) and the report id.

    `accept_damaged` reads a damaged PDF anyway; `authority` files a report whose text names no local
    authority the reader knows (it never overrides one the text names).
    """
    source = source or name
    if not data.strip():
        raise IngestError(source, "the file is empty")
    suffix = Path(urllib.parse.urlparse(name).path if "://" in name else name).suffix.lower()
    pages = 1
    if suffix == ".pdf" or data[:5] == b"%PDF-":
        text, raw, pages = _read_pdf(data, source, accept_damaged=accept_damaged)
    elif suffix in (".md", ".markdown"):
        text = _decode(data, source)
        raw = parse_markdown(text)
    elif suffix in (".html", ".htm") or data.lstrip()[:15].lower().startswith((b"<!doctype html", b"<html")):
        html = _decode(data, source)
        raw = parse_html(html)
        text = html_to_text(html)
    elif suffix == ".txt":
        text = _decode(data, source)
        if "\x00" in text:
            raise IngestError(source, "binary data in a text file")
        raw = parse_plain_text(text)
    else:
        raise IngestError(source, f"unsupported file type {suffix or '(none)'}; use PDF, TXT, MD or HTML")
    if len(text.split()) < _MIN_WORDS:
        raise IngestError(source, "too little text to be a report")
    metadata = extract_metadata(text, source_name=Path(name).name)
    if metadata.report_type == "other" and not metadata.local_authority and authority is None:
        raise IngestError(source, "does not look like an Ofsted report (no local authority or report type found)")
    if not metadata.local_authority:
        if authority is None:
            raise IngestError(
                source,
                "the report names no English local authority that could be read; if it is one, "
                "ingest it with --authority NAME",
            )
        metadata = replace(metadata, local_authority=canonical_authority(authority))
    report_id = report_id_for(name)
    paragraphs = flag_reader_address(build_paragraphs(report_id, raw))
    if not any(p.kind != "flagged" for p in paragraphs):
        raise IngestError(source, "no paragraphs of text found")
    report = Report(
        report_id=report_id,
        source=source,
        content_hash=hashlib.sha256(data).hexdigest(),
        title=_title(metadata, paragraphs),
        metadata=metadata,
        pages=max(pages, max(p.page for p in paragraphs)),
        url=url,
    )
    return ParsedDocument(report=report, paragraphs=paragraphs, text=text)


def canonical_authority(name: str) -> str:
    """An English local authority's name as the reports spell it, or an IngestError saying it is not one."""
    found = match_local_authority(name.strip().title()) if name.strip() else None
    if found is None:
        raise IngestError(name, "is not the name of an English local authority with children's services")
    return found


def _title(metadata: ReportMetadata, paragraphs: list[Paragraph]) -> str:
    from core.models import REPORT_TYPE_LABELS

    authority = metadata.local_authority or "Unknown authority"
    kind = REPORT_TYPE_LABELS.get(metadata.report_type, "report")
    when = metadata.published.isoformat() if metadata.published else "undated"
    return f"{authority}: {kind}, {when}"


def load_document(
    path: Path,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    urls: Mapping[str, str] | None = None,
    accept_damaged: bool = False,
    authority: str | None = None,
) -> ParsedDocument:
    """Read and parse one local file. `urls` maps file names to their official Ofsted URLs.

    The report's source is the file's absolute path, so links to it work from any working folder.
    """
    path = path.resolve()
    try:
        size = path.stat().st_size
    except OSError as error:
        raise IngestError(str(path), f"cannot read the file ({error.strerror})") from error
    if size > max_bytes:
        raise IngestError(str(path), f"the file is {size / 1e6:.0f} MB, over the {max_bytes / 1e6:.0f} MB limit")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise IngestError(str(path), f"cannot read the file ({error.strerror})") from error
    url = (urls or {}).get(path.name)
    return parse_bytes(data, path.name, source=str(path), url=url, accept_damaged=accept_damaged, authority=authority)


_URL = re.compile(r"^https?://", re.IGNORECASE)


def is_url(value: str) -> bool:
    return bool(_URL.match(value))


def fetch_url(
    url: str,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    timeout_s: float = 60.0,
    accept_damaged: bool = False,
    authority: str | None = None,
) -> ParsedDocument:
    """Download a report from an http(s) URL (the only step that uses the network, and only when asked)."""
    request = urllib.request.Request(url, headers={"User-Agent": "ofsted-qa/0.1"})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310 - http(s) checked above
            data = response.read(max_bytes + 1)
    except Exception as error:
        raise IngestError(url, f"download failed ({error})") from error
    if len(data) > max_bytes:
        raise IngestError(url, f"over the {max_bytes / 1e6:.0f} MB limit")
    name = Path(urllib.parse.urlparse(url).path).name or "report.pdf"
    if "." not in name:
        name += ".pdf"
    return parse_bytes(data, name, source=url, url=url, accept_damaged=accept_damaged, authority=authority)


def read_url_manifest(path: Path | None) -> dict[str, str]:
    """File name to official URL, from a manifest CSV with `document` and `ofsted_file_url` columns."""
    import csv

    if path is None or not path.exists():
        return {}
    with path.open(newline="", encoding="utf-8") as handle:
        return {
            Path(row["document"]).name: row["ofsted_file_url"]
            for row in csv.DictReader(handle)
            if row.get("document") and row.get("ofsted_file_url")
        }
