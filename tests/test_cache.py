"""pypole_gql.cache: get-or-load, single flight, stale-on-error and store failures.

Most scenarios run on both stores (``backend`` is parametrized): the in-process LRU and a
real Redis at ``PYPOLE_TEST_REDIS_URL``. Freshness runs on an injected clock, so TTLs are
tested without sleeping. Each test uses its own key namespace and deletes only its keys.
The outage tests start their own ``redis-server`` on a free port and kill it.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import orjson
import pytest
import redis
import redis.asyncio as aioredis
from structlog.testing import capture_logs

from pypole_gql.cache import Cache, MemoryStore, RedisStore
from pypole_gql.errors import NotFound, UpstreamUnavailable
from pypole_gql.logging import RequestStats, request_stats_var
from pypole_gql.redis_link import RedisLink
from tests.plugins.clock import FakeClock

ROOT = Path(__file__).resolve().parents[1]
REDIS_ENV = "PYPOLE_TEST_REDIS_URL"
REQUIRE_SERVICES = os.environ.get("PYPOLE_TEST_REQUIRE_SERVICES") == "1"
GRACE = 3600
NO_PERSISTENCE = ("--save", "", "--appendonly", "no")
RESULT = "RESULT "


def unavailable(reason: str) -> NoReturn:
    """Skip, or fail when CI requires the services."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (PYPOLE_TEST_REQUIRE_SERVICES=1)", pytrace=False)
    pytest.skip(reason)


class Loader:
    """A loader that counts its calls, optionally slow or failing."""

    def __init__(
        self, value: Any = None, *, delay: float = 0.0, error: BaseException | None = None
    ) -> None:
        self.value = value
        self.delay = delay
        self.error = error
        self.calls = 0
        self.started = asyncio.Event()  # set by the first call

    async def __call__(self) -> Any:
        self.calls += 1
        self.started.set()
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.error is not None:
            raise self.error
        return self.value


class BudgetExceeded(UpstreamUnavailable):
    """Stand-in for the rate budget's error, which subclasses UpstreamUnavailable."""

    code = "UPSTREAM_BUDGET_EXCEEDED"


# -- fixtures ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def cache_redis_url() -> str:
    url = os.environ.get(REDIS_ENV)
    if not url:
        unavailable(f"{REDIS_ENV} is not set: Redis cache tests skipped")
    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        unavailable(f"Redis at {REDIS_ENV} is unreachable: {exc}")
    finally:
        client.close()
    return url


@pytest.fixture
def namespace() -> str:
    return f"pypoletest-{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def raw_redis(cache_redis_url: str, namespace: str) -> AsyncIterator[aioredis.Redis]:
    """A plain client on the test Redis; deletes this test's keys (values and locks) after."""
    client = aioredis.Redis.from_url(cache_redis_url)
    yield client
    keys = [k async for k in client.scan_iter(match=f"{namespace}*", count=500)]
    if keys:
        await client.delete(*keys)
    await client.aclose()


@pytest.fixture(params=["memory", "redis"])
def backend(request: pytest.FixtureRequest) -> str | None:
    """The store URL for ``Cache.create``: None for the in-process store."""
    if request.param == "memory":
        return None
    request.getfixturevalue("raw_redis")  # key clean-up after the test
    url: str = request.getfixturevalue("cache_redis_url")
    return url


@pytest.fixture
async def cache(backend: str | None, namespace: str, clock: FakeClock) -> AsyncIterator[Cache]:
    cache = await Cache.create(backend, namespace=namespace, stale_grace=GRACE, clock=clock)
    yield cache
    await cache.close()


def events(logs: Sequence[Mapping[str, Any]], name: str) -> list[Mapping[str, Any]]:
    return [entry for entry in logs if entry["event"] == name]


# -- hit, miss, TTL ---------------------------------------------------------------------


async def test_miss_then_hit(cache: Cache) -> None:
    loader = Loader([{"round": 1, "name": "Bahrain"}])

    first = await cache.get_or_load("jolpica:schedule:2023", loader, ttl=60)
    second = await cache.get_or_load("jolpica:schedule:2023", loader, ttl=60)

    assert first == second == [{"round": 1, "name": "Bahrain"}]
    assert loader.calls == 1
    assert (cache.stats.misses, cache.stats.hits, cache.stats.loads) == (1, 1, 1)


