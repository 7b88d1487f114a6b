"""Two drivers side by side: over a season (Jolpica results) and in one race (FastF1 laps).

Season rules: only Grand Prix (no sprints), only rounds in which **both** drivers have a
result row; the better finishing position (Jolpica's ``position``, which orders
retirements too) wins the round. Percentages are of the rounds compared, rounded to one
decimal, and 0.0 when no round is compared; every number is always present.

Race rules: the fastest lap is FastF1's ``pick_fastest()`` over the driver's laps
(:func:`~pypole_gql.domain.sessions.fastest_lap`); the average is the mean of every lap
with a time (in- and out-laps and laps behind a safety car included), ``None`` without
one; a delta is driver1 minus driver2, ``None`` when either side is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pypole_gql.domain.f1 import Constructor, Driver, DriverStanding, RaceResult, SeasonTable
from pypole_gql.domain.profiles import current_team
from pypole_gql.domain.sessions import Lap, SessionData, SessionDriver, fastest_lap


@dataclass(frozen=True, slots=True)
class ComparedDriver:
    """One side of a season comparison: the driver's championship line."""

    driver: Driver
    team: Constructor | None
    position: int | None
    points: float
    wins: int


@dataclass(frozen=True, slots=True)
class HeadToHead:
    races_compared: int
    driver1_wins: int
    driver2_wins: int
    driver1_percentage: float
    driver2_percentage: float
    total_points_driver1: float
    total_points_driver2: float
    points_difference: float
    """``total_points_driver1 - total_points_driver2``."""


@dataclass(frozen=True, slots=True)
class RaceDuel:
    """One round both drivers took part in."""

    race_name: str
    round: int
    driver1: RaceResult
    driver2: RaceResult
    winner: str | None
    """The ``driverId`` that finished ahead (``None`` only if Jolpica gave no positions)."""


@dataclass(frozen=True, slots=True)
class SeasonComparison:
    season: int
    driver1: ComparedDriver
    driver2: ComparedDriver
    head_to_head: HeadToHead
    race_by_race: tuple[RaceDuel, ...]


@dataclass(frozen=True, slots=True)
class RaceSide:
    """One driver's race from the FastF1 laps."""

    driver: SessionDriver
    fastest_lap: Lap | None
    average_lap_time: float | None
    total_laps: int
    timed_laps: int
    laps: tuple[Lap, ...]


@dataclass(frozen=True, slots=True)
class LapDelta:
    fastest_lap: float | None
    average_lap: float | None


@dataclass(frozen=True, slots=True)
class RaceComparison:
    year: int
    round: int
    event_name: str
    driver1: RaceSide
    driver2: RaceSide
    delta: LapDelta


def compared_driver(standing: DriverStanding) -> ComparedDriver:
    return ComparedDriver(
        driver=standing.driver,
        team=current_team(standing),
        position=standing.position,
        points=standing.points,
        wins=standing.wins,
    )


def _percentage(part: int, whole: int) -> float:
    return round(part / whole * 100, 1) if whole else 0.0


def season_duels(
    results: SeasonTable[RaceResult], driver1_id: str, driver2_id: str
) -> tuple[RaceDuel, ...]:
    duels = []
    for entry in results.races:
        rows = {r.driver.driver_id: r for r in entry.rows}
        one, two = rows.get(driver1_id), rows.get(driver2_id)
        if one is None or two is None:
            continue
        winner: str | None = None
        if one.position is not None and two.position is not None and one.position != two.position:
            winner = driver1_id if one.position < two.position else driver2_id
        duels.append(
            RaceDuel(
                race_name=entry.race.name,
                round=entry.race.round,
                driver1=one,
                driver2=two,
                winner=winner,
            )
        )
    duels.sort(key=lambda d: d.round)
    return tuple(duels)


def head_to_head(duels: Sequence[RaceDuel], driver1_id: str, driver2_id: str) -> HeadToHead:
    count = len(duels)
    wins1 = sum(1 for d in duels if d.winner == driver1_id)
    wins2 = sum(1 for d in duels if d.winner == driver2_id)
    points1 = sum(d.driver1.points for d in duels)
    points2 = sum(d.driver2.points for d in duels)
    return HeadToHead(
        races_compared=count,
        driver1_wins=wins1,
        driver2_wins=wins2,
        driver1_percentage=_percentage(wins1, count),
        driver2_percentage=_percentage(wins2, count),
        total_points_driver1=points1,
        total_points_driver2=points2,
        points_difference=points1 - points2,
    )


def race_side(data: SessionData, driver: SessionDriver) -> RaceSide:
    laps = data.driver_laps(driver.number)
    timed = [lap.lap_time for lap in laps if lap.lap_time is not None]
    return RaceSide(
        driver=driver,
        fastest_lap=fastest_lap(data, driver.number),
        average_lap_time=sum(timed) / len(timed) if timed else None,
        total_laps=len(laps),
        timed_laps=len(timed),
        laps=laps,
    )


def _delta(one: float | None, two: float | None) -> float | None:
    return None if one is None or two is None else one - two


def lap_delta(one: RaceSide, two: RaceSide) -> LapDelta:
    return LapDelta(
        fastest_lap=_delta(
            None if one.fastest_lap is None else one.fastest_lap.lap_time,
            None if two.fastest_lap is None else two.fastest_lap.lap_time,
        ),
        average_lap=_delta(one.average_lap_time, two.average_lap_time),
    )
