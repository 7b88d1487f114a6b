"""The replay's forms: the recordings alone re-paged (``recorded``) and the switch between
forms on the running server (``csv``, ``jolpica``, ``recorded``).

Expected values are read from the recorded files themselves and from the CSV.
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from pypole_gql.replay.recorded import RecordedErgast
from tests.plugins.replay import Replay

Json = dict[str, Any]
NOW = datetime(2025, 11, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def recorded(fixtures_dir: Path) -> RecordedErgast:
    return RecordedErgast.load(
        [fixtures_dir / "fastf1" / "ergast" / "f1", fixtures_dir / "jolpica" / "ergast" / "f1"]
    )


def _mrdata(fixtures_dir: Path, relative: str) -> Json:
    data: Json = json.loads((fixtures_dir / relative).read_text(encoding="utf-8"))["MRData"]
    return data


def _pages(
    responder: RecordedErgast, path: str, limit: int, table: str, items: str
) -> tuple[list[Json], set[str]]:
    """Every item of every page of ``limit``, and the totals the pages gave."""
    out: list[Json] = []
    totals: set[str] = set()
    offset = 0
    while True:
        body = responder.respond(path, {"limit": str(limit), "offset": str(offset)}, NOW)
        assert body is not None, path
        mrdata = body["MRData"]
        totals.add(mrdata["total"])
        page = mrdata[table][items]
        if not page:
            return out, totals
        out.extend(page)
        offset += limit


def _rows(races: list[Json], key: str) -> list[tuple[str, Json]]:
    return [(race["round"], row) for race in races for row in race[key]]


@pytest.mark.parametrize("limit", [100, 7])
@pytest.mark.parametrize(
    ("path", "key", "sources"),
    [
        # One recorded round is the whole 2024 season table the server can ask for.
        ("2024/results.json", "Results", [("fastf1/ergast/f1/2024/12/results.json", 0)]),
        # jolpica-f1's first page of 2023 holds round 1 whole (round 2 is cut by the page).
        (
            "2023/results.json",
            "Results",
            [
                ("jolpica/ergast/f1/2023/results.json", 0),
                ("jolpica/ergast/f1/2023/9/results.json", 0),
            ],
        ),
        (
            "2025/sprint.json",
            "SprintResults",
            [
                ("jolpica/ergast/f1/2025/2/sprint__limit-40.json", 0),
                ("fastf1/ergast/f1/2025/6/sprint.json", 0),
            ],
        ),
        # Production's 2023 Azerbaijan sprint wins over jolpica-f1's copy of it.
        ("2023/4/sprint.json", "SprintResults", [("fastf1/ergast/f1/2023/4/sprint.json", 0)]),
    ],
)
def test_result_tables_are_the_recorded_races_in_any_page(
    recorded: RecordedErgast,
    fixtures_dir: Path,
    path: str,
    key: str,
    sources: list[tuple[str, int]],
    limit: int,
) -> None:
    races = [_mrdata(fixtures_dir, rel)["RaceTable"]["Races"][index] for rel, index in sources]
    expected = _rows(races, key)
    items, totals = _pages(recorded, path, limit, "RaceTable", "Races")
    assert _rows(items, key) == expected
    assert totals == {str(len(expected))}
    heads = {race["round"]: {k: v for k, v in race.items() if k != key} for race in races}
    assert all(
        {k: v for k, v in item.items() if k != key} == heads[item["round"]] for item in items
    )


def test_production_wins_over_jolpica_f1s_app_and_ergast(
    recorded: RecordedErgast, fixtures_dir: Path
) -> None:
    sprint = _mrdata(fixtures_dir, "fastf1/ergast/f1/2023/4/sprint.json")["RaceTable"]["Races"]
    copy = _mrdata(fixtures_dir, "jolpica/ergast/f1/2023/sprint.json")["RaceTable"]["Races"]
    assert sprint[0] != copy[0]  # the two recordings of the race differ
    body = recorded.respond("2023/sprint", {"limit": "100"}, NOW)
    assert body is not None
    (race,) = [r for r in body["MRData"]["RaceTable"]["Races"] if r["round"] == "4"]
    assert race == sprint[0]
    schedule = _mrdata(fixtures_dir, "fastf1/ergast/f1/2023.json")["RaceTable"]["Races"]
    ergast = _mrdata(fixtures_dir, "jolpica/ergast/f1/2023.json")["RaceTable"]["Races"]
    assert schedule != ergast
    items, _ = _pages(recorded, "2023.json", 100, "RaceTable", "Races")
    assert items == schedule


@pytest.mark.parametrize(
    ("path", "relative"),
    [
        ("2018.json", "jolpica/ergast/f1/2018__limit-40.json"),
        ("2019.json", "fastf1/ergast/f1/2019.json"),
        ("2025.json", "jolpica/ergast/f1/2025__limit-40.json"),
    ],
)
def test_schedules_are_the_recorded_calendars(
    recorded: RecordedErgast, fixtures_dir: Path, path: str, relative: str
) -> None:
    expected = _mrdata(fixtures_dir, relative)["RaceTable"]["Races"]
    for limit in (100, 5):
        items, totals = _pages(recorded, path, limit, "RaceTable", "Races")
        assert items == expected
        assert totals == {str(len(expected))}


@pytest.mark.parametrize(
    ("path", "relative", "key"),
    [
        ("2023/driverstandings", "jolpica/ergast/f1/2023/driverstandings.json", "DriverStandings"),
        (
            "2023/13/constructorStandings",
            "jolpica/ergast/f1/2023/13/constructorstandings.json",
            "ConstructorStandings",
        ),
        (
            "2021/constructorstandings",
            "jolpica/ergast/f1/2021/last/constructorStandings__limit-40.json",
            "ConstructorStandings",
        ),
    ],
)
def test_standings_are_the_recorded_lists(
    recorded: RecordedErgast, fixtures_dir: Path, path: str, relative: str, key: str
) -> None:
    (expected,) = _mrdata(fixtures_dir, relative)["StandingsTable"]["StandingsLists"]
    lists, _ = _pages(recorded, path, 4, "StandingsTable", "StandingsLists")
    assert [entry for item in lists for entry in item[key]] == expected[key]
    assert {(item["season"], item["round"]) for item in lists} == {
        (expected["season"], expected["round"])
    }


@pytest.mark.parametrize(
    "path",
    [
        "2017/results.json",  # a season nothing recorded
        "2024/sprint.json",  # an endpoint not recorded for the season
        "2023/grid/1/results.json",  # filtered: never rebuilt from its pieces
        "2023/18/pitstops.json",  # recorded, but only a first page of 30 of 36
        "current/next.json",
        "2023/99/results.json",
    ],
)
def test_what_no_recording_holds_whole_is_no_answer(recorded: RecordedErgast, path: str) -> None:
    assert recorded.respond(path, {"limit": "100"}, NOW) is None


# -- switching forms on the running replay ------------------------------------------------------


def _british_gp_row(replay: Replay, driver: str) -> Json | None:
    """The 2024 British GP result of ``driver`` as the replay answers the app's request."""
    response = httpx.get(
        f"{replay.url}/ergast/f1/2024/results.json",
        params={"limit": "100", "offset": "200"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    races = response.json()["MRData"]["RaceTable"]["Races"]
    rows = [r for race in races if race["round"] == "12" for r in race["Results"]]
    return next((r for r in rows if r["Driver"]["driverId"] == driver), None)


def _csv_row(fixtures_dir: Path, season: int, round_: int, driver: str) -> dict[str, str]:
    def rows(name: str) -> list[dict[str, str]]:
        with (fixtures_dir / "jolpica" / "csv" / name).open(newline="", encoding="utf-8") as f:
            return list(csv.DictReader(f))

    race = next(
        r["raceId"]
        for r in rows("races.csv")
        if (r["year"], r["round"]) == (str(season), str(round_))
    )
    driver_id = next(r["driverId"] for r in rows("drivers.csv") if r["driverRef"] == driver)
    row = next(r for r in rows("results.csv") if (r["raceId"], r["driverId"]) == (race, driver_id))
    statuses = {r["statusId"]: r["status"] for r in rows("status.csv")}
    return {**row, "status": statuses[row["statusId"]]}


def test_forms_switch_while_running_and_reset_restores_them(
    replay: Replay, fixtures_dir: Path
) -> None:
    ricciardo = _csv_row(fixtures_dir, 2024, 12, "ricciardo")
    recorded_rows = _mrdata(fixtures_dir, "fastf1/ergast/f1/2024/12/results.json")["RaceTable"][
        "Races"
    ][0]["Results"]
    production = next(r for r in recorded_rows if r["Driver"]["driverId"] == "ricciardo")
    assert replay.server.forms == "csv"
    row = _british_gp_row(replay, "ricciardo")
    assert row is not None and (row["status"], row.get("Time")) == (ricciardo["status"], None)
    with replay.forms("jolpica"):
        row = _british_gp_row(replay, "ricciardo")
        assert row is not None
        assert (row["status"], row["Time"]) == (production["status"], production["Time"])
    assert replay.server.forms == "csv"
    # Over the control API, for another process; the recorded 2024 season is one race long,
    # so the app's third page of 100 is empty there.
    put = httpx.put(f"{replay.url}/_replay/forms", json={"forms": "recorded"}, timeout=10)
    assert put.status_code == 200 and put.json()["forms"] == "recorded"
    response = httpx.get(
        f"{replay.url}/ergast/f1/2024/results.json", params={"limit": "100"}, timeout=10
    )
    assert response.json()["MRData"]["total"] == str(len(recorded_rows))
    assert httpx.post(f"{replay.url}/_replay/reset", timeout=10).status_code == 204
    assert httpx.get(f"{replay.url}/_replay/info", timeout=10).json()["forms"] == "csv"


@pytest.mark.parametrize("body", [{"forms": "ergast"}, {"form": "csv"}, [], "csv"])
def test_unknown_forms_are_refused(replay: Replay, body: Any) -> None:
    response = httpx.put(f"{replay.url}/_replay/forms", json=body, timeout=10)
    assert response.status_code == 400 and "detail" in response.json()
    assert replay.server.forms == "csv"
