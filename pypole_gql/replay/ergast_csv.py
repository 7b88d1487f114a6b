"""The Ergast CSV database (``circuits.csv`` ... ``status.csv``) loaded into indexed rows.

Values stay the strings the CSV holds (``\\N`` becomes ``None``) because every value in a
Jolpica response is a string; only ids, rounds and orderings are parsed into integers.
Rows compare and hash by identity (``eq=False``): each is loaded once, and grouping and
de-duplicating them stays cheap.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
MISSING = "\\N"


@dataclass(frozen=True, slots=True, eq=False)
class Circuit:
    id: int
    ref: str
    name: str
    locality: str | None
    country: str | None
    lat: str | None
    lng: str | None
    url: str | None


@dataclass(frozen=True, slots=True, eq=False)
class Driver:
    id: int
    ref: str
    number: str | None
    code: str | None
    forename: str
    surname: str
    dob: str | None
    nationality: str | None
    url: str | None


@dataclass(frozen=True, slots=True, eq=False)
class Constructor:
    id: int
    ref: str
    name: str
    nationality: str | None
    url: str | None


@dataclass(frozen=True, slots=True)
class Session:
    """A weekend session other than the race: its Jolpica key and its start."""

    key: str
    date: str
    time: str | None


@dataclass(frozen=True, slots=True, eq=False)
class Race:
    id: int
    season: int
    round: int
    circuit: Circuit
    name: str
    date: str
    time: str | None
    url: str | None
    sessions: tuple[Session, ...]
    starts_at: datetime


@dataclass(frozen=True, slots=True, eq=False)
class Result:
    """One row of ``results.csv`` or ``sprint_results.csv``."""

    race: Race
    driver: Driver
    constructor: Constructor
    number: str | None
    grid: str | None
    position: int | None
    position_order: int
    position_text: str
    points: str
    laps: str | None
    time: str | None
    millis: str | None
    fastest_lap: str | None
    rank: str | None
    fastest_lap_time: str | None
    fastest_lap_speed: str | None
    status_id: int
    status: str


@dataclass(frozen=True, slots=True, eq=False)
class Qualifying:
    race: Race
    driver: Driver
    constructor: Constructor
    number: str | None
    position: int | None
    q1: str | None
    q2: str | None
    q3: str | None


@dataclass(frozen=True, slots=True, eq=False)
class Standing:
    """One row of ``driver_standings.csv`` or ``constructor_standings.csv``; ``entrant_id``
    is the driverId or the constructorId."""

    race: Race
    entrant_id: int
    points: str
    position: int | None
    position_text: str
    wins: str


@dataclass(frozen=True, slots=True, eq=False)
class PitStop:
    race: Race
    driver: Driver
    stop: int
    lap: int
    time: str
    duration: str | None
    order: int


@dataclass(frozen=True, slots=True)
class ErgastTables:
    """Every CSV table, with the indexes a request needs to avoid full scans."""

    circuits: dict[str, Circuit]
    drivers: dict[str, Driver]
    constructors: dict[str, Constructor]
    statuses: dict[int, str]
    season_urls: dict[int, str | None]
    races: list[Race]
    races_by_season: dict[int, list[Race]]
    results_by_race: dict[int, list[Result]]
    results_by_driver: dict[int, list[Result]]
    results_by_constructor: dict[int, list[Result]]
    sprints_by_race: dict[int, list[Result]]
    qualifying_by_race: dict[int, list[Qualifying]]
    driver_standings_by_race: dict[int, list[Standing]]
    constructor_standings_by_race: dict[int, list[Standing]]
    pit_stops_by_race: dict[int, list[PitStop]]
    drivers_by_id: dict[int, Driver]
    constructors_by_id: dict[int, Constructor]


def _value(raw: str | None) -> str | None:
    # A short row (races.csv has no session columns for 2025) reads as None.
    return None if raw is None or raw in (MISSING, "") else raw


def _int(raw: str | None) -> int | None:
    value = _value(raw)
    return None if value is None else int(value)


def _rows(csv_dir: Path, name: str) -> Iterator[dict[str, str]]:
    with (csv_dir / name).open(newline="", encoding="utf-8") as handle:
        yield from csv.DictReader(handle)


def _session_key(season: int, column: str, is_sprint_weekend: bool) -> str:
    # On sprint weekends from 2023 on, the fp2 columns hold the sprint shootout (2023) or
    # sprint qualifying (2024 on); in 2021 and 2022 the second practice really was one.
    if column == "fp2" and is_sprint_weekend and season >= 2023:
        return "SprintShootout" if season == 2023 else "SprintQualifying"
    return _SESSION_KEYS[column]


_SESSION_KEYS = {
    "fp1": "FirstPractice",
    "fp2": "SecondPractice",
    "fp3": "ThirdPractice",
    "quali": "Qualifying",
    "sprint": "Sprint",
}
# Jolpica's key order within a race, whatever the order the sessions ran in.
SESSION_ORDER = (
    "FirstPractice",
    "SecondPractice",
    "ThirdPractice",
    "Qualifying",
    "Sprint",
    "SprintShootout",
    "SprintQualifying",
)


def _race(row: dict[str, str], circuit: Circuit) -> Race:
    season = int(row["year"])
    is_sprint_weekend = _value(row["sprint_date"]) is not None
    sessions: list[Session] = []
    for column in _SESSION_KEYS:
        session_date = _value(row[f"{column}_date"])
        if session_date is None:
            continue
        key = _session_key(season, column, is_sprint_weekend)
        sessions.append(Session(key, session_date, _value(row[f"{column}_time"])))
    sessions.sort(key=lambda session: SESSION_ORDER.index(session.key))
    race_time = _value(row["time"])
    starts_at = datetime.combine(
        date.fromisoformat(row["date"]),
        time.fromisoformat(race_time) if race_time else time(0, 0),
        tzinfo=UTC,
    )
    return Race(
        id=int(row["raceId"]),
        season=season,
        round=int(row["round"]),
        circuit=circuit,
        name=row["name"],
        date=row["date"],
        time=race_time,
        url=_value(row["url"]),
        sessions=tuple(sessions),
        starts_at=starts_at,
    )


def _result(
    row: dict[str, str],
    race: Race,
    drivers: dict[int, Driver],
    constructors: dict[int, Constructor],
    statuses: dict[int, str],
) -> Result:
    return Result(
        race=race,
        driver=drivers[int(row["driverId"])],
        constructor=constructors[int(row["constructorId"])],
        number=_value(row["number"]),
        grid=_value(row["grid"]),
        position=_int(row["position"]),
        position_order=int(row["positionOrder"]),
        position_text=row["positionText"],
        points=row["points"],
        laps=_value(row["laps"]),
        time=_value(row["time"]),
        millis=_value(row["milliseconds"]),
        fastest_lap=_value(row["fastestLap"]),
        rank=_value(row["rank"]),
        fastest_lap_time=_value(row["fastestLapTime"]),
        fastest_lap_speed=_value(row.get("fastestLapSpeed", MISSING)),
        status_id=int(row["statusId"]),
        status=statuses[int(row["statusId"])],
    )


def _standings(
    csv_dir: Path, name: str, id_column: str, races: dict[int, Race]
) -> dict[int, list[Standing]]:
    by_race: dict[int, list[Standing]] = defaultdict(list)
    for row in _rows(csv_dir, name):
        race = races[int(row["raceId"])]
        by_race[race.id].append(
            Standing(
                race=race,
                entrant_id=int(row[id_column]),
                points=row["points"],
                position=_int(row["position"]),
                position_text=row["positionText"],
                wins=row["wins"],
            )
        )
    for standings in by_race.values():
        standings.sort(key=lambda s: (s.position is None, s.position or 0))
    return dict(by_race)


def load_tables(csv_dir: Path) -> ErgastTables:
    """Read every CSV of the Ergast database in ``csv_dir`` and index it by race."""
    circuits_by_id = {
        int(row["circuitId"]): Circuit(
            id=int(row["circuitId"]),
            ref=row["circuitRef"],
            name=row["name"],
            locality=_value(row["location"]),
            country=_value(row["country"]),
            lat=_value(row["lat"]),
            lng=_value(row["lng"]),
            url=_value(row["url"]),
        )
        for row in _rows(csv_dir, "circuits.csv")
    }
    drivers_by_id = {
        int(row["driverId"]): Driver(
            id=int(row["driverId"]),
            ref=row["driverRef"],
            number=_value(row["number"]),
            code=_value(row["code"]),
            forename=row["forename"],
            surname=row["surname"],
            dob=_value(row["dob"]),
            nationality=_value(row["nationality"]),
            url=_value(row["url"]),
        )
        for row in _rows(csv_dir, "drivers.csv")
    }
    constructors_by_id = {
        int(row["constructorId"]): Constructor(
            id=int(row["constructorId"]),
            ref=row["constructorRef"],
            name=row["name"],
            nationality=_value(row["nationality"]),
            url=_value(row["url"]),
        )
        for row in _rows(csv_dir, "constructors.csv")
    }
    statuses = {int(row["statusId"]): row["status"] for row in _rows(csv_dir, "status.csv")}
    season_urls = {int(row["year"]): _value(row["url"]) for row in _rows(csv_dir, "seasons.csv")}

    races_by_id = {
        int(row["raceId"]): _race(row, circuits_by_id[int(row["circuitId"])])
        for row in _rows(csv_dir, "races.csv")
    }
    races = sorted(races_by_id.values(), key=lambda race: (race.season, race.round))
    races_by_season: dict[int, list[Race]] = defaultdict(list)
    for race in races:
        races_by_season[race.season].append(race)

    results = [
        _result(row, races_by_id[int(row["raceId"])], drivers_by_id, constructors_by_id, statuses)
        for row in _rows(csv_dir, "results.csv")
    ]
    results.sort(key=lambda r: (r.race.season, r.race.round, r.position_order))
    sprints = [
        _result(row, races_by_id[int(row["raceId"])], drivers_by_id, constructors_by_id, statuses)
        for row in _rows(csv_dir, "sprint_results.csv")
    ]
    sprints.sort(key=lambda r: (r.race.season, r.race.round, r.position_order))

    qualifying = [
        Qualifying(
            race=races_by_id[int(row["raceId"])],
            driver=drivers_by_id[int(row["driverId"])],
            constructor=constructors_by_id[int(row["constructorId"])],
            number=_value(row["number"]),
            position=_int(row["position"]),
            q1=_value(row["q1"]),
            q2=_value(row["q2"]),
            q3=_value(row["q3"]),
        )
        for row in _rows(csv_dir, "qualifying.csv")
    ]
    qualifying.sort(key=lambda q: (q.race.season, q.race.round, q.position or 999))

    pit_stops = [
        PitStop(
            race=races_by_id[int(row["raceId"])],
            driver=drivers_by_id[int(row["driverId"])],
            stop=int(row["stop"]),
            lap=int(row["lap"]),
            time=row["time"],
            duration=_value(row["duration"]),
            order=index,
        )
        for index, row in enumerate(_rows(csv_dir, "pit_stops.csv"))
    ]
    pit_stops.sort(key=lambda p: (p.race.season, p.race.round, p.lap, p.time, p.order))

    return ErgastTables(
        circuits={c.ref: c for c in circuits_by_id.values()},
        drivers={d.ref: d for d in drivers_by_id.values()},
        constructors={c.ref: c for c in constructors_by_id.values()},
        statuses=statuses,
        season_urls=season_urls,
        races=races,
        races_by_season=dict(races_by_season),
        results_by_race=_group(results, lambda r: r.race.id),
        results_by_driver=_group(results, lambda r: r.driver.id),
        results_by_constructor=_group(results, lambda r: r.constructor.id),
        sprints_by_race=_group(sprints, lambda r: r.race.id),
        qualifying_by_race=_group(qualifying, lambda q: q.race.id),
        driver_standings_by_race=_standings(
            csv_dir, "driver_standings.csv", "driverId", races_by_id
        ),
        constructor_standings_by_race=_standings(
            csv_dir, "constructor_standings.csv", "constructorId", races_by_id
        ),
        pit_stops_by_race=_group(pit_stops, lambda p: p.race.id),
        drivers_by_id=drivers_by_id,
        constructors_by_id=constructors_by_id,
    )


def _group(rows: list[T], key: Callable[[T], int]) -> dict[int, list[T]]:
    grouped: dict[int, list[T]] = defaultdict(list)
    for row in rows:
        grouped[key(row)].append(row)
    return dict(grouped)
