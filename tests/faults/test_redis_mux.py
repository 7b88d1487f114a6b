"""The multiplexed Redis connection when its Redis dies, hangs or comes back empty.

A test-owned ``redis-server`` (``redis_process``) is killed (SIGKILL), paused (SIGSTOP) or
restarted: commands in flight fail with redis-py's ``ConnectionError`` or ``TimeoutError``
within the link's timeouts (what the breaker's users already handle), the next command
after Redis returns opens a new connection, and the rate limiter's script, gone with a
restart, is loaded again without the limiter falling back.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from pypole_gql.ratelimit import RateLimiter
from pypole_gql.redis_link import RedisLink
from tests.faults.support import RedisProcess

pytestmark = pytest.mark.timeout(60)

TIMEOUT = 0.3


@pytest.fixture
async def link(redis_process: RedisProcess) -> AsyncIterator[RedisLink]:
    made = RedisLink.from_url(redis_process.url, socket_timeout=TIMEOUT, connect_timeout=TIMEOUT)
    yield made
    await made.close()


async def test_a_killed_redis_fails_the_commands_then_is_found_again(
    link: RedisLink, redis_process: RedisProcess
) -> None:
    assert await link.mux.execute("INCR", "n") == 1
    redis_process.kill()
    with pytest.raises(RedisConnectionError):
        await link.mux.execute("INCR", "n")
    with pytest.raises(RedisConnectionError):  # refused: no connection to open
        await link.mux.execute("INCR", "n")
    redis_process.start()
    assert await link.mux.execute("INCR", "n") == 1  # a new Redis, a new connection


async def test_a_hung_redis_fails_what_waits_within_the_timeout(
    link: RedisLink, redis_process: RedisProcess
) -> None:
    await link.mux.execute("PING")
    redis_process.pause()
    try:
        started = time.monotonic()
        results = await asyncio.gather(
            *(link.mux.execute("INCR", "n") for _ in range(5)), return_exceptions=True
        )
        waited = time.monotonic() - started
        assert all(isinstance(r, RedisTimeoutError) for r in results), results
        assert TIMEOUT <= waited < TIMEOUT + 1.5, waited
        # A new connection to the hung server: its handshake is never answered. The callers
        # share one attempt, so they wait one connect timeout, not one each.
        started = time.monotonic()
        results = await asyncio.gather(
            *(link.mux.execute("PING") for _ in range(10)), return_exceptions=True
        )
        assert all(isinstance(r, RedisTimeoutError) for r in results), results
        assert time.monotonic() - started < TIMEOUT + 1.5
    finally:
        redis_process.resume()
    # The commands sent before the pause ran when it ended; their replies went with the
    # dropped connection, and the new one answers in step.
    await asyncio.sleep(0.1)
    assert await link.mux.execute("INCR", "n") == 6


async def test_the_limiter_loads_its_script_again_on_a_restarted_redis(
    link: RedisLink, redis_process: RedisProcess
) -> None:
    limiter = RateLimiter(rate_limit="5/minute", auth_rate_limit="2/minute", redis=link)
    scope = {"type": "http", "client": ("198.51.100.9", 1), "headers": []}
    assert (await limiter.hit(scope)).remaining == 4
    redis_process.kill()
    redis_process.start()  # empty: no keys, no scripts
    assert not redis_process.keys("*")

    # The first hit Redis counts again (any before it, while the link found the old
    # connection gone, counted in process) runs the script the new server never saw.
    deadline = time.monotonic() + 10
    while True:
        decision = await limiter.hit(scope)
        if limiter.shared and redis_process.keys("pypole:ratelimit:*"):
            break
        assert time.monotonic() < deadline, "the limiter never counted in Redis again"
        await asyncio.sleep(0.05)
    assert decision.remaining == 4  # one hit in the new server's window
