"""One lap's car telemetry, cut from the session's car trace as FastF1 cuts it.

Also the window arithmetic that the track map and the lap comparison share: which
samples of a :class:`Trace` fall in a lap, distance by integration, even downsampling.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from pypole_gql.domain.sessions.laps import find_lap
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
from pypole_gql.errors import BadUserInput

Rows = slice | npt.NDArray[np.intp]


@dataclass(frozen=True, slots=True, eq=False)
class Telemetry:
    """Car telemetry of one lap, one array per channel, all the same length.

    Channels match FastF1's ``lap.get_car_data().add_distance()``: ``time`` is seconds
    since the lap's start, ``distance`` metres integrated from the lap's first sample.
    ``x``/``y`` are the car's position (FastF1 ``X``/``Y``, 1/10 m), linearly
    interpolated in session time from the driver's position data at each car sample;
    ``None`` when the session has no position data for the driver.
    """

    driver: str
    driver_number: str
    lap_number: int
    time: FloatArray
    session_time: FloatArray
    distance: FloatArray
    speed: FloatArray
    rpm: FloatArray
    gear: IntArray
    throttle: FloatArray
    brake: BoolArray
    drs: IntArray
    x: FloatArray | None
    y: FloatArray | None
    source_sample_count: int
    """Samples in the lap before any downsampling."""

    @property
    def sample_count(self) -> int:
        return int(self.time.shape[0])


def lap_telemetry(
    data: SessionData, driver: str, lap_number: int, *, max_points: int | None = None
) -> Telemetry | None:
    """Car telemetry of one lap, equal to FastF1's ``lap.get_car_data().add_distance()``.

    The cut replicates FastF1 3.9.0: the driver's car samples whose ``SessionTime`` lies
    in ``[LapStartTime, Time]`` (both ends included); ``time`` is ``SessionTime -
    LapStartTime``; ``distance`` is the running sum of ``speed / 3.6 * dt`` where the
    first ``dt`` is the first sample's ``time``. A lap without a start or end time, or
    with no sample in its window, gives an empty :class:`Telemetry` (FastF1 itself fails
    on such a lap).

    ``max_points`` (at least 2) keeps that many samples, evenly spaced by index, the
    first and last always included; ``distance`` is computed before downsampling, so kept
    samples carry their full-resolution values.

    Returns ``None`` when the session has no car data for the driver ("not available").
    Unknown driver or lap: :class:`~pypole_gql.errors.NotFound`.
    """
    check_max_points(max_points)
    lap = find_lap(data, driver, lap_number)
    window = lap_samples(data.car, lap)
    if window is None:
        return None
    car, rows, start_ns, session_ns = window
    time = (session_ns - start_ns) / NS_PER_S
    speed = np.asarray(car.channels["speed"][rows], dtype=np.float64)
    distance = integrate_distance(time, speed)

    x = y = None
    if data.position is not None and lap.driver_number in data.position.spans:
        x, y = _interpolate_position(data.position, lap.driver_number, session_ns)

    n = int(time.shape[0])
    keep = downsample(n, max_points)
    channels = car.channels
    return Telemetry(
        driver=lap.driver,
        driver_number=lap.driver_number,
        lap_number=lap.lap_number,
        time=time[keep],
        session_time=(session_ns / NS_PER_S)[keep],
        distance=distance[keep],
        speed=speed[keep],
        rpm=np.asarray(channels["rpm"][rows][keep], dtype=np.float64),
        gear=np.asarray(channels["gear"][rows][keep], dtype=np.int64),
        throttle=np.asarray(channels["throttle"][rows][keep], dtype=np.float64),
        brake=np.asarray(channels["brake"][rows][keep], dtype=np.bool_),
        drs=np.asarray(channels["drs"][rows][keep], dtype=np.int64),
        x=None if x is None else x[keep],
        y=None if y is None else y[keep],
        source_sample_count=n,
    )


def check_max_points(max_points: int | None) -> None:
    if max_points is not None and max_points < 2:
        raise BadUserInput("max_points must be at least 2", field="max_points")


def downsample(n: int, max_points: int | None) -> Rows:
    """Indexes of ``max_points`` of ``n`` samples, evenly spaced, first and last included."""
    if max_points is None or n <= max_points:
        return slice(None)
    return np.rint(np.linspace(0, n - 1, max_points)).astype(np.intp)


class LapSamples(NamedTuple):
    """The samples of a :class:`Trace` in one lap (see :func:`lap_samples`)."""

    trace: Trace
    rows: Rows
    #: The lap's start (ns of session time; 0 for a lap without one).
    start_ns: int
    #: Each row's session time, in ns.
    session_ns: IntArray


def lap_samples(trace: Trace | None, lap: Lap) -> LapSamples | None:
    """The rows of ``trace`` in the lap's ``[LapStartTime, Time]``, with the lap's start and
    each row's session time.

    ``None`` when ``trace`` holds no samples of the lap's driver (the data is not
    available). A lap without a start or an end time has no rows (start 0).
    """
    if trace is None or lap.driver_number not in trace.spans:
        return None
    start, stop = trace.spans[lap.driver_number]
    if lap.lap_start_time is None or lap.time is None:
        rows: Rows = slice(start, start)
        start_ns = 0
    else:
        start_ns = seconds_to_ns(lap.lap_start_time)
        end_ns = seconds_to_ns(lap.time)
        rows = _window(trace, lap.driver_number, start, stop, start_ns, end_ns)
    session_ns = trace.session_time[rows].astype(np.int64) * trace.time_unit_ns
    return LapSamples(trace, rows, start_ns, session_ns)


def integrate_distance(time: FloatArray, speed: FloatArray) -> FloatArray:
    """FastF1's ``Telemetry.integrate_distance``: the running sum of ``speed / 3.6 * dt``.

    ``time`` in seconds from the lap's start, ``speed`` in km/h; the first ``dt`` is the
    first sample's ``time``.
    """
    if not time.shape[0]:
        return np.empty(0, dtype=np.float64)
    dt = np.empty_like(time)
    dt[0] = time[0]
    np.subtract(time[1:], time[:-1], out=dt[1:])
    distance: FloatArray = np.cumsum(speed / 3.6 * dt)
    return distance


def driver_series(trace: Trace, number: str) -> tuple[IntArray, Rows]:
    """The driver's sample times in ns, in time order, and the rows they come from."""
    start, stop = trace.spans[number]
    times = trace.session_time[start:stop].astype(np.int64) * trace.time_unit_ns
    if number in trace.sorted_drivers:
        return times, slice(start, stop)
    order = np.argsort(times, kind="stable")
    return times[order], start + order


