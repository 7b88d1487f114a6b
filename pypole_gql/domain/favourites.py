"""A user's favourite driver and team, as stored, matched against a season's standings.

The older frontend stores a driver's **code** ("VER") and a team's display **name** as it
showed it: Jolpica's name ("Red Bull", "Sauber") or, from its early versions, a marketing
name ("Red Bull Racing", "Kick Sauber", "Alpine F1 Team"). API clients may store Jolpica
ids instead ("max_verstappen", "red_bull"). All of these resolve, case-insensitively:

* a driver by code or ``driverId``;
* a team by name or ``constructorId``; failing that, by the words of the name without
  filler ("F1", "Team", "Racing", ...): equal words, else the one team whose words all
  appear in the favourite's or the reverse ("Kick Sauber" -> "Sauber"). Nothing is
  guessed when two teams would fit.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Final

from pypole_gql.domain.f1 import ConstructorStanding, DriverStanding

_FILLER: Final = frozenset({"f1", "team", "racing", "formula", "one", "scuderia"})


def _words(text: str) -> frozenset[str]:
    folded = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    return frozenset(w for w in re.split(r"[^0-9a-z]+", plain) if w and w not in _FILLER)


def match_driver(standings: Sequence[DriverStanding], favourite: str) -> DriverStanding | None:
    key = favourite.strip().casefold()
    if not key:
        return None
    for standing in standings:
        driver = standing.driver
        if key in (driver.driver_id.casefold(), (driver.code or "").casefold()):
            return standing
    return None


def match_team(
    standings: Sequence[ConstructorStanding], favourite: str
) -> ConstructorStanding | None:
    key = favourite.strip().casefold()
    if not key:
        return None
    for standing in standings:
        team = standing.constructor
        if key in (team.constructor_id.casefold(), team.name.casefold()):
            return standing
    wanted = _words(favourite)
    if not wanted:
        return None
    named = [(s, _words(s.constructor.name)) for s in standings]
    equal = [s for s, words in named if words == wanted]
    if len(equal) == 1:
        return equal[0]
    overlapping = [s for s, words in named if words and (words <= wanted or wanted <= words)]
    return overlapping[0] if len(overlapping) == 1 else None
