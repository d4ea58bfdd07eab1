"""Report metadata read from the text of an Ofsted children's services report.

`extract_metadata` is a pure function: it takes a document's whole text (PDF pages joined
with form feeds, or a .txt/.md export) and returns a `ReportMetadata`. It reads everything
from the text; the file name is used only as a last resort for the publication date
(ILACS and area SEND reports print none; Ofsted's listing gives it and our file names end
with it), and only where it falls after the visit the text gives (`checked_name_date`). It never raises: odd input gives a `ReportMetadata` with what could be found.

Layouts it knows (see /work/shared/corpus/README.md):

- ILACS inspections: a title "Inspection of X local authority children's services" (or,
  2018-19, the authority's name over "Inspection of children's social care services"),
  "Inspection dates:", "Lead inspector:" and a two-column judgement table.
- Focused-visit and monitoring-visit letters: letter date, address block, a subject line
  "Focused visit to X children's services", then "This letter summarises the findings
  ... on <dates>" and the inspectors' names.
- SIF inspections (2014-18, text already extracted): the council's name, "Inspection date:",
  "Report published:", an overall judgement sentence and a numbered judgement list.
- Area SEND inspections: "Area SEND inspection of X Local Area Partnership" and an outcome.
- 2013 looked-after children inspections and an LSCB review.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections import deque
from collections.abc import Iterator
from datetime import date

from core.models import Judgement, ReportMetadata

# England's 153 local authorities with children's services duties, spelt as the shared
# corpus manifest (and Ofsted's provider lookup) spells them.
LOCAL_AUTHORITIES: tuple[str, ...] = (
    "Barking and Dagenham",
    "Barnet",
    "Barnsley",
    "Bath and North East Somerset",
    "Bedford Borough",
    "Bexley",
    "Birmingham",
    "Blackburn with Darwen",
    "Blackpool",
    "Bolton",
    "Bournemouth, Christchurch and Poole",
    "Bracknell Forest",
    "Bradford",
    "Brent",
    "Brighton and Hove",
    "Bristol, City of",
    "Bromley",
    "Buckinghamshire",
    "Bury",
    "Calderdale",
    "Cambridgeshire",
    "Camden",
    "Central Bedfordshire",
    "Cheshire East",
    "Cheshire West and Chester",
    "City of London",
    "Cornwall",
    "Coventry",
    "Croydon",
    "Cumberland",
    "Darlington",
    "Derby",
    "Derbyshire",
    "Devon",
    "Doncaster",
    "Dorset",
    "Dudley",
    "Durham",
    "Ealing",
    "East Riding of Yorkshire",
    "East Sussex",
    "Enfield",
    "Essex",
    "Gateshead",
    "Gloucestershire",
    "Greenwich",
    "Hackney",
    "Halton",
    "Hammersmith and Fulham",
    "Hampshire",
    "Haringey",
    "Harrow",
    "Hartlepool",
    "Havering",
    "Herefordshire",
    "Hertfordshire",
    "Hillingdon",
    "Hounslow",
    "Isle of Wight",
    "Isles of Scilly",
    "Islington",
    "Kensington and Chelsea",
    "Kent",
    "Kingston Upon Hull, City of",
    "Kingston upon Thames",
    "Kirklees",
    "Knowsley",
    "Lambeth",
    "Lancashire",
    "Leeds",
    "Leicester",
    "Leicestershire",
    "Lewisham",
    "Lincolnshire",
    "Liverpool",
    "Luton",
    "Manchester",
    "Medway",
    "Merton",
    "Middlesbrough",
    "Milton Keynes",
    "Newcastle upon Tyne",
    "Newham",
    "Norfolk",
    "North East Lincolnshire",
    "North Lincolnshire",
    "North Northamptonshire",
    "North Somerset",
    "North Tyneside",
    "North Yorkshire",
    "Northumberland",
    "Nottingham",
    "Nottinghamshire",
    "Oldham",
    "Oxfordshire",
    "Peterborough",
    "Plymouth",
    "Portsmouth",
    "Reading",
    "Redbridge",
    "Redcar and Cleveland",
    "Richmond upon Thames",
    "Rochdale",
    "Rotherham",
    "Rutland",
    "Salford",
    "Sandwell",
    "Sefton",
    "Sheffield",
    "Shropshire",
    "Slough",
    "Solihull",
    "Somerset",
    "South Gloucestershire",
    "South Tyneside",
    "Southampton",
    "Southend-on-Sea",
    "Southwark",
    "St. Helens",
    "Staffordshire",
    "Stockport",
    "Stockton-on-Tees",
    "Stoke-on-Trent",
    "Suffolk",
    "Sunderland",
    "Surrey",
    "Sutton",
    "Swindon",
    "Tameside",
    "Telford and Wrekin",
    "Thurrock",
    "Torbay",
    "Tower Hamlets",
    "Trafford",
    "Wakefield",
    "Walsall",
    "Waltham Forest",
    "Wandsworth",
    "Warrington",
    "Warwickshire",
    "West Berkshire",
    "West Northamptonshire",
    "West Sussex",
    "Westminster",
    "Westmorland and Furness",
    "Wigan",
    "Wiltshire",
    "Windsor and Maidenhead",
    "Wirral",
    "Wokingham",
    "Wolverhampton",
    "Worcestershire",
    "York",
)

# Authorities abolished by reorganisation whose older reports may still turn up; matched so that
# such a report gets its own name rather than a neighbour's.
FORMER_LOCAL_AUTHORITIES: tuple[str, ...] = ("Bournemouth", "Poole", "Cumbria", "Northamptonshire")

# Other wordings reports use for an authority (beyond the canonical name and "&"/hyphen variants).
_LOCAL_AUTHORITY_ALIASES: dict[str, tuple[str, ...]] = {
    "Bath and North East Somerset": ("BANES", "B&NES", "Bath and NE Somerset"),
    "East Riding of Yorkshire": ("East Riding",),
    "Bedford Borough": ("Bedford",),
    "Bournemouth, Christchurch and Poole": ("BCP",),
    "Bristol, City of": ("Bristol", "City of Bristol"),
    "Durham": ("County Durham",),
    "Herefordshire": ("County of Herefordshire",),
    "Isles of Scilly": ("Scilly",),
    "Kingston Upon Hull, City of": ("Kingston upon Hull", "Hull"),
    "Kingston upon Thames": ("Kingston",),
    "Newcastle upon Tyne": ("Newcastle",),
    "Richmond upon Thames": ("Richmond",),
    "Southend-on-Sea": ("Southend",),
    "St. Helens": ("Saint Helens",),
    "Stockton-on-Tees": ("Stockton",),
    "Stoke-on-Trent": ("Stoke",),
    "Windsor and Maidenhead": ("Royal Borough of Windsor and Maidenhead",),
}

_MONTHS: dict[str, int] = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sept", "sep"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}
_MONTH = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December"
    r"|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\.?"
)
_DATE = rf"\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH},?\s+\d{{4}}"

# Characters PDFs and Word exports use for quotes, dashes and spaces, mapped to plain ones.
_PLAIN: dict[str, str] = (
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
        "\u00ad": "",
        "\u00a0": " ",
        "\u200b": "",
        "\ufeff": "",
    }
)
# Everything but the SIF team list sits in a report's first pages; the one-line form is made of these only.
_HEAD_CHARS = 12000

# --- preparing the text -------------------------------------------------------------------
_HTML_HINT = re.compile(r"<(?:html|body|div|p|br|table|h[1-6]|span)\b", re.IGNORECASE)
_HTML_DROP = re.compile(r"<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_HTML_BLOCK_TAG = re.compile(
    r"</?(?:p|br|div|h[1-6]|li|tr|td|th|table|ul|ol|section|title)\b[^>]*>", re.IGNORECASE
)
_HTML_TAG = re.compile(r"<[^>]+>")
_MD_HEADING = re.compile(r"^[ \t]*#{1,6}[ \t]+", re.MULTILINE)
_MD_BULLET = re.compile(r"^[ \t]*[-*+][ \t]+", re.MULTILINE)
_MD_EMPHASIS = re.compile(r"\*\*|__")
_MD_LINK = re.compile(r"\[([^\]\n]*)\]\([^)\n]*\)")
_TRAILING_SPACE = re.compile(r"[ \t]+(?=\n)")
_MARKDOWN_HINT = re.compile(r"^[ \t]*#{1,6}[ \t]|\*\*|\]\(", re.MULTILINE)
_SPACES = re.compile(r"\s+")
_LINE_END_HYPHEN = re.compile(r"([a-z])-[ \t]*\n\s*(?=[A-Za-z])")

# --- report type ----------------------------------------------------------------------------
_SIF_TITLE = re.compile(r"inspection of services for children in need of help and protection")
_LSCB_REVIEW_TITLE = re.compile(r"review of the effectiveness of the local safeguarding children'?s? board")
_LAC_TITLE = re.compile(r"inspection of (?:safeguarding and )?looked after children'?s? services")
_AREA_SEND_TITLE = re.compile(r"\barea send\b|\blocal area partnership\b|\bjoint local area\b")
_VISIT_TITLE = re.compile(r"\b(focused|monitoring) visit (?:to|of)\b")
_ILACS_TITLE = re.compile(
    r"inspection of [^.]{0,90}?children'?s (?:social care )?services|inspection dates?: .{0,80}lead inspector"
)

# --- dates ----------------------------------------------------------------------------------
# A day, maybe with its month, maybe with month and year: "3", "21 November", "2 December 2022".
_DATE_PART = re.compile(
    rf"\b(?P<day>\d{{1,2}})(?:st|nd|rd|th)?"
    rf"(?:\s+(?P<month>{_MONTH})(?:,?\s+(?P<year>\d{{4}}|\d{{2}}(?!\d)))?)?(?!\d)",
    re.IGNORECASE,
)
_NUMERIC_DATE = re.compile(r"\b(?P<day>\d{1,2})/(?P<month>\d{1,2})/(?P<year>\d{4}|\d{2})\b")
# "and" opening a second on-site span: "5 to 9 December 2022 and 14 to 15 February 2023".
_SECOND_SPAN = re.compile(r"\band\b(?=\s+\d{1,2}\s+(?:to|-)\s|\s+\d{1,2}\s+\w+\s+\d{4}\s+(?:to|-)\s)")
# A dates line that stops short ("... and 28 - 30", "... to") goes on on the next line.
_UNFINISHED = re.compile(r"(?:\b(?:to|and)|[-,]|\b\d{1,2})\s*$", re.IGNORECASE)
_INSPECTION_DATES = re.compile(
    r"Inspection\s+dates?\s*:?[ \t]*\n?[ \t]*(?P<raw>[^\n]*\d[^\n]*)(?P<next>\n[^\n]*)?",
    re.IGNORECASE,
)
_LETTER_VISIT_DATES = re.compile(
    r"(?:findings|outcome)s?\s+of\s+(?:the|a|an)\s+[^.]{0,200}?\bvisit\b[^.]{0,200}?\b(?:on|between)\s+"
    r"(?P<raw>\d{1,2}(?:st|nd|rd|th)?(?:[^.]{0,60}?)\b(?:\d{4}))",
    re.IGNORECASE,
)
_PUBLISHED = re.compile(
    rf"(?:Report\s+)?Published\s*:?\s*(?P<date>{_DATE}|\d{{1,2}}/\d{{1,2}}/\d{{4}})", re.IGNORECASE
)
_WHOLE_LINE_DATE = re.compile(rf"^\s*(?:Date:?\s*)?(?P<date>{_DATE})\s*$", re.IGNORECASE | re.MULTILINE)
_SOURCE_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:\.[A-Za-z0-9]{1,5})?$")

# --- inspectors -----------------------------------------------------------------------------
_LEAD_INSPECTOR = re.compile(
    r"(?:Lead\s+inspectors?\s*:|Reporting\s+inspector\b:?)[ \t]*(?:\n[ \t]*){0,2}(?P<name>[^\n]+(?:\n[^\n]+)?)"
)
_LETTER_INSPECTORS = re.compile(
    r"(?i:inspectors?\s+(?:\(HMIs?\)\s+)?for\s+this\s+(?:visit|inspection)\s+(?:were|was)"
    r"|visit\s+was\s+(?:carried\s+out|conducted|undertaken)\s+by"
    r"|(?:the\s+)?inspectors?\s+were)"
    r"\s+(?P<names>.+?)"
    r"(?:\.(?=\s+[A-Z(\"'])|\.\s*$|\s+(?=Inspectors\s+(?:looked|considered|evaluated|reviewed)))",
    re.DOTALL,
)
_HONORIFIC = re.compile(r"^(?:Mr|Mrs|Ms|Miss|Dr)\.?\s+")
_LEAD_LIST_END = re.compile(r"\n(?!(?:Her|His)\s+Majesty)|(?i:\s+(?:Deputy|Team)\s+inspector|\s+Judgement\b)")
_NAME_SPLIT = re.compile(r",\s*(?:and\s+|with\s+)?|\s+(?:and|with)\s+|;\s*")
_INSPECTOR_NOISE = re.compile(
    r"\b(?:(?:Her|His)\s+Majesty'?s\s+(?:Chief\s+)?Inspectors?(?:\s*\(HMIs?\))?(?:\s+Social\s+Care|\s+Schools)?"
    r"|all\s+of\s+whom\s+are|both\s+of\s+whom\s+are|(?:two|three|four|five|six)\s+of\b"
    r"|who\s+(?:is|are)\b.*|who\s+observed.*"
    r"|(?:Senior\s+)?S?HMIs?(?:\s+Social\s+Care|\s+Schools)?|\(HMIs?\)"
    r"|(?:lead|team|deputy\s+lead|senior)\s+inspectors?|quality\s+assurance\s+manager.*"
    r"|as\s+a\s+supernumerary\s+inspector|designate|Ofsted\s+Inspectors?|OBE|MBE)\b",
    re.IGNORECASE,
)
_NAME_TOKEN = re.compile(r"^[^\W\d_][\w'.-]*$")
_NAME_PARTICLES = frozenset({"de", "van", "von", "der", "la", "le", "da", "di", "du"})

# --- judgements -----------------------------------------------------------------------------
_GRADE = re.compile(
    r"\b(?:requires?\s+improvement(?:\s+to\s+be\s+good)?|outstanding|good|inadequate|adequate|not\s+judged)\b",
    re.IGNORECASE,
)
_TABLE_HEADER = re.compile(r"\bJudgement\s+Grade\b", re.IGNORECASE)
_SIF_TABLE_START = re.compile(r"\b1\.?\s+Children\s+who\s+need\s+help\s+and\s+protection\b", re.IGNORECASE)
# "The overall judgement is that children's services require improvement", "Children's services in X are good".
_SIF_OVERALL = re.compile(
    r"(?:The\s+overall\s+judgement\s+is(?:\s+that\s+children'?s\s+services)?"
    r"|Children'?s\s+services\s+(?:in|on)\s+.{1,80}?)"
    r"\s+(?:are\s+|is\s+)?"
    r"(?P<grade>requires?\s+improvement(?:\s+to\s+be\s+good)?|outstanding|good|inadequate|adequate)",
    re.IGNORECASE,
)
_LSCB_OVERALL = re.compile(
    r"The\s+Local\s+Safeguarding\s+Children\s+Board\s+(?:is\s+)?"
    r"(?P<grade>requires?\s+improvement(?:\s+to\s+be\s+good)?|outstanding|good|inadequate)",
    re.IGNORECASE,
)
_AREA_SEND_OUTCOME = re.compile(
    r"(?P<outcome>positive\s+experiences\s+and\s+outcomes|inconsistent\s+experiences\s+and\s+outcomes"
    r"|widespread(?:\s+and/or\s+|\s+or\s+|\s*/\s*)systemic\s+failings)",
    re.IGNORECASE,
)
_ROW_NUMBER = re.compile(r"(?:^|(?<=\s))\d(?:\.\d)?\.?\s+(?=[A-Z])")
_FOOTNOTE = re.compile(r"\s+\d$")
_LABEL_TAIL = re.compile(r"\s+(?:is|are)$", re.IGNORECASE)
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
_AREA_KEYWORDS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"overall\s+effectiveness", re.IGNORECASE), "overall_effectiveness"),
    (re.compile(r"safeguarding\s+children\s+board|\bLSCB\b", re.IGNORECASE), "lscb"),
    (re.compile(r"adoption", re.IGNORECASE), "adoption"),
    (re.compile(r"impact\s+of\s+leaders|leadership|\bleaders\b", re.IGNORECASE), "leaders"),
    (re.compile(r"help\s+and\s+protection", re.IGNORECASE), "help_protection"),
    (re.compile(r"children\s+in\s+care|children\s+looked|looked\s+after|permanence", re.IGNORECASE), "in_care"),
    (re.compile(r"care\s+leavers", re.IGNORECASE), "care_leavers"),
)
_MAX_LABEL_WORDS = 20

# --- focus ----------------------------------------------------------------------------------
_FOCUS_START = re.compile(
    r"Inspectors\s+(?:looked\s+at|considered|evaluated|reviewed)\b"
    r"|(?:This|The)\s+visit\s+looked\s+at\b|The\s+focus\s+of\s+(?:this|the)\s+visit\s+was\b"
)
# A full stop (with any closing quote) before a space and anything but a lower-case word, or at the end.
_SENTENCE_END = re.compile(r"\.['\"]?(?=\s+[^a-z\s]|\s*$)")


def extract_metadata(text: str, *, source_name: str = "") -> ReportMetadata:
    """Read a report's metadata from its whole text; `source_name` only backs up the publication date.

    `text` is the whole document: PDF pages joined with form feeds, or a .txt/.md export as is.
    `source_name` (a file name or URL) is read only for a trailing YYYY-MM-DD, used as the publication
    date when the text prints none; never for the authority or the type. Letters' `published` is the
    date printed at the top. Inspection reports' `inspectors` are their lead inspector(s); letters'
    are everyone they name. Never raises: what cannot be found is left empty, the type "other".
    """
    try:
        return _extract(text if isinstance(text, str) else "", source_name or "")
    except Exception:  # noqa: BLE001 - the contract is to never raise on odd input
        return ReportMetadata()


def _extract(text: str, source_name: str) -> ReportMetadata:
    """extract_metadata without the safety net."""
    prepared = prepare_text(text)
    flat = _flatten(prepared[:_HEAD_CHARS])
    report_type = classify_report(flat)
    is_letter = report_type in ("focused_visit", "monitoring_visit")

    visit_dates_raw = find_visit_dates_raw(prepared, is_letter=is_letter)
    visit_start, visit_end = parse_date_range(visit_dates_raw) if visit_dates_raw else (None, None)
    letter_date = find_letter_date(prepared) if is_letter else None
    published = letter_date or find_published(flat) or checked_name_date(source_name, visit_start, visit_end, prepared)

    judgements: tuple[Judgement, ...] = ()
    if not is_letter:
        judgements = find_judgements(flat, report_type)
    if report_type == "sif_inspection" and not any(j.area == "lscb" for j in judgements):
        judgements += _sif_lscb(_flatten(prepared))  # the LSCB review's grade, when the table leaves it out

    return ReportMetadata(
        local_authority=find_local_authority(prepared),
        report_type=report_type,
        subtype=ilacs_subtype(visit_dates_raw) if report_type == "ilacs_inspection" else None,
        visit_dates_raw=visit_dates_raw,
        visit_start=visit_start,
        visit_end=visit_end,
        published=published,
        letter_date=letter_date,
        inspectors=find_inspectors(prepared, is_letter=is_letter),
        judgements=judgements,
        focus=find_focus(flat) if report_type == "focused_visit" else None,
    )


# --- preparing the text -------------------------------------------------------------------


def prepare_text(text: str) -> str:
    """Plain quotes, dashes and spaces; HTML tags and Markdown marks removed; lines kept."""
    text = unicodedata.normalize("NFKC", text)
    for character, plain in _PLAIN.items():  # str.replace beats str.translate with a dict on long text
        text = text.replace(character, plain)
    if _HTML_HINT.search(text):
        text = _HTML_DROP.sub(" ", text)
        text = _HTML_BLOCK_TAG.sub("\n", text)
        text = html.unescape(_HTML_TAG.sub(" ", text))
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if _MARKDOWN_HINT.search(text):
        text = _MD_LINK.sub(r"\1", text)
        text = _MD_HEADING.sub("", text)
        text = _MD_BULLET.sub("", text)
        text = _MD_EMPHASIS.sub("", text)
    return _TRAILING_SPACE.sub("", text).strip(" \t")


def _flatten(text: str) -> str:
    """One line: words hyphenated at a line end rejoined, every other run of whitespace made one space."""
    return _SPACES.sub(" ", _LINE_END_HYPHEN.sub(r"\1-", text)).strip()


def _lines(text: str) -> list[str]:
    """Non-blank lines, stripped, page breaks read as line breaks."""
    return [line.strip() for line in text.replace("\f", "\n").split("\n") if line.strip()]


# --- report type ----------------------------------------------------------------------------


def classify_report(flat: str) -> str:
    """One of REPORT_TYPES, from the title region (and failing that, the first pages)."""
    title = flat[:1200].casefold()
    for region in (title, flat[:4000].casefold()):
        if _SIF_TITLE.search(region):
            return "sif_inspection"
        if _LSCB_REVIEW_TITLE.search(region):
            return "lscb_review"
        if _LAC_TITLE.search(region):
            return "pre_sif_lac_inspection"
        if _AREA_SEND_TITLE.search(region):
            return "area_send_inspection"
        ilacs = _ILACS_TITLE.search(region)
        visit = _VISIT_TITLE.search(region)
        if visit and (not ilacs or visit.start() < ilacs.start()):
            return "focused_visit" if visit.group(1) == "focused" else "monitoring_visit"
        if ilacs:
            return "ilacs_inspection"
    return "other"


def ilacs_subtype(visit_dates_raw: str | None) -> str | None:
    """ILACS short inspections last one week on site, standard ones two; the first span of dates tells."""
    if not visit_dates_raw:
        return None
    first_span = _SECOND_SPAN.split(visit_dates_raw)[0]
    start, end = parse_date_range(first_span)
    if start is None or end is None:
        return None
    days = (end - start).days
    if 0 <= days <= 7:
        return "short"
    if 8 <= days <= 14:
        return "standard"
    return None


# --- dates ----------------------------------------------------------------------------------


def _full_year(text: str) -> int:
    return int(text) if len(text) == 4 else 2000 + int(text)


def _make_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _date_parts(raw: str) -> list[tuple[int, int | None, int | None]]:
    """The (day, month, year) fragments of a date range, in order; month and year may be missing."""
    parts: list[tuple[int, int | None, int | None]] = [
        (int(m.group("day")), int(m.group("month")), _full_year(m.group("year"))) for m in _NUMERIC_DATE.finditer(raw)
    ]
    if parts:
        return parts
    for match in _DATE_PART.finditer(raw):
        month = _MONTHS.get(match.group("month").rstrip(".").casefold()) if match.group("month") else None
        year = _full_year(match.group("year")) if match.group("year") else None
        parts.append((int(match.group("day")), month, year))
    return parts


def parse_date_range(raw: str) -> tuple[date | None, date | None]:
    """First and last dates of a range such as "21 November to 2 December 2022" or "3 to 7 March 2025"."""
    parts = _date_parts(raw)
    if not parts:
        return None, None
    # Fill a missing month or year from the nearest later fragment that has one.
    filled: list[tuple[int, int, int, bool]] = []
    for index, (day, month, year) in enumerate(parts):
        later = parts[index + 1 :]
        month_value = month or next((m for _, m, _ in later if m), None)
        year_value = year or next((y for _, _, y in later if y), None)
        if month_value is None or year_value is None:
            continue
        filled.append((day, month_value, year_value, year is None))
    if not filled:
        return None, None
    start_day, start_month, start_year, year_inferred = filled[0]
    end_day, end_month, end_year, _ = filled[-1]
    start = _make_date(start_year, start_month, start_day)
    end = _make_date(end_year, end_month, end_day)
    if start and end and start > end and year_inferred:
        start = _make_date(start_year - 1, start_month, start_day)
    return start, end


def parse_date(raw: str) -> date | None:
    """A single date such as "12 April 2021"."""
    start, _ = parse_date_range(raw)
    return start


def find_visit_dates_raw(text: str, *, is_letter: bool) -> str | None:
    """The on-site dates as printed: the "Inspection dates" line, or a letter's first sentence."""
    head = text[:6000]
    if is_letter:
        match = _LETTER_VISIT_DATES.search(_flatten(head))
        if match:
            return _tidy(match.group("raw"))
    match = _INSPECTION_DATES.search(head)
    if match:
        raw = match.group("raw")
        if _UNFINISHED.search(raw) and match.group("next"):
            raw += " " + match.group("next")
        return _tidy(raw)
    if not is_letter:
        match = _LETTER_VISIT_DATES.search(_flatten(head))
        if match:
            return _tidy(match.group("raw"))
    return None


