"""Season profiles of drivers and teams (the older frontend's ``/profiles`` pages).

Everything comes from :class:`F1Service`'s season-wide tables: the season's standings,
its Grand Prix results (one table for all rounds and all drivers) and its calendar. No
request names a driver or a team, so once a season's tables are cached every profile of
that season costs nothing upstream.

Upstream cost of a cold cache (Jolpica requests; a results table is one request per 100
rows, ~5 for a modern season): the drivers or teams list 2 (standings, calendar); a team
profile ~8 (both standings, results, calendar); a driver profile ~8 for its season plus,
for each earlier season of the career window the driver raced in, ~7 more (calendar,
standings, results): ~36 for a driver with five seasons. The figures measured on the
replay are in the tests (``tests/services/test_profiles.py``).
"""

from __future__ import annotations

import asyncio
import re
from typing import Final

from pypole_gql.domain import params
from pypole_gql.domain.f1 import DriverStanding
from pypole_gql.domain.profiles import (
    CareerSeason,
    DriverProfile,
    DriverSummary,
    TeamProfile,
    TeamSeason,
    TeamSummary,
    career,
    career_season,
    current_team,
    driver_races,
    driver_season,
    team_drivers,
    team_races,
)
from pypole_gql.errors import BadUserInput
from pypole_gql.services.f1 import F1Service
from pypole_gql.services.seasons import resolve_season

#: Seasons a career covers: the profile's season and the ones before it.
CAREER_SEASONS: Final = 5
_JOLPICA_ID: Final = re.compile(r"[A-Za-z0-9_\-]{1,64}")


def check_constructor_id(constructor_id: str, *, field: str = "constructor_id") -> str:
    if not _JOLPICA_ID.fullmatch(constructor_id):
        raise BadUserInput(
            f"{field} must be a Jolpica constructor id (letters, digits, '_' or '-')",
            field=field,
        )
    return constructor_id


class ProfileService:
    """Drivers and teams of a season, and the profile of one of them.

    ``season=None`` means the current season (:func:`~pypole_gql.services.seasons.
    current_season`). A season that cannot exist, or a malformed id, is
    :class:`BadUserInput`; Jolpica down with nothing cached is ``UpstreamUnavailable``.
    A driver or team absent from the season's standings is ``None`` (REST: 404
    ``"Driver {id} not found in {season} season"`` / ``"Constructor {id} not found in
    {season} season"``); a season without standings has empty lists.
    """

    def __init__(self, f1: F1Service) -> None:
        self._f1 = f1

    async def drivers(self, season: int | None = None) -> tuple[int, tuple[DriverSummary, ...]]:
        """(the season, its drivers in championship order)."""
        year = await resolve_season(self._f1, season)
        table = await self._f1.driver_standings(year)
        return year, tuple(
            DriverSummary(
                driver=s.driver,
                team=current_team(s),
                position=s.position,
                points=s.points,
                wins=s.wins,
            )
            for s in table.entries
        )

    async def teams(self, season: int | None = None) -> tuple[int, tuple[TeamSummary, ...]]:
        """(the season, its constructors in championship order)."""
        year = await resolve_season(self._f1, season)
        table = await self._f1.constructor_standings(year)
        return year, tuple(
            TeamSummary(
                constructor=s.constructor, position=s.position, points=s.points, wins=s.wins
            )
            for s in table.entries
        )

    async def driver(self, driver_id: str, season: int | None = None) -> DriverProfile | None:
        """The driver's profile of ``season``: its standing and races, and a career over
        :data:`CAREER_SEASONS` seasons ending with it. ``driver_id`` is Jolpica's
        (``max_verstappen``), compared exactly."""
        params.driver_id(driver_id, field="driver_id")
        year = await resolve_season(self._f1, season)
        standing = await self._standing(year, driver_id)
        if standing is None:
            return None
        first = max(params.FIRST_SEASON, year - CAREER_SEASONS + 1)
        earlier = await asyncio.gather(
            *(self._career_season(y, driver_id) for y in range(first, year))
        )
        races = driver_races(await self._f1.results(year), driver_id)
        finished = self._f1.season_finished(await self._f1.schedule(year))
        this_season = career_season(standing, races, year=year, finished=finished)
        return DriverProfile(
            driver=standing.driver,
            current_season=driver_season(standing, races, season=year, finished=finished),
            race_results=races,
            career=career(first, year, [s for s in earlier if s is not None] + [this_season]),
        )

    async def team(self, constructor_id: str, season: int | None = None) -> TeamProfile | None:
        """The team's profile of ``season``: its standing, its drivers and each race's
        rows. ``constructor_id`` is Jolpica's (``red_bull``), compared exactly."""
        check_constructor_id(constructor_id)
        year = await resolve_season(self._f1, season)
        table = await self._f1.constructor_standings(year)
        standing = next(
            (s for s in table.entries if s.constructor.constructor_id == constructor_id), None
        )
        if standing is None:
            return None
        drivers_table, results, schedule = await asyncio.gather(
            self._f1.driver_standings(year), self._f1.results(year), self._f1.schedule(year)
        )
        races = team_races(results, constructor_id)
        rows = [row for race in races for row in race.results]
        return TeamProfile(
            constructor=standing.constructor,
            current_season=TeamSeason(
                season=year,
                position=standing.position,
                points=standing.points,
                wins=standing.wins,
                drivers=team_drivers(races, drivers_table.entries),
                races=len(races),
                podiums=sum(row.podium for row in rows),
                dnfs=sum(row.dnf for row in rows),
                finished=self._f1.season_finished(schedule),
            ),
            race_results=races,
        )

    async def _standing(self, season: int, driver_id: str) -> DriverStanding | None:
        table = await self._f1.driver_standings(season)
        return next((s for s in table.entries if s.driver.driver_id == driver_id), None)

    async def _career_season(self, season: int, driver_id: str) -> CareerSeason | None:
        standing = await self._standing(season, driver_id)
        if standing is None:
            return None
        races = driver_races(await self._f1.results(season), driver_id)
        finished = self._f1.season_finished(await self._f1.schedule(season))
        return career_season(standing, races, year=season, finished=finished)
