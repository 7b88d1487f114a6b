"""The race-weekend hub: schedule, results so far, and the race's timing highlights.

Only what has happened is asked for: qualifying, sprint and race results are read once
their session has started (qualifying, in calendars that list the race only, once the
race has) (each a season-wide Jolpica table, shared with every other
page), and the FastF1 race session (fastest lap, pit stops) is loaded only once the race
is over (:func:`~pypole_gql.domain.calendar.race_data_published`) and in a season with
timing data. A FastF1 failure leaves those two ``None``; it never fails the hub.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from pypole_gql.clock import utcnow
from pypole_gql.domain import params
from pypole_gql.domain.calendar import (
    SessionKind,
    race_data_published,
    weekend_sessions,
)
from pypole_gql.domain.f1 import Race
from pypole_gql.domain.race_weekend import (
    PitStops,
    RaceWeekend,
    pit_stops,
    weekend_status,
)
from pypole_gql.domain.sessions import Lap, fastest_lap
from pypole_gql.domain.strategy import stint_compounds
from pypole_gql.errors import AppError
from pypole_gql.logging import get_logger
from pypole_gql.services.f1 import F1Service
from pypole_gql.services.sessions import SessionService

log = get_logger("pypole.race_weekend")


class RaceWeekendService:
    """Race-weekend hubs. Jolpica down with nothing cached is ``UpstreamUnavailable``; an
    impossible season or round is ``BadUserInput``."""

    def __init__(
        self,
        f1: F1Service,
        sessions: SessionService,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._f1 = f1
        self._sessions = sessions
        self._clock = clock

    async def current(self) -> RaceWeekend | None:
        """The weekend of the next race to start (Jolpica's ``next``: it may be the first
        race of the next season); ``None`` when no upcoming race is published (REST:
        ``null``). A weekend stays current until its race starts."""
        race = await self._f1.next_race()
        return None if race is None else await self._hub(race)

    async def weekend(self, year: int, round_: int) -> RaceWeekend | None:
        """The weekend of ``round_`` of ``year``; ``None`` when the calendar has no such
        round (REST: 404 ``"Race not found: {year} round {round}"``)."""
        race = await self._f1.race(year, round_)
        return None if race is None else await self._hub(race)

    async def _hub(self, race: Race) -> RaceWeekend:
        now = self._clock()
        sessions = weekend_sessions(race)

        def started(kind: SessionKind) -> bool:
            listed = [s for s in sessions if s.kind is kind]
            if not listed and kind is SessionKind.QUALIFYING:
                # Older calendars list the race only; qualifying was over once it started.
                listed = [s for s in sessions if s.kind is SessionKind.RACE]
            return any(s.start <= now for s in listed)

        results = qualifying = sprint = None
        if started(SessionKind.QUALIFYING):
            qualifying = (await self._f1.qualifying(race.season)).for_round(race.round)
        if started(SessionKind.SPRINT):
            sprint = (await self._f1.sprint(race.season)).for_round(race.round)
        if started(SessionKind.RACE):
            results = (await self._f1.results(race.season)).for_round(race.round)
        fastest, stops = await self._timing(race, now)
        return RaceWeekend(
            year=race.season,
            round=race.round,
            race=race,
            sessions=sessions,
            status=weekend_status(sessions, race, results_published=results is not None, now=now),
            results=results,
            qualifying=qualifying,
            sprint=sprint,
            fastest_lap=fastest,
            pit_stops=stops,
        )

    async def _timing(self, race: Race, now: datetime) -> tuple[Lap | None, PitStops | None]:
        if race.season < params.FIRST_TIMING_SEASON or not race_data_published(race, now):
            return None, None
        try:
            data = await self._sessions.session(race.season, race.round, "R")
        except AppError as exc:
            log.warning(
                "race_weekend.timing_unavailable",
                year=race.season,
                round=race.round,
                error=exc.code,
            )
            return None, None
        if not data.info.laps_available or not data.stints:
            # Loaded, but the archive had no lap data for it: nothing to say, not "no stops".
            return None, None
        return fastest_lap(data), pit_stops(stint_compounds(data))
