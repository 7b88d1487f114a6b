"""Shared pieces of the Jolpica end-to-end tests (GraphQL and REST against the replay).

Everything that touches the replay fixture's own API is here, so the tests read as
scenarios: how many Jolpica requests the replay saw, when, and which fault is on.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractAsyncContextManager, contextmanager
from typing import Any

import httpx

JOLPICA_PREFIX = "/ergast/f1/"

#: The season dashboard: every race of 2023 with its circuit, results and qualifying, and
#: the final standings of both championships.
DASHBOARD = """
query Dashboard($year: Int!) {
  season(year: $year) {
    year
    races {
      round name date startsAt
      circuit { circuitId name locality country latitude longitude }
      sessions { name startsAt }
      results {
        position positionText points grid laps status time fastestLapRank fastestLapTime
        driver { driverId code }
        constructor { constructorId name }
      }
      qualifying { position q1 q2 q3 driver { driverId } constructor { constructorId } }
    }
    driverStandings { position points wins driver { driverId code } constructors { name } }
    constructorStandings { position points wins constructor { constructorId name } }
  }
}
"""


class Counter:
    """Jolpica requests the replay has seen since this counter was made."""

    def __init__(self, replay: Any) -> None:
        self.replay = replay
        self.start = len(self._records())

    def _records(self) -> list[Any]:
        records: list[Any] = self.replay.requests(prefix=JOLPICA_PREFIX)
        return records

    @property
    def paths(self) -> list[str]:
        """Path and query string of each request, oldest first."""
        return [record.target for record in self._records()[self.start :]]

    @property
    def stamps(self) -> list[float]:
        """Arrival of each request at the replay (epoch seconds)."""
        return [record.time for record in self._records()[self.start :]]

    def __len__(self) -> int:
        return len(self._records()) - self.start


@contextmanager
def at_most(replay: Any, limit: int) -> Iterator[Counter]:
    """Fails the test when the block costs more than ``limit`` Jolpica requests."""
    counter = Counter(replay)
    yield counter
    assert len(counter) <= limit, f"{len(counter)} Jolpica requests > {limit}: {counter.paths}"


@contextmanager
def jolpica_fault(replay: Any, **fault: Any) -> Iterator[None]:
    """Every Jolpica request meets ``fault`` (the replay's fault options) inside the block."""
    with replay.fault(prefix=JOLPICA_PREFIX, **fault):
        yield


def max_in_window(stamps: list[float], window: float = 1.0) -> int:
    """The most timestamps inside any half-open window of ``window`` seconds."""
    ordered = sorted(stamps)
    return max((sum(1 for s in ordered if t <= s < t + window) for t in ordered), default=0)


async def graphql(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    response = await client.post("/graphql", json={"query": query, "variables": variables or {}})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def error_codes(body: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in body.get("errors", [])]


ClientFactory = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


def jolpica_app(
    make_client: ClientFactory, replay: Any, **settings: Any
) -> AbstractAsyncContextManager[httpx.AsyncClient]:
    """The app on the replay's Jolpica, with a budget that does not slow tests down.

    Tests about the budget pass ``jolpica_rate`` themselves.
    """
    values: dict[str, Any] = {
        "jolpica_url": f"{replay.url}/ergast/f1",
        "jolpica_rate": "1000/second",
        "redis_namespace": f"pypole-test-{uuid.uuid4().hex[:10]}",
    }
    values.update(settings)
    return make_client(**values)
