"""Expected championship values for the semantics tests, read straight from the fixtures.

Two sources, each read here with ``csv``/``json`` and nothing of the app or the replay:
the Ergast CSV database (what the replay's ``csv`` forms serve) and the recorded Jolpica
bodies (what Jolpica itself sent, and what the ``jolpica`` and ``recorded`` forms serve).
The schema's normalisations are applied the way the schema documents them.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from functools import cache
from pathlib import Path
from typing import Any

Json = dict[str, Any]

#: The recorded races the semantics tests go through: (season, round, rows key, file).
#: Production's 2024 British GP (Lapped with times, Pérez from the pit lane in slot 20,
#: Gasly did not start), jolpica-f1's 2023 Canadian GP (two pit-lane starters in slots 19
#: and 20) and production's 2023 Azerbaijan sprint (Sargeant "R" where the CSV has "W").
RECORDED_RACES = (
    (2024, 12, "Results", "fastf1/ergast/f1/2024/12/results.json"),
    (2023, 9, "Results", "jolpica/ergast/f1/2023/9/results.json"),
    (2023, 4, "SprintResults", "fastf1/ergast/f1/2023/4/sprint.json"),
)
#: Recorded complete calendars: day-only sessions (2018, 2019), timed ones (2025).
RECORDED_SCHEDULES = {
    2018: "jolpica/ergast/f1/2018__limit-40.json",
    2019: "fastf1/ergast/f1/2019.json",
    2025: "jolpica/ergast/f1/2025__limit-40.json",
}


def mrdata(fixtures_dir: Path, relative: str) -> Json:
    data: Json = json.loads((fixtures_dir / relative).read_text(encoding="utf-8"))["MRData"]
    return data


def recorded_race(fixtures_dir: Path, relative: str) -> Json:
    (race,) = mrdata(fixtures_dir, relative)["RaceTable"]["Races"]
    return dict(race)


def expected_grid(grid: str | None, position_text: str) -> tuple[int | None, bool]:
    """(grid, pitLaneStart) of a row as sent: grid 0 is no slot, a pit-lane start for a
    car that started (not W, withdrawn, nor F, failed to qualify)."""
    if grid is None:
        return None, False
    if int(grid) > 0:
        return int(grid), False
    return None, position_text not in ("W", "F")


@dataclass(frozen=True)
class ExpectedResult:
    driver_id: str
    position: int
    position_text: str
    status: str
    time: str | None
    grid: int | None
    pit_lane_start: bool


def recorded_results(race: Json, key: str) -> list[ExpectedResult]:
    """A recorded race's rows as the schema means them."""
    return [
        ExpectedResult(
            driver_id=row["Driver"]["driverId"],
            position=int(row["position"]),
            position_text=row["positionText"],
            status=row["status"],
            time=(row.get("Time") or {}).get("time"),
            grid=expected_grid(row.get("grid"), row["positionText"])[0],
            pit_lane_start=expected_grid(row.get("grid"), row["positionText"])[1],
        )
        for row in race[key]
    ]


@cache
def _csv(csv_dir: Path, name: str) -> tuple[dict[str, str], ...]:
    with (csv_dir / name).open(newline="", encoding="utf-8") as handle:
        return tuple(csv.DictReader(handle))


class CsvFacts:
    """Rows of the CSV database, keyed as the tests need them."""

    def __init__(self, fixtures_dir: Path) -> None:
        self.dir = fixtures_dir / "jolpica" / "csv"

    def rows(self, name: str) -> tuple[dict[str, str], ...]:
        return _csv(self.dir, name)

    def race_id(self, season: int, round_: int) -> str:
        return next(
            r["raceId"]
            for r in self.rows("races.csv")
            if (int(r["year"]), int(r["round"])) == (season, round_)
        )

    def last_round(self, table: str, season: int) -> int:
        """The last round of ``season`` that ``table`` has rows for."""
        races = {
            r["raceId"]: int(r["round"]) for r in self.rows("races.csv") if int(r["year"]) == season
        }
        return max(races[r["raceId"]] for r in self.rows(table) if r["raceId"] in races)

    def standings(
        self, kind: str, season: int, round_: int | None = None
    ) -> dict[str, tuple[int | None, str, str | None]]:
        """ref -> (position as the schema means it, positionText, position as sent)."""
        table, id_column, refs, ref_column = {
            "drivers": ("driver_standings.csv", "driverId", "drivers.csv", "driverRef"),
            "constructors": (
                "constructor_standings.csv",
                "constructorId",
                "constructors.csv",
                "constructorRef",
            ),
        }[kind]
        race = self.race_id(season, round_ or self.last_round(table, season))
        names = {r[id_column]: r[ref_column] for r in self.rows(refs)}
        return {
            names[r[id_column]]: (
                int(r["positionText"]) if r["positionText"].isdigit() else None,
                r["positionText"],
                None if r["position"] == "\\N" else r["position"],
            )
            for r in self.rows(table)
            if r["raceId"] == race
        }

    def results(self, season: int, round_: int, key: str) -> list[ExpectedResult]:
        """A race's (or sprint's) rows in the CSV's forms, as the schema means them."""
        table = "results.csv" if key == "Results" else "sprint_results.csv"
        race = self.race_id(season, round_)
        names = {r["driverId"]: r["driverRef"] for r in self.rows("drivers.csv")}
        statuses = {r["statusId"]: r["status"] for r in self.rows("status.csv")}
        rows = sorted(
            (r for r in self.rows(table) if r["raceId"] == race),
            key=lambda r: int(r["positionOrder"]),
        )
        out = []
        for r in rows:
            grid, pit_lane = expected_grid(
                None if r["grid"] == "\\N" else r["grid"], r["positionText"]
            )
            out.append(
                ExpectedResult(
                    driver_id=names[r["driverId"]],
                    position=int(r["positionOrder"]),
                    position_text=r["positionText"],
                    status=statuses[r["statusId"]],
                    # The text is the generator's rendering of the CSV's; only its presence
                    # is a CSV fact here.
                    time=None if r["time"] == "\\N" else r["time"],
                    grid=grid,
                    pit_lane_start=pit_lane,
                )
            )
        return out

    def has_sessions(self, season: int) -> bool:
        return any(
            (r.get("fp1_date") or "\\N") != "\\N" or (r.get("quali_date") or "\\N") != "\\N"
            for r in self.rows("races.csv")
            if int(r["year"]) == season
        )


def session_moment(session: Json) -> datetime | None:
    clock = session.get("time")
    if clock is None:
        return None
    return datetime.combine(
        date.fromisoformat(session["date"]), time.fromisoformat(clock.removesuffix("Z")), UTC
    )


def recorded_sessions(race: Json) -> list[tuple[str, str, datetime | None]]:
    """(name, date, start) of each session of a recorded race, in time order."""
    sessions = [
        (key, value["date"], session_moment(value))
        for key, value in race.items()
        if isinstance(value, dict) and "date" in value
    ]
    earliest = datetime.min.replace(tzinfo=UTC)
    sessions.sort(key=lambda s: (s[1], s[2] or earliest))
    return sessions


def graphql_moment(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text.replace("Z", "+00:00"))
