"""Issue 21, items 2, 3, 4 and 8: what a report is comes from its content, never from where the file sits.

Each test is a probe a careless or hostile user tried: a report saved under another report's name, the
same report under two names, a letter from an authority the reader does not know, a truncated download,
a relative path. All run on the real sample PDFs, a real Chroma and the real embedding model.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pymupdf
import pytest

from chatbot.build import build_index
from cli.main import main
from core.errors import IngestError
from core.settings import Settings
from ingest.loaders import load_document, parse_bytes, report_id_for
from ingest.metadata import extract_metadata
from tests.conftest import SAMPLE_REPORTS
from vectorstore.ingestion import ingest_targets

CALDERDALE_FV = SAMPLE_REPORTS / "focused_visit" / "calderdale_focused-visit_2022-03-21.pdf"
ISLINGTON_ILACS = SAMPLE_REPORTS / "ilacs_inspection" / "islington_ilacs_2025-01-29.pdf"
CALDERDALE_ID = report_id_for(CALDERDALE_FV.name)
MAX_BYTES = 50 * 1024 * 1024


@pytest.fixture
def index(tmp_path, embedder):
    return build_index(Settings(index_dir=tmp_path / "index"), embedder=embedder)


def _pdf_text(path: Path) -> str:
    with pymupdf.open(path) as doc:
        return "\f".join(page.get_text() for page in doc.pages())


def _write_pdf(path: Path, text: str) -> Path:
    """A real PDF of `text`, a page per form feed (the letter's own words, re-typeset)."""
    doc = pymupdf.open()
    for page_text in text.split("\f"):
        page = doc.new_page()
        page.insert_textbox(pymupdf.Rect(50, 50, 545, 800), page_text, fontsize=8)
    doc.save(path)
    doc.close()
    return path


# ---- item 2: identity from content ---------------------------------------------------------------


def test_a_different_report_under_a_known_name_is_added_beside_it_not_in_its_place(tmp_path, index):
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    shutil.copy(CALDERDALE_FV, first / CALDERDALE_FV.name)
    shutil.copy(ISLINGTON_ILACS, second / CALDERDALE_FV.name)  # Islington's report saved under Calderdale's name

    ingest_targets(index, [str(first)], max_bytes=MAX_BYTES)
    summary = ingest_targets(index, [str(second)], max_bytes=MAX_BYTES)

    assert summary.replaced == [] and len(summary.added) == 1
    reports = {r.report_id: r for r in index.reports()}
    assert reports[CALDERDALE_ID].metadata.local_authority == "Calderdale"
    islington = reports[summary.added[0]]
    assert islington.metadata.local_authority == "Islington"
    assert islington.metadata.report_type == "ilacs_inspection"
    # the name's date (21 March 2022) is before Islington's visit: not taken as its publication date
    assert islington.metadata.published is None
    assert {c.report_id for c in index.chunks_in(None)} == set(reports)


def test_the_same_report_under_a_second_name_is_one_report(tmp_path, index):
    folder = tmp_path / "reports"
    folder.mkdir()
    shutil.copy(CALDERDALE_FV, folder / CALDERDALE_FV.name)
    shutil.copy(CALDERDALE_FV, folder / "copy of calderdale letter.pdf")

    summary = ingest_targets(index, [str(folder)], max_bytes=MAX_BYTES)

    assert len(index.reports()) == 1
    assert [report_id for _, report_id in summary.duplicate] == [CALDERDALE_ID]
    assert any(f"the same file as report {CALDERDALE_ID}" in line for line in summary.lines())
    texts = [c.text for c in index.chunks_in(None)]
    assert len(texts) == len(set(texts)), "no paragraph is indexed (and so cited) twice"


def test_a_new_version_of_the_same_report_still_replaces_it(tmp_path, index):
    folder = tmp_path / "reports"
    folder.mkdir()
    target = folder / CALDERDALE_FV.name
    shutil.copy(CALDERDALE_FV, target)
    ingest_targets(index, [str(folder)], max_bytes=MAX_BYTES)
    with pymupdf.open(CALDERDALE_FV) as doc:  # re-saved: other bytes, the same report
        doc.set_metadata({**doc.metadata, "title": "Calderdale focused visit (corrected)"})
        doc.save(target, garbage=3)

    summary = ingest_targets(index, [str(folder)], max_bytes=MAX_BYTES)

    assert summary.replaced == [CALDERDALE_ID] and summary.added == []
    assert len(index.reports()) == 1


def test_the_file_name_date_is_kept_where_the_text_bears_it_out():
    text = _pdf_text(ISLINGTON_ILACS)  # ILACS reports print no publication date: the name gives it
    assert str(extract_metadata(text, source_name=ISLINGTON_ILACS.name).published) == "2025-01-29"
    assert extract_metadata(text, source_name="islington_ilacs_2019-01-29.pdf").published is None
    assert extract_metadata(text, source_name="islington_ilacs_2031-01-29.pdf").published is None


# ---- item 3: the letterhead is not the authority ----------------------------------------------------


OFSTED_LETTERHEAD = "Ofsted\nPiccadilly Gate\nStore Street\nManchester\nM1 2WD\nT 0300 123 1231\n"


def _unknown_authority_letter(tmp_path: Path) -> Path:
    """Calderdale's letter as if from an authority the reader does not know, Ofsted's address at its head."""
    text = _pdf_text(CALDERDALE_FV).replace("Calderdale", "Wyvernshire").replace("Halifax", "Wyvern")
    return _write_pdf(tmp_path / "wyvernshire_focused-visit_2022-03-21.pdf", OFSTED_LETTERHEAD + text)


def test_a_letter_from_an_authority_the_reader_does_not_know_is_skipped_by_name(tmp_path):
    letter = _unknown_authority_letter(tmp_path)
    with pytest.raises(IngestError, match="names no English local authority.*--authority") as raised:
        load_document(letter)
    assert raised.value.path == str(letter)


def test_a_letter_from_an_unknown_authority_is_never_filed_under_ofsteds_city(tmp_path):
    metadata = extract_metadata(_pdf_text(_unknown_authority_letter(tmp_path)))
    assert metadata.local_authority is None
    assert metadata.report_type == "focused_visit"


def test_an_explicit_authority_files_an_unreadable_one_but_never_overrides_the_text(tmp_path, capsys):
    letter = _unknown_authority_letter(tmp_path)
    assert load_document(letter, authority="calderdale").report.metadata.local_authority == "Calderdale"
    assert load_document(ISLINGTON_ILACS, authority="Calderdale").report.metadata.local_authority == "Islington"

    code = main(["--index-dir", str(tmp_path / "index"), "ingest", "--no-progress", "--authority", "Wyvernshire", str(letter)])
    assert code == 1
    assert "Error: Wyvernshire: is not the name of an English local authority" in capsys.readouterr().err


# ---- item 4: a truncated PDF is refused --------------------------------------------------------------


@pytest.mark.parametrize("fraction", [0.97, 0.7, 0.5])
def test_a_truncated_pdf_is_refused_with_the_reason(fraction):
    data = ISLINGTON_ILACS.read_bytes()
    with pytest.raises(IngestError, match=r"the PDF is damaged \(.+\).*--accept-damaged"):
        parse_bytes(data[: int(len(data) * fraction)], "islington_ilacs_2025-01-29.pdf")


def test_a_truncated_pdf_goes_in_only_when_asked(tmp_path, capsys):
    folder = tmp_path / "reports"
    folder.mkdir()
    data = ISLINGTON_ILACS.read_bytes()
    (folder / ISLINGTON_ILACS.name).write_bytes(data[: int(len(data) * 0.7)])
    args = ["--index-dir", str(tmp_path / "index"), "ingest", "--no-progress", str(folder)]

    assert main(args) == 1
    assert "the PDF is damaged" in capsys.readouterr().out
    assert main([*args, "--accept-damaged"]) == 0
    assert "1 added" in capsys.readouterr().out


def test_no_pdf_of_the_sample_corpus_counts_as_damaged():
    for path in sorted(SAMPLE_REPORTS.rglob("*.pdf")):
        assert parse_bytes(path.read_bytes(), path.name).paragraphs, path


# ---- item 8: relative paths are resolved at ingest -----------------------------------------------------


def test_a_report_ingested_by_a_relative_path_stores_its_absolute_path(tmp_path, index, monkeypatch):
    folder = tmp_path / "work" / "reports"
    folder.mkdir(parents=True)
    shutil.copy(CALDERDALE_FV, folder / CALDERDALE_FV.name)
    monkeypatch.chdir(tmp_path / "work")

    ingest_targets(index, [os.path.join("reports", CALDERDALE_FV.name)], max_bytes=MAX_BYTES)
    monkeypatch.chdir(tmp_path)  # the app runs from another folder

    (report,) = index.reports()
    assert Path(report.source).is_absolute()
    assert Path(report.source).is_file()


def test_a_report_moved_to_another_folder_is_found_there_after_re_ingest(tmp_path, index):
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir()
    shutil.copy(CALDERDALE_FV, old / CALDERDALE_FV.name)
    ingest_targets(index, [str(old)], max_bytes=MAX_BYTES)
    shutil.move(old, new)

    summary = ingest_targets(index, [str(new)], max_bytes=MAX_BYTES)

    assert summary.unchanged == [CALDERDALE_ID] and summary.chunks == 0
    assert index.report(CALDERDALE_ID).source == str((new / CALDERDALE_FV.name).resolve())
