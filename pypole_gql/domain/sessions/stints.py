"""Stints: a driver's consecutive laps on one set of tyres, with their average pace."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Final, TypeVar

from pypole_gql.domain.sessions.model import (
    NS_PER_S,
    Lap,
    SessionData,
    Stint,
    driver_numbers,
    seconds_to_ns,
)

#: FastF1's ``Laps.QUICKLAP_THRESHOLD``: a quick lap is under 107 % of the fastest.
QUICKLAP_THRESHOLD: Final = 1.07
_T = TypeVar("_T")


def quick_lap_limit(laps: Iterable[Lap]) -> float | None:
    """The lap time a lap must beat to be quick, as ``Laps.pick_quicklaps()`` sets it.

    107 % of the fastest ``LapTime`` among ``laps`` (deleted laps included, as in FastF1);
    ``None`` when no lap has a time. ``pick_quicklaps`` keeps ``LapTime < limit``.
    """
    limit = _limit_ns(laps)
    return None if limit is None else limit / NS_PER_S


def _limit_ns(laps: Iterable[Lap]) -> int | None:
    # FastF1 multiplies a Timedelta: the product is truncated to whole nanoseconds.
    times = [seconds_to_ns(lap.lap_time) for lap in laps if lap.lap_time is not None]
    return int(min(times) * QUICKLAP_THRESHOLD) if times else None


def compute_stints(laps: Sequence[Lap]) -> list[Stint]:
    """Group laps into stints by (driver, FastF1 ``Stint``); laps without a stint are left out.

    ``laps`` are the whole session's (the quick-lap limit of ``average_pace_time`` is the
    session's). Stints are ordered by first appearance in ``laps``. See :class:`Stint` for
    the definition of each field.
    """
    limit = _limit_ns(laps)
    groups: dict[tuple[str, int], list[Lap]] = {}
    for lap in laps:
        if lap.stint is not None:
            groups.setdefault((lap.driver_number, lap.stint), []).append(lap)
    stints = []
    for (number, stint_no), members in groups.items():
        timed = [lap.lap_time for lap in members if lap.lap_time is not None]
        quick = [t for t in timed if limit is not None and seconds_to_ns(t) < limit]
        stints.append(
            Stint(
                driver=members[0].driver,
                driver_number=number,
                stint=stint_no,
                compound=_first(lap.compound for lap in members),
                fresh_tyre=_first(lap.fresh_tyre for lap in members),
                start_tyre_life=_first(lap.tyre_life for lap in members),
                start_lap=min(lap.lap_number for lap in members),
                end_lap=max(lap.lap_number for lap in members),
                lap_count=len(members),
                timed_lap_count=len(timed),
                average_lap_time=sum(timed) / len(timed) if timed else None,
                average_pace_time=sum(quick) / len(quick) if quick else None,
                pace_lap_count=len(quick),
            )
        )
    return stints


def select_stints(data: SessionData, drivers: Iterable[str] | None = None) -> list[Stint]:
    """The session's stints, optionally only those of some drivers (codes or numbers)."""
    numbers = driver_numbers(data, drivers)
    if numbers is None:
        return list(data.stints)
    return [s for s in data.stints if s.driver_number in numbers]


def _first(values: Iterable[_T | None]) -> _T | None:
    for value in values:
        if value is not None:
            return value
    return None
