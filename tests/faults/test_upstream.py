"""Jolpica failing in every way the replay can fail it, seen through GraphQL and REST.

For each fault: answers cached before it (and expired since) are served stale and equal
to what was served fresh; questions never answered before get UPSTREAM_UNAVAILABLE (GraphQL)
or a 503 with Retry-After (REST). Never a 500, and never a request that outlives the
upstream timeout by more than a generous margin. (The unit-level versions of these live in
tests/upstream and tests/services; these go through the whole app.)
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from tests.faults.support import (
    CONSTRUCTOR_STANDINGS,
    DRIVER_STANDINGS,
    RACE_QUERY,
    SEASON_QUERY,
    bounded,
    client,
    codes,
    fault_app,
    gql,
)
from tests.jolpica_support import JOLPICA_PREFIX, jolpica_fault
from tests.plugins.clock import FakeClock

pytestmark = pytest.mark.timeout(60)

TIMEOUT = 1.0  # PYPOLE_JOLPICA_TIMEOUT for these tests: one call, retries included
TTL = 1  # seconds every answer stays fresh (the smallest TTL there is)
#: A request may chain a few upstream calls (the calendar, then the results); each one is
#: bounded by TIMEOUT. Past this it is a hang.
GUARD = TIMEOUT * 3 + 5

FAULTS: dict[str, dict[str, Any]] = {
    "500": {"status": 500},
    "503": {"status": 503},
    "429": {"status": 429, "retry_after": 60},
    "slow": {"delay": TIMEOUT * 5},
    "dropped": {"drop": True},
    "broken-json": {"broken_body": True},
}


@pytest.fixture
async def app(tmp_path: Path, replay: Any, clock: FakeClock) -> AsyncIterator[Starlette]:
    async with fault_app(
        tmp_path,
        clock=clock,
        jolpica_url=f"{replay.url}/ergast/f1",
        jolpica_rate="1000/second",
        jolpica_timeout=TIMEOUT,
        jolpica_ttl=TTL,
        archive_ttl=TTL,
    ) as app:
        yield app


@pytest.fixture
async def http(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with client(app) as http:
        yield http


async def timed(request: Any) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = await bounded(request, GUARD)
    return response, time.monotonic() - started


def jolpica_requests(replay: Any) -> int:
    return int(replay.count(prefix=JOLPICA_PREFIX))


@pytest.mark.parametrize("fault", list(FAULTS.values()), ids=list(FAULTS))
async def test_stale_where_cached_unavailable_otherwise(
    http: httpx.AsyncClient, replay: Any, clock: FakeClock, fault: dict[str, Any]
) -> None:
    season_2019 = await gql(http, SEASON_QUERY % 2019)
    standings_2019 = await http.get(DRIVER_STANDINGS % 2019)
    assert season_2019.status_code == standings_2019.status_code == 200
    assert "errors" not in season_2019.json()
    clock.advance(TTL + 0.1)  # both expired: only the stale copies are left

    with jolpica_fault(replay, **fault):
        before = jolpica_requests(replay)
        results = await asyncio.gather(
            timed(gql(http, SEASON_QUERY % 2019)),
            timed(http.get(DRIVER_STANDINGS % 2019)),
            timed(gql(http, RACE_QUERY % (2018, 3))),
            timed(http.get(CONSTRUCTOR_STANDINGS % 2018)),
        )
        tried = jolpica_requests(replay) - before
    (stale_gql, _), (stale_rest, _), (cold_gql, _), (cold_rest, _) = results

    assert tried > 0  # every answer below was tried upstream first
    # Cached before: served stale, exactly as it was served fresh.
    assert stale_gql.status_code == 200
    assert stale_gql.json() == season_2019.json()
    assert stale_rest.status_code == 200
    assert stale_rest.json() == standings_2019.json()
    # Never cached: a clean "try later".
    assert cold_gql.status_code == 200
    assert cold_gql.json()["data"] == {"race": None}
    assert set(codes(cold_gql.json())) == {"UPSTREAM_UNAVAILABLE"}
    assert cold_rest.status_code == 503
    assert isinstance(cold_rest.json()["detail"], str)
    retry_after = cold_rest.headers["Retry-After"]
    assert retry_after.isdigit()
    if fault.get("retry_after"):
        assert retry_after == str(fault["retry_after"])  # Jolpica's own wish passes through
    for response, elapsed in results:
        assert elapsed < GUARD, (response.request.url, elapsed)


@pytest.mark.parametrize("fault", list(FAULTS.values()), ids=list(FAULTS))
async def test_a_failed_load_is_not_cached(
    http: httpx.AsyncClient, replay: Any, fault: dict[str, Any]
) -> None:
    with jolpica_fault(replay, **fault):
        failed = await bounded(http.get(CONSTRUCTOR_STANDINGS % 2017), GUARD)
    assert failed.status_code == 503
    # The fault is gone: the next request asks again and gets the real answer.
    healed = await bounded(http.get(CONSTRUCTOR_STANDINGS % 2017), GUARD)
    assert healed.status_code == 200, healed.text
    assert healed.json()["season"] == 2017 and healed.json()["standings"]


async def test_one_transient_failure_is_retried_not_reported(
    http: httpx.AsyncClient, replay: Any, clock: FakeClock
) -> None:
    for fault in ({"status": 503}, {"drop": True}, {"broken_body": True}):
        with replay.fault(prefix=JOLPICA_PREFIX, times=1, **fault):
            response = await bounded(gql(http, SEASON_QUERY % 2016), GUARD)
        assert response.status_code == 200
        assert "errors" not in response.json(), (fault, response.json())
        clock.advance(TTL + 0.1)  # next round goes upstream again


async def test_a_crowd_during_an_outage_costs_one_load(app: Starlette, replay: Any) -> None:
    # 30 clients ask the same uncached question while Jolpica answers 503: they share one
    # load (its bounded retries included) instead of multiplying the pressure on Jolpica.
    async with client(app) as http:
        with jolpica_fault(replay, status=503):
            before = jolpica_requests(replay)
            responses = await bounded(
                asyncio.gather(*(http.get(DRIVER_STANDINGS % 2015) for _ in range(30))), GUARD
            )
            tried = jolpica_requests(replay) - before
    assert [r.status_code for r in responses] == [503] * 30
    assert 0 < tried <= 3, tried  # RetryPolicy.attempts for the one shared load