def find_letter_date(text: str) -> date | None:
    """The date printed at the top of a letter: the first line that is only a date."""
    for match in _WHOLE_LINE_DATE.finditer(text[:3000]):
        found = parse_date(match.group("date"))
        if found:
            return found
    return None


def find_published(flat: str) -> date | None:
    """A "Report published:" or "Published:" date near the start."""
    match = _PUBLISHED.search(flat[:3000])
    return parse_date(match.group("date")) if match else None


# A report is published after its visit: in the shared corpus 18 to 400 days after the last day.
_MAX_PUBLICATION_LAG_DAYS = 450


def checked_name_date(source_name: str, visit_start: date | None, visit_end: date | None, text: str) -> date | None:
    """The file name's date as the publication date, only where the text bears it out.

    The name is a hint, never an override: a report saved under another report's name must not take
    that report's date. The date must fall after the visit the text gives, and within
    `_MAX_PUBLICATION_LAG_DAYS` of it; where the text gives no visit dates, its year must appear in the text.
    """
    named = date_from_source_name(source_name)
    if named is None:
        return None
    last_day = visit_end or visit_start
    if last_day is not None:
        return named if 0 <= (named - last_day).days <= _MAX_PUBLICATION_LAG_DAYS else None
    return named if re.search(rf"\b{named.year}\b", text) else None


