"""PDF (and text export) reports to paragraphs, on the real sample corpus: page furniture, page breaks,
numbering, bullets, heading paths, pages, judgement tables, boilerplate, stable ids, hyphen mending."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pymupdf
import pytest

from core.text import normalise
from ingest.blocks import RawParagraph, build_paragraphs, join_lines, resolve_hyphens
from ingest.loaders import ParsedDocument, load_document, parse_bytes
from ingest.pdf import parse_pdf_pages
from tests.conftest import (
    BUCKS_FV_2021,
    BUCKS_FV_2021_SEED,
    BUCKS_ILACS_2025,
    BUCKS_SIF_TXT,
    SAMPLE_DIR,
    SAMPLE_PDFS,
    SAMPLE_REPORTS,
    SHARED_CORPUS,
)

ILACS = SAMPLE_REPORTS / "ilacs_inspection"
TRAFFORD_ILACS_2019 = ILACS / "trafford_ilacs_2019-05-08.pdf"
SAMPLE_DOCUMENTS = [*SAMPLE_PDFS, BUCKS_SIF_TXT, BUCKS_FV_2021_SEED]


@cache
def parsed(path: Path) -> ParsedDocument:
    return load_document(path)


def body(document: ParsedDocument) -> list:
    return [p for p in document.paragraphs if p.kind != "heading"]


def _id(path: Path) -> str:
    return path.relative_to(SAMPLE_DIR).as_posix()


# ---- page furniture ------------------------------------------------------------------------------

RUNNING_HEADERS = [
    (BUCKS_ILACS_2025, "Inspection of Buckingham County Council local authority children’s services"),
    (ILACS / "buckinghamshire_ilacs_2022-02-11.pdf", "Inspection of Buckinghamshire local authority children’s services"),
    (ILACS / "camden_ilacs_2025-04-15.pdf", "Inspection of Camden local authority children’s services"),
    (ILACS / "islington_ilacs_2025-01-29.pdf", "Inspection of Islington local authority children’s services"),
    (ILACS / "trafford_ilacs_2023-01-31.pdf", "Inspection of Trafford local authority children’s services"),
    (ILACS / "trafford_ilacs_2026-08-03.pdf", "8 June to 19 June 26"),
    (SAMPLE_REPORTS / "area_send_inspection" / "blackpool_area-send_2024-07-25.pdf", "Area SEND inspection report: Blackpool Local Area Partnership"),
]


@pytest.mark.parametrize(("path", "header"), RUNNING_HEADERS, ids=lambda v: v.name if isinstance(v, Path) else "")
def test_running_headers_are_not_inside_body_paragraphs(path: Path, header: str) -> None:
    document = parsed(path)
    pages = document.text.split("\f")
    # the header really is printed on (nearly) every page, so the test can fail
    assert sum(normalise(header) in normalise(page) for page in pages) >= len(pages) - 1
    offenders = [p.text[:80] for p in body(document) if normalise(header) in normalise(p.text)]
    assert offenders == []


def _margin_page_numbers(path: Path) -> dict[int, str]:
    """Page number -> the bare number printed in that page's top or bottom margin."""
    found: dict[int, str] = {}
    with pymupdf.open(path) as doc:
        for index, page in enumerate(doc):
            height = page.rect.height
            for _x0, y0, _x1, y1, text, *_ in page.get_text("blocks"):
                if (y1 < height * 0.12 or y0 > height * 0.88) and text.strip() == str(index + 1):
                    found[index + 1] = text.strip()
    return found


@pytest.mark.parametrize("path", SAMPLE_PDFS, ids=_id)
def test_page_numbers_are_not_glued_to_paragraphs(path: Path) -> None:
    numbers = _margin_page_numbers(path)
    document = parsed(path)
    for paragraph in document.paragraphs:
        assert not paragraph.text.strip().isdigit()
        for page in (paragraph.page, paragraph.page + 1):
            if page in numbers:
                assert not paragraph.text.endswith(f" {page}"), paragraph.text[-80:]
                assert not paragraph.text.startswith(f"{page} "), paragraph.text[:80]


