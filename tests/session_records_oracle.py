"""Expected session records from FastF1 itself (a loaded ``fastf1.core.Session``), as rows
of snake_case fields, for the GraphQL and REST tests of issue 12. Each builder reads
FastF1's own frame; nothing here comes from the app."""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Mapping, Sequence
from datetime import UTC
from pathlib import Path
from typing import Any

import pandas as pd

TOL = 1e-6

SESSIONS = {
    "race": (2018, "Baku", "R"),
    "qualifying": (2023, "Azerbaijan", "Q"),
    "sprint": (2023, "Azerbaijan", "S"),
}


def seconds(value: Any) -> float | None:
    return None if pd.isna(value) else pd.Timedelta(value).value / 1e9


def opt(value: Any) -> Any:
    if pd.isna(value):
        return None
    return value.item() if hasattr(value, "item") else value


def text(value: Any) -> str | None:
    if pd.isna(value) or str(value).strip().lower() in ("", "nan"):
        return None
    return str(value)


def integer(value: Any) -> int | None:
    return None if pd.isna(value) else int(value)


def loaded(get: Any) -> Any:
    """FastF1's frame, or None where it has none for the session."""
    from fastf1.exceptions import DataNotLoadedError

    try:
        return get()
    except DataNotLoadedError:
        return None


def results(session: Any) -> list[dict[str, Any]]:
    return [
        {
            "driver": text(r.Abbreviation) or str(r.DriverNumber),
            "driver_number": str(r.DriverNumber),
            "broadcast_name": text(r.BroadcastName),
            "first_name": text(r.FirstName),
            "last_name": text(r.LastName),
            "full_name": text(r.FullName),
            "driver_id": text(r.DriverId),
            "country_code": text(r.CountryCode),
            "headshot_url": text(r.HeadshotUrl),
            "team_name": text(r.TeamName),
            "team_id": text(r.TeamId),
            "team_color": text(r.TeamColor),
            "position": integer(r.Position),
            "classified_position": text(r.ClassifiedPosition),
            "grid_position": integer(r.GridPosition),
            "q1": seconds(r.Q1),
            "q2": seconds(r.Q2),
            "q3": seconds(r.Q3),
            "time": seconds(r.Time),
            "status": text(r.Status),
            "points": opt(r.Points),
            "laps": integer(r.Laps),
        }
        for r in session.results.itertuples()
    ]


def weather(session: Any) -> list[dict[str, Any]]:
    frame = loaded(lambda: session.weather_data)
    if frame is None:
        return []
    return [
        {
            "time": seconds(r.Time),
            "air_temperature": opt(r.AirTemp),
            "track_temperature": opt(r.TrackTemp),
            "humidity": opt(r.Humidity),
            "pressure": opt(r.Pressure),
            "rainfall": opt(r.Rainfall),
            "wind_speed": opt(r.WindSpeed),
            "wind_direction": integer(r.WindDirection),
        }
        for r in frame.itertuples()
    ]


def race_control(session: Any, *, with_session_time: bool) -> list[dict[str, Any]]:
    """``session_time`` is only expected from a session loaded with car data (FastF1 dates
    its session-time axis from it)."""
    frame = loaded(lambda: session.race_control_messages)
    if frame is None:
        return []
    t0 = session.t0_date if with_session_time else None
    codes = dict(zip(session.results["DriverNumber"], session.results["Abbreviation"], strict=True))
    rows = []
    for r in frame.itertuples():
        row = {
            "time": r.Time.to_pydatetime().replace(tzinfo=UTC),
            "lap": integer(r.Lap),
            "category": text(r.Category),
            "message": text(r.Message) or "",
            "status": text(r.Status),
            "flag": text(r.Flag),
            "scope": text(r.Scope),
            "sector": integer(r.Sector),
            "driver_number": text(r.RacingNumber),
            "driver": None if text(r.RacingNumber) is None else codes.get(r.RacingNumber),
        }
        if t0 is not None:
            row["session_time"] = seconds(r.Time - t0)
        rows.append(row)
    return rows


def track_status(session: Any) -> list[dict[str, Any]]:
    return [
        {"time": seconds(r.Time), "status": str(r.Status), "message": text(r.Message)}
        for r in session.track_status.itertuples()
    ]


