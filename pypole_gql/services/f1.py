"""Championship data (schedule, results, standings, drivers): the one way the app asks.

GraphQL resolvers and REST handlers both call :class:`F1Service`; neither talks to
Jolpica. Every answer goes through :meth:`Cache.get_or_load` under a ``jolpica:...`` key,
so concurrent requests for the same table cost one upstream load, a cached table is
served stale when Jolpica is down, and empty answers (an unknown season) are cached too.

Freshness: a season that is over changes no more, so its tables are kept ``archive_ttl``
seconds; the current season (and ``current``/``next``) ``jolpica_ttl``. A season is over
one day after its last race started (see :data:`RESULTS_SETTLE`).

What is cached is Jolpica's own JSON (merged across pages), re-parsed on every read: the
REST shim needs those objects verbatim, and one encoding serves both.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Any, Final, Protocol, TypeVar

import orjson

from pypole_gql.cache import Cache
from pypole_gql.clock import service_clock, utcnow
from pypole_gql.config import Settings
from pypole_gql.domain import params
from pypole_gql.domain.f1 import (
    Constructor,
    ConstructorStanding,
    Driver,
    DriverStanding,
    JolpicaPitStop,
    QualifyingResult,
    Race,
    RaceResult,
    RawObject,
    Schedule,
    SeasonTable,
    Standings,
)
from pypole_gql.upstream.jolpica import JolpicaClient
from pypole_gql.upstream.jolpica_parse import (
    parse_constructor,
    parse_constructor_standing,
    parse_driver,
    parse_driver_standing,
    parse_pit_stops,
    parse_qualifying,
    parse_race,
    parse_results,
    parse_schedule,
)


class _FromJolpica(Protocol):
    @property
    def raw(self) -> RawObject: ...


T = TypeVar("T")
Row = TypeVar("Row", bound=_FromJolpica)

#: How long after the last race starts its season still counts as running. Jolpica fills
#: in results and standings over the hours after a race and stewards may still change
#: them; a table cached for a month the moment the race started would freeze that.
RESULTS_SETTLE: Final = timedelta(days=1)


class F1Service:
    """Cached championship data from Jolpica.

    Every method raises :class:`UpstreamUnavailable` when Jolpica fails and nothing is
    cached (not even stale), and :class:`~pypole_gql.errors.InvalidParam` for a season,
    round or driver id that cannot exist (:mod:`pypole_gql.domain.params`). Unknown but
    plausible ones are empty answers (``None``, empty tuples), never errors: the edges
    decide whether that is a 404 or a ``null``.
    """

    def __init__(
        self,
        client: JolpicaClient,
        cache: Cache,
        *,
        live_ttl: int,
        archive_ttl: int,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._client = client
        self._cache = cache
        self.live_ttl = live_ttl
        self.archive_ttl = archive_ttl
        self._clock = clock

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        client: JolpicaClient,
        cache: Cache,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> F1Service:
        """``clock``: the services' "now"; ``None`` is PYPOLE_NOW's moment or the wall clock."""
        return cls(
            client,
            cache,
            live_ttl=settings.jolpica_ttl,
            archive_ttl=settings.archive_ttl,
            clock=clock or service_clock(settings),
        )

    def current_year(self) -> int:
        """The year of the service's clock: seasons up to a few ahead of it exist
        (:func:`pypole_gql.domain.params.latest_season`)."""
        return self._clock().year

    def _season(self, season: int) -> int:
        return params.season(season, self.current_year())

    # -- schedule --------------------------------------------------------------------

    async def schedule(self, season: int) -> Schedule:
        """The season's calendar (empty when Jolpica has no such season)."""
        self._season(season)
        # A season's calendar can only change before the year is out.
        ttl = self.archive_ttl if season < self._clock().year else self.live_ttl
        return await self._cached(
            f"jolpica:schedule:{season}",
            lambda: self._client.schedule(season),
            ttl,
            _encode_schedule,
            _decode_schedule,
        )

    async def current_schedule(self) -> Schedule:
        """The current season's calendar, as Jolpica's ``current`` names it."""
        return await self._cached(
            "jolpica:schedule:current",
            lambda: self._client.schedule("current"),
            self.live_ttl,
            _encode_schedule,
            _decode_schedule,
        )

    async def race(self, season: int, round_: int) -> Race | None:
        """One round of the calendar, None when the season has no such round."""
        params.round_number(round_)
        return (await self.schedule(season)).race(round_)

    async def next_race(self) -> Race | None:
        """The next race to start, None when no upcoming race is published.

        Jolpica decides which race is next (it may be in the following season); the race
        itself comes from that season's calendar, which also lists its sessions.
        """
        upcoming = await self._cached(
            "jolpica:next",
            self._client.next_race,
            self.live_ttl,
            lambda race: _dumps(None if race is None else race.raw),
            lambda data: _optional(orjson.loads(data), parse_race),
        )
        if upcoming is None:
            return None
        return (await self.schedule(upcoming.season)).race(upcoming.round) or upcoming

    def season_finished(self, schedule: Schedule) -> bool:
        """True once the season's last race is over (and :data:`RESULTS_SETTLE` passed)."""
        if not schedule.races:
            return False
        last = schedule.races[-1]
        start = last.starts_at or datetime.combine(last.date, time.min, tzinfo=UTC)
        return start + RESULTS_SETTLE <= self._clock()

    async def _season_ttl(self, season: int) -> int:
        return (
            self.archive_ttl
            if self.season_finished(await self.schedule(season))
            else (self.live_ttl)
        )

    # -- results-like tables -------------------------------------------------------------

    async def results(self, season: int) -> SeasonTable[RaceResult]:
        """Every race result of the season, all rounds (one season-wide load)."""
        return await self._season_table(
            "results", season, self._client.results, "Results", parse_results
        )

    async def sprint(self, season: int) -> SeasonTable[RaceResult]:
        """Every sprint result of the season; rounds without a sprint are absent."""
        return await self._season_table(
            "sprint", season, self._client.sprint, "SprintResults", parse_results
        )

    async def qualifying(self, season: int) -> SeasonTable[QualifyingResult]:
        """Every qualifying result of the season, all rounds (one season-wide load)."""
        return await self._season_table(
            "qualifying",
            season,
            self._client.qualifying,
            "QualifyingResults",
            lambda s, races, _key: parse_qualifying(s, races),
        )

    async def _season_table(
        self,
        kind: str,
        season: int,
        fetch: Callable[[int], Awaitable[SeasonTable[Row]]],
        rows_key: str,
        parse: Callable[[int, Sequence[RawObject], str], SeasonTable[Row]],
    ) -> SeasonTable[Row]:
        self._season(season)

        def decode(data: bytes) -> SeasonTable[Row]:
            body = orjson.loads(data)
            return parse(int(body["season"]), body["races"], rows_key)

        return await self._cached(
            f"jolpica:{kind}:{season}",
            lambda: fetch(season),
            await self._season_ttl(season),
            lambda table: _dumps({"season": table.season, "races": [e.raw for e in table.races]}),
            decode,
        )

    async def pit_stops(self, season: int, round_: int) -> tuple[JolpicaPitStop, ...]:
        """Every pit stop of one race (empty when Jolpica has none, or no such race)."""
        self._season(season)
        params.round_number(round_)
        return await self._cached(
            f"jolpica:pitstops:{season}:{round_}",
            lambda: self._client.pit_stops(season, round_),
            await self._season_ttl(season),
            lambda stops: _dumps([stop.raw for stop in stops]),
            lambda data: parse_pit_stops(orjson.loads(data)),
        )

    # -- standings -------------------------------------------------------------------

    async def driver_standings(
        self, season: int, round_: int | None = None
    ) -> Standings[DriverStanding]:
        """The drivers' championship after ``round_``, or after the latest round."""
        return await self._standings(
            "drivers", season, round_, self._client.driver_standings, parse_driver_standing
        )

    async def constructor_standings(
        self, season: int, round_: int | None = None
    ) -> Standings[ConstructorStanding]:
        """The constructors' championship after ``round_``, or after the latest round."""
        return await self._standings(
            "constructors",
            season,
            round_,
            self._client.constructor_standings,
            parse_constructor_standing,
        )

    async def _standings(
        self,
        kind: str,
        season: int,
        round_: int | None,
        fetch: Callable[[int, int | None], Awaitable[Standings[Row]]],
        parse: Callable[[RawObject], Row],
    ) -> Standings[Row]:
        self._season(season)
        key = f"jolpica:standings:{kind}:{season}"
        if round_ is not None:
            params.round_number(round_)
            key += f":{round_}"

        def decode(data: bytes) -> Standings[Row]:
            body = orjson.loads(data)
            entries = tuple(parse(raw) for raw in body["entries"])
            return Standings(season=int(body["season"]), round=body["round"], entries=entries)

        return await self._cached(
            key,
            lambda: fetch(season, round_),
            await self._season_ttl(season),
            lambda table: _dumps(
                {
                    "season": table.season,
                    "round": table.round,
                    "entries": [entry.raw for entry in table.entries],
                }
            ),
            decode,
        )

    # -- people ------------------------------------------------------------------------

    async def drivers(self, season: int) -> tuple[Driver, ...]:
        """The drivers of the season."""
        return await self._people("drivers", season, self._client.drivers, parse_driver)

    async def constructors(self, season: int) -> tuple[Constructor, ...]:
        """The constructors of the season."""
        return await self._people(
            "constructors", season, self._client.constructors, parse_constructor
        )

    async def _people(
        self,
        kind: str,
        season: int,
        fetch: Callable[[int], Awaitable[tuple[Row, ...]]],
        parse: Callable[[RawObject], Row],
    ) -> tuple[Row, ...]:
        self._season(season)
        return await self._cached(
            f"jolpica:{kind}:{season}",
            lambda: fetch(season),
            await self._season_ttl(season),
            lambda rows: _dumps([row.raw for row in rows]),
            lambda data: tuple(parse(raw) for raw in orjson.loads(data)),
        )

    async def driver(self, driver_id: str) -> Driver | None:
        """One driver by Jolpica id, None when there is no such driver."""
        params.driver_id(driver_id)
        return await self._cached(
            f"jolpica:driver:{driver_id}",
            lambda: self._client.driver(driver_id),
            self.live_ttl,
            lambda driver: _dumps(None if driver is None else driver.raw),
            lambda data: _optional(orjson.loads(data), parse_driver),
        )

    # -- plumbing ----------------------------------------------------------------------

    async def _cached(
        self,
        key: str,
        load: Callable[[], Awaitable[T]],
        ttl: int,
        encode: Callable[[T], bytes],
        decode: Callable[[bytes], T],
    ) -> T:
        value: T = await self._cache.get_or_load(
            key, load, ttl=ttl, encode=encode, decode=decode, compress=True
        )
        return value


def _dumps(value: Any) -> bytes:
    return orjson.dumps(value)


def _optional(raw: RawObject | None, parse: Callable[[RawObject], T]) -> T | None:
    return None if raw is None else parse(raw)


def _encode_schedule(schedule: Schedule) -> bytes:
    return _dumps({"season": schedule.season, "races": [race.raw for race in schedule.races]})


def _decode_schedule(data: bytes) -> Schedule:
    body = orjson.loads(data)
    return parse_schedule(int(body["season"]), body["races"])