def test_some_sample_pdfs_print_page_numbers_in_their_margins() -> None:
    assert _margin_page_numbers(BUCKS_FV_2021), "the page-number test would check nothing"


# ---- paragraphs across page breaks -------------------------------------------------------------

CROSSING = "Care leavers benefit when they have established relationships with personal advisers, but this is not always possible given changes in the workforce"


@pytest.mark.parametrize("path", [BUCKS_FV_2021, BUCKS_FV_2021_SEED], ids=_id)
def test_paragraph_crossing_a_page_break_is_whole(path: Path) -> None:
    document = parsed(path)
    holders = [p for p in document.paragraphs if normalise(CROSSING) in normalise(p.text)]
    assert len(holders) == 1
    paragraph = holders[0]
    # the paragraph starts with its own first sentence and carries on past the break
    assert paragraph.text.startswith("The local authority is in touch with the vast majority of its care leavers.")
    assert paragraph.text.index("changes in the workforce") > 0
    if path.suffix == ".pdf":
        assert paragraph.page == 4
        pages = document.text.split("\f")
        # the sentence really does cross from page 4 to page 5 of the PDF
        assert "care leavers benefit when they have established relationships with personal advisers, but" in normalise(pages[3])
        assert normalise(pages[4]).lstrip(" 5").startswith("this is not always possible given changes in the workforce")


def test_pdf_and_markdown_seed_agree_on_the_crossing_paragraph() -> None:
    pdf = next(p for p in parsed(BUCKS_FV_2021).paragraphs if normalise(CROSSING) in normalise(p.text))
    seed = next(p for p in parsed(BUCKS_FV_2021_SEED).paragraphs if normalise(CROSSING) in normalise(p.text))
    assert normalise(pdf.text) == normalise(seed.text)


# ---- numbered paragraphs, bullets, headings, pages ------------------------------------------------

ILACS_PDFS = sorted(ILACS.glob("*.pdf"))


@pytest.mark.parametrize("path", ILACS_PDFS, ids=_id)
def test_ilacs_numbered_paragraphs_run_one_to_n_with_numbers_stripped(path: Path) -> None:
    numbered = [p for p in parsed(path).paragraphs if p.paragraph_number is not None]
    numbers = [p.paragraph_number for p in numbered]
    assert len(numbers) >= 30
    assert numbers == list(range(1, len(numbers) + 1))
    assert [p.order for p in numbered] == sorted(p.order for p in numbered)
    for paragraph in numbered:
        assert not re.match(r"^\d{1,3}\.\s", paragraph.text), paragraph.text[:40]
        assert paragraph.kind == "paragraph"


def test_a_paragraph_number_set_in_a_smaller_font_stays_with_its_text() -> None:
    # Islington prints "44." a point below its first line, in a smaller size
    paragraph = next(p for p in parsed(ILACS / "islington_ilacs_2025-01-29.pdf").paragraphs if p.paragraph_number == 44)
    assert paragraph.text.startswith("YPAs keep in touch regularly with those young people who are in custody. YPAs work")
    assert "44." not in paragraph.text


def test_a_paragraph_number_set_apart_from_its_text_starts_a_paragraph() -> None:
    """Some 2022 ILACS PDFs set "4." as a line of its own in the margin, its text beside it on the same row, with
    less space above it than a Word paragraph gap: paragraphs 2 to 9 came out as one paragraph of 6,500 characters."""
    doc = pymupdf.open()
    page = doc.new_page()
    y = 100.0
    tail = ["Managers oversee this work closely and record their decisions on the child's file so that", "the reasons for each decision are clear to the families and to the professionals involved."]
    paragraphs = [
        ["Children and their families have access to a good range of early help services and", "support that meets their needs well.", *tail],
        ["The response to requests for help from children's social care is effective and", "timely for the vast majority of children.", *tail],
        ["When there are concerns about risk of harm to children, these are urgently", "responded to by the multi-agency network.", *tail],
    ]
    for number, lines in enumerate(paragraphs, start=1):
        page.insert_text((70.8, y), f"{number}. ", fontsize=12)
        for line in lines:
            page.insert_text((99.2, y), line, fontsize=12)
            y += 14.5
        y += 6  # the gap Word leaves between numbered paragraphs here: under half a line
    numbered = [p for p in build_paragraphs("letter", parse_pdf_pages(doc)) if p.paragraph_number is not None]
    assert [p.paragraph_number for p in numbered] == [1, 2, 3]
    assert numbered[1].text.startswith("The response to requests for help from children's social care is effective and timely")
    assert numbered[1].text.endswith("to the professionals involved.")


