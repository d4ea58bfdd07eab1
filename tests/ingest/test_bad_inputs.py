"""Bad files: each is refused with an `IngestError` naming the file and the reason, and a batch goes on."""

from __future__ import annotations

import html
import os
import time
from collections.abc import Callable
from pathlib import Path

import pymupdf
import pytest

from core.errors import IngestError
from core.settings import Settings
from ingest.loaders import load_document, parse_bytes
from tests.conftest import BUCKS_ILACS_2025, BUCKS_SIF_TXT, SAMPLE_REPORTS

SMALL_REPORT = SAMPLE_REPORTS / "focused_visit" / "calderdale_focused-visit_2022-03-21.pdf"

RECIPE = (
    "Victoria sponge. Cream the butter and sugar together until pale and fluffy, then beat in the eggs one at a "
    "time, adding a spoonful of flour with each. Fold in the rest of the flour gently with a metal spoon so that "
    "the mixture keeps its air. Divide between two lined tins and bake for twenty minutes until golden and springy "
    "to the touch. Leave the sponges to cool on a wire rack before you spread one with raspberry jam and whipped "
    "cream, then sandwich them together and dust the top with caster sugar. Serve with a pot of tea. It keeps for "
    "two days in a tin, although it rarely lasts that long in a busy kitchen with hungry visitors around.\n"
)


def _corrupt_pdf(folder: Path) -> Path:
    path = folder / "corrupt.pdf"
    path.write_bytes(os.urandom(4096))
    return path


def _truncated_pdf(folder: Path) -> Path:
    path = folder / "truncated.pdf"
    data = SMALL_REPORT.read_bytes()
    path.write_bytes(data[:600])  # the header and the start of the first object: no pages, no text
    return path


def _encrypted_pdf(folder: Path) -> Path:
    path = folder / "encrypted.pdf"
    with pymupdf.open(SMALL_REPORT) as doc:
        doc.save(path, encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="x", owner_pw="y")
    return path


def _empty(folder: Path) -> Path:
    path = folder / "empty.pdf"
    path.write_bytes(b"")
    return path


def _scanned_pdf(folder: Path) -> Path:
    path = folder / "scanned.pdf"
    doc = pymupdf.open()
    page = doc.new_page()
    page.draw_rect(pymupdf.Rect(72, 72, 520, 760), color=(0, 0, 0), fill=(0.9, 0.9, 0.9))
    pixmap = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, 64, 64), False)
    pixmap.set_rect(pixmap.irect, (120, 120, 120))
    page.insert_image(pymupdf.Rect(100, 100, 300, 300), pixmap=pixmap)
    doc.save(path)
    doc.close()
    return path


def _recipe(folder: Path) -> Path:
    path = folder / "recipe.txt"
    path.write_text(RECIPE, encoding="utf-8")
    return path


def _undecodable(folder: Path) -> Path:
    path = folder / "undecodable.txt"
    # 0x81 is undefined in Windows-1252 and 0xff never occurs in UTF-8
    path.write_bytes(BUCKS_SIF_TXT.read_bytes()[:20000] + b"\x81\xff\x81")
    return path


def _unsupported(folder: Path) -> Path:
    path = folder / "report.docx"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 200 + b"word/document.xml" + b"\x00" * 200)
    return path


def _binary_text(folder: Path) -> Path:
    path = folder / "binary.txt"
    path.write_bytes(BUCKS_SIF_TXT.read_bytes()[:20000] + b"\x00\x00\x00")
    return path


# (maker, reason pattern): every case names the file in its message
BAD_FILES: list[tuple[Callable[[Path], Path], str]] = [
    (_corrupt_pdf, r"not a readable PDF|could not be read"),
    (_truncated_pdf, r"not a readable PDF|could not be read|no pages|no text layer"),
    (_encrypted_pdf, r"encrypted with a password"),
    (_empty, r"the file is empty"),
    (_scanned_pdf, r"no text layer \(scanned\?\); run OCR first"),
    (_recipe, r"does not look like an Ofsted report"),
    (_undecodable, r"neither UTF-8 nor Windows-1252; re-save it as UTF-8"),
    (_unsupported, r"unsupported file type \.docx; use PDF, TXT, MD or HTML"),
    (_binary_text, r"binary data in a text file"),
]


