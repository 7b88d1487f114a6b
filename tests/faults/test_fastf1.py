"""The live-timing archive failing in every way the replay can fail it, seen through the app.

For each fault on FastF1's ``/static`` requests: a session loaded before the fault (and
expired since) is served stale, equal to what was served fresh; a session never loaded
gets UPSTREAM_UNAVAILABLE (GraphQL) or a 503 with Retry-After (REST). Never a 500, never a
request that outlives FastF1's request timeout by more than a generous margin. A worker
process killed mid-load is tested in tests/services/test_sessions.py.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from tests.plugins.app import ClientFactory
from tests.plugins.clock import FakeClock
from tests.plugins.fastf1 import fastf1_app_settings
from tests.plugins.replay import Replay

pytestmark = pytest.mark.timeout(240)

TIMEOUT = 2.0  # PYPOLE_FASTF1_TIMEOUT: each HTTP request FastF1 makes
#: A load makes a dozen requests; FastF1 gives up on the first that fails, but a slow one
#: may be retried by FastF1 against its mirror (the same replay). Past this it is a hang.
GUARD = 60.0

FAULTS: dict[str, dict[str, Any]] = {
    "500": {"status": 500},
    "503": {"status": 503},
    "429": {"status": 429, "retry_after": 60},
    "slow": {"delay": TIMEOUT * 3},
    "dropped": {"drop": True},
    "broken-body": {"broken_body": True},
}
COLD = '{ session(year: 2024, race: "Silverstone", type: FP1) { round laps { lapNumber } } }'
WARM = '{ session(year: 2020, race: "Hungary", type: FP2) { round laps { driver lapTime } } }'


def _codes(body: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors", [])]


@pytest.mark.parametrize("fault", list(FAULTS))
async def test_fault_on_the_archive(
    fault: str, make_client: ClientFactory, replay: Replay, clock: FakeClock
) -> None:
    settings = fastf1_app_settings(
        replay, fastf1_timeout=TIMEOUT, fastf1_ttl=1, archive_ttl=1, jolpica_ttl=3600
    )
    async with make_client(clock=clock, **settings) as client:
        fresh = (await client.post("/graphql", json={"query": WARM})).json()
        assert "errors" not in fresh, fresh
        clock.advance(1.2)  # the session's entry expires (kept for stale-on-error)
        with replay.fault(prefix="/static/", **FAULTS[fault]):
            started = time.monotonic()
            stale = (
                await asyncio.wait_for(client.post("/graphql", json={"query": WARM}), GUARD)
            ).json()
            cold = (
                await asyncio.wait_for(client.post("/graphql", json={"query": COLD}), GUARD)
            ).json()
            rest = await asyncio.wait_for(
                client.get(
                    "/api/v1/fastf1/race/2024/Silverstone/laps", params={"session_type": "FP1"}
                ),
                GUARD,
            )
            elapsed = time.monotonic() - started
        # Loaded before: served stale, the same answer.
        assert stale == fresh
        # Never loaded: unavailable, clearly, and nothing cached of the failure.
        assert _codes(cold) == ["UPSTREAM_UNAVAILABLE"], cold
        assert cold["data"] == {"session": None}
        assert rest.status_code == 503, rest.text
        assert rest.headers.get("retry-after")
        assert set(rest.json()) == {"detail"}
        assert elapsed < GUARD
        # Once the archive answers again, the same question loads.
        again = (await client.post("/graphql", json={"query": COLD})).json()
        assert "errors" not in again, again
        assert again["data"]["session"]["laps"]
