"""The race lap by lap: where every car was, and in which position, as it completed each lap.

A replay of the session in frames, one per lap number (the older PyPole web frontend's
"lap positions"): each car's FastF1 ``Position``, compound and lap time at the end of
that lap, and its ``X``/``Y`` there, from its position data, on the same axes as
:func:`~pypole_gql.domain.sessions.track_map.track_map`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pypole_gql.domain.sessions.model import Lap, SessionData, seconds_to_ns
from pypole_gql.domain.sessions.telemetry import driver_series


@dataclass(frozen=True, slots=True)
class CarAtLapEnd:
    """One car as it completed lap ``lap_number``.

    ``x``/``y`` are FastF1's ``X``/``Y`` (1/10 m) at the lap's end time (``Time``),
    linearly interpolated in session time between the driver's position samples (held at
    the first and last); ``None`` without position data or a lap end time.
    """

    driver: str
    driver_number: str
    lap_number: int
    position: int | None
    compound: str | None
    lap_time: float | None
    x: float | None
    y: float | None


@dataclass(frozen=True, slots=True)
class LapFrame:
    """Every car that completed ``lap_number``, in FastF1's lap order."""

    lap_number: int
    cars: tuple[CarAtLapEnd, ...]


def lap_frames(data: SessionData) -> list[LapFrame]:
    """One :class:`LapFrame` per lap number, in lap order."""
    by_lap: dict[int, list[CarAtLapEnd]] = {}
    for number, laps in _laps_by_driver(data).items():
        xs, ys = _positions_at_ends(data, number, laps)
        for lap, x, y in zip(laps, xs, ys, strict=True):
            by_lap.setdefault(lap.lap_number, []).append(
                CarAtLapEnd(
                    driver=lap.driver,
                    driver_number=lap.driver_number,
                    lap_number=lap.lap_number,
                    position=lap.position,
                    compound=lap.compound,
                    lap_time=lap.lap_time,
                    x=x,
                    y=y,
                )
            )
    return [LapFrame(n, tuple(by_lap[n])) for n in sorted(by_lap)]


def _laps_by_driver(data: SessionData) -> dict[str, list[Lap]]:
    grouped: dict[str, list[Lap]] = {}
    for lap in data.laps:
        grouped.setdefault(lap.driver_number, []).append(lap)
    return grouped


def _positions_at_ends(
    data: SessionData, number: str, laps: list[Lap]
) -> tuple[list[float | None], list[float | None]]:
    pos = data.position
    none: list[float | None] = [None] * len(laps)
    if pos is None or number not in pos.spans:
        return none, list(none)
    times, rows = driver_series(pos, number)
    if times.shape[0] == 0:
        return none, list(none)
    ends = [None if lap.time is None else seconds_to_ns(lap.time) for lap in laps]
    at = np.asarray([0 if e is None else e for e in ends], dtype=np.float64)
    t = times.astype(np.float64)
    columns = []
    for name in ("x", "y"):
        series = np.asarray(pos.channels[name][rows], dtype=np.float64)
        values = np.interp(at, t, series).tolist()
        columns.append([None if e is None else float(v) for e, v in zip(ends, values, strict=True)])
    return columns[0], columns[1]
