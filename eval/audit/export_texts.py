"""Write the blind writers' material: each test report as text, paragraph by paragraph as the project's
loader reads it, and a table of the reports' manifest rows. The writers see this folder and nothing else.

    python eval/audit/export_texts.py OUT_DIR [eval/datasets/test/reports.csv]

OUT_DIR/reports/<stem>.txt (blocks separated by a blank line; '## ' a heading, '- ' a bullet; the first
'# ' line is a label) and OUT_DIR/reports_table.csv. Copy the briefs, ../shared/docs/EVAL_FORMAT.md and
check_cases.py (as check.py) beside them.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

from ingest.loaders import load_document

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT.parent / "shared" / "corpus"
COLUMNS = [
    "local_authority", "region", "report_type", "subtype", "visit_dates_raw", "publication_date", "letter_date",
    "inspectors", "overall_effectiveness", "grade_leaders", "grade_help_protection", "grade_in_care",
    "grade_care_leavers", "fv_focus",
]


def main(out: Path, listing: Path) -> None:
    manifest = {row["document"]: row for row in csv.DictReader((CORPUS / "manifest.csv").open(encoding="utf-8"))}
    (out / "reports").mkdir(parents=True, exist_ok=True)
    table = []
    for row in csv.DictReader(listing.open(encoding="utf-8")):
        document = load_document(CORPUS / "reports" / row["document"])
        meta = manifest[row["document"]]
        lines = [f"# {meta['local_authority']}: {meta['report_type']} published {meta['publication_date']} (visit {meta['visit_dates_raw']})", ""]
        for paragraph in document.paragraphs:
            prefix = {"heading": "## ", "bullet": "- "}.get(paragraph.kind, "")
            lines += [prefix + paragraph.text, ""]
        name = Path(row["document"]).stem + ".txt"
        (out / "reports" / name).write_text("\n".join(lines), encoding="utf-8")
        table.append({key: meta[key] for key in COLUMNS} | {"text_file": f"reports/{name}"})
    with (out / "reports_table.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=[*COLUMNS, "text_file"])
        writer.writeheader()
        writer.writerows(table)
    print(f"{len(table)} reports -> {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT / "eval" / "datasets" / "test" / "reports.csv")
