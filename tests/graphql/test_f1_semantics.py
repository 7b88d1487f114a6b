"""Championship answers mean what the schema says, whichever form Jolpica sends (issue 15).

The app runs on the replay in each of its forms: ``csv`` (Ergast's, the CSV database),
``jolpica`` (Jolpica's current forms where its own data has them) and ``recorded`` (the
recorded bodies alone, served again for the app's own ``limit``/``offset`` requests, so
production's bytes go through the whole server). Expected values come from the CSV and
the recorded files (``tests/semantics_support.py``), never from the app or the replay.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.jolpica_support import ClientFactory, graphql, jolpica_app
from tests.plugins.replay import Replay
from tests.semantics_support import (
    RECORDED_RACES,
    RECORDED_SCHEDULES,
    CsvFacts,
    ExpectedResult,
    graphql_moment,
    mrdata,
    recorded_race,
    recorded_results,
    recorded_sessions,
)

STANDINGS = """{
  s1997: season(year: 1997) { driverStandings { position positionText driver { driverId } } }
  s2007: season(year: 2007) {
    final: constructorStandings { position positionText constructor { constructorId } }
    early: constructorStandings(round: 5) { position positionText constructor { constructorId } }
  }
  s2025: season(year: 2025) {
    first: driverStandings(round: 1) { position positionText driver { driverId } }
    second: driverStandings(round: 2) { position positionText driver { driverId } }
  }
}"""

RESULT_FIELDS = "position positionText status time grid pitLaneStart driver { driverId }"
RESULTS = f"""{{
  r2024_12: race(year: 2024, round: 12) {{ results {{ {RESULT_FIELDS} }} }}
  r2023_9: race(year: 2023, round: 9) {{ results {{ {RESULT_FIELDS} }} }}
  r2023_4: race(year: 2023, round: 4) {{ sprint {{ {RESULT_FIELDS} }} }}
}}"""


@pytest.fixture(scope="module")
def facts(fixtures_dir: Path) -> CsvFacts:
    return CsvFacts(fixtures_dir)


def _standings(rows: list[dict[str, Any]], entrant: str, id_key: str) -> dict[str, Any]:
    return {row[entrant][id_key]: (row["position"], row["positionText"]) for row in rows}


@pytest.mark.parametrize("forms", ["csv", "jolpica"])
async def test_excluded_and_unranked_standings_have_no_position(
    make_client: ClientFactory, replay: Replay, facts: CsvFacts, forms: str
) -> None:
    # 1997: Schumacher "D"; 2007: McLaren "E" after every round; 2025: "-" after round 1
    # and 2 for drivers without a classified finish.
    cases = [
        ("s1997", None, "drivers", 1997, None),
        ("s2007", "final", "constructors", 2007, None),
        ("s2007", "early", "constructors", 2007, 5),
        ("s2025", "first", "drivers", 2025, 1),
        ("s2025", "second", "drivers", 2025, 2),
    ]
    with replay.forms(forms):
        async with jolpica_app(make_client, replay) as client:
            body = await graphql(client, STANDINGS)
    assert "errors" not in body, body["errors"]
    for alias, field, kind, season, round_ in cases:
        season_data = body["data"][alias]
        rows = season_data[field] if field else season_data["driverStandings"]
        entrant, id_key = (
            ("driver", "driverId")
            if kind == "drivers"
            else (
                "constructor",
                "constructorId",
            )
        )
        expected = {
            ref: (position, text)
            for ref, (position, text, _) in facts.standings(kind, season, round_).items()
        }
        assert any(position is None for position, _ in expected.values()), (alias, field)
        assert _standings(rows, entrant, id_key) == expected, (alias, field)
        # Ranked entries first, in order; the unranked after them.
        positions = [row["position"] for row in rows]
        ranked = [p for p in positions if p is not None]
        assert positions == ranked + [None] * (len(positions) - len(ranked))
        assert ranked == sorted(ranked)


async def test_recorded_standings_go_through_the_server_unchanged(
    make_client: ClientFactory, replay: Replay, fixtures_dir: Path
) -> None:
    query = """{ season(year: 2023) {
      driverStandings { position positionText points wins driver { driverId } } } }"""
    (recorded,) = mrdata(fixtures_dir, "jolpica/ergast/f1/2023/driverstandings.json")[
        "StandingsTable"
    ]["StandingsLists"]
    with replay.forms("recorded"):
        async with jolpica_app(make_client, replay) as client:
            body = await graphql(client, query)
    assert "errors" not in body, body["errors"]
    assert body["data"]["season"]["driverStandings"] == [
        {
            "position": int(row["positionText"]),
            "positionText": row["positionText"],
            "points": float(row["points"]),
            "wins": int(row["wins"]),
            "driver": {"driverId": row["Driver"]["driverId"]},
        }
        for row in recorded["DriverStandings"]
    ]


def _answered(rows: list[dict[str, Any]]) -> list[ExpectedResult]:
    return [
        ExpectedResult(
            driver_id=row["driver"]["driverId"],
            position=row["position"],
            position_text=row["positionText"],
            status=row["status"],
            time=row["time"],
            grid=row["grid"],
            pit_lane_start=row["pitLaneStart"],
        )
        for row in rows
    ]


@pytest.mark.parametrize("forms", ["csv", "jolpica", "recorded"])
async def test_results_mean_the_same_in_every_form(
    make_client: ClientFactory, replay: Replay, fixtures_dir: Path, facts: CsvFacts, forms: str
) -> None:
    with replay.forms(forms):
        async with jolpica_app(make_client, replay) as client:
            body = await graphql(client, RESULTS)
    assert "errors" not in body, body["errors"]
    answers = {
        (2024, 12): body["data"]["r2024_12"]["results"],
        (2023, 9): body["data"]["r2023_9"]["results"],
        (2023, 4): body["data"]["r2023_4"]["sprint"],
    }
    for season, round_, key, relative in RECORDED_RACES:
        got = _answered(answers[(season, round_)])
        if forms == "csv":
            expected = facts.results(season, round_, key)
            # The CSV's time text is the generator's to render; whether there is one is the
            # CSV's fact (none for lapped or retired cars there).
            assert [(g.time is None) for g in got] == [(e.time is None) for e in expected]
            got = [ExpectedResult(**{**vars(g), "time": None}) for g in got]
            expected = [ExpectedResult(**{**vars(e), "time": None}) for e in expected]
        else:
            expected = recorded_results(recorded_race(fixtures_dir, relative), key)
        assert got == expected, (forms, season, round_)


async def test_both_forms_of_one_race_differ_only_where_jolpica_does(
    make_client: ClientFactory, replay: Replay, fixtures_dir: Path, facts: CsvFacts
) -> None:
    """The cases the schema text now covers: present in the data, not just allowed."""
    race = recorded_race(fixtures_dir, "fastf1/ergast/f1/2024/12/results.json")
    jolpica = {r.driver_id: r for r in recorded_results(race, "Results")}
    ergast = {r.driver_id: r for r in facts.results(2024, 12, "Results")}
    lapped = [d for d, r in jolpica.items() if r.status == "Lapped"]
    assert lapped and all(jolpica[d].time is not None and ergast[d].time is None for d in lapped)
    assert all(ergast[d].status.startswith("+") for d in lapped)
    pit_lane = [d for d, r in ergast.items() if r.pit_lane_start]
    assert pit_lane and all(jolpica[d].grid is not None for d in pit_lane)
    assert all(not jolpica[d].pit_lane_start for d in pit_lane)
    # Everything else is the same fact in both forms.
    for driver, row in jolpica.items():
        assert (row.position, row.position_text) == (
            ergast[driver].position,
            ergast[driver].position_text,
        )


@pytest.mark.parametrize("forms", ["jolpica", "recorded"])
async def test_date_only_and_timed_sessions_are_sessions(
    make_client: ClientFactory, replay: Replay, fixtures_dir: Path, facts: CsvFacts, forms: str
) -> None:
    query = """query($y: Int!) { season(year: $y) {
      races { round date startsAt sessions { name date startsAt } } } }"""
    with replay.forms(forms):
        async with jolpica_app(make_client, replay) as client:
            bodies = {
                year: await graphql(client, query, {"y": year}) for year in RECORDED_SCHEDULES
            }
    for year, relative in RECORDED_SCHEDULES.items():
        assert not facts.has_sessions(year)  # the CSV has none: the replay's csv forms neither
        body = bodies[year]
        assert "errors" not in body, body["errors"]
        races = body["data"]["season"]["races"]
        recorded = mrdata(fixtures_dir, relative)["RaceTable"]["Races"]
        assert [race["round"] for race in races] == [int(r["round"]) for r in recorded]
        for race, raw in zip(races, recorded, strict=True):
            sessions = [
                (s["name"], s["date"], graphql_moment(s["startsAt"])) for s in race["sessions"]
            ]
            assert sessions == recorded_sessions(raw), (year, race["round"])
        timed = {s["startsAt"] is not None for race in races for s in race["sessions"]}
        assert timed == {year >= 2022}, year


async def test_csv_forms_have_no_sessions_where_the_csv_has_none(
    make_client: ClientFactory, replay: Replay, facts: CsvFacts
) -> None:
    query = "{ season(year: 2018) { races { sessions { name } } } }"
    async with jolpica_app(make_client, replay) as client:
        body = await graphql(client, query)
    assert not facts.has_sessions(2018)
    assert all(race["sessions"] == [] for race in body["data"]["season"]["races"])
