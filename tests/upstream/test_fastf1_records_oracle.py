"""Issue 12's session data against FastF1 itself, from the same single load.

Results, weather, race control, track status and pit in/out must equal FastF1's frames
row for row (floats within 1e-6); positions, gaps and intervals come from FastF1's lap
``Position`` and ``Time``; the track map from ``Lap.get_pos_data()``; the comparison's
delta from FastF1's ``get_car_data(interpolate_edges=True).add_distance()`` put through
``utils.delta_time``'s formula (FastF1 3.9.0 no longer ships the function, so the test
applies its published arithmetic to FastF1's own telemetry).

The sessions (``conftest.py``) are loaded once per run, by the worker and by FastF1.
"""

from __future__ import annotations

import csv
import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from pypole_gql.domain.f1 import JolpicaPitStop
from pypole_gql.domain.sessions import (
    Lap,
    SessionData,
    compare,
    fastest_lap,
    pit_stops,
    positions,
    race_control,
    results,
    select_laps,
    track_map,
    track_status,
    weather,
    with_jolpica_durations,
)
from pypole_gql.errors import NotFound
from tests.upstream.conftest import RACE_NAME, SESSIONS, TOL, opt, seconds, text

Oracle = Callable[[str], Any]
Data = Callable[[str], SessionData]


def _int(value: Any) -> int | None:
    return None if pd.isna(value) else int(value)


def _frame(oracle: Oracle, name: str, attribute: str) -> Any:
    return getattr(oracle(name), attribute)


def _loaded(get: Callable[[], Any]) -> Any:
    """FastF1's frame, or None where FastF1 has none for the session (its soft failure)."""
    from fastf1.exceptions import DataNotLoadedError

    try:
        return get()
    except DataNotLoadedError:
        return None


def assert_rows_equal(ours: Sequence[Any], expected: Sequence[Mapping[str, Any]]) -> None:
    """Dataclass rows equal expected dicts field for field; floats within :data:`TOL`."""
    assert len(ours) == len(expected)
    for i, (row, want) in enumerate(zip(ours, expected, strict=True)):
        got = dataclasses.asdict(row)
        assert got.keys() >= want.keys(), i
        for name, value in want.items():
            mine = got[name]
            if isinstance(value, float) and not isinstance(value, bool):
                assert isinstance(mine, float), (i, name, mine, value)
                assert math.isclose(mine, value, rel_tol=0, abs_tol=TOL), (i, name, mine, value)
            else:
                assert mine == value, (i, name, mine, value)


# ------------------------------------------------------------------- FastF1's own frames


@pytest.mark.parametrize("name", list(SESSIONS))
def test_results_equal_fastf1(name: str, session_data: Data, oracle: Oracle) -> None:
    frame = oracle(name).results
    expected = [
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
            "position": _int(r.Position),
            "classified_position": text(r.ClassifiedPosition),
            "grid_position": _int(r.GridPosition),
            "q1": seconds(r.Q1),
            "q2": seconds(r.Q2),
            "q3": seconds(r.Q3),
            "time": seconds(r.Time),
            "status": text(r.Status),
            "points": opt(r.Points),
            "laps": _int(r.Laps),
        }
        for r in frame.itertuples()
    ]
    assert len(expected) > 0
    assert_rows_equal(results(session_data(name)), expected)


def test_qualifying_results_have_q_times(session_data: Data) -> None:
    rows = results(session_data("2023-azerbaijan-q"))
    assert rows[0].position == 1 and rows[0].q3 is not None
    assert any(r.q3 is None and r.q1 is not None for r in rows)


@pytest.mark.parametrize("name", list(SESSIONS))
def test_weather_equals_fastf1(name: str, session_data: Data, oracle: Oracle) -> None:
    frame = _loaded(lambda: oracle(name).weather_data)
    if frame is None:  # the fixtures lack some sessions' WeatherData
        assert weather(session_data(name)) == ()
        return
    expected = [
        {
            "time": seconds(r.Time),
            "air_temperature": opt(r.AirTemp),
            "track_temperature": opt(r.TrackTemp),
            "humidity": opt(r.Humidity),
            "pressure": opt(r.Pressure),
            "rainfall": opt(r.Rainfall),
            "wind_speed": opt(r.WindSpeed),
            "wind_direction": _int(r.WindDirection),
        }
        for r in frame.itertuples()
    ]
    assert len(expected) > 0
    assert_rows_equal(weather(session_data(name)), expected)