def date_from_source_name(source_name: str) -> date | None:
    """A trailing YYYY-MM-DD in a file name or URL (before any extension), the last-resort publication date."""
    name = source_name.strip().rstrip("/").rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    match = _SOURCE_DATE.search(name)
    if not match:
        return None
    year, month, day = (int(group) for group in match.groups())
    return _make_date(year, month, day)


# --- local authority ------------------------------------------------------------------------


def _authority_key(text: str) -> str:
    """'&', hyphens, full stops and commas evened out so wordings compare; case is kept."""
    text = _AUTHORITY_PUNCTUATION.sub(" ", text.replace("&", " and "))
    return _SPACES.sub(" ", text).strip()


def _build_authority_pattern() -> tuple[re.Pattern[str], dict[str, str]]:
    """One pattern for every wording, longest first so "North East Lincolnshire" beats "Lincolnshire"."""
    by_key: dict[str, str] = {}
    for name in (*LOCAL_AUTHORITIES, *FORMER_LOCAL_AUTHORITIES):
        by_key.setdefault(_authority_key(name).casefold(), name)
    for name, aliases in _LOCAL_AUTHORITY_ALIASES.items():
        for alias in aliases:
            by_key.setdefault(_authority_key(alias).casefold(), name)
    alternatives = sorted(by_key, key=len, reverse=True)
    pattern = re.compile(r"\b(?:" + "|".join(re.escape(key) for key in alternatives) + r")\b", re.IGNORECASE)
    return pattern, by_key