async def test_hits_and_misses_reach_the_request_counters(cache: Cache) -> None:
    stats = RequestStats()
    token = request_stats_var.set(stats)
    try:
        await cache.get_or_load("k", Loader(1), ttl=60)
        await cache.get_or_load("k", Loader(1), ttl=60)
    finally:
        request_stats_var.reset(token)

    assert (stats.cache_misses, stats.cache_hits) == (1, 1)


async def test_expired_value_is_reloaded(cache: Cache, clock: FakeClock) -> None:
    loader = Loader("v")
    await cache.get_or_load("k", loader, ttl=60)

    clock.advance(61)
    await cache.get_or_load("k", loader, ttl=60)

    assert loader.calls == 2


async def test_ttl_is_per_call(cache: Cache, clock: FakeClock) -> None:
    short, long = Loader("s"), Loader("l")
    await cache.get_or_load("short", short, ttl=10)
    await cache.get_or_load("long", long, ttl=100)

    clock.advance(50)
    await cache.get_or_load("short", short, ttl=10)
    await cache.get_or_load("long", long, ttl=100)

    assert (short.calls, long.calls) == (2, 1)


async def test_ttl_zero_loads_every_time(cache: Cache) -> None:
    loader = Loader("v")
    await cache.get_or_load("k", loader, ttl=0)
    await cache.get_or_load("k", loader, ttl=0)

    assert loader.calls == 2


async def test_negative_ttl_is_refused(cache: Cache) -> None:
    with pytest.raises(ValueError, match="ttl"):
        await cache.get_or_load("k", Loader(1), ttl=-1)


@pytest.mark.parametrize("empty", [[], {}, None, "", 0], ids=repr)
async def test_empty_value_is_cached(cache: Cache, empty: Any) -> None:
    loader = Loader(empty)

    assert await cache.get_or_load("jolpica:results:1950:99", loader, ttl=60) == empty
    assert await cache.get_or_load("jolpica:results:1950:99", loader, ttl=60) == empty
    assert loader.calls == 1
    assert cache.stats.hits == 1


# -- keys -------------------------------------------------------------------------------


async def test_key_is_namespaced_and_versioned(cache: Cache, namespace: str) -> None:
    await cache.get_or_load("jolpica:standings:drivers:2023", Loader([1]), ttl=60)

    assert await cache.store.read(f"{namespace}:v1:jolpica:standings:drivers:2023") is not None
    assert await cache.store.read("jolpica:standings:drivers:2023") is None


async def test_other_version_does_not_see_entries(
    cache: Cache, namespace: str, clock: FakeClock
) -> None:
    await cache.get_or_load("k", Loader("old"), ttl=60)
    v2 = Cache(cache.store, namespace=namespace, version="v2", clock=clock)

    assert await v2.get_or_load("k", Loader("new"), ttl=60) == "new"
    assert await cache.get_or_load("k", Loader("unused"), ttl=60) == "old"


async def test_other_namespace_does_not_see_entries(
    cache: Cache, namespace: str, clock: FakeClock
) -> None:
    await cache.get_or_load("k", Loader("mine"), ttl=60)
    other = Cache(cache.store, namespace=f"{namespace}x", clock=clock)

    assert await other.get_or_load("k", Loader("theirs"), ttl=60) == "theirs"


@pytest.mark.parametrize(
    ("namespace_", "version"), [("a:b", "v1"), ("pypole", "v 1"), ("", "v1"), ("p", "")]
)
def test_bad_namespace_or_version_is_refused(namespace_: str, version: str) -> None:
    with pytest.raises(ValueError):
        Cache(MemoryStore(), namespace=namespace_, version=version)


async def test_empty_key_is_refused(cache: Cache) -> None:
    with pytest.raises(ValueError, match="key"):
        await cache.get_or_load("", Loader(1), ttl=60)


# -- get, invalidate, codecs --------------------------------------------------------------


async def test_get_returns_fresh_values_only(cache: Cache, clock: FakeClock) -> None:
    assert await cache.get("k") is None
    await cache.get_or_load("k", Loader({"a": 1}), ttl=60)
    assert await cache.get("k") == {"a": 1}

    clock.advance(61)
    assert await cache.get("k") is None