def test_weather_is_there_for_the_race_and_a_qualifying(session_data: Data, oracle: Oracle) -> None:
    with_weather = [
        n for n in SESSIONS if _loaded(partial(_frame, oracle, n, "weather_data")) is not None
    ]
    assert RACE_NAME in with_weather and "2021-mexico-q" in with_weather
    assert all(weather(session_data(n)) for n in with_weather)


@pytest.mark.parametrize("name", list(SESSIONS))
def test_race_control_equals_fastf1(name: str, session_data: Data, oracle: Oracle) -> None:
    session = oracle(name)
    frame = _loaded(lambda: session.race_control_messages)
    if frame is None:  # the fixtures lack some sessions' RaceControlMessages
        assert race_control(session_data(name)) == []
        return
    # FastF1 dates its session-time axis from car data: not in loads without it.
    t0 = _loaded(lambda: session.t0_date)
    codes = dict(zip(session.results["DriverNumber"], session.results["Abbreviation"], strict=True))
    expected = [
        {
            "time": r.Time.to_pydatetime().replace(tzinfo=UTC),
            "session_time": None if t0 is None else seconds(r.Time - t0),
            "lap": _int(r.Lap),
            "category": text(r.Category),
            "message": text(r.Message) or "",
            "status": text(r.Status),
            "flag": text(r.Flag),
            "scope": text(r.Scope),
            "sector": _int(r.Sector),
            "driver_number": text(r.RacingNumber),
            "driver": None if text(r.RacingNumber) is None else codes.get(r.RacingNumber),
        }
        for r in frame.itertuples()
    ]
    assert len(expected) > 0
    ours = race_control(session_data(name))
    assert_rows_equal(ours, expected)
    if name == RACE_NAME:
        assert any(m.driver is not None for m in ours)
        assert all(m.session_time is not None for m in ours)


def test_race_control_is_there_for_a_race_a_qualifying_and_a_sprint(
    session_data: Data, oracle: Oracle
) -> None:
    kinds = {
        SESSIONS[n][2]
        for n in SESSIONS
        if _loaded(partial(_frame, oracle, n, "race_control_messages")) is not None
        and race_control(session_data(n))
    }
    assert {"R", "Q", "S"} <= kinds


def test_race_control_filters_match_fastf1(session_data: Data, oracle: Oracle) -> None:
    frame = oracle(RACE_NAME).race_control_messages
    data = session_data(RACE_NAME)
    for category in frame["Category"].dropna().unique():
        ours = race_control(data, category=category.upper())
        assert [m.message for m in ours] == list(frame[frame["Category"] == category]["Message"])
    for flag in frame["Flag"].dropna().unique():
        ours = race_control(data, flag=f" {flag.lower()} ")
        assert [m.message for m in ours] == list(frame[frame["Flag"] == flag]["Message"])
    both = frame[(frame["Category"] == "Flag") & (frame["Flag"] == "YELLOW")]
    assert len(both) > 0
    assert [m.message for m in race_control(data, "flag", "yellow")] == list(both["Message"])
    assert race_control(data, category="no such category") == []


@pytest.mark.parametrize("name", list(SESSIONS))
def test_track_status_equals_fastf1(name: str, session_data: Data, oracle: Oracle) -> None:
    frame = oracle(name).track_status
    expected = [
        {"time": seconds(r.Time), "status": str(r.Status), "message": text(r.Message)}
        for r in frame.itertuples()
    ]
    assert len(expected) > 0
    assert_rows_equal(track_status(session_data(name)), expected)


# ----------------------------------------------------------------------- from the laps


@pytest.mark.parametrize("name", list(SESSIONS))
def test_pit_stops_equal_fastf1_pit_in_and_out(
    name: str, session_data: Data, oracle: Oracle
) -> None:
    laps = oracle(name).laps
    ins = laps[laps["PitInTime"].notna()].sort_values("PitInTime", kind="stable")
    expected = []
    for r in ins.itertuples():
        out = laps[
            (laps["DriverNumber"] == r.DriverNumber) & (laps["LapNumber"] == r.LapNumber + 1)
        ]
        nxt = out.iloc[0] if len(out) else None
        pit_out = None if nxt is None else seconds(nxt["PitOutTime"])
        expected.append(
            {
                "driver": r.Driver,
                "driver_number": r.DriverNumber,
                "lap_number": int(r.LapNumber),
                "pit_in_time": seconds(r.PitInTime),
                "pit_out_time": pit_out,
                "pit_lane_time": None
                if nxt is None or pd.isna(nxt["PitOutTime"])
                else seconds(nxt["PitOutTime"] - r.PitInTime),
                "compound_before": text(r.Compound),
                "compound_after": None if nxt is None else text(nxt["Compound"]),
                "fresh_tyre_after": None if nxt is None else opt(nxt["FreshTyre"]),
            }
        )
    assert len(expected) > 0
    data = session_data(name)
    assert_rows_equal(pit_stops(data), expected)
    some = sorted({r["driver"] for r in expected})[:2]
    assert_rows_equal(pit_stops(data, some), [r for r in expected if r["driver"] in some])


