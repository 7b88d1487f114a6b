"""Tyre strategy of a race and of one driver in it (the frontend's strategy page).

The numbers come from the race session's stints and laps (:class:`SessionService`, one
cached FastF1 load); the rules are in :mod:`pypole_gql.domain.strategy`.

The finishing order is the real classification, not laps covered: the session's own
results (FastF1's ``Position``, which FastF1 takes from the official classification and
which orders the retirements too) when every driver of the report has one; otherwise
Jolpica's results of that round (:meth:`F1Service.results`, matched by ``driverId``, then
by code); otherwise laps covered. The report says which it used.
"""

from __future__ import annotations

from pypole_gql.domain.sessions import SessionData, require_driver
from pypole_gql.domain.strategy import (
    ClassificationSource,
    DriverStrategyDetail,
    RaceStrategy,
    driver_strategy_detail,
    race_strategy,
)
from pypole_gql.errors import UpstreamUnavailable
from pypole_gql.logging import get_logger
from pypole_gql.services.f1 import F1Service
from pypole_gql.services.sessions import SessionService

log = get_logger("pypole.strategy")
RACE: str = "R"


class StrategyService:
    """Strategy reports; errors are :meth:`SessionService.session`'s (bad year or race:
    ``BadUserInput``; no such event: ``NotFound``; data not loadable:
    ``UpstreamUnavailable``)."""

    def __init__(self, sessions: SessionService, f1: F1Service) -> None:
        self._sessions = sessions
        self._f1 = f1

    async def race(self, year: int, race: int | str) -> RaceStrategy:
        """Every driver's strategy, pit windows and compound performance of the race."""
        data = await self._sessions.session(year, race, RACE)
        positions, source = await self.classification(data)
        return race_strategy(data, positions, source)

    async def driver(self, year: int, race: int | str, driver: str) -> DriverStrategyDetail:
        """One driver's stints (code or car number), with degradation and pace per stint;
        a driver not in the race is ``NotFound``."""
        data = await self._sessions.session(year, race, RACE)
        return driver_strategy_detail(data, require_driver(data, driver))

    async def classification(
        self, data: SessionData
    ) -> tuple[dict[str, int], ClassificationSource]:
        """Car number -> finishing position for the drivers who have stints, and where
        the order comes from (see the module docstring)."""
        racing = {stint.driver_number for stint in data.stints}
        own = {d.number: d.position for d in data.drivers if d.position is not None}
        if racing <= own.keys():
            return own, ClassificationSource.FASTF1
        try:
            entry = (await self._f1.results(data.info.year)).for_round(data.info.round)
        except UpstreamUnavailable:
            log.warning("strategy.results_unavailable", year=data.info.year, round=data.info.round)
            entry = None
        if entry is not None:
            by_id = {r.driver.driver_id: r.position for r in entry.rows if r.position is not None}
            by_code = {
                r.driver.code: r.position
                for r in entry.rows
                if r.position is not None and r.driver.code
            }
            positions: dict[str, int] = {}
            for d in data.drivers:
                found = by_id.get(d.driver_id or "") or by_code.get(d.code)
                if found is not None:
                    positions[d.number] = found
            if positions:
                return positions, ClassificationSource.JOLPICA
        return {}, ClassificationSource.LAPS
