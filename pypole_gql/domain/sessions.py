"""One loaded F1 session (FastF1 data) and the questions the app asks of it.

Everything here is plain data plus pure functions: no FastF1, no pandas, no I/O. A
:class:`SessionData` is built once per session by the FastF1 worker (see
``pypole_gql.upstream.fastf1``), shipped as a compact payload and decoded in the server
process; these functions then answer each request from it.

Conventions:

* Times are float seconds (``None`` where FastF1 has NaT). Session times (``time``,
  ``lap_start_time``, ``pit_in_time`` ...) count from FastF1's ``Session.t0_date``, the
  start of the session's data stream, exactly as FastF1's ``SessionTime`` does.
* A driver is named by code (``"HAM"``, case-insensitive) or car number (``"44"``).
* Laps keep FastF1's row order (``Session.laps``), which is what breaks ties in
  :func:`fastest_lap` exactly as ``Laps.pick_fastest()`` does.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, TypeVar

import numpy as np
import numpy.typing as npt

from pypole_gql.domain.params import SESSION_TYPES as SESSION_TYPES
from pypole_gql.errors import BadUserInput, NotFound

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

_NS_PER_S: Final = 1_000_000_000
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class SessionDriver:
    """A driver who took part in the session, in FastF1's results order."""

    code: str
    number: str
    full_name: str
    team: str | None
    driver_id: str | None
    """Jolpica/Ergast ``driverId`` when FastF1 could join it, else ``None``."""
    position: int | None = None
    grid_position: int | None = None
    status: str | None = None
    points: float | None = None


@dataclass(frozen=True, slots=True)
class SessionInfo:
    year: int
    round: int
    event_name: str
    session_type: str
    """Our identifier: one of :data:`SESSION_TYPES`."""
    session_name: str
    """FastF1's name, e.g. ``"Sprint Shootout"``."""
    start_time_utc: datetime | None
    """Scheduled start of the session (timezone-aware UTC), from FastF1's schedule."""
    total_laps: int | None
    """Scheduled race distance in laps for race-like sessions, else ``None``."""
    laps_available: bool
    telemetry_available: bool
    """Car data was loaded for at least one driver."""


@dataclass(frozen=True, slots=True)
class Lap:
    """One row of FastF1's ``Session.laps``."""

    driver: str
    driver_number: str
    lap_number: int
    lap_time: float | None
    sector1_time: float | None
    sector2_time: float | None
    sector3_time: float | None
    compound: str | None
    tyre_life: float | None
    fresh_tyre: bool | None
    stint: int | None
    position: int | None
    is_personal_best: bool
    deleted: bool | None
    is_accurate: bool
    pit_in_time: float | None
    pit_out_time: float | None
    track_status: str | None
    lap_start_time: float | None
    time: float | None
    """Session time at which the lap was set (its end)."""


@dataclass(frozen=True, slots=True)
class Stint:
    """Consecutive laps of one driver on one set of tyres (FastF1's ``Stint`` number).

    ``compound``, ``fresh_tyre`` and ``start_tyre_life`` are the first known value among
    the stint's laps. ``average_lap_time`` is the mean over the stint's laps that have a
    lap time (in- and out-laps and laps behind a safety car included, laps without a time
    left out); ``None`` when no lap of the stint has one.
    """

    driver: str
    driver_number: str
    stint: int
    compound: str | None
    fresh_tyre: bool | None
    start_tyre_life: float | None
    start_lap: int
    end_lap: int
    lap_count: int
    timed_lap_count: int
    average_lap_time: float | None


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


@dataclass(frozen=True, slots=True, eq=False)
class Trace:
    """The whole session's samples of one kind for every driver, concatenated.

    ``session_time`` holds integer multiples of ``time_unit_ns`` nanoseconds (FastF1
    rounds telemetry to the millisecond, so the worker stores milliseconds when it can).
    ``spans`` maps a car number to its ``[start, stop)`` rows; ``sorted_drivers`` are the
    drivers whose times never decrease, so a lap can be cut with a binary search.
    """

    time_unit_ns: int
    session_time: npt.NDArray[np.integer]
    channels: Mapping[str, npt.NDArray[np.generic]]
    spans: Mapping[str, tuple[int, int]]
    sorted_drivers: frozenset[str]