def _window(trace: Trace, number: str, start: int, stop: int, lo_ns: int, hi_ns: int) -> Rows:
    """Rows of ``trace`` in ``[start, stop)`` whose session time lies in ``[lo_ns, hi_ns]``."""
    unit = trace.time_unit_ns
    # sample t*unit >= lo  <=>  t >= ceil(lo/unit); t*unit <= hi  <=>  t <= floor(hi/unit)
    lo, hi = -(-lo_ns // unit), hi_ns // unit
    times = trace.session_time[start:stop]
    if number in trace.sorted_drivers:
        i0 = int(np.searchsorted(times, lo, side="left"))
        i1 = int(np.searchsorted(times, hi, side="right"))
        return slice(start + i0, start + max(i0, i1))
    # Out-of-order samples (FastF1 has not produced any here): mask, as FastF1 does.
    return start + np.flatnonzero((times >= lo) & (times <= hi))


def _interpolate_position(
    pos: Trace, number: str, at_ns: IntArray
) -> tuple[FloatArray, FloatArray]:
    start, stop = pos.spans[number]
    if at_ns.shape[0] == 0:
        return np.empty(0, dtype=np.float64), np.empty(0, dtype=np.float64)
    unit = pos.time_unit_ns
    times = pos.session_time[start:stop]
    xs, ys = pos.channels["x"][start:stop], pos.channels["y"][start:stop]
    if number not in pos.sorted_drivers:
        order = np.argsort(times, kind="stable")
        times, xs, ys = times[order], xs[order], ys[order]
    # Only the samples around the window matter to a linear interpolation: take one more
    # on each side so the result equals interpolating over the driver's whole series.
    i0 = max(int(np.searchsorted(times, at_ns[0] // unit, side="right")) - 1, 0)
    i1 = min(int(np.searchsorted(times, -(-at_ns[-1] // unit), side="left")) + 1, stop - start)
    xp = times[i0:i1].astype(np.float64) * unit
    at = at_ns.astype(np.float64)
    x = np.interp(at, xp, xs[i0:i1].astype(np.float64))
    y = np.interp(at, xp, ys[i0:i1].astype(np.float64))
    return x, y
