"""extract_metadata on the committed sample corpus (checked against its manifest) and on hand-written edge cases."""

from __future__ import annotations

import csv
import re
from datetime import date
from functools import cache
from pathlib import Path

import pymupdf
import pytest

from core.models import JUDGEMENT_AREAS, REPORT_TYPES, ReportMetadata
from ingest.metadata import LOCAL_AUTHORITIES, extract_metadata, parse_date_range

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"
SEED_LETTER = SAMPLE / "seed" / "buckinghamshire_focused-visit_2021-04-12.md"
SEED_TRUTH = "focused_visit/buckinghamshire_focused-visit_2021-04-12.pdf"  # the same letter as a PDF


def _manifest() -> dict[str, dict[str, str]]:
    with (SAMPLE / "manifest.csv").open(encoding="utf-8", newline="") as handle:
        return {row["document"]: row for row in csv.DictReader(handle)}


MANIFEST = _manifest()
# (path of the sample file, the manifest row that is its truth)
SAMPLE_DOCUMENTS: list[tuple[Path, str]] = [
    *((SAMPLE / "reports" / document, document) for document in MANIFEST),
    (SEED_LETTER, SEED_TRUTH),
]


@cache
def _metadata(path: Path) -> ReportMetadata:
    if path.suffix == ".pdf":
        with pymupdf.open(path) as document:
            text = "\f".join(page.get_text() for page in document)
    else:
        text = path.read_text(encoding="utf-8")
    return extract_metadata(text, source_name=path.name)


# --- the manifest's values, tidied the way the corpus test tidies them -------------------------

_INSPECTOR_WORDS = re.compile(r"carried out by|(?:her|his) majesty's inspectors?|\([^)]*\)|\bhmis?\b")


def _text(value: str | None) -> str:
    return " ".join((value or "").replace("\u2019", "'").split()).casefold()


def _grade(value: str | None) -> str:
    """Grades without the manifest's house forms: '(not given ...)' is no judgement, '(middle)' is dropped."""
    text = _text(value)
    if text.startswith("(not given"):
        return ""
    return re.sub(r"\s*\((?:top|middle|bottom)\)$", "", text)


def _names(value: str | tuple[str, ...]) -> set[str]:
    if isinstance(value, tuple):
        return {_text(name) for name in value}
    pieces = re.split(r",|\band\b", _INSPECTOR_WORDS.sub(",", _text(value)))
    return {" ".join(piece.split()) for piece in pieces if piece.strip()}


def _iso(value: date | None) -> str:
    return value.isoformat() if value else ""


FIELDS: dict[str, tuple[str, str]] = {
    # field: (manifest column, how to compare)
    "local_authority": ("local_authority", "text"),
    "report_type": ("report_type", "text"),
    "subtype": ("subtype", "subtype"),
    "visit_dates_raw": ("visit_dates_raw", "text"),
    "visit_start": ("visit_start", "date"),
    "visit_end": ("visit_end", "date"),
    "published": ("publication_date", "date"),
    "letter_date": ("letter_date", "date"),
    "inspectors": ("inspectors", "names"),
    "overall_effectiveness": ("overall_effectiveness", "grade"),
    "leaders": ("grade_leaders", "grade"),
    "help_protection": ("grade_help_protection", "grade"),
    "in_care": ("grade_in_care", "grade"),
    "care_leavers": ("grade_care_leavers", "grade"),
    "focus": ("fv_focus", "text"),
}


def _expected_and_actual(meta: ReportMetadata, row: dict[str, str], field: str) -> tuple[object, object]:
    column, kind = FIELDS[field]
    expected = row[column]
    if kind == "grade":
        return _grade(expected), _grade(meta.grade(field))
    if kind == "date":
        return expected, _iso(getattr(meta, field))
    if kind == "names":
        return _names(expected), _names(meta.inspectors)
    if kind == "subtype":
        # only ILACS carries a subtype (standard or short); the manifest's other notes are not ours
        wanted = expected if row["report_type"] == "ilacs_inspection" else ""
        return wanted, meta.subtype or ""
    return _text(expected), _text(getattr(meta, field))


@pytest.mark.parametrize("field", list(FIELDS))
@pytest.mark.parametrize(("path", "document"), SAMPLE_DOCUMENTS, ids=[path.name for path, _ in SAMPLE_DOCUMENTS])
def test_sample_document_field_matches_manifest(path: Path, document: str, field: str) -> None:
    expected, actual = _expected_and_actual(_metadata(path), MANIFEST[document], field)
    if field == "inspectors" and not expected:
        # the manifest's scrape records no team for area SEND reports; ours reads it from the report
        from ingest.metadata import looks_like_name

        assert all(looks_like_name(name) for name in _metadata(path).inspectors)
        return
    assert actual == expected


