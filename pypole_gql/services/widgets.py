"""Dashboard widgets (the older frontend's ``/widgets`` routes): catalogue and data.

Every widget is about the current season (:mod:`pypole_gql.services.seasons`) and falls
back to the previous season while the current one has nothing to show yet (no standings,
no race run): the data says which season it shows. The last race is the latest round
with published results.

Favourites resolve by driver code or ``driverId`` and by team name or ``constructorId``
(:mod:`pypole_gql.domain.favourites`), and show that driver's or team's profile of the
season they were found in (:class:`ProfileService`).

:meth:`WidgetService.data` always returns a :class:`WidgetResult`: an unknown widget, a
favourite not in the season or an upstream failure is an ``error`` in it, never an
exception (REST: 200 with ``error`` in the body). Only bugs escape.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Final, TypeVar

from pypole_gql.clock import utcnow
from pypole_gql.domain import params
from pypole_gql.domain.calendar import race_data_published
from pypole_gql.domain.f1 import (
    ConstructorStanding,
    DriverStanding,
    RaceResult,
    RaceRows,
    Standings,
)
from pypole_gql.domain.favourites import match_driver, match_team
from pypole_gql.domain.profiles import DriverProfile, TeamProfile
from pypole_gql.domain.sessions import fastest_lap
from pypole_gql.domain.users import User
from pypole_gql.domain.widgets import (
    WIDGETS,
    CalendarWidget,
    ConstructorStandingsWidget,
    DriverStandingsWidget,
    FastestLapWidget,
    LastRaceWidget,
    LeaderWidget,
    RecentPredictionsWidget,
    WidgetInfo,
    WidgetResult,
)
from pypole_gql.errors import AppError
from pypole_gql.logging import get_logger
from pypole_gql.services.f1 import F1Service
from pypole_gql.services.predictions import PredictionService
from pypole_gql.services.profiles import ProfileService
from pypole_gql.services.seasons import (
    current_season,
    latest_constructor_standings,
    latest_driver_standings,
)
from pypole_gql.services.sessions import SessionService

log = get_logger("pypole.widgets")

#: Rows of the standings widgets.
TOP: Final = 10
#: Predictions in the recent-predictions widget.
RECENT_PREDICTIONS: Final = 5
WIDGET_NOT_FOUND: Final = "Widget not found"
SIGN_IN: Final = "Sign in to see this widget"

Entry = TypeVar("Entry", DriverStanding, ConstructorStanding)


class WidgetService:
    """The widget catalogue and each widget's data; see the module docstring."""

    def __init__(
        self,
        f1: F1Service,
        sessions: SessionService,
        profiles: ProfileService,
        predictions: PredictionService,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._f1 = f1
        self._sessions = sessions
        self._profiles = profiles
        self._predictions = predictions
        self._clock = clock
        self._build: dict[str, Callable[[User | None], Awaitable[WidgetResult]]] = {
            "next_race": self._next_race,
            "driver_standings": self._driver_standings,
            "constructor_standings": self._constructor_standings,
            "favorite_driver": self._favorite_driver,
            "favorite_team": self._favorite_team,
            "race_calendar": self._race_calendar,
            "last_race_results": self._last_race_results,
            "fastest_lap": self._fastest_lap,
            "championship_leader": self._championship_leader,
            "recent_predictions": self._recent_predictions,
        }

    @staticmethod
    def available() -> tuple[WidgetInfo, ...]:
        return WIDGETS

    async def data(self, widget_id: str, user: User | None = None) -> WidgetResult:
        """The widget's data for ``user`` (``None``: the public variant, no personal data)."""
        build = self._build.get(widget_id)
        if build is None:
            return WidgetResult(widget_id, None, error=WIDGET_NOT_FOUND)
        try:
            return await build(user)
        except AppError as exc:
            log.warning("widgets.failed", widget=widget_id, error=exc.code)
            return WidgetResult(widget_id, None, error=exc.message)

    # -- one per widget -----------------------------------------------------------------

    async def _next_race(self, _user: User | None) -> WidgetResult:
        race = await self._f1.next_race()
        if race is None:
            return WidgetResult("next_race", None, message="No upcoming races found")
        return WidgetResult("next_race", race)

    async def _driver_standings(self, _user: User | None) -> WidgetResult:
        table = await latest_driver_standings(self._f1)
        data = DriverStandingsWidget(table.season, table.entries[:TOP], len(table.entries))
        return WidgetResult("driver_standings", data)

    async def _constructor_standings(self, _user: User | None) -> WidgetResult:
        table = await latest_constructor_standings(self._f1)
        data = ConstructorStandingsWidget(table.season, table.entries[:TOP], len(table.entries))
        return WidgetResult("constructor_standings", data)

    async def _championship_leader(self, _user: User | None) -> WidgetResult:
        table = await latest_driver_standings(self._f1)
        if not table.entries:
            return WidgetResult("championship_leader", None, message="No standings available")
        return WidgetResult("championship_leader", LeaderWidget(table.season, table.entries[0]))

    async def _race_calendar(self, _user: User | None) -> WidgetResult:
        schedule = await self._f1.current_schedule()
        if not schedule.races and schedule.season > params.FIRST_SEASON:
            previous = await self._f1.schedule(schedule.season - 1)
            schedule = previous if previous.races else schedule
        data = CalendarWidget(schedule.season, schedule.races, len(schedule.races))
        return WidgetResult("race_calendar", data)

    async def _last_race(self) -> RaceRows[RaceResult] | None:
        season = await current_season(self._f1)
        for year in (season, season - 1):
            if year < params.FIRST_SEASON:
                break
            table = await self._f1.results(year)
            if table.races:
                return max(table.races, key=lambda entry: entry.race.round)
        return None

    async def _last_race_results(self, _user: User | None) -> WidgetResult:
        last = await self._last_race()
        if last is None:
            return WidgetResult("last_race_results", None, message="No completed races yet")
        return WidgetResult("last_race_results", LastRaceWidget(last.race, last))

    async def _fastest_lap(self, _user: User | None) -> WidgetResult:
        last = await self._last_race()
        if last is None:
            return WidgetResult("fastest_lap", None, message="No completed races yet")
        race = last.race
        lap = None
        if race.season >= params.FIRST_TIMING_SEASON and race_data_published(race, self._clock()):
            try:
                lap = fastest_lap(await self._sessions.session(race.season, race.round, "R"))
            except AppError as exc:
                log.warning(
                    "widgets.timing_unavailable", year=race.season, round=race.round, error=exc.code
                )
        return WidgetResult("fastest_lap", FastestLapWidget(race, lap))

    async def _favorite_driver(self, user: User | None) -> WidgetResult:
        return await _favourite(
            "favorite_driver",
            "Driver",
            None if user is None else user.favorite_driver,
            lambda: latest_driver_standings(self._f1),
            match_driver,
            lambda standing, season: self._profiles.driver(standing.driver.driver_id, season),
        )

    async def _favorite_team(self, user: User | None) -> WidgetResult:
        return await _favourite(
            "favorite_team",
            "Team",
            None if user is None else user.favorite_team,
            lambda: latest_constructor_standings(self._f1),
            match_team,
            lambda standing, season: self._profiles.team(
                standing.constructor.constructor_id, season
            ),
        )

    async def _recent_predictions(self, user: User | None) -> WidgetResult:
        if user is None:
            return WidgetResult("recent_predictions", None, message=SIGN_IN)
        found = await self._predictions.recent(user.id, RECENT_PREDICTIONS)
        return WidgetResult("recent_predictions", RecentPredictionsWidget(found))


async def _favourite(
    widget_id: str,
    what: str,
    favourite: str | None,
    standings: Callable[[], Awaitable[Standings[Entry]]],
    match: Callable[[Sequence[Entry], str], Entry | None],
    profile: Callable[[Entry, int], Awaitable[DriverProfile | TeamProfile | None]],
) -> WidgetResult:
    """The profile of the user's ``favourite`` (a driver or team) in the latest standings
    that have entries, or the message or error saying why there is none."""
    if not favourite:
        return WidgetResult(widget_id, None, message=f"No {widget_id.replace('_', ' ')} set")
    table = await standings()
    standing = match(table.entries, favourite)
    found = None if standing is None else await profile(standing, table.season)
    if found is None:
        return WidgetResult(
            widget_id, None, error=f"{what} {favourite} not found in {table.season} season"
        )
    return WidgetResult(widget_id, found)
