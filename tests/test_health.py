"""``/health/live`` and ``/health/ready`` against real, unreachable and silent dependencies."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from importlib.metadata import version
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url
from structlog.testing import capture_logs

from pypole_gql.app import create_app
from pypole_gql.db import engine
from pypole_gql.resources import READINESS_TIMEOUT
from tests.plugins.app import ClientFactory, app_client, resources_of
from tests.plugins.app import test_settings as settings_for


def closed_port() -> int:
    """A local port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A local port that accepts connections and never answers (a hung dependency)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    port: int = server.getsockname()[1]
    try:
        yield port
    finally:
        server.close()


@asynccontextmanager
async def unmigrated_client(tmp_path: Path, **overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The real app and lifespan without migrating first: the database may not be reachable."""
    app = create_app(settings_for(tmp_path, **overrides), configure_logs=False)
    async with app.router.lifespan_context(app), app_client(app) as client:
        yield client


@pytest.fixture
def short_ping(monkeypatch: pytest.MonkeyPatch) -> float:
    """The database ping's own deadline, shortened (it is 2.5 s) but still well inside the
    readiness timeout: a hung database is reported by the ping giving up, not by the outer
    bound."""
    monkeypatch.setattr(engine, "PING_TIMEOUT", 0.3)
    return 0.3


async def timed_get(client: httpx.AsyncClient, path: str) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = await client.get(path)
    return response, time.monotonic() - started


async def test_live_answers(make_client: ClientFactory) -> None:
    async with make_client() as client:
        response = await client.get("/health/live")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_names_the_database_check(make_client: ClientFactory, db_url: str) -> None:
    async with make_client(database_url=db_url) as client:
        response = await client.get("/health/ready")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok"}}


async def test_ready_names_redis_when_configured(
    make_client: ClientFactory, redis_url: str, redis_cleanup: str
) -> None:
    async with make_client(redis_url=redis_url, redis_namespace=redis_cleanup) as client:
        response = await client.get("/health/ready")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}


async def test_ready_fails_when_postgres_port_is_closed(tmp_path: Path) -> None:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{closed_port()}/pypole"
    async with unmigrated_client(tmp_path, database_url=url) as client:
        live = await client.get("/health/live")
        response, elapsed = await timed_get(client, "/health/ready")

    assert live.status_code == 200
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "checks": {"database": "failing"}}
    assert elapsed < READINESS_TIMEOUT


async def test_ready_fails_when_the_postgres_database_does_not_exist(
    tmp_path: Path, postgres_url: str
) -> None:
    url = make_url(postgres_url).set(database="pypole_no_such_database").render_as_string(False)
    async with unmigrated_client(tmp_path, database_url=url) as client:
        response = await client.get("/health/ready")

    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "failing"}


async def test_ready_fails_when_the_sqlite_folder_is_missing(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'no' / 'such' / 'folder' / 'pypole.db'}"
    async with unmigrated_client(tmp_path, database_url=url) as client:
        response = await client.get("/health/ready")

    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "failing"}


async def test_ready_fails_when_redis_port_is_closed(make_client: ClientFactory) -> None:
    async with make_client(redis_url=f"redis://127.0.0.1:{closed_port()}/0") as client:
        response, elapsed = await timed_get(client, "/health/ready")

    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "redis": "failing"},
    }
    assert elapsed < READINESS_TIMEOUT


async def test_ready_does_not_hang_on_a_silent_database(
    tmp_path: Path, silent_port: int, short_ping: float
) -> None:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{silent_port}/pypole"
    async with unmigrated_client(tmp_path, database_url=url) as client:
        with capture_logs() as logs:
            response, elapsed = await timed_get(client, "/health/ready")

    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "failing"}
    # The ping gave up on its own deadline (a hung server, not a refused connection) ...
    failed = [e for e in logs if e["event"] == "db.ping_failed"]
    assert [e["error"] for e in failed] == ["TimeoutError"]
    # ... and the answer did not wait for the query's cancellation either.
    assert elapsed < READINESS_TIMEOUT


async def test_ready_does_not_hang_on_a_silent_redis(
    make_client: ClientFactory, silent_port: int
) -> None:
    async with make_client(redis_url=f"redis://127.0.0.1:{silent_port}/0") as client:
        response, elapsed = await timed_get(client, "/health/ready")

    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "redis": "failing"}
    assert elapsed < READINESS_TIMEOUT + 1.5


async def test_checks_run_concurrently(
    tmp_path: Path, silent_port: int, short_ping: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hung database and a hung Redis cost one timeout, not two: both checks are under way
    before either has answered."""
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{silent_port}/pypole"
    redis = f"redis://127.0.0.1:{silent_port}/0"
    async with unmigrated_client(tmp_path, database_url=url, redis_url=redis) as client:
        resources = resources_of(client)
        steps: list[str] = []

        def traced(name: str, ping: Callable[[], Awaitable[bool]]) -> Callable[[], Any]:
            async def spy() -> bool:
                steps.append(f"{name} asked")
                try:
                    return await ping()
                finally:
                    steps.append(f"{name} answered")

            return spy

        monkeypatch.setattr(resources.db, "ping", traced("database", resources.db.ping))
        monkeypatch.setattr(resources.cache, "ping", traced("redis", resources.cache.ping))
        response = await client.get("/health/ready")

    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "failing", "redis": "failing"}
    assert sorted(steps[:2]) == ["database asked", "redis asked"], steps
    assert sorted(steps[2:]) == ["database answered", "redis answered"], steps


