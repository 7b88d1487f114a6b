"""The cache-hit front (``pypole_gql.front``) answers as the whole stack does.

Each test runs the real app twice on the replay upstream, once with the front and once
without it (``create_app(front=False)``: the middleware chain answers every hit), on one
fake clock so both keep their entries until the same moment, and compares what a client
sees: status, body, every header in order (the rate-limit reset, a Unix time, only to the
second), and the access-log line. That the front answered is read from its own counter.
"""

from __future__ import annotations

import hashlib
import json
import re
import urllib.parse
import uuid
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import structlog
from starlette.applications import Starlette

from pypole_gql.app import create_app
from pypole_gql.db.migrate import upgrade_async
from pypole_gql.front import CacheHitFront
from pypole_gql.graphql.persisted import PersistedQueries
from tests.plugins.app import test_settings as app_settings
from tests.plugins.clock import FakeClock
from tests.test_logging import captured_logs
from tests.test_logging import json_lines as logged_lines

SCHEDULE = "query Schedule($year: Int) { season(year: $year) { year races { round name date } } }"
VARIABLES = {"year": 2023}
ORIGIN = "https://dash.example"
REQUEST_ID = "front-test-1"


@dataclass
class Side:
    """One running app and a client of it."""

    app: Starlette
    client: httpx.AsyncClient

    @property
    def front(self) -> CacheHitFront | None:
        front = getattr(self.app.state, "front", None)
        return front if isinstance(front, CacheHitFront) else None

    @property
    def answered(self) -> int:
        return 0 if self.front is None else self.front.answered


Factory = Callable[..., AbstractAsyncContextManager[Side]]


@pytest.fixture
def side(tmp_path: Path, replay: Any) -> Factory:
    clock = FakeClock()

    @asynccontextmanager
    async def factory(*, front: bool, **overrides: Any) -> AsyncIterator[Side]:
        folder = tmp_path / ("front" if front else "stack")
        folder.mkdir(exist_ok=True)
        values: dict[str, Any] = {
            "jolpica_url": f"{replay.url}/ergast/f1",
            "jolpica_rate": "1000/second",
            "cors_origins": [ORIGIN],
        }
        values.update(overrides)
        settings = app_settings(folder, **values)
        await upgrade_async(settings.database_url)
        app = create_app(settings, configure_logs=False, clock=clock, front=front)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                yield Side(app, client)

    return factory


@dataclass(frozen=True)
class Ask:
    """A request, sent the same way to both sides."""

    method: str
    url: str
    body: bytes | None = None
    headers: tuple[tuple[str, str], ...] = ()

    async def send(self, side: Side, *extra: tuple[str, str]) -> httpx.Response:
        headers = [*self.headers, *extra]
        if self.body is not None:
            headers.append(("content-type", "application/json"))
        return await side.client.request(self.method, self.url, content=self.body, headers=headers)


def graphql_get(query: str = SCHEDULE) -> Ask:
    params = {"query": query, "variables": json.dumps(VARIABLES)}
    return Ask("GET", "/graphql?" + urllib.parse.urlencode(params))


def graphql_post(query: str = SCHEDULE) -> Ask:
    return Ask("POST", "/graphql", orjson.dumps({"query": query, "variables": VARIABLES}))


REST = Ask("GET", "/api/v1/jolpica/schedule/2023")


def comparable(response: httpx.Response) -> list[tuple[str, str]]:
    """Every header in order; the rate limit's reset (a Unix time) to the second is left
    out, as two apps charged a moment apart may differ there."""
    return [
        (name, value)
        for name, value in response.headers.multi_items()
        if name != "x-ratelimit-reset"
    ]


async def twice(ask: Ask, side: Side, *extra: tuple[str, str]) -> httpx.Response:
    """A miss (kept), then the same request again: the hit."""
    first = await ask.send(side, *extra)
    assert first.status_code == 200 and b'"errors"' not in first.content, first.text
    return await ask.send(side, *extra)


@pytest.mark.parametrize(
    "ask",
    [graphql_get(), graphql_post(), REST],
    ids=["graphql-get", "graphql-post", "rest"],
)
async def test_a_hit_is_the_stacks_answer(side: Factory, ask: Ask) -> None:
    extra = (("x-request-id", REQUEST_ID),)
    async with side(front=True) as front, side(front=False) as stack:
        ours = await twice(ask, front, *extra)
        theirs = await twice(ask, stack, *extra)
        assert front.answered == 1
        assert stack.front is None
    assert ours.status_code == theirs.status_code == 200
    assert ours.content == theirs.content
    assert comparable(ours) == comparable(theirs)
    assert ours.headers["x-request-id"] == REQUEST_ID
    assert ours.headers["etag"]
    expected = "no-store" if ask.method == "POST" else "public, max-age="
    assert ours.headers["cache-control"].startswith(expected)
    assert int(ours.headers["x-ratelimit-reset"]) - int(theirs.headers["x-ratelimit-reset"]) in (
        -1,
        0,
        1,
    )


