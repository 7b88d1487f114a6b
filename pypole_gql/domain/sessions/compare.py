"""Two to four laps on one distance axis, with the time delta along the lap.

The delta is computed as FastF1's ``utils.delta_time(reference_lap, compare_lap)`` did
(FastF1 3.0 to 3.8; 3.9.0 no longer ships it), from the same car data:

1. each lap's car data with an interpolated sample added at the lap's exact start and
   end (``lap.get_car_data(interpolate_edges=True).add_distance()``);
2. the compared lap's distance scaled so that both laps end at the same distance (the
   reference's), and its time and distance series each extended by one extrapolated
   sample at both ends;
3. the compared lap's time interpolated at each of the reference's distances, minus the
   reference's time there.

So the delta at the finish line is the difference of the two laps' durations.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from pypole_gql.domain.sessions.laps import fastest_lap, find_lap
from pypole_gql.domain.sessions.model import (
    NS_PER_S,
    BoolArray,
    FloatArray,
    IntArray,
    Lap,
    SessionData,
    Trace,
    seconds_to_ns,
)
from pypole_gql.domain.sessions.telemetry import Rows, driver_series, integrate_distance
from pypole_gql.errors import BadUserInput, NotFound

MIN_LAPS: Final = 2
MAX_LAPS: Final = 4
_CONTINUOUS: Final = ("speed", "throttle")
_DISCRETE: Final = ("brake", "gear")


@dataclass(frozen=True, slots=True, eq=False)
class ComparedLap:
    """One lap of a :class:`LapComparison`, its channels at the comparison's distances.

    For the reference lap (the first) the channels are its own samples. For another lap
    they are its samples moved onto the reference's distance axis (its distance scaled
    to the reference's length): ``speed`` and ``throttle`` linearly interpolated,
    ``brake`` and ``gear`` as they were at the last sample before. ``delta`` is how many
    seconds this lap is behind the reference at each distance (negative: ahead; zero
    throughout for the reference).
    """

    driver: str
    driver_number: str
    lap_number: int
    lap_time: float | None
    speed: FloatArray
    throttle: FloatArray
    brake: BoolArray
    gear: IntArray
    delta: FloatArray


@dataclass(frozen=True, slots=True, eq=False)
class LapComparison:
    """Laps compared along ``distance``: the reference lap's distance from its start (m)."""

    distance: FloatArray
    laps: tuple[ComparedLap, ...]

    @property
    def reference(self) -> ComparedLap:
        return self.laps[0]

    @property
    def sample_count(self) -> int:
        return int(self.distance.shape[0])


@dataclass(frozen=True, slots=True, eq=False)
class _LapCar:
    lap: Lap
    time: FloatArray
    distance: FloatArray
    channels: dict[str, npt.NDArray[Any]]


def compare(
    data: SessionData, drivers: Sequence[str], laps: Sequence[int] | None = None
) -> LapComparison:
    """Compare 2 to 4 laps; the first is the reference.

    ``drivers`` are codes or numbers (one may repeat, to compare two laps of one driver);
    ``laps`` the lap number of each, in the same order, and without it each driver's
    fastest lap (:func:`fastest_lap`).

    Raises :class:`BadUserInput` for fewer than 2 or more than 4 drivers or a ``laps``
    list of another length; :class:`NotFound` for an unknown driver or lap, a driver
    without a fastest lap, and a lap without car data (the whole session's, or the lap's
    own window).
    """
    if not MIN_LAPS <= len(drivers) <= MAX_LAPS:
        raise BadUserInput(
            f"compare takes {MIN_LAPS} to {MAX_LAPS} drivers, got {len(drivers)}", field="drivers"
        )
    if laps is not None and len(laps) != len(drivers):
        raise BadUserInput(
            f"laps must give one lap number per driver ({len(drivers)}), got {len(laps)}",
            field="laps",
        )
    chosen = [
        _pick(data, driver, None if laps is None else laps[i]) for i, driver in enumerate(drivers)
    ]
    cars = [_lap_car(data, lap) for lap in chosen]
    reference = cars[0]
    distance = reference.distance
    compared = [_on_reference(reference, car) for car in cars]
    return LapComparison(distance=distance, laps=tuple(compared))


def _pick(data: SessionData, driver: str, lap_number: int | None) -> Lap:
    if lap_number is not None:
        return find_lap(data, driver, lap_number)
    best = fastest_lap(data, driver)
    if best is None:
        raise NotFound(f"{driver} has no timed lap in {data.label} to compare")
    return best