_AUTHORITY_PUNCTUATION = re.compile(r"[-,.()']")
_AUTHORITY_PATTERN, _AUTHORITY_BY_KEY = _build_authority_pattern()

# Title wordings that name the authority, tried in this order before the first lines and first page.
_AUTHORITY_TITLES: tuple[re.Pattern[str], ...] = (
    re.compile(r"(?:focused|monitoring)\s+visit\s+(?:to|of)\s+(?P<name>.{2,120}?)\s+children'?s\s+services", re.I),
    re.compile(
        r"area\s+SEND\s+(?:inspection|revisit)\s+(?:of|in)\s+(?P<name>.{2,120}?)(?:\s+local\s+area|\s+inspection|$)",
        re.I,
    ),
    re.compile(
        r"Inspection\s+of\s+(?P<name>.{2,120}?)\s+(?:local\s+authority\s+)?children'?s\s+(?:social\s+care\s+)?services",
        re.I,
    ),
    re.compile(r"findings\s+of\s+(?:the|a|an)\s+\w+\s+visit\s+to\s+(?P<name>.{2,120}?)\s+(?:on|children'?s)\b", re.I),
)


def match_local_authority(text: str) -> str | None:
    """The canonical authority named earliest in `text` (the longest name where several start together).

    Only capitalised mentions count, so that "reading" or "bury" as plain words are not taken for places.
    """
    for match in _AUTHORITY_PATTERN.finditer(_authority_key(text)):
        if match.group(0)[0].isupper():
            return _AUTHORITY_BY_KEY[match.group(0).casefold()]
    return None


