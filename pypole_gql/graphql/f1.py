"""GraphQL for championship data: seasons, races, results, standings, drivers.

Types are built from :mod:`pypole_gql.domain.f1` objects. Everything a type needs beyond
its own object (a race's results, a season's standings) comes through DataLoaders made
per request and keyed by season: a query touching every race of a season asks the
service once per table, whatever the number of races.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Annotated, Any, TypeVar

import strawberry
from strawberry.dataloader import DataLoader

from pypole_gql.domain import f1 as domain
from pypole_gql.graphql.context import GraphQLContext
from pypole_gql.services.f1 import F1Service

Info = strawberry.Info[GraphQLContext, None]
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
F = TypeVar("F", bound=Callable[..., Any])


def _resolver(description: str) -> Callable[[F], F]:
    """``strawberry.field(description=...)`` as a typed decorator (strawberry's is ``Any``)."""
    decorator: Callable[[F], F] = strawberry.field(description=description)
    return decorator


def _service(info: Info) -> F1Service:
    return info.context.resources.f1


def _loader(
    info: Info, name: str, fetch: Callable[[F1Service, K], Awaitable[V]]
) -> DataLoader[K, V]:
    """The request's loader ``name``: one service call per distinct key, all concurrent."""
    service = _service(info)

    async def load(keys: list[K]) -> Sequence[V | BaseException]:
        # One failing key (a season Jolpica cannot serve) fails only the fields under it.
        return await asyncio.gather(*(fetch(service, key) for key in keys), return_exceptions=True)

    return info.context.loader(("f1", name), lambda: DataLoader(load_fn=load))


def _schedules(info: Info) -> DataLoader[int, domain.Schedule]:
    return _loader(info, "schedule", F1Service.schedule)


def _results(info: Info) -> DataLoader[int, domain.SeasonTable[domain.RaceResult]]:
    return _loader(info, "results", F1Service.results)


def _sprints(info: Info) -> DataLoader[int, domain.SeasonTable[domain.RaceResult]]:
    return _loader(info, "sprint", F1Service.sprint)


def _qualifying(info: Info) -> DataLoader[int, domain.SeasonTable[domain.QualifyingResult]]:
    return _loader(info, "qualifying", F1Service.qualifying)


def _driver_standings(
    info: Info,
) -> DataLoader[tuple[int, int | None], domain.Standings[domain.DriverStanding]]:
    return _loader(info, "driver_standings", lambda s, key: s.driver_standings(*key))


def _constructor_standings(
    info: Info,
) -> DataLoader[tuple[int, int | None], domain.Standings[domain.ConstructorStanding]]:
    return _loader(info, "constructor_standings", lambda s, key: s.constructor_standings(*key))


def _drivers(info: Info) -> DataLoader[int, tuple[domain.Driver, ...]]:
    return _loader(info, "drivers", F1Service.drivers)


def _constructors(info: Info) -> DataLoader[int, tuple[domain.Constructor, ...]]:
    return _loader(info, "constructors", F1Service.constructors)


def _driver(info: Info) -> DataLoader[str, domain.Driver | None]:
    return _loader(info, "driver", F1Service.driver)


@strawberry.type(description="A circuit a race is held on.")
class Circuit:
    circuit_id: strawberry.ID = strawberry.field(description="Jolpica's circuit id.")
    name: str = strawberry.field(description="The circuit's name.")
    locality: str | None = strawberry.field(description="Town or area of the circuit.")
    country: str | None = strawberry.field(description="Country of the circuit.")
    latitude: float | None = strawberry.field(description="Latitude in degrees.")
    longitude: float | None = strawberry.field(description="Longitude in degrees.")

    @classmethod
    def of(cls, circuit: domain.Circuit) -> Circuit:
        return cls(
            circuit_id=strawberry.ID(circuit.circuit_id),
            name=circuit.name,
            locality=circuit.locality,
            country=circuit.country,
            latitude=circuit.latitude,
            longitude=circuit.longitude,
        )


@strawberry.type(description="A driver as Jolpica knows them.")
class Driver:
    driver_id: strawberry.ID = strawberry.field(description="Jolpica's driver id.")
    code: str | None = strawberry.field(description="Three-letter code, e.g. VER.")
    permanent_number: int | None = strawberry.field(description="Permanent car number.")
    given_name: str = strawberry.field(description="Given name.")
    family_name: str = strawberry.field(description="Family name.")
    nationality: str | None = strawberry.field(description="Nationality.")
    date_of_birth: dt.date | None = strawberry.field(description="Date of birth.")
    url: str | None = strawberry.field(description="Wikipedia page.")

    @classmethod
    def of(cls, driver: domain.Driver) -> Driver:
        return cls(
            driver_id=strawberry.ID(driver.driver_id),
            code=driver.code,
            permanent_number=driver.permanent_number,
            given_name=driver.given_name,
            family_name=driver.family_name,
            nationality=driver.nationality,
            date_of_birth=driver.date_of_birth,
            url=driver.url,
        )


@strawberry.type(description="A constructor (team).")
class Constructor:
    constructor_id: strawberry.ID = strawberry.field(description="Jolpica's constructor id.")
    name: str = strawberry.field(description="The constructor's name.")
    nationality: str | None = strawberry.field(description="Nationality.")

    @classmethod
    def of(cls, constructor: domain.Constructor) -> Constructor:
        return cls(
            constructor_id=strawberry.ID(constructor.constructor_id),
            name=constructor.name,
            nationality=constructor.nationality,
        )


@strawberry.type(description="A session of a race weekend other than the race.")
class ScheduledSession:
    name: str = strawberry.field(
        description="Jolpica's name: FirstPractice, Qualifying, Sprint, SprintQualifying..."
    )
    starts_at: dt.datetime | None = strawberry.field(
        description="Scheduled start (UTC); null when only the day is published."
    )


@strawberry.type(description="A classified entry of a race or a sprint.")
class RaceResult:
    position: int | None = strawberry.field(description="Finishing order (1 = winner).")
    position_text: str = strawberry.field(
        description="Position as classified: a number, or R (retired), D (disqualified)..."
    )
    points: float = strawberry.field(description="Points scored.")
    grid: int | None = strawberry.field(description="Starting grid slot (0 = pit lane).")
    laps: int | None = strawberry.field(description="Laps completed.")
    status: str = strawberry.field(description="Finished, +1 Lap, Retired, Engine...")
    time: str | None = strawberry.field(description="Race time of the winner, gap of the others.")
    driver: Driver = strawberry.field(description="The driver.")
    constructor: Constructor = strawberry.field(description="The driver's constructor.")
    fastest_lap_rank: int | None = strawberry.field(
        description="Rank of the driver's fastest lap in the race."
    )
    fastest_lap_time: str | None = strawberry.field(description="The driver's fastest lap.")

    @classmethod
    def of(cls, result: domain.RaceResult) -> RaceResult:
        return cls(
            position=result.position,
            position_text=result.position_text,
            points=result.points,
            grid=result.grid,
            laps=result.laps,
            status=result.status,
            time=result.time,
            driver=Driver.of(result.driver),
            constructor=Constructor.of(result.constructor),
            fastest_lap_rank=result.fastest_lap_rank,
            fastest_lap_time=result.fastest_lap_time,
        )


@strawberry.type(description="A qualifying result.")
class QualifyingResult:
    position: int = strawberry.field(description="Qualifying position.")
    driver: Driver = strawberry.field(description="The driver.")
    constructor: Constructor = strawberry.field(description="The driver's constructor.")
    q1: str | None = strawberry.field(description="Best Q1 lap.")
    q2: str | None = strawberry.field(description="Best Q2 lap.")
    q3: str | None = strawberry.field(description="Best Q3 lap.")

    @classmethod
    def of(cls, result: domain.QualifyingResult) -> QualifyingResult:
        return cls(
            position=result.position,
            driver=Driver.of(result.driver),
            constructor=Constructor.of(result.constructor),
            q1=result.q1,
            q2=result.q2,
            q3=result.q3,
        )


@strawberry.type(description="A driver's place in the championship.")
class DriverStanding:
    position: int | None = strawberry.field(
        description="Championship position; null for an excluded driver."
    )
    points: float = strawberry.field(description="Championship points.")
    wins: int = strawberry.field(description="Race wins.")
    driver: Driver = strawberry.field(description="The driver.")
    constructors: list[Constructor] = strawberry.field(
        description="Constructors the driver drove for that season."
    )

    @classmethod
    def of(cls, standing: domain.DriverStanding) -> DriverStanding:
        return cls(
            position=standing.position,
            points=standing.points,
            wins=standing.wins,
            driver=Driver.of(standing.driver),
            constructors=[Constructor.of(c) for c in standing.constructors],
        )


@strawberry.type(description="A constructor's place in the championship.")
class ConstructorStanding:
    position: int | None = strawberry.field(
        description="Championship position; null for an excluded constructor."
    )
    points: float = strawberry.field(description="Championship points.")
    wins: int = strawberry.field(description="Race wins.")
    constructor: Constructor = strawberry.field(description="The constructor.")

    @classmethod
    def of(cls, standing: domain.ConstructorStanding) -> ConstructorStanding:
        return cls(
            position=standing.position,
            points=standing.points,
            wins=standing.wins,
            constructor=Constructor.of(standing.constructor),
        )


@strawberry.type(description="A round of the championship.")
class Race:
    season: int = strawberry.field(description="The season (year).")
    round: int = strawberry.field(description="The round within the season (from 1).")
    name: str = strawberry.field(description="The race's name, e.g. Bahrain Grand Prix.")
    circuit: Circuit = strawberry.field(description="Where it is held.")
    date: dt.date = strawberry.field(description="Race day.")
    starts_at: dt.datetime | None = strawberry.field(
        description="Scheduled start of the race (UTC); null when only the day is known."
    )
    sessions: list[ScheduledSession] = strawberry.field(
        description="The other sessions of the weekend, in order; empty for old seasons."
    )

    @classmethod
    def of(cls, race: domain.Race) -> Race:
        return cls(
            season=race.season,
            round=race.round,
            name=race.name,
            circuit=Circuit.of(race.circuit),
            date=race.date,
            starts_at=race.starts_at,
            sessions=[ScheduledSession(name=s.name, starts_at=s.starts_at) for s in race.sessions],
        )

    @_resolver(description="Race results in finishing order; empty before the race.")
    async def results(self, info: Info) -> list[RaceResult]:
        entry = (await _results(info).load(self.season)).for_round(self.round)
        return [RaceResult.of(r) for r in entry.rows] if entry else []

    @_resolver(description="Qualifying results in order; empty before qualifying.")
    async def qualifying(self, info: Info) -> list[QualifyingResult]:
        entry = (await _qualifying(info).load(self.season)).for_round(self.round)
        return [QualifyingResult.of(r) for r in entry.rows] if entry else []

    @_resolver(description="Sprint results; empty when the weekend has no sprint.")
    async def sprint(self, info: Info) -> list[RaceResult]:
        entry = (await _sprints(info).load(self.season)).for_round(self.round)
        return [RaceResult.of(r) for r in entry.rows] if entry else []


RoundArgument = Annotated[
    int | None,
    strawberry.argument(
        description="Standings after this round; the latest when omitted. "
        "Empty when the season has no such round yet."
    ),
]


@strawberry.type(description="A championship season.")
class Season:
    year: int = strawberry.field(description="The season's year.")
    races: list[Race] = strawberry.field(description="The calendar, in round order.")

    @classmethod
    def of(cls, schedule: domain.Schedule) -> Season:
        return cls(year=schedule.season, races=[Race.of(r) for r in schedule.races])

    @_resolver(description="Drivers who took part, by family name.")
    async def drivers(self, info: Info) -> list[Driver]:
        return [Driver.of(d) for d in await _drivers(info).load(self.year)]

    @_resolver(description="Constructors that took part, by name.")
    async def constructors(self, info: Info) -> list[Constructor]:
        return [Constructor.of(c) for c in await _constructors(info).load(self.year)]

    @_resolver(description="The drivers' championship, leader first.")
    async def driver_standings(
        self, info: Info, round: RoundArgument = strawberry.UNSET
    ) -> list[DriverStanding]:
        round = None if round is strawberry.UNSET else round
        if round is not None:
            _service(info).check_round(round)
        table = await _driver_standings(info).load((self.year, round))
        return [DriverStanding.of(s) for s in table.entries]

    @_resolver(description="The constructors' championship, leader first.")
    async def constructor_standings(
        self, info: Info, round: RoundArgument = strawberry.UNSET
    ) -> list[ConstructorStanding]:
        round = None if round is strawberry.UNSET else round
        if round is not None:
            _service(info).check_round(round)
        table = await _constructor_standings(info).load((self.year, round))
        return [ConstructorStanding.of(s) for s in table.entries]


@strawberry.type
class F1Query:
    @_resolver(
        description="A championship season; the current one when year is omitted. "
        "Null for a year without data."
    )
    async def season(
        self,
        info: Info,
        year: Annotated[
            int | None, strawberry.argument(description="The season's year, from 1950.")
        ] = strawberry.UNSET,
    ) -> Season | None:
        service = _service(info)
        if year is None or year is strawberry.UNSET:
            schedule = await service.current_schedule()
        else:
            schedule = await _schedules(info).load(service.check_season(year, field="year"))
        return Season.of(schedule) if schedule.races else None

    @_resolver(description="One round of a season; null when the season has no such round.")
    async def race(
        self,
        info: Info,
        year: Annotated[int, strawberry.argument(description="The season's year.")],
        round: Annotated[int, strawberry.argument(description="The round, from 1.")],
    ) -> Race | None:
        service = _service(info)
        service.check_season(year, field="year")
        service.check_round(round)
        found = (await _schedules(info).load(year)).race(round)
        return Race.of(found) if found else None

    @_resolver(description="The next race to start; null when none is scheduled.")
    async def next_race(self, info: Info) -> Race | None:
        found = await _service(info).next_race()
        return Race.of(found) if found else None

    @_resolver(description="A driver by Jolpica id; null when there is no such driver.")
    async def driver(
        self,
        info: Info,
        driver_id: Annotated[
            strawberry.ID, strawberry.argument(description="Jolpica's driver id, e.g. hamilton.")
        ],
    ) -> Driver | None:
        found = await _driver(info).load(_service(info).check_driver_id(str(driver_id)))
        return Driver.of(found) if found else None