def _lap_car(data: SessionData, lap: Lap) -> _LapCar:
    """The lap's car data with interpolated edges: ``get_car_data(interpolate_edges=True)``.

    FastF1 merges a sample at the lap's start and end into the driver's whole series and
    fills it in: ``speed``/``throttle`` linearly in time, ``brake``/``gear`` from the
    sample before (the one after for a lap starting before the first sample). A sample
    already at an edge is not doubled.
    """
    label = f"{lap.driver} lap {lap.lap_number} in {data.label}"
    car = data.car
    if car is None or lap.driver_number not in car.spans:
        raise NotFound(f"No car data for {label}")
    if lap.lap_start_time is None or lap.time is None:
        raise NotFound(f"No car data for {label}: the lap has no start or end time")
    start_ns, end_ns = seconds_to_ns(lap.lap_start_time), seconds_to_ns(lap.time)
    times, rows = driver_series(car, lap.driver_number)
    i0 = int(np.searchsorted(times, start_ns, side="left"))
    i1 = int(np.searchsorted(times, end_ns, side="right"))
    if i1 <= i0:
        raise NotFound(f"No car data for {label}: no sample in the lap")
    edges = [
        (where, at)
        for where, at in ((0, start_ns), (1, end_ns))
        if times[i0 if where == 0 else i1 - 1] != at
    ]
    at_ns = _with_edges(times[i0:i1], edges, lambda at: at)
    times_f = times.astype(np.float64)
    channels: dict[str, npt.NDArray[Any]] = {}
    for name in (*_CONTINUOUS, *_DISCRETE):
        series = _channel(car, name, rows)
        if name in _CONTINUOUS:
            fill = functools.partial(_interpolated, times_f, series)
        else:
            fill = functools.partial(_held, times, series)
        channels[name] = _with_edges(series[i0:i1], edges, fill)
    time = (at_ns - start_ns) / NS_PER_S
    speed = channels["speed"].astype(np.float64)
    return _LapCar(lap=lap, time=time, distance=integrate_distance(time, speed), channels=channels)


def _with_edges(
    inside: npt.NDArray[Any], edges: list[tuple[int, int]], fill: Callable[[int], Any]
) -> npt.NDArray[Any]:
    """``inside`` with the value ``fill(at)`` put first (edge 0) and/or last (edge 1)."""
    parts = [inside]
    for where, at in edges:
        value = np.asarray([fill(at)], dtype=inside.dtype)
        if where == 0:
            parts.insert(0, value)
        else:
            parts.append(value)
    return np.concatenate(parts)


def _channel(car: Trace, name: str, rows: Rows) -> npt.NDArray[Any]:
    values = car.channels[name][rows]
    if name in _CONTINUOUS:
        return np.asarray(values, dtype=np.float64)
    return np.asarray(values, dtype=np.bool_ if name == "brake" else np.int64)


def _interpolated(times: FloatArray, series: npt.NDArray[Any], at_ns: int) -> float:
    """Linear in time over the driver's whole series, held at its ends (pandas ``index``)."""
    return float(np.interp(float(at_ns), times, series))


def _held(times: IntArray, series: npt.NDArray[Any], at_ns: int) -> Any:
    """The last value before ``at_ns``, else the first (FastF1's ffill, then bfill)."""
    before = int(np.searchsorted(times, at_ns, side="left")) - 1
    return series[max(before, 0)]


def _on_reference(reference: _LapCar, car: _LapCar) -> ComparedLap:
    lap = car.lap
    if car is reference:
        channels = car.channels
        delta = np.zeros_like(car.distance)
    else:
        length = car.distance[-1]
        if not length > 0:
            raise NotFound(
                f"No distance covered in {lap.driver} lap {lap.lap_number}: nothing to compare"
            )
        scaled = car.distance * (reference.distance[-1] / length)
        at = np.interp(reference.distance, _extend(scaled), _extend(car.time))
        delta = at - reference.time
        step = np.clip(np.searchsorted(scaled, reference.distance, side="right") - 1, 0, None)
        channels = {
            name: (
                np.interp(reference.distance, scaled, car.channels[name])
                if name in _CONTINUOUS
                else car.channels[name][step]
            )
            for name in (*_CONTINUOUS, *_DISCRETE)
        }
    return ComparedLap(
        driver=lap.driver,
        driver_number=lap.driver_number,
        lap_number=lap.lap_number,
        lap_time=lap.lap_time,
        speed=np.asarray(channels["speed"], dtype=np.float64),
        throttle=np.asarray(channels["throttle"], dtype=np.float64),
        brake=np.asarray(channels["brake"], dtype=np.bool_),
        gear=np.asarray(channels["gear"], dtype=np.int64),
        delta=delta,
    )


def _extend(series: FloatArray) -> FloatArray:
    """One extrapolated sample before and after (``delta_time``'s ``mini_pro``)."""
    if series.shape[0] < 2:
        return series
    first = series[0] - (series[1] - series[0])
    last = series[-1] + (series[-1] - series[-2])
    extended: FloatArray = np.concatenate([[first], series, [last]])
    return extended
