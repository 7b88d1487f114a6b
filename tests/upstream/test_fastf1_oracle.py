"""The worker's payload against FastF1 itself, loading the same session from the same server.

The 2018 Azerbaijan race (with the synthetic telemetry) is produced by a real ``spawn``
worker through :class:`FastF1Client`; the qualifying and sprints in-process (fixtures in
``conftest.py``, each session loaded once per run).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from pypole_gql.domain.sessions import (
    SessionData,
    fastest_lap,
    lap_telemetry,
    select_laps,
    select_stints,
)
from pypole_gql.upstream.fastf1 import decode_payload, load_session_payload, payload_meta
from pypole_gql.upstream.fastf1.extract import NO_ARCHIVE, NO_TIMING
from tests.plugins.replay import Replay
from tests.upstream.conftest import (
    RACE_NAME,
    SESSIONS,
    TOL,
    OracleLoader,
    opt,
    replay_config,
    seconds,
    text,
)


def _oracle(fastf1_oracle: OracleLoader, name: str) -> Any:
    return fastf1_oracle(*SESSIONS[name], telemetry=name == RACE_NAME)


@pytest.mark.parametrize("name", list(SESSIONS))
def test_laps_equal_fastf1(
    name: str, session_data: Callable[[str], SessionData], fastf1_oracle: OracleLoader
) -> None:
    data, laps = session_data(name), _oracle(fastf1_oracle, name).laps
    assert len(data.laps) == len(laps) > 0
    for ours, (_, row) in zip(data.laps, laps.iterrows(), strict=True):
        expected = {
            "driver": row["Driver"],
            "driver_number": row["DriverNumber"],
            "lap_number": int(row["LapNumber"]),
            "lap_time": seconds(row["LapTime"]),
            "sector1_time": seconds(row["Sector1Time"]),
            "sector2_time": seconds(row["Sector2Time"]),
            "sector3_time": seconds(row["Sector3Time"]),
            "compound": text(row["Compound"]),
            "tyre_life": opt(row["TyreLife"]),
            "fresh_tyre": opt(row["FreshTyre"]),
            "stint": None if pd.isna(row["Stint"]) else int(row["Stint"]),
            "position": None if pd.isna(row["Position"]) else int(row["Position"]),
            "is_personal_best": opt(row["IsPersonalBest"]) == True,  # noqa: E712
            "deleted": opt(row["Deleted"]),
            "is_accurate": bool(row["IsAccurate"]),
            "pit_in_time": seconds(row["PitInTime"]),
            "pit_out_time": seconds(row["PitOutTime"]),
            "track_status": text(row["TrackStatus"]),
            "lap_start_time": seconds(row["LapStartTime"]),
            "time": seconds(row["Time"]),
        }
        assert {k: getattr(ours, k) for k in expected} == expected


@pytest.mark.parametrize("name", list(SESSIONS))
def test_laps_per_driver_equal_fastf1(
    name: str, session_data: Callable[[str], SessionData], fastf1_oracle: OracleLoader
) -> None:
    data, session = session_data(name), _oracle(fastf1_oracle, name)
    for drv in data.drivers:
        expected = session.laps.pick_drivers(drv.code)["LapNumber"].astype(int).tolist()
        assert [lap.lap_number for lap in select_laps(data, [drv.code])] == expected
        assert [lap.lap_number for lap in select_laps(data, [drv.number])] == expected


@pytest.mark.parametrize("name", list(SESSIONS))
def test_drivers_equal_fastf1_results(
    name: str, session_data: Callable[[str], SessionData], fastf1_oracle: OracleLoader
) -> None:
    data, results = session_data(name), _oracle(fastf1_oracle, name).results
    assert [(d.code, d.number, d.full_name, d.team, d.driver_id) for d in data.drivers] == [
        (r.Abbreviation, r.DriverNumber, r.FullName, r.TeamName, r.DriverId or None)
        for r in results.itertuples()
    ]


@pytest.mark.parametrize("name", list(SESSIONS))
def test_fastest_lap_equals_pick_fastest(
    name: str, session_data: Callable[[str], SessionData], fastf1_oracle: OracleLoader
) -> None:
    data, laps = session_data(name), _oracle(fastf1_oracle, name).laps
    picked = laps.pick_fastest()
    ours = fastest_lap(data)
    assert ours is not None
    assert (ours.driver, ours.lap_number, ours.lap_time) == (
        picked["Driver"],
        int(picked["LapNumber"]),
        seconds(picked["LapTime"]),
    )
    for drv in data.drivers:
        expected = laps.pick_drivers(drv.number).pick_fastest()
        got = fastest_lap(data, drv.code)
        if expected is None:
            assert got is None
        else:
            assert got is not None
            assert (got.lap_number, got.lap_time) == (
                int(expected["LapNumber"]),
                seconds(expected["LapTime"]),
            )


@pytest.mark.parametrize("name", list(SESSIONS))
def test_stints_equal_fastf1_groupby(
    name: str, session_data: Callable[[str], SessionData], fastf1_oracle: OracleLoader
) -> None:
    data, laps = session_data(name), _oracle(fastf1_oracle, name).laps
    grouped = (
        laps.assign(Compound=laps["Compound"].map(text))
        .dropna(subset=["Stint"])
        .groupby(["DriverNumber", "Stint"], sort=False)
        .agg(
            compound=("Compound", "first"),
            fresh=("FreshTyre", "first"),
            tyre_life=("TyreLife", "first"),
            start=("LapNumber", "min"),
            end=("LapNumber", "max"),
            count=("LapNumber", "size"),
            timed=("LapTime", "count"),
            mean=("LapTime", "mean"),
        )
    )
    expected = [
        (
            *(num, int(stint), opt(g.compound), opt(g.fresh), opt(g.tyre_life)),
            *(int(g.start), int(g.end), int(g["count"]), int(g.timed), seconds(g["mean"])),
        )
        for (num, stint), g in grouped.iterrows()
    ]
    ours = [
        (
            *(s.driver_number, s.stint, s.compound, s.fresh_tyre, s.start_tyre_life),
            *(s.start_lap, s.end_lap, s.lap_count, s.timed_lap_count, s.average_lap_time),
        )
        for s in select_stints(data)
    ]
    assert len(ours) == len(expected) > 0
    for got, want in zip(ours, expected, strict=True):
        assert got[:9] == want[:9]
        if got[9] is None or want[9] is None:
            assert got[9] is want[9] is None
        else:
            assert math.isclose(got[9], want[9], abs_tol=1e-9)


@pytest.mark.parametrize("name", list(SESSIONS))
def test_stint_pace_is_the_mean_of_fastf1_pick_quicklaps(
    name: str, session_data: Callable[[str], SessionData], fastf1_oracle: OracleLoader
) -> None:
    data, laps = session_data(name), _oracle(fastf1_oracle, name).laps
    quick = laps.pick_quicklaps()
    stints = select_stints(data)
    assert any(s.average_pace_time is not None for s in stints)
    for stint in stints:
        rows = quick[
            (quick["DriverNumber"] == stint.driver_number) & (quick["Stint"] == stint.stint)
        ]
        assert stint.pace_lap_count == len(rows)
        if rows.empty:
            assert stint.average_pace_time is None
        else:
            assert stint.average_pace_time is not None
            assert math.isclose(
                stint.average_pace_time, seconds(rows["LapTime"].mean()) or 0, abs_tol=1e-9
            )


def test_stint_pace_leaves_out_slow_laps(session_data: Callable[[str], SessionData]) -> None:
    """Issue 15.6: Hamilton's third 2018 Baku stint, safety-car laps included and not."""
    ham = next(s for s in select_stints(session_data(RACE_NAME), ["HAM"]) if s.stint == 3)
    assert ham.average_lap_time is not None and ham.average_pace_time is not None
    assert ham.timed_lap_count > ham.pace_lap_count > 0
    assert ham.average_pace_time < ham.average_lap_time