def find_local_authority(text: str) -> str | None:
    """The authority a report is about: from its title line, else its first lines, else its first page.

    Ofsted's own address (Piccadilly Gate, Manchester, on every letter) is never read as the subject, and
    a name found only somewhere on the first page must be named again in the report: a passing mention
    does not make a report that authority's.
    """
    text = _OFSTED_ADDRESS.sub(" ", text)
    flat_head = _flatten(text[:5000])
    for pattern in _AUTHORITY_TITLES:
        for match in pattern.finditer(flat_head):
            found = match_local_authority(match.group("name"))
            if found:
                return found
    for line in _lines(text[:3000])[:6]:
        found = match_local_authority(line)
        if found:
            return found
    found = match_local_authority(flat_head[:1500])
    return found if found and mention_count(text, found) >= _MIN_FALLBACK_MENTIONS else None


# "Ofsted", then up to six address lines ending at a postcode line (letters print it at the foot of
# page 1; reports on their back page).
_OFSTED_ADDRESS = re.compile(
    r"^[ \t]*Ofsted[ \t]*\n(?:[^\n]{0,60}\n){0,6}?[^\n]{0,40}\b[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}\b[^\n]*$", re.MULTILINE
)
_MIN_FALLBACK_MENTIONS = 2


def mention_count(text: str, authority: str) -> int:
    """How many times the text names this authority (any of its wordings, capitalised)."""
    return sum(
        1
        for match in _AUTHORITY_PATTERN.finditer(_authority_key(text))
        if match.group(0)[0].isupper() and _AUTHORITY_BY_KEY[match.group(0).casefold()] == authority
    )


