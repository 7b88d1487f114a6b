"""GraphQL for loaded sessions (FastF1 data): laps, stints, fastest laps, telemetry, and
the fields answering the session's records (:mod:`.session_records`) and lap analysis
(:mod:`.session_analysis`).

``Query.session`` and ``Race.session`` resolve through one DataLoader made per request, so
a query asking for laps, stints and telemetry of a session, from either entry point,
costs one session load (and :class:`SessionService` makes that one load shared by every
request and instance). Types are built from :mod:`pypole_gql.domain.sessions` objects.

Telemetry is columnar, one list per channel: a list of per-sample objects would cost a
resolver call per sample.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from typing import Annotated

import strawberry
from strawberry.dataloader import DataLoader

from pypole_gql.domain import sessions as domain
from pypole_gql.domain.params import SessionRequest
from pypole_gql.errors import BadUserInput
from pypole_gql.graphql import f1_loaders
from pypole_gql.graphql.context import Info
from pypole_gql.graphql.drivers import Driver
from pypole_gql.graphql.session_analysis import LapComparison, Telemetry, TrackMap
from pypole_gql.graphql.session_records import (
    LapPosition,
    PitStop,
    RaceControlMessage,
    SessionResult,
    TrackStatusChange,
    WeatherSample,
    WeatherSeries,
)
from pypole_gql.graphql.session_type import DEFAULT_TYPE, SessionType
from pypole_gql.services.sessions import SessionService

#: The most drivers or lap numbers one filter argument may list.
MAX_FILTER_ITEMS = 100
#: The most distinct sessions one request may ask for: each cold one is seconds of work
#: in the worker pool and hundreds of MB there, so ``season { races { session } }`` must
#: not start a load per race.
MAX_SESSIONS_PER_REQUEST = 3


def _service(info: Info) -> SessionService:
    return info.context.resources.sessions


def _sessions(info: Info) -> DataLoader[SessionRequest, domain.SessionData]:
    service = _service(info)

    async def load(keys: list[SessionRequest]) -> Sequence[domain.SessionData | BaseException]:
        return await asyncio.gather(*(service.load(key) for key in keys), return_exceptions=True)

    return info.context.loader(("sessions", "session"), lambda: DataLoader(load_fn=load))


async def load_session(info: Info, year: int, race: int | str, kind: SessionType) -> RaceSession:
    """The session through the request's loader (``Query.session`` and ``Race.session``).

    The service parses the arguments first, so a session counts once against
    :data:`MAX_SESSIONS_PER_REQUEST` however it is named ("4", " 4") and one that cannot
    exist does not count."""
    key = _service(info).request(year, race, kind.name)
    asked: set[SessionRequest] = info.context.cache.setdefault(("sessions", "asked"), set())
    asked.add(key)
    if len(asked) > MAX_SESSIONS_PER_REQUEST:
        raise BadUserInput(
            f"One request may ask for at most {MAX_SESSIONS_PER_REQUEST} sessions",
            field="session",
        )
    return RaceSession.of(await _sessions(info).load(key))


def _filter(values: list[str] | list[int] | None, field: str) -> None:
    if values is not None and len(values) > MAX_FILTER_ITEMS:
        raise BadUserInput(f"{field} may list at most {MAX_FILTER_ITEMS} items", field=field)


MaxPoints = Annotated[
    int | None,
    strawberry.argument(
        description="Downsample evenly to this many samples (2 or more), keeping the first "
        "and the last; full resolution when omitted."
    ),
]


@strawberry.type(description="One lap of one driver, as FastF1's Session.laps has it.")
class Lap:
    driver: str = strawberry.field(description="Three-letter driver code.")
    lap_number: int = strawberry.field(description="Lap number (from 1).")
    lap_time: float | None = strawberry.field(description="Lap time in seconds.")
    sector1_time: float | None = strawberry.field(description="Sector 1 time in seconds.")
    sector2_time: float | None = strawberry.field(description="Sector 2 time in seconds.")
    sector3_time: float | None = strawberry.field(description="Sector 3 time in seconds.")
    compound: str | None = strawberry.field(
        description="Tyre compound: SOFT, MEDIUM, HARD, INTERMEDIATE, WET (older seasons: "
        "HYPERSOFT, ULTRASOFT, SUPERSOFT...); null when FastF1 has none (it gives NaN, the "
        'string "nan" or "" for some laps, e.g. lap 1 of the 2018 Azerbaijan GP).'
    )
    tyre_life: int | None = strawberry.field(
        description="Laps driven on this set of tyres, this lap included."
    )
    fresh_tyre: bool | None = strawberry.field(description="Whether the set was new.")
    stint: int | None = strawberry.field(description="Stint number (from 1).")
    position: int | None = strawberry.field(description="Position at the end of the lap.")
    is_personal_best: bool = strawberry.field(
        description="Whether it was the driver's fastest lap so far (never a deleted lap)."
    )
    deleted: bool | None = strawberry.field(
        description="Whether the stewards deleted the lap time (track limits...)."
    )
    is_accurate: bool = strawberry.field(
        description="Whether FastF1 could check the lap's timing against other sources."
    )
    pit_in_time: float | None = strawberry.field(
        description="Session time (seconds) the car entered the pit lane on this lap."
    )
    pit_out_time: float | None = strawberry.field(
        description="Session time (seconds) the car left the pit lane on this lap."
    )
    track_status: str | None = strawberry.field(
        description="Track status codes seen during the lap (1 clear, 2 yellow, 4 safety "
        "car, 5 red, 6/7 virtual safety car)."
    )
    _lap: strawberry.Private[domain.Lap]
    _data: strawberry.Private[domain.SessionData]

    @classmethod
    def of(cls, lap: domain.Lap, data: domain.SessionData) -> Lap:
        return cls(
            driver=lap.driver,
            lap_number=lap.lap_number,
            lap_time=lap.lap_time,
            sector1_time=lap.sector1_time,
            sector2_time=lap.sector2_time,
            sector3_time=lap.sector3_time,
            compound=lap.compound,
            tyre_life=None if lap.tyre_life is None else round(lap.tyre_life),
            fresh_tyre=lap.fresh_tyre,
            stint=lap.stint,
            position=lap.position,
            is_personal_best=lap.is_personal_best,
            deleted=lap.deleted,
            is_accurate=lap.is_accurate,
            pit_in_time=lap.pit_in_time,
            pit_out_time=lap.pit_out_time,
            track_status=lap.track_status,
            _lap=lap,
            _data=data,
        )

    @strawberry.field(description="Car telemetry of this lap; null when none was published.")
    def telemetry(self, max_points: MaxPoints = None) -> Telemetry | None:
        found = SessionService.telemetry(
            self._data, self._lap.driver_number, self.lap_number, max_points=max_points
        )
        return None if found is None else Telemetry.of(found)


@strawberry.type(description="Laps of one driver on one set of tyres.")
class Stint:
    driver: str = strawberry.field(description="Three-letter driver code.")
    stint: int = strawberry.field(description="Stint number (from 1).")
    compound: str | None = strawberry.field(description="Tyre compound.")
    fresh_tyre: bool | None = strawberry.field(description="Whether the set was new.")
    start_lap: int = strawberry.field(description="First lap of the stint.")
    end_lap: int = strawberry.field(description="Last lap of the stint.")
    lap_count: int = strawberry.field(description="Laps in the stint.")
    average_lap_time: float | None = strawberry.field(
        description="Mean lap time in seconds over every timed lap of the stint, in- and "
        "out-laps and safety-car laps included (so far from the stint's pace: 2018 "
        "Azerbaijan GP, Hamilton's third stint); null when none was timed. See "
        "averagePaceTime."
    )
    average_pace_time: float | None = strawberry.field(
        description="Mean lap time in seconds over the stint's quick laps, as FastF1's "
        "Laps.pick_quicklaps() picks them across the session (under 107% of its fastest "
        "lap); null when the stint has none."
    )

    @classmethod
    def of(cls, stint: domain.Stint) -> Stint:
        return cls(
            driver=stint.driver,
            stint=stint.stint,
            compound=stint.compound,
            fresh_tyre=stint.fresh_tyre,
            start_lap=stint.start_lap,
            end_lap=stint.end_lap,
            lap_count=stint.lap_count,
            average_lap_time=stint.average_lap_time,
            average_pace_time=stint.average_pace_time,
        )


@strawberry.type(description="A driver who took part in the session.")
class SessionDriver:
    code: str = strawberry.field(description="Three-letter driver code, e.g. HAM.")
    number: str = strawberry.field(description="Car number in this session.")
    full_name: str | None = strawberry.field(description="Full name.")
    team: str | None = strawberry.field(description="Team name in this session.")
    _driver_id: strawberry.Private[str | None]
    _year: strawberry.Private[int]

    @strawberry.field(
        description="The driver in the championship data; null when it cannot be matched."
    )
    async def driver(self, info: Info) -> Driver | None:
        if self._driver_id is None:
            return None
        # The season's driver list: one cached table for every driver of the session.
        for found in await f1_loaders.drivers(info).load(self._year):
            if found.driver_id == self._driver_id:
                return Driver.of(found)
        return None


DriverFilter = Annotated[
    list[str] | None,
    strawberry.argument(description="Only these drivers (codes or car numbers); all if omitted."),
]


@strawberry.type(
    description="A loaded session of a race weekend: laps, stints, telemetry, results, "
    "weather, race control, track status, pit stops, positions, the track map and lap "
    "comparisons, all from the one FastF1 load."
)
class RaceSession:
    year: int = strawberry.field(description="The season.")
    round: int = strawberry.field(description="The round within the season.")
    event_name: str = strawberry.field(description="The event, e.g. Azerbaijan Grand Prix.")
    type: SessionType = strawberry.field(description="Which session of the weekend.")
    starts_at: dt.datetime | None = strawberry.field(description="Scheduled start (UTC).")
    _data: strawberry.Private[domain.SessionData]

    @classmethod
    def of(cls, data: domain.SessionData) -> RaceSession:
        info = data.info
        return cls(
            year=info.year,
            round=info.round,
            event_name=info.event_name,
            type=SessionType(info.session_type),
            starts_at=info.start_time_utc,
            _data=data,
        )

    @strawberry.field(description="Drivers who took part, in classification order.")
    def drivers(self) -> list[SessionDriver]:
        return [
            SessionDriver(
                code=d.code,
                number=d.number,
                full_name=d.full_name or None,
                team=d.team,
                _driver_id=d.driver_id,
                _year=self.year,
            )
            for d in self._data.drivers
        ]

    @strawberry.field(description="Laps in FastF1's order (by driver, then lap number).")
    def laps(
        self,
        drivers: DriverFilter = None,
        lap_numbers: Annotated[
            list[int] | None, strawberry.argument(description="Only these lap numbers.")
        ] = None,
    ) -> list[Lap]:
        _filter(drivers, "drivers")
        _filter(lap_numbers, "lapNumbers")
        return [
            Lap.of(lap, self._data) for lap in domain.select_laps(self._data, drivers, lap_numbers)
        ]

    @strawberry.field(description="Tyre stints, in order of first appearance.")
    def stints(self, drivers: DriverFilter = None) -> list[Stint]:
        _filter(drivers, "drivers")
        return [Stint.of(s) for s in domain.select_stints(self._data, drivers)]

    @strawberry.field(
        description="The fastest lap as FastF1's pick_fastest() picks it: personal bests "
        "only, deleted laps excluded; null when there is none."
    )
    def fastest_lap(
        self,
        driver: Annotated[
            str | None,
            strawberry.argument(description="Only this driver's laps (code or car number)."),
        ] = None,
    ) -> Lap | None:
        found = domain.fastest_lap(self._data, driver)
        return None if found is None else Lap.of(found, self._data)

    @strawberry.field(description="Car telemetry of one lap; null when none was published.")
    def telemetry(
        self,
        driver: Annotated[str, strawberry.argument(description="Driver code or car number.")],
        lap: Annotated[int, strawberry.argument(description="Lap number.")],
        max_points: MaxPoints = None,
    ) -> Telemetry | None:
        found = SessionService.telemetry(self._data, driver, lap, max_points=max_points)
        return None if found is None else Telemetry.of(found)

    @strawberry.field(
        description="FastF1's Session.results in its order (finishing order for a race, "
        "qualifying order for a qualifying): positions, grid, status, points, Q1/Q2/Q3, "
        "time, team colour, headshot URL."
    )
    def results(self) -> list[SessionResult]:
        return [SessionResult.of(r) for r in domain.results(self._data)]

    @strawberry.field(
        description="FastF1's Session.weather_data, in time order (one sample a minute); "
        "empty when the archive has none for the session. See weatherSeries for the same "
        "columnar."
    )
    def weather(self) -> list[WeatherSample]:
        return [WeatherSample.of(w) for w in domain.weather(self._data)]

    @strawberry.field(description="The rows of weather, columnar: one list per channel.")
    def weather_series(self) -> WeatherSeries:
        return WeatherSeries.of(domain.weather(self._data))

    @strawberry.field(
        description="FastF1's Session.race_control_messages in time order, optionally of "
        "one category and flag (both matched without regard to case)."
    )
    def race_control(
        self,
        category: Annotated[
            str | None,
            strawberry.argument(description="Flag, SafetyCar, Drs, CarEvent or Other."),
        ] = None,
        flag: Annotated[
            str | None,
            strawberry.argument(description="E.g. YELLOW, DOUBLE YELLOW, RED, BLUE, CLEAR."),
        ] = None,
    ) -> list[RaceControlMessage]:
        return [RaceControlMessage.of(m) for m in domain.race_control(self._data, category, flag)]

    @strawberry.field(
        description="FastF1's Session.track_status: each change of the track's status, in "
        "time order (green, yellow, safety car, red, virtual safety car)."
    )
    def track_status(self) -> list[TrackStatusChange]:
        return [TrackStatusChange.of(t) for t in domain.track_status(self._data)]

    @strawberry.field(
        description="Pit stops from FastF1's laps (pit-in and pit-out times, pit-lane time, "
        "tyres before and after), in order of pit-in, with Jolpica's duration of the stop "
        "where Jolpica has it (races)."
    )
    async def pit_stops(self, info: Info, drivers: DriverFilter = None) -> list[PitStop]:
        _filter(drivers, "drivers")
        stops = await _service(info).pit_stops(self._data, drivers)
        return [PitStop.of(s) for s in stops]

    @strawberry.field(
        description="Position, gap to the leader and interval at each lap's end, one row per "
        "lap in FastF1's lap order; gaps from the laps' Time, over every driver."
    )
    def positions(self, drivers: DriverFilter = None) -> list[LapPosition]:
        _filter(drivers, "drivers")
        return [LapPosition.of(p) for p in domain.positions(self._data, drivers)]

    @strawberry.field(
        description="The car's x, y and z through one lap: driver's lap `lap`, the driver's "
        "fastest lap without `lap`, the session's fastest lap with neither. Null when the "
        "session has no position data; NOT_FOUND for an unknown driver or lap."
    )
    def track_map(
        self,
        driver: Annotated[
            str | None, strawberry.argument(description="Driver code or car number.")
        ] = None,
        lap: Annotated[
            int | None, strawberry.argument(description="Lap number (needs driver).")
        ] = None,
        max_points: MaxPoints = None,
    ) -> TrackMap | None:
        found = SessionService.track_map(self._data, driver, lap, max_points=max_points)
        return None if found is None else TrackMap.of(found)

    @strawberry.field(
        description="Two to four laps on the first lap's distance axis: speed, throttle, "
        "brake and gear of each, and the time delta along the lap (FastF1's "
        "utils.delta_time). NOT_FOUND for an unknown driver or lap and for a lap without "
        "car data."
    )
    def compare(
        self,
        drivers: Annotated[
            list[str],
            strawberry.argument(
                description="2 to 4 driver codes or car numbers; one may repeat, to compare "
                "two laps of one driver. The first is the reference."
            ),
        ],
        laps: Annotated[
            list[int] | None,
            strawberry.argument(
                description="The lap of each driver, in the same order; each driver's "
                "fastest lap when omitted."
            ),
        ] = None,
    ) -> LapComparison | None:
        _filter(drivers, "drivers")
        _filter(laps, "laps")
        return LapComparison.of(SessionService.compare(self._data, drivers, laps))


TypeArgument = Annotated[
    SessionType, strawberry.argument(description="Which session of the weekend.")
]


@strawberry.type
class SessionQuery:
    @strawberry.field(
        description="A session of a race weekend with its laps, stints and telemetry. Loads "
        "it on first use (seconds); NOT_FOUND when there is no such event or session."
    )
    async def session(
        self,
        info: Info,
        year: Annotated[int, strawberry.argument(description="The season, from 2018.")],
        race: Annotated[
            str,
            strawberry.argument(
                description='Round number ("4") or event name as FastF1 accepts it '
                '("Azerbaijan", "Baku").'
            ),
        ],
        type: TypeArgument = DEFAULT_TYPE,
    ) -> RaceSession | None:
        return await load_session(info, year, race, type)
