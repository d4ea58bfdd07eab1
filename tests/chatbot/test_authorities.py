"""The gazetteer over the real ONS lookup: names, short forms, possessives and look-alike names."""

from __future__ import annotations

import pytest

from chatbot.authorities import ALIASES, CASE_SENSITIVE, Gazetteer

HULL = "Kingston Upon Hull, City of"


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return Gazetteer()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("What did inspectors say about care leavers in Devon?", ["Devon"]),
        ("Devon's front door", ["Devon"]),
        ("Devon\u2019s front door", ["Devon"]),  # curly apostrophe
        ("How are Bucks doing with care leavers?", ["Buckinghamshire"]),
        ("Bucks\u2019 care leavers", ["Buckinghamshire"]),
        ("What did inspectors find in H&F?", ["Hammersmith and Fulham"]),
        ("LBHF leaders", ["Hammersmith and Fulham"]),
        ("Hammersmith and Fulham leaders", ["Hammersmith and Fulham"]),
        ("Kingston's front door", ["Kingston upon Thames"]),
        ("Kingston upon Thames care leavers", ["Kingston upon Thames"]),
        ("Kingston upon Hull care leavers", [HULL]),
        ("Hull care leavers", [HULL]),
        ("Hull's front door", [HULL]),
        ("Kingston and Hull compared", ["Kingston upon Thames", HULL]),
        ("North Yorkshire leaders", ["North Yorkshire"]),
        ("York leaders", ["York"]),
        ("Solihull help and protection", ["Solihull"]),
        ("Reading's care leavers", ["Reading"]),
        ("Reading\u2019s care leavers", ["Reading"]),
        ("After reading the report, what about leaders?", []),
        ("reading the report", []),
        ("a bath in care", []),
        ("Trafford and Camden care leavers", ["Trafford", "Camden"]),
        ("Camden and Trafford care leavers", ["Camden", "Trafford"]),
        ("Trafford's and trafford's leaders", ["Trafford"]),  # each authority once
        ("St Helens care leavers", ["St. Helens"]),
        ("Bristol care leavers", ["Bristol, City of"]),
        ("What did inspectors say about care leavers?", []),
    ],
)
def test_find(gazetteer: Gazetteer, text: str, expected: list[str]) -> None:
    assert gazetteer.find(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Devon's care leavers", "care leavers"),
        ("Devon\u2019s care leavers", "care leavers"),
        ("care leavers in Kingston upon Hull", "care leavers in"),
        ("North Yorkshire leaders", "leaders"),
        ("How are Bucks doing?", "How are doing?"),
        ("After reading the report", "After reading the report"),
        ("care leavers", "care leavers"),
    ],
)
def test_strip(gazetteer: Gazetteer, text: str, expected: str) -> None:
    assert gazetteer.strip(text) == expected


@pytest.mark.parametrize("text", ["Bucks\u2019 care leavers", "Bucks' care leavers"])
def test_strip_removes_possessive_of_names_ending_in_s(gazetteer: Gazetteer, text: str) -> None:
    assert gazetteer.strip(text) == "care leavers"


def test_every_alias_points_at_a_known_authority(gazetteer: Gazetteer) -> None:
    unknown = {alias: name for alias, name in ALIASES.items() if name not in gazetteer.authorities}
    assert unknown == {}


def test_case_sensitive_names_need_a_capital(gazetteer: Gazetteer) -> None:
    for word in sorted(CASE_SENSITIVE):
        assert gazetteer.find(f"they {word} the letter") == [], word


def test_neighbours(gazetteer: Gazetteer) -> None:
    neighbours = gazetteer.neighbours("Trafford")
    assert neighbours, "Trafford has statistical neighbours in the lookup"
    assert all(name in gazetteer.authorities for name in neighbours)
    assert "Trafford" not in neighbours
    assert gazetteer.neighbours("Nowhere") == ()


@pytest.mark.parametrize(
    ("text", "expected", "read"),
    [
        ("Care leavers in Tamside?", "Care leavers in Tameside?", [("Tamside", "Tameside")]),
        ("Compare Hackny and Islington", "Compare Hackney and Islington", [("Hackny", "Hackney")]),
        ("Compare Leeds, Bradfrd and Wakefield", "Compare Leeds, Bradford and Wakefield", [("Bradfrd", "Bradford")]),
        # nothing misspelt, or nothing that is a place: left alone
        ("What did Ofsted say about Children in Care?", "What did Ofsted say about Children in Care?", []),
        ("What did the Local Safeguarding Children Board say?", "What did the Local Safeguarding Children Board say?", []),
        ("Tell me about Bristol", "Tell me about Bristol", []),
        ("What about tamside?", "What about tamside?", []),  # lower case: too easily a word, not a name
    ],
)
def test_a_misspelt_authority_is_read_as_the_nearest(gazetteer: Gazetteer, text: str, expected: str, read: list) -> None:
    assert gazetteer.correct(text) == (expected, read)


@pytest.mark.parametrize(
    ("text", "regions"),
    [
        ("Which London boroughs were judged outstanding?", ["London"]),
        ("kinship care in the North West", ["North West"]),
        ("across Yorkshire", ["Yorkshire and the Humber"]),
        ("councils in the south-west", ["South West"]),
        ("Which reports mention county lines in the East of England?", ["East of England"]),
        # inside an authority's name, a region is not named
        ("North East Lincolnshire's care leavers", []),
        ("What about North Yorkshire and the City of London?", []),
        ("East Riding of Yorkshire", []),
    ],
)
def test_regions_named(text: str, regions: list[str]) -> None:
    assert Gazetteer().regions_named(text) == regions


def test_a_region_is_its_authorities_from_the_lookup_table() -> None:
    gazetteer = Gazetteer()
    assert len(gazetteer.in_region("London")) == 33 and "Camden" in gazetteer.in_region("London")
    assert "Trafford" in gazetteer.in_region("North West") and "Trafford" not in gazetteer.in_region("London")
    assert gazetteer.strip_regions("Which London boroughs were judged good?") == "Which were judged good?"