# --- inspectors -----------------------------------------------------------------------------


def _clean_name(raw: str) -> str | None:
    name = _INSPECTOR_NOISE.sub(" ", raw)
    name = _tidy(name).strip(" ,.;:()")
    name = _HONORIFIC.sub("", name)
    return name if looks_like_name(name) else None


def looks_like_name(text: str) -> bool:
    """Two to five capitalised words (particles such as "de" allowed), as a person's name is printed."""
    tokens = text.split()
    if not 2 <= len(tokens) <= 5:
        return False
    return all(
        _NAME_TOKEN.match(token) and (token[0].isupper() or token in _NAME_PARTICLES) for token in tokens
    ) and tokens[0][0].isupper()


def split_names(raw: str) -> tuple[str, ...]:
    """Names from a list such as "A, HMI, and B" or "A, B and C, all of whom are Her Majesty's Inspectors"."""
    raw = _INSPECTOR_NOISE.sub(",", _tidy(raw))
    names: list[str] = []
    for piece in _NAME_SPLIT.split(raw):
        name = _clean_name(piece)
        if name and name not in names:
            names.append(name)
    return tuple(names)


# Area SEND reports list the team as "Rebecca Sharples, Ofsted HMI lead inspector: Andrea Crosby-Josephs, CQC
# lead inspector" and "Kathryn Grindrod, Ofsted HMI: Daniel Carrick, CQC inspector".
_SEND_TEAM = re.compile(
    r"(?P<name>[A-Z][\w'\u2019-]+(?: [A-Z][\w'\u2019-]+){1,3}),\s*(?P<role>Ofsted|CQC)\s+"
    r"(?P<title>(?:HMI\s+)?(?:lead\s+)?[Ii]nspector|HMI)"
)


