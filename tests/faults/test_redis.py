"""Redis killed under a running app, then started again on the same port.

The app's cache, rate limiter and upstream budget all live in a ``redis-server`` this test
owns. SIGKILL takes it away mid-run; the app must keep answering (from the upstream, with
the rate limit applied in process), say so on ``/health/ready``, and pick Redis up again
when it returns, without a restart.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from tests.faults.support import (
    DRIVER_STANDINGS,
    SCHEDULE,
    SEASON_QUERY,
    RedisProcess,
    bounded,
    client,
    codes,
    fault_app,
    gql,
)
from tests.jolpica_support import JOLPICA_PREFIX

pytestmark = pytest.mark.timeout(90)

#: Per request: Redis timeouts are ~0.5 s; anything near this is a hang.
GUARD = 10.0
RATE_LIMIT = 5
_ips = (f"10.0.{n // 250}.{n % 250 + 1}" for n in itertools.count())


def new_ip() -> str:
    """A client address no earlier request used: a fresh rate-limit budget."""
    return next(_ips)


@pytest.fixture
async def app(tmp_path: Path, replay: Any, redis_process: RedisProcess) -> AsyncIterator[Starlette]:
    async with fault_app(
        tmp_path,
        redis_url=redis_process.url,
        jolpica_url=f"{replay.url}/ergast/f1",
        jolpica_rate="1000/second",
        rate_limit=f"{RATE_LIMIT}/minute",
    ) as app:
        yield app


async def get(app: Starlette, path: str) -> httpx.Response:
    async with client(app, new_ip()) as http:
        return await bounded(http.get(path), GUARD)


async def query(app: Starlette, text: str) -> httpx.Response:
    async with client(app, new_ip()) as http:
        return await bounded(gql(http, text), GUARD)


async def data_requests(app: Starlette) -> list[httpx.Response]:
    """One GraphQL and two REST data requests for 2023, each from a fresh client."""
    return list(
        await asyncio.gather(
            query(app, SEASON_QUERY % 2023),
            get(app, SCHEDULE % 2023),
            get(app, DRIVER_STANDINGS % 2023),
        )
    )


def assert_all_ok(responses: list[httpx.Response]) -> None:
    for response in responses:
        assert response.status_code == 200, (response.request.url, response.text)
        body = response.json()
        assert "errors" not in body, body


def jolpica_requests(replay: Any) -> int:
    return int(replay.count(prefix=JOLPICA_PREFIX))


async def warm(app: Starlette, replay: Any) -> list[Any]:
    """Load the data questions once; prove a repeat is served from Redis alone."""
    first = await data_requests(app)
    assert_all_ok(first)
    before = jolpica_requests(replay)
    again = await data_requests(app)
    assert_all_ok(again)
    assert jolpica_requests(replay) == before, "the warm cache still went upstream"
    return [r.json() for r in first]


async def test_data_keeps_flowing_uncached_while_redis_is_dead(
    app: Starlette, replay: Any, redis_process: RedisProcess
) -> None:
    expected = await warm(app, replay)
    assert redis_process.keys("pypole:v1:*"), "nothing was cached in Redis"

    redis_process.kill()
    for _ in range(3):
        before = jolpica_requests(replay)
        responses = await data_requests(app)
        assert_all_ok(responses)
        assert [r.json() for r in responses] == expected
        # Served: by the upstream, since the only cache there was is gone.
        assert jolpica_requests(replay) > before
    # A question never asked before works as well.
    fresh = await query(app, SEASON_QUERY % 2019)
    assert_all_ok([fresh])
    assert len(fresh.json()["data"]["season"]["races"]) > 0


async def test_rate_limit_holds_per_process_while_redis_is_dead(
    app: Starlette, redis_process: RedisProcess
) -> None:
    redis_process.kill()
    async with client(app, new_ip()) as http:
        allowed = [await bounded(gql(http, "{ __typename }"), GUARD) for _ in range(RATE_LIMIT)]
        refused = await bounded(gql(http, "{ __typename }"), GUARD)
        rest_refused = await bounded(http.get(SCHEDULE % 2023), GUARD)
    assert [r.status_code for r in allowed] == [200] * RATE_LIMIT
    assert allowed[-1].headers["X-RateLimit-Remaining"] == "0"
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert codes(refused.json()) == ["RATE_LIMITED"]
    assert rest_refused.status_code == 429
    # Another client still has its own budget.
    other = await query(app, "{ __typename }")
    assert other.status_code == 200


async def test_health_names_redis_while_it_is_dead(
    app: Starlette, redis_process: RedisProcess
) -> None:
    async with client(app) as http:
        ready = await bounded(http.get("/health/ready"), GUARD)
        assert ready.status_code == 200
        assert ready.json()["checks"]["redis"] == "ok"

        redis_process.kill()
        live = await bounded(http.get("/health/live"), GUARD)
        ready = await bounded(http.get("/health/ready"), GUARD)
    assert live.status_code == 200
    assert ready.status_code == 503
    assert ready.json()["status"] == "unavailable"
    assert ready.json()["checks"]["redis"] == "failing"
    assert ready.json()["checks"]["database"] == "ok"


async def test_cache_is_used_again_when_redis_returns(
    app: Starlette, replay: Any, redis_process: RedisProcess
) -> None:
    expected = await warm(app, replay)
    redis_process.kill()
    assert_all_ok(await data_requests(app))
    async with client(app) as http:
        assert (await bounded(http.get("/health/ready"), GUARD)).status_code == 503

        redis_process.start()  # same port, empty: nothing survived the kill
        deadline = time.monotonic() + 15
        while (await bounded(http.get("/health/ready"), GUARD)).status_code != 200:
            assert time.monotonic() < deadline, "/health/ready stayed 503 with Redis back"
            await asyncio.sleep(0.1)

    # The cache skips a failed store for a short cool-down; within a few seconds a load is
    # stored in Redis again and the repeat of it costs the upstream nothing.
    deadline = time.monotonic() + 15
    while True:
        assert_all_ok(await data_requests(app))
        before = jolpica_requests(replay)
        repeat = await data_requests(app)
        assert_all_ok(repeat)
        if jolpica_requests(replay) == before:
            break
        assert time.monotonic() < deadline, "the cache never used the restarted Redis"
        await asyncio.sleep(0.25)
    assert [r.json() for r in repeat] == expected
    assert redis_process.keys("pypole:v1:*"), "nothing was cached in the restarted Redis"


async def test_requests_in_flight_when_redis_dies_succeed(
    app: Starlette, replay: Any, redis_process: RedisProcess
) -> None:
    expected = await warm(app, replay)
    # Slow Jolpica down so the kill lands while requests are between Redis and the upstream.
    with replay.fault(prefix=JOLPICA_PREFIX, delay=0.3):
        batches = [asyncio.create_task(data_requests(app)) for _ in range(5)]
        await asyncio.sleep(0.05)
        redis_process.kill()
        more = [asyncio.create_task(data_requests(app)) for _ in range(5)]
        results = await asyncio.gather(*batches, *more)
    for responses in results:
        assert_all_ok(responses)
        assert [r.json() for r in responses] == expected


async def test_hung_redis_costs_its_timeouts_not_a_hang(
    app: Starlette, replay: Any, redis_process: RedisProcess
) -> None:
    # SIGSTOP: connections are still accepted by the kernel, but Redis never answers.
    expected = await warm(app, replay)
    redis_process.pause()
    try:
        started = time.monotonic()
        responses = await data_requests(app)
        elapsed = time.monotonic() - started
        assert_all_ok(responses)
        assert [r.json() for r in responses] == expected
        assert elapsed < 5, elapsed  # a few Redis socket timeouts (0.5 s), not a hang
        async with client(app) as http:
            started = time.monotonic()
            ready = await bounded(http.get("/health/ready"), GUARD)
            assert ready.status_code == 503
            assert ready.json()["checks"]["redis"] == "failing"
            assert time.monotonic() - started < 4
        # Once the first timeouts have tripped the fallbacks, requests are quick again.
        started = time.monotonic()
        assert_all_ok(await data_requests(app))
        assert time.monotonic() - started < 3
    finally:
        redis_process.resume()
    async with client(app) as http:
        deadline = time.monotonic() + 15
        while (await bounded(http.get("/health/ready"), GUARD)).status_code != 200:
            assert time.monotonic() < deadline, "/health/ready stayed 503 with Redis resumed"
            await asyncio.sleep(0.1)


async def test_app_started_without_redis_picks_it_up_later(
    tmp_path: Path, replay: Any, redis_process: RedisProcess
) -> None:
    redis_process.kill()  # Redis is down before the app starts
    async with fault_app(
        tmp_path,
        redis_url=redis_process.url,
        jolpica_url=f"{replay.url}/ergast/f1",
        jolpica_rate="1000/second",
        rate_limit=f"{RATE_LIMIT}/minute",
    ) as app:
        assert_all_ok(await data_requests(app))
        async with client(app) as http:
            assert (await bounded(http.get("/health/ready"), GUARD)).status_code == 503
            redis_process.start()
            deadline = time.monotonic() + 15
            while (await bounded(http.get("/health/ready"), GUARD)).status_code != 200:
                assert time.monotonic() < deadline, "/health/ready stayed 503 with Redis up"
                await asyncio.sleep(0.1)
        deadline = time.monotonic() + 15
        while True:
            assert_all_ok(await data_requests(app))
            before = jolpica_requests(replay)
            assert_all_ok(await data_requests(app))
            if jolpica_requests(replay) == before:
                break
            assert time.monotonic() < deadline, "the cache never used Redis once it came up"
            await asyncio.sleep(0.25)
    assert redis_process.keys("pypole:v1:*")
