"""Which race of a season a name designates: "Baku", "Azerbaijan", "Azerbaijan Grand Prix"
and "Mexico" (for the Mexico City Grand Prix) all name one, matched case-, accent- and
spacing-insensitively against the season's calendar."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import Final

from pypole_gql.domain.f1 import Race, Schedule
from pypole_gql.errors import BadUserInput

_GRAND_PRIX: Final = re.compile(r"\s*\b(grand prix|gp)\s*$")


def normalise_name(text: str) -> str:
    """Case-, accent- and spacing-insensitive form of an event, place or country name."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    plain = re.sub(r"[^\w]+", " ", plain)
    return " ".join(plain.split())


def match_race(schedule: Schedule, name: str) -> Race | None:
    """The race of ``schedule`` that ``name`` designates, ``None`` when none does.

    Exact matches come first, field by field: the race's name ("Azerbaijan",
    "Azerbaijan Grand Prix"), its town ("Baku"), its country, the circuit's name; then
    the same as a part of each ("Mexico" for "Mexico City Grand Prix"). The first field
    that designates exactly one race wins. A country with several events that year names
    the one named after it ("Italy" in 2020 and 2021 is the Italian Grand Prix, not the
    Tuscan or Emilia Romagna one; "Austria" in 2020 the Austrian, not the Styrian): see
    :func:`_named_after`. Several races and no such preference is a true tie, refused
    with :class:`BadUserInput` asking for the round.
    """
    wanted = _GRAND_PRIX.sub("", normalise_name(name))
    if not wanted:
        return None

    def fields(race: Race) -> tuple[str, ...]:
        return (
            _event_name(race),
            normalise_name(race.circuit.locality or ""),
            normalise_name(race.circuit.country or ""),
            normalise_name(race.circuit.name),
        )

    table = [(race, fields(race)) for race in schedule.races]
    rules: list[Callable[[tuple[str, ...]], bool]] = [
        lambda f: f[0] == wanted,
        lambda f: f[1] == wanted,
        lambda f: f[2] == wanted,
        lambda f: f[3] == wanted,
        lambda f: _contains(f[0], wanted),
        lambda f: _contains(f[1], wanted) or _contains(f[3], wanted),
        lambda f: _contains(f[2], wanted),
    ]
    for rule in rules:
        found = [race for race, f in table if rule(f)]
        if len(found) > 1:
            # Several events in one country: the one named after it, if exactly one is.
            preferred = [race for race in found if _named_after(_event_name(race), wanted)]
            found = preferred if len(preferred) == 1 else found
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            names = ", ".join(f"{r.name} (round {r.round})" for r in found)
            raise BadUserInput(
                f"{name!r} matches several events of {schedule.season}: {names}; "
                "use the round number",
                field="race",
            )
    return None


def _event_name(race: Race) -> str:
    return _GRAND_PRIX.sub("", normalise_name(race.name))


def _named_after(event: str, place: str) -> bool:
    """Whether the event's name is the place's adjective ("Italian" for "Italy").

    The adjective shares the place's stem: all of its last word but at most the last two
    letters, and at least three ("ita" of "italy", "spa" of "spain", "belgi" of
    "belgium", "saudi arab" of "saudi arabia"); the words before it are equal. Only used
    among events that all matched ``place`` already, so a short stem cannot pull in an
    event elsewhere.
    """
    *event_head, event_last = event.split()
    *place_head, place_last = place.split()
    if event_head != place_head or len(place_last) < 3:
        return False
    stem = max(3, len(place_last) - 2)
    return event_last[:stem] == place_last[:stem]


def _contains(text: str, part: str) -> bool:
    return bool(text) and f" {part} " in f" {text} "