@pytest.mark.parametrize(("path", "document"), SAMPLE_DOCUMENTS, ids=[path.name for path, _ in SAMPLE_DOCUMENTS])
def test_sample_document_values_are_well_formed(path: Path, document: str) -> None:
    meta = _metadata(path)
    assert meta.report_type in REPORT_TYPES
    assert meta.local_authority in LOCAL_AUTHORITIES
    assert all(judgement.area in JUDGEMENT_AREAS for judgement in meta.judgements)
    assert len({judgement.area for judgement in meta.judgements}) == len(meta.judgements)
    if meta.report_type == "focused_visit":
        assert meta.judgements == ()
        assert meta.published == meta.letter_date


def test_sample_ilacs_judgements_keep_the_table_wording() -> None:
    meta = _metadata(SAMPLE / "reports" / "ilacs_inspection" / "buckinghamshire_ilacs_2025-05-14.pdf")
    assert [(j.area, j.label, j.grade) for j in meta.judgements] == [
        (
            "leaders",
            "The impact of leaders on social work practice with children and families",
            "Requires improvement to be good",
        ),
        (
            "help_protection",
            "The experiences and progress of children who need help and protection",
            "Requires improvement to be good",
        ),
        ("in_care", "The experiences and progress of children in care", "Good"),
        ("care_leavers", "The experiences and progress of care leavers", "Requires improvement to be good"),
        ("overall_effectiveness", "Overall effectiveness", "Requires improvement to be good"),
    ]


def test_sample_sif_report_reads_its_own_judgement_list() -> None:
    meta = _metadata(SAMPLE / "reports" / "sif_inspection" / "buckinghamshire_sif_2018-01-29.txt")
    assert {j.area: j.grade for j in meta.judgements} == {
        "overall_effectiveness": "Inadequate",
        "help_protection": "Inadequate",
        "in_care": "Inadequate",
        "adoption": "Good",
        "care_leavers": "Requires improvement to be good",
        "leaders": "Inadequate",
    }


def test_markdown_export_reads_like_the_pdf() -> None:
    from_pdf = _metadata(SAMPLE / "reports" / SEED_TRUTH)
    from_markdown = _metadata(SEED_LETTER)
    assert from_markdown == from_pdf


# --- edge cases -------------------------------------------------------------------------------

APRIL_2026_REPORT = """
Inspection of Trafford local authority
children's services
Inspection dates: 8 June 2026 to 19 June 2026
Lead inspector: Leanne Cooper, His Majesty's Inspector
Judgement
Grade
The impact of leaders on social work
practice with children and families
Inadequate
The experiences and progress of
children who need help and protection
Inadequate
The experiences and progress of
children in care
Good
The experiences and progress of care
leavers
Requires improvement to be good

Since the previous inspection in 2022, when services in Trafford were judged as
requires improvement to be good, leaders have been ineffective in recognising the shortfalls.
"""

FOCUSED_VISIT_LETTER = """
16 November 2022
Jane Smith
Director of Children's Services
Buckinghamshire Council
Dear Ms Smith
Focused visit to Buckinghamshire children's services
This letter summarises the findings of the focused visit to Buckinghamshire children's services
on 12 and 13 October 2022. His Majesty's Inspectors for this visit were Claire Beckingham and
Tracey Scott.
Inspectors looked at the local authority's arrangements for care leavers.
Headline findings
Since the last inspection in 2021, when services were judged to require improvement to be good,
leaders have made progress. Practice with care leavers is good.
"""

MONITORING_VISIT_LETTER = """
3 April 2020
Director of Children's Services
London Borough of Camden
Dear Mr Jones
Monitoring visit to Camden children's services
This letter summarises the findings of the monitoring visit to Camden children's services on
3 and 4 March 2020. This was the second monitoring visit since the local authority was judged
inadequate in 2019. The visit was carried out by Her Majesty's Inspectors Paula Thomson-Jones
and Jan Edwards.
"""


def test_april_2026_format_has_no_overall_judgement() -> None:
    meta = extract_metadata(APRIL_2026_REPORT, source_name="trafford_ilacs_2026-08-03.pdf")
    assert meta.report_type == "ilacs_inspection"
    assert meta.grade("overall_effectiveness") is None
    assert [(j.area, j.grade) for j in meta.judgements] == [
        ("leaders", "Inadequate"),
        ("help_protection", "Inadequate"),
        ("in_care", "Good"),
        ("care_leavers", "Requires improvement to be good"),
    ]