def test_nan_compounds_are_none(
    session_data: Callable[[str], SessionData], fastf1_oracle: OracleLoader
) -> None:
    """Issue 15.3: FastF1 gives the string "nan" as some lap-1 compounds (2018 Baku)."""
    laps = _oracle(fastf1_oracle, RACE_NAME).laps
    nan_rows = laps[laps["Compound"].astype(str) == "nan"]
    assert len(nan_rows) > 0 and "GAS" in set(nan_rows["Driver"])
    ours = {(lap.driver, lap.lap_number): lap.compound for lap in session_data(RACE_NAME).laps}
    assert all(ours[(r.Driver, int(r.LapNumber))] is None for r in nan_rows.itertuples())
    assert all(value != "nan" for value in ours.values())


def test_race_known_values(session_data: Callable[[str], SessionData]) -> None:
    data = session_data(RACE_NAME)
    best = fastest_lap(data)
    assert best is not None
    assert (best.driver, best.lap_number, best.lap_time, best.compound) == (
        "BOT",
        37,
        105.149,
        "SUPERSOFT",
    )
    winner = next(d for d in data.drivers if d.position == 1)
    assert (winner.code, winner.full_name) == ("HAM", "Lewis Hamilton")
    assert (data.info.year, data.info.round, data.info.event_name) == (
        2018,
        4,
        "Azerbaijan Grand Prix",
    )
    assert (data.info.session_type, data.info.total_laps) == ("R", 51)
    assert data.info.telemetry_available and data.info.laps_available
    assert max(lap.lap_number for lap in data.laps) == 51


