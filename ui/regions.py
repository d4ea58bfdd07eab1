"""The region filter: England's nine regions as the authority lookup names them (chatbot.authorities.Gazetteer, which
reads `data/reference/la_lookup.csv`), and the indexed authorities each one stands for. No gradio here.

A region and the authority filter add up (a union): choosing Trafford and London searches Trafford and every
indexed London authority. Both are places, and a union never turns a second choice into an empty search; the
"Searched" line under the answer names every authority searched.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from chatbot.authorities import Gazetteer
from core.text import counted, normalise


def regions(gazetteer: Gazetteer) -> list[str]:
    """The regions of the lookup's authorities, in alphabetical order (England's nine)."""
    return sorted({a.region for a in gazetteer.authorities.values() if a.region})


def region_members(indexed: Iterable[str], gazetteer: Gazetteer) -> dict[str, tuple[str, ...]]:
    """For each region, the indexed authorities in it, spelled as the index spells them, in alphabetical order.

    An indexed name the lookup does not know belongs to no region."""
    region_of = {normalise(a.name): a.region for a in gazetteer.authorities.values() if a.region}
    members: dict[str, list[str]] = {region: [] for region in regions(gazetteer)}
    for name in sorted(set(indexed)):
        region = region_of.get(normalise(name))
        if region:
            members.setdefault(region, []).append(name)
    return {region: tuple(names) for region, names in members.items()}


def region_choices(members: Mapping[str, Sequence[str]]) -> list[tuple[str, str]]:
    """(label, value) for the dropdown: 'London (2 authorities)', counting the indexed authorities of each region."""
    return [(f"{region} ({counted(len(names), 'authority', 'authorities')})", region) for region, names in members.items()]


def place(region: str) -> str:
    """'the North West', 'London', 'Yorkshire and the Humber': a region as a sentence names it."""
    return region if region in ("London", "Yorkshire and the Humber") else f"the {region}"


def with_regions(
    authorities: Sequence[str], chosen: Sequence[str], members: Mapping[str, Sequence[str]]
) -> tuple[str, ...]:
    """The authorities chosen, then every indexed authority of the regions chosen (a union, each named once).

    Raises ValueError, with a message for the user, when regions alone are chosen and none of their authorities has
    a report here: searching everything instead would hide it."""
    picked = list(dict.fromkeys(authorities))
    for region in chosen:
        picked.extend(name for name in members.get(region, ()) if name not in picked)
    if chosen and not picked:
        names = " or ".join(place(region) for region in chosen)
        raise ValueError(f"No indexed report is from an authority in {names}: choose another region, or clear it.")
    return tuple(picked)
