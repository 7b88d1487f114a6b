"""``/api/v1/profiles``: every number from the fixtures' CSV (Ergast database), through the
whole app on the replay."""

from __future__ import annotations

from collections import Counter
from typing import Any

from pypole_gql.domain.profiles import DriverProfile, TeamProfile
from pypole_gql.rest.profiles import DriversBody, TeamsBody
from pypole_gql.rest.shapes import model_of
from tests.jolpica_support import ClientFactory, jolpica_app
from tests.rest.frontend_support import Csv, conforms, fixtures_csv

__all__ = ["fixtures_csv"]
API = "/api/v1/profiles"
SEASON = 2023


async def _get(make_client: ClientFactory, replay: Any, path: str) -> Any:
    async with jolpica_app(make_client, replay) as client:
        response = await client.get(API + path)
    return response


async def test_drivers_and_teams_are_the_final_standings(
    make_client: ClientFactory, replay: Any, fixtures_csv: Csv
) -> None:
    async with jolpica_app(make_client, replay) as client:
        drivers = (await client.get(f"{API}/drivers", params={"season": SEASON})).json()
        teams = (await client.get(f"{API}/teams", params={"season": SEASON})).json()
    conforms(DriversBody, drivers)
    conforms(TeamsBody, teams)
    assert drivers["season"] == teams["season"] == SEASON
    assert [
        (d["driver"]["driverId"], d["position"], d["points"], d["wins"]) for d in drivers["drivers"]
    ] == [(s.ref, s.position, s.points, s.wins) for s in fixtures_csv.driver_standings(SEASON)]
    assert [
        (t["constructor"]["constructorId"], t["position"], t["points"], t["wins"])
        for t in teams["teams"]
    ] == [(s.ref, s.position, s.points, s.wins) for s in fixtures_csv.constructor_standings(SEASON)]


async def test_team_profile_equals_the_csv_sums(
    make_client: ClientFactory, replay: Any, fixtures_csv: Csv
) -> None:
    standings = fixtures_csv.constructor_standings(SEASON)
    team = standings[1].ref  # not only the champion
    response = await _get(make_client, replay, f"/teams/{team}?season={SEASON}")
    assert response.status_code == 200, response.text
    body = response.json()
    conforms(model_of(TeamProfile), body)
    rows = [r for r in fixtures_csv.season_results(SEASON) if r.constructor == team]
    sprints = [r for r in fixtures_csv.sprints if r.season == SEASON and r.constructor == team]
    season = body["current_season"]
    # What the team page reads: constructor.name, position, points, wins, drivers, races.
    assert body["constructor"]["constructorId"] == team
    assert body["constructor"]["name"] == fixtures_csv.constructor_name(team)
    assert (season["position"], season["points"], season["wins"]) == (
        standings[1].position,
        standings[1].points,
        standings[1].wins,
    )
    assert season["points"] == sum(r.points for r in rows) + sum(r.points for r in sprints)
    assert season["podiums"] == sum(r.position_text.isdigit() and r.position <= 3 for r in rows)
    assert season["dnfs"] == sum(r.position_text in ("R", "N") for r in rows)
    assert season["races"] == len({r.round for r in rows})
    starts = Counter(r.driver for r in rows)
    assert {d["driver"]["driverId"]: d["races_for_team"] for d in season["drivers"]} == starts
    by_round: dict[int, list[Any]] = {}
    for r in rows:
        by_round.setdefault(r.round, []).append(r)
    assert [race["round"] for race in body["race_results"]] == sorted(by_round)
    for race in body["race_results"]:
        expected = sorted(by_round[race["round"]], key=lambda r: r.position)
        assert race["race"] == expected[0].race_name
        assert race["total_points"] == sum(r.points for r in expected)
        assert [(x["driver_id"], x["position"], x["points"]) for x in race["results"]] == [
            (r.driver, r.position, r.points) for r in expected
        ]
        assert all(isinstance(x["driver"], str) for x in race["results"])


async def test_driver_profile_equals_the_csv(
    make_client: ClientFactory, replay: Any, fixtures_csv: Csv
) -> None:
    standing = fixtures_csv.driver_standings(SEASON)[2]
    response = await _get(make_client, replay, f"/drivers/{standing.ref}?season={SEASON}")
    assert response.status_code == 200, response.text
    body = response.json()
    conforms(model_of(DriverProfile), body)
    rows = sorted(
        (r for r in fixtures_csv.season_results(SEASON) if r.driver == standing.ref),
        key=lambda r: r.round,
    )
    season = body["current_season"]
    assert body["driver"]["driverId"] == standing.ref and body["driver"]["code"] == standing.code
    assert (season["position"], season["points"], season["wins"]) == (
        standing.position,
        standing.points,
        standing.wins,
    )
    assert season["races_entered"] == len(rows)
    assert season["podiums"] == sum(r.position_text.isdigit() and r.position <= 3 for r in rows)
    assert season["dnfs"] == sum(r.position_text in ("R", "N") for r in rows)
    assert season["team"]["name"] == rows[-1].constructor_name
    # The page's race list: round, race (a name), position, grid, status, points.
    assert [
        (x["round"], x["race"], x["position"], x["status"], x["points"], x["fastest_lap"])
        for x in body["race_results"]
    ] == [(r.round, r.race_name, r.position, r.status, r.points, r.fastest_rank == 1) for r in rows]
    career = body["career"]
    seasons = {
        year: next((s for s in fixtures_csv.driver_standings(year) if s.ref == standing.ref), None)
        for year in range(SEASON - 4, SEASON + 1)
    }
    expected = {year: s for year, s in seasons.items() if s is not None}
    assert [s["year"] for s in career["seasons"]] == sorted(expected)
    assert [(s["position"], s["points"], s["wins"]) for s in career["seasons"]] == [
        (s.position, s.points, s.wins) for _, s in sorted(expected.items())
    ]
    assert all(s["team"] is None or isinstance(s["team"], str) for s in career["seasons"])
    assert career["total_wins"] == sum(s.wins for s in expected.values())


async def test_unknown_driver_or_team_is_404_and_bad_input_422(
    make_client: ClientFactory, replay: Any
) -> None:
    async with jolpica_app(make_client, replay) as client:
        driver = await client.get(f"{API}/drivers/nobody_at_all", params={"season": SEASON})
        team = await client.get(f"{API}/teams/no_such_team", params={"season": SEASON})
        bad_id = await client.get(f"{API}/teams/bad id!", params={"season": SEASON})
        bad_season = await client.get(f"{API}/drivers", params={"season": 1800})
    assert driver.status_code == 404
    assert driver.json() == {"detail": f"Driver nobody_at_all not found in {SEASON} season"}
    assert team.status_code == 404
    assert team.json() == {"detail": f"Constructor no_such_team not found in {SEASON} season"}
    assert bad_id.status_code == 422 and bad_id.json()["detail"][0]["loc"] == [
        "path",
        "constructor_id",
    ]
    assert bad_season.status_code == 422
    assert bad_season.json()["detail"][0]["loc"] == ["query", "season"]


async def test_a_season_without_standings_has_empty_lists(
    make_client: ClientFactory, replay: Any
) -> None:
    async with jolpica_app(make_client, replay) as client:
        drivers = await client.get(f"{API}/drivers", params={"season": 2029})
        teams = await client.get(f"{API}/teams", params={"season": 2029})
    assert drivers.status_code == teams.status_code == 200
    assert drivers.json() == {"season": 2029, "drivers": []}
    assert teams.json() == {"season": 2029, "teams": []}
