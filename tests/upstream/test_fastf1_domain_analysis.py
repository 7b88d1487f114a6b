"""Issue 12's pure session functions on small hand-made data: their edges and their errors.

Equality with FastF1 on real sessions is in ``test_fastf1_records_oracle.py``.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from pypole_gql.domain.f1 import JolpicaPitStop
from pypole_gql.domain.sessions import (
    RaceControlMessage,
    SessionData,
    compare,
    compute_stints,
    pit_stops,
    positions,
    quick_lap_limit,
    race_control,
    track_map,
    with_jolpica_durations,
)
from pypole_gql.errors import BadUserInput, NotFound
from tests.upstream.test_fastf1_domain import HAM_T, car_columns, lap, session, trace

# HAM pits at the end of lap 1 and again at the end of lap 3, the last: no way out.
# BOT pits at the end of lap 1 earlier than HAM does.
PIT_LAPS = (
    lap("HAM", "44", 1, compound="SOFT", pit_in_time=100.0, time=101.0, stint=1),
    lap("HAM", "44", 2, compound="HARD", fresh_tyre=True, pit_out_time=121.5, time=200.0,
        stint=2),
    lap("HAM", "44", 3, compound="HARD", pit_in_time=290.0, time=291.0, stint=2),
    lap("BOT", "77", 1, compound="SOFT", pit_in_time=95.0, time=96.0, stint=1),
    lap("BOT", "77", 2, compound=None, pit_out_time=117.0, time=190.0, stint=2),
)  # fmt: skip


def test_pit_stops_pair_each_pit_in_with_the_next_laps_pit_out() -> None:
    data = session(laps=PIT_LAPS)
    stops = pit_stops(data)
    assert [(s.driver, s.lap_number, s.pit_in_time, s.pit_out_time) for s in stops] == [
        ("BOT", 1, 95.0, 117.0),
        ("HAM", 1, 100.0, 121.5),
        ("HAM", 3, 290.0, None),
    ]
    assert [s.pit_lane_time for s in stops] == [22.0, 21.5, None]
    assert [(s.compound_before, s.compound_after, s.fresh_tyre_after) for s in stops] == [
        ("SOFT", None, None),
        ("SOFT", "HARD", True),
        ("HARD", None, None),
    ]
    assert [s.driver for s in pit_stops(data, ["ham"])] == ["HAM", "HAM"]
    assert pit_stops(data, ["ALO"]) == []


def test_pit_lane_time_has_no_float_noise() -> None:
    # 3148.551 - 3128.205 is 20.346000000000004 in floats; FastF1's timedeltas say 20.346.
    laps = (
        lap("HAM", "44", 22, pit_in_time=3128.205, time=3129.549),
        lap("HAM", "44", 23, pit_out_time=3148.551, time=3253.764),
    )
    assert [s.pit_lane_time for s in pit_stops(session(laps=laps))] == [20.346]


def test_jolpica_durations_join_on_driver_id_and_in_lap() -> None:
    data = session(laps=PIT_LAPS)
    jolpica = [
        JolpicaPitStop("hamilton", 1, 1, "14:10:00", 21.7),
        JolpicaPitStop("bottas", 1, 2, "14:09:00", 22.1),  # another lap: no match
    ]
    joined = with_jolpica_durations(data, pit_stops(data), jolpica)
    assert [(s.driver, s.lap_number, s.jolpica_duration) for s in joined] == [
        ("BOT", 1, None),
        ("HAM", 1, 21.7),
        ("HAM", 3, None),
    ]


def test_positions_gap_interval_ties_and_missing_times() -> None:
    laps = (
        lap("HAM", "44", 1, position=2, time=100.5),
        lap("HAM", "44", 2, position=1, time=190.0),
        lap("BOT", "77", 1, position=1, time=100.0),
        lap("BOT", "77", 2, position=2, time=190.0),  # same end time: row order decides
        lap("VER", "33", 1, position=3, time=None),
        lap("VER", "33", 2, position=3, time=300.25),  # lapped: a whole lap down
    )
    got = [
        (p.driver, p.lap_number, p.position, p.gap_to_leader, p.interval)
        for p in positions(session(laps=laps))
    ]
    assert got == [
        ("HAM", 1, 2, 0.5, 0.5),
        ("HAM", 2, 1, 0.0, None),
        ("BOT", 1, 1, 0.0, None),
        ("BOT", 2, 2, 0.0, 0.0),
        ("VER", 1, 3, None, None),
        ("VER", 2, 3, 110.25, 110.25),
    ]
    # Gaps are to the whole field, whichever drivers are asked for.
    assert [(p.lap_number, p.gap_to_leader) for p in positions(session(laps=laps), ["VER"])] == [
        (1, None),
        (2, 110.25),
    ]


def test_stint_pace_threshold_is_the_sessions_fastest_lap() -> None:
    laps = (
        lap("HAM", "44", 1, stint=1, lap_time=100.0),
        lap("HAM", "44", 2, stint=1, lap_time=106.99),  # under 107 % of 100.0: quick
        lap("HAM", "44", 3, stint=1, lap_time=107.0),  # at the limit: not quick
        lap("BOT", "77", 1, stint=1, lap_time=150.0),  # a stint behind the safety car
        lap("BOT", "77", 2, stint=1, lap_time=151.0),
    )
    limit = quick_lap_limit(laps)
    assert limit == 100.0 * 1.07
    ham, bot = compute_stints(laps)
    assert ham.pace_lap_count == 2
    assert ham.average_pace_time == pytest.approx((100.0 + 106.99) / 2)
    assert ham.average_lap_time == pytest.approx((100.0 + 106.99 + 107.0) / 3)
    assert (bot.pace_lap_count, bot.average_pace_time, bot.average_lap_time) == (0, None, 150.5)
    assert quick_lap_limit([lap("HAM", "44", 1)]) is None


def _message(category: str | None, flag: str | None, text: str) -> RaceControlMessage:
    return RaceControlMessage(
        datetime(2018, 4, 29, 12, 0, tzinfo=UTC), 1.0, 1, category, text, None, flag, None,
        None, None, None,
    )  # fmt: skip


def test_race_control_filters_ignore_case_and_space() -> None:
    data = session(
        race_control=(
            _message("Flag", "YELLOW", "a"),
            _message("Flag", "DOUBLE YELLOW", "b"),
            _message("SafetyCar", None, "c"),
            _message(None, None, "d"),
        )
    )
    assert [m.message for m in race_control(data)] == ["a", "b", "c", "d"]
    assert [m.message for m in race_control(data, category=" flag ")] == ["a", "b"]
    assert [m.message for m in race_control(data, flag="double yellow")] == ["b"]
    assert [m.message for m in race_control(data, "SAFETYCAR", None)] == ["c"]
    assert race_control(data, category="Flag", flag="green") == []


def _with_z(data: SessionData) -> SessionData:
    pos = trace(
        {
            "44": {
                "t": [0, 10_000, 60_000, 110_000, 120_000],
                "x": [0, 100, 600, 1100, 1200],
                "y": [5, 5, 5, 5, 5],
                "z": [1, 2, 3, 4, 5],
            }
        }
    )
    return session(position=pos, laps=data.laps)


def test_track_map_picks_the_lap_and_cuts_its_window() -> None:
    data = _with_z(session())
    tm = track_map(data, "HAM", 1)
    assert tm is not None and (tm.driver, tm.lap_number) == ("HAM", 1)
    np.testing.assert_array_equal(tm.time, [0.0, 50.0, 100.0])  # [10 s, 110 s], both ends
    np.testing.assert_array_equal(tm.x, [100.0, 600.0, 1100.0])
    np.testing.assert_array_equal(tm.z, [2.0, 3.0, 4.0])
    best = track_map(data)  # the session's fastest lap: HAM lap 2
    assert best is not None and (best.driver, best.lap_number) == ("HAM", 2)
    small = track_map(data, "HAM", 1, max_points=2)
    assert small is not None and small.sample_count == 2 and small.source_sample_count == 3
    assert track_map(data, "BOT") is None  # no position data for BOT


@pytest.mark.parametrize(
    ("driver", "lap_number", "max_points", "error", "field"),
    [
        (None, 1, None, BadUserInput, "lap"),
        ("HAM", 1, 1, BadUserInput, "max_points"),
        ("ALO", None, None, NotFound, None),
        ("HAM", 9, None, NotFound, None),
        ("VER", None, None, NotFound, None),  # no fastest lap to default to
    ],
)
def test_track_map_errors(
    driver: str | None,
    lap_number: int | None,
    max_points: int | None,
    error: type[Exception],
    field: str | None,
) -> None:
    with pytest.raises(error) as info:
        track_map(_with_z(session()), driver, lap_number, max_points=max_points)
    if field is not None:
        assert isinstance(info.value, BadUserInput) and info.value.field == field


def test_compare_adds_interpolated_edges_as_fastf1_does() -> None:
    # HAM's samples are at 5, 10, 30, 60, 110 s ...: a lap from 20 s to 100 s has two
    # samples inside and gets one made at each end.
    laps = (
        lap("HAM", "44", 1, lap_start_time=20.0, time=100.0, lap_time=80.0),
        lap("HAM", "44", 2, lap_start_time=10.0, time=110.0, lap_time=100.0),
    )
    data = session(laps=laps)
    result = compare(data, ["HAM", "HAM"], [1, 2])
    ref = result.reference
    speeds = np.array(car_columns(HAM_T)["speed"])
    t = np.array(HAM_T) / 1000
    edge_speeds = np.interp([20.0, 100.0], t, speeds)
    np.testing.assert_allclose(ref.speed, [edge_speeds[0], speeds[2], speeds[3], edge_speeds[1]])
    gears = car_columns(HAM_T)["gear"]
    assert ref.gear.tolist() == [gears[1], gears[2], gears[3], gears[3]]  # held from before
    time = np.array([0.0, 10.0, 40.0, 80.0])
    np.testing.assert_allclose(
        result.distance, np.cumsum(ref.speed / 3.6 * np.diff(time, prepend=0.0))
    )
    assert result.laps[1].delta[-1] == pytest.approx(100.0 - 80.0)


@pytest.mark.parametrize(
    ("drivers", "laps", "field"),
    [
        (["HAM"], None, "drivers"),
        (["HAM", "BOT", "HAM", "BOT", "HAM"], None, "drivers"),
        (["HAM", "BOT"], [1], "laps"),
    ],
)
def test_compare_argument_errors(drivers: list[str], laps: list[int] | None, field: str) -> None:
    with pytest.raises(BadUserInput) as info:
        compare(session(), drivers, laps)
    assert info.value.field == field


def test_compare_laps_without_car_data_are_not_found() -> None:
    data = session()
    with pytest.raises(NotFound, match="No car data for VER lap 1"):
        compare(data, ["HAM", "VER"], [1, 1])  # VER has no car data at all
    with pytest.raises(NotFound, match=r"HAM lap 3 .*no start or end time"):
        compare(data, ["HAM", "HAM"], [1, 3])
    gap = session(laps=(*data.laps, lap("HAM", "44", 4, lap_start_time=111.0, time=149.0)))
    with pytest.raises(NotFound, match="no sample in the lap"):
        compare(gap, ["HAM", "HAM"], [1, 4])
    with pytest.raises(NotFound, match="VER has no timed lap"):
        compare(data, ["HAM", "VER"])
    with pytest.raises(NotFound, match="No car data"):
        compare(session(car=None), ["HAM", "BOT"])
