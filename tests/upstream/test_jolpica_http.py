"""HttpClient: retries, 429, timeouts and error translation, against a scripted local server.

The replay upstream covers these faults end to end (see test_jolpica_faults.py); here each
answer is scripted exactly, so the retry policy itself is pinned down: what is retried,
how often, what is not, and that nothing outlives the call's deadline.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import pytest
from aiohttp import web

from pypole_gql.errors import NotFound, UpstreamUnavailable
from pypole_gql.logging import RequestStats, request_stats_var
from pypole_gql.upstream.http import HttpClient, RetryPolicy

Step = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Scripted:
    url: str
    steps: list[Step] = field(default_factory=list)
    hits: int = 0


def ok(body: str = '{"ok": true}') -> Step:
    async def step(_: web.Request) -> web.StreamResponse:
        return web.Response(text=body, content_type="application/json")

    return step


def status(code: int, headers: dict[str, str] | None = None) -> Step:
    async def step(_: web.Request) -> web.StreamResponse:
        return web.Response(status=code, text="{}", headers=headers)

    return step


def slow(seconds: float) -> Step:
    async def step(_: web.Request) -> web.StreamResponse:
        await asyncio.sleep(seconds)
        return web.Response(text="{}", content_type="application/json")

    return step


def dropped() -> Step:
    async def step(request: web.Request) -> web.StreamResponse:
        assert request.transport is not None
        request.transport.close()
        await asyncio.sleep(0.05)
        return web.Response(text="{}")

    return step


def truncated() -> Step:
    async def step(request: web.Request) -> web.StreamResponse:
        # Promise more bytes than are sent, then hang up mid-body.
        response = web.StreamResponse(headers={"Content-Length": "1000"})
        await response.prepare(request)
        await response.write(b'{"MRData": {"tot')
        assert request.transport is not None
        request.transport.close()
        return response

    return step


@pytest.fixture
async def server() -> AsyncIterator[Scripted]:
    scripted = Scripted(url="")

    async def handle(request: web.Request) -> web.StreamResponse:
        scripted.hits += 1
        step = scripted.steps.pop(0) if scripted.steps else ok()
        return await step(request)

    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    scripted.url = f"http://127.0.0.1:{port}/data.json"
    yield scripted
    await runner.cleanup()


FAST = RetryPolicy(attempts=3, backoff_base=0.01, backoff_max=0.05, max_retry_after=1.0)


@pytest.fixture
async def http() -> AsyncIterator[HttpClient]:
    async with HttpClient.open(call_timeout=2.0, retry=FAST) as client:
        yield client


async def test_ok_returns_json_and_counts_one_call(server: Scripted, http: HttpClient) -> None:
    stats = RequestStats()
    token = request_stats_var.set(stats)
    try:
        assert await http.get_json(server.url, params={"limit": 100}) == {"ok": True}
    finally:
        request_stats_var.reset(token)
    assert stats.upstream_calls == 1


@pytest.mark.parametrize("code", [500, 502, 503])
async def test_5xx_is_retried(server: Scripted, http: HttpClient, code: int) -> None:
    server.steps = [status(code), status(code), ok()]
    assert await http.get_json(server.url) == {"ok": True}
    assert server.hits == 3


async def test_5xx_gives_up_after_the_attempts(server: Scripted, http: HttpClient) -> None:
    server.steps = [status(500)] * 5
    with pytest.raises(UpstreamUnavailable):
        await http.get_json(server.url)
    assert server.hits == FAST.attempts


@pytest.mark.parametrize("code", [400, 401, 403, 410])
async def test_other_4xx_is_not_retried(server: Scripted, http: HttpClient, code: int) -> None:
    server.steps = [status(code), ok()]
    with pytest.raises(UpstreamUnavailable):
        await http.get_json(server.url)
    assert server.hits == 1


async def test_404_is_not_found_only_when_the_caller_says_so(
    server: Scripted, http: HttpClient
) -> None:
    server.steps = [status(404), status(404)]
    with pytest.raises(NotFound):
        await http.get_json(server.url, not_found="no such driver")
    with pytest.raises(UpstreamUnavailable):
        await http.get_json(server.url)
    assert server.hits == 2


async def test_short_retry_after_is_waited_out(server: Scripted, http: HttpClient) -> None:
    server.steps = [status(429, {"Retry-After": "1"}), ok()]
    started = time.monotonic()
    assert await http.get_json(server.url) == {"ok": True}
    assert time.monotonic() - started >= 0.95
    assert server.hits == 2


async def test_long_retry_after_fails_at_once_with_its_delay(
    server: Scripted, http: HttpClient
) -> None:
    server.steps = [status(429, {"Retry-After": "120"}), ok()]
    started = time.monotonic()
    with pytest.raises(UpstreamUnavailable) as caught:
        await http.get_json(server.url)
    assert time.monotonic() - started < 0.5
    assert caught.value.retry_after == 120
    assert caught.value.headers["Retry-After"] == "120"
    assert server.hits == 1


async def test_slow_upstream_is_cut_at_the_deadline(server: Scripted) -> None:
    server.steps = [slow(5)] * 3
    async with HttpClient.open(call_timeout=0.5, retry=FAST) as http:
        started = time.monotonic()
        with pytest.raises(UpstreamUnavailable):
            await http.get_json(server.url)
        # The deadline covers every attempt and every backoff, not each one separately.
        assert time.monotonic() - started < 0.8


async def test_dropped_connection_is_retried(server: Scripted, http: HttpClient) -> None:
    server.steps = [dropped(), ok()]
    assert await http.get_json(server.url) == {"ok": True}
    assert server.hits == 2


@pytest.mark.parametrize("broken", [truncated, lambda: ok("{not json")])
async def test_broken_body_is_retried_then_unavailable(
    server: Scripted, http: HttpClient, broken: Callable[[], Step]
) -> None:
    server.steps = [broken()] * 3
    with pytest.raises(UpstreamUnavailable):
        await http.get_json(server.url)
    assert server.hits == 3


async def test_connection_refused_is_unavailable() -> None:
    async with HttpClient.open(call_timeout=1.0, retry=FAST) as http:
        with pytest.raises(UpstreamUnavailable):
            # Port 9 (discard) is closed on loopback: the connection is refused.
            await http.get_json("http://127.0.0.1:9/x.json")


async def test_before_attempt_runs_before_every_attempt_and_may_stop_the_call(
    server: Scripted, http: HttpClient
) -> None:
    server.steps = [status(503), ok()]
    budgets: list[float] = []

    async def before(remaining: float) -> None:
        budgets.append(remaining)

    assert await http.get_json(server.url, before_attempt=before) == {"ok": True}
    assert len(budgets) == 2
    assert all(0 < left <= http.call_timeout for left in budgets)

    class Stop(Exception):
        pass

    async def refuse(_: float) -> None:
        raise Stop

    hits = server.hits
    with pytest.raises(Stop):
        await http.get_json(server.url, before_attempt=refuse)
    assert server.hits == hits