def test_race_payload_came_from_a_worker_process(race_payload: bytes) -> None:
    import os

    meta = payload_meta(race_payload)
    assert meta["pid"] != os.getpid()
    assert meta["telemetry_requested"] is True
    assert meta["upstream_requests"] > 0


def _sampled_laps(data: SessionData) -> list[tuple[str, int]]:
    """Several drivers: first lap, a middle lap, an in-lap, the last lap, the fastest lap."""
    picks: list[tuple[str, int]] = []
    for code in ("HAM", "BOT", "VET", "RIC", "GAS"):
        laps = select_laps(data, [code])
        middle = laps[len(laps) // 2]
        in_laps = [lap for lap in laps if lap.pit_in_time is not None]
        for lap in [laps[0], middle, *in_laps[:1], laps[-1]]:
            picks.append((code, lap.lap_number))
    best = fastest_lap(data)
    assert best is not None
    picks.append((best.driver, best.lap_number))
    return picks


CHANNELS = {
    "time": "Time",
    "distance": "Distance",
    "speed": "Speed",
    "rpm": "RPM",
    "gear": "nGear",
    "throttle": "Throttle",
    "brake": "Brake",
    "drs": "DRS",
    "session_time": "SessionTime",
}


def _fastf1_lap(session: Any, code: str, lap_number: int) -> Any:
    return session.laps.pick_drivers(code).pick_laps(lap_number).iloc[0]


def test_telemetry_equals_get_car_data_add_distance(
    session_data: Callable[[str], SessionData], fastf1_oracle: OracleLoader
) -> None:
    data, session = session_data(RACE_NAME), _oracle(fastf1_oracle, RACE_NAME)
    picks = _sampled_laps(data)
    in_laps = {(lap.driver, lap.lap_number) for lap in data.laps if lap.pit_in_time is not None}
    assert in_laps & set(picks)
    for code, lap_number in picks:
        expected = _fastf1_lap(session, code, lap_number).get_car_data().add_distance()
        ours = lap_telemetry(data, code, lap_number)
        assert ours is not None
        assert ours.sample_count == len(expected) > 100, (code, lap_number)
        for attr, column in CHANNELS.items():
            want = expected[column]
            if pd.api.types.is_timedelta64_dtype(want):
                want = want.dt.total_seconds()
            np.testing.assert_allclose(
                getattr(ours, attr),
                want.to_numpy(dtype=np.float64),
                rtol=0,
                atol=TOL,
                err_msg=f"{code} lap {lap_number} {attr}",
            )


def test_telemetry_sample_counts_equal_fastf1_for_every_lap(
    session_data: Callable[[str], SessionData], fastf1_oracle: OracleLoader
) -> None:
    data, session = session_data(RACE_NAME), _oracle(fastf1_oracle, RACE_NAME)
    for lap in data.laps:
        expected = _fastf1_lap(session, lap.driver, lap.lap_number)
        if pd.isna(expected["LapStartTime"]) or pd.isna(expected["Time"]):
            count = 0
        else:
            count = len(expected.get_car_data())
        ours = lap_telemetry(data, lap.driver, lap.lap_number)
        assert ours is not None
        assert ours.sample_count == count, (lap.driver, lap.lap_number)


def test_telemetry_xy_interpolate_fastf1_position_data(
    session_data: Callable[[str], SessionData], fastf1_oracle: OracleLoader
) -> None:
    data, session = session_data(RACE_NAME), _oracle(fastf1_oracle, RACE_NAME)
    for code, lap_number in _sampled_laps(data)[:6]:
        ours = lap_telemetry(data, code, lap_number)
        assert ours is not None and ours.x is not None and ours.y is not None
        pos = session.pos_data[ours.driver_number]
        at = pos["SessionTime"].dt.total_seconds().to_numpy()
        for attr, column in (("x", "X"), ("y", "Y")):
            want = np.interp(ours.session_time, at, pos[column].to_numpy(dtype=np.float64))
            np.testing.assert_allclose(getattr(ours, attr), want, rtol=0, atol=TOL)


def test_telemetry_downsampled_keeps_first_last_and_full_values(
    session_data: Callable[[str], SessionData],
) -> None:
    data = session_data(RACE_NAME)
    full = lap_telemetry(data, "HAM", 20)
    small = lap_telemetry(data, "HAM", 20, max_points=50)
    assert full is not None and small is not None
    assert small.sample_count == 50 and small.source_sample_count == full.sample_count
    assert small.time[0] == full.time[0] and small.time[-1] == full.time[-1]
    assert small.distance[-1] == full.distance[-1]
    index = np.searchsorted(full.time, small.time)
    np.testing.assert_array_equal(full.speed[index], small.speed)
    assert np.all(np.diff(small.time) > 0)


def test_session_without_car_data_has_no_telemetry(replay: Replay, tmp_path: Path) -> None:
    payload = load_session_payload(
        replay_config(replay.url, tmp_path), 2023, "Azerbaijan", "Q", telemetry=True
    )
    data = decode_payload(payload)
    assert data.info.laps_available and not data.info.telemetry_available
    assert data.car is None and data.position is None
    best = fastest_lap(data)
    assert best is not None
    assert lap_telemetry(data, best.driver, best.lap_number) is None


def test_session_without_laps_is_partial_not_an_error(replay: Replay, tmp_path: Path) -> None:
    payload = load_session_payload(replay_config(replay.url, tmp_path), 2020, "Monza", "R")
    data = decode_payload(payload)
    assert (data.info.event_name, data.info.session_name) == ("Italian Grand Prix", "Race")
    assert not data.info.laps_available and not data.info.telemetry_available
    assert data.laps == () and data.stints == ()
    assert fastest_lap(data) is None
    assert [d.code for d in data.drivers][:3] == ["GAS", "SAI", "STR"]
    # The archive has this session's messages and weather but not its timing data.
    assert not data.info.timing_available
    assert data.info.timing_unavailable_reason == NO_TIMING
    assert data.race_control and data.weather
    meta = payload_meta(payload)
    assert (meta["timing_available"], meta["timing_unavailable_reason"]) == (False, NO_TIMING)


def test_session_the_archive_has_not_published_is_marked(
    replay: Replay, tmp_path: Path, fastf1_oracle: OracleLoader
) -> None:
    """Issue 17.2: 2025 Monaco in the replay has drivers (from Jolpica) and no timing at all."""
    session = fastf1_oracle(2025, "Monaco", "R")
    payload = load_session_payload(replay_config(replay.url, tmp_path), 2025, "Monaco", "R")
    data = decode_payload(payload)
    assert [d.code for d in data.drivers] == list(session.results["Abbreviation"])
    assert data.laps == () and not data.info.laps_available
    assert not data.info.timing_available
    assert data.info.timing_unavailable_reason == NO_ARCHIVE
    assert payload_meta(payload)["timing_available"] is False


def test_good_loads_have_their_timing(session_data: Callable[[str], SessionData]) -> None:
    for name in SESSIONS:
        info = session_data(name).info
        assert info.timing_available and info.timing_unavailable_reason is None, name