def test_focused_visit_is_never_graded() -> None:
    meta = extract_metadata(FOCUSED_VISIT_LETTER)
    assert meta.report_type == "focused_visit"
    assert meta.judgements == ()
    assert meta.local_authority == "Buckinghamshire"
    assert meta.letter_date == meta.published == date(2022, 11, 16)
    assert (meta.visit_start, meta.visit_end) == (date(2022, 10, 12), date(2022, 10, 13))
    assert meta.inspectors == ("Claire Beckingham", "Tracey Scott")
    assert meta.focus == "Inspectors looked at the local authority's arrangements for care leavers"


def test_monitoring_visit_letter() -> None:
    meta = extract_metadata(MONITORING_VISIT_LETTER)
    assert meta.report_type == "monitoring_visit"
    assert meta.local_authority == "Camden"
    assert meta.letter_date == date(2020, 4, 3)
    assert meta.inspectors == ("Paula Thomson-Jones", "Jan Edwards")
    assert meta.judgements == () and meta.focus is None


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\f\f  ",
        "<html><head><title>Ofsted</title></head><body><p>Page not found</p></body></html>",
        "The quick brown fox jumps over the lazy dog. Reading is good for you.",
        "Inspection dates: 31 February 2020 to 99 March 2021\nJudgement Grade Good Good",
        "\x00\x01" * 50,
        "Focused visit to ",
        "9" * 5000,
    ],
    ids=[
        "empty",
        "blank-pages",
        "html-page",
        "prose",
        "impossible-dates",
        "control-characters",
        "title-only",
        "digits",
    ],
)
def test_odd_input_never_raises(text: str) -> None:
    meta = extract_metadata(text, source_name="not-a-report")
    assert isinstance(meta, ReportMetadata)
    assert meta.report_type in REPORT_TYPES
    assert meta.judgements == ()


def test_empty_text_gives_empty_metadata() -> None:
    assert extract_metadata("") == ReportMetadata()


def test_non_report_is_other() -> None:
    meta = extract_metadata("<html><body><p>Minutes of the parish council meeting.</p></body></html>")
    assert meta.report_type == "other"
    assert meta.local_authority is None


def test_html_export_of_a_report_is_read() -> None:
    html = (
        "<html><body><h1>Inspection of Camden local authority children&#8217;s services</h1>"
        "<p>Inspection dates: 3 to 7 March 2025</p><p>Lead inspector: Claire Beckingham, His Majesty&#8217;s"
        " Inspector</p><table><tr><td>Judgement</td><td>Grade</td></tr><tr><td>Overall effectiveness</td>"
        "<td>Outstanding</td></tr></table><p>Children in Camden benefit from excellent services.</p></body></html>"
    )
    meta = extract_metadata(html)
    assert (meta.local_authority, meta.report_type, meta.subtype) == ("Camden", "ilacs_inspection", "short")
    assert meta.inspectors == ("Claire Beckingham",)
    assert meta.grade("overall_effectiveness") == "Outstanding"


@pytest.mark.parametrize(
    ("wording", "canonical"),
    [
        ("Buckinghamshire Council", "Buckinghamshire"),
        ("Hull City Council", "Kingston Upon Hull, City of"),
        ("Kingston-upon-Hull", "Kingston Upon Hull, City of"),
        ("the Royal Borough of Kingston upon Thames", "Kingston upon Thames"),
        ("London Borough of Camden", "Camden"),
        ("the London Borough of Hammersmith & Fulham", "Hammersmith and Fulham"),
        ("City of York Council", "York"),
        ("Bristol City Council", "Bristol, City of"),
        ("St Helens Borough Council", "St. Helens"),
        ("Bournemouth, Christchurch and Poole Council", "Bournemouth, Christchurch and Poole"),
        ("Telford & Wrekin Council", "Telford and Wrekin"),
        ("North East Lincolnshire Council", "North East Lincolnshire"),
        ("Bedford Borough Council", "Bedford Borough"),
        ("Central Bedfordshire Council", "Central Bedfordshire"),
        ("Durham County Council", "Durham"),
        ("East Riding", "East Riding of Yorkshire"),
        ("Southend-on-Sea City Council", "Southend-on-Sea"),
        ("the Isles of Scilly", "Isles of Scilly"),
        ("Bath & North East Somerset Council", "Bath and North East Somerset"),
    ],
)
def test_authority_wording_maps_to_canonical_name(wording: str, canonical: str) -> None:
    text = f"1 May 2024\nDear Director\nFocused visit to {wording} children's services\n"
    assert extract_metadata(text).local_authority == canonical


