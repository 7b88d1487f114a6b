"""Shared pieces of the frontend services' tests (profiles, comparison, strategy, ...).

- ``replay_f1``: a real :class:`F1Service` (aiohttp, JolpicaClient, an in-process cache of
  its own, so every test starts cold) on the replay server, with a fixed clock; its
  upstream cost is the replay's request log (:func:`jolpica_requests`).
- ``replay_now``: moves the replay's own "now" (what Jolpica's ``current`` and ``next``
  resolve against) for one test.
- :class:`Csv`: plain ``csv`` readings of the fixtures' Ergast database, independent of
  the replay's generator, for expected values.
"""

from __future__ import annotations

import csv
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

import pytest

from pypole_gql.cache import Cache
from pypole_gql.db.engine import Database
from pypole_gql.db.models import UserRow
from pypole_gql.services.f1 import RESULTS_SETTLE, F1Service
from pypole_gql.upstream.budget import OutboundBudget
from pypole_gql.upstream.http import HttpClient
from pypole_gql.upstream.jolpica import JolpicaClient
from tests.plugins.replay import Replay

#: After the 2025 São Paulo GP (round 21, the last with results in the CSV), before Las
#: Vegas: 2024 and earlier are finished seasons, 2025 is running.
NOW = datetime(2025, 11, 12, 12, 0, tzinfo=UTC)
JOLPICA = "/ergast/f1/"
MISSING = "\\N"


def jolpica_requests(replay: Replay) -> int:
    return replay.count(prefix=JOLPICA)


F1Factory = Callable[..., Awaitable[F1Service]]


@pytest.fixture
async def f1_factory(replay: Replay) -> AsyncIterator[F1Factory]:
    """``await f1_factory(now=NOW)``: a new F1Service on the replay with an empty cache."""
    async with HttpClient.open(call_timeout=60) as http:
        budget = OutboundBudget("1000/second", name=f"test-{uuid.uuid4().hex[:8]}")
        caches: list[Cache] = []

        async def make(now: datetime = NOW) -> F1Service:
            store = await Cache.create(None, namespace=f"pypole-test-{uuid.uuid4().hex[:10]}")
            caches.append(store)
            client = JolpicaClient(http, f"{replay.url}/ergast/f1", budget)
            return F1Service(client, store, live_ttl=900, archive_ttl=30 * 86400, clock=lambda: now)

        try:
            yield make
        finally:
            for store in caches:
                await store.close()
            await budget.close()


@pytest.fixture
async def replay_f1(f1_factory: F1Factory) -> F1Service:
    return await f1_factory()


@pytest.fixture
def replay_now(replay: Replay) -> Iterator[Callable[[datetime], None]]:
    saved = replay.server.now

    def move(moment: datetime) -> None:
        replay.server.now = moment

    yield move
    replay.server.now = saved


