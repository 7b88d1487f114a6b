"""The GraphQL response cache end to end: the real app on the replay upstream.

"No work" on a hit is shown three ways: the replay saw no Jolpica request, the app's data
cache saw no read at all (no resolver ran), and the access log says ``response_cache=hit``.
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
from pypole_gql.cache.graphql_keys import ResponseCache
from pypole_gql.cache.responses import ResponseCacheStats
from tests.jolpica_support import Counter, at_most, error_codes, jolpica_fault
from tests.plugins.app import running_app
from tests.plugins.app import test_settings as app_settings
from tests.plugins.clock import FakeClock

SCHEDULE = """
query Schedule($year: Int!) {
  season(year: $year) {
    year
    races { round name date circuit { circuitId name locality country latitude longitude } }
  }
}
"""

RACE = """
query Race($year: Int!, $round: Int!) { race(year: $year, round: $round) { season round name } }
"""


@dataclass
class Harness:
    app: Starlette
    client: httpx.AsyncClient

    @property
    def layer(self) -> ResponseCache:
        layer: ResponseCache = self.app.state.response_cache
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

    async def post(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        operation_name: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        payload: dict[str, Any] = {"query": query, "variables": variables or {}}
        if operation_name is not None:
            payload["operationName"] = operation_name
        response = await self.client.post("/graphql", json=payload, headers=headers)
        assert response.status_code == 200, response.text
        return response


@pytest.fixture(params=["memory", "redis"])
def cache_settings(request: pytest.FixtureRequest) -> dict[str, Any]:
    if request.param == "memory":
        return {"redis_url": ""}
    return {
        "redis_url": request.getfixturevalue("redis_url"),
        "redis_namespace": request.getfixturevalue("redis_cleanup"),
    }


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


def cache_fields(logs: Sequence[Mapping[str, Any]]) -> list[Any]:
    return [e.get("response_cache") for e in logs if e["event"] == "request.completed"]


async def test_a_repeated_anonymous_query_is_answered_from_the_cache(
    harness: Any, replay: Any, cache_settings: dict[str, Any]
) -> None:
    async with harness(**cache_settings) as h:
        with capture_logs() as logs:
            cold = Counter(replay)
            first = await h.post(SCHEDULE, {"year": 2023})
            assert len(cold) > 0
            reads = h.data_reads
            with at_most(replay, 0):
                second = await h.post(SCHEDULE, {"year": 2023})
        assert "errors" not in first.json()
        assert second.content == first.content
        assert h.data_reads == reads  # no resolver asked for anything
        assert (h.responses.hits, h.responses.misses, h.responses.stores) == (1, 1, 1)
        assert cache_fields(logs) == ["miss", "hit"]


async def test_a_hit_has_the_headers_of_a_normal_answer(harness: Any) -> None:
    async with harness() as h:
        first = await h.post(SCHEDULE, {"year": 2023})
        second = await h.post(SCHEDULE, {"year": 2023})
    assert h.responses.hits == 1
    for name in ("content-type", "content-length"):
        assert second.headers[name] == first.headers[name]
    # Still inside the rate limiter and the request context.
    for name in ("ratelimit", "ratelimit-policy", "x-ratelimit-remaining", "x-request-id"):
        assert name in second.headers
    assert second.headers["x-request-id"] != first.headers["x-request-id"]
    assert int(second.headers["x-ratelimit-remaining"]) < int(
        first.headers["x-ratelimit-remaining"]
    )


async def test_redis_entries_are_shared_by_every_instance(
    harness: Any, replay: Any, redis_url: str, redis_cleanup: str
) -> None:
    shared = {"redis_url": redis_url, "redis_namespace": redis_cleanup}
    async with harness(**shared) as h:
        first = await h.post(SCHEDULE, {"year": 2023})
    # Another instance: an empty in-process front, the same Redis.
    async with harness(**shared) as other:
        with at_most(replay, 0):
            second = await other.post(SCHEDULE, {"year": 2023})
        assert other.data_reads == 0
        assert other.responses.hits == 1
    assert second.content == first.content


async def test_spacing_and_comments_do_not_make_another_entry(harness: Any) -> None:
    async with harness() as h:
        await h.post(SCHEDULE, {"year": 2023})
        reformatted = "# the schedule\n" + " ".join(SCHEDULE.split()).replace("{ ", "{")
        await h.post(reformatted, {"year": 2023})
    assert (h.responses.hits, h.responses.stores) == (1, 1)


async def test_different_variables_are_different_entries(harness: Any) -> None:
    async with harness() as h:
        a = await h.post(RACE, {"year": 2023, "round": 1})
        b = await h.post(RACE, {"year": 2023, "round": 2})
        assert a.json()["data"]["race"]["round"] == 1
        assert b.json()["data"]["race"]["round"] == 2
        assert (h.responses.misses, h.responses.stores) == (2, 2)
        # Variables are compared as canonical JSON: key order does not matter.
        again_a = await h.post(RACE, {"round": 1, "year": 2023})
        again_b = await h.post(RACE, {"year": 2023, "round": 2})
        assert (again_a.content, again_b.content) == (a.content, b.content)
        assert h.responses.hits == 2


async def test_get_and_post_share_entries(harness: Any) -> None:
    async with harness() as h:
        posted = await h.post(RACE, {"year": 2023, "round": 3})
        response = await h.client.get(
            "/graphql",
            params={"query": RACE, "variables": '{"year": 2023, "round": 3}'},
            headers={"accept": "application/json"},
        )
    assert response.status_code == 200
    assert response.content == posted.content
    assert h.responses.hits == 1


async def register(h: Harness) -> str:
    mutation = """
    mutation($input: RegisterInput!) { register(input: $input) { accessToken } }
    """
    name = uuid.uuid4().hex[:10]
    response = await h.post(
        mutation,
        {"input": {"email": f"{name}@example.com", "username": name, "password": "x" * 12}},
    )
    token: str = response.json()["data"]["register"]["accessToken"]
    return token


async def test_signed_in_requests_are_never_answered_from_the_cache(harness: Any) -> None:
    async with harness() as h:
        token = await register(h)
        auth = {"authorization": f"Bearer {token}"}
        anonymous = await h.post(SCHEDULE, {"year": 2023})
        reads = h.data_reads
        signed_in = await h.post(SCHEDULE, {"year": 2023}, headers=auth)
        assert h.data_reads > reads  # resolved, not replayed
        assert signed_in.json() == anonymous.json()
        await h.post(SCHEDULE, {"year": 2022}, headers=auth)
        await h.post(SCHEDULE, {"year": 2022}, headers=auth)
    # One anonymous store; every signed-in request went past the cache.
    assert (h.responses.hits, h.responses.stores) == (0, 1)


async def test_mutations_are_never_cached(harness: Any) -> None:
    mutation = """
    mutation($input: RegisterInput!) { register(input: $input) { user { username } } }
    """
    variables = {"input": {"email": "ada@example.com", "username": "ada", "password": "x" * 12}}
    async with harness() as h:
        first = await h.post(mutation, variables)
        second = await h.post(mutation, variables)
    assert first.json()["data"]["register"]["user"]["username"] == "ada"
    assert error_codes(second.json()) == ["CONFLICT"]  # executed again, not replayed
    assert (h.responses.hits, h.responses.misses, h.responses.stores) == (0, 0, 0)


async def test_the_selected_operation_decides_not_the_document(harness: Any) -> None:
    document = """
    query Schedule { season(year: 2023) { year } }
    mutation Register($input: RegisterInput!) { register(input: $input) { user { username } } }
    """
    variables = {"input": {"email": "bob@example.com", "username": "bob", "password": "x" * 12}}
    async with harness() as h:
        for _ in range(2):
            await h.post(document, variables, operation_name="Register")
        assert (h.responses.misses, h.responses.stores) == (0, 0)
        for _ in range(2):
            await h.post(document, operation_name="Schedule")
        # Which of two operations a missing or empty name selects is the view's business;
        # the cache does not guess, so those requests go past it.
        bypasses = h.responses.bypasses
        await h.client.post("/graphql", json={"query": document})
        await h.client.post("/graphql", json={"query": document, "operationName": ""})
        assert h.responses.bypasses == bypasses + 2
    assert (h.responses.hits, h.responses.stores) == (1, 1)


async def test_errors_are_never_cached(harness: Any) -> None:
    async with harness() as h:
        for _ in range(2):
            response = await h.post(SCHEDULE, {"year": 1800})
            assert error_codes(response.json()) == ["BAD_USER_INPUT"]
        assert h.responses.stores == 0
        # Partial data with an error is not kept either.
        query = "query { a: season(year: 2023) { year } b: season(year: 1800) { year } }"
        for _ in range(2):
            response = await h.post(query)
            assert response.json()["data"]["a"] == {"year": 2023}
        assert (h.responses.hits, h.responses.stores) == (0, 0)


async def test_an_upstream_failure_is_not_cached(harness: Any, replay: Any) -> None:
    async with harness() as h:
        with jolpica_fault(replay, status=503):
            failed = await h.post(SCHEDULE, {"year": 2021})
        assert error_codes(failed.json()) == ["UPSTREAM_UNAVAILABLE"]
        recovered = Counter(replay)
        ok = await h.post(SCHEDULE, {"year": 2021})
        assert "errors" not in ok.json()
        assert len(recovered) > 0
    assert (h.responses.hits, h.responses.stores) == (0, 1)


async def test_a_response_expires_with_its_data(
    harness: Any, replay: Any, clock: FakeClock
) -> None:
    async with harness(jolpica_ttl=1, archive_ttl=1) as h:
        started = clock()
        first = await h.post(SCHEDULE, {"year": 2023})
        (entry,) = h.layer.entries()
        assert entry.fresh_until == started + 1
        with at_most(replay, 0):
            await h.post(SCHEDULE, {"year": 2023})
        assert h.responses.hits == 1
        clock.advance(1.05)
        expired = Counter(replay)
        third = await h.post(SCHEDULE, {"year": 2023})
        assert len(expired) > 0  # the data expired too: asked again
        assert third.content == first.content
    assert (h.responses.hits, h.responses.misses, h.responses.stores) == (1, 2, 2)


async def test_an_answer_built_from_stale_data_is_not_cached(
    harness: Any, replay: Any, clock: FakeClock
) -> None:
    async with harness(jolpica_ttl=1, archive_ttl=1) as h:
        await h.post(SCHEDULE, {"year": 2023})
        clock.advance(1.05)
        with jolpica_fault(replay, status=503):
            stale = await h.post(SCHEDULE, {"year": 2023})
            assert "errors" not in stale.json()
            assert h.data.stale_served > 0
            await h.post(SCHEDULE, {"year": 2023})
        assert (h.responses.hits, h.responses.stores) == (0, 1)


async def test_an_answer_that_read_no_data_is_not_cached(harness: Any) -> None:
    async with harness() as h:
        for _ in range(2):
            response = await h.post("query { __typename }")
            assert response.json() == {"data": {"__typename": "Query"}}
    assert (h.responses.misses, h.responses.stores) == (2, 0)


async def test_batches_pass_through(harness: Any) -> None:
    async with harness() as h:
        body = [{"query": "query { __typename }"}, {"query": "query { __typename }"}]
        await h.client.post("/graphql", json=body)
    assert h.responses.bypasses == 1
    assert h.responses.misses == 0


async def test_the_setting_turns_it_off(harness: Any, replay: Any) -> None:
    async with harness(response_cache=False) as h:
        assert h.app.state.response_cache is None
        await h.post(SCHEDULE, {"year": 2023})
        hits = h.data.hits
        with at_most(replay, 0):
            await h.post(SCHEDULE, {"year": 2023})
        assert h.data.hits > hits  # resolved again, from the data cache
