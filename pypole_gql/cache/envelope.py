"""What :class:`~pypole_gql.cache.Cache` writes to its store: default codecs and the envelope.

Stored bytes are an envelope: an 18-byte header (format, flags, stored-at, fresh-until)
followed by the payload, zlib-compressed when the caller asked for it. Large payloads are
(de)compressed in a worker thread.
"""

from __future__ import annotations

import asyncio
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Final

import orjson

__all__ = [
    "ZLIB_LEVEL",
    "Envelope",
    "compress_body",
    "decompress_body",
    "orjson_decode",
    "orjson_encode",
    "pack",
    "unpack",
]

_HEADER: Final = struct.Struct(">BBdd")  # format, flags, stored_at, fresh_until
_FORMAT: Final = 1
_FLAG_ZLIB: Final = 0x01
#: The zlib level of compressed entries.
ZLIB_LEVEL: Final = 6
# zlib releases the GIL, so multi-megabyte FastF1 payloads are (de)compressed in a worker
# thread instead of stalling every other request on the event loop.
_THREAD_THRESHOLD: Final = 256 * 1024

# Dataclasses and dates would be written happily by orjson but read back as dicts and
# strings: a hit would then return another type than the miss the loader answered. The
# default codec refuses them, so a missing domain codec fails on the first call instead.
_STRICT_JSON: Final = (
    orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_SUBCLASS
)


def orjson_encode(value: Any) -> bytes:
    """Default encoder, for JSON-shaped values (dict, list, str, int, float, bool, None).

    Raises TypeError for dataclasses and dates: pass an ``encode``/``decode`` pair for
    those. Tuples are accepted and come back as lists, enums and UUIDs as their values.
    """
    return orjson.dumps(value, option=_STRICT_JSON)


def orjson_decode(data: bytes) -> Any:
    """Default decoder, the inverse of :func:`orjson_encode`."""
    return orjson.loads(data)


@dataclass(frozen=True, slots=True)
class Envelope:
    """One stored entry, read back."""

    stored_at: float
    fresh_until: float
    compressed: bool
    body: bytes


def pack(body: bytes, *, stored_at: float, fresh_until: float, compressed: bool) -> bytes:
    flags = _FLAG_ZLIB if compressed else 0
    return _HEADER.pack(_FORMAT, flags, stored_at, fresh_until) + body


def unpack(data: bytes) -> Envelope | None:
    """The envelope in ``data``, or None when it is not one (too short, other format)."""
    if len(data) < _HEADER.size:
        return None
    fmt, flags, stored_at, fresh_until = _HEADER.unpack_from(data)
    if fmt != _FORMAT:
        return None
    return Envelope(stored_at, fresh_until, bool(flags & _FLAG_ZLIB), data[_HEADER.size :])


async def _maybe_in_thread(func: Callable[[bytes], bytes], data: bytes) -> bytes:
    if len(data) >= _THREAD_THRESHOLD:
        return await asyncio.to_thread(func, data)
    return func(data)


async def compress_body(payload: bytes) -> bytes:
    return await _maybe_in_thread(partial(zlib.compress, level=ZLIB_LEVEL), payload)


async def decompress_body(body: bytes) -> bytes | None:
    """The payload of a compressed body, or None when it is not one (corrupt)."""
    try:
        return await _maybe_in_thread(zlib.decompress, body)
    except zlib.error:
        return None
