"""GraphQL for championship data: seasons, races, results, standings, drivers.

Types are built from :mod:`pypole_gql.domain.f1` objects. Everything a type needs beyond
its own object (a race's results, a season's standings) comes through DataLoaders made
per request and keyed by season: a query touching every race of a season asks the
service once per table, whatever the number of races.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import strawberry

from pypole_gql.domain import f1 as domain
from pypole_gql.graphql import f1_loaders as loaders
from pypole_gql.graphql.context import Info
from pypole_gql.graphql.drivers import Driver
from pypole_gql.graphql.pit_stops import JolpicaPitStop
from pypole_gql.graphql.session_type import DEFAULT_TYPE, SessionType
from pypole_gql.graphql.sessions import RaceSession, load_session

F = TypeVar("F", bound=Callable[..., Any])


def _resolver(description: str) -> Callable[[F], F]:
    """``strawberry.field(description=...)`` as a typed decorator (strawberry's is ``Any``)."""
    decorator: Callable[[F], F] = strawberry.field(description=description)
    return decorator


@strawberry.type(description="A circuit a race is held on.")
class Circuit:
    circuit_id: strawberry.ID = strawberry.field(
        description="Jolpica's circuit id, e.g. monza; stable across seasons."
    )
    name: str = strawberry.field(description="The circuit's name.")
    locality: str | None = strawberry.field(
        description="Town or area of the circuit; null when unknown."
    )
    country: str | None = strawberry.field(description="Country of the circuit; null when unknown.")
    latitude: float | None = strawberry.field(
        description="Latitude in decimal degrees, north positive; null when unknown."
    )
    longitude: float | None = strawberry.field(
        description="Longitude in decimal degrees, east positive; null when unknown."
    )

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


@strawberry.type(description="A constructor: the team that builds and enters the car.")
class Constructor:
    constructor_id: strawberry.ID = strawberry.field(
        description="Jolpica's constructor id, e.g. red_bull; stable across seasons."
    )
    name: str = strawberry.field(description="The constructor's name, e.g. Red Bull.")
    nationality: str | None = strawberry.field(
        description="Nationality as an adjective, e.g. Austrian; null when unknown."
    )

    @classmethod
    def of(cls, constructor: domain.Constructor) -> Constructor:
        return cls(
            constructor_id=strawberry.ID(constructor.constructor_id),
            name=constructor.name,
            nationality=constructor.nationality,
        )


@strawberry.type(
    description="A session of a race weekend other than the race itself: a practice, "
    "qualifying, sprint qualifying or the sprint."
)
class ScheduledSession:
    name: str = strawberry.field(
        description="Jolpica's name of the session: FirstPractice, SecondPractice, "
        "ThirdPractice, Qualifying, SprintShootout (2023), SprintQualifying (from 2024) or Sprint."
    )
    date: dt.date = strawberry.field(
        description="The day of the session, as Jolpica publishes it (the UTC date of the "
        "start when there is one)."
    )
    starts_at: dt.datetime | None = strawberry.field(
        description="Scheduled start (UTC); null when Jolpica publishes only the day, as it "
        "does for the practice and qualifying sessions of 2018 to 2021."
    )


@strawberry.type(
    description="One car's result in a race or a sprint, classified or not (retirements too)."
)
class RaceResult:
    position: int | None = strawberry.field(
        description="Place in the result order (1 = winner), retirements after the finishers; "
        "null when the source gives none. See positionText for how it was classified."
    )
    position_text: str = strawberry.field(
        description="Position as classified: a number, or R (retired), D (disqualified), "
        "E (excluded), W (withdrawn), F (failed to qualify), N (not classified)."
    )
    points: float = strawberry.field(
        description="Championship points scored in this race or sprint (0 when none)."
    )
    grid: int | None = strawberry.field(
        description="Starting grid slot (1 = pole); null for a start from the pit lane "
        "marked as Ergast's data marks it (grid 0, see pitLaneStart), for a car that never "
        "started without a slot, or when unknown. Jolpica's own data (2023 on) mostly gives "
        "a pit-lane starter the slot it was assigned at the back instead (2024 British GP: "
        "Pérez 20), and that slot is what this is then."
    )
    pit_lane_start: bool = strawberry.field(
        description="Whether the source marks a start from the pit lane: grid 0 for a car "
        "that started, in either form Jolpica sends (Ergast's data throughout; Jolpica's own "
        "data now and then, 2023 Mexico City GP). False where Jolpica gives a pit-lane "
        "starter its slot at the back without a mark."
    )
    laps: int | None = strawberry.field(description="Laps completed; null when unknown.")
    status: str = strawberry.field(
        description="How the car finished, as Jolpica sends it: Finished; for a car a lap "
        "or more down +1 Lap, +2 Laps... in Ergast's data and Lapped in Jolpica's own (2023 "
        "on); for a retirement the cause (Engine, Accident...) or, in Jolpica's own data, "
        "Retired; Disqualified, Withdrew, Did not start..."
    )
    time: str | None = strawberry.field(
        description="As text: the winner's total time (h:mm:ss.fff) and, for the others, "
        "the difference to it (+s.fff or +m:ss.fff). Jolpica's own data (2023 on) gives it "
        "to lapped cars too: their race time minus the winner's, not a gap on the road (2024 "
        "British GP, Ricciardo a lap down: +9.937); Ergast's data gives them none. Null for "
        "cars not classified and wherever the source gives no time."
    )
    driver: Driver = strawberry.field(description="The driver.")
    constructor: Constructor = strawberry.field(description="The driver's constructor.")
    fastest_lap_rank: int | None = strawberry.field(
        description="Rank of the driver's fastest lap among all fastest laps of the race "
        "(1 = fastest lap of the race); null when not recorded (Jolpica has it from 2004)."
    )
    fastest_lap_time: str | None = strawberry.field(
        description="The driver's fastest lap as m:ss.fff text, e.g. 1:32.608; null when "
        "not recorded."
    )

    @classmethod
    def of(cls, result: domain.RaceResult) -> RaceResult:
        return cls(
            position=result.position,
            position_text=result.position_text,
            points=result.points,
            grid=result.grid,
            pit_lane_start=result.pit_lane_start,
            laps=result.laps,
            status=result.status,
            time=result.time,
            driver=Driver.of(result.driver),
            constructor=Constructor.of(result.constructor),
            fastest_lap_rank=result.fastest_lap_rank,
            fastest_lap_time=result.fastest_lap_time,
        )


@strawberry.type(description="One driver's result in the qualifying session of a race weekend.")
class QualifyingResult:
    position: int = strawberry.field(
        description="Qualifying position (1 = pole); not always the starting grid slot, "
        "which penalties can change (see RaceResult.grid)."
    )
    driver: Driver = strawberry.field(description="The driver.")
    constructor: Constructor = strawberry.field(description="The driver's constructor.")
    q1: str | None = strawberry.field(
        description="Best Q1 lap as m:ss.fff text; null when no time was set "
        "(or a single-session qualifying format)."
    )
    q2: str | None = strawberry.field(
        description="Best Q2 lap as m:ss.fff text; null when out in Q1 or no time was set."
    )
    q3: str | None = strawberry.field(
        description="Best Q3 lap as m:ss.fff text; null when out before Q3 or no time was set."
    )

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


_STANDING_POSITION = (
    "Championship position (1 = leader); null when positionText is not a number: an entry "
    "disqualified or excluded from the championship, or not ranked yet. Jolpica still sends "
    "a position for those (Schumacher 1997: 26); it does not rank them."
)
_STANDING_POSITION_TEXT = (
    "Position as Jolpica classifies it: the position as digits, D (disqualified from the "
    "championship: Schumacher 1997), E (excluded: McLaren in the 2007 constructors' "
    "championship) or - (not ranked: 2025 drivers without a classified finish after round 1)."
)


@strawberry.type(description="A driver's place in the drivers' championship after a round.")
class DriverStanding:
    position: int | None = strawberry.field(description=_STANDING_POSITION)
    position_text: str = strawberry.field(description=_STANDING_POSITION_TEXT)
    points: float = strawberry.field(
        description="Championship points so far, race and sprint points together."
    )
    wins: int = strawberry.field(description="Grand Prix wins so far (sprints not counted).")
    driver: Driver = strawberry.field(description="The driver.")
    constructors: list[Constructor] = strawberry.field(
        description="Constructors the driver drove for in the season, in order; more than one "
        "after a mid-season move."
    )

    @classmethod
    def of(cls, standing: domain.DriverStanding) -> DriverStanding:
        return cls(
            position=standing.position,
            position_text=standing.position_text,
            points=standing.points,
            wins=standing.wins,
            driver=Driver.of(standing.driver),
            constructors=[Constructor.of(c) for c in standing.constructors],
        )


@strawberry.type(
    description="A constructor's place in the constructors' championship after a round."
)
class ConstructorStanding:
    position: int | None = strawberry.field(description=_STANDING_POSITION)
    position_text: str = strawberry.field(description=_STANDING_POSITION_TEXT)
    points: float = strawberry.field(
        description="Championship points so far, of all the team's cars, sprints included."
    )
    wins: int = strawberry.field(description="Grand Prix wins so far (sprints not counted).")
    constructor: Constructor = strawberry.field(description="The constructor.")

    @classmethod
    def of(cls, standing: domain.ConstructorStanding) -> ConstructorStanding:
        return cls(
            position=standing.position,
            position_text=standing.position_text,
            points=standing.points,
            wins=standing.wins,
            constructor=Constructor.of(standing.constructor),
        )


@strawberry.type(description="A round of the championship: one Grand Prix weekend.")
class Race:
    season: int = strawberry.field(description="The season (year) the race belongs to.")
    round: int = strawberry.field(description="The round within the season (from 1).")
    name: str = strawberry.field(description="The race's name, e.g. Bahrain Grand Prix.")
    circuit: Circuit = strawberry.field(description="Where it is held.")
    date: dt.date = strawberry.field(description="Race day (the UTC date of the race start).")
    starts_at: dt.datetime | None = strawberry.field(
        description="Scheduled start of the race (UTC); null when only the day is known."
    )
    sessions: list[ScheduledSession] = strawberry.field(
        description="The other sessions of the weekend in time order, those Jolpica "
        "publishes with a day only (2018 to 2021) too; empty when it publishes none (older "
        "seasons, e.g. 1999)."
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
            sessions=[
                ScheduledSession(name=s.name, date=s.date, starts_at=s.starts_at)
                for s in race.sessions
            ],
        )

    @_resolver(description="Race results in finishing order; empty until results are published.")
    async def results(self, info: Info) -> list[RaceResult]:
        entry = (await loaders.results(info).load(self.season)).for_round(self.round)
        return [RaceResult.of(r) for r in entry.rows] if entry else []

    @_resolver(description="Qualifying results, pole first; empty until qualifying is published.")
    async def qualifying(self, info: Info) -> list[QualifyingResult]:
        entry = (await loaders.qualifying(info).load(self.season)).for_round(self.round)
        return [QualifyingResult.of(r) for r in entry.rows] if entry else []

    @_resolver(
        description="Sprint results in finishing order; empty when the weekend has no sprint "
        "or it has not been run."
    )
    async def sprint(self, info: Info) -> list[RaceResult]:
        entry = (await loaders.sprints(info).load(self.season)).for_round(self.round)
        return [RaceResult.of(r) for r in entry.rows] if entry else []

    @_resolver(
        description="Pit stops of the race as Jolpica lists them, in its order (by lap, "
        "then time); empty when Jolpica has none (not published yet, or an old season)."
    )
    async def pit_stops(self, info: Info) -> list[JolpicaPitStop]:
        stops = await loaders.pit_stops(info).load((self.season, self.round))
        return [JolpicaPitStop.of(s, self.season) for s in stops]

    @_resolver(
        description="A session of this weekend with its laps, stints and telemetry (FastF1 "
        "data); loads it on first use. NOT_FOUND when the weekend has no such session."
    )
    async def session(
        self,
        info: Info,
        type: Annotated[
            SessionType, strawberry.argument(description="Which session of the weekend.")
        ] = DEFAULT_TYPE,
    ) -> RaceSession | None:
        # The same loader as Query.session.
        return await load_session(info, self.season, self.round, type)


RoundArgument = Annotated[
    int | None,
    strawberry.argument(
        description="Standings after this round; the latest when omitted. "
        "Empty when the season has no such round yet."
    ),
]


@strawberry.type(description="A championship season: its calendar, entrants and standings.")
class Season:
    year: int = strawberry.field(description="The season's year, e.g. 2023.")
    races: list[Race] = strawberry.field(
        description="The calendar in round order, past and future races alike."
    )

    @classmethod
    def of(cls, schedule: domain.Schedule) -> Season:
        return cls(year=schedule.season, races=[Race.of(r) for r in schedule.races])

    @_resolver(description="Drivers entered in the season, ordered by family name.")
    async def drivers(self, info: Info) -> list[Driver]:
        return [Driver.of(d) for d in await loaders.drivers(info).load(self.year)]

    @_resolver(description="Constructors entered in the season, ordered by name.")
    async def constructors(self, info: Info) -> list[Constructor]:
        return [Constructor.of(c) for c in await loaders.constructors(info).load(self.year)]

    @_resolver(description="The drivers' championship, leader first; empty before the first race.")
    async def driver_standings(
        self, info: Info, round: RoundArgument = strawberry.UNSET
    ) -> list[DriverStanding]:
        round = None if round is strawberry.UNSET else round
        table = await loaders.driver_standings(info).load((self.year, round))
        return [DriverStanding.of(s) for s in table.entries]

    @_resolver(
        description="The constructors' championship, leader first; empty before the first race."
    )
    async def constructor_standings(
        self, info: Info, round: RoundArgument = strawberry.UNSET
    ) -> list[ConstructorStanding]:
        round = None if round is strawberry.UNSET else round
        table = await loaders.constructor_standings(info).load((self.year, round))
        return [ConstructorStanding.of(s) for s in table.entries]


@strawberry.type
class F1Query:
    @_resolver(
        description="A championship season. Without year, the current one as Jolpica "
        "resolves `current`: the season of the current calendar year. Null for a year "
        "without a published calendar (the current year too, before its calendar is out)."
    )
    async def season(
        self,
        info: Info,
        year: Annotated[
            int | None,
            strawberry.argument(
                description="The season's year, from 1950; omitted or null for the current season."
            ),
        ] = strawberry.UNSET,
    ) -> Season | None:
        if year is None or year is strawberry.UNSET:
            schedule = await loaders.service(info).current_schedule()
        else:
            schedule = await loaders.schedules(info).load(year)
        return Season.of(schedule) if schedule.races else None

    @_resolver(description="One round of a season; null when the season has no such round.")
    async def race(
        self,
        info: Info,
        year: Annotated[int, strawberry.argument(description="The season's year, from 1950.")],
        round: Annotated[
            int, strawberry.argument(description="The round within the season, from 1.")
        ],
    ) -> Race | None:
        found = await loaders.service(info).race(year, round)
        return Race.of(found) if found else None

    @_resolver(
        description="The next race to start, as Jolpica's `next` names it (possibly in the "
        "following season); null when none is published yet."
    )
    async def next_race(self, info: Info) -> Race | None:
        found = await loaders.service(info).next_race()
        return Race.of(found) if found else None

    @_resolver(description="A driver by Jolpica id, any season; null when there is no such driver.")
    async def driver(
        self,
        info: Info,
        driver_id: Annotated[
            strawberry.ID,
            strawberry.argument(description="Jolpica's driver id, e.g. hamilton."),
        ],
    ) -> Driver | None:
        found = await loaders.driver(info).load(str(driver_id))
        return Driver.of(found) if found else None
