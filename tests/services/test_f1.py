"""F1Service: cache keys, TTL policy, stale-on-error, single flight, argument checks.

The service runs on the real JolpicaClient and the real Cache (in process and Redis); only
the HTTP layer is replaced, by one that answers from the CSV database through the
replay's generator and counts requests, so time can be moved by hand. The same behaviour
over real HTTP against the replay upstream is covered in tests/graphql and tests/rest.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from pypole_gql.cache import Cache
from pypole_gql.errors import BadUserInput, UpstreamUnavailable
from pypole_gql.replay.ergast import ErgastCsvDatabase
from pypole_gql.services.f1 import RESULTS_SETTLE, F1Service
from pypole_gql.upstream.budget import OutboundBudget
from pypole_gql.upstream.http import BeforeAttempt
from pypole_gql.upstream.jolpica import JolpicaClient
from tests.jolpica_oracle import ErgastOracle, oracle_for

LIVE_TTL = 900
ARCHIVE_TTL = 30 * 24 * 3600
BASE = "http://jolpica.test/ergast/f1"


class Clock:
    """One clock for the service (datetime) and the cache (epoch seconds)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def utc(self) -> datetime:
        return self.now

    def epoch(self) -> float:
        return self.now.timestamp()

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class CsvHttp:
    """Stands in for HttpClient: Jolpica answers from the CSV database, counted by path."""

    def __init__(self, database: ErgastCsvDatabase, clock: Clock) -> None:
        self.database = database
        self.clock = clock
        self.requests: list[str] = []
        self.failing = False
        self.delay = 0.0
        self.call_timeout = 10.0

    async def get_json(
        self,
        url: str,
        *,
        params: Mapping[str, str | int] | None = None,
        upstream: str = "upstream",
        before_attempt: BeforeAttempt | None = None,
        not_found: str | None = None,
    ) -> Any:
        if before_attempt is not None:
            await before_attempt(self.call_timeout)
        path = urlsplit(url).path.removeprefix("/ergast/f1/")
        query = {k: str(v) for k, v in (params or {}).items()}
        self.requests.append(f"{path}?offset={query.get('offset', '0')}")
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.failing:
            raise UpstreamUnavailable("Jolpica is down (test)")
        body = self.database.respond(path, query, self.clock.now)
        assert body is not None, path
        return body

    def count(self, fragment: str = "") -> int:
        return sum(1 for r in self.requests if fragment in r)


@pytest.fixture(scope="module")
def database(fixtures_dir: Path) -> ErgastCsvDatabase:
    return ErgastCsvDatabase.load(fixtures_dir / "jolpica" / "csv")


@pytest.fixture(scope="module")
def oracle(fixtures_dir: Path) -> ErgastOracle:
    return oracle_for(fixtures_dir / "jolpica" / "csv")


@pytest.fixture
def clock() -> Clock:
    # After the 2024 season, before the 2025 finale: 2023/2024 are archives, 2025 is live.
    return Clock(datetime(2025, 11, 12, 12, 0, tzinfo=UTC))


@pytest.fixture(params=["memory", "redis"])
def backend(request: pytest.FixtureRequest) -> tuple[str | None, str]:
    """(Redis URL or None for the in-process store, key namespace)."""
    if request.param == "memory":
        return None, f"pypole-test-{uuid.uuid4().hex[:10]}"
    url: str = request.getfixturevalue("redis_url")
    namespace: str = request.getfixturevalue("redis_cleanup")
    return url, namespace


@pytest.fixture
async def cache(backend: tuple[str | None, str], clock: Clock) -> AsyncIterator[Cache]:
    url, namespace = backend
    cache = await Cache.create(url, namespace=namespace, clock=clock.epoch)
    yield cache
    await cache.close()


@pytest.fixture
def http(database: ErgastCsvDatabase, clock: Clock) -> CsvHttp:
    return CsvHttp(database, clock)


@pytest.fixture
async def service(http: CsvHttp, cache: Cache, clock: Clock) -> AsyncIterator[F1Service]:
    budget = OutboundBudget("1000/second", name=f"test-{uuid.uuid4().hex[:8]}")
    client = JolpicaClient(http, BASE, budget)  # type: ignore[arg-type]
    yield F1Service(client, cache, live_ttl=LIVE_TTL, archive_ttl=ARCHIVE_TTL, clock=clock.utc)
    await budget.close()


