"""A session's laps: selected by driver and number, and the fastest as FastF1 picks it."""

from __future__ import annotations

import math
from collections.abc import Iterable

from pypole_gql.domain.sessions.model import Lap, SessionData, driver_numbers, require_driver
from pypole_gql.errors import NotFound


def select_laps(
    data: SessionData,
    drivers: Iterable[str] | None = None,
    lap_numbers: Iterable[int] | None = None,
) -> list[Lap]:
    """Laps of the given drivers (codes or numbers) and lap numbers, in FastF1's order.

    ``None`` means no filter. An unknown driver matches nothing (it is not an error, so a
    list of drivers can span sessions).
    """
    numbers = driver_numbers(data, drivers)
    laps: Iterable[Lap] = (
        data.laps if numbers is None else (lap for lap in data.laps if lap.driver_number in numbers)
    )
    if lap_numbers is None:
        return list(laps)
    wanted = set(lap_numbers)
    return [lap for lap in laps if lap.lap_number in wanted]


def fastest_lap(data: SessionData, driver: str | None = None) -> Lap | None:
    """The fastest lap exactly as FastF1's ``Laps.pick_fastest()`` picks it.

    FastF1 3.9.0's rule: among laps flagged ``IsPersonalBest`` (FastF1 clears the flag on
    deleted laps) that have a lap time, the lowest ``LapTime``; on a tie the earliest row
    of ``Session.laps``. ``None`` when no lap qualifies. With ``driver``, the same rule
    over that driver's laps (``pick_drivers(d).pick_fastest()``); an unknown driver is
    :class:`~pypole_gql.errors.NotFound`.
    """
    laps = data.laps if driver is None else data.driver_laps(require_driver(data, driver).number)
    best: Lap | None = None
    best_time = math.inf
    for lap in laps:
        # strict "<" keeps the first of equal times, as idxmin does
        if lap.is_personal_best and lap.lap_time is not None and lap.lap_time < best_time:
            best, best_time = lap, lap.lap_time
    return best


def find_lap(data: SessionData, driver: str, lap_number: int) -> Lap:
    """The driver's lap ``lap_number``; :class:`NotFound` for an unknown driver or lap."""
    drv = require_driver(data, driver)
    for lap in data.driver_laps(drv.number):
        if lap.lap_number == lap_number:
            return lap
    raise NotFound(f"{drv.code} has no lap {lap_number} in {data.info.session_name}")