def find_send_team(text: str) -> tuple[str, ...]:
    """An area SEND report's inspectors: Ofsted's lead first, then the others in the order printed."""
    found = [(m.group("name"), m.group("role") == "Ofsted" and "lead" in m.group("title")) for m in _SEND_TEAM.finditer(text[:30000])]
    names: list[str] = []
    for name, _ in sorted(found, key=lambda item: not item[1]):
        if looks_like_name(name) and name not in names:
            names.append(name)
    return tuple(names)


def find_inspectors(text: str, *, is_letter: bool) -> tuple[str, ...]:
    """Inspectors named in the report, lead inspector first."""
    if is_letter:
        match = _LETTER_INSPECTORS.search(_flatten(text[:8000]))
        if match:
            names = split_names(match.group("names"))
            if names:
                return names
    for match in _LEAD_INSPECTOR.finditer(text):
        names = split_names(_LEAD_LIST_END.split(match.group("name"))[0])
        if names:
            return names
    return find_send_team(text)


# --- judgements -----------------------------------------------------------------------------


def tidy_grade(raw: str) -> str:
    """A grade as printed, tidied: single spaces, sentence case, "require" read as "Requires"."""
    grade = _tidy(raw).casefold()
    grade = re.sub(r"^require\b", "requires", grade)
    return grade[:1].upper() + grade[1:]


def area_for_label(label: str) -> str:
    """The JUDGEMENT_AREAS key for a judgement's wording."""
    if re.search(r"children\s+in\s+care\s+and\s+care\s+leavers", label, re.IGNORECASE):
        return "in_care"
    for pattern, area in _AREA_KEYWORDS:
        if pattern.search(label):
            return area
    return "other"


def _split_numbered(label: str) -> list[str]:
    """A label holding several numbered rows ("2.1 Adoption performance 2.2 ...") as one label each.

    Where a two-column layout interleaves the columns, words left over from the previous row come
    before the first number; they are dropped.
    """
    numbers = list(_ROW_NUMBER.finditer(label))
    if not numbers:
        return [label]
    pieces = [label[m.end() : n.start() if n else len(label)] for m, n in zip(numbers, [*numbers[1:], None], strict=True)]
    return [piece.strip(" :-") for piece in pieces if piece.strip(" :-")]