@pytest.mark.skipif(not SHARED_CORPUS.exists(), reason="../shared/corpus is absent")
@pytest.mark.parametrize("name", ["kent_ilacs_2022-07-05.pdf", "torbay_ilacs_2022-05-18.pdf", "south-gloucestershire_ilacs_2024-07-23.pdf"])
def test_ilacs_pdfs_with_numbers_in_the_margin_keep_their_paragraphs_apart(name: str) -> None:
    numbered = [p for p in load_document(SHARED_CORPUS / "reports" / "ilacs_inspection" / name).paragraphs if p.paragraph_number]
    assert [p.paragraph_number for p in numbered] == list(range(1, len(numbered) + 1))
    assert len(numbered) >= 30
    assert all(not re.search(r"[.!?]\s+\d{1,2}\.\s+[A-Z]", p.text) for p in numbered)


@pytest.mark.parametrize(
    ("path", "start", "minimum"),
    [
        (BUCKS_FV_2021, "The local authority continues to experience challenges", 20),
        (ILACS / "buckinghamshire_ilacs_2022-02-11.pdf", "The quality of social workers’ direct work with children.", 7),
        (BUCKS_ILACS_2025, "The quality and effectiveness of pathway plans for care leavers", 7),
        (BUCKS_FV_2021_SEED, "The local authority continues to experience challenges", 20),
    ],
    ids=lambda v: v.name if isinstance(v, Path) else str(v)[:20],
)
def test_bullets_are_their_own_paragraphs(path: Path, start: str, minimum: int) -> None:
    bullets = [p for p in parsed(path).paragraphs if p.kind == "bullet"]
    assert len(bullets) >= minimum
    match = [b for b in bullets if b.text.startswith(start)]
    assert len(match) == 1
    for bullet in bullets:
        assert not bullet.text.startswith(("◼", "•", "- ")), bullet.text[:30]
        # one bullet never swallows the next one's marker
        assert "◼" not in bullet.text and "•" not in bullet.text


def test_what_needs_to_improve_bullets_are_one_sentence_each() -> None:
    document = parsed(ILACS / "buckinghamshire_ilacs_2022-02-11.pdf")
    bullets = [p for p in document.paragraphs if p.kind == "bullet" and p.heading_path[-1:] == ("What needs to improve?",)]
    assert len(bullets) == 7
    for bullet in bullets:
        assert bullet.text[:1].isupper() and bullet.text.endswith(".")


@pytest.mark.parametrize(
    ("number", "heading", "page"),
    [
        (1, "The experiences and progress of children who need help and protection: requires improvement to be good", 2),
        (18, "The experiences and progress of children in care: good", 4),
        (31, "The experiences and progress of care leavers: requires improvement to be good", 6),
        (43, "The impact of leaders on social work practice with children and families: requires improvement to be good", 8),
        (53, "The impact of leaders on social work practice with children and families: requires improvement to be good", 10),
    ],
)
def test_ilacs_heading_path_and_page(number: int, heading: str, page: int) -> None:
    paragraph = next(p for p in parsed(BUCKS_ILACS_2025).paragraphs if p.paragraph_number == number)
    assert paragraph.heading_path[-1] == heading
    assert len(paragraph.heading_path) == 2
    assert paragraph.page == page


@pytest.mark.parametrize("path", SAMPLE_PDFS, ids=_id)
def test_every_paragraph_starts_on_the_page_it_names(path: Path) -> None:
    document = parsed(path)
    pages = [re.sub(r"[^a-z0-9]", "", normalise(text)) for text in document.text.split("\f")]
    tables = {p.paragraph_id for p in document.paragraphs if ": " in p.text and len(p.text) < 200}
    for paragraph in document.paragraphs:
        if paragraph.paragraph_id in tables or paragraph.kind == "footnote":
            continue  # table rows join two columns; footnotes lose their markers
        opening = re.sub(r"[^a-z0-9]", "", normalise(paragraph.text))[:30]
        assert 1 <= paragraph.page <= len(pages)
        assert opening in pages[paragraph.page - 1], (paragraph.page, paragraph.text[:60])


