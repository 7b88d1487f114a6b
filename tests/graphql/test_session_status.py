"""A cold load is a state, not a stall (issue 13.3), and a session without timing data says
so (issue 17.2): ``RaceSession.status``, ``loadSession``, REST's ``Prefer: respond-async``,
NOT_AVAILABLE.

Everything runs on the replay with the app's real FastF1 worker pool; loads are counted at
the app's FastF1 client, and expected values come from FastF1 itself (the oracle) loading the
same session from the same replay. Waiting is polling with a bound, never a sleep standing in
for an event.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from pypole_gql.cache import Cache, RedisStore
from pypole_gql.errors import NotAvailable
from pypole_gql.redis_link import RedisLink
from pypole_gql.services.session_loads import SessionState, SharedLoads
from pypole_gql.services.sessions import SessionService
from pypole_gql.upstream.fastf1 import FORMAT_VERSION, FastF1Client, FastF1Config
from pypole_gql.upstream.fastf1.extract import NO_ARCHIVE, NO_TIMING
from tests.plugins.app import ClientFactory, resources_of
from tests.plugins.clock import FakeClock
from tests.plugins.fastf1 import OracleLoader, fastf1_app_settings
from tests.plugins.replay import Replay
from tests.serving import free_port

STATUS = """
query Status($year: Int!, $race: String!, $type: SessionType!) {
  session(year: $year, race: $race, type: $type) {
    year type status { state startedAt waiting reason retryAfter }
  }
}
"""
LOAD = """
mutation Load($year: Int!, $race: String!, $type: SessionType!) {
  loadSession(year: $year, race: $race, type: $type) { state startedAt waiting reason retryAfter }
}
"""
LAPS = """
query Laps($year: Int!, $race: String!, $type: SessionType!, $drivers: [String!]) {
  session(year: $year, race: $race, type: $type) {
    status { state }
    laps(drivers: $drivers) { driver lapNumber }
  }
}
"""
#: Polls at most this often while waiting for a state (each poll is a request).
POLL = 0.05
#: Polls before giving up: a cold load is seconds alone, minutes on a loaded machine.
MAX_POLLS = 12_000


async def _graphql(client: httpx.AsyncClient, query: str, **variables: Any) -> dict[str, Any]:
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


async def _poll(ask: Callable[[], Awaitable[Any]], done: Callable[[Any], bool]) -> list[Any]:
    """Every answer of ``ask`` until ``done`` holds for one (bounded)."""
    seen = []
    for _ in range(MAX_POLLS):
        answer = await ask()
        seen.append(answer)
        if done(answer):
            return seen
        await asyncio.sleep(POLL)
    pytest.fail(f"never done; last answer {seen[-1]!r}")


async def test_session_without_timing_is_not_available(
    make_client: ClientFactory, replay: Replay, fastf1_oracle: OracleLoader, clock: FakeClock
) -> None:
    """2025 Monaco in the replay: drivers, no timing data. NOT_AVAILABLE with the reason,
    remembered for PYPOLE_FASTF1_UNAVAILABLE_TTL only, never cached as the session."""
    oracle = fastf1_oracle(2025, "Monaco", "R")
    assert len(oracle.results) == 20  # the drivers are there, FastF1 loaded no laps
    monaco = {"year": 2025, "race": "Monaco", "type": "R"}
    async with make_client(
        clock=clock, **fastf1_app_settings(replay), fastf1_unavailable_ttl=120
    ) as client:
        resources = resources_of(client)
        loads = resources.sessions.client

        body = await _graphql(client, LAPS, **monaco)
        assert _codes(body) == ["NOT_AVAILABLE"], body
        assert body["data"] == {"session": None}
        message = body["errors"][0]["message"]
        assert "2025 Monaco Grand Prix Race" in message and NO_ARCHIVE in message
        assert loads.loads == 1

        # Remembered: neither the query nor the status loads again.
        again = await _graphql(client, LAPS, **monaco)
        assert _codes(again) == ["NOT_AVAILABLE"] and again["errors"][0]["message"] == message
        status = await _graphql(client, STATUS, **monaco)
        assert status["data"]["session"]["status"] == {
            "state": "NOT_AVAILABLE",
            "startedAt": None,
            "waiting": 0,
            "reason": message,
            "retryAfter": None,
        }
        assert loads.loads == 1

        # Kept for the short TTL only, and the session itself is not cached as a good load.
        key = f"fastf1:session:2025:{int(oracle.event['RoundNumber'])}:R:p{FORMAT_VERSION}"
        assert await resources.cache.peek(key) is None
        held = await resources.cache.peek(key + ":unavailable")
        assert held is not None and held[0].decode() == message
        assert held[1] == clock() + 120

        # REST: a 404 with the reason, with or without Prefer: respond-async.
        for headers in ({}, {"Prefer": "respond-async"}):
            response = await client.get("/api/v1/fastf1/race/2025/Monaco/laps", headers=headers)
            assert response.status_code == 404, response.text
            assert response.json() == {"detail": message}
        assert loads.loads == 1


async def test_later_complete_load_replaces_not_available(
    make_client: ClientFactory, replay: Replay, fastf1_oracle: OracleLoader, clock: FakeClock
) -> None:
    """A session whose timing data the archive does not serve yet (a 404 at the replay) is
    NOT_AVAILABLE; once the short TTL passed (on the app's fake clock), the next request
    loads it again and the complete load replaces it."""
    oracle = fastf1_oracle(2023, "Azerbaijan", "Q")
    settings = fastf1_app_settings(replay, fastf1_unavailable_ttl=300)
    async with make_client(clock=clock, **settings) as client:
        resources = resources_of(client)
        service = resources.sessions
        fastf1 = service.client
        asked = service.request(2023, "Azerbaijan", "Q")
        missing = replay.fault("/static/2023/*_Qualifying/TimingData.jsonStream", status=404)
        with missing, pytest.raises(NotAvailable) as first:
            await service.load(asked)
        assert NO_TIMING in first.value.message
        assert fastf1.loads == 1

        # The archive has it now, but the answer is remembered for unavailable_ttl.
        clock.advance(299)
        with pytest.raises(NotAvailable):
            await service.load(asked)
        assert (await service.status(asked)).state is SessionState.NOT_AVAILABLE
        assert fastf1.loads == 1

        clock.advance(2)
        assert (await service.status(asked)).state is SessionState.NOT_LOADED
        data = await service.load(asked)
        assert fastf1.loads == 2
        assert data.info.timing_available and len(data.laps) == len(oracle.laps)
        assert (await service.status(asked)).state is SessionState.READY
        await service.load(asked)
        assert fastf1.loads == 2


async def test_status_loading_then_ready_with_one_load_for_twenty_clients(
    make_client: ClientFactory, replay: Replay, fastf1_oracle: OracleLoader
) -> None:
    """status never loads; loadSession starts one load; 20 clients starting and polling it,
    and 3 waiting for the laps, cost one load; LOADING counts the 3 waiting."""
    oracle = fastf1_oracle(2023, "Azerbaijan", "Q")
    session = {"year": 2023, "race": "Azerbaijan", "type": "Q"}
    info = "/static/2023/*_Qualifying/SessionInfo.jsonStream"
    async with make_client(**fastf1_app_settings(replay)) as client:
        fastf1 = resources_of(client).sessions.client
        static_before = replay.count(prefix="/static/")
        info_before = replay.count(info)

        cold = await _graphql(client, STATUS, **session)
        assert cold["data"]["session"] == {
            "year": 2023,
            "type": "Q",
            "status": {
                "state": "NOT_LOADED",
                "startedAt": None,
                "waiting": 0,
                "reason": None,
                "retryAfter": None,
            },
        }
        assert fastf1.loads == 0 and replay.count(prefix="/static/") == static_before

        started = await _graphql(client, LOAD, **session)
        status = started["data"]["loadSession"]
        assert status["state"] == "LOADING" and status["startedAt"] is not None
        assert status["retryAfter"] == 2 and status["waiting"] == 0

        async def waiter() -> dict[str, Any]:
            return await _graphql(client, LAPS, **session)

        waiters = [asyncio.create_task(waiter()) for _ in range(3)]

        async def status_now() -> dict[str, Any]:
            body = await _graphql(client, STATUS, **session)
            found: dict[str, Any] = body["data"]["session"]["status"]
            return found

        # The 3 requests for laps wait on the running load (unless it ended first).
        seen = await _poll(status_now, lambda s: s["waiting"] == 3 or s["state"] == "READY")
        if seen[-1]["state"] == "LOADING":
            assert seen[-1]["startedAt"] == status["startedAt"]

        async def poller() -> list[dict[str, Any]]:
            again = await _graphql(client, LOAD, **session)
            assert again["data"]["loadSession"]["state"] in ("LOADING", "READY")
            return await _poll(status_now, lambda s: s["state"] == "READY")

        polls = await asyncio.gather(*(poller() for _ in range(20)))
        assert all(p[-1]["state"] == "READY" for p in polls)
        states = {s["state"] for p in polls for s in p}
        assert states <= {"LOADING", "READY"}
        for body in await asyncio.gather(*waiters):
            assert "errors" not in body, body
            assert body["data"]["session"]["status"] == {"state": "READY"}
            assert len(body["data"]["session"]["laps"]) == len(oracle.laps)
        assert fastf1.loads == 1
        assert replay.count(info) == info_before + 1

        # A driver not entered is NOT_FOUND, as telemetry answers; one entered has laps.
        absent = "MSC"
        assert absent not in set(oracle.results["Abbreviation"])
        body = await _graphql(client, LAPS, **session, drivers=[absent])
        assert _codes(body) == ["NOT_FOUND"] and absent in body["errors"][0]["message"]
        body = await _graphql(client, LAPS, **session, drivers=["VER"])
        expected = oracle.laps[oracle.laps["Driver"] == "VER"]
        assert [lap["lapNumber"] for lap in body["data"]["session"]["laps"]] == [
            int(n) for n in expected["LapNumber"]
        ]
        assert fastf1.loads == 1


async def test_rest_prefer_respond_async_answers_202_until_ready(
    make_client: ClientFactory, replay: Replay, fastf1_oracle: OracleLoader
) -> None:
    oracle = fastf1_oracle(2023, "Azerbaijan", "SS")
    url = "/api/v1/fastf1/race/2023/Azerbaijan/laps?session_type=SS"
    prefer = {"Prefer": "respond-async"}
    async with make_client(**fastf1_app_settings(replay)) as client:
        fastf1 = resources_of(client).sessions.client
        first = await client.get(url, headers=prefer)
        assert first.status_code == 202, first.text
        assert first.headers["Retry-After"] == "2"
        assert first.headers["Preference-Applied"] == "respond-async"
        body = first.json()
        assert body["status"] == "LOADING" and body["started_at"] is not None
        assert "retry after 2 seconds" in body["detail"]

        async def ask() -> httpx.Response:
            return await client.get(url, headers=prefer)

        answers = await _poll(ask, lambda r: r.status_code != 202)
        assert {r.status_code for r in answers[:-1]} <= {202}
        done = answers[-1]
        assert done.status_code == 200, done.text
        assert len(done.json()["laps"]) == len(oracle.laps)
        assert "Preference-Applied" not in done.headers
        # Without the preference a ready session answers as always.
        plain = await client.get(url)
        assert plain.status_code == 200 and plain.json() == done.json()
        assert fastf1.loads == 1


DEFERRED = """
query Weekend($year: Int!, $round: Int!) {
  race(year: $year, round: $round) {
    name
    ... @defer(label: "session") {
      session(type: Q) { status { state } laps { driver lapNumber } }
    }
  }
}
"""


def _parts(body: bytes, content_type: str) -> list[dict[str, Any]]:
    """The JSON parts of a ``multipart/mixed`` answer, in order."""
    boundary = content_type.split("boundary=")[1].split(";")[0].strip('"')
    parts = []
    for chunk in body.split(b"--" + boundary.encode()):
        _, _, payload = chunk.partition(b"\r\n\r\n")
        payload = payload.strip()
        if payload.startswith(b"{"):
            parts.append(orjson.loads(payload))
    return parts


async def test_defer_on_race_session_streams_the_laps_after_the_race(
    make_client: ClientFactory, replay: Replay, fastf1_oracle: OracleLoader
) -> None:
    oracle = fastf1_oracle(2023, "Azerbaijan", "Q")
    async with make_client(**fastf1_app_settings(replay)) as client:
        fastf1 = resources_of(client).sessions.client
        response = await client.post(
            "/graphql",
            json={"query": DEFERRED, "variables": {"year": 2023, "round": 4}},
            headers={"Accept": "multipart/mixed"},
        )
        assert response.status_code == 200, response.text
        content_type = response.headers["content-type"]
        assert content_type.startswith("multipart/mixed"), content_type
        parts = _parts(response.content, content_type)
        first = parts[0]
        assert first["data"] == {"race": {"name": oracle.event["EventName"]}}
        assert first["hasNext"] is True
        assert first["pending"][0]["label"] == "session"
        incremental = [i for p in parts[1:] for i in p.get("incremental", [])]
        assert len(incremental) == 1
        session = incremental[0]["data"]["session"]
        assert session["status"] == {"state": "READY"}
        assert len(session["laps"]) == len(oracle.laps)
        assert parts[-1]["hasNext"] is False
        assert fastf1.loads == 1

        # A client that does not accept multipart answers is told so.
        plain = await client.post(
            "/graphql", json={"query": DEFERRED, "variables": {"year": 2023, "round": 4}}
        )
        assert plain.status_code == 406, plain.text
        assert "Accept: multipart/mixed" in plain.json()["errors"][0]["message"]


async def test_deferred_session_errors_keep_their_code(
    make_client: ClientFactory, replay: Replay, fastf1_oracle: OracleLoader
) -> None:
    """A deferred session that is NOT_AVAILABLE: the race first, then the error, with its
    code and reason, in the deferred part."""
    oracle = fastf1_oracle(2025, "Monaco", "R")
    round_ = int(oracle.event["RoundNumber"])
    query = DEFERRED.replace("session(type: Q)", "session(type: R)")
    async with make_client(**fastf1_app_settings(replay)) as client:
        response = await client.post(
            "/graphql",
            json={"query": query, "variables": {"year": 2025, "round": round_}},
            headers={"Accept": "multipart/mixed"},
        )
        assert response.status_code == 200, response.text
        parts = _parts(response.content, response.headers["content-type"])
        assert parts[0]["data"] == {"race": {"name": oracle.event["EventName"]}}
        errors = [
            e
            for p in parts[1:]
            for item in (*p.get("incremental", []), *p.get("completed", []))
            for e in item.get("errors", [])
        ]
        assert [e["extensions"]["code"] for e in errors] == ["NOT_AVAILABLE"], parts
        assert NO_ARCHIVE in errors[0]["message"]


async def test_stream_is_refused(make_client: ClientFactory) -> None:
    query = "{ season(year: 2023) { races @stream(initialCount: 1) { name } } }"
    async with make_client() as client:
        response = await client.post("/graphql", json={"query": query})
        body = response.json()
        assert _codes(body) == ["GRAPHQL_VALIDATION_FAILED"], body
        assert "@stream is not supported" in body["errors"][0]["message"]


async def test_two_instances_on_one_redis_share_loading_and_failed(
    make_client: ClientFactory,
    replay: Replay,
    fastf1_oracle: OracleLoader,
    redis_url: str,
    tmp_path: Path,
) -> None:
    """Two apps on one test-owned Redis namespace: a load running on one is LOADING (with
    its start) on the other, which starts none of its own; its failure is FAILED on both;
    a load started again on the other is joined: one load per attempt, in all."""
    oracle = fastf1_oracle(2023, "Azerbaijan", "Q")
    session = {"year": 2023, "race": "Azerbaijan", "type": "Q"}
    info = "/static/2023/*_Qualifying/SessionInfo.jsonStream"
    shared = fastf1_app_settings(replay, redis_url=redis_url)

    def own(name: str, **extra: Any) -> dict[str, Any]:
        # A database (and so an archive) and a FastF1 HTTP cache of each instance's own.
        return {
            **shared,
            "database_url": f"sqlite+aiosqlite:///{tmp_path / f'{name}.db'}",
            "fastf1_cache_dir": tmp_path / f"fastf1-{name}",
            **extra,
        }

    async def status_of(client: httpx.AsyncClient) -> dict[str, Any]:
        body = await _graphql(client, STATUS, **session)
        found: dict[str, Any] = body["data"]["session"]["status"]
        return found

    async def cleanup() -> None:
        import redis.asyncio as aioredis

        link = aioredis.Redis.from_url(redis_url)
        try:
            keys = [k async for k in link.scan_iter(match=f"{shared['redis_namespace']}*")]
            if keys:
                await link.delete(*keys)
        finally:
            await link.aclose()

    try:
        async with (
            # A gives up on a load after 2 s; the session's first SessionInfo answer takes 6.
            make_client(**own("a", fastf1_load_timeout=2)) as a,
            make_client(**own("b")) as b,
        ):
            loads_a, loads_b = resources_of(a).sessions.client, resources_of(b).sessions.client
            with replay.fault(info, delay=6, times=1):
                started = (await _graphql(a, LOAD, **session))["data"]["loadSession"]
                assert started["state"] == "LOADING"
                seen = await _poll(lambda: status_of(b), lambda s: s["state"] != "NOT_LOADED")
                assert seen[-1]["state"] == "LOADING", seen[-1]
                assert seen[-1]["startedAt"] == started["startedAt"]
                assert seen[-1]["retryAfter"] == 2
                # B's loadSession joins A's load: it starts none.
                joined = (await _graphql(b, LOAD, **session))["data"]["loadSession"]
                assert joined["state"] == "LOADING" and joined["startedAt"] == started["startedAt"]
                failed_b = await _poll(lambda: status_of(b), lambda s: s["state"] == "FAILED")
            reason = failed_b[-1]["reason"]
            assert "took longer than 2 s" in reason
            assert await status_of(a) == failed_b[-1]
            assert (loads_a.loads, loads_b.loads) == (1, 0)

            # B tries again: its load is LOADING on A, A's loadSession and A's laps join it.
            with replay.fault(info, delay=3, times=1):
                again = (await _graphql(b, LOAD, **session))["data"]["loadSession"]
                assert again["state"] == "LOADING"
                seen = await _poll(lambda: status_of(a), lambda s: s["state"] != "FAILED")
                assert seen[-1]["state"] in ("LOADING", "READY"), seen[-1]
                if seen[-1]["state"] == "LOADING":
                    assert seen[-1]["startedAt"] == again["startedAt"]
                    joined = (await _graphql(a, LOAD, **session))["data"]["loadSession"]
                    assert joined["state"] in ("LOADING", "READY")
                laps = await _graphql(a, LAPS, **session)
                assert "errors" not in laps, laps
                assert len(laps["data"]["session"]["laps"]) == len(oracle.laps)
            for client in (a, b):
                ready = await _poll(partial(status_of, client), lambda s: s["state"] == "READY")
                assert ready[-1]["reason"] is None
            assert (loads_a.loads, loads_b.loads) == (1, 1)
    finally:
        await cleanup()


async def test_shared_loads_fall_back_to_this_instance_when_redis_is_away(
    make_client: ClientFactory, replay: Replay
) -> None:
    """Redis configured but not answering: the claim is granted (this instance loads), no
    shared state is known, and the app answers LOADING then READY as one instance would."""
    link = RedisLink.from_url(f"redis://127.0.0.1:{free_port()}/0")
    shared = SharedLoads(link, namespace="away", claim_ttl=5, failure_ttl=5)
    try:
        assert await shared.claim("k", time.time()) is None
        assert shared.holds("k") and link.breaker.degraded
        assert await shared.state("k") is None
        await shared.failed("k", "reason")
        await shared.release("k")
        assert not shared.holds("k")
    finally:
        await link.close()

    session = {"year": 2023, "race": "Azerbaijan", "type": "Q"}
    settings = fastf1_app_settings(replay, redis_url=f"redis://127.0.0.1:{free_port()}/0")
    async with make_client(**settings) as client:
        fastf1 = resources_of(client).sessions.client
        assert resources_of(client).sessions.shared is not None
        started = (await _graphql(client, LOAD, **session))["data"]["loadSession"]
        assert started["state"] == "LOADING"

        async def state() -> str:
            body = await _graphql(client, STATUS, **session)
            found: str = body["data"]["session"]["status"]["state"]
            return found

        seen = await _poll(state, lambda s: s == "READY")
        assert set(seen) <= {"LOADING", "READY"}
        laps = await _graphql(client, LAPS, **session)
        assert "errors" not in laps and laps["data"]["session"]["laps"]
        assert fastf1.loads == 1


async def test_a_request_past_the_cache_lock_waits_for_the_other_instances_load(
    make_client: ClientFactory,
    replay: Replay,
    fastf1_oracle: OracleLoader,
    redis_url: str,
    tmp_path: Path,
) -> None:
    """An instance whose request stops waiting on the cache's lock (here at once) while
    another instance's load holds the claim does not load: it waits for that load's
    payload in Redis."""
    oracle = fastf1_oracle(2023, "Azerbaijan", "Q")
    session = {"year": 2023, "race": "Azerbaijan", "type": "Q"}
    info = "/static/2023/*_Qualifying/SessionInfo.jsonStream"
    settings = fastf1_app_settings(replay, redis_url=redis_url)
    namespace = settings["redis_namespace"]
    async with make_client(**settings) as client:
        resources = resources_of(client)
        assert resources.redis is not None
        # Instance B: its own FastF1 client and services on the same Redis, no lock wait.
        cache = Cache(RedisStore(resources.redis), namespace=namespace, lock_wait=0)
        fastf1 = FastF1Client(
            dataclasses.replace(
                FastF1Config.from_settings(resources.settings), cache_dir=tmp_path / "b"
            ),
            max_workers=1,
        )
        other = SessionService(
            fastf1,
            cache,
            resources.f1,
            ttl=3600,
            archive_ttl=3600,
            shared=SharedLoads(resources.redis, namespace=namespace, claim_ttl=120, failure_ttl=60),
        )
        asked = other.request(2023, "Azerbaijan", "Q")
        try:
            with replay.fault(info, delay=3, times=1):
                started = await _graphql(client, LOAD, **session)
                assert started["data"]["loadSession"]["state"] == "LOADING"

                async def state() -> SessionState:
                    return (await other.status(asked)).state

                seen = await _poll(state, lambda s: s is not SessionState.NOT_LOADED)
                assert seen[-1] is SessionState.LOADING, seen
                data = await other.load(asked)
            assert len(data.laps) == len(oracle.laps)
            assert (resources.sessions.client.loads, fastf1.loads) == (1, 0)
        finally:
            await other.aclose()
