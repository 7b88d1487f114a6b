"""``python -m bench.limiter``: the rate limiter's own moving window against ``limits.aio``'s.

What one request costs the limiter (charge one policy and read what the headers need: the
remaining count and when the window moves), in process and on Redis, one request at a time
and 32 at once. Issue 14 asks for this figure before the hand-rolled window is kept or
dropped for ``limits.aio``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter

from pypole_gql.ratelimit import RateLimiter

Charge = Callable[[int], Awaitable[object]]
#: Seconds a Redis call may take before the own window falls back (the app's is 0.25).
TIMEOUT = 2.0


def _client(n: int) -> str:
    """Requests spread over 4000 clients, so a realistic limit refuses none of them."""
    return f"198.18.{n % 4000 // 250}.{n % 250 + 1}"


def _own(limit: str, redis_url: str, prefix: str) -> tuple[Charge, Callable[[], Awaitable[None]]]:
    limiter = RateLimiter(
        rate_limit=limit,
        auth_rate_limit="10/minute",
        redis_url=redis_url,
        key_prefix=prefix,
        redis_timeout=TIMEOUT,
    )

    async def charge(n: int) -> object:
        scope = {"type": "http", "client": (_client(n), 1), "headers": []}
        return await limiter.hit(scope)

    async def close() -> None:
        if redis_url and not limiter.shared:
            print(f"(own window fell back to memory: Redis slower than {TIMEOUT} s)")
        await limiter.close()

    return charge, close


def _limits(
    limit: str, redis_url: str, prefix: str
) -> tuple[Charge, Callable[[], Awaitable[None]]]:
    storage = (
        RedisStorage(f"async+{redis_url}", implementation="redispy", key_prefix=prefix)
        if redis_url
        else MemoryStorage()
    )
    strategy = MovingWindowRateLimiter(storage)
    item: RateLimitItem = parse(limit)

    async def charge(n: int) -> object:
        client = _client(n)
        allowed = await strategy.hit(item, "api", client)
        stats = await strategy.get_window_stats(item, "api", client)
        return allowed, stats

    async def close() -> None:
        await storage.reset()

    return charge, close


async def _measure(charge: Charge, requests: int, concurrency: int) -> tuple[float, float]:
    """Requests per second and the median microseconds of one request."""
    for n in range(200):  # warm: connections, scripts loaded
        await charge(n)
    latencies: list[float] = []
    queue = iter(range(requests))

    async def worker() -> None:
        for n in queue:
            started = time.perf_counter()
            await charge(n)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return requests / elapsed, statistics.median(latencies) * 1e6


async def main(redis_url: str, requests: int, limit: str) -> None:
    print(f"PYPOLE_RATE_LIMIT={limit}, {requests} requests")
    print("| store | window | concurrency | req/s | p50 us |")
    print("|---|---|---:|---:|---:|")
    for store, url in (("memory", ""), ("redis", redis_url)):
        for name, build in (("own", _own), ("limits.aio", _limits)):
            for concurrency in (1, 32):
                prefix = f"pypole-bench-limiter-{uuid.uuid4().hex[:8]}"
                charge, close = build(limit, url, prefix)
                try:
                    rps, p50 = await _measure(charge, requests, concurrency)
                finally:
                    await close()
                print(f"| {store} | {name} | {concurrency} | {rps:.0f} | {p50:.0f} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument(
        "--limit", default="300/minute", help="the policy charged (the prod default)"
    )
    args = parser.parse_args()
    asyncio.run(main(args.redis_url, args.requests, args.limit))
