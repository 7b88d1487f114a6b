"""Tyre strategy of a race from its FastF1 stints and laps (the frontend's strategy page).

Definitions:

* A stint's **compound** is the first known compound of its laps (FastF1's unknown names,
  :mod:`pypole_gql.domain.tyres`, are no compound).
* A driver's **strategy** is their stints in order (FastF1's ``Stint`` numbers); every
  stint after the first is a **stop** (a stint split without a pit visit, which FastF1
  rarely makes, counts too). The strategy's name is ``"<stops>-stop (<compound of each
  stint, unknown ones left out, joined by '-'>)"``, e.g. ``"1-stop (MEDIUM-HARD)"``.
* A stop happens on the **in-lap**: the last lap of the stint before it. That is the lap
  Jolpica gives a pit stop, and the lap on which FastF1 records ``PitInTime``.
* Drivers are ordered by the race's **classification** (see
  :class:`ClassificationSource`); a driver without a position goes after those with one,
  by laps covered. The average finishing position of a strategy is the mean of its
  drivers' positions (a driver without one counts at their place in that order).
* **Compound performance** is over every lap of every driver that has a known compound
  and a time (in- and out-laps and laps behind a safety car included); only compounds with at
  least one such lap appear, so no number is ever missing.
* **Degradation** of a stint (with at least 3 timed laps): last timed lap minus first,
  and that divided by the laps between them (timed laps minus one).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Final

from pypole_gql.domain.sessions import Lap, SessionData, SessionDriver, Stint
from pypole_gql.domain.tyres import first_known, known_compound

#: How many laps :attr:`PitStopTiming.most_common_windows` lists.
PIT_WINDOWS: Final = 5
#: Fewest timed laps a stint needs for a degradation figure.
DEGRADATION_MIN_LAPS: Final = 3


class ClassificationSource(StrEnum):
    """Where the finishing order of a strategy report comes from."""

    FASTF1 = "fastf1"
    """The session's own results (FastF1's ``Position``, the official order)."""
    JOLPICA = "jolpica"
    """Jolpica's race results, when FastF1's are incomplete."""
    LAPS = "laps"
    """Neither is available: laps covered, most first."""


@dataclass(frozen=True, slots=True)
class DriverStrategy:
    driver: str
    """Driver code (``VER``)."""
    driver_number: str
    position: int | None
    """Finishing position from the classification; ``None`` when it has none."""
    num_stops: int
    stints: tuple[Stint, ...]
    """By stint number."""
    compounds_used: tuple[str, ...]
    """Distinct known compounds, in order of first use."""
    total_laps: int
    """The last lap the driver covered."""
    strategy_name: str


@dataclass(frozen=True, slots=True)
class CompoundPerformance:
    compound: str
    avg_lap_time: float
    fastest_lap: float
    slowest_lap: float
    total_laps: int


@dataclass(frozen=True, slots=True)
class LapCount:
    lap: int
    count: int


@dataclass(frozen=True, slots=True)
class PitStopTiming:
    pit_stops_by_lap: tuple[LapCount, ...]
    """Stops per in-lap, by lap."""
    most_common_windows: tuple[LapCount, ...]
    """The :data:`PIT_WINDOWS` laps with the most stops (most first, then earliest)."""


@dataclass(frozen=True, slots=True)
class StrategyGroup:
    strategy: str
    drivers: tuple[str, ...]
    """Codes, in finishing order."""
    avg_finishing_position: float
    count: int


@dataclass(frozen=True, slots=True)
class StopCount:
    num_stops: int
    drivers: int


@dataclass(frozen=True, slots=True)
class StrategySummary:
    total_drivers: int
    strategy_distribution: tuple[StopCount, ...]
    """Drivers per number of stops, by number of stops."""
    fastest_compound: str | None
    """The compound with the lowest average lap time; ``None`` without timed laps."""
    fastest_compound_avg_time: float | None


@dataclass(frozen=True, slots=True)
class RaceStrategy:
    year: int
    round: int
    event_name: str
    classification: ClassificationSource
    driver_strategies: tuple[DriverStrategy, ...]
    """In finishing order."""
    compound_performance: tuple[CompoundPerformance, ...]
    """Fastest average first."""
    pit_stop_timing: PitStopTiming
    strategies: tuple[StrategyGroup, ...]
    """Best average finishing position first (ties: more drivers, then name)."""
    summary: StrategySummary

    @property
    def best_strategy(self) -> StrategyGroup | None:
        return self.strategies[0] if self.strategies else None


@dataclass(frozen=True, slots=True)
class StintDegradation:
    stint: int
    compound: str | None
    num_laps: int
    """Timed laps of the stint."""
    first_lap_time: float
    last_lap_time: float
    total_degradation: float
    degradation_per_lap: float
    avg_lap_time: float


@dataclass(frozen=True, slots=True)
class StintPerformance:
    stint: int
    compound: str | None
    laps_completed: int
    """Every lap of the stint, timed or not."""
    avg_lap_time: float
    fastest_lap: float
    slowest_lap: float


@dataclass(frozen=True, slots=True)
class DriverStrategyDetail:
    year: int
    round: int
    event_name: str
    driver: SessionDriver
    stints: tuple[Stint, ...]
    degradation: tuple[StintDegradation, ...]
    """Stints with at least :data:`DEGRADATION_MIN_LAPS` timed laps."""
    stint_performance: tuple[StintPerformance, ...]
    """Stints with at least one timed lap."""


# -- computing ----------------------------------------------------------------------------


def strategy_name(stints: Sequence[Stint]) -> str:
    compounds = [s.compound for s in stints if s.compound]
    stops = f"{max(len(stints) - 1, 0)}-stop"
    return f"{stops} ({'-'.join(compounds)})" if compounds else stops


def driver_strategies(
    data: SessionData, positions: Mapping[str, int]
) -> tuple[DriverStrategy, ...]:
    """One strategy per driver with stints, in finishing order.

    ``positions`` maps car numbers to finishing positions (the classification); drivers
    missing from it follow, by laps covered, then in FastF1's order.
    """
    grouped: dict[str, list[Stint]] = {}
    for stint in stint_compounds(data):
        grouped.setdefault(stint.driver_number, []).append(stint)
    strategies = []
    for number, stints in grouped.items():
        stints.sort(key=lambda s: s.stint)
        compounds: list[str] = []
        for s in stints:
            if s.compound and s.compound not in compounds:
                compounds.append(s.compound)
        strategies.append(
            DriverStrategy(
                driver=stints[0].driver,
                driver_number=number,
                position=positions.get(number),
                num_stops=len(stints) - 1,
                stints=tuple(stints),
                compounds_used=tuple(compounds),
                total_laps=max(s.end_lap for s in stints),
                strategy_name=strategy_name(stints),
            )
        )
    # sorted() is stable: equal keys keep FastF1's order of first appearance.
    strategies.sort(key=lambda d: (d.position is None, d.position or 0, -d.total_laps))
    return tuple(strategies)


def stint_compounds(data: SessionData) -> list[Stint]:
    """The session's stints, each with the first known compound of its laps."""
    compounds: dict[tuple[str, int], list[str | None]] = {}
    for lap in data.laps:
        if lap.stint is not None:
            compounds.setdefault((lap.driver_number, lap.stint), []).append(lap.compound)
    return [
        replace(s, compound=first_known(compounds.get((s.driver_number, s.stint), [])))
        for s in data.stints
    ]