# ---- judgement tables -------------------------------------------------------------------------

JUDGEMENT_ROWS = [
    (
        BUCKS_ILACS_2025,
        [
            "The impact of leaders on social work practice with children and families: Requires improvement to be good",
            "The experiences and progress of children who need help and protection: Requires improvement to be good",
            "The experiences and progress of children in care: Good",
            "The experiences and progress of care leavers: Requires improvement to be good",
            "Overall effectiveness: Requires improvement to be good",
        ],
    ),
    (
        # grades wrap onto a second line ("Requires improvement" / "to be good"); one grade sits between its label's lines
        TRAFFORD_ILACS_2019,
        [
            "The impact of leaders on social work practice with children and families: Inadequate",
            "The experiences and progress of children who need help and protection: Requires improvement to be good",
            "The experiences and progress of children in care and care leavers: Requires improvement to be good",
            "Overall effectiveness: Inadequate",
        ],
    ),
    (
        ILACS / "camden_ilacs_2025-04-15.pdf",
        [
            "The impact of leaders on social work practice with children and families: Outstanding",
            "The experiences and progress of children who need help and protection: Outstanding",
            "The experiences and progress of children in care: Outstanding",
            "The experiences and progress of care leavers: Outstanding",
            "Overall effectiveness: Outstanding",
        ],
    ),
]


@pytest.mark.parametrize(("path", "rows"), JUDGEMENT_ROWS, ids=lambda v: v.name if isinstance(v, Path) else "")
def test_judgement_table_rows_become_label_grade_paragraphs(path: Path, rows: list[str]) -> None:
    document = parsed(path)
    texts = [p.text for p in document.paragraphs]
    first = texts.index(rows[0])
    assert texts[first : first + len(rows)] == rows
    assert all(p.page == 1 for p in document.paragraphs[first : first + len(rows)])
    assert not any(normalise(t).startswith("judgement") for t in texts)


# ---- boilerplate ------------------------------------------------------------------------------

BOILERPLATE = ["Open Government Licence", "Piccadilly Gate", "enquiries@ofsted.gov.uk", "Crown copyright", "Textphone"]


@pytest.mark.parametrize("path", SAMPLE_DOCUMENTS, ids=_id)
def test_boilerplate_is_dropped(path: Path) -> None:
    document = parsed(path)
    for phrase in BOILERPLATE:
        assert not [p.text[:80] for p in document.paragraphs if normalise(phrase) in normalise(p.text)], phrase


@pytest.mark.parametrize("phrase", BOILERPLATE)
def test_boilerplate_is_present_in_the_raw_text(phrase: str) -> None:
    """Guards the test above: every phrase is printed in at least one sample report."""
    assert any(normalise(phrase) in normalise(parsed(path).text) for path in SAMPLE_DOCUMENTS)


# ---- ids ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [BUCKS_ILACS_2025, BUCKS_SIF_TXT, BUCKS_FV_2021_SEED], ids=_id)
def test_paragraph_ids_are_stable_across_loads(path: Path) -> None:
    first = load_document(path)
    second = load_document(path)
    assert [p.paragraph_id for p in first.paragraphs] == [p.paragraph_id for p in second.paragraphs]
    ids = [p.paragraph_id for p in first.paragraphs]
    assert len(set(ids)) == len(ids)
    assert all(pid.startswith(first.report.report_id + ":") for pid in ids)


