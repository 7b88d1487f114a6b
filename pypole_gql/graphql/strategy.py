"""A race's tyre strategy over GraphQL (:class:`~pypole_gql.services.strategy.StrategyService`,
the strategy page's data)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from pypole_gql.domain import strategy as domain
from pypole_gql.graphql.context import Info
from pypole_gql.graphql.sessions import Stint


@strawberry.type(description="One driver's race on tyres: stints and stops.")
class DriverStrategy:
    driver: str = strawberry.field(description="Three-letter driver code.")
    driver_number: str = strawberry.field(description="Car number.")
    position: int | None = strawberry.field(description="Finishing position; null if unknown.")
    num_stops: int = strawberry.field(description="Stints minus one.")
    stints: list[Stint] = strawberry.field(description="The stints, in order.")
    compounds_used: list[str] = strawberry.field(description="Compounds in stint order.")
    total_laps: int = strawberry.field(description="Laps covered.")
    strategy_name: str = strawberry.field(description='e.g. "MEDIUM-HARD (1-stop)".')


@strawberry.type(description="Lap times on one compound over the race.")
class CompoundPerformance:
    compound: str = strawberry.field(description="The compound.")
    avg_lap_time: float = strawberry.field(description="Mean lap time, seconds.")
    fastest_lap: float = strawberry.field(description="Fastest lap time, seconds.")
    slowest_lap: float = strawberry.field(description="Slowest lap time, seconds.")
    total_laps: int = strawberry.field(description="Timed laps on the compound.")


@strawberry.type(description="How many pit stops were made on a lap.")
class LapCount:
    lap: int = strawberry.field(description="The lap.")
    count: int = strawberry.field(description="Stops on that lap.")


@strawberry.type(description="Drivers who ran the same compound sequence.")
class StrategyGroup:
    strategy: str = strawberry.field(description="The compound sequence.")
    drivers: list[str] = strawberry.field(description="Their codes.")
    avg_finishing_position: float = strawberry.field(description="Mean finishing position.")
    count: int = strawberry.field(description="How many drivers.")


@strawberry.type(description="How many drivers made a number of stops.")
class StopCount:
    num_stops: int = strawberry.field(description="Stops.")
    drivers: int = strawberry.field(description="Drivers who made that many.")


@strawberry.type(description="The race's tyre strategy: every driver's, compounds and windows.")
class RaceStrategy:
    year: int = strawberry.field(description="The season.")
    round: int = strawberry.field(description="The round.")
    event_name: str = strawberry.field(description="The event's name.")
    classification: str = strawberry.field(
        description="Where the finishing order comes from: fastf1, jolpica or laps."
    )
    driver_strategies: list[DriverStrategy] = strawberry.field(description="In finishing order.")
    compound_performance: list[CompoundPerformance] = strawberry.field(
        description="One per compound used."
    )
    pit_stops_by_lap: list[LapCount] = strawberry.field(description="Stops per lap, by lap.")
    most_common_windows: list[LapCount] = strawberry.field(
        description="The laps with most stops, most first."
    )
    strategies: list[StrategyGroup] = strawberry.field(
        description="Compound sequences, best average finishing position first."
    )
    strategy_distribution: list[StopCount] = strawberry.field(
        description="Drivers by number of stops."
    )
    fastest_compound: str | None = strawberry.field(
        description="The compound with the lowest mean lap time."
    )

    @classmethod
    def of(cls, r: domain.RaceStrategy) -> RaceStrategy:
        return cls(
            year=r.year,
            round=r.round,
            event_name=r.event_name,
            classification=r.classification.value,
            driver_strategies=[
                DriverStrategy(
                    driver=d.driver,
                    driver_number=d.driver_number,
                    position=d.position,
                    num_stops=d.num_stops,
                    stints=[Stint.of(s) for s in d.stints],
                    compounds_used=list(d.compounds_used),
                    total_laps=d.total_laps,
                    strategy_name=d.strategy_name,
                )
                for d in r.driver_strategies
            ],
            compound_performance=[
                CompoundPerformance(
                    compound=c.compound,
                    avg_lap_time=c.avg_lap_time,
                    fastest_lap=c.fastest_lap,
                    slowest_lap=c.slowest_lap,
                    total_laps=c.total_laps,
                )
                for c in r.compound_performance
            ],
            pit_stops_by_lap=[
                LapCount(lap=x.lap, count=x.count) for x in r.pit_stop_timing.pit_stops_by_lap
            ],
            most_common_windows=[
                LapCount(lap=x.lap, count=x.count) for x in r.pit_stop_timing.most_common_windows
            ],
            strategies=[
                StrategyGroup(
                    strategy=g.strategy,
                    drivers=list(g.drivers),
                    avg_finishing_position=g.avg_finishing_position,
                    count=g.count,
                )
                for g in r.strategies
            ],
            strategy_distribution=[
                StopCount(num_stops=s.num_stops, drivers=s.drivers)
                for s in r.summary.strategy_distribution
            ],
            fastest_compound=r.summary.fastest_compound,
        )


@strawberry.type
class StrategyQuery:
    @strawberry.field(
        description="A race's tyre strategy from its FastF1 session (loads it on first use); "
        "NOT_FOUND when there is no such event."
    )
    async def race_strategy(
        self,
        info: Info,
        year: Annotated[int, strawberry.argument(description="The season, from 2018.")],
        race: Annotated[
            str, strawberry.argument(description='Round number ("4") or event name ("Baku").')
        ],
    ) -> RaceStrategy:
        return RaceStrategy.of(await info.context.resources.strategy.race(year, race))
