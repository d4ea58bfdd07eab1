"""Pick the blind test set's reports from ../shared/corpus (run once; its output is committed).

Authorities not in the sample corpus, three per region (four in London), seeded; for each the
latest ILACS inspection and one earlier or later report of another kind, and a third report for
every other authority so that timelines have something to follow. Writes
eval/datasets/test/reports.csv with each file's sha256, which the test index is keyed on.
"""

from __future__ import annotations

import csv
import hashlib
import random
import sys
from collections import defaultdict
from pathlib import Path

SEED = 17
SAMPLE_AUTHORITIES = {"Blackpool", "Buckinghamshire", "Calderdale", "Trafford", "Camden", "Islington"}
PER_REGION = {"London": 4}


def main(corpus: Path, out: Path) -> None:
    rows = list(csv.DictReader((corpus / "manifest.csv").open(encoding="utf-8")))
    by_authority: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        if row["local_authority"] not in SAMPLE_AUTHORITIES:
            by_authority[row["local_authority"]].append(row)
    regions: dict[str, list[str]] = defaultdict(list)
    for authority, reports in sorted(by_authority.items()):
        if any(r["report_type"] == "ilacs_inspection" for r in reports) and len(reports) >= 3:
            regions[reports[0]["region"]].append(authority)
    rng = random.Random(SEED)
    chosen: list[dict[str, str]] = []
    other_kinds = ["focused_visit", "sif_inspection", "area_send_inspection", "ilacs_inspection"]
    turn = 0
    for region in sorted(regions):
        for authority in rng.sample(regions[region], PER_REGION.get(region, 3)):
            reports = sorted(by_authority[authority], key=lambda r: r["publication_date"])
            ilacs = [r for r in reports if r["report_type"] == "ilacs_inspection"]
            picked = [ilacs[-1]]
            rest = [r for r in reports if r is not ilacs[-1]]
            # rotate the second report's kind so the set mixes letters, SIF reports, SEND and older ILACS
            for offset in range(len(other_kinds)):
                kind = other_kinds[(turn + offset) % len(other_kinds)]
                of_kind = [r for r in rest if r["report_type"] == kind]
                if of_kind:
                    picked.append(of_kind[-1])
                    break
            if turn % 2 == 0:
                remaining = [r for r in rest if r not in picked]
                if remaining:
                    picked.append(rng.choice(remaining))
            turn += 1
            chosen.extend(picked)
    chosen.sort(key=lambda r: (r["local_authority"], r["publication_date"]))
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["document", "sha256", "local_authority", "report_type", "publication_date"])
        for row in chosen:
            digest = hashlib.sha256((corpus / "reports" / row["document"]).read_bytes()).hexdigest()
            writer.writerow(
                [row["document"], digest, row["local_authority"], row["report_type"], row["publication_date"]]
            )
    authorities = {r["local_authority"] for r in chosen}
    print(f"{len(chosen)} reports of {len(authorities)} authorities -> {out}")


if __name__ == "__main__":
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("../shared/corpus")
    main(root, Path("eval/datasets/test/reports.csv"))