@pytest.mark.parametrize(("maker", "reason"), BAD_FILES, ids=[m.__name__.strip("_") for m, _ in BAD_FILES])
def test_bad_file_raises_ingest_error_naming_file_and_reason(tmp_path: Path, maker, reason: str) -> None:
    path = maker(tmp_path)
    with pytest.raises(IngestError, match=reason) as caught:
        load_document(path)
    assert caught.value.path == str(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert caught.value.reason


def test_file_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.pdf"
    path.write_bytes(SMALL_REPORT.read_bytes())
    with pytest.raises(IngestError, match=r"over the 0 MB limit") as caught:
        load_document(path, max_bytes=1000)
    assert caught.value.path == str(path)
    load_document(path, max_bytes=path.stat().st_size)  # at the limit it is fine


def test_sparse_two_gigabyte_file_is_refused_by_size_without_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "huge.pdf"
    with path.open("wb") as handle:
        handle.truncate(2 * 1024**3)
    started = time.perf_counter()
    with pytest.raises(IngestError, match=r"the file is 2147 MB, over the 210 MB limit"):
        load_document(path, max_bytes=Settings().max_file_bytes)
    assert time.perf_counter() - started < 1.0


def test_missing_file_is_an_ingest_error(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.pdf"
    with pytest.raises(IngestError, match=r"cannot read the file") as caught:
        load_document(path)
    assert caught.value.path == str(path)


def test_windows_1252_text_decodes(tmp_path: Path) -> None:
    text = BUCKS_SIF_TXT.read_text(encoding="utf-8")
    assert "’" in text
    path = tmp_path / "buckinghamshire_sif_cp1252.txt"
    path.write_bytes(text.encode("cp1252", errors="replace"))
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    document = load_document(path)
    original = load_document(BUCKS_SIF_TXT)
    assert document.report.metadata.local_authority == "Buckinghamshire"
    assert any("’" in p.text for p in document.paragraphs)
    assert len(document.paragraphs) == len(original.paragraphs)


def _html_report() -> str:
    document = load_document(BUCKS_ILACS_2025)
    parts = [
        "<!DOCTYPE html><html><head><title>Ofsted report</title>",
        "<style>p { color: red } .STYLEMARKER { display: none }</style>",
        "<script>var tracking = 'SCRIPTMARKER'; document.write('SCRIPTMARKER');</script></head><body>",
        "<nav><a href='/'>NAVMARKER home</a></nav>",
    ]
    in_list = False
    for paragraph in document.paragraphs:
        text = html.escape(paragraph.text)
        if paragraph.kind == "bullet":
            if not in_list:
                parts.append("<ul>")
                in_list = True
            parts.append(f"<li>{text}</li>")
            continue
        if in_list:
            parts.append("</ul>")
            in_list = False
        if paragraph.kind == "heading":
            level = 1 if not paragraph.heading_path else 2
            parts.append(f"<h{level}>{text}</h{level}>")
        elif paragraph.paragraph_number:
            parts.append(f"<p>{paragraph.paragraph_number}. {text}</p>")
        elif paragraph.kind == "paragraph":
            parts.append(f"<p>{text}</p>")
    parts.append("<footer>FOOTERMARKER</footer></body></html>")
    return "\n".join(parts)


def test_html_report_parses_paragraphs_and_ignores_script_and_style(tmp_path: Path) -> None:
    path = tmp_path / "buckinghamshire_ilacs_2025-05-14.html"
    path.write_text(_html_report(), encoding="utf-8")
    document = load_document(path)
    pdf = load_document(BUCKS_ILACS_2025)
    assert document.report.report_id == "buckinghamshire-ilacs-2025-05-14-html"
    assert document.report.metadata.local_authority == "Buckinghamshire"
    assert document.report.metadata.report_type == "ilacs_inspection"
    texts = [p.text for p in document.paragraphs]
    for marker in ("SCRIPTMARKER", "STYLEMARKER", "NAVMARKER", "FOOTERMARKER", "color: red"):
        assert not any(marker in t for t in texts), marker
        assert marker not in document.text
    numbered = [p.paragraph_number for p in document.paragraphs if p.paragraph_number]
    assert numbered == list(range(1, 54))
    assert sum(p.kind == "bullet" for p in document.paragraphs) == sum(p.kind == "bullet" for p in pdf.paragraphs)
    paragraph_31 = next(p for p in document.paragraphs if p.paragraph_number == 31)
    assert paragraph_31.text == next(p.text for p in pdf.paragraphs if p.paragraph_number == 31)
    assert paragraph_31.heading_path[-1] == "The experiences and progress of care leavers: requires improvement to be good"


def test_html_detected_by_content_without_an_html_suffix() -> None:
    document = parse_bytes(_html_report().encode(), "report.htm")
    assert any(p.paragraph_number == 1 for p in document.paragraphs)


def test_batch_reports_every_failure_and_ingests_the_good_files(tmp_path: Path, embedder) -> None:
    from chatbot.build import build_index
    from vectorstore.ingestion import ingest_targets

    folder = tmp_path / "incoming"
    folder.mkdir()
    bad = {maker(folder) for maker, _ in BAD_FILES if maker is not _unsupported}
    huge = folder / "huge.pdf"
    with huge.open("wb") as handle:
        handle.truncate(2 * 1024**3)
    bad.add(huge)
    good = folder / SMALL_REPORT.name
    good.write_bytes(SMALL_REPORT.read_bytes())
    unsupported = _unsupported(tmp_path)  # named directly: folders only yield supported suffixes
    missing = tmp_path / "missing-folder"

    settings = Settings(index_dir=tmp_path / "index")
    index = build_index(settings, embedder=embedder)
    seen: list[str] = []
    summary = ingest_targets(
        index,
        [str(folder), str(unsupported), str(missing)],
        max_bytes=settings.max_file_bytes,
        progress=lambda done, total, name: seen.append(name),
    )
    failed = dict(summary.failed)
    assert set(failed) == {str(p) for p in bad} | {str(unsupported), str(missing)}
    for maker, _reason in BAD_FILES:
        if maker is not _unsupported:
            assert failed[str(folder / maker(tmp_path).name)]  # every reason is a real sentence
    assert "over the 210 MB limit" in failed[str(huge)]
    assert "unsupported file type .docx" in failed[str(unsupported)]
    assert failed[str(missing)] == "no such file or folder"
    assert summary.added == ["calderdale-focused-visit-2022-03-21"]
    assert summary.chunks > 0 and summary.paragraphs > 0
    assert len(seen) == len(bad) + 2  # progress for every file tried (the missing folder is not a file)
    lines = summary.lines()
    assert f"failed: {len(failed)}" in lines
    assert all(any(line.startswith(f"  {path}: ") for line in lines) for path in failed)
    assert index.report("calderdale-focused-visit-2022-03-21") is not None
    assert {r.report_id for r in index.reports()} == {"calderdale-focused-visit-2022-03-21"}
