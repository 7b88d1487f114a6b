"""What a cached anonymous GraphQL hit asks of Redis, counted by a Redis of the test's own.

``INFO commandstats`` of a test-owned ``redis-server`` counts every command run: a hit whose
answer the in-process front holds costs one ``EVALSHA`` (the rate limit's shared window,
four commands inside the script) and nothing else, in one write of the multiplexed
connection; an instance whose front does not hold it yet reads the answer from Redis once
(one ``GET``) and then holds it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import redis
from starlette.applications import Starlette

from pypole_gql.redis_link import RedisLink
from tests.faults.support import SEASON_QUERY, RedisProcess, client, fault_app, gql

pytestmark = pytest.mark.timeout(60)


class Counts:
    """``INFO commandstats`` over one connection of its own (opened before the first reset,
    so its handshake is not counted): every command any client or script ran, by name."""

    def __init__(self, server: RedisProcess) -> None:
        self._conn = redis.Redis(host="127.0.0.1", port=server.port)
        self._conn.ping()

    def reset(self) -> None:
        self._conn.config_resetstat()

    def since_reset(self) -> dict[str, int]:
        stats: dict[str, Any] = self._conn.info("commandstats")
        counts = {name.removeprefix("cmdstat_"): int(v["calls"]) for name, v in stats.items()}
        return {name: n for name, n in counts.items() if name not in ("config|resetstat", "info")}

    def close(self) -> None:
        self._conn.close()


#: The commands the charge script runs for a hit in a window with no expired hits.
SCRIPT = ("lindex", "llen", "lpush", "expire")


def charged(hits: int, **more: int) -> dict[str, int]:
    return {"evalsha": hits, **dict.fromkeys(SCRIPT, hits), **more}


def link_of(app: Starlette) -> RedisLink:
    link = app.state.resources.redis
    assert isinstance(link, RedisLink)
    return link


async def hits(app: Starlette, count: int) -> None:
    async with client(app) as http:
        for _ in range(count):
            response = await gql(http, SEASON_QUERY % 2023)
            assert response.status_code == 200, response.text
            assert "errors" not in response.json()


async def test_a_cached_hit_costs_one_command_in_one_write(
    tmp_path: Path, replay: Any, redis_process: RedisProcess
) -> None:
    settings: dict[str, Any] = {
        "redis_url": redis_process.url,
        "jolpica_url": f"{replay.url}/ergast/f1",
        "jolpica_rate": "1000/second",
        "rate_limit": "1000/minute",
    }
    counts = Counts(redis_process)
    try:
        async with fault_app(tmp_path / "a", **settings) as first:
            await hits(first, 2)  # a miss (kept in the front and in Redis), then a hit
            cached = first.state.response_cache.stats.hits
            writes = link_of(first).mux.writes
            counts.reset()

            await hits(first, 10)

            assert counts.since_reset() == charged(10)
            assert link_of(first).mux.writes - writes == 10  # one round trip each
            assert first.state.response_cache.stats.hits - cached == 10

            # Another worker on the same Redis: its front is empty at first.
            async with fault_app(tmp_path / "b", **settings) as second:
                counts.reset()
                await hits(second, 1)
                # ... and its multiplexed connection opens (RESP3 handshake, client name).
                handshake = {"hello": 1, "client|setname": 1}
                assert counts.since_reset() == charged(1, get=1, **handshake)
                counts.reset()
                await hits(second, 5)
                assert counts.since_reset() == charged(5)
                assert second.state.response_cache.stats.hits == 6
    finally:
        counts.close()