async def test_ready_recovers_without_a_restart(tmp_path: Path) -> None:
    """Readiness is checked per request: a database that appears later makes it ready."""
    from pypole_gql.db.migrate import upgrade_async

    db_file = tmp_path / "later" / "pypole.db"
    async with unmigrated_client(tmp_path, database_url=f"sqlite+aiosqlite:///{db_file}") as client:
        before = await client.get("/health/ready")
        await upgrade_async(f"sqlite+aiosqlite:///{db_file}")  # creates the folder and file
        after = await client.get("/health/ready")

    assert (before.status_code, after.status_code) == (503, 200)


def test_silent_port_is_really_silent(silent_port: int) -> None:
    """Guard for the hang tests above: the fake dependency accepts but never sends a byte."""

    async def probe() -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", silent_port)
        try:
            return await asyncio.wait_for(reader.read(1), 0.3)
        except TimeoutError:
            return b""
        finally:
            writer.close()

    assert asyncio.run(probe()) == b""


# -- the older backend's routes (issue 16.5) ------------------------------------------------


async def test_api_health_answers_as_ready(make_client: ClientFactory) -> None:
    async with make_client() as client:
        ready = await client.get("/health/ready")
        alias = await client.get("/api/v1/health")

    assert alias.status_code == ready.status_code == 200
    assert alias.json() == ready.json() == {"status": "ok", "checks": {"database": "ok"}}


async def test_api_health_is_503_when_the_database_is_down(tmp_path: Path) -> None:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{closed_port()}/pypole"
    async with unmigrated_client(tmp_path, database_url=url) as client:
        alias = await client.get("/api/v1/health")
        ready = await client.get("/health/ready")

    assert alias.status_code == ready.status_code == 503
    assert alias.json() == ready.json()
    assert alias.json()["checks"]["database"] == "failing"


async def test_root_names_the_service_and_its_docs(make_client: ClientFactory) -> None:
    async with make_client() as client:
        response = await client.get("/")
        # Every link it gives is served.
        statuses = {
            name: (await client.get(path)).status_code
            for name, path in response.json()["links"].items()
            if name != "rest"
        }

    assert response.status_code == 200
    body = response.json()
    assert body["service"] == "PyPole GQL"
    assert body["version"] == version("pypole-gql")
    assert body["docs"] == "/api/v1/docs" and "message" in body
    assert statuses == dict.fromkeys(statuses, 200), statuses
