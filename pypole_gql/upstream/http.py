"""JSON over HTTP for the upstream clients, on the one aiohttp session the app owns.

This is the only module of the app that imports aiohttp. It gives every upstream call
the same discipline:

* one deadline per call (``timeout`` seconds, retries, backoff and waits included), so a
  caller never waits longer than the setting whatever the upstream does;
* bounded retries with exponential backoff and jitter, on connection errors, timeouts,
  broken bodies and 5xx only (a 4xx will not get better by asking again);
* 429 honoured: ``Retry-After`` is waited out when it is short and fits the deadline,
  otherwise the call fails at once with the upstream's delay as our ``retry_after``;
* errors translated here into :class:`UpstreamUnavailable` (or :class:`NotFound` when the
  caller says a 404 means that), never an aiohttp exception;
* one ``upstream.request`` log line and one :func:`count_upstream_call` per HTTP request.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Final, NoReturn

import aiohttp
import orjson
from yarl import URL

from pypole_gql.errors import NotFound, UpstreamUnavailable
from pypole_gql.logging import count_upstream_call, get_logger

log = get_logger("pypole.upstream")

#: Called before every attempt with the seconds left to the call's deadline; it may wait
#: (an outbound budget) or raise to stop the call before anything is sent.
BeforeAttempt = Callable[[float], Awaitable[None]]

_RETRYABLE_STATUS_MIN: Final = 500
_DEFAULT_RETRY_AFTER: Final = 30


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard one call tries. Every wait also has to fit the call's deadline."""

    attempts: int = 3
    """Requests per call at most, the first one included."""
    backoff_base: float = 0.25
    """Delay before the first retry; doubled for each further retry."""
    backoff_max: float = 2.0
    max_retry_after: float = 2.0
    """The longest 429 ``Retry-After`` waited out; a longer one fails the call at once."""