async def test_get_returns_cached_empty_value(cache: Cache) -> None:
    await cache.get_or_load("k", Loader([]), ttl=60)

    assert await cache.get("k") == []


async def test_invalidate_drops_the_entry(cache: Cache) -> None:
    loader = Loader("v")
    await cache.get_or_load("k", loader, ttl=60)

    await cache.invalidate("k")
    await cache.get_or_load("k", loader, ttl=60)

    assert loader.calls == 2


@dataclass(frozen=True)
class Race:
    season: int
    round: int
    name: str


def encode_races(races: list[Race]) -> bytes:
    return orjson.dumps(races)


def decode_races(data: bytes) -> list[Race]:
    return [Race(**item) for item in orjson.loads(data)]


async def test_custom_codec_round_trips_dataclasses(cache: Cache) -> None:
    races = [Race(2023, 1, "Bahrain"), Race(2023, 2, "Saudi Arabia")]
    loader = Loader(races)

    loaded = await cache.get_or_load("r", loader, ttl=60, encode=encode_races, decode=decode_races)
    cached = await cache.get_or_load("r", loader, ttl=60, encode=encode_races, decode=decode_races)

    assert loaded == cached == races
    assert loader.calls == 1


async def test_miss_returns_what_a_hit_returns(cache: Cache) -> None:
    # A tuple comes back from the store as a list; the first caller must see the same.
    loader = Loader((1, 2))

    assert await cache.get_or_load("k", loader, ttl=60) == [1, 2]
    assert await cache.get_or_load("k", loader, ttl=60) == [1, 2]


