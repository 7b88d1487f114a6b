"""What the app keeps of one loaded F1 session: :class:`SessionData` and the rows it holds.

Plain data: no FastF1, no pandas, no I/O. The FastF1 worker builds a :class:`SessionData`
once per session (``pypole_gql.upstream.fastf1.extract``), ships it as a compact payload
and the server decodes it; the other modules of this package answer questions from it.

Conventions:

* Times are float seconds (``None`` where FastF1 has NaT). Session times (``time``,
  ``lap_start_time``, ``pit_in_time`` ...) count from FastF1's ``Session.t0_date``, the
  start of the session's data stream, exactly as FastF1's ``SessionTime`` does.
* Moments of the wall clock are timezone-aware UTC :class:`~datetime.datetime`.
* Text FastF1 leaves empty (NaN, ``""`` or the string ``"nan"``) is ``None``.
* A driver is named by code (``"HAM"``, case-insensitive) or car number (``"44"``).
* Rows keep FastF1's order (``Session.laps``, ``Session.results`` ...): it is what breaks
  ties, e.g. in :func:`~pypole_gql.domain.sessions.laps.fastest_lap`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

import numpy as np
import numpy.typing as npt

from pypole_gql.domain.params import SESSION_TYPES as SESSION_TYPES
from pypole_gql.errors import NotFound

NS_PER_S: Final = 1_000_000_000
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


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
    """At least one lap was timed."""
    telemetry_available: bool
    """Car data was loaded for at least one driver."""
    timing_available: bool = True
    """FastF1 loaded the session's timing data (laps, positions, pit lane times).

    ``False`` for a session the live-timing archive has not published (yet), or published
    without its timing: the drivers and results (from Jolpica) may be there, the laps are
    not. That is not a good load: ``timing_unavailable_reason`` says why, and a later
    load may succeed (the archive fills in after a session).
    """
    timing_unavailable_reason: str | None = None


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
    """Session time the car entered the pit lane, on the lap that ends in the pits."""
    pit_out_time: float | None
    """Session time the car left the pit lane, on the lap that starts there."""
    track_status: str | None
    lap_start_time: float | None
    time: float | None
    """Session time at which the lap was set (its end)."""


@dataclass(frozen=True, slots=True)
class Stint:
    """Consecutive laps of one driver on one set of tyres (FastF1's ``Stint`` number).

    ``compound``, ``fresh_tyre`` and ``start_tyre_life`` are the first known value among
    the stint's laps.

    Two averages, because one lap in a stint behind the safety car or through the pit
    lane says nothing about the tyre's pace:

    * ``average_lap_time``: the mean of every timed lap of the stint (in- and out-laps
      and laps behind a safety car included, laps without a time left out); ``None`` when
      no lap of the stint has a time.
    * ``average_pace_time``: the mean of the stint's *quick* laps, as FastF1's
      ``Laps.pick_quicklaps()`` picks them on the whole session's laps
      (``session.laps.pick_quicklaps()``, then this stint's rows): a lap time under
      107 % of the session's fastest lap. The yardstick is the session's fastest lap,
      not the stint's, so a stint run entirely behind the safety car has no pace
      (``None``) instead of a slow one, and the paces of different stints compare.
      ``pace_lap_count`` laps went into it.
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
    average_pace_time: float | None = None
    pace_lap_count: int = 0


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


@dataclass(frozen=True, slots=True)
class SessionResult:
    """One row of FastF1's ``Session.results`` (timing data joined with Jolpica's results).

    ``position`` is the finishing (or qualifying) order; ``classified_position`` FastF1's
    text for it: a number, or ``R`` retired, ``D`` disqualified, ``E`` excluded, ``W``
    withdrawn, ``F`` failed to qualify, ``N`` not classified. ``q1``..``q3`` are the
    qualifying times of a qualifying-like session. ``time`` is, as in FastF1, the
    winner's total race time and every other finisher's gap to the winner (seconds);
    ``None`` for cars not on the lead lap and in other sessions. ``team_color`` is
    FastF1's ``RRGGBB`` hex, without ``#``.
    """

    driver: str
    """The driver's code; the car number when FastF1 has no code."""
    driver_number: str
    broadcast_name: str | None
    first_name: str | None
    last_name: str | None
    full_name: str | None
    driver_id: str | None
    country_code: str | None
    headshot_url: str | None
    team_name: str | None
    team_id: str | None
    team_color: str | None
    position: int | None
    classified_position: str | None
    grid_position: int | None
    q1: float | None
    q2: float | None
    q3: float | None
    time: float | None
    status: str | None
    points: float | None
    laps: int | None


@dataclass(frozen=True, slots=True)
class WeatherSample:
    """One row of FastF1's ``Session.weather_data`` (the archive sends one a minute).

    ``time`` is a session time; temperatures in °C, ``humidity`` in %, ``pressure`` in
    mbar, ``wind_speed`` in m/s, ``wind_direction`` in degrees (0-359).
    """

    time: float | None
    air_temperature: float | None
    track_temperature: float | None
    humidity: float | None
    pressure: float | None
    rainfall: bool | None
    wind_speed: float | None
    wind_direction: int | None


@dataclass(frozen=True, slots=True)
class RaceControlMessage:
    """One row of FastF1's ``Session.race_control_messages``.

    ``time`` is when race control sent it (UTC); ``session_time`` the same moment on the
    session-time axis of laps and telemetry (``None`` when FastF1 could not date that
    axis: it does so from the car data). ``category`` is FastF1's (``Flag``,
    ``SafetyCar``, ``Drs``, ``CarEvent``, ``Other``); ``flag``/``scope``/``sector`` are set
    for flag messages; ``driver_number`` names the car a message is about (``driver`` its
    code when that car is in the session).
    """

    time: datetime
    session_time: float | None
    lap: int | None
    category: str | None
    message: str
    status: str | None
    flag: str | None
    scope: str | None
    sector: int | None
    driver_number: str | None
    driver: str | None


@dataclass(frozen=True, slots=True)
class TrackStatusChange:
    """One row of FastF1's ``Session.track_status``: the status from ``time`` on.

    ``status`` is the archive's code: ``1`` green, ``2`` yellow, ``4`` safety car, ``5``
    red, ``6`` virtual safety car deployed, ``7`` virtual safety car ending; ``message``
    the archive's word for it (``AllClear``, ``Yellow``, ``SCDeployed`` ...).
    """

    time: float | None
    status: str
    message: str | None


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
    """Channels ``x y z``; ``None`` when not available."""
    results: tuple[SessionResult, ...] = ()
    weather: tuple[WeatherSample, ...] = ()
    race_control: tuple[RaceControlMessage, ...] = ()
    track_status: tuple[TrackStatusChange, ...] = ()
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
        """The driver's laps in FastF1's order (by lap number)."""
        return self._laps_by_driver.get(driver_number, ())

    @property
    def label(self) -> str:
        """``"2018 Azerbaijan Grand Prix Race"``, for messages."""
        return f"{self.info.year} {self.info.event_name} {self.info.session_name}"


def require_driver(data: SessionData, identifier: str) -> SessionDriver:
    """The driver named by code or number; :class:`NotFound` when not in the session."""
    drv = data.driver(identifier)
    if drv is None:
        raise NotFound(f"No driver {identifier!r} in {data.label}")
    return drv


def driver_numbers(data: SessionData, drivers: Iterable[str] | None) -> set[str] | None:
    """Car numbers of the given codes or numbers (unknown ones match nothing); None: all."""
    if drivers is None:
        return None
    return {d.number for d in (data.driver(i) for i in drivers) if d is not None}


def seconds_to_ns(seconds: float) -> int:
    """Exact inverse of ``ns / 1e9`` for any session time (|t| < 1e6 s is well within float64)."""
    return round(seconds * NS_PER_S)


def elapsed(start: float, end: float) -> float:
    """``end - start`` in seconds, exact to the nanosecond as FastF1's timedelta arithmetic is.

    Both are ``ns / 1e9`` values; subtracting the floats directly would leave float noise
    (``20.346000000000004``) where FastF1 says ``20.346``.
    """
    return (seconds_to_ns(end) - seconds_to_ns(start)) / NS_PER_S