def _csv_rows(fixtures_dir: Path, name: str) -> list[dict[str, str]]:
    with (fixtures_dir / "jolpica" / "csv" / f"{name}.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_jolpica_durations_join_every_stop_of_the_race(
    session_data: Data, fixtures_dir: Path
) -> None:
    """Every stop Jolpica (the CSV) has for the 2018 race finds its FastF1 stop."""
    race_id = next(
        r["raceId"]
        for r in _csv_rows(fixtures_dir, "races")
        if (r["year"], r["round"]) == ("2018", "4")
    )
    refs = {r["driverId"]: r["driverRef"] for r in _csv_rows(fixtures_dir, "drivers")}
    jolpica = [
        JolpicaPitStop(
            refs[r["driverId"]], int(r["stop"]), int(r["lap"]), r["time"], float(r["duration"])
        )
        for r in _csv_rows(fixtures_dir, "pit_stops")
        if r["raceId"] == race_id
    ]
    data = session_data(RACE_NAME)
    joined = with_jolpica_durations(data, pit_stops(data), jolpica)
    ids = {d.number: d.driver_id for d in data.drivers}
    got = {(ids[s.driver_number], s.lap_number): s.jolpica_duration for s in joined}
    assert len(jolpica) > 0
    for stop in jolpica:
        assert got[(stop.driver_id, stop.lap)] == stop.duration
    assert sum(s.jolpica_duration is not None for s in joined) == len(jolpica)


@pytest.mark.parametrize("name", list(SESSIONS))
def test_positions_gaps_and_intervals_from_fastf1_lap_times(
    name: str, session_data: Data, oracle: Oracle
) -> None:
    laps = oracle(name).laps.reset_index(drop=True)
    timed = laps[laps["Time"].notna()]
    leader = timed.groupby("LapNumber")["Time"].transform("min")
    gap = (timed["Time"] - leader).dt.total_seconds()
    ordered = timed.sort_values(["LapNumber", "Time"], kind="stable")
    interval = ordered.groupby("LapNumber")["Time"].diff().dt.total_seconds()
    expected = [
        {
            "driver": r.Driver,
            "driver_number": r.DriverNumber,
            "lap_number": int(r.LapNumber),
            "position": _int(r.Position),
            "time": seconds(r.Time),
            "gap_to_leader": None if i not in gap.index else float(gap[i]),
            "interval": None
            if i not in interval.index or pd.isna(interval[i])
            else float(interval[i]),
        }
        for i, r in zip(laps.index, laps.itertuples(), strict=True)
    ]
    data = session_data(name)
    ours = positions(data)
    assert_rows_equal(ours, expected)
    assert (
        sum(p.interval is None and p.time is not None for p in ours) == timed["LapNumber"].nunique()
    )
    driver = data.drivers[0]
    assert_rows_equal(
        positions(data, [driver.number]), [r for r in expected if r["driver"] == driver.code]
    )


# ------------------------------------------------------------------ track map, compare


def _fastf1_lap(session: Any, code: str, lap_number: int) -> Any:
    return session.laps.pick_drivers(code).pick_laps(lap_number).iloc[0]


def test_track_map_equals_fastf1_pos_data(session_data: Data, oracle: Oracle) -> None:
    data, session = session_data(RACE_NAME), oracle(RACE_NAME)
    best = fastest_lap(data)
    assert best is not None
    picks: list[tuple[str | None, int | None, Lap | None]] = [
        (None, None, best),
        ("HAM", None, fastest_lap(data, "HAM")),
    ]
    for code in ("VET", "GAS"):
        laps = select_laps(data, [code])
        picks += [(code, laps[0].lap_number, laps[0]), (code, laps[-1].lap_number, laps[-1])]
    for driver, lap_number, lap in picks:
        assert lap is not None
        ours = track_map(data, driver, lap_number)
        assert ours is not None
        assert (ours.driver, ours.lap_number) == (lap.driver, lap.lap_number)
        expected = _fastf1_lap(session, lap.driver, lap.lap_number).get_pos_data()
        assert ours.sample_count == len(expected) > 100
        for attr, column in (("x", "X"), ("y", "Y"), ("z", "Z")):
            np.testing.assert_array_equal(getattr(ours, attr), expected[column].to_numpy())
        np.testing.assert_allclose(
            ours.time, expected["Time"].dt.total_seconds().to_numpy(), rtol=0, atol=TOL
        )
    small = track_map(data, max_points=100)
    full = track_map(data)
    assert small is not None and full is not None
    assert small.sample_count == 100 and small.source_sample_count == full.sample_count
    assert (small.x[0], small.x[-1]) == (full.x[0], full.x[-1])


