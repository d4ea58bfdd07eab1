"""Pick the councils of a full-corpus check (issue 19): ten councils with three or more reports, none in an eval set,
in an earlier check or in the reranker's written questions, drawn with a fixed seed.

    python eval/audit/select_full_councils.py SEED [EARLIER_CHECK_COUNCILS ...] > listing.csv

Prints the listing (`document,local_authority`) of every report of the chosen councils, for `export_texts.py`.
"""

from __future__ import annotations

import csv
import random
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT.parent / "shared" / "corpus"


def main(seed: int, earlier: set[str]) -> None:
    sys.path.insert(0, str(ROOT))
    from ingest.loaders import report_id_for
    from train.reranker_data import excluded_authorities, load_questions

    rows = list(csv.DictReader((CORPUS / "manifest.csv").open(encoding="utf-8")))
    trained = {q.report_id for q in load_questions()}
    trained_authorities = {r["local_authority"] for r in rows if report_id_for(Path(r["document"]).name) in trained}
    counts = Counter(r["local_authority"] for r in rows)
    out = excluded_authorities() | earlier | trained_authorities
    candidates = sorted(a for a, n in counts.items() if n >= 3 and a not in out)
    chosen = sorted(random.Random(seed).sample(candidates, 10))
    writer = csv.writer(sys.stdout)
    writer.writerow(["document", "local_authority"])
    for row in rows:
        if row["local_authority"] in chosen:
            writer.writerow([row["document"], row["local_authority"]])


if __name__ == "__main__":
    main(int(sys.argv[1]), set(sys.argv[2:]))