async def test_a_304_is_the_stacks_answer(side: Factory) -> None:
    ask = graphql_get()
    async with side(front=True) as front, side(front=False) as stack:
        answers = []
        for one in (front, stack):
            kept = await twice(ask, one)
            answers.append(await ask.send(one, ("if-none-match", kept.headers["etag"])))
        assert front.answered == 2
    ours, theirs = answers
    assert ours.status_code == theirs.status_code == 304
    assert ours.content == theirs.content == b""
    # Request ids are new on each side.
    assert [h for h in comparable(ours) if h[0] != "x-request-id"] == [
        h for h in comparable(theirs) if h[0] != "x-request-id"
    ]
    assert re.fullmatch(r"[0-9a-f]{32}", ours.headers["x-request-id"])


async def test_cors_headers_on_a_hit_for_an_allowed_origin_and_not_for_others(
    side: Factory,
) -> None:
    ask = graphql_get()
    async with side(front=True) as front, side(front=False) as stack:
        for origin in (ORIGIN, "https://elsewhere.example"):
            extra = (("origin", origin), ("x-request-id", REQUEST_ID))
            ours = await twice(ask, front, *extra)
            theirs = await twice(ask, stack, *extra)
            assert comparable(ours) == comparable(theirs)
            assert ours.headers["vary"].endswith("Origin")
        assert front.answered == 3  # all but the first request


async def test_cors_allowed_origin_is_named(side: Factory) -> None:
    async with side(front=True) as front:
        ours = await twice(graphql_get(), front, ("origin", ORIGIN))
        other = await graphql_get().send(front, ("origin", "https://elsewhere.example"))
        assert front.answered == 2
    assert ours.headers["access-control-allow-origin"] == ORIGIN
    assert "ETag" in ours.headers["access-control-expose-headers"]
    assert "access-control-allow-origin" not in other.headers


async def test_rate_limit_counts_down_and_refuses_at_the_limit(side: Factory) -> None:
    ask = graphql_get()
    async with (
        side(front=True, rate_limit="4/minute") as front,
        side(front=False, rate_limit="4/minute") as stack,
    ):
        runs = []
        for one in (front, stack):
            answers = [await ask.send(one, ("x-request-id", REQUEST_ID)) for _ in range(5)]
            runs.append(answers)
        assert front.answered == 3  # the first was a miss, the fifth refused
    ours, theirs = runs
    assert [a.headers["x-ratelimit-remaining"] for a in ours] == ["3", "2", "1", "0", "0"]
    assert [a.status_code for a in ours] == [200, 200, 200, 200, 429]
    refused, expected = ours[-1], theirs[-1]
    assert refused.status_code == expected.status_code == 429
    assert refused.json() == expected.json()
    assert refused.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert comparable(refused) == comparable(expected)
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.headers["x-request-id"] == REQUEST_ID
    for mine, reference in zip(ours[1:4], theirs[1:4], strict=True):
        assert comparable(mine) == comparable(reference)


async def test_a_signed_in_request_is_never_answered_by_the_front(side: Factory) -> None:
    ask = graphql_get()
    async with side(front=True) as front:
        await twice(ask, front)
        assert front.answered == 1
        signed = await ask.send(front, ("authorization", "Bearer not-a-valid-token"))
        rest = await twice(REST, front)
        signed_rest = await REST.send(front, ("authorization", "Bearer not-a-valid-token"))
        assert front.answered == 2  # the REST hit alone
    assert signed.headers["cache-control"] == "private, no-store"
    assert signed_rest.headers["cache-control"] == "private, no-store"
    assert rest.headers["cache-control"].startswith("public")


async def test_requests_it_does_not_know_go_to_the_stack(side: Factory) -> None:
    async with side(front=True) as front:
        ask = graphql_get()
        await twice(ask, front)
        assert front.answered == 1
        streaming = await ask.send(front, ("accept", "multipart/mixed"))
        head = await front.client.head(ask.url)
        other = await graphql_get(SCHEDULE.replace("Schedule", "Other")).send(front)
        too_big = await front.client.post(
            "/graphql",
            content=orjson.dumps({"query": SCHEDULE, "variables": VARIABLES, "x": "y" * 20000}),
            headers={"content-type": "application/json"},
        )
        assert front.answered == 1
    assert streaming.status_code == 200
    assert "public" not in streaming.headers.get("cache-control", "")
    assert head.status_code == 405
    assert other.status_code == 200 and "errors" not in other.json()
    assert too_big.status_code in (200, 400)


async def test_a_client_request_id_is_echoed_and_a_bad_one_replaced(side: Factory) -> None:
    async with side(front=True) as front:
        await twice(graphql_get(), front)
        good = await graphql_get().send(front, ("x-request-id", "abc.DEF:12-3"))
        bad = await graphql_get().send(front, ("x-request-id", "no spaces allowed"))
        assert front.answered == 3
    assert good.headers["x-request-id"] == "abc.DEF:12-3"
    assert re.fullmatch(r"[0-9a-f]{32}", bad.headers["x-request-id"])


