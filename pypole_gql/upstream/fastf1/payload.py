"""The bytes a FastF1 load becomes: encode in the worker, decode in the server.

No FastF1 or pandas here, so the server process can decode without importing them.

Layout (little-endian)::

    b"PPF1" | u16 format version | u32 header length | header (orjson) | arrays

The header holds the session info and every table (drivers, laps, stints, results,
weather, race control messages, track status) as column lists (floats for times,
``null`` for NaN/NaT, ISO 8601 for wall-clock moments) and, for the car and position
traces, where each array lies in the payload. Arrays start on 8-byte boundaries and
are read back with ``numpy.frombuffer``; the decoded
:class:`~pypole_gql.domain.sessions.SessionData` may keep the payload alive, and its
arrays are read-only.

Lossless, but compact (it is cached compressed): each array is stored in the smallest
dtype that holds it exactly (FastF1's float speed and RPM are whole numbers on the wire,
so they become ``uint16``), session times in whole milliseconds when every sample is one
(FastF1 rounds telemetry dates to the millisecond), and smooth integer series (session
time, speed, RPM, x, y, z) as per-driver differences, which compress several times better
and are summed back on decode. Decoding gives back exactly what the worker extracted.
Bump :data:`FORMAT_VERSION` on any change: payloads of another version are refused
(:class:`PayloadError`), never misread; the session cache's keys name the version, so a
new version is loaded afresh rather than read from an old entry.

Versions: 1, laps, stints and traces (x, y); 2, plus results, weather, race control,
track status, the position trace's z, stint pace and the timing-data status.
"""

from __future__ import annotations

import dataclasses
import struct
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Final, TypeVar

import numpy as np
import numpy.typing as npt
import orjson

from pypole_gql.domain.sessions import (
    Lap,
    RaceControlMessage,
    SessionData,
    SessionDriver,
    SessionInfo,
    SessionResult,
    Stint,
    Trace,
    TrackStatusChange,
    WeatherSample,
)

FORMAT_VERSION: Final = 2
MAGIC: Final = b"PPF1"
_PREFIX = struct.Struct("<4sHI")
_ALIGN = 8
_MS_NS = 1_000_000
_INT_DTYPES: Final = tuple(
    np.dtype(t) for t in ("uint8", "int8", "uint16", "int16", "uint32", "int32", "int64")
)
#: Channels stored as per-driver differences (plus session time, always).
_DELTA_CHANNELS: Final = frozenset({"speed", "rpm", "x", "y", "z"})
_Row = TypeVar(
    "_Row",
    SessionDriver,
    Lap,
    Stint,
    SessionResult,
    WeatherSample,
    RaceControlMessage,
    TrackStatusChange,
)
#: Fields that JSON carries as text and decoding turns back into objects.
_DECODE_FIELD: Final[Mapping[type, Mapping[str, Callable[[Any], Any]]]] = {
    RaceControlMessage: {"time": datetime.fromisoformat},
}


class PayloadError(ValueError):
    """The bytes are not a payload of this format version."""


def encode_payload(data: SessionData, meta: Mapping[str, Any] | None = None) -> bytes:
    """Serialise ``data`` (plus free-form, JSON-able ``meta``) to payload bytes."""
    arrays: list[bytes] = []
    offset = 0

    def put(array: npt.NDArray[Any]) -> dict[str, Any]:
        nonlocal offset
        raw = np.ascontiguousarray(array).tobytes()
        entry = {"dtype": array.dtype.str, "offset": offset, "length": int(array.shape[0])}
        pad = -len(raw) % _ALIGN
        arrays.append(raw + b"\0" * pad)
        offset += len(raw) + pad
        return entry

    header = {
        "meta": dict(meta or {}),
        "info": _info_to_json(data.info),
        "drivers": _columns(data.drivers, SessionDriver),
        "laps": _columns(data.laps, Lap),
        "stints": _columns(data.stints, Stint),
        "results": _columns(data.results, SessionResult),
        "weather": _columns(data.weather, WeatherSample),
        "race_control": _columns(data.race_control, RaceControlMessage),
        "track_status": _columns(data.track_status, TrackStatusChange),
        "car": None if data.car is None else _trace_to_json(data.car, put),
        "position": None if data.position is None else _trace_to_json(data.position, put),
    }
    head = orjson.dumps(header, option=orjson.OPT_SERIALIZE_NUMPY)
    head += b" " * (-(len(head) + _PREFIX.size) % _ALIGN)
    return b"".join([_PREFIX.pack(MAGIC, FORMAT_VERSION, len(head)), head, *arrays])


