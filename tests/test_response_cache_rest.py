"""The REST shim's response cache end to end: the real app on the replay upstream.

A repeated anonymous ``GET /api/v1/jolpica/...`` is answered with the bytes of the first
answer, without asking the replay or reading the data cache, as the GraphQL response
cache does (tests/graphql/test_response_cache.py).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from structlog.testing import capture_logs

from pypole_gql.cache import CacheStats
from pypole_gql.cache.responses import ResponseCacheStats
from pypole_gql.cache.rest_keys import RestResponseCache
from tests.jolpica_support import Counter, at_most, jolpica_fault
from tests.plugins.app import running_app
from tests.plugins.app import test_settings as app_settings
from tests.plugins.clock import FakeClock

API = "/api/v1/jolpica"


@dataclass
class Harness:
    app: Starlette
    client: httpx.AsyncClient

    @property
    def layer(self) -> RestResponseCache:
        layer: RestResponseCache = self.app.state.rest_response_cache
        return layer

    @property
    def responses(self) -> ResponseCacheStats:
        return self.layer.stats

    @property
    def data(self) -> CacheStats:
        stats: CacheStats = self.app.state.resources.cache.stats
        return stats

    @property
    def data_reads(self) -> int:
        return self.data.hits + self.data.misses


@pytest.fixture
def harness(tmp_path: Path, replay: Any, clock: FakeClock) -> Any:
    @asynccontextmanager
    async def factory(**overrides: Any) -> AsyncIterator[Harness]:
        values: dict[str, Any] = {
            "jolpica_url": f"{replay.url}/ergast/f1",
            "jolpica_rate": "1000/second",
            "redis_namespace": f"pypole-test-{uuid.uuid4().hex[:10]}",
        }
        values.update(overrides)
        async with running_app(app_settings(tmp_path, **values), clock=clock) as app:
            transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
            async with httpx.AsyncClient(
                transport=transport, base_url="http://testserver"
            ) as client:
                yield Harness(app, client)

    return factory


@pytest.fixture(params=["memory", "redis"])
def cache_settings(request: pytest.FixtureRequest) -> dict[str, Any]:
    if request.param == "memory":
        return {"redis_url": ""}
    return {
        "redis_url": request.getfixturevalue("redis_url"),
        "redis_namespace": request.getfixturevalue("redis_cleanup"),
    }


def cache_fields(logs: Sequence[Mapping[str, Any]]) -> list[Any]:
    return [e.get("response_cache") for e in logs if e["event"] == "request.completed"]


async def test_a_repeated_anonymous_get_is_answered_from_the_cache(
    harness: Any, replay: Any, cache_settings: dict[str, Any]
) -> None:
    async with harness(**cache_settings) as h:
        with capture_logs() as logs:
            cold = Counter(replay)
            first = await h.client.get(f"{API}/schedule/2023")
            assert len(cold) > 0
            reads = h.data_reads
            with at_most(replay, 0):
                second = await h.client.get(f"{API}/schedule/2023")
        assert first.status_code == second.status_code == 200
        assert second.content == first.content  # byte for byte
        assert h.data_reads == reads  # no handler asked for anything
        assert (h.responses.hits, h.responses.misses, h.responses.stores) == (1, 1, 1)
        assert cache_fields(logs) == ["miss", "hit"]


async def test_a_hit_has_the_headers_of_a_normal_answer(harness: Any) -> None:
    async with harness() as h:
        first = await h.client.get(f"{API}/schedule/2023")
        second = await h.client.get(f"{API}/schedule/2023")
    assert h.responses.hits == 1
    for name in ("content-type", "content-length"):
        assert second.headers[name] == first.headers[name]
    for name in ("ratelimit", "x-ratelimit-remaining", "x-request-id"):
        assert name in second.headers
    assert second.headers["x-request-id"] != first.headers["x-request-id"]


async def test_with_redis_entries_live_in_redis_only(
    harness: Any, replay: Any, redis_url: str, redis_cleanup: str
) -> None:
    shared = {"redis_url": redis_url, "redis_namespace": redis_cleanup}
    async with harness(**shared) as h:
        first = await h.client.get(f"{API}/schedule/2023")
        assert h.layer.entries() == []  # no in-process copy: Redis decides
    async with harness(**shared) as other:
        with at_most(replay, 0):
            second = await other.client.get(f"{API}/schedule/2023")
        assert other.data_reads == 0
        assert other.responses.hits == 1
    assert second.content == first.content


async def test_query_parameters_are_keyed_by_name_keeping_repeats_in_order(
    harness: Any,
) -> None:
    async with harness() as h:
        a = await h.client.get(f"{API}/standings/drivers?season=2023&round=5")
        b = await h.client.get(f"{API}/standings/drivers?round=5&season=2023")
        assert b.content == a.content
        assert (h.responses.hits, h.responses.stores) == (1, 1)
        # The handler reads the last of repeated values: their order makes another answer.
        late = await h.client.get(f"{API}/schedule?season=2022&season=2023")
        early = await h.client.get(f"{API}/schedule?season=2023&season=2022")
        assert late.json()["season"] == 2023
        assert early.json()["season"] == 2022
        assert h.responses.stores == 3


async def test_errors_are_never_cached(harness: Any, replay: Any) -> None:
    async with harness() as h:
        for _ in range(2):
            assert (await h.client.get(f"{API}/results/2023/30")).status_code == 404
            assert (await h.client.get(f"{API}/results/2023/first")).status_code == 422
        with jolpica_fault(replay, status=503):
            assert (await h.client.get(f"{API}/schedule/2019")).status_code == 503
        assert (await h.client.get(f"{API}/schedule/2019")).status_code == 200
    assert (h.responses.hits, h.responses.stores) == (0, 1)


async def test_signed_in_requests_pass_through(harness: Any) -> None:
    async with harness() as h:
        await h.client.get(f"{API}/schedule/2023")
        reads = h.data_reads
        again = await h.client.get(
            f"{API}/schedule/2023", headers={"authorization": "Bearer not-checked-here"}
        )
        assert again.status_code == 200
        assert h.data_reads > reads  # handled, not replayed
    assert (h.responses.hits, h.responses.bypasses) == (0, 1)


async def test_a_response_expires_with_its_data(
    harness: Any, replay: Any, clock: FakeClock
) -> None:
    async with harness(jolpica_ttl=1, archive_ttl=1) as h:
        started = clock()
        first = await h.client.get(f"{API}/schedule/2023")
        (entry,) = h.layer.entries()
        assert entry.fresh_until == started + 1
        with at_most(replay, 0):
            await h.client.get(f"{API}/schedule/2023")
        clock.advance(1.05)
        expired = Counter(replay)
        third = await h.client.get(f"{API}/schedule/2023")
        assert len(expired) > 0  # the data expired too: asked again
        assert third.content == first.content
    assert (h.responses.hits, h.responses.misses, h.responses.stores) == (1, 2, 2)


async def test_other_routes_are_not_cached(harness: Any) -> None:
    async with harness() as h:
        for _ in range(2):
            assert (await h.client.get("/api/v1/openapi.json")).status_code == 200
    assert (h.responses.hits, h.responses.misses, h.responses.stores) == (0, 0, 0)


async def test_the_setting_turns_it_off(harness: Any, replay: Any) -> None:
    async with harness(response_cache=False) as h:
        assert h.app.state.rest_response_cache is None
        await h.client.get(f"{API}/schedule/2023")
        hits = h.data.hits
        await h.client.get(f"{API}/schedule/2023")
        assert h.data.hits > hits  # handled again, from the data cache
