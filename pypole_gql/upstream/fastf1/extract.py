"""A loaded ``fastf1.core.Session`` as the app's domain objects. Runs in the worker.

The only place pandas is read: every FastF1 frame becomes plain dataclasses and numpy
columns (:class:`~pypole_gql.domain.sessions.SessionData`) once, right after the load,
so nothing downstream imports FastF1 or pandas. FastF1 and pandas are imported inside
the functions, so importing this module costs the server nothing.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import UTC
from typing import Any

import numpy as np

from pypole_gql.domain.sessions import (
    Lap,
    SessionData,
    SessionDriver,
    SessionInfo,
    Trace,
    compute_stints,
)


def extract_session_data(session: Any, session_type: str, *, telemetry: bool) -> SessionData:
    """The app's compact view of a loaded ``fastf1.core.Session``.

    Laps keep FastF1's row order; times become float seconds (NaT -> ``None``). Car and
    position samples are kept whole per driver (car: ``speed rpm gear throttle brake
    drs``; position: ``x y``), so any lap can later be cut without FastF1; see
    :func:`~pypole_gql.domain.sessions.lap_telemetry`. A session whose laps or
    telemetry FastF1 could not load has none here (``laps_available`` /
    ``telemetry_available``): that is "not available", not an error.
    """
    drivers = _extract_drivers(session)
    frame = _loaded(lambda: session.laps)
    laps = [] if frame is None else _extract_laps(frame)
    car = pos = None
    if telemetry:
        car_data = _loaded(lambda: session.car_data)
        car = _extract_trace(
            car_data,
            drivers,
            {
                "speed": "Speed",
                "rpm": "RPM",
                "gear": "nGear",
                "throttle": "Throttle",
                "brake": "Brake",
                "drs": "DRS",
            },
        )
        pos = _extract_trace(_loaded(lambda: session.pos_data), drivers, {"x": "X", "y": "Y"})
    total_laps = _loaded(lambda: session.total_laps)
    event = session.event
    date = session.date
    info = SessionInfo(
        year=int(event.year),
        round=int(event["RoundNumber"]),
        event_name=str(event["EventName"]),
        session_type=session_type,
        session_name=str(session.name),
        start_time_utc=None if _isna(date) else date.to_pydatetime().replace(tzinfo=UTC),
        total_laps=None if _isna(total_laps) else int(total_laps),
        laps_available=bool(laps),
        telemetry_available=car is not None,
    )
    return SessionData(
        info=info,
        drivers=tuple(drivers),
        laps=tuple(laps),
        stints=tuple(compute_stints(laps)),
        car=car,
        position=pos,
    )


def _loaded(get: Callable[[], Any]) -> Any:
    """``get()``, or ``None`` for data FastF1 did not load (its loaders fail softly)."""
    from fastf1.exceptions import DataNotLoadedError

    try:
        return get()
    except DataNotLoadedError:
        return None


def _extract_drivers(session: Any) -> list[SessionDriver]:
    results = _loaded(lambda: session.results)
    if results is None:
        return []
    cols = set(results.columns)

    def col(name: str) -> list[Any]:
        return list(results[name]) if name in cols else [None] * len(results)

    out = []
    for number, code, name, team, driver_id, pos, grid, status, points in zip(
        col("DriverNumber"),
        col("Abbreviation"),
        col("FullName"),
        col("TeamName"),
        col("DriverId"),
        col("Position"),
        col("GridPosition"),
        col("Status"),
        col("Points"),
        strict=True,
    ):
        number = str(number)
        out.append(
            SessionDriver(
                code=_opt_str(code) or number,
                number=number,
                full_name=_opt_str(name) or "",
                team=_opt_str(team),
                driver_id=_opt_str(driver_id),
                position=_opt_int(pos),
                grid_position=_opt_int(grid),
                status=_opt_str(status),
                points=_opt_float(points),
            )
        )
    return out


def _extract_laps(laps: Any) -> list[Lap]:
    if len(laps) == 0:
        return []

    def seconds(name: str) -> list[float | None]:
        values = laps[name].dt.total_seconds().to_numpy(dtype=np.float64)
        return [None if math.isnan(v) else v for v in values.tolist()]

    def plain(name: str) -> list[Any]:
        return list(laps[name]) if name in laps.columns else [None] * len(laps)

    columns = zip(
        plain("Driver"),
        plain("DriverNumber"),
        plain("LapNumber"),
        seconds("LapTime"),
        seconds("Sector1Time"),
        seconds("Sector2Time"),
        seconds("Sector3Time"),
        plain("Compound"),
        plain("TyreLife"),
        plain("FreshTyre"),
        plain("Stint"),
        plain("Position"),
        plain("IsPersonalBest"),
        plain("Deleted"),
        plain("IsAccurate"),
        seconds("PitInTime"),
        seconds("PitOutTime"),
        plain("TrackStatus"),
        seconds("LapStartTime"),
        seconds("Time"),
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
        lap_no = _opt_int(lap_number)
        if lap_no is None:  # pragma: no cover - FastF1 numbers every lap it keeps
            continue
        out.append(
            Lap(
                driver=str(code),
                driver_number=str(number),
                lap_number=lap_no,
                lap_time=lap_time,
                sector1_time=s1,
                sector2_time=s2,
                sector3_time=s3,
                compound=_opt_str(compound),
                tyre_life=_opt_float(tyre_life),
                fresh_tyre=_opt_bool(fresh),
                stint=_opt_int(stint),
                position=_opt_int(position),
                # pick_fastest selects `IsPersonalBest == True`: NaN/None count as False
                is_personal_best=_opt_bool(personal_best) is True,
                deleted=_opt_bool(deleted),
                is_accurate=bool(_opt_bool(accurate)),
                pit_in_time=pit_in,
                pit_out_time=pit_out,
                track_status=_opt_str(track_status),
                lap_start_time=start,
                time=end,
            )
        )
    return out


def _extract_trace(
    per_driver: Any, drivers: Sequence[SessionDriver], channels: dict[str, str]
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


def _opt_str(value: Any) -> str | None:
    if _isna(value):
        return None
    text = str(value)
    return text or None


def _opt_float(value: Any) -> float | None:
    return None if _isna(value) else float(value)


def _opt_int(value: Any) -> int | None:
    return None if _isna(value) else int(value)


def _opt_bool(value: Any) -> bool | None:
    return None if _isna(value) else bool(value)