def compound_performance(laps: Sequence[Lap]) -> tuple[CompoundPerformance, ...]:
    times: dict[str, list[float]] = {}
    for lap in laps:
        compound = known_compound(lap.compound)
        if compound is not None and lap.lap_time is not None:
            times.setdefault(compound, []).append(lap.lap_time)
    found = [
        CompoundPerformance(
            compound=compound,
            avg_lap_time=sum(values) / len(values),
            fastest_lap=min(values),
            slowest_lap=max(values),
            total_laps=len(values),
        )
        for compound, values in times.items()
    ]
    found.sort(key=lambda c: (c.avg_lap_time, c.compound))
    return tuple(found)


def stop_laps(strategy: DriverStrategy) -> list[int]:
    """The in-lap of each stop of the driver."""
    return [before.end_lap for before in strategy.stints[:-1]]


def pit_stop_timing(strategies: Sequence[DriverStrategy]) -> PitStopTiming:
    counts = Counter(lap for s in strategies for lap in stop_laps(s))
    by_lap = tuple(LapCount(lap, count) for lap, count in sorted(counts.items()))
    common = sorted(by_lap, key=lambda c: (-c.count, c.lap))[:PIT_WINDOWS]
    return PitStopTiming(pit_stops_by_lap=by_lap, most_common_windows=tuple(common))


