"""The server the fuzz tests hit, and the account they sign in as (tests/fuzz/hooks.py).

``fuzz_server`` (session scope) is the real app under uvicorn on a loopback port, on
PostgreSQL and Redis as in production, every upstream on the replay, rate limits out of
the way. Its cache is the Redis namespace of ``sessions_app``, whose tests load the one full
FastF1 session of the fixtures (the 2018 Azerbaijan race, with telemetry: 10 to 30 s); the
fixture asks for that session before any fuzzing, so the suite loads it once whichever runs
first, and a fuzzed request that names it finds it warm. The other sessions the fuzz can
name (see schemathesis.toml) hold no data in the fixtures and load in a fraction of a second.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from pypole_gql.db.migrate import upgrade_async
from pypole_gql.resources import Resources
from tests.faults.support import ServerThread
from tests.plugins.app import test_settings
from tests.plugins.fastf1 import SessionsApp, fastf1_app_settings
from tests.plugins.replay import Replay

#: The fuzz user; schemathesis.toml offers these to the fuzzed logins (the database is the
#: test session's own, so the address is free).
EMAIL = "fuzz@example.com"
USERNAME = "fuzzer"
PASSWORD = "correct horse battery staple"
#: The session fetched once before fuzzing (the only one of the fixtures with telemetry).
WARM_SESSION = "/api/v1/fastf1/race/2018/4/fastest-lap"


@dataclass
class FuzzServer:
    url: str
    resources: Resources
    email: str = EMAIL
    password: str = PASSWORD

    @property
    def fastf1_loads(self) -> int:
        return self.resources.sessions.client.loads


@pytest.fixture(scope="session")
def fuzz_server(
    replay: Replay,
    postgres_url: str,
    sessions_app: SessionsApp,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[FuzzServer]:
    tmp: Path = tmp_path_factory.mktemp("fuzz")
    values: dict[str, Any] = fastf1_app_settings(
        replay,
        database_url=postgres_url,
        redis_url=sessions_app.redis_url,
        redis_namespace=sessions_app.namespace,
        # dev settings: introspection on, so schemathesis can read the GraphQL schema.
        env="dev",
        introspection=True,
        graphql_timeout=120,
    )
    settings = test_settings(tmp, **values)
    asyncio.run(upgrade_async(settings.database_url))
    with ServerThread(settings) as server:
        app: Any = server.server.config.app
        fuzz = FuzzServer(server.url, app.state.resources)
        registered = httpx.post(
            f"{server.url}/api/v1/auth/register",
            json={"email": EMAIL, "username": USERNAME, "password": PASSWORD},
            timeout=30,
        )
        assert registered.status_code == 201, registered.text
        warm = httpx.get(f"{server.url}{WARM_SESSION}", timeout=600)
        assert warm.status_code == 200, warm.text
        yield fuzz
