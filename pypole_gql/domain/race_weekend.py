"""A race weekend at a glance (the frontend's race-weekend hub).

Status, against the weekend's published session times (UTC):

* ``upcoming`` before the first session starts;
* ``completed`` once the race's results are published, or
  :data:`~pypole_gql.domain.calendar.SESSION_DATA_DELAY` after the race started;
* ``in_progress`` in between.

Pit stops are read from the race's FastF1 stints (with their known compounds,
:func:`~pypole_gql.domain.strategy.stint_compounds`): every stint after a driver's first
is a stop, made on the last lap of the stint before it (the in-lap, Jolpica's pit-stop
lap).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from itertools import pairwise

from pypole_gql.domain.calendar import SESSION_DATA_DELAY, WeekendSession, race_start
from pypole_gql.domain.f1 import QualifyingResult, Race, RaceResult, RaceRows
from pypole_gql.domain.sessions import Lap, Stint


class WeekendStatus(StrEnum):
    UPCOMING = "upcoming"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


@dataclass(frozen=True, slots=True)
class PitStop:
    driver: str
    """Driver code."""
    driver_number: str
    stop_number: int
    """1 for the driver's first stop."""
    lap: int
    """The in-lap."""
    from_compound: str | None
    to_compound: str | None
    stint_length: int
    """Laps of the stint that the stop ended."""


@dataclass(frozen=True, slots=True)
class PitStops:
    total_stops: int
    stops: tuple[PitStop, ...]
    """By lap, then driver."""


@dataclass(frozen=True, slots=True)
class RaceWeekend:
    year: int
    round: int
    race: Race
    sessions: tuple[WeekendSession, ...]
    """Chronological, the race last."""
    status: WeekendStatus
    results: RaceRows[RaceResult] | None
    """The Grand Prix classification once published."""
    qualifying: RaceRows[QualifyingResult] | None
    sprint: RaceRows[RaceResult] | None
    fastest_lap: Lap | None
    """The race's fastest lap (FastF1); ``None`` before the race or without lap data."""
    pit_stops: PitStops | None
    """``None`` before the race or without lap data."""


def weekend_status(
    sessions: Sequence[WeekendSession], race: Race, *, results_published: bool, now: datetime
) -> WeekendStatus:
    first = min((s.start for s in sessions), default=race_start(race))
    if now < first:
        return WeekendStatus.UPCOMING
    if results_published or race_start(race) + SESSION_DATA_DELAY <= now:
        return WeekendStatus.COMPLETED
    return WeekendStatus.IN_PROGRESS


def pit_stops(stints: Sequence[Stint]) -> PitStops:
    grouped: dict[str, list[Stint]] = {}
    for stint in stints:
        grouped.setdefault(stint.driver_number, []).append(stint)
    stops = []
    for driver_stints in grouped.values():
        driver_stints.sort(key=lambda s: s.stint)
        for number, (before, after) in enumerate(pairwise(driver_stints), start=1):
            stops.append(
                PitStop(
                    driver=before.driver,
                    driver_number=before.driver_number,
                    stop_number=number,
                    lap=before.end_lap,
                    from_compound=before.compound,
                    to_compound=after.compound,
                    stint_length=before.lap_count,
                )
            )
    stops.sort(key=lambda s: (s.lap, s.driver))
    return PitStops(total_stops=len(stops), stops=tuple(stops))