def decode_payload(payload: bytes) -> SessionData:
    """Rebuild the :class:`SessionData` that :func:`encode_payload` was given."""
    header, base = _read_header(payload)
    buffer = memoryview(payload)

    def get(entry: Mapping[str, Any]) -> npt.NDArray[Any]:
        return np.frombuffer(
            buffer,
            dtype=np.dtype(entry["dtype"]),
            count=entry["length"],
            offset=base + entry["offset"],
        )

    return SessionData(
        info=_info_from_json(header["info"]),
        drivers=_rows(header["drivers"], SessionDriver),
        laps=_rows(header["laps"], Lap),
        stints=_rows(header["stints"], Stint),
        results=_rows(header["results"], SessionResult),
        weather=_rows(header["weather"], WeatherSample),
        race_control=_rows(header["race_control"], RaceControlMessage),
        track_status=_rows(header["track_status"], TrackStatusChange),
        car=None if header["car"] is None else _trace_from_json(header["car"], get),
        position=None if header["position"] is None else _trace_from_json(header["position"], get),
    )


def payload_meta(payload: bytes) -> dict[str, Any]:
    """The ``meta`` given to :func:`encode_payload`, without decoding the rest."""
    meta: dict[str, Any] = _read_header(payload)[0]["meta"]
    return meta


def payload_info(payload: bytes) -> SessionInfo:
    """The session's :class:`SessionInfo`, without decoding the rest."""
    return _info_from_json(_read_header(payload)[0]["info"])


def payload_version(prefix: bytes) -> int | None:
    """The format version a payload's first bytes name, ``None`` when they are no payload."""
    if len(prefix) < 6 or prefix[:4] != MAGIC:
        return None
    version: int = struct.unpack_from("<H", prefix, 4)[0]
    return version


def _read_header(payload: bytes) -> tuple[dict[str, Any], int]:
    if len(payload) < _PREFIX.size:
        raise PayloadError("payload too short")
    magic, version, head_len = _PREFIX.unpack_from(payload)
    if magic != MAGIC:
        raise PayloadError("not a FastF1 session payload")
    if version != FORMAT_VERSION:
        raise PayloadError(f"payload format {version}, expected {FORMAT_VERSION}")
    end = _PREFIX.size + head_len
    header: dict[str, Any] = orjson.loads(payload[_PREFIX.size : end])
    return header, end


def _columns(rows: Sequence[_Row], cls: type[_Row]) -> dict[str, list[Any]]:
    names = [f.name for f in dataclasses.fields(cls)]
    return {name: [getattr(row, name) for row in rows] for name in names}


def _rows(columns: Mapping[str, list[Any]], cls: type[_Row]) -> tuple[_Row, ...]:
    names = [f.name for f in dataclasses.fields(cls)]
    decoders = _DECODE_FIELD.get(cls, {})
    lists = [
        columns[n] if n not in decoders else [decoders[n](v) for v in columns[n]] for n in names
    ]
    return tuple(cls(*values) for values in zip(*lists, strict=True))


def _info_to_json(info: SessionInfo) -> dict[str, Any]:
    out = dataclasses.asdict(info)
    out["start_time_utc"] = None if info.start_time_utc is None else info.start_time_utc.isoformat()
    return out


