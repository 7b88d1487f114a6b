"""The session archive: every finished session's extracted payload, loaded once, ever.

:class:`~pypole_gql.services.sessions.SessionService` asks it after the process LRU and
Redis missed, before starting a FastF1 load, and hands it every payload FastF1 loaded.
Entries are the payload zlib-compressed (the bytes Redis holds compressed), one per
session, in the store ``PYPOLE_ARCHIVE_URL`` names (:mod:`pypole_gql.archive.stores`).

* A payload of another format version is never decoded: it reads as a miss, the session
  is loaded afresh and the entry is replaced.
* Only sessions that are over are written: their timing was published, and their
  scheduled start is at least :data:`SESSION_SPAN` plus :data:`SETTLE` ago (a session
  that just ended may still change: late penalties, corrected timing).
* The archive never fails a request: a store that cannot be read is a miss, a write that
  fails is logged and the session is served all the same.
"""

from __future__ import annotations

import asyncio
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from pypole_gql.archive.stores import ArchiveKey, ArchiveStore, StoredEntry, prefix_version
from pypole_gql.domain.sessions import SessionInfo
from pypole_gql.logging import get_logger
from pypole_gql.upstream.fastf1.payload import (
    FORMAT_VERSION,
    PayloadError,
    payload_info,
    payload_version,
)

log = get_logger("pypole.archive")

#: The longest a session runs from its scheduled start (a race's three-hour cap and more).
SESSION_SPAN: Final = timedelta(hours=4)
#: How long past its end a session is left out of the archive.
SETTLE: Final = timedelta(hours=3)
_ZLIB_LEVEL: Final = 6
_THREAD_THRESHOLD: Final = 256 * 1024


def not_archivable(info: SessionInfo, now: datetime) -> str | None:
    """Why a session of this info may not be archived at ``now``; ``None`` when it may."""
    if not info.timing_available:
        return "its timing data is not published"
    if info.start_time_utc is None:
        # No scheduled start: only a season that is over is known to be over.
        return None if info.year < now.year else "its start time is unknown"
    if now < info.start_time_utc + SESSION_SPAN + SETTLE:
        return "it is not over, or ended less than a few hours ago"
    return None


@dataclass(frozen=True, slots=True)
class ArchiveEntry:
    key: ArchiveKey
    size: int
    stored_at: datetime
    #: The payload's format version; ``None`` when the entry is not a payload at all.
    format_version: int | None

    @property
    def current(self) -> bool:
        return self.format_version == FORMAT_VERSION


class SessionArchive:
    """Archived session payloads over an :class:`ArchiveStore`."""

    def __init__(self, store: ArchiveStore, *, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self._clock = clock

    @property
    def description(self) -> str:
        return self.store.description

    async def get(self, key: ArchiveKey) -> bytes | None:
        """The payload of the session, when an entry of this format version holds it."""
        try:
            blob = await self.store.read(key)
        except Exception as exc:  # a broken archive costs a load, never the request
            log.warning("archive.read_failed", key=str(key), error=_describe(exc))
            return None
        if blob is None:
            return None
        try:
            payload = await _in_thread_if_big(zlib.decompress, blob)
        except zlib.error:
            log.warning("archive.unreadable", key=str(key), size=len(blob))
            return None
        version = payload_version(payload[:8])
        if version != FORMAT_VERSION:
            log.info("archive.other_format", key=str(key), version=version, wanted=FORMAT_VERSION)
            return None
        log.info("archive.hit", key=str(key), bytes=len(payload))
        return payload

    async def holds(self, key: ArchiveKey) -> bool:
        """Whether an entry of this format version is there, without reading its payload
        (:meth:`ArchiveStore.contains`); False when the store cannot be read (logged)."""
        try:
            return await self.store.contains(key, FORMAT_VERSION)
        except Exception as exc:
            log.warning("archive.read_failed", key=str(key), error=_describe(exc))
            return False

    async def put(self, key: ArchiveKey, payload: bytes) -> bool:
        """Archive ``payload`` when its session may be (see :func:`not_archivable`).

        True when it was written. Never raises for a store failure (logged).
        """
        try:
            info = payload_info(payload)
        except PayloadError as exc:
            log.warning("archive.not_a_payload", key=str(key), error=str(exc))
            return False
        reason = not_archivable(info, datetime.fromtimestamp(self._clock(), UTC))
        if reason is not None:
            log.info("archive.skipped", key=str(key), reason=reason)
            return False
        return await self.write(key, payload)

    async def write(self, key: ArchiveKey, payload: bytes) -> bool:
        """Store ``payload`` as it is (``pypole archive import``); False when that failed."""
        version = payload_version(payload[:8])
        if version is None:
            return False
        blob = await _in_thread_if_big(lambda data: zlib.compress(data, _ZLIB_LEVEL), payload)
        try:
            await self.store.write(key, blob, version)
        except Exception as exc:
            log.warning("archive.write_failed", key=str(key), error=_describe(exc))
            return False
        log.info("archive.stored", key=str(key), bytes=len(blob))
        return True

    async def entries(self) -> list[ArchiveEntry]:
        """Every entry with its payload's format version (raises when the store fails)."""
        listed = await self.store.entries()
        return list(await asyncio.gather(*(self._entry(item) for item in listed)))

    async def _entry(self, item: StoredEntry) -> ArchiveEntry:
        version = item.format_version
        if version is None:
            prefix = await self.store.read_prefix(item.key)
            version = None if prefix is None else prefix_version(prefix)
        return ArchiveEntry(item.key, item.size, item.stored_at, version)

    async def delete(self, key: ArchiveKey) -> bool:
        return await self.store.delete(key)

    async def close(self) -> None:
        await self.store.close()


async def _in_thread_if_big(func: Callable[[bytes], bytes], data: bytes) -> bytes:
    if len(data) >= _THREAD_THRESHOLD:
        return await asyncio.to_thread(func, data)
    return func(data)


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:300]