def strategy_groups(strategies: Sequence[DriverStrategy]) -> tuple[StrategyGroup, ...]:
    members: dict[str, list[tuple[str, int]]] = {}
    for place, s in enumerate(strategies, start=1):
        finishing = s.position if s.position is not None else place
        members.setdefault(s.strategy_name, []).append((s.driver, finishing))
    groups = [
        StrategyGroup(
            strategy=name,
            drivers=tuple(code for code, _ in rows),
            avg_finishing_position=sum(p for _, p in rows) / len(rows),
            count=len(rows),
        )
        for name, rows in members.items()
    ]
    groups.sort(key=lambda g: (g.avg_finishing_position, -g.count, g.strategy))
    return tuple(groups)


def summary(
    strategies: Sequence[DriverStrategy], compounds: Sequence[CompoundPerformance]
) -> StrategySummary:
    stops = Counter(s.num_stops for s in strategies)
    fastest = compounds[0] if compounds else None
    return StrategySummary(
        total_drivers=len(strategies),
        strategy_distribution=tuple(StopCount(n, c) for n, c in sorted(stops.items())),
        fastest_compound=None if fastest is None else fastest.compound,
        fastest_compound_avg_time=None if fastest is None else fastest.avg_lap_time,
    )


def race_strategy(
    data: SessionData, positions: Mapping[str, int], source: ClassificationSource
) -> RaceStrategy:
    strategies = driver_strategies(data, positions)
    compounds = compound_performance(data.laps)
    return RaceStrategy(
        year=data.info.year,
        round=data.info.round,
        event_name=data.info.event_name,
        classification=source,
        driver_strategies=strategies,
        compound_performance=compounds,
        pit_stop_timing=pit_stop_timing(strategies),
        strategies=strategy_groups(strategies),
        summary=summary(strategies, compounds),
    )


def driver_strategy_detail(data: SessionData, driver: SessionDriver) -> DriverStrategyDetail:
    stints = sorted(
        (s for s in stint_compounds(data) if s.driver_number == driver.number),
        key=lambda s: s.stint,
    )
    laps = data.driver_laps(driver.number)
    degradation = []
    performance = []
    for stint in stints:
        members = sorted(
            (lap for lap in laps if lap.stint == stint.stint), key=lambda lap: lap.lap_number
        )
        timed = [lap.lap_time for lap in members if lap.lap_time is not None]
        if not timed:
            continue
        average = sum(timed) / len(timed)
        performance.append(
            StintPerformance(
                stint=stint.stint,
                compound=stint.compound,
                laps_completed=len(members),
                avg_lap_time=average,
                fastest_lap=min(timed),
                slowest_lap=max(timed),
            )
        )
        if len(timed) >= DEGRADATION_MIN_LAPS:
            total = timed[-1] - timed[0]
            degradation.append(
                StintDegradation(
                    stint=stint.stint,
                    compound=stint.compound,
                    num_laps=len(timed),
                    first_lap_time=timed[0],
                    last_lap_time=timed[-1],
                    total_degradation=total,
                    degradation_per_lap=total / (len(timed) - 1),
                    avg_lap_time=average,
                )
            )
    return DriverStrategyDetail(
        year=data.info.year,
        round=data.info.round,
        event_name=data.info.event_name,
        driver=driver,
        stints=tuple(stints),
        degradation=tuple(degradation),
        stint_performance=tuple(performance),
    )
