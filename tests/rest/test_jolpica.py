"""``/api/v1/jolpica``: the older backend's shapes, Jolpica objects passed through whole.

Jolpica objects must keep Jolpica's field names and string values and hold every row;
the expected values are computed from the CSV database the replay answers from.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.jolpica_oracle import ErgastOracle, oracle_for
from tests.jolpica_support import ClientFactory, Counter, jolpica_app, jolpica_fault

API = "/api/v1/jolpica"


@pytest.fixture(scope="module")
def oracle(fixtures_dir: Path) -> ErgastOracle:
    return oracle_for(fixtures_dir / "jolpica" / "csv")


@pytest.mark.parametrize("path", ["/schedule?season=2023", "/schedule/2023"])
async def test_schedule_passes_jolpica_races_through(
    make_client: ClientFactory, replay: Any, oracle: ErgastOracle, path: str
) -> None:
    async with jolpica_app(make_client, replay) as client:
        response = await client.get(API + path)
    assert response.status_code == 200
    body = response.json()
    assert body["season"] == 2023
    races = body["races"]
    assert [int(race["round"]) for race in races] == oracle.rounds(2023)
    first = races[0]
    # Jolpica's names and string values, untouched.
    assert first["season"] == "2023" and first["round"] == "1"
    assert first["raceName"] == oracle.race_name(2023, 1)
    assert set(first["Circuit"]) >= {"circuitId", "circuitName", "Location"}
    assert isinstance(first["Circuit"]["Location"]["lat"], str)
    assert "FirstPractice" in first and "Qualifying" in first


async def test_schedule_without_season_and_current_are_the_current_season(
    make_client: ClientFactory, replay: Any
) -> None:
    async with jolpica_app(make_client, replay) as client:
        plain = await client.get(API + "/schedule")
        current = await client.get(API + "/schedule/current")
    assert plain.status_code == current.status_code
    assert plain.json() == current.json()


async def test_next_race_shape(
    make_client: ClientFactory, replay: Any, oracle: ErgastOracle
) -> None:
    async with jolpica_app(make_client, replay) as client:
        response = await client.get(API + "/schedule/next")
    assert response.status_code == 200
    body = response.json()
    expected = oracle.next_race(datetime.now(UTC))
    if expected is None:
        assert body == {"message": "No upcoming races found", "race": None}
    else:
        assert set(body) == {"race"}
        assert (int(body["race"]["season"]), int(body["race"]["round"])) == expected


@pytest.mark.parametrize("kind", ["drivers", "constructors"])
@pytest.mark.parametrize("season", [2023, 2024])
async def test_final_standings(
    make_client: ClientFactory, replay: Any, oracle: ErgastOracle, kind: str, season: int
) -> None:
    async with jolpica_app(make_client, replay) as client:
        response = await client.get(f"{API}/standings/{kind}", params={"season": season})
    assert response.status_code == 200
    body = response.json()
    assert body["season"] == season
    assert body["round"] == oracle.rounds(season)[-1]
    if kind == "drivers":
        expected = oracle.driver_standings(season)
        got = [(s["Driver"]["driverId"], s["points"], s["wins"]) for s in body["standings"]]
        totals = oracle.points_by_driver_code(season)
        leader = body["standings"][0]
        assert float(leader["points"]) == max(totals.values())
        assert float(leader["points"]) == totals[leader["Driver"]["code"]]
    else:
        expected = oracle.constructor_standings(season)
        got = [
            (s["Constructor"]["constructorId"], s["points"], s["wins"]) for s in body["standings"]
        ]
        teams = oracle.points_by_constructor_name(season)
        leader = body["standings"][0]
        assert float(leader["points"]) == max(teams.values())
        assert float(leader["points"]) == teams[leader["Constructor"]["name"]]
    # String values as Jolpica sends them, e.g. "575" and "19".
    assert got == [(row.ref, f"{row.points:g}", str(row.wins)) for row in expected]


async def test_standings_are_complete_beyond_one_page(
    make_client: ClientFactory, replay: Any, oracle: ErgastOracle
) -> None:
    # 1953 has more classified drivers than one page of 100 holds (and far more than 30).
    season = 1953
    expected = oracle.driver_standings(season)
    assert len(expected) > 100
    async with jolpica_app(make_client, replay) as client:
        counter = Counter(replay)
        response = await client.get(f"{API}/standings/drivers", params={"season": season})
    assert response.status_code == 200
    standings = response.json()["standings"]
    assert [s["Driver"]["driverId"] for s in standings] == [row.ref for row in expected]
    assert len([p for p in counter.paths if "driverstandings" in p]) == 2


@pytest.mark.parametrize(("season", "round_"), [(2023, 9), (2024, 3), (2021, 12), (1989, 5)])
async def test_results_of_a_round(
    make_client: ClientFactory, replay: Any, oracle: ErgastOracle, season: int, round_: int
) -> None:
    async with jolpica_app(make_client, replay) as client:
        response = await client.get(f"{API}/results/{season}/{round_}")
    assert response.status_code == 200
    body = response.json()
    assert (body["season"], body["round"]) == (season, round_)
    race = body["race"]
    assert (race["season"], race["round"]) == (str(season), str(round_))
    assert race["raceName"] == oracle.race_name(season, round_)
    expected = oracle.results(season, round_)
    assert [
        (r["Driver"]["driverId"], r["Constructor"]["constructorId"], r["position"], r["points"])
        for r in race["Results"]
    ] == [
        (row.driver_ref, row.constructor_ref, str(row.position), f"{row.points:g}")
        for row in expected
    ]


@pytest.mark.parametrize(("season", "round_"), [(2023, 13), (2015, 16), (2004, 1)])
async def test_qualifying_of_a_round(
    make_client: ClientFactory, replay: Any, oracle: ErgastOracle, season: int, round_: int
) -> None:
    async with jolpica_app(make_client, replay) as client:
        response = await client.get(f"{API}/qualifying/{season}/{round_}")
    assert response.status_code == 200
    race = response.json()["race"]
    expected = oracle.qualifying(season, round_)
    assert [
        (q["Driver"]["driverId"], q["position"], q.get("Q1"), q.get("Q2"), q.get("Q3"))
        for q in race["QualifyingResults"]
    ] == [(row.driver_ref, str(row.position), row.q1, row.q2, row.q3) for row in expected]


async def test_rounds_of_a_season_share_one_season_wide_load(
    make_client: ClientFactory, replay: Any, oracle: ErgastOracle
) -> None:
    async with jolpica_app(make_client, replay) as client:
        counter = Counter(replay)
        responses = await asyncio.gather(
            *(client.get(f"{API}/results/2023/{r}") for r in oracle.rounds(2023))
        )
    assert all(r.status_code == 200 for r in responses)
    pages = -(-oracle.result_count(2023) // 100)
    assert len(counter) == pages + 1, counter.paths  # the results pages and the calendar


@pytest.mark.parametrize(
    "path",
    [
        "/standings/drivers?season=2023&round=30",
        "/standings/drivers?season=2030&round=1",
        "/results/2023/99",
        "/qualifying/2023/23",
        "/results/2030/1",
    ],
)
async def test_missing_season_or_round_is_404(
    make_client: ClientFactory, replay: Any, path: str
) -> None:
    async with jolpica_app(make_client, replay) as client:
        response = await client.get(API + path)
    assert response.status_code == 404
    assert isinstance(response.json()["detail"], str)


def _unpublished_season(oracle: ErgastOracle) -> int:
    """The season after the fixtures' last one: it can be asked for (the wall clock's year
    and five ahead can), and the CSV has no calendar for it."""
    return oracle.last_race_with_results()[0] + 1


@pytest.mark.parametrize(
    ("path", "key"),
    [
        ("/schedule/{season}", "races"),
        ("/schedule?season={season}", "races"),
        ("/standings/drivers?season={season}", "standings"),
        ("/standings/constructors?season={season}", "standings"),
    ],
)
async def test_a_season_not_published_yet_is_an_empty_list(
    make_client: ClientFactory, replay: Any, oracle: ErgastOracle, path: str, key: str
) -> None:
    season = _unpublished_season(oracle)
    assert oracle.rounds(season) == []
    async with jolpica_app(make_client, replay) as client:
        counter = Counter(replay)
        response = await client.get(API + path.format(season=season))

    assert response.status_code == 200
    body = response.json()
    assert (body["season"], body[key]) == (season, [])
    if key == "standings":
        assert body["round"] is None
        # The empty calendar says it all: no standings request goes upstream.
        assert not [p for p in counter.paths if "standings" in p], counter.paths


async def test_current_season_before_its_calendar_is_an_empty_list(
    make_client: ClientFactory, replay: Any, oracle: ErgastOracle
) -> None:
    # The replay's "current" is the season of its clock: a year the CSV has no calendar for.
    season = _unpublished_season(oracle)
    assert oracle.rounds(season) == []
    replay.server.now = datetime(season, 1, 15, tzinfo=UTC)
    try:
        async with jolpica_app(make_client, replay) as client:
            schedule = await client.get(API + "/schedule/current")
            drivers = await client.get(API + "/standings/drivers")
            teams = await client.get(API + "/standings/constructors")
            previous = await client.get(API + f"/standings/drivers?season={season - 1}")
    finally:
        replay.server.now = None

    assert schedule.status_code == 200
    assert schedule.json() == {"season": season, "races": []}
    assert drivers.status_code == teams.status_code == 200
    assert drivers.json()["standings"] == teams.json()["standings"] == []
    # What the older frontend does next: the previous season, which has its standings.
    assert previous.status_code == 200
    codes = [entry["Driver"].get("code") for entry in previous.json()["standings"]]
    assert len(codes) == len(oracle.driver_standings(season - 1)) > 0


@pytest.mark.parametrize(
    ("path", "where"),
    [
        ("/schedule/abc", ["path", "season"]),
        ("/schedule/1949", ["path", "season"]),
        ("/schedule?season=20x3", ["query", "season"]),
        ("/standings/drivers?season=1800", ["query", "season"]),
        ("/standings/constructors?season=2023&round=0", ["query", "round"]),
        ("/results/2023/first", ["path", "round"]),
        ("/qualifying/99999/1", ["path", "season"]),
    ],
)
async def test_malformed_parameter_is_422(
    make_client: ClientFactory, replay: Any, path: str, where: list[str]
) -> None:
    async with jolpica_app(make_client, replay) as client:
        counter = Counter(replay)
        response = await client.get(API + path)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == where
    assert len(counter) == 0


@pytest.mark.parametrize(
    "path",
    ["/schedule/2019", "/standings/drivers?season=2019", "/results/2019/3", "/schedule/next"],
)
async def test_upstream_down_with_nothing_cached_is_503(
    make_client: ClientFactory, replay: Any, path: str
) -> None:
    async with jolpica_app(make_client, replay, jolpica_timeout=1.0) as client:
        with jolpica_fault(replay, status=503):
            response = await client.get(API + path)
    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    assert isinstance(response.json()["detail"], str)


async def test_rate_limited_upstream_is_503_with_its_retry_after(
    make_client: ClientFactory, replay: Any
) -> None:
    async with jolpica_app(make_client, replay, jolpica_timeout=1.0) as client:
        with jolpica_fault(replay, status=429, retry_after=120):
            response = await client.get(API + "/schedule/2018")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "120"


async def test_stale_schedule_is_served_when_upstream_fails(
    make_client: ClientFactory, replay: Any
) -> None:
    settings = {"jolpica_ttl": 0, "archive_ttl": 0, "jolpica_timeout": 1.0}
    async with jolpica_app(make_client, replay, **settings) as client:
        fresh = await client.get(API + "/schedule/2017")
        with jolpica_fault(replay, drop=True):
            stale = await client.get(API + "/schedule/2017")
    assert fresh.status_code == stale.status_code == 200
    assert stale.json() == fresh.json()


async def test_slow_upstream_is_503_within_the_timeout(
    make_client: ClientFactory, replay: Any
) -> None:
    async with jolpica_app(make_client, replay, jolpica_timeout=0.5) as client:
        with jolpica_fault(replay, delay=5.0):
            started = time.monotonic()
            response = await client.get(API + "/results/2016/4")
            elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert elapsed < 2.0