def test_canonical_authorities_cover_england() -> None:
    assert len(LOCAL_AUTHORITIES) == len(set(LOCAL_AUTHORITIES)) == 153
    assert {row["local_authority"] for row in MANIFEST.values()} <= set(LOCAL_AUTHORITIES)


@pytest.mark.parametrize(
    ("raw", "start", "end"),
    [
        ("21 November to 2 December 2022", date(2022, 11, 21), date(2022, 12, 2)),
        ("3 to 7 March 2025", date(2025, 3, 3), date(2025, 3, 7)),
        ("24 and 25 February 2021", date(2021, 2, 24), date(2021, 2, 25)),
        ("15, 16 and 21 July 2025", date(2025, 7, 15), date(2025, 7, 21)),
        ("18 Feb 2014 - 12 March 2014", date(2014, 2, 18), date(2014, 3, 12)),
        ("8 July 2019 to 12 July 2019 and 7 August 2019 to 8 August 2019", date(2019, 7, 8), date(2019, 8, 8)),
        ("19 November-11 December 2013 and 28 - 30 January 2014", date(2013, 11, 19), date(2014, 1, 30)),
        ("30 December to 3 January 2020", date(2019, 12, 30), date(2020, 1, 3)),
        ("12/09/2016 to 06/10/2016", date(2016, 9, 12), date(2016, 10, 6)),
        ("19 March 2019", date(2019, 3, 19), date(2019, 3, 19)),
        ("31 February 2020", None, None),
        ("no dates here", None, None),
    ],
)
def test_parse_date_range(raw: str, start: date | None, end: date | None) -> None:
    assert parse_date_range(raw) == (start, end)


@pytest.mark.parametrize(
    ("source_name", "published"),
    [
        ("camden_ilacs_2025-04-15.pdf", date(2025, 4, 15)),
        ("https://example.org/reports/camden_ilacs_2025-04-15.pdf", date(2025, 4, 15)),
        ("report.pdf", None),
        ("2025-04-15_camden.pdf", None),
        ("camden_ilacs_2025-13-45.pdf", None),
    ],
)
def test_publication_date_falls_back_to_a_trailing_date_in_the_name(source_name: str, published: date | None) -> None:
    text = "Inspection of Camden local authority children's services\nInspection dates: 3 to 7 March 2025\n"
    assert extract_metadata(text, source_name=source_name).published == published


def test_file_name_is_never_used_for_authority_or_type() -> None:
    meta = extract_metadata("Some text with no title.", source_name="camden_ilacs_2025-04-15.pdf")
    assert (meta.local_authority, meta.report_type) == (None, "other")


def test_printed_publication_date_beats_the_file_name() -> None:
    text = "Surrey Safeguarding Children Board\nReview of the effectiveness of the Local Safeguarding Children Board\n"
    text += "Inspection date: 15 June 2015 - 17 June 2015\nReport published: 3 August 2015\n"
    text += "The Local Safeguarding Children Board requires improvement\n"
    meta = extract_metadata(text, source_name="surrey_lscb-review_2015-08-04.pdf")
    assert meta.published == date(2015, 8, 3)
    assert (meta.local_authority, meta.report_type) == ("Surrey", "lscb_review")
    assert meta.grade("overall_effectiveness") == "Requires improvement"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Rebecca Sharples, Ofsted HMI lead inspector: Andrea Crosby-Josephs, CQC lead inspector\n"
            "Kathryn Grindrod, Ofsted HMI: Daniel Carrick, CQC inspector\n"
            "Dawn Cranshaw, Ofsted inspector: Claire Mason, CQC inspector",
            ("Rebecca Sharples", "Andrea Crosby-Josephs", "Kathryn Grindrod", "Daniel Carrick", "Dawn Cranshaw", "Claire Mason"),
        ),
        # Ofsted's lead comes first even when the CQC lead is printed first
        ("Claire Mason, CQC lead inspector: Eva Mannan, Ofsted HMI lead inspector", ("Eva Mannan", "Claire Mason")),
        ("The inspection was led by one of His Majesty's Inspectors (HMI) from Ofsted.", ()),
    ],
)
def test_area_send_team(text: str, expected: tuple[str, ...]) -> None:
    from ingest.metadata import find_send_team

    assert find_send_team(text) == expected


def test_sample_send_report_names_its_inspectors() -> None:
    path = next(Path("data/sample").rglob("blackpool*send*.pdf"))
    from ingest.loaders import load_document

    inspectors = load_document(path).report.metadata.inspectors
    assert inspectors[0] == "Rebecca Sharples" and "Kathryn Grindrod" in inspectors
