"""The benchmarks' choices of reports: spread over the corpus, nested as the index grows, never overlapping the
reports added one at a time."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.growth import growth_order
from benchmarks.ingest import select_reports

FILES = [Path(f"reports/{kind}/{kind}-{n:03d}.pdf") for kind in ("a_send", "focused", "ilacs", "sif") for n in range(25)]


@pytest.mark.parametrize("count", [1, 10, 33, 99, 100])
def test_the_slice_is_spread_over_the_corpus_and_the_probes_are_outside_it(count: int) -> None:
    chosen, probes = select_reports(FILES, count)
    assert len(chosen) == count and len(set(chosen)) == count
    assert chosen == sorted(chosen, key=FILES.index)  # in path order
    if count >= 4:
        assert {f.parent.name for f in chosen} == {"a_send", "focused", "ilacs", "sif"}
    assert not set(probes) & set(chosen)
    assert len(probes) == min(3, len(FILES) - count)


def test_growth_sizes_nest_and_each_holds_the_named_reports() -> None:
    always = {FILES[7].name, FILES[60].name}
    order = growth_order(FILES, always)
    assert sorted(order) == sorted(FILES)
    assert {f.name for f in order[:2]} == always
    tenth = order[:10]
    assert {f.parent.name for f in tenth} != {"a_send"}  # spread, not the first folder
    assert order == growth_order(list(reversed(FILES)), always)  # fixed, whatever the listing order