def test_track_map_without_position_data_is_not_available(session_data: Data) -> None:
    assert track_map(session_data("2023-azerbaijan-q")) is None


def _delta_time(reference: Any, compared: Any) -> tuple[Any, Any, np.ndarray]:
    """``fastf1.utils.delta_time`` (FastF1 3.8) over FastF1's own telemetry."""
    ref = reference.get_car_data(interpolate_edges=True).add_distance()
    comp = compared.get_car_data(interpolate_edges=True).add_distance()

    def extend(stream: np.ndarray) -> np.ndarray:
        return np.concatenate(
            [
                [stream[0] - (stream[1] - stream[0])],
                stream,
                [stream[-1] + (stream[-1] - stream[-2])],
            ]
        )

    times = extend(comp["Time"].dt.total_seconds().to_numpy())
    scale = ref["Distance"].iat[-1] / comp["Distance"].iat[-1]
    distance = extend(comp["Distance"].to_numpy()) * scale
    delta = np.interp(ref["Distance"], distance, times) - ref["Time"].dt.total_seconds().to_numpy()
    return ref, comp, delta


COMPARISONS = {
    "fastest laps": (["HAM", "BOT"], None),
    "four drivers": (["VET", "RAI", "HAM", "BOT"], None),
    "one driver twice": (["HAM", "HAM"], [20, 49]),
    "by number": (["44", "5"], [12, 12]),
}


@pytest.mark.parametrize("case", list(COMPARISONS))
def test_comparison_equals_fastf1_delta_time(case: str, session_data: Data, oracle: Oracle) -> None:
    drivers, lap_numbers = COMPARISONS[case]
    data, session = session_data(RACE_NAME), oracle(RACE_NAME)
    result = compare(data, drivers, lap_numbers)
    assert len(result.laps) == len(drivers)
    picked = [_fastf1_lap(session, lap.driver, lap.lap_number) for lap in result.laps]
    if lap_numbers is None:
        for lap, code in zip(result.laps, drivers, strict=True):
            want = session.laps.pick_drivers(code).pick_fastest()
            assert lap.lap_number == int(want["LapNumber"])
    reference = result.reference
    ref = picked[0].get_car_data(interpolate_edges=True).add_distance()
    np.testing.assert_allclose(result.distance, ref["Distance"].to_numpy(), rtol=0, atol=TOL)
    np.testing.assert_allclose(reference.speed, ref["Speed"].to_numpy(), rtol=0, atol=1e-5)
    np.testing.assert_allclose(reference.throttle, ref["Throttle"].to_numpy(), rtol=0, atol=1e-5)
    np.testing.assert_array_equal(reference.gear, ref["nGear"].to_numpy())
    np.testing.assert_array_equal(reference.brake, ref["Brake"].to_numpy())
    assert not reference.delta.any()
    for lap, fastf1_lap in zip(result.laps[1:], picked[1:], strict=True):
        ref, comp, delta = _delta_time(picked[0], fastf1_lap)
        np.testing.assert_allclose(lap.delta, delta, rtol=0, atol=TOL)
        scaled = comp["Distance"].to_numpy() * (ref["Distance"].iat[-1] / comp["Distance"].iat[-1])
        speed = np.interp(ref["Distance"].to_numpy(), scaled, comp["Speed"].to_numpy())
        np.testing.assert_allclose(lap.speed, speed, rtol=0, atol=1e-5)
        # At the finish line the delta is the difference of the two laps' times.
        assert lap.lap_time is not None and reference.lap_time is not None
        assert abs(lap.delta[-1] - (lap.lap_time - reference.lap_time)) < 0.05
    assert bool(np.all(np.diff(result.distance) >= 0))
    assert all(lap.speed.shape == result.distance.shape for lap in result.laps)


def test_comparison_of_a_session_without_car_data_is_not_found(session_data: Data) -> None:
    data = session_data("2023-azerbaijan-q")
    first, second = data.drivers[0].code, data.drivers[1].code
    with pytest.raises(NotFound, match="No car data"):
        compare(data, [first, second])