@dataclass(frozen=True, slots=True, eq=False)
class SessionData:
    """Everything the app keeps of one FastF1 session."""

    info: SessionInfo
    drivers: tuple[SessionDriver, ...]
    laps: tuple[Lap, ...]
    stints: tuple[Stint, ...]
    car: Trace | None
    """Channels ``speed rpm gear throttle brake drs``; ``None`` when not available."""
    position: Trace | None
    """Channels ``x y``; ``None`` when not available."""
    _by_key: dict[str, SessionDriver] = field(init=False, repr=False, compare=False)
    _laps_by_driver: dict[str, tuple[Lap, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_key: dict[str, SessionDriver] = {}
        for drv in self.drivers:
            by_key[drv.number] = drv
            by_key[drv.code.upper()] = drv
        grouped: dict[str, list[Lap]] = {}
        for lap in self.laps:
            grouped.setdefault(lap.driver_number, []).append(lap)
        object.__setattr__(self, "_by_key", by_key)
        object.__setattr__(self, "_laps_by_driver", {k: tuple(v) for k, v in grouped.items()})

    def driver(self, identifier: str) -> SessionDriver | None:
        """The driver named by code (any case) or car number, or ``None``."""
        return self._by_key.get(identifier.strip().upper())

    def driver_laps(self, driver_number: str) -> tuple[Lap, ...]:
        return self._laps_by_driver.get(driver_number, ())


def require_driver(data: SessionData, identifier: str) -> SessionDriver:
    drv = data.driver(identifier)
    if drv is None:
        raise NotFound(
            f"No driver {identifier!r} in {data.info.year} {data.info.event_name} "
            f"{data.info.session_name}"
        )
    return drv


def select_laps(
    data: SessionData,
    drivers: Iterable[str] | None = None,
    lap_numbers: Iterable[int] | None = None,
) -> list[Lap]:
    """Laps of the given drivers (codes or numbers) and lap numbers, in FastF1's order.

    ``None`` means no filter. An unknown driver matches nothing (it is not an error, so a
    list of drivers can span sessions).
    """
    if drivers is None:
        laps: Iterable[Lap] = data.laps
    else:
        numbers = {d.number for d in (data.driver(i) for i in drivers) if d is not None}
        laps = (lap for lap in data.laps if lap.driver_number in numbers)
    if lap_numbers is None:
        return list(laps)
    wanted = set(lap_numbers)
    return [lap for lap in laps if lap.lap_number in wanted]


def compute_stints(laps: Sequence[Lap]) -> list[Stint]:
    """Group laps into stints by (driver, FastF1 ``Stint``); laps without a stint are left out.

    Stints are ordered by first appearance in ``laps``. See :class:`Stint` for the
    definition of each field.
    """
    groups: dict[tuple[str, int], list[Lap]] = {}
    for lap in laps:
        if lap.stint is not None:
            groups.setdefault((lap.driver_number, lap.stint), []).append(lap)
    stints = []
    for (number, stint_no), members in groups.items():
        timed = [lap.lap_time for lap in members if lap.lap_time is not None]
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
            )
        )
    return stints


def select_stints(data: SessionData, drivers: Iterable[str] | None = None) -> list[Stint]:
    """The session's stints, optionally only those of some drivers (codes or numbers)."""
    if drivers is None:
        return list(data.stints)
    numbers = {d.number for d in (data.driver(i) for i in drivers) if d is not None}
    return [s for s in data.stints if s.driver_number in numbers]


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
    drv = require_driver(data, driver)
    for lap in data.driver_laps(drv.number):
        if lap.lap_number == lap_number:
            return lap
    raise NotFound(f"{drv.code} has no lap {lap_number} in {data.info.session_name}")


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
    if max_points is not None and max_points < 2:
        raise BadUserInput("max_points must be at least 2", field="max_points")
    lap = find_lap(data, driver, lap_number)
    car = data.car
    if car is None or lap.driver_number not in car.spans:
        return None
    start, stop = car.spans[lap.driver_number]
    rows: slice | npt.NDArray[np.intp]
    if lap.lap_start_time is None or lap.time is None:
        rows = slice(start, start)
        start_ns = 0
    else:
        start_ns = seconds_to_ns(lap.lap_start_time)
        end_ns = seconds_to_ns(lap.time)
        rows = _window(car, lap.driver_number, start, stop, start_ns, end_ns)

    session_ns = car.session_time[rows].astype(np.int64) * car.time_unit_ns
    time = (session_ns - start_ns) / _NS_PER_S
    speed = np.asarray(car.channels["speed"][rows], dtype=np.float64)
    if time.shape[0]:
        dt = np.empty_like(time)
        dt[0] = time[0]
        np.subtract(time[1:], time[:-1], out=dt[1:])
        distance = np.cumsum(speed / 3.6 * dt)
    else:
        distance = np.empty(0, dtype=np.float64)

    x = y = None
    if data.position is not None and lap.driver_number in data.position.spans:
        x, y = _interpolate_position(data.position, lap.driver_number, session_ns)

    n = int(time.shape[0])
    keep: slice | npt.NDArray[np.intp] = slice(None)
    if max_points is not None and n > max_points:
        keep = np.rint(np.linspace(0, n - 1, max_points)).astype(np.intp)
    channels = car.channels
    return Telemetry(
        driver=lap.driver,
        driver_number=lap.driver_number,
        lap_number=lap.lap_number,
        time=time[keep],
        session_time=(session_ns / _NS_PER_S)[keep],
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


def seconds_to_ns(seconds: float) -> int:
    """Exact inverse of ``ns / 1e9`` for any session time (|t| < 1e6 s is well within float64)."""
    return round(seconds * _NS_PER_S)


def _window(
    trace: Trace, number: str, start: int, stop: int, lo_ns: int, hi_ns: int
) -> slice | npt.NDArray[np.intp]:
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


def _first(values: Iterable[_T | None]) -> _T | None:
    for value in values:
        if value is not None:
            return value
    return None
