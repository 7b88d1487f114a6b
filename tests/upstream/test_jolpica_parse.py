"""Parsing both forms Jolpica sends: Ergast's (the CSV, through the replay's generator) and
Jolpica's own (the recorded api.jolpi.ca and jolpica-f1 bodies), into one meaning.

Expected values are read here, independently, from the CSV files and the recorded JSON.
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, date, datetime, time
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from pypole_gql.replay.ergast import ErgastCsvDatabase
from pypole_gql.upstream.jolpica_parse import (
    parse_constructor_standings,
    parse_driver_standings,
    parse_results,
    parse_schedule,
)

Json = dict[str, Any]
NOW = datetime(2025, 11, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def database(fixtures_dir: Path) -> ErgastCsvDatabase:
    return ErgastCsvDatabase.load(fixtures_dir / "jolpica" / "csv")


@cache
def _csv(csv_dir: Path, name: str) -> tuple[dict[str, str], ...]:
    with (csv_dir / name).open(newline="", encoding="utf-8") as handle:
        return tuple(csv.DictReader(handle))


def _race_id(csv_dir: Path, season: int, round_: int) -> str:
    return next(
        r["raceId"]
        for r in _csv(csv_dir, "races.csv")
        if (int(r["year"]), int(r["round"])) == (season, round_)
    )


def _csv_standings(
    csv_dir: Path, table: str, id_column: str, refs: str, ref_column: str, season: int, round_: int
) -> dict[str, tuple[int | None, str]]:
    """ref -> (position as the schema means it, positionText) straight from the CSV."""
    race = _race_id(csv_dir, season, round_)
    names = {r[id_column]: r[ref_column] for r in _csv(csv_dir, refs)}
    return {
        names[r[id_column]]: (
            int(r["positionText"]) if r["positionText"].isdigit() else None,
            r["positionText"],
        )
        for r in _csv(csv_dir, table)
        if r["raceId"] == race
    }


def _lists(body: Json | None) -> list[Json]:
    assert body is not None
    lists: list[Json] = body["MRData"]["StandingsTable"]["StandingsLists"]
    return lists


def _races(body: Json | None) -> list[Json]:
    assert body is not None
    races: list[Json] = body["MRData"]["RaceTable"]["Races"]
    return races


def _recorded(fixtures_dir: Path, relative: str) -> Json:
    data: Json = json.loads((fixtures_dir / relative).read_text(encoding="utf-8"))
    return data


@pytest.mark.parametrize(
    ("season", "round_"),
    [
        (1997, 17),  # Schumacher disqualified from the championship: "D", position 26 sent
        (2025, 1),  # six drivers without a classified finish: "-", no position sent
        (2025, 2),  # Alonso still "-" after two rounds
    ],
)
def test_driver_standings_rank_only_numeric_position_texts(
    database: ErgastCsvDatabase, fixtures_dir: Path, season: int, round_: int
) -> None:
    csv_dir = fixtures_dir / "jolpica" / "csv"
    expected = _csv_standings(
        csv_dir, "driver_standings.csv", "driverId", "drivers.csv", "driverRef", season, round_
    )
    assert any(position is None for position, _ in expected.values())
    body = database.respond(f"{season}/{round_}/driverStandings.json", {"limit": "100"}, NOW)
    table = parse_driver_standings(season, _lists(body))
    parsed = {s.driver.driver_id: (s.position, s.position_text) for s in table.entries}
    assert parsed == expected


@pytest.mark.parametrize("round_", [5, 17])
def test_constructor_excluded_from_the_championship_has_no_position(
    database: ErgastCsvDatabase, fixtures_dir: Path, round_: int
) -> None:
    # McLaren 2007: "E" after every round, while Jolpica still sends its position 11.
    csv_dir = fixtures_dir / "jolpica" / "csv"
    expected = _csv_standings(
        csv_dir,
        "constructor_standings.csv",
        "constructorId",
        "constructors.csv",
        "constructorRef",
        2007,
        round_,
    )
    assert [ref for ref, (position, _) in expected.items() if position is None] == ["mclaren"]
    body = database.respond(f"2007/{round_}/constructorStandings", {"limit": "100"}, NOW)
    (standings,) = _lists(body)
    sent = {
        e["Constructor"]["constructorId"]: e.get("position")
        for e in standings["ConstructorStandings"]
    }
    assert sent["mclaren"] is not None  # the upstream's position, which does not rank
    table = parse_constructor_standings(2007, _lists(body))
    parsed = {s.constructor.constructor_id: (s.position, s.position_text) for s in table.entries}
    assert parsed == expected


def test_recorded_standings_positions_are_their_position_texts(fixtures_dir: Path) -> None:
    body = _recorded(fixtures_dir, "jolpica/ergast/f1/2023/driverstandings.json")
    lists = body["MRData"]["StandingsTable"]["StandingsLists"]
    table = parse_driver_standings(2023, lists)
    recorded = lists[-1]["DriverStandings"]
    assert [(s.position, s.position_text) for s in table.entries] == [
        (int(e["positionText"]), e["positionText"]) for e in recorded
    ]


def _expected_grid(grid: str | None, position_text: str) -> tuple[int | None, bool]:
    """The documented normalisation, applied to one row as sent."""
    if grid is None:
        return None, False
    if int(grid) > 0:
        return int(grid), False
    return None, position_text not in ("W", "F")


@pytest.mark.parametrize(
    "relative",
    [
        # Jolpica's own form: pit-lane starters keep a slot (Pérez 20; de Vries 20 and
        # Magnussen 19 in 2023), a non-starter its slot (Gasly 19).
        "fastf1/ergast/f1/2024/12/results.json",
        "jolpica/ergast/f1/2023/9/results.json",
        # A sprint with a grid-0 non-starter (Sargeant) in Jolpica's form.
        "fastf1/ergast/f1/2023/4/sprint.json",
        # Ergast's form in production: a withdrawn car (Tsunoda) and a pit-lane start (Gasly).
        "fastf1/ergast/f1/2021/14/results.json",
    ],
)
def test_recorded_grids_normalise_to_a_slot_or_a_pit_lane_start(
    fixtures_dir: Path, relative: str
) -> None:
    body = _recorded(fixtures_dir, relative)
    races = body["MRData"]["RaceTable"]["Races"]
    key = "SprintResults" if "SprintResults" in races[0] else "Results"
    table = parse_results(int(races[0]["season"]), races, key)
    (entry,) = table.races
    rows = races[0][key]
    assert [(r.grid, r.pit_lane_start) for r in entry.rows] == [
        _expected_grid(row.get("grid"), row["positionText"]) for row in rows
    ]
    # Status and time pass through as sent (Lapped cars' gaps included).
    assert [(r.status, r.time) for r in entry.rows] == [
        (row["status"], row.get("Time", {}).get("time")) for row in rows
    ]


@pytest.mark.parametrize(("season", "round_"), [(2024, 12), (2023, 9), (2022, 2), (2023, 20)])
def test_csv_grid_zero_is_a_pit_lane_start_unless_the_car_never_started(
    database: ErgastCsvDatabase, fixtures_dir: Path, season: int, round_: int
) -> None:
    csv_dir = fixtures_dir / "jolpica" / "csv"
    race = _race_id(csv_dir, season, round_)
    names = {r["driverId"]: r["driverRef"] for r in _csv(csv_dir, "drivers.csv")}
    rows = [r for r in _csv(csv_dir, "results.csv") if r["raceId"] == race]
    expected = {names[r["driverId"]]: _expected_grid(r["grid"], r["positionText"]) for r in rows}
    assert any(grid is None for grid, _ in expected.values())  # each case has a grid 0
    body = database.respond(f"{season}/{round_}/results.json", {"limit": "100"}, NOW)
    (entry,) = parse_results(season, _races(body), "Results").races
    assert {r.driver.driver_id: (r.grid, r.pit_lane_start) for r in entry.rows} == expected


def _moment(session: Json) -> datetime | None:
    clock = session.get("time")
    if clock is None:
        return None
    return datetime.combine(
        date.fromisoformat(session["date"]), time.fromisoformat(clock.removesuffix("Z")), UTC
    )


@pytest.mark.parametrize(
    ("relative", "timed"),
    [
        ("jolpica/ergast/f1/2018__limit-40.json", False),
        ("fastf1/ergast/f1/2019.json", False),
        ("fastf1/ergast/f1/2021.json", False),
        ("jolpica/ergast/f1/2025__limit-40.json", True),
        ("fastf1/ergast/f1/2024.json", True),
    ],
)
def test_recorded_schedules_keep_date_only_and_timed_sessions(
    fixtures_dir: Path, relative: str, timed: bool
) -> None:
    races = _recorded(fixtures_dir, relative)["MRData"]["RaceTable"]["Races"]
    schedule = parse_schedule(int(races[0]["season"]), races)
    assert len(schedule.races) == len(races)
    for race, raw in zip(schedule.races, races, strict=True):
        sent = {
            key: value for key, value in raw.items() if isinstance(value, dict) and "date" in value
        }
        assert sent, raw["raceName"]
        assert {s.name: (s.date, s.starts_at) for s in race.sessions} == {
            key: (date.fromisoformat(value["date"]), _moment(value)) for key, value in sent.items()
        }
        assert all((s.starts_at is not None) is timed for s in race.sessions)
