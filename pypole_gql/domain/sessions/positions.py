"""Lap-by-lap running order: position, gap to the leader and interval at each lap's end."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pypole_gql.domain.sessions.model import Lap, SessionData, driver_numbers, elapsed


@dataclass(frozen=True, slots=True)
class LapPosition:
    """Where a driver was when completing a lap.

    ``position`` is FastF1's ``Position`` of the lap. ``time`` is the lap's end (FastF1's
    ``Time``, a session time). The gaps compare the moments cars completed the *same* lap
    number: ``gap_to_leader`` is ``time`` minus the earliest ``time`` of any car on that
    lap (``0.0`` for that car); ``interval`` is ``time`` minus the ``time`` of the car that
    completed the lap just before this one (``None`` for the first). A lapped car
    completes lap N a lap or more after the leader did, so its gap is that whole time
    (a timing screen would show "+1 LAP"). Laps without an end time have no gaps and are
    nobody's car ahead.
    """

    driver: str
    driver_number: str
    lap_number: int
    position: int | None
    time: float | None
    gap_to_leader: float | None
    interval: float | None


def positions(data: SessionData, drivers: Iterable[str] | None = None) -> list[LapPosition]:
    """One :class:`LapPosition` per lap, in FastF1's lap order; ``drivers`` narrows them.

    The gaps are computed over every driver, whichever are asked for.
    """
    by_lap: dict[int, list[tuple[float, Lap]]] = {}
    for lap in data.laps:
        if lap.time is not None:
            by_lap.setdefault(lap.lap_number, []).append((lap.time, lap))
    gaps: dict[tuple[str, int], tuple[float, float | None]] = {}
    for lap_number, timed in by_lap.items():
        # Stable: cars with the same end time keep FastF1's row order.
        timed.sort(key=lambda item: item[0])
        first = timed[0][0]
        ahead: float | None = None
        for end, lap in timed:
            gaps[(lap.driver_number, lap_number)] = (
                elapsed(first, end),
                None if ahead is None else elapsed(ahead, end),
            )
            ahead = end
    numbers = driver_numbers(data, drivers)
    out = []
    for lap in data.laps:
        if numbers is not None and lap.driver_number not in numbers:
            continue
        gap, interval = gaps.get((lap.driver_number, lap.lap_number), (None, None))
        out.append(
            LapPosition(
                driver=lap.driver,
                driver_number=lap.driver_number,
                lap_number=lap.lap_number,
                position=lap.position,
                time=lap.time,
                gap_to_leader=gap,
                interval=interval,
            )
        )
    return out