def _info_from_json(raw: Mapping[str, Any]) -> SessionInfo:
    values = dict(raw)
    start = values.pop("start_time_utc")
    return SessionInfo(
        start_time_utc=None if start is None else datetime.fromisoformat(start), **values
    )


def _trace_to_json(
    trace: Trace, put: Callable[[npt.NDArray[Any]], dict[str, Any]]
) -> dict[str, Any]:
    times = trace.session_time.astype(np.int64) * trace.time_unit_ns
    unit = 1
    if times.size and not np.any(times % _MS_NS):
        unit, times = _MS_NS, times // _MS_NS
    spans = list(trace.spans.values())

    def column(values: npt.NDArray[Any], delta: bool) -> dict[str, Any]:
        values = narrow(values)
        # Float differences would not add up to the same floats again: integers only.
        if not delta or values.dtype.kind not in "iu":
            return put(values)
        # Smooth series (time, position, speed) compress far better as differences;
        # each driver's first value is kept aside so the differences stay small.
        wide = values.astype(np.int64)
        deltas = np.zeros_like(wide)
        starts = []
        for a, b in spans:
            deltas[a + 1 : b] = np.diff(wide[a:b])
            starts.append(wide[a].item())
        entry = put(narrow(deltas))
        entry["delta"] = {"dtype": values.dtype.str, "starts": starts}
        return entry

    return {
        "time_unit_ns": unit,
        "spans": {k: list(v) for k, v in trace.spans.items()},
        "sorted": sorted(trace.sorted_drivers),
        "session_time": column(times, delta=True),
        "channels": {
            name: column(values, delta=name in _DELTA_CHANNELS)
            for name, values in trace.channels.items()
        },
    }


def _trace_from_json(
    raw: Mapping[str, Any], get: Callable[[Mapping[str, Any]], npt.NDArray[Any]]
) -> Trace:
    spans = {k: (v[0], v[1]) for k, v in raw["spans"].items()}

    def column(entry: Mapping[str, Any]) -> npt.NDArray[Any]:
        stored = get(entry)
        delta = entry.get("delta")
        if delta is None:
            return stored
        out = np.empty(stored.shape, dtype=np.dtype(delta["dtype"]))
        for (a, b), start in zip(spans.values(), delta["starts"], strict=True):
            out[a:b] = np.cumsum(stored[a:b], dtype=np.int64) + start
        out.flags.writeable = False
        return out

    return Trace(
        time_unit_ns=raw["time_unit_ns"],
        session_time=column(raw["session_time"]),
        channels={name: column(entry) for name, entry in raw["channels"].items()},
        spans=spans,
        sorted_drivers=frozenset(raw["sorted"]),
    )


def narrow(values: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """``values`` in the smallest dtype that gives back exactly the same numbers.

    Booleans stay booleans; whole numbers (even in a float array) become the smallest
    integer type that holds them; other floats become float32 only when that is exact.
    """
    if values.dtype.kind == "b":
        return values
    if values.dtype.kind in "iuf" and values.size == 0:
        return values.astype(np.uint8)
    if values.dtype.kind == "f":
        finite = bool(np.all(np.isfinite(values)))
        if finite and np.array_equal(values, np.trunc(values)):
            lo, hi = values.min(), values.max()
            for dtype in _INT_DTYPES:
                info = np.iinfo(dtype)
                if info.min <= lo and hi <= info.max:
                    return values.astype(dtype)
        as32 = values.astype(np.float32)
        if np.array_equal(as32.astype(values.dtype), values, equal_nan=True):
            return as32
        return values
    if values.dtype.kind in "iu":
        lo, hi = values.min(), values.max()
        for dtype in _INT_DTYPES:
            info = np.iinfo(dtype)
            if info.min <= lo and hi <= info.max:
                return values.astype(dtype)
    return values
