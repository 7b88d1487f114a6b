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
import secrets
import time
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

import orjson
from redis.exceptions import RedisError

from pypole_gql.logging import get_logger
from pypole_gql.redis_link import UNAVAILABLE

if TYPE_CHECKING:
    from pypole_gql.redis_link import RedisLink

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

    def started_at(self, key: str) -> float | None:
        """When the fill of ``key`` running in this process started."""
        fill = self._fills.get(key)
        return None if fill is None else fill.started_at

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


#: Who uses the Redis link, in its breaker's events.
_USER: Final = "sessions"
#: Releases a claim only when it is still the one this instance took.
_RELEASE: Final = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class SharedLoads:
    """Loads running and recent failures, shared by the instances on one Redis.

    Every call answers as if nothing were shared when Redis does not answer (or the breaker
    keeps calls away): :meth:`claim` grants the claim, :meth:`state` knows nothing.
    """

    def __init__(
        self, link: RedisLink, *, namespace: str, claim_ttl: float, failure_ttl: float
    ) -> None:
        if claim_ttl <= 0:
            raise ValueError("claim_ttl must be > 0")
        self._redis = link.client
        self._breaker = link.breaker
        self._prefix = f"{namespace}-sessions:"
        self.claim_ttl = claim_ttl
        self.failure_ttl = failure_ttl
        self.instance = secrets.token_hex(8)
        self._held: dict[str, bytes] = {}
        self._next_error_log_at = 0.0

    def _claim_key(self, key: str) -> str:
        return f"{self._prefix}loading:{key}"

    def _failure_key(self, key: str) -> str:
        return f"{self._prefix}failed:{key}"

    async def _call(self, call: Callable[[], Coroutine[Any, Any, Any]], fallback: Any) -> Any:
        if not self._breaker.allow():
            return fallback
        try:
            result = await call()
        except UNAVAILABLE as exc:
            self._breaker.failed(exc, user=_USER)  # redis.degraded, once for every user
            return fallback
        except RedisError as exc:  # Redis answered with an error (OOM...): not down
            now = time.monotonic()
            if now >= self._next_error_log_at:
                self._next_error_log_at = now + 10.0
                log.warning("sessions.shared_state_error", error=str(exc)[:200])
            return fallback
        self._breaker.succeeded(user=_USER)
        return result

    async def claim(self, key: str, started_at: float) -> SessionStatus | None:
        """Take the claim of loading ``key``: None when this instance may load it (claimed,
        or Redis is away), else the LOADING status of the instance that holds it. Taking it
        forgets the session's shared failure."""
        value = orjson.dumps({"instance": self.instance, "started_at": started_at})
        claim = self._claim_key(key)

        async def take() -> tuple[bool, bytes | None]:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.set(claim, value, nx=True, px=max(1, int(self.claim_ttl * 1000)))
                pipe.get(claim)
                taken, held = await pipe.execute()
            if taken:
                await self._redis.delete(self._failure_key(key))
            return bool(taken), held

        taken, held = await self._call(take, (True, None))
        if taken:
            self._held[key] = value
            return None
        return _loading(held) or SessionStatus(SessionState.LOADING)

    async def release(self, key: str) -> None:
        """Drop this instance's claim of ``key`` (after the outcome is stored)."""
        value = self._held.pop(key, None)
        if value is None:
            return

        async def release() -> None:
            await self._redis.eval(_RELEASE, 1, self._claim_key(key), value)

        await self._call(release, None)

    def holds(self, key: str) -> bool:
        """Whether this instance holds the claim of ``key``."""
        return key in self._held

    async def state(self, key: str) -> SessionStatus | None:
        """LOADING (another instance's claim, or this one's) or FAILED (within the failure
        TTL) as every instance sees it; None when neither is shared."""

        async def read() -> list[bytes | str | None]:
            found: list[bytes | str | None] = await self._redis.mget(
                self._claim_key(key), self._failure_key(key)
            )
            return found

        held, failure = await self._call(read, [None, None])
        if held is not None:
            return _loading(held) or SessionStatus(SessionState.LOADING)
        if failure is not None:
            reason = failure.decode(errors="replace") if isinstance(failure, bytes) else failure
            return SessionStatus(SessionState.FAILED, reason=reason)
        return None

    async def failed(self, key: str, reason: str) -> None:
        """Share that the load of ``key`` failed, for the failure TTL."""
        ttl = int(self.failure_ttl)
        if ttl <= 0:
            return

        async def put() -> None:
            await self._redis.set(self._failure_key(key), reason.encode(), ex=ttl)

        await self._call(put, None)


def _loading(held: bytes | str | None) -> SessionStatus | None:
    if held is None:
        return None
    try:
        started = float(orjson.loads(held)["started_at"])
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return None
    return SessionStatus(SessionState.LOADING, started_at=datetime.fromtimestamp(started, UTC))