def _table_rows(region: str) -> Iterator[tuple[str, str]]:
    """(label, grade) pairs read off a two-column table flattened to one line, until the prose starts.

    Rows whose labels all come before their grades ("1. A 2. B Good Good") are paired in order.
    """
    pending: deque[str] = deque()
    position = 0
    for match in _GRADE.finditer(region):
        text = region[position : match.start()].strip(" :-")
        position = match.end()
        if text:
            if len(text.split()) > _MAX_LABEL_WORDS or _YEAR.search(text):
                return
            pending.extend(_split_numbered(text))
        if not pending:
            return
        yield pending.popleft(), match.group(0)


def _ilacs_grade(grade: str) -> str:
    """ILACS grades are on a four-point scale; 2018-19 reports print "Requires improvement" for its third point."""
    if grade.casefold() == "requires improvement":
        return "Requires improvement to be good"
    return grade


def _judgements_from_table(region: str, report_type: str) -> list[Judgement]:
    judgements: list[Judgement] = []
    seen: set[str] = set()
    for raw_label, raw_grade in _table_rows(region):
        label = _LABEL_TAIL.sub("", _FOOTNOTE.sub("", raw_label)).strip()
        area = area_for_label(label)
        if area == "other" or area in seen:
            break
        seen.add(area)
        grade = tidy_grade(raw_grade)
        if grade == "Not judged":
            continue
        if report_type == "ilacs_inspection":
            grade = _ilacs_grade(grade)
        judgements.append(Judgement(area=area, label=label, grade=grade))
        if area == "overall_effectiveness" and report_type == "ilacs_inspection":
            break
    return judgements


def _area_send_outcome(head: str) -> tuple[Judgement, ...]:
    match = _AREA_SEND_OUTCOME.search(head)
    if not match:
        return ()
    outcome = _tidy(match.group("outcome")).casefold()
    return (Judgement(area="overall_effectiveness", label="Inspection outcome", grade=outcome),)


def _lscb_review_judgement(head: str) -> tuple[Judgement, ...]:
    match = _LSCB_OVERALL.search(head)
    if not match:
        return ()
    label = "The Local Safeguarding Children Board"
    return (Judgement(area="overall_effectiveness", label=label, grade=tidy_grade(match.group("grade"))),)


# A SIF report's review of the LSCB gives its own grade, further into the report than the judgement table:
# "The Local Safeguarding Children Board requires improvement", "The Local Safeguarding Children Board (LSCB) in
# Bromley requires improvement to be good", "The effectiveness of the LSCB is good".
_SIF_LSCB = re.compile(
    r"(?:The\s+Local\s+Safeguarding\s+Children\s+Board(?:\s+\(LSCB\))?|The\s+effectiveness\s+of\s+the\s+(?:LSCB|Local\s+Safeguarding\s+"
    r"Children\s+Board))(?:\s+in\s+[A-Z][\w,&'\u2019 -]{0,40}?)?\s+(?:is\s+)?"
    r"(?P<grade>requires?\s+improvement(?:\s+to\s+be\s+good)?|outstanding|good|inadequate)\b"
)


def _sif_lscb(flat: str) -> tuple[Judgement, ...]:
    match = _SIF_LSCB.search(flat)
    if not match:
        return ()
    return (Judgement(area="lscb", label="The Local Safeguarding Children Board", grade=tidy_grade(match.group("grade"))),)


def _sif_judgements(head: str) -> tuple[Judgement, ...]:
    judgements: list[Judgement] = []
    overall = _SIF_OVERALL.search(head)
    if overall:
        grade = tidy_grade(overall.group("grade"))
        judgements.append(Judgement(area="overall_effectiveness", label="Overall judgement", grade=grade))
    start = _SIF_TABLE_START.search(head)
    if start:
        rows = _judgements_from_table(head[start.start() :], "sif_inspection")
        judgements.extend(row for row in rows if row.area != "overall_effectiveness")
    return tuple(judgements)


def _ilacs_judgements(head: str) -> tuple[Judgement, ...]:
    header = _TABLE_HEADER.search(head)
    if not header:
        return ()
    return tuple(_judgements_from_table(head[header.end() :], "ilacs_inspection"))


def find_judgements(flat: str, report_type: str) -> tuple[Judgement, ...]:
    """The page-1 judgement table: ILACS and SIF grades, an area SEND outcome or an LSCB review's judgement.

    Focused and monitoring visits are not graded, and 2013 looked-after children inspections print no
    page-1 table, so those give none.
    """
    head = flat[:6000]
    readers = {
        "ilacs_inspection": _ilacs_judgements,
        "sif_inspection": _sif_judgements,
        "area_send_inspection": _area_send_outcome,
        "lscb_review": _lscb_review_judgement,
    }
    reader = readers.get(report_type)
    return reader(head) if reader else ()


# --- focus ----------------------------------------------------------------------------------


def find_focus(flat: str) -> str | None:
    """A focused visit's focus sentence ("Inspectors looked at the local authority's arrangements for ..."), no stop."""
    match = _FOCUS_START.search(flat[:8000])
    if not match:
        return None
    rest = flat[match.start() : match.start() + 1500]
    end = _SENTENCE_END.search(rest)
    sentence = rest[: end.end()] if end else rest
    return _tidy(sentence).removesuffix(".").strip() or None


# --- small helpers --------------------------------------------------------------------------


def _tidy(text: str) -> str:
    return _SPACES.sub(" ", text).strip()
