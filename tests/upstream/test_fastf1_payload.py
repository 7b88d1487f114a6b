"""The payload format: exact round trip, compact dtypes, refusal of foreign bytes."""

from __future__ import annotations

import struct
from datetime import UTC, datetime

import numpy as np
import pytest

from pypole_gql.domain.sessions import (
    RaceControlMessage,
    SessionData,
    SessionInfo,
    SessionResult,
    Trace,
    TrackStatusChange,
    WeatherSample,
    lap_telemetry,
)
from pypole_gql.upstream.fastf1.payload import (
    FORMAT_VERSION,
    PayloadError,
    decode_payload,
    encode_payload,
    narrow,
    payload_meta,
)
from tests.upstream.test_fastf1_domain import session


def assert_traces_equal(a: Trace | None, b: Trace | None) -> None:
    assert (a is None) == (b is None)
    if a is None or b is None:
        return
    assert a.spans == b.spans and a.sorted_drivers == b.sorted_drivers
    np.testing.assert_array_equal(
        a.session_time.astype(np.int64) * a.time_unit_ns,
        b.session_time.astype(np.int64) * b.time_unit_ns,
    )
    assert a.channels.keys() == b.channels.keys()
    for name in a.channels:
        np.testing.assert_array_equal(a.channels[name], b.channels[name], err_msg=name)


def assert_sessions_equal(a: SessionData, b: SessionData) -> None:
    assert (a.info, a.drivers, a.laps, a.stints) == (b.info, b.drivers, b.laps, b.stints)
    assert (a.results, a.weather, a.race_control, a.track_status) == (
        b.results,
        b.weather,
        b.race_control,
        b.track_status,
    )
    assert_traces_equal(a.car, b.car)
    assert_traces_equal(a.position, b.position)


def test_round_trip_is_exact() -> None:
    info = SessionInfo(
        2018, 4, "Azerbaijan Grand Prix", "R", "Race", datetime(2018, 4, 29, 12, 10, tzinfo=UTC),
        51, True, True,
    )  # fmt: skip
    data = session(info=info)
    decoded = decode_payload(encode_payload(data, {"load_seconds": 1.5}))
    assert_sessions_equal(data, decoded)
    assert decoded.info.start_time_utc == info.start_time_utc
    assert decoded.car is not None and decoded.car.time_unit_ns == 1_000_000
    for code, number in (("HAM", 1), ("HAM", 2), ("BOT", 1), ("BOT", 2)):
        ours, theirs = lap_telemetry(decoded, code, number), lap_telemetry(data, code, number)
        assert ours is not None and theirs is not None
        np.testing.assert_array_equal(ours.distance, theirs.distance)
        np.testing.assert_array_equal(ours.session_time, theirs.session_time)


def test_round_trip_of_the_session_records() -> None:
    result = SessionResult(
        "HAM", "44", "L HAMILTON", "Lewis", "Hamilton", "Lewis Hamilton", "hamilton", None,
        None, "Mercedes", "mercedes", "00D2BE", 1, "1", 2, None, 81.234, None, 6224.291,
        "Finished", 25.0, 51,
    )  # fmt: skip
    data = session(
        info=SessionInfo(
            2025,
            8,
            "Monaco Grand Prix",
            "R",
            "Race",
            None,
            None,
            False,
            False,
            timing_available=False,
            timing_unavailable_reason="no timing",
        ),
        results=(result,),
        weather=(WeatherSample(5.0, 21.0, 38.5, 48.0, 1017.0, False, 3.2, 300),),
        race_control=(
            RaceControlMessage(
                datetime(2018, 4, 29, 12, 14, 31, 250_000, tzinfo=UTC),
                511.485,
                1,
                "Flag",
                "YELLOW IN TRACK SECTOR 2",
                None,
                "YELLOW",
                "Sector",
                2,
                "44",
                "HAM",
            ),
        ),
        track_status=(
            TrackStatusChange(488.035, "2", "Yellow"),
            TrackStatusChange(None, "1", None),
        ),
    )
    decoded = decode_payload(encode_payload(data))
    assert_sessions_equal(data, decoded)
    assert decoded.race_control[0].time.tzinfo is not None
    assert decoded.info.timing_unavailable_reason == "no timing"


def test_round_trip_without_telemetry_or_laps() -> None:
    data = session(laps=(), stints=(), car=None, position=None)
    assert_sessions_equal(data, decode_payload(encode_payload(data)))


def test_nanosecond_times_and_float_channels_survive() -> None:
    rng = np.random.default_rng(7)
    times = np.cumsum(rng.integers(1, 400_000_000, 300))  # ns, not whole ms
    car = Trace(
        time_unit_ns=1,
        session_time=times,
        channels={
            "speed": rng.random(300) * 300,  # not float32-exact: stays float64
            "rpm": np.round(rng.random(300) * 12000),
            "x": rng.integers(-40000, 40000, 300).astype(np.float64),  # needs int32
            "y": np.full(300, np.nan),
        },
        spans={"44": (0, 200), "77": (200, 300)},
        sorted_drivers=frozenset({"44", "77"}),
    )
    decoded = decode_payload(encode_payload(session(car=car)))
    assert decoded.car is not None and decoded.car.time_unit_ns == 1
    assert_traces_equal(car, decoded.car)
    assert not decoded.car.session_time.flags.writeable


def test_out_of_order_times_survive_delta_coding() -> None:
    times = np.array([5_000, 3_000, 9_000_000, 0, 2**31 + 5], dtype=np.int64)
    car = Trace(
        1_000_000, times, {"x": np.array([0, -32768, 32767, 5, -1])}, {"1": (0, 5)}, frozenset()
    )
    decoded = decode_payload(encode_payload(session(car=car)))
    assert_traces_equal(car, decoded.car)


@pytest.mark.parametrize(
    ("values", "dtype"),
    [
        (np.array([0.0, 255.0]), np.uint8),
        (np.array([-1.0, 300.0]), np.int16),
        (np.array([0, 70000]), np.uint32),
        (np.array([0.5, 1.25]), np.float32),
        (np.array([0.1, 1.0]), np.float64),
        (np.array([np.nan, 1.0]), np.float32),
        (np.array([True, False]), np.bool_),
        (np.array([], dtype=np.float64), np.uint8),
    ],
)
def test_narrow_is_lossless(values: np.ndarray, dtype: type) -> None:
    narrowed = narrow(values)
    assert narrowed.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(narrowed.astype(values.dtype), values)


def test_meta_reads_without_decoding() -> None:
    payload = encode_payload(session(), {"upstream_requests": 3})
    assert payload_meta(payload) == {"upstream_requests": 3}


def test_foreign_bytes_are_refused() -> None:
    payload = encode_payload(session())
    with pytest.raises(PayloadError):
        decode_payload(b"not a payload at all")
    with pytest.raises(PayloadError):
        decode_payload(b"PP")
    other = payload[:4] + struct.pack("<H", FORMAT_VERSION + 1) + payload[6:]
    with pytest.raises(PayloadError, match="format"):
        decode_payload(other)


def test_an_older_format_is_refused_not_misread() -> None:
    """Version 1 payloads (no results, weather, messages, z) must be rebuilt, not read."""
    assert FORMAT_VERSION >= 2
    payload = encode_payload(session())
    older = payload[:4] + struct.pack("<H", FORMAT_VERSION - 1) + payload[6:]
    with pytest.raises(PayloadError, match=f"format {FORMAT_VERSION - 1}, expected"):
        decode_payload(older)
    with pytest.raises(PayloadError):
        payload_meta(older)
