"""Expected Jolpica values computed straight from the Ergast CSV database in the fixtures.

Independent of the replay's generator on purpose: plain ``csv`` reads, so a test that
compares the app's answers with these compares two separate readings of the same data.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

MISSING = "\\N"


def _rows(csv_dir: Path, name: str) -> list[dict[str, str]]:
    with (csv_dir / f"{name}.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _value(text: str) -> str | None:
    return None if text == MISSING else text


@dataclass(frozen=True)
class ResultRow:
    driver_ref: str
    constructor_ref: str
    position: int
    position_text: str
    points: float
    grid: int | None
    """The starting slot as the schema means it: Ergast's grid 0 is no slot (None)."""
    laps: int | None
    pit_lane_start: bool
    """Grid 0 for a car that started (not W, withdrawn, nor F, failed to qualify)."""


@dataclass(frozen=True)
class QualifyingRow:
    driver_ref: str
    constructor_ref: str
    position: int
    q1: str | None
    q2: str | None
    q3: str | None


@dataclass(frozen=True)
class StandingRow:
    ref: str
    code: str | None
    position: int | None
    points: float
    wins: int


class ErgastOracle:
    """Answers from ``jolpica/csv``: rounds, results, qualifying, final standings."""

    def __init__(self, csv_dir: Path) -> None:
        self.csv_dir = csv_dir
        self.drivers = {r["driverId"]: r for r in _rows(csv_dir, "drivers")}
        self.constructors = {r["constructorId"]: r for r in _rows(csv_dir, "constructors")}
        self.races = _rows(csv_dir, "races")
        self._results = _rows(csv_dir, "results")
        self._sprints = _rows(csv_dir, "sprint_results")
        self._qualifying = _rows(csv_dir, "qualifying")
        self._driver_standings = _rows(csv_dir, "driver_standings")
        self._constructor_standings = _rows(csv_dir, "constructor_standings")

    def race_id(self, season: int, round_: int) -> str:
        for race in self.races:
            if int(race["year"]) == season and int(race["round"]) == round_:
                return race["raceId"]
        raise KeyError((season, round_))

    def rounds(self, season: int) -> list[int]:
        return sorted(int(r["round"]) for r in self.races if int(r["year"]) == season)

    def next_race(self, now: datetime) -> tuple[int, int] | None:
        """(season, round) of the first race starting after ``now``, as Jolpica's ``next``."""
        upcoming = []
        for race in self.races:
            clock = _value(race["time"]) or "00:00:00"
            start = datetime.fromisoformat(f"{race['date']}T{clock}").replace(tzinfo=UTC)
            if start > now:
                upcoming.append((start, int(race["year"]), int(race["round"])))
        return min(upcoming)[1:] if upcoming else None

    def race_name(self, season: int, round_: int) -> str:
        race_id = self.race_id(season, round_)
        return next(r["name"] for r in self.races if r["raceId"] == race_id)

    def race_start(self, season: int, round_: int) -> datetime:
        race_id = self.race_id(season, round_)
        race = next(r for r in self.races if r["raceId"] == race_id)
        clock = _value(race["time"]) or "00:00:00"
        return datetime.fromisoformat(f"{race['date']}T{clock}").replace(tzinfo=UTC)

    def last_race_with_results(self) -> tuple[int, int]:
        """(season, round) of the latest race that ``results.csv`` has rows for."""
        scored = {r["raceId"] for r in self._results}
        return max((int(r["year"]), int(r["round"])) for r in self.races if r["raceId"] in scored)

    def race_after(self, season: int, round_: int) -> tuple[int, int] | None:
        """(season, round) of the race following it in calendar order, if there is one."""
        later = [
            (int(r["year"]), int(r["round"]))
            for r in self.races
            if (int(r["year"]), int(r["round"])) > (season, round_)
        ]
        return min(later) if later else None

    def _result_rows(self, rows: list[dict[str, str]], race_id: str) -> list[ResultRow]:
        picked = sorted(
            (r for r in rows if r["raceId"] == race_id), key=lambda r: int(r["positionOrder"])
        )
        return [
            ResultRow(
                driver_ref=self.drivers[r["driverId"]]["driverRef"],
                constructor_ref=self.constructors[r["constructorId"]]["constructorRef"],
                position=int(r["positionOrder"]),
                position_text=r["positionText"],
                points=float(r["points"]),
                grid=None if _value(r["grid"]) in (None, "0") else int(r["grid"]),
                laps=None if _value(r["laps"]) is None else int(r["laps"]),
                pit_lane_start=r["grid"] == "0" and r["positionText"] not in ("W", "F"),
            )
            for r in picked
        ]

    def results(self, season: int, round_: int) -> list[ResultRow]:
        return self._result_rows(self._results, self.race_id(season, round_))

    def sprint(self, season: int, round_: int) -> list[ResultRow]:
        return self._result_rows(self._sprints, self.race_id(season, round_))

    def result_count(self, season: int) -> int:
        ids = {r["raceId"] for r in self.races if int(r["year"]) == season}
        return sum(1 for r in self._results if r["raceId"] in ids)

    def qualifying(self, season: int, round_: int) -> list[QualifyingRow]:
        race_id = self.race_id(season, round_)
        picked = sorted(
            (r for r in self._qualifying if r["raceId"] == race_id),
            key=lambda r: int(r["position"]),
        )
        return [
            QualifyingRow(
                driver_ref=self.drivers[r["driverId"]]["driverRef"],
                constructor_ref=self.constructors[r["constructorId"]]["constructorRef"],
                position=int(r["position"]),
                q1=_value(r["q1"]) or None,
                q2=_value(r["q2"]) or None,
                q3=_value(r["q3"]) or None,
            )
            for r in picked
        ]

    def _last_scored_race(self, season: int, rows: list[dict[str, str]]) -> str:
        ids = {r["raceId"] for r in rows}
        scored = [r for r in self.races if int(r["year"]) == season and r["raceId"] in ids]
        return max(scored, key=lambda r: int(r["round"]))["raceId"]

    def driver_standings(self, season: int) -> list[StandingRow]:
        race_id = self._last_scored_race(season, self._driver_standings)
        rows = [r for r in self._driver_standings if r["raceId"] == race_id]
        rows.sort(key=lambda r: int(r["position"]))
        return [
            StandingRow(
                ref=self.drivers[r["driverId"]]["driverRef"],
                code=_value(self.drivers[r["driverId"]]["code"]),
                position=int(r["position"]),
                points=float(r["points"]),
                wins=int(r["wins"]),
            )
            for r in rows
        ]

    def constructor_standings(self, season: int) -> list[StandingRow]:
        race_id = self._last_scored_race(season, self._constructor_standings)
        rows = [r for r in self._constructor_standings if r["raceId"] == race_id]
        rows.sort(key=lambda r: int(r["position"]))
        return [
            StandingRow(
                ref=self.constructors[r["constructorId"]]["constructorRef"],
                code=None,
                position=int(r["position"]),
                points=float(r["points"]),
                wins=int(r["wins"]),
            )
            for r in rows
        ]

    def points_by_driver_code(self, season: int) -> dict[str, float]:
        """Race plus sprint points summed per driver code: the championship, recomputed."""
        ids = {r["raceId"] for r in self.races if int(r["year"]) == season}
        totals: dict[str, float] = {}
        for row in [*self._results, *self._sprints]:
            if row["raceId"] in ids:
                code = self.drivers[row["driverId"]]["code"]
                totals[code] = totals.get(code, 0.0) + float(row["points"])
        return totals

    def points_by_constructor_name(self, season: int) -> dict[str, float]:
        ids = {r["raceId"] for r in self.races if int(r["year"]) == season}
        totals: dict[str, float] = {}
        for row in [*self._results, *self._sprints]:
            if row["raceId"] in ids:
                name = self.constructors[row["constructorId"]]["name"]
                totals[name] = totals.get(name, 0.0) + float(row["points"])
        return totals


@cache
def oracle_for(csv_dir: Path) -> ErgastOracle:
    return ErgastOracle(csv_dir)
