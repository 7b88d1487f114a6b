"""Fixtures of the fault tests: a Redis the test may kill, a PostgreSQL it may cut off."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.faults.support import RedisProcess, TcpProxy
from tests.plugins.services import unavailable


@pytest.fixture
def redis_process(tmp_path: Path) -> Iterator[RedisProcess]:
    """A running ``redis-server`` of this test's own (free port, no persistence); killed after."""
    if shutil.which("redis-server") is None:
        unavailable("redis-server is not installed: Redis fault tests skipped")
    process = RedisProcess(tmp_path / "redis")
    process.start()
    try:
        yield process
    finally:
        process.kill()


@pytest.fixture
async def pg_proxy(postgres_url: str) -> AsyncIterator[TcpProxy]:
    """A running :class:`TcpProxy` in front of the session's PostgreSQL (stopped after)."""
    url = make_url(postgres_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.stop()


@pytest.fixture
def proxied_database_url(postgres_url: str, pg_proxy: TcpProxy) -> str:
    """The session's PostgreSQL database, reached only through ``pg_proxy``."""
    url = make_url(postgres_url).set(host="127.0.0.1", port=pg_proxy.port)
    return url.render_as_string(hide_password=False)
