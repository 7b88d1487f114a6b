"""Driver against driver, over a season and in one race (the frontend's comparison page).

Rules of each comparison are in :mod:`pypole_gql.domain.comparison`.
"""

from __future__ import annotations

import asyncio

from pypole_gql.domain import params
from pypole_gql.domain.comparison import (
    RaceComparison,
    SeasonComparison,
    compared_driver,
    head_to_head,
    lap_delta,
    race_side,
    season_duels,
)
from pypole_gql.domain.sessions import require_driver
from pypole_gql.errors import BadUserInput
from pypole_gql.services.f1 import F1Service
from pypole_gql.services.seasons import resolve_season
from pypole_gql.services.sessions import SessionService


class ComparisonService:
    """Season comparisons from Jolpica (:class:`F1Service`), race ones from FastF1
    (:class:`SessionService`)."""

    def __init__(self, f1: F1Service, sessions: SessionService) -> None:
        self._f1 = f1
        self._sessions = sessions

    async def season(
        self, driver1: str, driver2: str, season: int | None = None
    ) -> SeasonComparison | None:
        """Two Jolpica driver ids over ``season`` (default current).

        ``None`` when either driver is not in the season's standings (REST: 404 "One or
        both drivers not found in standings"). The same id twice, or a malformed one, is
        :class:`BadUserInput` naming ``driver1``/``driver2``. Upstream cost: the season's
        standings, results and calendar (~7 Jolpica requests cold, none warm).
        """
        params.driver_id(driver1, field="driver1")
        params.driver_id(driver2, field="driver2")
        if driver1 == driver2:
            raise BadUserInput("driver2 must be another driver than driver1", field="driver2")
        year = await resolve_season(self._f1, season)
        standings, results = await asyncio.gather(
            self._f1.driver_standings(year), self._f1.results(year)
        )
        by_id = {s.driver.driver_id: s for s in standings.entries}
        one, two = by_id.get(driver1), by_id.get(driver2)
        if one is None or two is None:
            return None
        duels = season_duels(results, driver1, driver2)
        return SeasonComparison(
            season=year,
            driver1=compared_driver(one),
            driver2=compared_driver(two),
            head_to_head=head_to_head(duels, driver1, driver2),
            race_by_race=duels,
        )

    async def race(
        self,
        year: int,
        race: int | str,
        driver1: str,
        driver2: str,
        *,
        session_type: str = "R",
    ) -> RaceComparison:
        """Two drivers (codes such as ``VER``, or car numbers) in one session's laps.

        Errors are :meth:`SessionService.session`'s; a driver who is not in the session
        is :class:`~pypole_gql.errors.NotFound`.
        """
        for field, value in (("driver1", driver1), ("driver2", driver2)):
            if not value.strip() or len(value) > 8 or not value.strip().isalnum():
                raise BadUserInput(
                    f"{field} must be a driver code (VER) or a car number", field=field
                )
        data = await self._sessions.session(year, race, session_type)
        one = race_side(data, require_driver(data, driver1))
        two = race_side(data, require_driver(data, driver2))
        return RaceComparison(
            year=data.info.year,
            round=data.info.round,
            event_name=data.info.event_name,
            driver1=one,
            driver2=two,
            delta=lap_delta(one, two),
        )