@pytest.mark.parametrize("size", [50_000, 3_000_000], ids=["50kB", "3MB"])
async def test_compressed_value_round_trips(cache: Cache, namespace: str, size: int) -> None:
    laps = [
        {"lap": i % 70, "driver": "VER", "time_ms": 90_000 + i % 977} for i in range(size // 45)
    ]
    raw_size = len(orjson.dumps(laps))
    loader = Loader(laps)

    assert await cache.get_or_load("fastf1:laps", loader, ttl=60, compress=True) == laps
    assert await cache.get_or_load("fastf1:laps", loader, ttl=60, compress=True) == laps
    stored = await cache.store.read(f"{namespace}:v1:fastf1:laps")

    assert loader.calls == 1
    assert stored is not None and len(stored) < raw_size / 5


async def test_compression_is_read_from_the_entry(cache: Cache) -> None:
    await cache.get_or_load("k", Loader({"x": "y" * 1000}), ttl=60, compress=True)

    assert await cache.get_or_load("k", Loader(None), ttl=60) == {"x": "y" * 1000}


async def test_corrupt_entry_is_a_miss(cache: Cache, namespace: str) -> None:
    await cache.store.write(f"{namespace}:v1:k", b"garbage", 60_000)
    loader = Loader("v")

    with capture_logs() as logs:
        assert await cache.get_or_load("k", loader, ttl=60) == "v"

    assert loader.calls == 1
    assert events(logs, "cache.corrupt_entry")


async def test_undecodable_entry_is_replaced(cache: Cache) -> None:
    # Written in an older shape (a list of lists) under the same version.
    await cache.get_or_load("r", Loader([[2023, 1, "Bahrain"]]), ttl=60)
    loader = Loader([Race(2023, 1, "Bahrain")])

    with capture_logs() as logs:
        first = await cache.get_or_load(
            "r", loader, ttl=60, encode=encode_races, decode=decode_races
        )
    second = await cache.get_or_load("r", loader, ttl=60, encode=encode_races, decode=decode_races)

    assert first == second == [Race(2023, 1, "Bahrain")]
    assert loader.calls == 1
    assert events(logs, "cache.decode_error")


async def test_default_codec_refuses_dataclasses(cache: Cache) -> None:
    # They would come back as dicts on a hit; a domain codec is required.
    with pytest.raises(TypeError):
        await cache.get_or_load("r", Loader([Race(2023, 1, "Bahrain")]), ttl=60)
    assert await cache.get("r") is None


# -- single flight in one process ------------------------------------------------------


async def test_concurrent_misses_make_one_loader_call(cache: Cache) -> None:
    loader = Loader({"season": 2023}, delay=0.1)

    results = await asyncio.gather(*(cache.get_or_load("k", loader, ttl=60) for _ in range(50)))

    assert loader.calls == 1
    assert results == [{"season": 2023}] * 50
    assert cache.stats.loads == 1


async def test_concurrent_misses_share_the_error(cache: Cache) -> None:
    error = NotFound("No such season")
    loader = Loader(delay=0.1, error=error)

    results = await asyncio.gather(
        *(cache.get_or_load("k", loader, ttl=60) for _ in range(50)), return_exceptions=True
    )

    assert loader.calls == 1
    assert all(result is error for result in results)
    assert cache.stats.load_errors == 1


async def test_errors_are_not_cached(cache: Cache) -> None:
    loader = Loader(error=NotFound())
    with pytest.raises(NotFound):
        await cache.get_or_load("k", loader, ttl=60)

    loader.error = None
    loader.value = "found"

    assert await cache.get_or_load("k", loader, ttl=60) == "found"
    assert loader.calls == 2


async def test_cancelled_caller_does_not_cancel_the_load(cache: Cache) -> None:
    started, release = asyncio.Event(), asyncio.Event()
    calls = 0

    async def loader() -> str:
        nonlocal calls
        calls += 1
        started.set()
        await release.wait()
        return "v"

    first = asyncio.create_task(cache.get_or_load("k", loader, ttl=60))
    await started.wait()
    second = asyncio.create_task(cache.get_or_load("k", loader, ttl=60))
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    # The load outlives its first caller: the second one (whether it joined before the
    # cancel or after) gets its value, and nobody loaded twice.
    release.set()

    assert await second == "v"
    assert calls == 1


# -- stale on error ---------------------------------------------------------------------


async def test_stale_value_served_when_upstream_unavailable(cache: Cache, clock: FakeClock) -> None:
    await cache.get_or_load("jolpica:schedule:2024", Loader(["old"]), ttl=60)
    clock.advance(100)
    loader = Loader(error=UpstreamUnavailable())

    with capture_logs() as logs:
        value = await cache.get_or_load("jolpica:schedule:2024", loader, ttl=60)

    assert value == ["old"]
    assert loader.calls == 1
    assert cache.stats.stale_served == 1
    [served] = events(logs, "cache.stale_served")
    assert served["key"] == "jolpica:schedule:2024"
    assert served["age"] == pytest.approx(100)
    assert served["expired_for"] == pytest.approx(40)
    assert served["error"] == "UPSTREAM_UNAVAILABLE"


async def test_stale_value_served_when_budget_exceeded(cache: Cache, clock: FakeClock) -> None:
    await cache.get_or_load("k", Loader("old"), ttl=60)
    clock.advance(61)

    assert await cache.get_or_load("k", Loader(error=BudgetExceeded()), ttl=60) == "old"


async def test_stale_value_not_served_for_not_found(cache: Cache, clock: FakeClock) -> None:
    await cache.get_or_load("k", Loader("old"), ttl=60)
    clock.advance(61)

    with pytest.raises(NotFound):
        await cache.get_or_load("k", Loader(error=NotFound()), ttl=60)
    assert cache.stats.stale_served == 0


async def test_stale_value_not_served_for_unexpected_error(cache: Cache, clock: FakeClock) -> None:
    await cache.get_or_load("k", Loader("old"), ttl=60)
    clock.advance(61)

    with pytest.raises(RuntimeError):
        await cache.get_or_load("k", Loader(error=RuntimeError("bug")), ttl=60)


async def test_stale_value_not_served_after_grace(cache: Cache, clock: FakeClock) -> None:
    await cache.get_or_load("k", Loader("old"), ttl=60)
    clock.advance(60 + GRACE + 1)

    with pytest.raises(UpstreamUnavailable):
        await cache.get_or_load("k", Loader(error=UpstreamUnavailable()), ttl=60)


async def test_upstream_error_propagates_without_a_held_value(cache: Cache) -> None:
    error = UpstreamUnavailable()

    with pytest.raises(UpstreamUnavailable) as raised:
        await cache.get_or_load("k", Loader(error=error), ttl=60)
    assert raised.value is error


async def test_fresh_value_stored_once_upstream_recovers(cache: Cache, clock: FakeClock) -> None:
    await cache.get_or_load("k", Loader("old"), ttl=60)
    clock.advance(61)
    await cache.get_or_load("k", Loader(error=UpstreamUnavailable()), ttl=60)

    assert await cache.get_or_load("k", Loader("new"), ttl=60) == "new"
    assert await cache.get("k") == "new"


# -- the in-process store's bound ---------------------------------------------------------


async def test_memory_store_stays_within_its_byte_budget(namespace: str) -> None:
    cache = await Cache.create(None, namespace=namespace, memory_max_bytes=64 * 1024)
    store = cache.store
    assert isinstance(store, MemoryStore)

    for i in range(100):
        await cache.get_or_load(f"k{i}", Loader("x" * 4000), ttl=60)

    assert store.size_bytes <= 64 * 1024
    assert 0 < len(store) < 100
    assert await cache.get("k99") == "x" * 4000
    assert await cache.get("k0") is None


async def test_memory_store_evicts_least_recently_read() -> None:
    store = MemoryStore(max_bytes=10_000, max_entries=2)
    await store.write("a", b"1", 60_000)
    await store.write("b", b"2", 60_000)
    await store.read("a")

    await store.write("c", b"3", 60_000)

    assert store.keys() == ["a", "c"]
    assert store.evictions == 1


async def test_memory_store_skips_a_value_larger_than_its_budget() -> None:
    store = MemoryStore(max_bytes=1000)
    await store.write("small", b"s", 60_000)

    with capture_logs() as logs:
        await store.write("big", b"b" * 2000, 60_000)

    assert store.keys() == ["small"]
    assert events(logs, "cache.value_too_large")


async def test_memory_store_drops_entries_after_ttl_and_grace(clock: FakeClock) -> None:
    store = MemoryStore(clock=clock)
    cache = Cache(store, stale_grace=100, clock=clock)
    await cache.get_or_load("k", Loader("v"), ttl=10)

    clock.advance(111)

    assert await store.read("pypole:v1:k") is None
    assert len(store) == 0


# -- single flight across instances and processes (Redis) ---------------------------------


async def test_two_instances_make_one_loader_call(
    cache_redis_url: str, raw_redis: aioredis.Redis, namespace: str
) -> None:
    a = await Cache.create(cache_redis_url, namespace=namespace)
    b = await Cache.create(cache_redis_url, namespace=namespace)
    loader = Loader({"v": 1}, delay=0.3)
    try:
        results = await asyncio.gather(*(c.get_or_load("k", loader, ttl=60) for c in [a, b] * 25))
    finally:
        await a.close()
        await b.close()

    assert loader.calls == 1
    assert results == [{"v": 1}] * 50


async def _worker_main(redis_url: str, namespace: str, tag: str) -> None:
    """A second process for the cross-process test: wait for 'go', then get-or-load 'k'."""
    client = aioredis.Redis.from_url(redis_url)
    cache = await Cache.create(redis_url, namespace=namespace)

    async def loader() -> dict[str, str]:
        await client.incr(f"{namespace}:test:loads")
        await asyncio.sleep(1.0)
        return {"loaded_by": tag}

    await client.incr(f"{namespace}:test:ready")
    while not await client.exists(f"{namespace}:test:go"):
        await asyncio.sleep(0.01)
    value = await cache.get_or_load("k", loader, ttl=60)
    # stdout also carries the default structlog output: mark the line that is the answer.
    print(RESULT + orjson.dumps(value).decode())
    await cache.close()
    await client.aclose()


def result_of(stdout: str) -> Any:
    [line] = [line for line in stdout.splitlines() if line.startswith(RESULT)]
    return orjson.loads(line.removeprefix(RESULT))


async def test_processes_sharing_redis_make_one_loader_call(
    cache_redis_url: str, raw_redis: aioredis.Redis, namespace: str
) -> None:
    script = "import asyncio, sys; from tests.test_cache import _worker_main; "
    script += "asyncio.run(_worker_main(*sys.argv[1:]))"
    workers = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            script,
            cache_redis_url,
            namespace,
            f"worker{i}",
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for i in range(3)
    ]
    local = await Cache.create(cache_redis_url, namespace=namespace)

    async def loader() -> dict[str, str]:
        await raw_redis.incr(f"{namespace}:test:loads")
        await asyncio.sleep(1.0)
        return {"loaded_by": "pytest"}

    try:
        async with asyncio.timeout(60):
            while int(await raw_redis.get(f"{namespace}:test:ready") or 0) < len(workers):
                await asyncio.sleep(0.05)
        await raw_redis.set(f"{namespace}:test:go", 1)
        local_value = await local.get_or_load("k", loader, ttl=60)
        outputs = [await worker.communicate() for worker in workers]
    finally:
        await local.close()
        for worker in workers:
            if worker.returncode is None:
                worker.kill()
                await worker.wait()

    for worker, (_, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, err.decode()
    values = [local_value] + [result_of(out.decode()) for out, _ in outputs]
    assert int(await raw_redis.get(f"{namespace}:test:loads") or 0) == 1
    assert all(value == values[0] for value in values)


async def test_waits_for_a_dead_lock_holder_then_loads(
    cache_redis_url: str, raw_redis: aioredis.Redis, namespace: str
) -> None:
    # A holder that died: its lock is never released and only expires (Redis's own expiry,
    # real time: 0.3 s).
    lock = f"{namespace}-lock:v1:k"
    await raw_redis.set(lock, "dead-token", px=300)
    cache = await Cache.create(cache_redis_url, namespace=namespace, lock_wait=30)
    held_at_load: list[object] = []

    async def loader() -> str:
        held_at_load.append(await raw_redis.get(lock))
        return "v"

    try:
        with capture_logs() as logs:
            assert await cache.get_or_load("k", loader, ttl=60) == "v"
    finally:
        await cache.close()

    # Loaded once, after the dead holder's lock was gone (the lock then held is the
    # cache's own), and because it was gone: not because the wait bound ran out.
    assert len(held_at_load) == 1
    assert held_at_load[0] not in (None, b"dead-token")
    assert not events(logs, "cache.lock_wait_exceeded")


async def test_loads_itself_after_the_lock_wait_bound(
    cache_redis_url: str, raw_redis: aioredis.Redis, namespace: str
) -> None:
    await raw_redis.set(f"{namespace}-lock:v1:k", "stuck-token", px=60_000)
    cache = await Cache.create(cache_redis_url, namespace=namespace, lock_wait=0.3)
    try:
        with capture_logs() as logs:
            assert await cache.get_or_load("k", Loader("v"), ttl=60) == "v"
    finally:
        await cache.close()

    # Loaded because the wait bound ran out (the stuck lock lives a minute longer).
    (exceeded,) = events(logs, "cache.lock_wait_exceeded")
    assert exceeded["waited"] == 0.3
    # Not ours: left for its holder (or its expiry).
    assert await raw_redis.get(f"{namespace}-lock:v1:k") == b"stuck-token"


async def test_lock_is_kept_alive_during_a_long_load(
    cache_redis_url: str, raw_redis: aioredis.Redis, namespace: str
) -> None:
    a = await Cache.create(cache_redis_url, namespace=namespace, lock_ttl=0.3)
    b = await Cache.create(cache_redis_url, namespace=namespace, lock_ttl=0.3)
    loader = Loader("v", delay=1.2)
    try:
        first = asyncio.create_task(a.get_or_load("k", loader, ttl=60))
        await loader.started.wait()  # a holds the lock and is loading
        second = await b.get_or_load("k", loader, ttl=60)
        assert await first == second == "v"
    finally:
        await a.close()
        await b.close()

    assert loader.calls == 1


@pytest.mark.parametrize("error", [None, NotFound()], ids=["loaded", "failed"])
async def test_lock_is_released_after_the_load(
    cache_redis_url: str, raw_redis: aioredis.Redis, namespace: str, error: Exception | None
) -> None:
    cache = await Cache.create(cache_redis_url, namespace=namespace)
    try:
        await cache.get_or_load("k", Loader("v", error=error), ttl=60)
    except NotFound:
        pass
    finally:
        await cache.close()

    assert not await raw_redis.exists(f"{namespace}-lock:v1:k")


async def test_lock_is_released_only_with_its_token(
    cache_redis_url: str, raw_redis: aioredis.Redis, namespace: str
) -> None:
    store = RedisStore.from_url(cache_redis_url)
    lock = f"{namespace}-lock:v1:k"
    try:
        assert await store.try_lock(lock, "mine", 5000)
        assert not await store.try_lock(lock, "theirs", 5000)
        await store.unlock(lock, "theirs")
        assert await raw_redis.get(lock) == b"mine"
        assert not await store.refresh_lock(lock, "theirs", 5000)

        await store.unlock(lock, "mine")
        assert not await raw_redis.exists(lock)
    finally:
        await store.close()


# -- Redis failing ----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class OwnRedis:
    """A redis-server subprocess of this test, on a fixed port, that can be killed."""

    def __init__(self, binary: str, port: int) -> None:
        self.binary = binary
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", *NO_PERSISTENCE],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 10
        try:
            while True:
                try:
                    client.ping()
                    return
                except redis.ConnectionError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
        finally:
            client.close()

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None


@pytest.fixture
def own_redis() -> Iterator[OwnRedis]:
    binary = shutil.which("redis-server")
    if binary is None:
        unavailable("redis-server is not on PATH: Redis outage test skipped")
    server = OwnRedis(binary, free_port())
    server.start()
    yield server
    server.kill()


async def test_redis_killed_mid_run_falls_back_to_the_loader_and_recovers(
    own_redis: OwnRedis, namespace: str, clock: FakeClock
) -> None:
    # The breaker's cool-down (1 s, doubling) runs on the fake clock: moved, not waited for.
    link = RedisLink.from_url(own_redis.url, clock=clock)
    cache = await Cache.create(own_redis.url, namespace=namespace, redis=link)
    loader = Loader({"standings": []})
    try:
        with capture_logs() as logs:
            await cache.get_or_load("k", loader, ttl=60)
            await cache.get_or_load("k", loader, ttl=60)
            assert loader.calls == 1

            own_redis.kill()
            for _ in range(20):
                assert await cache.get_or_load("k", loader, ttl=60) == {"standings": []}
                clock.advance(0.25)  # 5 s in all: probes at 1, 3 (after 1 + 2) s
            assert loader.calls == 21
            assert not await cache.ping()
            down_errors = cache.stats.store_errors

            own_redis.start()
            clock.advance(link.breaker.retry_in)  # to the next probe
            await cache.get_or_load("k", loader, ttl=60)  # empty Redis: one more load
            await cache.get_or_load("k", loader, ttl=60)
            hits_after = cache.stats.hits
    finally:
        await cache.close()
        await link.close()

    assert loader.calls == 22
    assert hits_after == 2
    assert cache.stats.store_errors == down_errors
    assert down_errors == 3  # the first failure, then the probes at 1 s and at 3 s
    # One line for the whole outage, not one per failed call.
    assert len(events(logs, "redis.degraded")) == 1
    assert len(events(logs, "redis.recovered")) == 1


async def test_unresponsive_redis_costs_one_timeout(namespace: str) -> None:
    # Accepts connections and never answers: every command would wait for its timeout.
    peers: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peers.append(writer)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    loader = Loader("v")
    cache = await Cache.create(
        f"redis://127.0.0.1:{port}/0",
        namespace=namespace,
        socket_timeout=0.3,
        connect_timeout=0.3,
        breaker_cooldown=30,
    )
    try:
        started = time.monotonic()
        for _ in range(20):
            assert await cache.get_or_load("k", loader, ttl=60) == "v"
        elapsed = time.monotonic() - started
    finally:
        await cache.close()
        for peer in peers:
            peer.close()
        server.close()
        await server.wait_closed()

    assert loader.calls == 20
    assert cache.stats.store_errors == 1
    assert elapsed < 1.5


async def test_unreachable_redis_at_startup_does_not_fail_requests(namespace: str) -> None:
    with capture_logs() as logs:
        cache = await Cache.create(f"redis://127.0.0.1:{free_port()}/0", namespace=namespace)
    try:
        assert not await cache.ping()
        assert await cache.get_or_load("k", Loader("v"), ttl=60) == "v"
    finally:
        await cache.close()

    assert events(logs, "cache.store_unreachable")


async def test_ping_is_true_when_the_store_answers(cache: Cache) -> None:
    assert await cache.ping()