async def test_a_persisted_query_by_hash_is_answered_once_resolved(side: Factory) -> None:
    digest = hashlib.sha256(SCHEDULE.encode()).hexdigest()
    extensions = json.dumps({"persistedQuery": {"version": 1, "sha256Hash": digest}})
    variables = json.dumps(VARIABLES)
    by_hash = urllib.parse.urlencode({"extensions": extensions, "variables": variables})
    full = urllib.parse.urlencode(
        {"extensions": extensions, "variables": variables, "query": SCHEDULE}
    )
    async with side(front=True) as front, side(front=False) as stack:
        answers = []
        for one in (front, stack):
            registered = await one.client.get(f"/graphql?{full}")
            assert registered.status_code == 200, registered.text
            first = await one.client.get(f"/graphql?{by_hash}", headers={"x-request-id": "r"})
            again = await one.client.get(f"/graphql?{by_hash}", headers={"x-request-id": "r"})
            answers.append((first, again))
        layer: PersistedQueries = front.app.state.persisted_queries
        assert layer.registered == 1
        # The first by hash resolves it (the stack's hit), the second is the front's.
        assert front.answered == 1
    (ours_first, ours), (_, theirs) = answers
    assert ours_first.content == ours.content == theirs.content
    assert comparable(ours) == comparable(theirs)


def _access_lines(lines: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    found = (line for line in lines if line.get("event") == "request.completed")
    return [dict(line) for line in found if line.get("response_cache") == "hit"]


@pytest.mark.parametrize("json_logs", [True, False], ids=["json", "captured"])
async def test_the_access_line_is_the_stacks(side: Factory, json_logs: bool) -> None:
    """JSON in production (the front writes its own line), and with the logs captured by
    structlog (then it logs through the logger, as the request context does)."""
    runs: list[list[dict[str, Any]]] = []
    for front in (True, False):
        async with side(front=front) as one:
            if json_logs:
                with captured_logs(level="INFO") as buffer:
                    await twice(REST, one, ("x-request-id", REQUEST_ID))
                runs.append(_access_lines(logged_lines(buffer)))
            else:
                with structlog.testing.capture_logs() as captured:
                    await twice(REST, one, ("x-request-id", REQUEST_ID))
                runs.append(_access_lines(captured))
            assert one.answered == (1 if front else 0)
    [ours], [theirs] = runs
    assert list(ours) == list(theirs)  # the same keys, in the same order
    varying = {"duration_ms", "timestamp"}
    assert {k: v for k, v in ours.items() if k not in varying} == {
        k: v for k, v in theirs.items() if k not in varying
    }
    if json_logs:  # captured events are not processed: no request id added
        assert ours["request_id"] == REQUEST_ID
    assert ours["status"] == 200 and ours["path"] == REST.url


async def test_a_request_id_that_reads_as_a_token_is_redacted_in_the_line(
    side: Factory,
) -> None:
    token_like = "eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl"
    async with side(front=True) as one:
        await twice(REST, one)
        with captured_logs(level="INFO") as buffer:
            answer = await REST.send(one, ("x-request-id", token_like))
        assert one.answered == 2
    assert answer.headers["x-request-id"] == token_like
    [line] = _access_lines(logged_lines(buffer))
    assert line["request_id"] == "[REDACTED]"


async def test_with_redis_the_budget_and_the_entries_are_shared_by_workers(
    tmp_path: Path, replay: Any, redis_url: str, redis_cleanup: str
) -> None:
    """Two app instances on one Redis: the front charges the shared windows (awaiting
    the limiter), and a hit kept by one worker reaches the other through Redis."""
    clock = FakeClock()
    # A client address of this test's own: the windows' keys are not namespaced.
    address = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"

    @asynccontextmanager
    async def worker(name: str) -> AsyncIterator[Side]:
        folder = tmp_path / name
        folder.mkdir()
        settings = app_settings(
            folder,
            jolpica_url=f"{replay.url}/ergast/f1",
            jolpica_rate="1000/second",
            redis_url=redis_url,
            redis_namespace=redis_cleanup,
            rate_limit="6/minute",
        )
        await upgrade_async(settings.database_url)
        app = create_app(settings, configure_logs=False, clock=clock)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, client=(address, 50000))
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                yield Side(app, client)

    ask = graphql_get()
    async with worker("a") as a, worker("b") as b:
        answers = [await ask.send(one) for one in (a, a, b, b)]
        assert (a.answered, b.answered) == (1, 1)  # b's first hit came from Redis
    assert [r.status_code for r in answers] == [200] * 4
    assert [r.headers["x-ratelimit-remaining"] for r in answers] == ["5", "4", "3", "2"]
    assert len({r.content for r in answers}) == 1
    assert len({r.headers["etag"] for r in answers}) == 1
