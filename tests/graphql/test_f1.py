"""Championship GraphQL end to end: the app on the replay upstream, values from the CSV.

Upstream cost is counted at the replay (every Jolpica request it answered), so these
tests fail on request fan-out (one request per race) and on a warm cache that is not.
"""

from __future__ import annotations

import asyncio
import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.jolpica_oracle import ErgastOracle, oracle_for
from tests.jolpica_support import (
    DASHBOARD,
    ClientFactory,
    Counter,
    at_most,
    error_codes,
    graphql,
    jolpica_app,
    jolpica_fault,
    max_in_window,
)

#: The most Jolpica requests a cold dashboard may cost: schedule, results and qualifying
#: (5 pages of 100 each for 440 rows), both standings: 13, and some room.
DASHBOARD_BUDGET = 15


@pytest.fixture(scope="module")
def oracle(fixtures_dir: Path) -> ErgastOracle:
    return oracle_for(fixtures_dir / "jolpica" / "csv")


@pytest.fixture(params=["memory", "redis"])
def cache_settings(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Settings for each cache back end: in process, or Redis with this test's namespace."""
    if request.param == "memory":
        return {"redis_url": ""}
    return {
        "redis_url": request.getfixturevalue("redis_url"),
        "redis_namespace": request.getfixturevalue("redis_cleanup"),
    }


def assert_dashboard_matches(season: dict[str, Any], oracle: ErgastOracle) -> None:
    assert season["year"] == 2023
    races = season["races"]
    assert [race["round"] for race in races] == oracle.rounds(2023)
    assert len(races) == 22
    for race in races:
        round_ = race["round"]
        assert race["name"] == oracle.race_name(2023, round_)
        expected = oracle.results(2023, round_)
        assert [
            (r["driver"]["driverId"], r["constructor"]["constructorId"], r["position"])
            for r in race["results"]
        ] == [(row.driver_ref, row.constructor_ref, row.position) for row in expected]
        assert [(r["points"], r["grid"], r["laps"]) for r in race["results"]] == [
            (row.points, row.grid, row.laps) for row in expected
        ]
        quali = oracle.qualifying(2023, round_)
        assert [(q["driver"]["driverId"], q["position"], q["q1"]) for q in race["qualifying"]] == [
            (row.driver_ref, row.position, row.q1) for row in quali
        ]
    standings = oracle.driver_standings(2023)
    assert [(s["driver"]["code"], s["points"], s["wins"]) for s in season["driverStandings"]] == [
        (row.code, row.points, row.wins) for row in standings
    ]
    sums = oracle.points_by_driver_code(2023)
    top3 = season["driverStandings"][:3]
    assert [s["points"] for s in top3] == [sums[s["driver"]["code"]] for s in top3]
    teams = oracle.points_by_constructor_name(2023)
    leader = season["constructorStandings"][0]
    assert leader["points"] == max(teams.values()) == teams[leader["constructor"]["name"]]


async def test_dashboard_cold_and_warm_cost(
    make_client: ClientFactory,
    replay: Any,
    oracle: ErgastOracle,
    cache_settings: dict[str, Any],
) -> None:
    async with jolpica_app(make_client, replay, **cache_settings) as client:
        with at_most(replay, DASHBOARD_BUDGET) as cold:
            body = await graphql(client, DASHBOARD, {"year": 2023})
        assert "errors" not in body, body["errors"]
        # Season-wide tables, never one request per round.
        assert not [p for p in cold.paths if re.search(r"/2023/\d+/", p)], cold.paths
        assert_dashboard_matches(body["data"]["season"], oracle)

        with at_most(replay, 0):
            again = await graphql(client, DASHBOARD, {"year": 2023})
        assert again == body


async def test_dashboard_cold_within_budget_at_the_real_rate(
    make_client: ClientFactory, replay: Any
) -> None:
    # The default anonymous budget (4/s) still serves a cold dashboard, just not instantly.
    async with jolpica_app(make_client, replay, jolpica_rate="4/second;500/hour") as client:
        with at_most(replay, DASHBOARD_BUDGET) as cold:
            body = await graphql(client, DASHBOARD, {"year": 2023})
        assert "errors" not in body, body["errors"]
        assert max_in_window(cold.stamps) <= 4


async def test_fifty_concurrent_cold_queries_cost_one(
    make_client: ClientFactory,
    replay: Any,
    cache_settings: dict[str, Any],
) -> None:
    # What one cold query costs, measured on an app of its own (its own cold cache).
    async with jolpica_app(make_client, replay) as client:
        one = Counter(replay)
        await graphql(client, DASHBOARD, {"year": 2024})
        single = len(one)
    async with jolpica_app(make_client, replay, **cache_settings) as client:
        many = Counter(replay)
        bodies = await asyncio.gather(
            *(graphql(client, DASHBOARD, {"year": 2024}) for _ in range(50))
        )
        assert all("errors" not in body for body in bodies)
        assert all(body == bodies[0] for body in bodies)
        assert len(many) == single, many.paths


@pytest.mark.parametrize(("season", "round_"), [(2003, 1), (2015, 16), (2021, 12), (2024, 3)])
async def test_sampled_rounds_equal_the_csv(
    make_client: ClientFactory, replay: Any, oracle: ErgastOracle, season: int, round_: int
) -> None:
    query = """
    query($year: Int!, $round: Int!) {
      race(year: $year, round: $round) {
        season round name
        results {
          position positionText points grid laps
          driver { driverId } constructor { constructorId }
        }
        qualifying { position q1 q2 q3 driver { driverId } constructor { constructorId } }
      }
    }"""
    async with jolpica_app(make_client, replay) as client:
        body = await graphql(client, query, {"year": season, "round": round_})
    assert "errors" not in body, body["errors"]
    race = body["data"]["race"]
    assert (race["season"], race["round"]) == (season, round_)
    assert race["name"] == oracle.race_name(season, round_)
    assert [
        (
            r["driver"]["driverId"],
            r["constructor"]["constructorId"],
            r["position"],
            r["positionText"],
            r["points"],
            r["grid"],
            r["laps"],
        )
        for r in race["results"]
    ] == [
        (
            row.driver_ref,
            row.constructor_ref,
            row.position,
            row.position_text,
            row.points,
            row.grid,
            row.laps,
        )
        for row in oracle.results(season, round_)
    ]
    assert [
        (
            q["driver"]["driverId"],
            q["constructor"]["constructorId"],
            q["position"],
            q["q1"],
            q["q2"],
            q["q3"],
        )
        for q in race["qualifying"]
    ] == [
        (row.driver_ref, row.constructor_ref, row.position, row.q1, row.q2, row.q3)
        for row in oracle.qualifying(season, round_)
    ]


async def test_final_standings_2024(
    make_client: ClientFactory, replay: Any, oracle: ErgastOracle
) -> None:
    query = """{ season(year: 2024) {
      races { round }
      driverStandings { points driver { code } }
      constructorStandings { points constructor { name } } } }"""
    async with jolpica_app(make_client, replay) as client:
        body = await graphql(client, query)
    season = body["data"]["season"]
    assert len(season["races"]) == len(oracle.rounds(2024))
    drivers = oracle.points_by_driver_code(2024)
    leader = season["driverStandings"][0]
    assert leader["points"] == max(drivers.values()) == drivers[leader["driver"]["code"]]
    teams = oracle.points_by_constructor_name(2024)
    top = season["constructorStandings"][0]
    assert top["points"] == max(teams.values()) == teams[top["constructor"]["name"]]


async def test_sprint_and_standings_after_a_round(
    make_client: ClientFactory, replay: Any, oracle: ErgastOracle
) -> None:
    query = """{ race(year: 2023, round: 4) { sprint { position points driver { driverId } } }
      season(year: 2023) { driverStandings(round: 4) { points driver { driverId } } } }"""
    async with jolpica_app(make_client, replay) as client:
        body = await graphql(client, query)
    assert "errors" not in body
    sprint = body["data"]["race"]["sprint"]
    assert [(s["driver"]["driverId"], s["points"]) for s in sprint] == [
        (row.driver_ref, row.points) for row in oracle.sprint(2023, 4)
    ]
    assert body["data"]["season"]["driverStandings"][0]["points"] > 0


async def test_unknown_year_and_round_are_null(make_client: ClientFactory, replay: Any) -> None:
    query = """{ future: season(year: 2030) { year }
      nowhere: race(year: 2023, round: 99) { name }
      nobody: driver(driverId: "no_such_driver") { driverId } }"""
    async with jolpica_app(make_client, replay) as client:
        body = await graphql(client, query)
    assert body == {"data": {"future": None, "nowhere": None, "nobody": None}}


@pytest.mark.parametrize(
    ("query", "field", "requests"),
    [
        ("{ season(year: 1949) { year } }", "year", 0),
        ("{ season(year: 99999) { year } }", "year", 0),
        ("{ race(year: 2023, round: 0) { name } }", "round", 0),
        ("{ race(year: 1800, round: 1) { name } }", "year", 0),
        # The season itself is fine (its calendar is loaded); only the standings fail.
        ("{ season(year: 2023) { driverStandings(round: -1) { points } } }", "round", 1),
        ('{ driver(driverId: "../../etc") { driverId } }', "driverId", 0),
    ],
)
async def test_bad_arguments_are_bad_user_input(
    make_client: ClientFactory, replay: Any, query: str, field: str, requests: int
) -> None:
    async with jolpica_app(make_client, replay) as client:
        counter = Counter(replay)
        body = await graphql(client, query)
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == field
    assert len(counter) == requests, counter.paths


async def test_driver_by_id(make_client: ClientFactory, replay: Any, oracle: ErgastOracle) -> None:
    query = """{ driver(driverId: "hamilton") {
      driverId code permanentNumber givenName familyName nationality dateOfBirth url } }"""
    async with jolpica_app(make_client, replay) as client:
        body = await graphql(client, query)
    row = next(d for d in oracle.drivers.values() if d["driverRef"] == "hamilton")
    assert body["data"]["driver"] == {
        "driverId": "hamilton",
        "code": row["code"],
        "permanentNumber": int(row["number"]),
        "givenName": row["forename"],
        "familyName": row["surname"],
        "nationality": row["nationality"],
        "dateOfBirth": row["dob"],
        "url": row["url"],
    }


async def test_upstream_down_with_nothing_cached_is_upstream_unavailable(
    make_client: ClientFactory, replay: Any, cache_settings: dict[str, Any]
) -> None:
    async with jolpica_app(make_client, replay, jolpica_timeout=1.0, **cache_settings) as client:
        with jolpica_fault(replay, status=503):
            body = await graphql(client, "{ season(year: 2022) { year races { name } } }")
    assert body["data"] == {"season": None}
    assert error_codes(body) == ["UPSTREAM_UNAVAILABLE"]


async def test_cached_value_is_served_stale_when_upstream_fails(
    make_client: ClientFactory, replay: Any, cache_settings: dict[str, Any]
) -> None:
    # TTL 0: every read goes to Jolpica, and what was loaded stays only as a fallback. No fault
    # here is a delay, so the timeout only has to outlast a loaded machine.
    settings = {"jolpica_ttl": 0, "archive_ttl": 0, "jolpica_timeout": 30.0, **cache_settings}
    query = "{ season(year: 2023) { races { round results { position } } } }"
    async with jolpica_app(make_client, replay, **settings) as client:
        fresh = await graphql(client, query)
        assert "errors" not in fresh
        faults: list[dict[str, Any]] = [
            {"status": 500},
            {"status": 429, "retry_after": 60},
            {"drop": True},
            {"broken_body": True},
        ]
        for fault in faults:
            with jolpica_fault(replay, **fault):
                counter = Counter(replay)
                stale = await graphql(client, query)
            assert len(counter) > 0  # it did try Jolpica first
            assert stale == fresh, fault


async def test_no_request_hangs_past_the_timeout(make_client: ClientFactory, replay: Any) -> None:
    async with jolpica_app(make_client, replay, jolpica_timeout=0.5) as client:
        with jolpica_fault(replay, delay=5.0):
            started = time.monotonic()
            body = await graphql(client, "{ season(year: 2021) { year } }")
            elapsed = time.monotonic() - started
    assert error_codes(body) == ["UPSTREAM_UNAVAILABLE"]
    assert elapsed < 2.0


async def test_next_race_follows_the_upstream_clock(
    make_client: ClientFactory, replay: Any, oracle: ErgastOracle
) -> None:
    # The replay runs on the real clock; its data ends with 2025, so today there may be
    # no next race at all. Either way the answer is the CSV's first race still to start.
    async with jolpica_app(make_client, replay) as client:
        body = await graphql(client, "{ nextRace { season round name startsAt } }")
    assert "errors" not in body
    expected = oracle.next_race(datetime.now(UTC))
    race = body["data"]["nextRace"]
    if expected is None:
        assert race is None
    else:
        assert (race["season"], race["round"]) == expected
