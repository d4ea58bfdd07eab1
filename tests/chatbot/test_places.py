"""UK council areas and towns in questions, over the real pycountry and GeoNames data and the committed town map."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from chatbot.authorities import Gazetteer
from chatbot.places import KNOWN_TOWNS, TOWNS_JSON, Place, Places, build, council_names


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return Gazetteer()


@pytest.fixture(scope="module")
def places(gazetteer: Gazetteer) -> Places:
    return Places(gazetteer)


def _found(places: Places, text: str) -> list[tuple[str, str, str, str | None]]:
    return [(place.name, place.nation, place.kind, place.authority) for place in places.find(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("How is fostering in Glasgow?", [("Glasgow", "Scotland", "town", None)]),
        ("What did Cardiff council do?", [("Cardiff", "Wales", "council", None)]),
        ("Wrexham care leavers", [("Wrexham", "Wales", "council", None)]),
        ("Compare Fife with Devon", [("Fife", "Scotland", "council", None)]),  # Devon is the gazetteer's
        ("Belfast children's homes", [("Belfast", "Northern Ireland", "town", None)]),
        ("Conwy's fostering", [("Conwy", "Wales", "council", None)]),
        ("Conwy\u2019s fostering", [("Conwy", "Wales", "council", None)]),
        ("Bro Morgannwg", [("Vale of Glamorgan", "Wales", "council", None)]),  # the Welsh name in the ISO list
        ("the Vale of Glamorgan", [("Vale of Glamorgan", "Wales", "council", None)]),
        ("City of Edinburgh", [("City of Edinburgh", "Scotland", "council", None)]),
        ("children in Altrincham", [("Altrincham", "England", "town", "Trafford")]),
        ("Halifax family hubs", [("Halifax", "England", "town", "Calderdale")]),
        ("High Wycombe's early help", [("High Wycombe", "England", "town", "Buckinghamshire")]),
        (
            "in Stretford and Aylesbury",
            [("Stretford", "England", "town", "Trafford"), ("Aylesbury", "England", "town", "Buckinghamshire")],
        ),
        ("Is Stoke-on-Trent like Newcastle-under-Lyme?", []),  # the gazetteer's authorities ("Newcastle" overlaps)
        ("Trafford's care leavers", []),
        ("Sale of goods", []),
        ("a deal was struck", []),
        ("in the reading of the report", []),
        ("Reading's front door", []),  # an authority
        ("What changed in March 2024?", []),  # a month, not the Fenland town
        ("SEND services", []),  # an acronym, not the Surrey village
        ("glasgow", []),  # names are capitalised
        ("Working with partners, leaders took action", []),  # real words are not misspelt Woking or Acton
        ("Helen Lincoln, Executive Director", []),  # a person
        ("Duke of Edinburgh award", []),
        ("Lee-Anne Farach", []),
    ],
)
def test_finds_places(places: Places, text: str, expected: list[tuple[str, str, str, str | None]]) -> None:
    assert _found(places, text) == expected


def test_place_records_the_words_and_their_span(places: Places) -> None:
    text = "What about Conwy's fostering?"
    assert places.find(text) == [Place("Conwy", "Conwy", "Wales", "council", None, 11, 16)]


def test_misspelt_name_is_read_as_the_nearest_place(places: Places) -> None:
    [place] = places.find("How is fostering in Glasgw?")
    assert (place.written, place.name, place.nation) == ("Glasgw", "Glasgow", "Scotland")


def test_misspelt_authority_is_left_to_the_gazetteer(places: Places, gazetteer: Gazetteer) -> None:
    assert places.find("Tamside leaders") == []
    assert gazetteer.correct("Tamside leaders")[1] == [("Tamside", "Tameside")]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Vale of Glamorgan, The [Bro Morgannwg GB-BMG]", ("Vale of Glamorgan", ("Bro Morgannwg",))),
        ("Ceredigion [Sir Ceredigion]", ("Ceredigion", ("Sir Ceredigion",))),
        ("Edinburgh, City of", ("City of Edinburgh", ())),
        ("Durham, County", ("County Durham", ())),
        ("Fife", ("Fife", ())),
    ],
)
def test_council_names(raw: str, expected: tuple[str, tuple[str, ...]]) -> None:
    assert council_names(raw) == expected


def test_committed_town_map(gazetteer: Gazetteer) -> None:
    data = json.loads(TOWNS_JSON.read_text(encoding="utf-8"))
    assert TOWNS_JSON.stat().st_size < 200_000
    assert data["built_from"]["reports"] > 0 and data["towns"]
    assert list(data["towns"]) == sorted(data["towns"])
    assert {entry["authority"] for entry in data["towns"].values()} <= set(gazetteer.authorities)
    assert set(KNOWN_TOWNS.values()) <= set(gazetteer.authorities)
    # the hand-kept list holds only what the learned map lacks
    assert not set(KNOWN_TOWNS) & set(data["towns"])


def _report(folder: Path, name: str, authority: str, towns: str) -> str:
    """A small text report of `authority` whose last paragraph is `towns`; the path under reports/."""
    body = " ".join(["Leaders know their services well and children in care are visited often by their workers."] * 8)
    path = folder / "reports" / "focused_visit" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"Focused visit to {authority} children's services\n\n{body}\n\n{towns}\n", encoding="utf-8")
    return f"focused_visit/{name}"


def test_builder_learns_towns_from_a_corpus(tmp_path: Path, gazetteer: Gazetteer) -> None:
    corpus = tmp_path / "corpus"
    reports = [
        # Altrincham: both Trafford reports; Stretford: two of three reports (67%, under 75%)
        (
            _report(corpus, "trafford_1.txt", "Trafford", "We met staff in Stretford and Altrincham. Sale had a sale."),
            "Trafford",
        ),
        (
            _report(
                corpus,
                "trafford_2.txt",
                "Trafford",
                "Teams in Altrincham and Stretford. Brighton and Hove was a comparator. The sale, the sale.",
            ),
            "Trafford",
        ),
        # Halifax: both Calderdale reports; Ilford only as a street; Amesbury only as a person; Hyde in one report
        (
            _report(
                corpus,
                "calderdale_1.txt",
                "Calderdale",
                "The hub in Halifax on Ilford Road. Amanda Amesbury, Director. Hyde too.",
            ),
            "Calderdale",
        ),
        (
            _report(
                corpus,
                "calderdale_2.txt",
                "Calderdale",
                "Halifax and Stretford. Ilford Road. Amanda Amesbury, Director of Children's Services.",
            ),
            "Calderdale",
        ),
    ]
    with (corpus / "manifest.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["document", "local_authority"])
        writer.writerows(reports)
    out = tmp_path / "towns.json"

    result = build(corpus, out, gazetteer=gazetteer, workers=1)

    assert result["towns"] == {
        "Altrincham": {"authority": "Trafford", "reports": 2, "share": 1.0},
        "Halifax": {"authority": "Calderdale", "reports": 2, "share": 1.0},
    }
    assert result["built_from"]["reports"] == result["built_from"]["reports_read"] == 4
    assert "sale" in result["ordinary_words"]  # "sale" four times, "Sale" once
    assert "amesbury" in result["common_words"]  # named only as a person
    assert json.loads(out.read_text(encoding="utf-8")) == result
    first = out.read_bytes()
    build(corpus, out, gazetteer=gazetteer, workers=1)
    assert out.read_bytes() == first  # deterministic

    learned = Places(gazetteer, out)
    assert _found(learned, "Halifax and Stretford") == [
        ("Halifax", "England", "town", "Calderdale"),
        ("Stretford", "England", "town", None),  # not in this map or the hand-kept list
    ]


def test_the_uk_towns_are_read_from_the_cache_after_the_first_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """GeoNames' world table is read once; later processes read the UK's rows from the user's cache, and a damaged
    cache file is read from the package again, and mended."""
    from chatbot.places import MIN_TOWN_POPULATION, _uk_towns

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    first = _uk_towns(MIN_TOWN_POPULATION)
    cached = list((tmp_path / "ofsted-qa" / "places").glob("uk-towns-*.json"))
    assert len(first) > 800 and ("Glasgow", "SCT", first[[t[0] for t in first].index("Glasgow")][2]) in first
    assert len(cached) == 1 and json.loads(cached[0].read_text(encoding="utf-8")) == [list(t) for t in first]
    cached[0].write_text(json.dumps([["Nowhere", "ENG", 1]]), encoding="utf-8")
    assert _uk_towns(MIN_TOWN_POPULATION) == [("Nowhere", "ENG", 1)]  # it is read from the cache, not the package
    cached[0].write_text("[[\"Glasgow\", ", encoding="utf-8")
    assert _uk_towns(MIN_TOWN_POPULATION) == first
    assert json.loads(cached[0].read_text(encoding="utf-8")) == [list(t) for t in first]
