"""Where a session's load stands, without starting one: ready, loading, not available, failed.

A cold FastF1 load is seconds of a worker. Clients should not have to hold a request open
for it: they ask for a session's :class:`SessionStatus` (answered at once, never starting a
load), start a load (``loadSession``, REST's ``Prefer: respond-async``) and poll.

:class:`SessionLoads` is the bookkeeping of one process: which session keys have requests
waiting on a fill (:meth:`SessionLoads.waiting`), since when and how many, and which
recently failed and why. It never loads anything itself; :class:`SessionService` calls it
around :meth:`~pypole_gql.cache.Cache.get_or_load`, which already makes concurrent requests
for one key (and a load started in the background) one load, also across instances sharing
Redis. A load running in another instance shows here as not loaded; starting one there
joins it through the cache's cross-process lock.
"""

from __future__ import annotations

import asyncio
import enum
import time
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from pypole_gql.logging import get_logger

log = get_logger("pypole.sessions")

#: Seconds a client is told to wait before asking again while a session loads.
RETRY_AFTER: Final = 2
#: The most failures remembered (one per session key); older ones are dropped first.
_MAX_FAILURES: Final = 256


class SessionState(enum.Enum):
    """Where a session stands in this server."""

    NOT_LOADED = "NOT_LOADED"
    LOADING = "LOADING"
    READY = "READY"
    NOT_AVAILABLE = "NOT_AVAILABLE"
    FAILED = "FAILED"


@dataclass(frozen=True, slots=True)
class SessionStatus:
    """A session's state; ``started_at`` and ``waiting`` while LOADING, ``reason`` when
    NOT_AVAILABLE or FAILED."""

    state: SessionState
    started_at: datetime | None = None
    waiting: int = 0
    reason: str | None = None

    @property
    def ready(self) -> bool:
        return self.state is SessionState.READY

    @property
    def retry_after(self) -> int | None:
        """Seconds before asking again, for states that will change by themselves."""
        return RETRY_AFTER if self.state is SessionState.LOADING else None


@dataclass(slots=True)
class _Fill:
    started_at: float
    waiting: int = 0
    background: int = 0


class SessionLoads:
    """In-flight fills and recent failures of session keys, in this process."""

    def __init__(self, *, failure_ttl: float, clock: Callable[[], float] = time.time) -> None:
        self.failure_ttl = failure_ttl
        self._clock = clock
        self._fills: dict[str, _Fill] = {}
        self._failures: dict[str, tuple[str, float]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    @contextmanager
    def waiting(self, key: str, *, background: bool = False) -> Iterator[None]:
        """Mark one request (or a background load) as waiting on ``key``'s fill."""
        fill = self._fills.get(key)
        if fill is None:
            fill = self._fills[key] = _Fill(started_at=self._clock())
            self._failures.pop(key, None)
        if background:
            fill.background += 1
        else:
            fill.waiting += 1
        try:
            yield
        finally:
            if background:
                fill.background -= 1
            else:
                fill.waiting -= 1
            if fill.waiting <= 0 and fill.background <= 0 and self._fills.get(key) is fill:
                del self._fills[key]

    def loading(self, key: str) -> SessionStatus | None:
        """LOADING with its start and waiting requests, or None when nothing waits on it."""
        fill = self._fills.get(key)
        if fill is None:
            return None
        return SessionStatus(
            SessionState.LOADING,
            started_at=datetime.fromtimestamp(fill.started_at, UTC),
            waiting=fill.waiting,
        )

    def failed(self, key: str, reason: str) -> None:
        """Remember that the load of ``key`` failed, for ``failure_ttl`` seconds."""
        if len(self._failures) >= _MAX_FAILURES:
            self._failures.pop(next(iter(self._failures)))
        self._failures[key] = (reason, self._clock() + self.failure_ttl)

    def failure(self, key: str) -> SessionStatus | None:
        """FAILED with the reason of the last load, while it is remembered."""
        held = self._failures.get(key)
        if held is None:
            return None
        reason, until = held
        if self._clock() >= until:
            del self._failures[key]
            return None
        return SessionStatus(SessionState.FAILED, reason=reason)

    def start(self, key: str, load: Callable[[], Coroutine[Any, Any, object]]) -> None:
        """Run ``load`` in the background unless a fill of ``key`` is running; marked as
        loading before this returns."""
        if key in self._fills:
            return
        entered = self.waiting(key, background=True)
        entered.__enter__()

        async def run() -> None:
            try:
                await load()
            except Exception as exc:  # remembered by the service; nobody awaits this task
                log.info("sessions.background_load_failed", key=key, error=type(exc).__name__)
            finally:
                entered.__exit__(None, None, None)

        task = asyncio.create_task(run(), name=f"sessions.load:{key}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def aclose(self) -> None:
        """Cancel the background loads (the app is stopping)."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