def pit_stops(session: Any) -> list[dict[str, Any]]:
    """Each lap with a PitInTime, in pit-in order, paired with the next lap's PitOutTime."""
    laps = session.laps
    ins = laps[laps["PitInTime"].notna()].sort_values("PitInTime", kind="stable")
    rows = []
    for r in ins.itertuples():
        out = laps[
            (laps["DriverNumber"] == r.DriverNumber) & (laps["LapNumber"] == r.LapNumber + 1)
        ]
        nxt = out.iloc[0] if len(out) else None
        rows.append(
            {
                "driver": r.Driver,
                "driver_number": r.DriverNumber,
                "lap": int(r.LapNumber),
                "pit_in_time": seconds(r.PitInTime),
                "pit_out_time": None if nxt is None else seconds(nxt["PitOutTime"]),
                "pit_lane_time": None
                if nxt is None or pd.isna(nxt["PitOutTime"])
                else seconds(nxt["PitOutTime"] - r.PitInTime),
                "compound_before": text(r.Compound),
                "compound_after": None if nxt is None else text(nxt["Compound"]),
                "fresh_tyre_after": None if nxt is None else opt(nxt["FreshTyre"]),
            }
        )
    return rows


def positions(session: Any) -> list[dict[str, Any]]:
    """Position from the laps' Position; gap and interval from their Time, per lap number."""
    laps = session.laps.reset_index(drop=True)
    timed = laps[laps["Time"].notna()]
    leader = timed.groupby("LapNumber")["Time"].transform("min")
    gap = (timed["Time"] - leader).dt.total_seconds()
    ordered = timed.sort_values(["LapNumber", "Time"], kind="stable")
    interval = ordered.groupby("LapNumber")["Time"].diff().dt.total_seconds()
    return [
        {
            "driver": r.Driver,
            "driver_number": r.DriverNumber,
            "lap": int(r.LapNumber),
            "position": integer(r.Position),
            "time": seconds(r.Time),
            "gap_to_leader": None if i not in gap.index else float(gap[i]),
            "interval": None
            if i not in interval.index or pd.isna(interval[i])
            else float(interval[i]),
        }
        for i, r in zip(laps.index, laps.itertuples(), strict=True)
    ]


def _csv(fixtures_dir: Path, name: str) -> list[dict[str, str]]:
    with (fixtures_dir / "jolpica" / "csv" / f"{name}.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _duration(value: str) -> float | None:
    if not value or value == r"\N":
        return None
    minutes, _, rest = value.rpartition(":")
    return (int(minutes) * 60 if minutes else 0) + float(rest)


def jolpica_pit_stops(fixtures_dir: Path, year: int, round_: int) -> list[dict[str, Any]]:
    """The CSV's ``pit_stops`` rows of one race, with the driver's ``driverRef``."""
    race_id = next(
        r["raceId"]
        for r in _csv(fixtures_dir, "races")
        if (r["year"], r["round"])
        == (
            str(year),
            str(round_),
        )
    )
    refs = {r["driverId"]: r["driverRef"] for r in _csv(fixtures_dir, "drivers")}
    return [
        {
            "driver_id": refs[r["driverId"]],
            "stop": int(r["stop"]),
            "lap": int(r["lap"]),
            "time": r["time"],
            "duration": _duration(r["duration"]),
        }
        for r in _csv(fixtures_dir, "pit_stops")
        if r["raceId"] == race_id
    ]


def camel(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """GraphQL's field names (``pit_in_time`` -> ``pitInTime``; ``q1`` stays)."""

    def name(key: str) -> str:
        return re.sub(r"_([a-z0-9])", lambda m: m.group(1).upper(), key)

    return [{name(k): v for k, v in row.items()} for row in rows]


def assert_rows_equal(
    ours: Sequence[Mapping[str, Any]], expected: Sequence[Mapping[str, Any]]
) -> None:
    """Row for row, each expected field equal (floats within :data:`TOL`)."""
    assert len(ours) == len(expected), (len(ours), len(expected))
    for i, (row, want) in enumerate(zip(ours, expected, strict=True)):
        for key, value in want.items():
            got = row[key]
            if isinstance(value, float) and not isinstance(value, bool):
                assert isinstance(got, float | int) and not isinstance(got, bool), (i, key, got)
                assert math.isclose(got, value, rel_tol=0, abs_tol=TOL), (i, key, got, value)
            else:
                assert got == value, (i, key, got, value)
