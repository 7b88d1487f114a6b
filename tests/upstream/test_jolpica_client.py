"""JolpicaClient against the replay upstream: whole tables, merged pages, the shared budget.

Counts and timestamps are taken at the replay, so "one request per page" and "never more
than the per-second limit" are what Jolpica would have seen.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from pypole_gql.errors import UpstreamUnavailable
from pypole_gql.upstream.budget import OutboundBudget
from pypole_gql.upstream.http import HttpClient
from pypole_gql.upstream.jolpica import JolpicaClient
from tests.jolpica_oracle import ErgastOracle, oracle_for
from tests.jolpica_support import (
    ClientFactory,
    Counter,
    graphql,
    jolpica_app,
    max_in_window,
)


@pytest.fixture(scope="module")
def oracle(fixtures_dir: Path) -> ErgastOracle:
    return oracle_for(fixtures_dir / "jolpica" / "csv")


@pytest.fixture
async def client(replay: Any) -> AsyncIterator[JolpicaClient]:
    budget = OutboundBudget("1000/second", name=f"test-{uuid.uuid4().hex[:8]}")
    async with HttpClient.open(call_timeout=10.0) as http:
        yield JolpicaClient(http, f"{replay.url}/ergast/f1", budget)
    await budget.close()


async def test_season_results_follow_total_and_merge_split_races(
    client: JolpicaClient, replay: Any, oracle: ErgastOracle
) -> None:
    # 2024 round 3 had 19 starters: from there on every race straddles a page boundary.
    counter = Counter(replay)
    table = await client.results(2024)
    assert len(counter) == -(-oracle.result_count(2024) // 100)
    assert all("limit=100" in path for path in counter.paths)
    assert [entry.race.round for entry in table.races] == oracle.rounds(2024)
    for entry in table.races:
        expected = oracle.results(2024, entry.race.round)
        assert [(r.driver.driver_id, r.position, r.points) for r in entry.rows] == [
            (row.driver_ref, row.position, row.points) for row in expected
        ]
        # The raw Race object holds the merged rows too, for the REST shim.
        assert len(entry.raw["Results"]) == len(expected)


async def test_qualifying_of_a_busy_season(
    client: JolpicaClient, replay: Any, oracle: ErgastOracle
) -> None:
    table = await client.qualifying(1994)
    for entry in table.races:
        assert [(q.driver.driver_id, q.position) for q in entry.rows] == [
            (row.driver_ref, row.position) for row in oracle.qualifying(1994, entry.race.round)
        ]


async def test_schedule_parses_times_as_utc(client: JolpicaClient, oracle: ErgastOracle) -> None:
    schedule = await client.schedule(2023)
    assert [race.round for race in schedule.races] == oracle.rounds(2023)
    first = schedule.races[0]
    assert first.starts_at is not None and first.starts_at.utcoffset() is not None
    assert first.starts_at.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    assert first.circuit.latitude is not None
    assert [s.name for s in first.sessions][-1] == "Qualifying"
    baku = schedule.race(4)
    assert baku is not None
    assert "Sprint" in [s.name for s in baku.sessions]


async def test_unknown_things_are_empty(client: JolpicaClient) -> None:
    assert (await client.schedule(2031)).races == ()
    assert (await client.results(2031)).races == ()
    assert (await client.driver_standings(2031)).entries == ()
    assert await client.driver("no_such_driver") is None


async def test_sprint_table_has_only_sprint_rounds(
    client: JolpicaClient, oracle: ErgastOracle
) -> None:
    table = await client.sprint(2023)
    rounds = [entry.race.round for entry in table.races]
    assert rounds == [r for r in oracle.rounds(2023) if oracle.sprint(2023, r)]
    for entry in table.races:
        assert [(s.driver.driver_id, s.points) for s in entry.rows] == [
            (row.driver_ref, row.points) for row in oracle.sprint(2023, entry.race.round)
        ]


async def test_a_burst_of_distinct_requests_keeps_to_the_rate(
    make_client: ClientFactory, replay: Any
) -> None:
    # Ten seasons' calendars, none cached: ten requests that all want to go at once.
    query = "{ " + " ".join(f"s{y}: season(year: {y}) {{ year }}" for y in range(2005, 2015)) + " }"
    async with jolpica_app(make_client, replay, jolpica_rate="4/second;500/hour") as app:
        counter = Counter(replay)
        body = await graphql(app, query)
    assert "errors" not in body
    assert len(counter) == 10
    assert max_in_window(counter.stamps) <= 4


async def test_two_instances_sharing_redis_share_the_budget(
    make_client: ClientFactory, replay: Any, redis_url: str, redis_cleanup: str
) -> None:
    settings = {
        "jolpica_rate": "4/second;500/hour",
        "redis_url": redis_url,
        "redis_namespace": redis_cleanup,
    }
    first_query = (
        "{ " + " ".join(f"d{y}: season(year: {y}) {{ year }}" for y in range(1990, 1996)) + " }"
    )
    second_query = (
        "{ " + " ".join(f"d{y}: season(year: {y}) {{ year }}" for y in range(1996, 2002)) + " }"
    )
    async with (
        jolpica_app(make_client, replay, **settings) as first,
        jolpica_app(make_client, replay, **settings) as second,
    ):
        counter = Counter(replay)
        bodies = await asyncio.gather(graphql(first, first_query), graphql(second, second_query))
    assert all("errors" not in body for body in bodies)
    assert len(counter) == 12
    assert max_in_window(counter.stamps) <= 4


@pytest.mark.parametrize(
    "fault", [{"status": 503}, {"status": 500}, {"drop": True}, {"broken_body": True}]
)
async def test_one_transient_failure_is_retried(
    client: JolpicaClient, replay: Any, oracle: ErgastOracle, fault: dict[str, Any]
) -> None:
    with replay.fault(prefix="/ergast/f1/", times=1, **fault):
        schedule = await client.schedule(2022)
    assert [race.round for race in schedule.races] == oracle.rounds(2022)
    assert replay.count(prefix="/ergast/f1/") == 2


async def test_short_429_is_waited_out(client: JolpicaClient, replay: Any) -> None:
    with replay.fault(prefix="/ergast/f1/", times=1, status=429, retry_after=1):
        started = time.monotonic()
        schedule = await client.schedule(2020)
    assert schedule.races
    assert time.monotonic() - started >= 0.9
    assert replay.count(prefix="/ergast/f1/") == 2


async def test_failures_past_the_retries_are_upstream_unavailable(
    client: JolpicaClient, replay: Any
) -> None:
    with replay.fault(prefix="/ergast/f1/", status=502), pytest.raises(UpstreamUnavailable):
        await client.schedule(2019)
    assert replay.count(prefix="/ergast/f1/") == 3


def _csv(fixtures_dir: Path, name: str) -> list[dict[str, str]]:
    import csv

    with (fixtures_dir / "jolpica" / "csv" / f"{name}.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


# 1 and 18 are in the fixtures' jolpica_db_subset; 3 (red flag) has minute-long
# durations ("15:25.181"); 13 has 101 stops, more than one page.
@pytest.mark.parametrize("round_", [1, 18, 3, 13])
async def test_pit_stops_equal_the_csv(
    client: JolpicaClient, replay: Any, fixtures_dir: Path, round_: int
) -> None:
    race_id = next(
        r["raceId"]
        for r in _csv(fixtures_dir, "races")
        if (r["year"], r["round"]) == ("2023", str(round_))
    )
    refs = {r["driverId"]: r["driverRef"] for r in _csv(fixtures_dir, "drivers")}
    rows = [r for r in _csv(fixtures_dir, "pit_stops") if r["raceId"] == race_id]
    expected = {
        (refs[r["driverId"]], int(r["stop"])): (int(r["lap"]), r["time"], int(r["milliseconds"]))
        for r in rows
    }
    counter = Counter(replay)
    stops = await client.pit_stops(2023, round_)
    assert len(counter) == -(-len(rows) // 100)
    assert len(stops) == len(rows) > 0
    got = {
        (s.driver_id, s.stop): (
            s.lap,
            s.time,
            None if s.duration is None else round(s.duration * 1000),
        )
        for s in stops
    }
    assert got == expected
    assert all(len(s.raw) > 0 for s in stops)


async def test_pit_stops_of_an_unknown_race_are_empty(client: JolpicaClient) -> None:
    assert await client.pit_stops(2023, 99) == ()
