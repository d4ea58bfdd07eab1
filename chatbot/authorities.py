"""Recognising local authorities in questions: official names, common short forms and possessives."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from rapidfuzz import fuzz, process

from core.settings import DEFAULT_DATA_DIR

LOOKUP_CSV = DEFAULT_DATA_DIR / "reference" / "la_lookup.csv"

# Short forms people use for authorities, mapped to the canonical (ONS/manifest) names.
ALIASES: dict[str, str] = {
    "bucks": "Buckinghamshire",
    "h&f": "Hammersmith and Fulham",
    "lbhf": "Hammersmith and Fulham",
    "hammersmith": "Hammersmith and Fulham",
    "kingston": "Kingston upon Thames",
    "hull": "Kingston Upon Hull, City of",
    "kingston upon hull": "Kingston Upon Hull, City of",
    "bristol": "Bristol, City of",
    "bcp": "Bournemouth, Christchurch and Poole",
    "bournemouth": "Bournemouth, Christchurch and Poole",
    "b&nes": "Bath and North East Somerset",
    "banes": "Bath and North East Somerset",
    "bath": "Bath and North East Somerset",
    "rbkc": "Kensington and Chelsea",
    "k&c": "Kensington and Chelsea",
    "kensington": "Kensington and Chelsea",
    "barking": "Barking and Dagenham",
    "lbbd": "Barking and Dagenham",
    "brighton": "Brighton and Hove",
    "blackburn": "Blackburn with Darwen",
    "herts": "Hertfordshire",
    "notts": "Nottinghamshire",
    "lancs": "Lancashire",
    "leics": "Leicestershire",
    "lincs": "Lincolnshire",
    "cambs": "Cambridgeshire",
    "glos": "Gloucestershire",
    "oxon": "Oxfordshire",
    "wilts": "Wiltshire",
    "worcs": "Worcestershire",
    "staffs": "Staffordshire",
    "hants": "Hampshire",
    "bedford": "Bedford Borough",
    "st helens": "St. Helens",
    "stoke": "Stoke-on-Trent",
    "southend": "Southend-on-Sea",
    "telford": "Telford and Wrekin",
    "windsor": "Windsor and Maidenhead",
    "rbwm": "Windsor and Maidenhead",
    "redcar": "Redcar and Cleveland",
    "stockton": "Stockton-on-Tees",
    "richmond": "Richmond upon Thames",
    "newcastle": "Newcastle upon Tyne",
    "county durham": "Durham",
    "east riding": "East Riding of Yorkshire",
    "isle of scilly": "Isles of Scilly",
    "scilly": "Isles of Scilly",
    "cheshire west": "Cheshire West and Chester",
    "westmorland": "Westmorland and Furness",
    "tower hamlets": "Tower Hamlets",
    "city of london": "City of London",
}


# Names that are also ordinary English words: matched only when capitalised as a name.
CASE_SENSITIVE = frozenset({"reading", "bury", "bath", "slough", "poole", "brent", "sutton", "havering"})


# Councils abolished in a reorganisation, with the authorities that took over their children's services and when.
# Their reports stop at the change; a question about the old name is answered by naming the new ones.
SUCCESSORS: dict[str, tuple[str, tuple[str, ...]]] = {
    "Northamptonshire": ("April 2021", ("North Northamptonshire", "West Northamptonshire")),
    "Cumbria": ("April 2023", ("Cumberland", "Westmorland and Furness")),
}

# Capitalised words that open a question or name no place: never read as a misspelt authority.
_NOT_NAMES = frozenset(
    "what which when where why how who whose compare tell give list show has have had did does do were was are is "
    "can could should would will please and the in at for of on ofsted ilacs sif send inspectors inspection report reports"
    .split()
)


@dataclass(frozen=True)
class Authority:
    name: str
    la_code: str
    region: str
    statistical_neighbours: tuple[str, ...]  # canonical names


# England's nine regions as the lookup table names them, and how a question may name them
_REGION_NAMES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern, re.I))
    for name, pattern in (
        ("London", r"london"),
        ("North West", r"north[- ]west(?:ern)?"),
        ("North East", r"north[- ]east(?:ern)?"),
        ("South East", r"south[- ]east(?:ern)?"),
        ("South West", r"south[- ]west(?:ern)?"),
        ("East Midlands", r"east midlands"),
        ("West Midlands", r"west midlands"),
        ("East of England", r"east of england|eastern region"),
        ("Yorkshire and the Humber", r"yorkshire(?: and (?:the )?humber)?"),
    )
)
# "in London", "London boroughs", "across the North West", "North East councils", "in Yorkshire and the Humber"
REGION_PHRASE = re.compile(
    r"(?:\b(?:in|across|from|of|for|within|around)\s+)?(?:the\s+)?(?P<region>"
    + "|".join(pattern.pattern for _, pattern in _REGION_NAMES)
    + r")\b(?:['\u2019]s)?(?:\s+(?:region|authorities|councils|boroughs|local authorities|areas|LAs))?",
    re.I,
)

_YEAR_AFTER = re.compile(r"\s*(?:\(|,)?\s*(?:in\s+|at\s+|from\s+)?(?:its\s+|their\s+|the\s+)?((?:19|20)\d\d)\b")


class Gazetteer:
    """England's local authorities, their aliases and statistical neighbours."""

    def __init__(self, lookup_csv: Path = LOOKUP_CSV) -> None:
        self.lookup_csv = lookup_csv

    @cached_property
    def authorities(self) -> dict[str, Authority]:
        rows = []
        if self.lookup_csv.exists():
            with self.lookup_csv.open(encoding="utf-8-sig", newline="") as handle:
                rows = list(csv.DictReader(handle))
        by_code = {r["la_code"].strip(): r["local_authority_ons_name"].strip() for r in rows}
        out: dict[str, Authority] = {}
        for row in rows:
            neighbours = tuple(
                by_code[c.strip()] for c in (row.get("stat_neighbours") or "").split(",") if c.strip() in by_code
            )
            name = row["local_authority_ons_name"].strip()
            out[name] = Authority(name, row["la_code"].strip(), row.get("region_name", "").strip(), neighbours)
        return out

    @cached_property
    def _patterns(self) -> list[tuple[re.Pattern[str], str]]:
        names: dict[str, str] = {}
        for name in self.authorities:
            names[name.lower()] = name
            simple = re.sub(r",? city of$", "", name.lower())
            names.setdefault(simple, name)
            names.setdefault(name.lower().replace(" and ", " & "), name)
            names.setdefault(name.lower().replace("st. ", "st "), name)
        for alias, name in ALIASES.items():
            names.setdefault(alias, name)
        # longest first, so "North Yorkshire" wins over "York" and "Kingston upon Hull" over "Kingston"
        ordered = sorted(names.items(), key=lambda item: -len(item[0]))
        return [
            (
                re.compile(
                    r"(?<![\w&])" + re.escape(alias if alias not in CASE_SENSITIVE else alias.title())
                    + r"(?:['\u2019]s?)?(?![\w&])",
                    0 if alias in CASE_SENSITIVE else re.IGNORECASE,
                ),
                name,
            )
            for alias, name in ordered
        ]

    def strip(self, text: str) -> str:
        """The text with every authority mention removed (for searching within an authority's reports)."""
        spans = self._spans(text)
        for start, end in sorted(spans, reverse=True):
            text = text[:start] + " " + text[end:]
        return " ".join(text.split())

    def spans(self, text: str) -> list[tuple[int, int]]:
        """(start, end) of each authority mention in a text, longest names first, never overlapping."""
        return self._spans(text)

    def _spans(self, text: str) -> list[tuple[int, int]]:
        taken: list[tuple[int, int]] = []
        for pattern, _ in self._patterns:
            for match in pattern.finditer(text):
                span = match.span()
                if not any(span[0] < end and start < span[1] for start, end in taken):
                    taken.append(span)
        return taken

    def _mentions(self, text: str) -> list[tuple[tuple[int, int], str]]:
        """(span, canonical name) of each authority mention, longest names first, never overlapping."""
        found: list[tuple[tuple[int, int], str]] = []
        for pattern, name in self._patterns:
            for match in pattern.finditer(text):
                span = match.span()
                if any(span[0] < end and start < span[1] for (start, end), _ in found):
                    continue
                if name == "Kingston upon Thames" and re.match(r"\s+upon\s+hull", text[span[1] :], re.IGNORECASE):
                    continue
                found.append((span, name))
        return found

    def find(self, text: str) -> list[str]:
        """Canonical names of the authorities a text mentions, in order of first mention."""
        ordered: list[str] = []
        for _, name in sorted(self._mentions(text)):
            if name not in ordered:
                ordered.append(name)
        return ordered

    def correct(self, text: str) -> tuple[str, list[tuple[str, str]]]:
        """Misspelt authority names read as the nearest ones ("Tamside" as Tameside): the text with each replaced, and
        (as written, read as) for each. Only capitalised words naming no authority as written, of five letters or more,
        are read this way, and only as a name that differs from them by a letter or two."""
        names = {name: name.lower() for name in self.authorities}

        def nearest(phrase: str) -> tuple[str, str] | None:
            """(the words that name a place, the authority they are nearest to), or None."""
            tokens = phrase.split()
            while tokens and tokens[0].lower() in _NOT_NAMES:
                tokens = tokens[1:]
            written = " ".join(tokens)
            if len(written) < 5 or self.find(written):
                return None
            lowered = written.lower()
            choices = {name: known for name, known in names.items() if known[0] == lowered[0]}
            # rapidfuzz's ratio is difflib's 0-1 ratio on a 0-100 scale (exact where difflib finds the longest common
            # subsequence); the highest score wins, ties to the name last in alphabetical order, as before
            scored = process.extract(lowered, choices, scorer=fuzz.ratio, score_cutoff=85, limit=None)
            best = max(((score, name) for _, score, name in scored), default=None)
            return (written, best[1]) if best else None

        read: list[tuple[str, str]] = []
        for match in re.finditer(r"[A-Z][\w'\u2019.-]*(?:\s+(?:[A-Z][\w'\u2019.-]*|and|upon|on|with|of))*", text):
            phrase = re.sub(r"['\u2019]s$", "", match.group(0)).strip()
            # "Hackny and Islington": the whole run, else each part of it
            whole = nearest(phrase)
            for found in [whole] if whole else [nearest(part) for part in re.split(r"\s+and\s+", phrase)]:
                if found is not None:
                    text = text.replace(found[0], found[1], 1)
                    read.append(found)
        return text, read

    def years_named(self, text: str) -> dict[str, int]:
        """A year written right after an authority's name: "Calderdale (2022) and Trafford (2024)", "Trafford's 2026
        inspection". Each authority's own point in time in a comparison; only those that have one."""
        found: dict[str, int] = {}
        for (_, end), name in self._mentions(text):
            year = _YEAR_AFTER.match(text[end:])
            if year and name not in found:
                found[name] = int(year.group(1))
        return found

    def _region_matches(self, text: str) -> list[re.Match[str]]:
        """The region phrases of a text whose region is not part of an authority's name ("North East Lincolnshire")."""
        taken = self._spans(text)
        return [
            match
            for match in REGION_PHRASE.finditer(text)
            if not any(match.start("region") < end and start < match.end("region") for start, end in taken)
        ]

    def regions_named(self, text: str) -> list[str]:
        """The English regions a text names ("London boroughs", "in the North West", "across Yorkshire"), as the lookup
        table names them, never inside an authority's name ("North East Lincolnshire", "City of London")."""
        found: list[str] = []
        for match in self._region_matches(text):
            name = next(region for region, pattern in _REGION_NAMES if pattern.fullmatch(match.group("region")))
            if name not in found:
                found.append(name)
        return found

    def strip_regions(self, text: str) -> str:
        """The text less the regions it names (as `regions_named` reads them)."""
        for match in reversed(self._region_matches(text)):
            text = text[: match.start()] + " " + text[match.end() :]
        return " ".join(text.split())

    def in_region(self, region: str) -> tuple[str, ...]:
        """The authorities of a region, by name."""
        return tuple(sorted(a.name for a in self.authorities.values() if a.region.lower() == region.lower()))

    def neighbours(self, name: str) -> tuple[str, ...]:
        authority = self.authorities.get(name)
        return authority.statistical_neighbours if authority else ()
