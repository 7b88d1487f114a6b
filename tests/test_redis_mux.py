"""pypole_gql.redis_mux.Multiplexer and the rate limiter's windows on it, against the real Redis.

Commands queued in one turn of the event loop share one write; replies come back in order,
an error reply fails its command alone, a caller that goes away leaves the others answered.
The Redis windows count as the in-process ones do (the same stats for the same times), and
two limiters sharing Redis (two workers) grant exactly the limit between them.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator

import pytest
from limits import parse_many
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from pypole_gql.ratelimit import RateLimiter
from pypole_gql.ratelimit.windows import Charge, MemoryWindows, RedisWindows
from pypole_gql.redis_link import RedisLink
from pypole_gql.redis_mux import Multiplexer, pack_parts


@pytest.fixture
async def link(redis_url: str) -> AsyncIterator[RedisLink]:
    made = RedisLink.from_url(redis_url)
    yield made
    await made.close()


@pytest.fixture
async def mux(link: RedisLink, redis_cleanup: str) -> Multiplexer:
    return link.mux


def key(namespace: str, name: str) -> str:
    return f"{namespace}:{name}"


async def test_commands_queued_in_one_turn_share_one_write(
    mux: Multiplexer, redis_cleanup: str
) -> None:
    counter = key(redis_cleanup, "counter")
    await mux.execute("PING")  # connected
    writes, replies = mux.writes, mux.replies

    answers = await asyncio.gather(*(mux.execute("INCR", counter) for _ in range(20)))

    assert answers == list(range(1, 21))  # in the order they were sent
    assert (mux.writes - writes, mux.replies - replies) == (1, 20)


async def test_commands_one_after_another_make_one_write_each(
    mux: Multiplexer, redis_cleanup: str
) -> None:
    counter = key(redis_cleanup, "counter")
    await mux.execute("PING")
    writes = mux.writes
    for n in range(1, 6):
        assert await mux.execute("INCR", counter) == n
    assert mux.writes - writes == 5


async def test_a_packed_command_goes_with_the_others(mux: Multiplexer, redis_cleanup: str) -> None:
    counter = key(redis_cleanup, "counter")
    await mux.execute("PING")
    writes = mux.writes
    incr_by_five = b"*3\r\n" + pack_parts(b"INCRBY", counter.encode(), b"5")

    answers = await asyncio.gather(
        mux.execute("INCR", counter), mux.execute_packed(incr_by_five), mux.execute("GET", counter)
    )

    assert list(answers) == [1, 6, b"6"]
    assert mux.writes - writes == 1


async def test_an_error_reply_fails_that_command_alone(
    mux: Multiplexer, redis_cleanup: str
) -> None:
    text = key(redis_cleanup, "text")
    await mux.execute("SET", text, "not a number")

    before, failed, after = list[object](
        await asyncio.gather(
            mux.execute("GET", text),
            mux.execute("INCR", text),
            mux.execute("STRLEN", text),
            return_exceptions=True,
        )
    )

    assert before == b"not a number"
    assert isinstance(failed, ResponseError)
    assert after == len(b"not a number")
    assert await mux.execute("PING") in (True, b"PONG", "PONG")


async def test_a_caller_that_goes_away_leaves_the_others_answered(
    mux: Multiplexer, redis_cleanup: str
) -> None:
    counter = key(redis_cleanup, "counter")
    await mux.execute("PING")
    gone = asyncio.create_task(mux.execute("INCR", counter))
    stays = asyncio.create_task(mux.execute("INCR", counter))
    await asyncio.sleep(0)  # both queued
    gone.cancel()

    assert await stays == 2  # the cancelled caller's command was still sent, first
    assert gone.cancelled()
    assert await mux.execute("GET", counter) == b"2"


async def test_a_closed_multiplexer_refuses_calls(link: RedisLink) -> None:
    await link.mux.execute("PING")
    await link.mux.aclose()
    with pytest.raises(RedisConnectionError):
        await link.mux.execute("PING")


# -- the rate limiter's windows --------------------------------------------------------------


def moments(windows: set[int], count: int = 120) -> list[float]:
    """Seconds from a start: bursts and gaps, none exactly a window away from an earlier one
    (a hit on a window's edge is the one place where the two stores differ)."""
    rng = random.Random(14)
    found: list[float] = []
    now = 0.0
    while len(found) < count:
        now = round(now + rng.choice([0.003, 0.05, 0.21, 0.6, 1.7]) * rng.random(), 4)
        if all(abs(abs(now - t) - w) > 1e-3 for t in found for w in windows):
            found.append(now)
    return found


def charges(limits: str) -> tuple[Charge, ...]:
    return tuple(Charge("api", item, item.amount, item.get_expiry()) for item in parse_many(limits))


@pytest.mark.parametrize("limits", ["3/second", "4/second;10/minute", "2/5 seconds"])
async def test_redis_windows_count_as_the_in_process_ones(
    link: RedisLink, redis_cleanup: str, limits: str
) -> None:
    policies = charges(limits)
    redis = RedisWindows(link.mux, redis_cleanup)
    memory = MemoryWindows()
    start = 1_800_000_000.0
    steps = moments({charge.expiry for charge in policies})
    for step in steps:
        now = start + step
        ours = await redis.charge("198.51.100.4", policies, now)
        expected = memory.charge("198.51.100.4", policies, now)
        assert [(round(s.reset_time, 6), s.remaining) for s in ours] == [
            (round(s.reset_time, 6), s.remaining) for s in expected
        ], f"at +{step} s"


async def test_two_limiters_sharing_redis_grant_exactly_the_limit(
    redis_url: str, redis_cleanup: str
) -> None:
    links = [RedisLink.from_url(redis_url), RedisLink.from_url(redis_url)]
    limiters = [
        RateLimiter(
            rate_limit="60/minute", auth_rate_limit="5/minute", redis=link, key_prefix=redis_cleanup
        )
        for link in links
    ]
    scope = {"type": "http", "client": (f"198.51.100.{uuid.uuid4().int % 200 + 1}", 1)}
    try:
        decisions = await asyncio.gather(
            *(limiters[n % 2].hit({**scope, "headers": []}) for n in range(100))
        )
        assert all(limiter.shared for limiter in limiters)
    finally:
        for link in links:
            await link.close()
    allowed = [d for d in decisions if d.allowed]
    assert len(allowed) == 60
    assert sorted(d.remaining for d in allowed) == list(range(60))