class _Transient(Exception):
    """An attempt failed in a way another attempt may not (retried within the policy)."""

    def __init__(self, reason: str, *, retry_after: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class HttpClient:
    """GET JSON from upstreams; build it with :meth:`open` in the app's lifespan.

    One instance (one connection pool) serves every upstream client of the app; each call
    names its upstream (``upstream="Jolpica"``) for log lines and error messages.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        call_timeout: float,
        retry: RetryPolicy | None = None,
        random_fraction: Callable[[], float] = random.random,
    ) -> None:
        if call_timeout <= 0:
            raise ValueError("call_timeout must be positive")
        self._session = session
        self.call_timeout = call_timeout
        self.retry = retry or RetryPolicy()
        self._random = random_fraction

    @classmethod
    @asynccontextmanager
    async def open(
        cls,
        *,
        call_timeout: float,
        retry: RetryPolicy | None = None,
        user_agent: str = "pypole-gql",
    ) -> AsyncIterator[HttpClient]:
        """A client on a new aiohttp session, closed when the context exits.

        ``call_timeout`` bounds each :meth:`get_json` call, all its attempts included.
        """
        # Per-call timeouts are set on each request (from the call's deadline); the
        # session's own default would otherwise cap every request at aiohttp's 5 minutes.
        session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=None),
            headers={"User-Agent": user_agent, "Accept": "application/json"},
            connector=aiohttp.TCPConnector(limit=32, ttl_dns_cache=300),
            raise_for_status=False,
        )
        try:
            yield cls(session, call_timeout=call_timeout, retry=retry)
        finally:
            await session.close()

    async def get_json(
        self,
        url: str,
        *,
        params: Mapping[str, str | int] | None = None,
        upstream: str = "upstream",
        before_attempt: BeforeAttempt | None = None,
        not_found: str | None = None,
    ) -> Any:
        """The decoded JSON body of ``GET url?params``.

        Raises :class:`NotFound` (with the message ``not_found``) for a 404 when
        ``not_found`` is given, and :class:`UpstreamUnavailable` for every other failure:
        timeouts, connection errors and 5xx once the retries are spent, a 429 asking for
        a longer wait than the policy allows, any other 4xx, a body that is not JSON.
        Whatever ``before_attempt`` raises propagates unchanged.
        """
        target = URL(url).update_query(dict(params)) if params else URL(url)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.call_timeout
        last: _Transient | None = None
        for attempt in range(1, self.retry.attempts + 1):
            if before_attempt is not None and deadline > loop.time():
                await before_attempt(deadline - loop.time())
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            try:
                return await self._attempt(target, attempt, remaining, upstream, not_found)
            except _Transient as exc:
                last = exc
            if attempt == self.retry.attempts:
                break
            delay = self._backoff(attempt)
            if last.retry_after is not None:
                delay = float(last.retry_after)
            # A wait that would outlast the deadline only delays the same failure.
            if delay >= deadline - loop.time():
                break
            await asyncio.sleep(delay)
        reason = last.reason if last is not None else "timed out"
        retry_after = last.retry_after if last is not None and last.retry_after else None
        log.warning("upstream.failed", upstream=upstream, url=str(target), reason=reason)
        raise UpstreamUnavailable(
            f"{upstream} is unavailable ({reason}), try again later",
            retry_after=retry_after or _DEFAULT_RETRY_AFTER,
        )

    def _backoff(self, attempt: int) -> float:
        ceiling = min(self.retry.backoff_max, self.retry.backoff_base * 2.0 ** (attempt - 1))
        # "Equal jitter": never less than half the step, so retries stay spaced out, and
        # spread over the other half, so instances that failed together do not retry together.
        return ceiling / 2 + self._random() * ceiling / 2

    async def _attempt(
        self, url: URL, attempt: int, remaining: float, upstream: str, not_found: str | None
    ) -> Any:
        started = time.perf_counter()
        status: int | None = None
        error: str | None = None
        count_upstream_call()
        try:
            async with self._session.get(
                url, timeout=aiohttp.ClientTimeout(total=remaining)
            ) as response:
                status = response.status
                if status == 200:
                    body = await response.read()
                    try:
                        return orjson.loads(body)
                    except orjson.JSONDecodeError as exc:
                        error = "invalid JSON body"
                        raise _Transient(error) from exc
                self._refuse(response, upstream, not_found)
        except _Transient as exc:
            error = exc.reason
            raise
        except TimeoutError as exc:
            error = "timeout"
            raise _Transient(error) from exc
        except aiohttp.ClientError as exc:
            error = type(exc).__name__
            raise _Transient(f"connection error: {error}") from exc
        finally:
            log.info(
                "upstream.request",
                upstream=upstream,
                url=str(url),
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
                attempt=attempt,
                **({"error": error} if error else {}),
            )

    def _refuse(
        self, response: aiohttp.ClientResponse, upstream: str, not_found: str | None
    ) -> NoReturn:
        """Map a non-200 answer to a retry or to our error."""
        status = response.status
        retry_after = _retry_after(response.headers.get("Retry-After"))
        if status == 429:
            wait = retry_after if retry_after is not None else math.ceil(self.retry.backoff_max)
            if wait > self.retry.max_retry_after:
                raise UpstreamUnavailable(
                    f"{upstream} is rate limiting us, try again later", retry_after=wait
                )
            raise _Transient("rate limited (429)", retry_after=wait)
        if status >= _RETRYABLE_STATUS_MIN:
            raise _Transient(f"HTTP {status}", retry_after=None)
        if status == 404 and not_found is not None:
            raise NotFound(not_found)
        # Any other answer means the request itself is wrong (a bug or a changed API):
        # asking again will not help, and the client should not see our internals.
        log.error("upstream.rejected", upstream=upstream, url=str(response.url), status=status)
        raise UpstreamUnavailable(f"{upstream} refused the request (HTTP {status})")


def _retry_after(value: str | None) -> int | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return int(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0, math.ceil((when - datetime.now(UTC)).total_seconds()))
