"""A loaded ``fastf1.core.Session`` as the app's domain objects. Runs in the worker.

The only place pandas is read: every FastF1 frame becomes plain dataclasses and numpy
columns (:class:`~pypole_gql.domain.sessions.SessionData`) once, right after the load,
so nothing downstream imports FastF1 or pandas. FastF1 and pandas are imported inside
the functions, so importing this module costs the server nothing.

Every value is converted the same way (:class:`_Columns`): timedeltas to float seconds
(``ns / 1e9``, as ``Series.dt.total_seconds()``), NaN/NaT to ``None``, and text FastF1
leaves empty (NaN, ``""``, the string ``"nan"`` it gives some lap-1 compounds) to
``None``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

import numpy as np

from pypole_gql.domain.sessions import (
    Lap,
    RaceControlMessage,
    SessionData,
    SessionDriver,
    SessionInfo,
    SessionResult,
    Trace,
    TrackStatusChange,
    WeatherSample,
    compute_stints,
)

CAR_CHANNELS: Final = {
    "speed": "Speed",
    "rpm": "RPM",
    "gear": "nGear",
    "throttle": "Throttle",
    "brake": "Brake",
    "drs": "DRS",
}
POSITION_CHANNELS: Final = {"x": "X", "y": "Y", "z": "Z"}
NO_ARCHIVE: Final = "The F1 live-timing archive has no data for this session (yet)"
NO_TIMING: Final = "The F1 live-timing archive has no lap timing data for this session"
_EMPTY_TEXT: Final = frozenset({"", "nan"})


def extract_session_data(session: Any, session_type: str, *, telemetry: bool) -> SessionData:
    """The app's compact view of a loaded ``fastf1.core.Session``.

    Rows keep FastF1's order. Car and position samples are kept whole per driver (car:
    ``speed rpm gear throttle brake drs``; position: ``x y z``), so any lap can later be
    cut without FastF1; see :mod:`pypole_gql.domain.sessions.telemetry`. A session whose
    laps, telemetry, weather or messages FastF1 could not load has none of them here
    (``laps_available``, ``telemetry_available``): that is "not available", not an
    error. Missing timing data (no laps frame at all) is marked in ``timing_available``
    with the reason.
    """
    results = _loaded(lambda: session.results)
    drivers = _extract_drivers(results)
    frame = _loaded(lambda: session.laps)
    laps = [] if frame is None else _extract_laps(frame)
    car = pos = None
    if telemetry:
        car = _extract_trace(_loaded(lambda: session.car_data), drivers, CAR_CHANNELS)
        pos = _extract_trace(_loaded(lambda: session.pos_data), drivers, POSITION_CHANNELS)
    t0 = _loaded(lambda: session.t0_date)
    timing_problem = None
    if frame is None:
        timing_problem = NO_ARCHIVE if _loaded(lambda: session.session_info) is None else NO_TIMING
    total_laps = _loaded(lambda: session.total_laps)
    event = session.event
    date = session.date
    info = SessionInfo(
        year=int(event.year),
        round=int(event["RoundNumber"]),
        event_name=str(event["EventName"]),
        session_type=session_type,
        session_name=str(session.name),
        start_time_utc=None if _isna(date) else _utc(date),
        total_laps=None if _isna(total_laps) else int(total_laps),
        laps_available=bool(laps),
        telemetry_available=car is not None,
        timing_available=timing_problem is None,
        timing_unavailable_reason=timing_problem,
    )
    return SessionData(
        info=info,
        drivers=tuple(drivers),
        laps=tuple(laps),
        stints=tuple(compute_stints(laps)),
        car=car,
        position=pos,
        results=_extract_results(results),
        weather=_extract_weather(_loaded(lambda: session.weather_data)),
        race_control=_extract_race_control(
            _loaded(lambda: session.race_control_messages), t0, drivers
        ),
        track_status=_extract_track_status(_loaded(lambda: session.track_status)),
    )


def _loaded(get: Callable[[], Any]) -> Any:
    """``get()``, or ``None`` for data FastF1 did not load (its loaders fail softly)."""
    from fastf1.exceptions import DataNotLoadedError

    try:
        return get()
    except DataNotLoadedError:
        return None


class _Columns:
    """A frame's columns as Python lists, converted; a missing column is all ``None``."""

    def __init__(self, frame: Any) -> None:
        self.frame = frame
        self.length = 0 if frame is None else len(frame)

    def _has(self, name: str) -> bool:
        return self.frame is not None and name in self.frame.columns

    def plain(self, name: str) -> list[Any]:
        return list(self.frame[name]) if self._has(name) else [None] * self.length

    def seconds(self, name: str) -> list[float | None]:
        if not self._has(name):
            return [None] * self.length
        values = self.frame[name].dt.total_seconds().to_numpy(dtype=np.float64)
        return [None if math.isnan(v) else v for v in values.tolist()]

    def text(self, name: str) -> list[str | None]:
        return [_opt_str(v) for v in self.plain(name)]

    def ints(self, name: str) -> list[int | None]:
        return [_opt_int(v) for v in self.plain(name)]

    def floats(self, name: str) -> list[float | None]:
        return [_opt_float(v) for v in self.plain(name)]

    def bools(self, name: str) -> list[bool | None]:
        return [_opt_bool(v) for v in self.plain(name)]


