"""PostgreSQL unreachable under a running app, then back.

The app reaches the session's PostgreSQL only through a TCP proxy the test controls.
Stopping the proxy closes the port and resets every pooled connection: to the app that is
the database going away. Accounts then answer 503 (REST) or SERVICE_UNAVAILABLE (GraphQL)
with a message that says what is wrong, F1 data keeps flowing, and ``/health/ready`` says
the database is failing. Starting the proxy again must be enough for all of it to work.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from tests.faults.support import (
    SCHEDULE,
    SEASON_QUERY,
    TcpProxy,
    bounded,
    client,
    codes,
    fault_app,
)

pytestmark = pytest.mark.timeout(90)

#: Connect and pool timeouts are 5 s each; a request answering later than this hangs.
GUARD = 20.0
AUTH = "/api/v1/auth"
PASSWORD = "correct horse battery"
REGISTER = """mutation R($input: RegisterInput!) { register(input: $input) { accessToken } }"""
LOGIN = """mutation L($email: String!, $password: String!) {
  login(email: $email, password: $password) { accessToken } }"""
ME = "{ me { username } }"


def account() -> dict[str, str]:
    tag = uuid.uuid4().hex[:12]
    return {"email": f"pit.{tag}@example.com", "username": f"pit_{tag}", "password": PASSWORD}


@pytest.fixture
async def app(tmp_path: Path, replay: Any, proxied_database_url: str) -> AsyncIterator[Starlette]:
    async with fault_app(
        tmp_path,
        database_url=proxied_database_url,
        jolpica_url=f"{replay.url}/ergast/f1",
        jolpica_rate="1000/second",
    ) as app:
        yield app


@pytest.fixture
async def http(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with client(app) as http:
        yield http


async def rest_register(http: httpx.AsyncClient, data: dict[str, str]) -> httpx.Response:
    return await bounded(http.post(f"{AUTH}/register", json=data), GUARD)


async def rest_login(http: httpx.AsyncClient, data: dict[str, str]) -> httpx.Response:
    form = {"email": data["email"], "password": data["password"]}
    return await bounded(http.post(f"{AUTH}/login", data=form), GUARD)


async def query(
    http: httpx.AsyncClient, text: str, token: str | None = None, **variables: Any
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await bounded(
        http.post("/graphql", json={"query": text, "variables": variables}, headers=headers),
        GUARD,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def assert_database_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, str)
    assert "database" in detail.lower() and "unavailable" in detail.lower(), detail
    assert response.headers["Retry-After"].isdigit()


def assert_graphql_database_unavailable(body: dict[str, Any]) -> None:
    assert codes(body) == ["SERVICE_UNAVAILABLE"], body
    message = body["errors"][0]["message"].lower()
    assert "database" in message and "unavailable" in message, message


async def test_accounts_answer_503_while_the_database_is_down(
    http: httpx.AsyncClient, pg_proxy: TcpProxy
) -> None:
    known = account()
    assert (await rest_register(http, known)).status_code == 201
    token = (await rest_login(http, known)).json()["access_token"]

    await pg_proxy.stop()
    started = time.monotonic()
    assert_database_unavailable(await rest_register(http, account()))
    assert_database_unavailable(await rest_login(http, known))
    me = await bounded(http.get(f"{AUTH}/me", headers={"Authorization": f"Bearer {token}"}), GUARD)
    assert_database_unavailable(me)

    assert_graphql_database_unavailable(await query(http, REGISTER, input=account()))
    login = await query(http, LOGIN, email=known["email"], password=PASSWORD)
    assert_graphql_database_unavailable(login)
    # A valid token is not "unauthenticated" because its session cannot be looked up.
    assert_graphql_database_unavailable(await query(http, ME, token=token))
    # A refused port is known at once: nothing waits for a timeout.
    assert time.monotonic() - started < 10


async def test_data_keeps_flowing_while_the_database_is_down(
    http: httpx.AsyncClient, pg_proxy: TcpProxy
) -> None:
    await pg_proxy.stop()
    season = await query(http, SEASON_QUERY % 2023)
    schedule = await bounded(http.get(SCHEDULE % 2022), GUARD)
    assert "errors" not in season, season
    assert len(season["data"]["season"]["races"]) == 22
    assert schedule.status_code == 200, schedule.text
    assert schedule.json()["season"] == 2022


async def test_health_while_the_database_is_down(
    http: httpx.AsyncClient, pg_proxy: TcpProxy
) -> None:
    await pg_proxy.stop()
    live = await bounded(http.get("/health/live"), GUARD)
    ready = await bounded(http.get("/health/ready"), GUARD)
    assert live.status_code == 200
    assert ready.status_code == 503
    assert ready.json()["checks"]["database"] == "failing"


async def test_everything_works_again_when_the_database_returns(
    http: httpx.AsyncClient, pg_proxy: TcpProxy
) -> None:
    known = account()
    assert (await rest_register(http, known)).status_code == 201
    await pg_proxy.stop()
    assert_database_unavailable(await rest_login(http, known))
    assert (await bounded(http.get("/health/ready"), GUARD)).status_code == 503

    await pg_proxy.start()
    # The very first requests after the outage work: stale pooled connections are replaced.
    ready = await bounded(http.get("/health/ready"), GUARD)
    assert ready.status_code == 200, ready.text
    login = await rest_login(http, known)
    assert login.status_code == 200, login.text
    token = login.json()["access_token"]
    me = await bounded(http.get(f"{AUTH}/me", headers={"Authorization": f"Bearer {token}"}), GUARD)
    assert me.status_code == 200 and me.json()["email"] == known["email"]
    fresh = account()
    assert (await rest_register(http, fresh)).status_code == 201
    registered = await query(http, REGISTER, input=account())
    assert "errors" not in registered, registered
    body = await query(http, ME, token=registered["data"]["register"]["accessToken"])
    assert "errors" not in body, body


@pytest.mark.parametrize("cut_after", [0.0, 0.03, 0.08, 0.15])
async def test_outage_in_the_middle_of_traffic_fails_cleanly(
    http: httpx.AsyncClient, pg_proxy: TcpProxy, cut_after: float
) -> None:
    # The outage lands while requests are between their queries, in a query, or opening a
    # connection: each one either worked or got a 503, never a 500.
    known = account()
    assert (await rest_register(http, known)).status_code == 201
    token = (await rest_login(http, known)).json()["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    calls = [rest_login(http, known) for _ in range(6)]
    calls += [rest_register(http, account()) for _ in range(4)]
    calls += [bounded(http.get(f"{AUTH}/me", headers=bearer), GUARD) for _ in range(6)]
    in_flight = [asyncio.ensure_future(call) for call in calls]
    await asyncio.sleep(cut_after)
    await pg_proxy.stop()
    statuses = [r.status_code for r in await asyncio.gather(*in_flight)]
    assert set(statuses) <= {200, 201, 503}, statuses
    await pg_proxy.start()
    assert (await rest_login(http, known)).status_code == 200


async def test_hung_database_answers_503_within_its_timeouts(
    http: httpx.AsyncClient, pg_proxy: TcpProxy
) -> None:
    # Worse than a closed port: connections open but nothing ever answers (a frozen server,
    # a partition). The connect and command timeouts must end it; nothing may wait forever.
    known = account()
    assert (await rest_register(http, known)).status_code == 201
    await pg_proxy.freeze()
    started = time.monotonic()
    ready = await bounded(http.get("/health/ready"), GUARD)
    assert ready.status_code == 503
    assert time.monotonic() - started < 4  # a probe must not hang on a dead host
    assert_database_unavailable(await rest_login(http, known))

    await pg_proxy.stop()
    await pg_proxy.start()
    assert (await rest_login(http, known)).status_code == 200


@pytest.mark.parametrize(
    "fatal",
    [
        None,
        ("57P03", "the database system is starting up"),
        ("57P01", "terminating connection due to administrator command"),
        ("53300", "sorry, too many clients already"),
    ],
    ids=["hang-up", "starting-up", "shutting-down", "too-many-clients"],
)
async def test_a_server_that_fails_the_handshake_is_unavailable_not_a_bug(
    http: httpx.AsyncClient, pg_proxy: TcpProxy, fatal: tuple[str, str] | None
) -> None:
    # The port answers, but no session can be opened: PostgreSQL starting up or shutting
    # down, out of connection slots, or a connection lost mid-handshake. Each is the
    # database being unavailable (503), not an unexpected error (500).
    known = account()
    assert (await rest_register(http, known)).status_code == 201
    await pg_proxy.fail_handshakes(fatal)
    assert_database_unavailable(await rest_login(http, known))
    assert_graphql_database_unavailable(await query(http, REGISTER, input=account()))
    assert (await bounded(http.get("/health/ready"), GUARD)).status_code == 503

    await pg_proxy.stop()
    await pg_proxy.start()
    assert (await rest_login(http, known)).status_code == 200
