"""The frontend's GraphQL fields: season profiles, strategy, widgets and predictions, with
values from the fixtures' CSV and FastF1 on the replay, user data on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.auth.support import error_of, gql, rest_session
from tests.plugins.fastf1 import OracleLoader, SessionsApp
from tests.rest.frontend_support import NOW, Csv, fixtures_csv, frontend_app

__all__ = ["fixtures_csv"]
SEASON = 2023

TEAM = """
query Team($id: ID!, $year: Int) {
  teamProfile(constructorId: $id, year: $year) {
    constructor { constructorId name }
    season {
      year position points wins races podiums dnfs
      drivers { driver { driverId } racesForTeam }
    }
    races { race { round name } totalPoints results { driver { driverId } position points } }
  }
}
"""
DRIVER = """
query Driver($id: ID!, $year: Int) {
  driverProfile(driverId: $id, year: $year) {
    driver { driverId code }
    season { year position points wins racesEntered podiums dnfs team { name } }
    races { race { round } result { position } fastestLap }
    career { totalWins seasons { year position points } }
  }
}
"""


async def test_team_and_driver_profiles_equal_the_csv(
    tmp_path: Path, replay: Any, fixtures_csv: Csv
) -> None:
    team = fixtures_csv.constructor_standings(SEASON)[1]
    driver = fixtures_csv.driver_standings(SEASON)[0]
    async with frontend_app(tmp_path, replay) as app:
        team_body = await gql(app.client, TEAM, {"id": team.ref, "year": SEASON})
        driver_body = await gql(app.client, DRIVER, {"id": driver.ref, "year": SEASON})
        missing = await gql(app.client, TEAM, {"id": "no_such_team", "year": SEASON})
        bad = await gql(app.client, TEAM, {"id": "bad id!", "year": SEASON})
    profile = team_body["data"]["teamProfile"]
    rows = [r for r in fixtures_csv.season_results(SEASON) if r.constructor == team.ref]
    sprints = [r for r in fixtures_csv.sprints if r.season == SEASON and r.constructor == team.ref]
    season = profile["season"]
    assert (season["position"], season["points"], season["wins"]) == (
        team.position,
        team.points,
        team.wins,
    )
    assert season["points"] == sum(r.points for r in rows) + sum(r.points for r in sprints)
    assert season["races"] == len({r.round for r in rows})
    assert season["podiums"] == sum(r.position_text.isdigit() and r.position <= 3 for r in rows)
    assert season["dnfs"] == sum(r.position_text in ("R", "N") for r in rows)
    for race in profile["races"]:
        own = [r for r in rows if r.round == race["race"]["round"]]
        assert race["totalPoints"] == sum(r.points for r in own)
    assert missing["data"]["teamProfile"] is None
    assert error_of(bad)["code"] == "BAD_USER_INPUT"
    assert error_of(bad)["field"] == "constructorId"
    found = driver_body["data"]["driverProfile"]
    own = [r for r in fixtures_csv.season_results(SEASON) if r.driver == driver.ref]
    assert found["season"]["points"] == driver.points
    assert found["season"]["racesEntered"] == len(own)
    assert [r["race"]["round"] for r in found["races"]] == sorted(r.round for r in own)


async def test_race_strategy_equals_fastf1(
    sessions_app: SessionsApp, fastf1_oracle: OracleLoader
) -> None:
    body = await sessions_app.graphql(
        '{ raceStrategy(year: 2018, race: "Baku") { classification '
        "driverStrategies { driver numStops stints { stint lapCount } } "
        "strategyDistribution { numStops drivers } } }"
    )
    assert "errors" not in body, body
    laps = fastf1_oracle(2018, "Baku", "R").laps
    stints = laps[laps["Stint"].notna()].groupby("Driver")["Stint"].nunique()
    report = body["data"]["raceStrategy"]
    assert {d["driver"]: len(d["stints"]) for d in report["driverStrategies"]} == {
        str(code): int(n) for code, n in stints.items()
    }
    assert sum(s["drivers"] for s in report["strategyDistribution"]) == len(stints)


async def test_widgets_public_and_signed_in(tmp_path: Path, replay: Any, fixtures_csv: Csv) -> None:
    async with frontend_app(tmp_path, replay) as app:
        listed = await gql(app.client, "{ widgets { id name personal } }")
        query = "query W($id: ID!) { widget(id: $id) { widgetId data message error } }"
        leader = await gql(app.client, query, {"id": "championship_leader"})
        public = await gql(app.client, query, {"id": "favorite_driver"})
        session = await rest_session(app.client, favorite_driver="VER")
        token = session["tokens"]["access_token"]
        mine = await gql(app.client, query, {"id": "favorite_driver"}, token=token)
    assert {w["id"] for w in listed["data"]["widgets"]} >= {"next_race", "favorite_driver"}
    data = leader["data"]["widget"]["data"]
    season = data["season"]
    assert data["standing"]["Driver"]["driverId"] == fixtures_csv.driver_standings(season)[0].ref
    assert public["data"]["widget"]["data"] is None and public["data"]["widget"]["message"]
    profile = mine["data"]["widget"]["data"]
    assert profile["driver"]["code"] == "VER"
    expected = next(s for s in fixtures_csv.driver_standings(season) if s.code == "VER")
    assert profile["current_season"]["points"] == expected.points


SAVE = """
mutation Save($year: Int!, $round: Int!, $picks: [PickInput!]!) {
  savePrediction(year: $year, round: $round, picks: $picks) {
    year round version open closesAt picks { driverId predictedPosition }
  }
}
"""
MINE = """
query Mine($year: Int!, $round: Int!) {
  myPrediction(year: $year, round: $round) { version picks { driverId predictedPosition } }
}
"""


async def test_predictions_are_own_and_close_at_the_start(
    tmp_path: Path, replay: Any, fixtures_csv: Csv, db_url: str
) -> None:
    season, round_ = fixtures_csv.next_round(NOW)
    drivers = [s.ref for s in fixtures_csv.driver_standings(season)][:5]
    picks = [{"driverId": ref, "predictedPosition": i} for i, ref in enumerate(drivers, 1)]
    async with frontend_app(tmp_path, replay, now=NOW, database_url=db_url) as app:
        alice = (await rest_session(app.client))["tokens"]["access_token"]
        bob = (await rest_session(app.client))["tokens"]["access_token"]
        variables = {"year": season, "round": round_, "picks": picks}
        anonymous = await gql(app.client, SAVE, variables)
        saved = await gql(app.client, SAVE, variables, token=alice)
        again = await gql(app.client, SAVE, variables, token=alice)
        mine = await gql(app.client, MINE, {"year": season, "round": round_}, token=alice)
        theirs = await gql(app.client, MINE, {"year": season, "round": round_}, token=bob)
        closed = await gql(app.client, SAVE, {**variables, "round": round_ - 1}, token=alice)
        twice = await gql(
            app.client, SAVE, {**variables, "picks": [picks[0], picks[0]]}, token=alice
        )
        rules = await gql(app.client, "{ scoringRules { positionPoints beyond } }")
    assert error_of(anonymous)["code"] == "UNAUTHENTICATED"
    stored = saved["data"]["savePrediction"]
    assert (stored["version"], stored["open"], stored["picks"]) == (1, True, picks)
    assert again["data"]["savePrediction"]["version"] == 2
    assert mine["data"]["myPrediction"]["picks"] == picks
    assert theirs["data"]["myPrediction"] is None
    assert error_of(closed)["code"] == "CONFLICT"
    assert error_of(twice) | {"message": ""} == {
        "message": "",
        "code": "BAD_USER_INPUT",
        "field": "picks[1].driverId",
    }
    assert rules["data"]["scoringRules"]["positionPoints"][0] == 25


async def test_score_prediction_against_the_csv(
    tmp_path: Path, replay: Any, fixtures_csv: Csv
) -> None:
    results = fixtures_csv.round_results(SEASON, 5)
    picks: list[dict[str, Any]] = [
        {"driverId": r.driver, "predictedPosition": i}
        for i, r in enumerate(reversed(results[:10]), 1)
    ]
    query = """query S($picks: [PickInput!]!) {
      scorePrediction(year: 2023, round: 5, picks: $picks) {
        totalScore maxPossibleScore detailedScores { driverId actualPosition difference }
      }
    }"""
    async with frontend_app(tmp_path, replay) as app:
        body = await gql(app.client, query, {"picks": picks})
    score = body["data"]["scorePrediction"]
    actual = {r.driver: r.position for r in results}
    assert [(s["driverId"], s["actualPosition"]) for s in score["detailedScores"]] == [
        (p["driverId"], actual[str(p["driverId"])]) for p in picks
    ]
    assert score["maxPossibleScore"] == 25 * len(picks)