def test_paragraph_id_changes_with_its_content_only() -> None:
    raw = BUCKS_SIF_TXT.read_bytes().decode("utf-8")
    before = parse_bytes(raw.encode(), BUCKS_SIF_TXT.name)
    # edit one word on one wrapped line of a long paragraph in the text export
    target = next(p for p in before.paragraphs if p.kind == "paragraph" and len(p.text) > 300)
    line = next(ln.strip() for ln in raw.splitlines() if len(ln.strip()) > 40 and ln.strip() in target.text)
    word = line.split()[2]
    edited_line = line.replace(word, word + "x", 1)
    after = parse_bytes(raw.replace(line, edited_line, 1).encode(), BUCKS_SIF_TXT.name)
    before_ids = {p.text: p.paragraph_id for p in before.paragraphs}
    after_ids = {p.text: p.paragraph_id for p in after.paragraphs}
    edited = target.text.replace(line, edited_line, 1)
    assert edited in after_ids
    assert after_ids[edited] != target.paragraph_id
    assert target.paragraph_id not in set(after_ids.values())
    assert len(after_ids) == len(before_ids)
    assert all(before_ids[text] == after_ids[text] for text in before_ids if text != target.text)


# ---- line-end hyphens ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lines", "elsewhere", "expected"),
    [
        (["managers oversee pre-", "proceedings work"], "", "managers oversee pre-proceedings work"),
        (["early inter-", "vention helps"], "Timely intervention matters.", "early intervention helps"),
        (["early inter-", "vention helps"], "", "early inter-vention helps"),
        (["early inter-", "vention helps"], "intervention and inter-vention both appear", "early inter-vention helps"),
        (["a well-", "being check"], "wellbeing", "a wellbeing check"),
        (["a well-", "being check"], "well-being", "a well-being check"),
        (["multi-", "agency work"], "", "multi-agency work"),
        (["aged 16 -", "17 years"], "", "aged 16 - 17 years"),
        (["ends with a dash -", "and goes on"], "", "ends with a dash - and goes on"),
        (["no hyphen", "here"], "", "no hyphen here"),
    ],
)
def test_line_end_hyphens(lines: list[str], elsewhere: str, expected: str) -> None:
    mended = resolve_hyphens([join_lines(lines), elsewhere])
    assert mended[0] == expected


def test_hyphen_mending_through_build_paragraphs() -> None:
    raw = [
        RawParagraph(join_lines(["Leaders oversee pre-", "proceedings and early inter-", "vention closely."]), 1),
        RawParagraph("Early intervention is effective for most children here.", 1),
    ]
    paragraphs = build_paragraphs("synthetic", raw)
    assert paragraphs[0].text == "Leaders oversee pre-proceedings and early intervention closely."


def test_real_pdf_keeps_the_compound_hyphen_across_a_line_end() -> None:
    # "pre-" ends a line on page 3 of the focused visit letter; "proceedings" starts the next
    paragraph = next(p for p in parsed(BUCKS_FV_2021).paragraphs if "oversee pre" in p.text)
    assert "oversee pre-proceedings, but" in paragraph.text


@pytest.mark.skipif(not SHARED_CORPUS.exists(), reason="../shared/corpus is absent")
@pytest.mark.parametrize("name", ["cheshire-east_ilacs_2020-01-09.pdf", "halton_ilacs_2020-04-15.pdf"])
def test_a_grade_wrapped_around_its_label_reads_as_the_row(name: str) -> None:
    """Two-column judgement tables whose grade wraps round the label came out as "Requires improvement Overall
    effectiveness to be good" (28 ILACS PDFs of 2019-20): the row now reads as printed, so it states the grade."""
    path = SHARED_CORPUS / "reports" / "ilacs_inspection" / name
    texts = [p.text for p in load_document(path).paragraphs]
    assert "Overall effectiveness: Requires improvement to be good" in texts
    assert not any(t.startswith("Requires improvement Overall effectiveness") for t in texts)


@pytest.mark.parametrize(
    ("raw", "row"),
    [
        ("Requires improvement Overall effectiveness to be good", "Overall effectiveness: Requires improvement to be good"),
        ("Inadequate Overall effectiveness", "Overall effectiveness: Inadequate"),
        ("Good overall effectiveness of leaders is clear from the work seen", None),  # a sentence: left alone
    ],
)
def test_rows_mended_only_when_grade_and_label_are_all_there_is(raw: str, row: str | None) -> None:
    paragraphs = build_paragraphs("r", [RawParagraph(raw, 1)])
    assert [p.text for p in paragraphs] == [row or raw]
