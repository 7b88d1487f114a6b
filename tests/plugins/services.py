"""Real PostgreSQL and Redis for tests.

``PYPOLE_TEST_DATABASE_URL`` names a PostgreSQL server where the tests may create and drop
databases of their own (the database in the URL is only used to connect); each test session
creates ``pypole_test_<random>`` and drops it at the end. ``PYPOLE_TEST_REDIS_URL`` names a
Redis; tests isolate themselves by key namespace and never flush it. Unset: the tests that need
them skip with a reason; with ``PYPOLE_TEST_REQUIRE_SERVICES=1`` (CI) they fail instead.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy.engine import make_url

REQUIRE_SERVICES = os.environ.get("PYPOLE_TEST_REQUIRE_SERVICES") == "1"


def unavailable(reason: str) -> None:
    """Skip, or fail when the services are required."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (PYPOLE_TEST_REQUIRE_SERVICES=1)", pytrace=False)
    pytest.skip(reason)


async def admin_execute(admin_url: str, statement: str) -> None:
    import asyncpg

    url = make_url(admin_url)
    conn = await asyncpg.connect(
        host=url.host or "127.0.0.1",
        port=url.port or 5432,
        user=url.username or "postgres",
        password=url.password,
        database=url.database or "postgres",
        timeout=5,
    )
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session (asyncpg URL); dropped afterwards."""
    admin_url = os.environ.get("PYPOLE_TEST_DATABASE_URL")
    if not admin_url:
        unavailable("PYPOLE_TEST_DATABASE_URL is not set: PostgreSQL tests skipped")
    assert admin_url is not None
    name = f"pypole_test_{uuid.uuid4().hex[:12]}"
    try:
        asyncio.run(admin_execute(admin_url, f'CREATE DATABASE "{name}"'))
    except (OSError, Exception) as exc:
        unavailable(f"PostgreSQL at PYPOLE_TEST_DATABASE_URL is unreachable: {exc}")
    url = make_url(admin_url).set(drivername="postgresql+asyncpg", database=name)
    yield url.render_as_string(hide_password=False)
    asyncio.run(admin_execute(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def redis_url() -> str:
    """A reachable Redis (tests use their own key namespace and never flush it)."""
    url = os.environ.get("PYPOLE_TEST_REDIS_URL")
    if not url:
        unavailable("PYPOLE_TEST_REDIS_URL is not set: Redis tests skipped")
    assert url is not None

    async def ping() -> None:
        import redis.asyncio as aioredis

        client = aioredis.Redis.from_url(url, socket_connect_timeout=2)
        try:
            await client.ping()
        finally:
            await client.aclose()

    try:
        asyncio.run(ping())
    except Exception as exc:
        unavailable(f"Redis at PYPOLE_TEST_REDIS_URL is unreachable: {exc}")
    return url


@pytest.fixture
def redis_namespace() -> str:
    return f"pypole-test-{uuid.uuid4().hex[:10]}"


@pytest.fixture
async def redis_cleanup(redis_url: str, redis_namespace: str) -> AsyncIterator[str]:
    """Deletes every key of this test's namespace afterwards."""
    yield redis_namespace
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(redis_url)
    try:
        keys = [k async for k in client.scan_iter(match=f"{redis_namespace}:*", count=500)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()
