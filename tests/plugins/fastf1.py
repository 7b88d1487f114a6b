"""FastF1 against the replay server, FastF1 itself as the oracle, and a shared sessions app.

``replay`` (``tests/plugins/replay.py``) plays FastF1's three upstreams from the shared
fixtures: ``/static`` (synthetic telemetry laid over the recordings), ``/f1schedule`` and
``/ergast/f1``.

- ``fastf1_oracle(year, race, kind, telemetry=False)`` loads a session with FastF1 in the
  test process, from that same server, once per test session (loads take 1 to 12 s).
- ``sessions_app`` is one app for the whole test session, on the replay and on Redis
  (a namespace of its own), so the 2018 race with telemetry is loaded by the app once and
  shared by the GraphQL and REST tests; it also lets a second process find it in Redis.
- ``fastf1_app_settings(replay)`` are the settings that point an app at the replay.
- ``fastf1_shared_cache`` is the one FastF1 cache folder (HTTP cache and parsed-data pickles)
  of the loads above, which compare data and never count FastF1's upstream traffic: a
  session the sessions app loaded is parsed again by the oracle from FastF1's own cache
  instead of from the live-timing streams (a cold race with telemetry is ~3x the warm one).
  It lives in this test session's tmp dir, so it never outlives the code or the replay
  (whose URL is part of FastF1's cache keys). Tests of FastF1's traffic, faults or cache
  use a folder of their own.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from pypole_gql.resources import Resources
from pypole_gql.upstream.fastf1 import FastF1Config
from tests.plugins.app import running_app, test_settings
from tests.plugins.replay import Replay


def replay_config(url: str, cache_dir: Path, **kwargs: Any) -> FastF1Config:
    """FastF1 pointed at a replay server at ``url`` (or anything laid out like one)."""
    return FastF1Config(
        cache_dir=cache_dir,
        livetiming_url=url,
        schedule_url=f"{url}/f1schedule",
        jolpica_url=f"{url}/ergast/f1",
        **kwargs,
    )


def fastf1_app_settings(replay: Replay, **overrides: Any) -> dict[str, Any]:
    """Settings overrides for an app whose every upstream is the replay."""
    values: dict[str, Any] = {
        "jolpica_url": f"{replay.url}/ergast/f1",
        "livetiming_url": replay.url,
        "schedule_url": f"{replay.url}/f1schedule",
        "jolpica_rate": "1000/second",
        # A cold load with telemetry is ~13 s alone, minutes on a loaded CI machine.
        "graphql_timeout": 600,
        "redis_namespace": f"pypole-test-{uuid.uuid4().hex[:10]}",
    }
    values.update(overrides)
    return values


OracleLoader = Callable[..., Any]


@pytest.fixture(scope="session")
def fastf1_shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The FastF1 cache folder shared by the oracle, the in-process session loads of
    ``tests/upstream`` and the sessions app (see the module docstring)."""
    return tmp_path_factory.mktemp("fastf1-shared-cache")


@pytest.fixture(scope="session")
def fastf1_oracle(replay: Replay, fastf1_shared_cache: Path) -> OracleLoader:
    """``fastf1_oracle(year, race, kind, telemetry=False)``: a loaded ``fastf1.core.Session``."""
    config = replay_config(replay.url, fastf1_shared_cache)
    loaded: dict[tuple[Any, ...], Any] = {}

    def load(year: int, race: int | str, kind: str, *, telemetry: bool = False) -> Any:
        key = (year, race, kind, telemetry)
        if key not in loaded:
            import fastf1

            config.apply()
            session = fastf1.get_session(year, race, kind)
            session.load(laps=True, telemetry=telemetry, weather=True, messages=True)
            loaded[key] = session
        return loaded[key]

    return load


@dataclass
class SessionsApp:
    client: httpx.AsyncClient
    resources: Resources
    redis_url: str
    namespace: str

    async def graphql(self, query: str, **variables: Any) -> dict[str, Any]:
        response = await self.client.post("/graphql", json={"query": query, "variables": variables})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    @property
    def loads(self) -> int:
        return self.resources.sessions.client.loads


@pytest.fixture(scope="session")
async def sessions_app(
    replay: Replay,
    redis_url: str,
    fastf1_shared_cache: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[SessionsApp]:
    tmp = tmp_path_factory.mktemp("sessions-app")
    values = fastf1_app_settings(replay, redis_url=redis_url, fastf1_cache_dir=fastf1_shared_cache)
    settings = test_settings(tmp, **values)
    try:
        async with running_app(settings) as app:
            transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50001))
            async with httpx.AsyncClient(
                transport=transport, base_url="http://testserver", timeout=120
            ) as client:
                yield SessionsApp(client, app.state.resources, redis_url, values["redis_namespace"])
    finally:
        import redis.asyncio as aioredis

        redis = aioredis.Redis.from_url(redis_url)
        try:
            pattern = f"{values['redis_namespace']}*"
            keys = [k async for k in redis.scan_iter(match=pattern, count=500)]
            if keys:
                await redis.delete(*keys)
        finally:
            await redis.aclose()


# Under pytest-xdist (`-n 2 --dist loadgroup`, as CI runs the suite) every worker has its own
# session fixtures: the tests on the shared sessions app or the oracle stay on one worker, so
# the 2018 race with telemetry and the oracle's sessions are still loaded once per run.
SHARED_LOADS = frozenset({"sessions_app", "fastf1_oracle"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if SHARED_LOADS & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.xdist_group("fastf1-sessions"))