def _extract_drivers(results: Any) -> list[SessionDriver]:
    if results is None:
        return []
    c = _Columns(results)
    out = []
    for number, code, name, team, driver_id, pos, grid, status, points in zip(
        c.plain("DriverNumber"),
        c.text("Abbreviation"),
        c.text("FullName"),
        c.text("TeamName"),
        c.text("DriverId"),
        c.ints("Position"),
        c.ints("GridPosition"),
        c.text("Status"),
        c.floats("Points"),
        strict=True,
    ):
        number = str(number)
        out.append(
            SessionDriver(
                code=code or number,
                number=number,
                full_name=name or "",
                team=team,
                driver_id=driver_id,
                position=pos,
                grid_position=grid,
                status=status,
                points=points,
            )
        )
    return out


def _extract_results(results: Any) -> tuple[SessionResult, ...]:
    if results is None:
        return ()
    c = _Columns(results)
    numbers = [str(n) for n in c.plain("DriverNumber")]
    rows = zip(
        [code or number for code, number in zip(c.text("Abbreviation"), numbers, strict=True)],
        numbers,
        c.text("BroadcastName"),
        c.text("FirstName"),
        c.text("LastName"),
        c.text("FullName"),
        c.text("DriverId"),
        c.text("CountryCode"),
        c.text("HeadshotUrl"),
        c.text("TeamName"),
        c.text("TeamId"),
        c.text("TeamColor"),
        c.ints("Position"),
        c.text("ClassifiedPosition"),
        c.ints("GridPosition"),
        c.seconds("Q1"),
        c.seconds("Q2"),
        c.seconds("Q3"),
        c.seconds("Time"),
        c.text("Status"),
        c.floats("Points"),
        c.ints("Laps"),
        strict=True,
    )
    return tuple(SessionResult(*row) for row in rows)


def _extract_laps(laps: Any) -> list[Lap]:
    if len(laps) == 0:
        return []
    c = _Columns(laps)
    columns = zip(
        c.plain("Driver"),
        c.plain("DriverNumber"),
        c.ints("LapNumber"),
        c.seconds("LapTime"),
        c.seconds("Sector1Time"),
        c.seconds("Sector2Time"),
        c.seconds("Sector3Time"),
        c.text("Compound"),
        c.floats("TyreLife"),
        c.bools("FreshTyre"),
        c.ints("Stint"),
        c.ints("Position"),
        c.bools("IsPersonalBest"),
        c.bools("Deleted"),
        c.bools("IsAccurate"),
        c.seconds("PitInTime"),
        c.seconds("PitOutTime"),
        c.text("TrackStatus"),
        c.seconds("LapStartTime"),
        c.seconds("Time"),
        strict=True,
    )
    out = []
    for (
        code,
        number,
        lap_number,
        lap_time,
        s1,
        s2,
        s3,
        compound,
        tyre_life,
        fresh,
        stint,
        position,
        personal_best,
        deleted,
        accurate,
        pit_in,
        pit_out,
        track_status,
        start,
        end,
    ) in columns:
        if lap_number is None:  # pragma: no cover - FastF1 numbers every lap it keeps
            continue
        out.append(
            Lap(
                driver=str(code),
                driver_number=str(number),
                lap_number=lap_number,
                lap_time=lap_time,
                sector1_time=s1,
                sector2_time=s2,
                sector3_time=s3,
                compound=compound,
                tyre_life=tyre_life,
                fresh_tyre=fresh,
                stint=stint,
                position=position,
                # pick_fastest selects `IsPersonalBest == True`: NaN/None count as False
                is_personal_best=personal_best is True,
                deleted=deleted,
                is_accurate=bool(accurate),
                pit_in_time=pit_in,
                pit_out_time=pit_out,
                track_status=track_status,
                lap_start_time=start,
                time=end,
            )
        )
    return out


