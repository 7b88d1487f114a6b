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
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import orjson
import pytest

from pypole_gql.errors import NotAvailable
from pypole_gql.services.session_loads import SessionState
from pypole_gql.upstream.fastf1 import FORMAT_VERSION
from pypole_gql.upstream.fastf1.extract import NO_ARCHIVE, NO_TIMING
from tests.plugins.app import ClientFactory, resources_of
from tests.plugins.clock import FakeClock
from tests.plugins.fastf1 import OracleLoader, fastf1_app_settings
from tests.plugins.replay import Replay

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
