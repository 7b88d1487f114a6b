"""The pure session functions (``pypole_gql.domain.sessions``) on small hand-made data.

Their equality with FastF1 on real sessions is in ``test_fastf1_oracle.py``; these pin
the edges: inclusive lap windows, ties, gaps, out-of-order samples, downsampling.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest

from pypole_gql.domain.sessions import (
    Lap,
    SessionData,
    SessionDriver,
    SessionInfo,
    Trace,
    compute_stints,
    fastest_lap,
    find_lap,
    lap_telemetry,
    select_laps,
    select_stints,
)
from pypole_gql.errors import BadUserInput, NotFound

DRIVERS = (
    SessionDriver("HAM", "44", "Lewis Hamilton", "Mercedes", "hamilton", position=1),
    SessionDriver("BOT", "77", "Valtteri Bottas", "Mercedes", "bottas", position=2),
    SessionDriver("VER", "33", "Max Verstappen", "Red Bull", None),
)


def lap(driver: str, number: str, lap_number: int, **kwargs: Any) -> Lap:
    values: dict[str, Any] = {f.name: None for f in dataclasses.fields(Lap)}
    values.update(
        driver=driver,
        driver_number=number,
        lap_number=lap_number,
        is_personal_best=False,
        is_accurate=True,
    )
    values.update(kwargs)
    return Lap(**values)


LAPS = (
    lap("HAM", "44", 1, lap_time=100.0, stint=1, compound="SOFT", fresh_tyre=True,
        lap_start_time=10.0, time=110.0, is_personal_best=True),
    lap("HAM", "44", 2, lap_time=90.5, stint=1, compound=None, lap_start_time=110.0,
        time=200.5, is_personal_best=True, pit_in_time=199.0),
    lap("HAM", "44", 3, lap_time=None, stint=2, compound="HARD", fresh_tyre=False,
        tyre_life=3.0, lap_start_time=200.5, time=None),
    lap("BOT", "77", 1, lap_time=90.5, stint=1, lap_start_time=10.0, time=100.5,
        is_personal_best=True),
    lap("BOT", "77", 2, lap_time=89.0, stint=1, lap_start_time=100.5, time=189.5,
        is_personal_best=False, deleted=True),
    lap("VER", "33", 1, lap_time=95.0, stint=None, lap_start_time=10.0, time=105.0),
)  # fmt: skip


def trace(per_driver: dict[str, dict[str, list[Any]]], unit: int = 1_000_000) -> Trace:
    spans: dict[str, tuple[int, int]] = {}
    times: list[np.ndarray] = []
    channels: dict[str, list[np.ndarray]] = {}
    ordered: set[str] = set()
    offset = 0
    for number, columns in per_driver.items():
        t = np.asarray(columns["t"], dtype=np.int64)
        spans[number] = (offset, offset + len(t))
        offset += len(t)
        times.append(t)
        if np.all(np.diff(t) >= 0):
            ordered.add(number)
        for name, values in columns.items():
            if name != "t":
                channels.setdefault(name, []).append(np.asarray(values))
    return Trace(
        time_unit_ns=unit,
        session_time=np.concatenate(times),
        channels={k: np.concatenate(v) for k, v in channels.items()},
        spans=spans,
        sorted_drivers=frozenset(ordered),
    )


def car_columns(t_ms: list[int]) -> dict[str, list[Any]]:
    n = len(t_ms)
    return {
        "t": t_ms,
        "speed": [100.0 + 10 * i for i in range(n)],
        "rpm": [10000.0 + i for i in range(n)],
        "gear": [i % 8 for i in range(n)],
        "throttle": [float(i % 101) for i in range(n)],
        "brake": [i % 2 == 0 for i in range(n)],
        "drs": [0] * n,
    }


# HAM's lap 1 is [10 s, 110 s]: samples at exactly both ends are inside.
HAM_T = [5_000, 10_000, 30_000, 60_000, 110_000, 150_000, 200_500, 250_000]
# BOT's samples arrive out of order once, so its cut cannot binary-search.
BOT_T = [9_000, 10_000, 50_000, 100_500, 99_000, 120_000]


def session(**changes: Any) -> SessionData:
    values: dict[str, Any] = {
        "info": SessionInfo(2018, 4, "Azerbaijan Grand Prix", "R", "Race", None, 51, True, True),
        "drivers": DRIVERS,
        "laps": LAPS,
        "stints": tuple(compute_stints(LAPS)),
        "car": trace({"44": car_columns(HAM_T), "77": car_columns(BOT_T)}),
        "position": trace({"44": {"t": [0, 20_000, 120_000], "x": [0, 200, 1200], "y": [5, 5, 5]}}),
    }
    values.update(changes)
    return SessionData(**values)


def test_select_laps_by_code_number_and_lap() -> None:
    data = session()
    assert [(x.driver, x.lap_number) for x in select_laps(data, ["ham", "77"], [1])] == [
        ("HAM", 1),
        ("BOT", 1),
    ]
    assert len(select_laps(data)) == len(LAPS)
    assert select_laps(data, ["NOPE"]) == []
    assert [x.lap_number for x in select_laps(data, lap_numbers=[2, 3])] == [2, 3, 2]


def test_fastest_lap_rule() -> None:
    data = session()
    # BOT's 89.0 is not a personal best (deleted); HAM 2 and BOT 1 tie: first row wins.
    best = fastest_lap(data)
    assert best is not None and (best.driver, best.lap_number) == ("HAM", 2)
    best_bot = fastest_lap(data, "77")
    assert best_bot is not None and best_bot.lap_number == 1
    assert fastest_lap(data, "VER") is None  # no personal best at all
    with pytest.raises(NotFound, match="'ALO'"):
        fastest_lap(data, "ALO")


def test_stints() -> None:
    stints = select_stints(session(), ["HAM"])
    assert [(s.stint, s.compound, s.fresh_tyre, s.start_lap, s.end_lap) for s in stints] == [
        (1, "SOFT", True, 1, 2),
        (2, "HARD", False, 3, 3),
    ]
    assert stints[0].average_lap_time == pytest.approx(95.25)
    assert (stints[1].lap_count, stints[1].timed_lap_count, stints[1].average_lap_time) == (
        1,
        0,
        None,
    )
    assert stints[1].start_tyre_life == 3.0
    assert select_stints(session(), ["VER"]) == []  # laps without a stint number


def test_telemetry_window_is_inclusive_and_distance_integrates() -> None:
    tel = lap_telemetry(session(), "HAM", 1)
    assert tel is not None
    np.testing.assert_array_equal(tel.session_time, [10.0, 30.0, 60.0, 110.0])
    np.testing.assert_array_equal(tel.time, [0.0, 20.0, 50.0, 100.0])
    speed = np.array([110.0, 120.0, 130.0, 140.0])
    np.testing.assert_array_equal(tel.speed, speed)
    np.testing.assert_allclose(tel.distance, np.cumsum(speed / 3.6 * [0.0, 20, 30, 50]))
    assert tel.gear.dtype == np.int64 and tel.brake.dtype == np.bool_
    assert tel.rpm.dtype == np.float64 and tel.drs.dtype == np.int64


def test_telemetry_of_unsorted_samples_uses_a_mask() -> None:
    tel = lap_telemetry(session(), "BOT", 1)
    assert tel is not None
    np.testing.assert_array_equal(tel.session_time, [10.0, 50.0, 100.5, 99.0])  # row order
    np.testing.assert_allclose(tel.distance[-1], tel.distance[-2] - 140.0 / 3.6 * 1.5)
    tel = lap_telemetry(session(), "BOT", 2)
    assert tel is not None
    np.testing.assert_array_equal(tel.session_time, [100.5, 120.0])  # 99.0 is before the lap


def test_telemetry_xy_interpolated_and_held_at_the_ends() -> None:
    tel = lap_telemetry(session(), "HAM", 2)
    assert tel is not None and tel.x is not None and tel.y is not None
    np.testing.assert_array_equal(tel.session_time, [110.0, 150.0, 200.5])
    np.testing.assert_allclose(tel.x, [1100.0, 1200.0, 1200.0])
    np.testing.assert_array_equal(tel.y, [5.0, 5.0, 5.0])
    bot = lap_telemetry(session(), "BOT", 1)
    assert bot is not None and bot.x is None and bot.y is None


def test_telemetry_not_available_and_empty_laps() -> None:
    assert lap_telemetry(session(), "VER", 1) is None
    assert lap_telemetry(session(car=None, position=None), "HAM", 1) is None
    tel = lap_telemetry(session(), "HAM", 3)  # no end time
    assert tel is not None and tel.sample_count == 0 and tel.distance.shape == (0,)
    with pytest.raises(NotFound, match="lap 9"):
        lap_telemetry(session(), "HAM", 9)
    with pytest.raises(NotFound):
        find_lap(session(), "ALO", 1)


def test_telemetry_downsampling() -> None:
    times = list(range(10_000, 110_001, 1_000))  # 101 samples in HAM's lap 1
    data = session(car=trace({"44": car_columns([*times, 120_000])}))
    full = lap_telemetry(data, "HAM", 1)
    small = lap_telemetry(data, "HAM", 1, max_points=7)
    assert full is not None and small is not None
    assert (full.sample_count, small.sample_count, small.source_sample_count) == (101, 7, 101)
    np.testing.assert_array_equal(small.time, full.time[[0, 17, 33, 50, 67, 83, 100]])
    np.testing.assert_array_equal(small.distance, full.distance[[0, 17, 33, 50, 67, 83, 100]])
    same = lap_telemetry(data, "HAM", 1, max_points=500)
    assert same is not None and same.sample_count == 101
    with pytest.raises(BadUserInput) as info:
        lap_telemetry(data, "HAM", 1, max_points=1)
    assert info.value.field == "max_points"


def test_window_with_nanosecond_bounds_between_samples() -> None:
    # lap bounds that are not whole milliseconds still select by exact comparison
    data = session(laps=(lap("HAM", "44", 1, lap_start_time=9.9999995, time=30.0000005),))
    tel = lap_telemetry(data, "HAM", 1)
    assert tel is not None
    np.testing.assert_array_equal(tel.session_time, [10.0, 30.0])
    assert tel.time[0] == pytest.approx(0.0000005, abs=1e-12)
