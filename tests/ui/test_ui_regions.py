"""The region filter (ui.regions): England's nine regions from the authority lookup, and what choosing them searches."""

from __future__ import annotations

import pytest

from chatbot.authorities import Gazetteer
from core.models import Filters
from ui.conversation import parse_filters
from ui.regions import place, region_choices, region_members, regions, with_regions

# the authorities of the sample corpus, as the index spells them
SAMPLE = ["Blackpool", "Buckinghamshire", "Calderdale", "Camden", "Islington", "Trafford"]
NINE = [
    "East Midlands",
    "East of England",
    "London",
    "North East",
    "North West",
    "South East",
    "South West",
    "West Midlands",
    "Yorkshire and the Humber",
]


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return Gazetteer()


@pytest.fixture(scope="module")
def members(gazetteer) -> dict[str, tuple[str, ...]]:
    return region_members(SAMPLE, gazetteer)


def test_the_nine_regions_come_from_the_lookup(gazetteer):
    assert regions(gazetteer) == NINE
    # every one of the lookup's 156 authorities (old and new, such as Cumbria and Cumberland) is in one of them
    assert sum(len(gazetteer.in_region(r)) for r in NINE) == len(gazetteer.authorities) == 156


def test_each_region_stands_for_its_indexed_authorities(members):
    assert list(members) == NINE
    assert members["London"] == ("Camden", "Islington")
    assert members["North West"] == ("Blackpool", "Trafford")
    assert members["South East"] == ("Buckinghamshire",)
    assert members["Yorkshire and the Humber"] == ("Calderdale",)
    assert members["North East"] == ()


def test_an_authority_the_lookup_does_not_know_is_in_no_region(gazetteer):
    found = region_members(["Camden", "Atlantis"], gazetteer)
    assert found["London"] == ("Camden",)
    assert all("Atlantis" not in names for names in found.values())


def test_the_choices_count_each_regions_indexed_authorities(members):
    choices = dict((value, label) for label, value in region_choices(members))
    assert choices["London"] == "London (2 authorities)"
    assert choices["South East"] == "South East (1 authority)"
    assert choices["North East"] == "North East (0 authorities)"


@pytest.mark.parametrize(
    ("authorities", "chosen", "expected"),
    [
        ([], [], ()),
        ([], ["London"], ("Camden", "Islington")),
        # a union: the authorities chosen, then the regions' others, each once
        (["Trafford"], ["London"], ("Trafford", "Camden", "Islington")),
        (["Camden"], ["London"], ("Camden", "Islington")),
        ([], ["London", "North West"], ("Camden", "Islington", "Blackpool", "Trafford")),
        # a region with nothing indexed adds nothing to authorities chosen
        (["Trafford"], ["North East"], ("Trafford",)),
    ],
)
def test_regions_add_their_authorities_to_those_chosen(members, authorities, chosen, expected):
    assert with_regions(authorities, chosen, members) == expected


@pytest.mark.parametrize(
    ("chosen", "message"),
    [
        (["North East"], "No indexed report is from an authority in the North East: choose another region"),
        (["North East", "West Midlands"], "in the North East or the West Midlands"),
    ],
)
def test_regions_with_nothing_indexed_are_refused_rather_than_searching_everything(members, chosen, message):
    with pytest.raises(ValueError, match=message):
        with_regions([], chosen, members)


def test_a_region_is_named_as_a_sentence_names_it():
    assert [place(r) for r in ("London", "North West", "Yorkshire and the Humber", "East of England")] == [
        "London",
        "the North West",
        "Yorkshire and the Humber",
        "the East of England",
    ]


def test_the_filter_panel_with_a_region_searches_its_authorities(members):
    filters = parse_filters(["Trafford"], ["focused_visit"], "", "", ["London"], members)
    assert filters == Filters(local_authorities=("Trafford", "Camden", "Islington"), report_types=("focused_visit",))
    assert parse_filters([], [], "", "") == Filters()