def _extract_weather(frame: Any) -> tuple[WeatherSample, ...]:
    if frame is None:
        return ()
    c = _Columns(frame)
    rows = zip(
        c.seconds("Time"),
        c.floats("AirTemp"),
        c.floats("TrackTemp"),
        c.floats("Humidity"),
        c.floats("Pressure"),
        c.bools("Rainfall"),
        c.floats("WindSpeed"),
        c.ints("WindDirection"),
        strict=True,
    )
    return tuple(WeatherSample(*row) for row in rows)


def _extract_race_control(
    frame: Any, t0: Any, drivers: Sequence[SessionDriver]
) -> tuple[RaceControlMessage, ...]:
    if frame is None:
        return ()
    c = _Columns(frame)
    moments = c.plain("Time")
    if t0 is None or _isna(t0):
        session_times: list[float | None] = [None] * c.length
    else:
        offsets = (frame["Time"] - t0).dt.total_seconds().to_numpy(dtype=np.float64)
        session_times = [None if math.isnan(v) else v for v in offsets.tolist()]
    codes: Mapping[str, str] = {d.number: d.code for d in drivers}
    out = []
    for moment, session_time, lap, category, message, status, flag, scope, sector, number in zip(
        moments,
        session_times,
        c.ints("Lap"),
        c.text("Category"),
        c.text("Message"),
        c.text("Status"),
        c.text("Flag"),
        c.text("Scope"),
        c.ints("Sector"),
        c.text("RacingNumber"),
        strict=True,
    ):
        if _isna(moment):  # pragma: no cover - the archive dates every message
            continue
        out.append(
            RaceControlMessage(
                time=_utc(moment),
                session_time=session_time,
                lap=lap,
                category=category,
                message=message or "",
                status=status,
                flag=flag,
                scope=scope,
                sector=sector,
                driver_number=number,
                driver=None if number is None else codes.get(number),
            )
        )
    return tuple(out)


def _extract_track_status(frame: Any) -> tuple[TrackStatusChange, ...]:
    if frame is None:
        return ()
    c = _Columns(frame)
    rows = zip(c.seconds("Time"), c.text("Status"), c.text("Message"), strict=True)
    return tuple(
        TrackStatusChange(time=time, status=status, message=message)
        for time, status, message in rows
        if status is not None
    )


def _extract_trace(
    per_driver: Any, drivers: Sequence[SessionDriver], channels: Mapping[str, str]
) -> Trace | None:
    """Concatenate FastF1's per-driver ``Telemetry`` frames into one :class:`Trace`.

    Samples with a NaT ``SessionTime`` are dropped: FastF1's lap slice never selects them.
    """
    times: list[np.ndarray[Any, Any]] = []
    values: dict[str, list[np.ndarray[Any, Any]]] = {name: [] for name in channels}
    spans: dict[str, tuple[int, int]] = {}
    ordered: set[str] = set()
    offset = 0
    for drv in drivers:
        frame = per_driver.get(drv.number) if per_driver else None
        if frame is None or len(frame) == 0:
            continue
        st = frame["SessionTime"].to_numpy(dtype="timedelta64[ns]")
        keep = ~np.isnat(st)
        ns = st[keep].view(np.int64)
        if ns.size == 0:
            continue
        times.append(ns)
        for name, column in channels.items():
            values[name].append(frame[column].to_numpy()[keep])
        spans[drv.number] = (offset, offset + int(ns.size))
        offset += int(ns.size)
        if bool(np.all(ns[1:] >= ns[:-1])):
            ordered.add(drv.number)
    if not spans:
        return None
    return Trace(
        time_unit_ns=1,
        session_time=np.concatenate(times),
        channels={name: np.concatenate(parts) for name, parts in values.items()},
        spans=spans,
        sorted_drivers=frozenset(ordered),
    )


def _isna(value: Any) -> bool:
    import pandas as pd

    return value is None or bool(pd.isna(value))


def _utc(moment: Any) -> datetime:
    """A pandas timestamp (FastF1's are naive UTC) as an aware UTC datetime."""
    stamp: datetime = moment.to_pydatetime()
    return stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp.astimezone(UTC)


def _opt_str(value: Any) -> str | None:
    if _isna(value):
        return None
    text = str(value)
    return None if text.strip().lower() in _EMPTY_TEXT else text


def _opt_float(value: Any) -> float | None:
    return None if _isna(value) else float(value)


def _opt_int(value: Any) -> int | None:
    return None if _isna(value) else int(value)


def _opt_bool(value: Any) -> bool | None:
    return None if _isna(value) else bool(value)