def _rows(csv_dir: Path, name: str) -> list[dict[str, str]]:
    with (csv_dir / f"{name}.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _opt(value: str | None) -> str | None:
    return None if value in (None, "", MISSING) else value


@dataclass(frozen=True)
class CsvResult:
    season: int
    round: int
    race_name: str
    driver: str
    """driverRef (Jolpica's driverId)."""
    code: str | None
    constructor: str
    constructor_name: str
    position: int
    """positionOrder: Jolpica's ``position``."""
    position_text: str
    points: float
    grid: int | None
    status: str
    fastest_rank: int | None


@dataclass(frozen=True)
class CsvStanding:
    ref: str
    code: str | None
    position: int
    points: float
    wins: int


class Csv:
    """The fixtures' Ergast CSV database, read with the csv module."""

    def __init__(self, csv_dir: Path) -> None:
        drivers = {r["driverId"]: r for r in _rows(csv_dir, "drivers")}
        teams = {r["constructorId"]: r for r in _rows(csv_dir, "constructors")}
        statuses = {r["statusId"]: r["status"] for r in _rows(csv_dir, "status")}
        self.races = {r["raceId"]: r for r in _rows(csv_dir, "races")}
        self.drivers = drivers

        def results(name: str) -> list[CsvResult]:
            out = []
            for r in _rows(csv_dir, name):
                race = self.races[r["raceId"]]
                grid = _opt(r["grid"])
                rank = _opt(r.get("rank"))
                out.append(
                    CsvResult(
                        season=int(race["year"]),
                        round=int(race["round"]),
                        race_name=race["name"],
                        driver=drivers[r["driverId"]]["driverRef"],
                        code=_opt(drivers[r["driverId"]]["code"]),
                        constructor=teams[r["constructorId"]]["constructorRef"],
                        constructor_name=teams[r["constructorId"]]["name"],
                        position=int(r["positionOrder"]),
                        position_text=r["positionText"],
                        points=float(r["points"]),
                        # Ergast's grid 0 (pit lane, or no start) is no slot: None.
                        grid=None if grid in (None, "0") else int(grid),
                        status=statuses[r["statusId"]],
                        fastest_rank=None if rank is None else int(rank),
                    )
                )
            return out

        self.results = results("results")
        self.sprints = results("sprint_results")
        self._driver_standings = _rows(csv_dir, "driver_standings")
        self._constructor_standings = _rows(csv_dir, "constructor_standings")
        self._teams = teams

    def season_results(self, season: int) -> list[CsvResult]:
        return [r for r in self.results if r.season == season]

    def round_results(self, season: int, round_: int) -> list[CsvResult]:
        rows = [r for r in self.results if r.season == season and r.round == round_]
        return sorted(rows, key=lambda r: r.position)

    def rounds(self, season: int) -> list[dict[str, str]]:
        rows = [r for r in self.races.values() if int(r["year"]) == season]
        return sorted(rows, key=lambda r: int(r["round"]))

    def race_start(self, season: int, round_: int) -> datetime:
        race = next(r for r in self.rounds(season) if int(r["round"]) == round_)
        clock = _opt(race["time"]) or "00:00:00"
        return datetime.fromisoformat(f"{race['date']}T{clock}").replace(tzinfo=UTC)

    def season_finished(self, season: int, now: datetime = NOW) -> bool:
        last = self.rounds(season)[-1]
        return self.race_start(season, int(last["round"])) + RESULTS_SETTLE <= now

    def result_pages(self, season: int) -> int:
        return -(-len(self.season_results(season)) // 100)

    def _standings(
        self, rows: list[dict[str, str]], season: int, ref: Callable[[dict[str, str]], str]
    ) -> list[tuple[dict[str, str], str]]:
        ids = {rid for rid, r in self.races.items() if int(r["year"]) == season}
        scored = {r["raceId"] for r in rows if r["raceId"] in ids}
        if not scored:
            return []
        last = max(scored, key=lambda rid: int(self.races[rid]["round"]))
        picked = sorted((r for r in rows if r["raceId"] == last), key=lambda r: int(r["position"]))
        return [(r, ref(r)) for r in picked]

    def driver_standings(self, season: int) -> list[CsvStanding]:
        return [
            CsvStanding(
                ref=ref,
                code=_opt(self.drivers[r["driverId"]]["code"]),
                position=int(r["position"]),
                points=float(r["points"]),
                wins=int(r["wins"]),
            )
            for r, ref in self._standings(
                self._driver_standings, season, lambda r: self.drivers[r["driverId"]]["driverRef"]
            )
        ]

    def driver_standings_after(self, season: int, round_: int) -> list[CsvStanding]:
        race_id = next(
            rid
            for rid, r in self.races.items()
            if int(r["year"]) == season and int(r["round"]) == round_
        )
        rows = sorted(
            (r for r in self._driver_standings if r["raceId"] == race_id),
            key=lambda r: int(r["position"]),
        )
        return [
            CsvStanding(
                ref=self.drivers[r["driverId"]]["driverRef"],
                code=_opt(self.drivers[r["driverId"]]["code"]),
                position=int(r["position"]),
                points=float(r["points"]),
                wins=int(r["wins"]),
            )
            for r in rows
        ]

    def constructor_standings(self, season: int) -> list[CsvStanding]:
        return [
            CsvStanding(
                ref=ref,
                code=None,
                position=int(r["position"]),
                points=float(r["points"]),
                wins=int(r["wins"]),
            )
            for r, ref in self._standings(
                self._constructor_standings,
                season,
                lambda r: self._teams[r["constructorId"]]["constructorRef"],
            )
        ]

    def constructor_name(self, ref: str) -> str:
        return next(t["name"] for t in self._teams.values() if t["constructorRef"] == ref)

    def next_round(self, now: datetime) -> tuple[int, int]:
        upcoming = sorted(
            (self.race_start(int(r["year"]), int(r["round"])), int(r["year"]), int(r["round"]))
            for r in self.races.values()
            if self.race_start(int(r["year"]), int(r["round"])) > now
        )
        return upcoming[0][1], upcoming[0][2]


@cache
def csv_for(csv_dir: Path) -> Csv:
    return Csv(csv_dir)


@pytest.fixture(scope="session")
def fixtures_csv(fixtures_dir: Path) -> Csv:
    return csv_for(fixtures_dir / "jolpica" / "csv")


def later(moment: datetime, **delta: float) -> datetime:
    return moment + timedelta(**delta)


async def make_user(db: Database) -> int:
    """A new account row (unique names), for data that belongs to a user."""
    tag = uuid.uuid4().hex[:12]
    async with db.session() as session:
        row = UserRow(
            email=f"{tag}@example.com",
            email_normalized=f"{tag}@example.com",
            username=f"u{tag}",
            username_normalized=f"u{tag}",
            password_hash="not-a-hash",
        )
        session.add(row)
        await session.flush()
        assert row.id is not None
        return row.id