async def test_results_are_one_season_wide_load_cached_under_its_key(
    service: F1Service, http: CsvHttp, cache: Cache, oracle: ErgastOracle
) -> None:
    table = await service.results(2023)
    assert [entry.race.round for entry in table.races] == oracle.rounds(2023)
    pages = -(-oracle.result_count(2023) // 100)
    assert http.count("2023/results") == pages
    assert http.count("2023/") == pages  # no request per round
    stored = await cache.get("jolpica:results:2023")
    assert stored is not None
    assert stored["season"] == 2023
    assert len(stored["races"]) == len(oracle.rounds(2023))
    again = await service.results(2023)
    assert again == table
    assert http.count("2023/results") == pages


@pytest.mark.parametrize(
    ("call", "key"),
    [
        (lambda s: s.schedule(2023), "jolpica:schedule:2023"),
        (lambda s: s.qualifying(2023), "jolpica:qualifying:2023"),
        (lambda s: s.sprint(2023), "jolpica:sprint:2023"),
        (lambda s: s.driver_standings(2023), "jolpica:standings:drivers:2023"),
        (lambda s: s.driver_standings(2023, 5), "jolpica:standings:drivers:2023:5"),
        (lambda s: s.constructor_standings(2023), "jolpica:standings:constructors:2023"),
        (lambda s: s.constructor_standings(2023, 5), "jolpica:standings:constructors:2023:5"),
        (lambda s: s.drivers(2023), "jolpica:drivers:2023"),
        (lambda s: s.constructors(2023), "jolpica:constructors:2023"),
        (lambda s: s.pit_stops(2023, 1), "jolpica:pitstops:2023:1"),
        (lambda s: s.driver("alonso"), "jolpica:driver:alonso"),
        (lambda s: s.current_schedule(), "jolpica:schedule:current"),
        (lambda s: s.next_race(), "jolpica:next"),
    ],
)
async def test_each_table_has_its_key(
    service: F1Service, cache: Cache, http: CsvHttp, call: Any, key: str
) -> None:
    await call(service)
    assert await cache.get(key) is not None
    before = len(http.requests)
    await call(service)
    assert len(http.requests) == before


async def test_final_standings_match_the_csv(service: F1Service, oracle: ErgastOracle) -> None:
    for season in (2023, 2024):
        drivers = await service.driver_standings(season)
        expected = oracle.driver_standings(season)
        assert [(e.driver.driver_id, e.points, e.wins) for e in drivers.entries] == [
            (row.ref, row.points, row.wins) for row in expected
        ]
        constructors = await service.constructor_standings(season)
        expected = oracle.constructor_standings(season)
        assert [(e.constructor.constructor_id, e.points) for e in constructors.entries] == [
            (row.ref, row.points) for row in expected
        ]
        # The championship is the sum of race and sprint points.
        sums = oracle.points_by_driver_code(season)
        assert all(sums[e.driver.code or ""] == e.points for e in drivers.entries)


async def test_finished_season_is_kept_archive_ttl(
    service: F1Service, http: CsvHttp, clock: Clock
) -> None:
    await service.results(2024)
    requests = len(http.requests)
    clock.advance(LIVE_TTL * 10)
    await service.results(2024)
    assert len(http.requests) == requests
    clock.advance(ARCHIVE_TTL)
    await service.results(2024)
    assert len(http.requests) > requests


async def test_running_season_is_kept_jolpica_ttl(
    service: F1Service, http: CsvHttp, clock: Clock
) -> None:
    await service.results(2025)
    pages = http.count("2025/results")
    clock.advance(LIVE_TTL - 1)
    await service.results(2025)
    assert http.count("2025/results") == pages
    clock.advance(2)
    await service.results(2025)
    assert http.count("2025/results") == 2 * pages


async def test_a_season_is_over_a_day_after_its_last_race(service: F1Service, clock: Clock) -> None:
    schedule = await service.schedule(2025)
    last = schedule.races[-1].starts_at
    assert last is not None
    clock.now = last
    assert not service.season_finished(schedule)
    clock.now = last + RESULTS_SETTLE
    assert service.season_finished(schedule)


async def test_empty_answers_are_cached(service: F1Service, http: CsvHttp) -> None:
    assert (await service.schedule(2029)).races == ()
    assert await service.driver("no_such_driver") is None
    requests = len(http.requests)
    assert (await service.schedule(2029)).races == ()
    assert await service.driver("no_such_driver") is None
    assert len(http.requests) == requests


async def test_stale_value_is_served_when_jolpica_fails(
    service: F1Service, http: CsvHttp, clock: Clock
) -> None:
    fresh = await service.driver_standings(2025)
    clock.advance(LIVE_TTL + 1)
    http.failing = True
    stale = await service.driver_standings(2025)
    assert stale == fresh
    assert stale.entries


async def test_uncached_and_failing_is_upstream_unavailable(
    service: F1Service, http: CsvHttp
) -> None:
    http.failing = True
    with pytest.raises(UpstreamUnavailable):
        await service.qualifying(2023)


async def test_concurrent_cold_calls_cost_one_load(
    service: F1Service, http: CsvHttp, oracle: ErgastOracle
) -> None:
    http.delay = 0.02
    tables = await asyncio.gather(*(service.results(2023) for _ in range(50)))
    assert all(table == tables[0] for table in tables)
    assert http.count("2023/results") == -(-oracle.result_count(2023) // 100)
    assert http.count("2023.json") == 1  # the schedule, for the TTL decision


async def test_next_race_comes_with_its_calendar_entry(service: F1Service) -> None:
    race = await service.next_race()
    assert race is not None
    schedule = await service.schedule(race.season)
    assert schedule.race(race.round) == race


@pytest.mark.parametrize("season", [1949, 0, -1, 3000])
async def test_impossible_season_is_bad_input(service: F1Service, season: int) -> None:
    with pytest.raises(BadUserInput) as caught:
        await service.schedule(season)
    assert caught.value.field == "season"


@pytest.mark.parametrize("round_", [0, -3, 101])
async def test_impossible_round_is_bad_input(service: F1Service, round_: int) -> None:
    with pytest.raises(BadUserInput) as caught:
        await service.driver_standings(2023, round_)
    assert caught.value.field == "round"


async def test_malformed_driver_id_is_bad_input(service: F1Service, http: CsvHttp) -> None:
    with pytest.raises(BadUserInput):
        await service.driver("../2023/results")
    assert http.requests == []


async def test_pit_stops_check_their_arguments_before_any_request(
    service: F1Service, http: CsvHttp
) -> None:
    with pytest.raises(BadUserInput) as caught:
        await service.pit_stops(2023, 0)
    assert caught.value.field == "round"
    with pytest.raises(BadUserInput) as caught:
        await service.pit_stops(1949, 1)
    assert caught.value.field == "season"
    assert http.requests == []
