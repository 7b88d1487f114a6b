"""``/api/v1/widgets`` and ``/api/v1/race-weekend``: the dashboard's data from the CSV.

The replay resolves Jolpica's ``current`` against the wall clock here: a season whose
calendar is not published, so the widgets show the season before it (2025 in the CSV) and
say so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pypole_gql.domain.race_weekend import RaceWeekend
from pypole_gql.domain.widgets import WIDGETS, WidgetResult
from pypole_gql.rest.race_weekend import NO_WEEKEND
from pypole_gql.rest.shapes import model_of
from pypole_gql.rest.widgets import WidgetsBody
from tests.auth.support import bearer, rest_session
from tests.rest.frontend_support import NOW, Csv, conforms, fixtures_csv, frontend_app
from tests.services.frontend_support import replay_now

__all__ = ["fixtures_csv", "replay_now"]
API = "/api/v1/widgets"


def _last_season(csv: Csv) -> int:
    return max(int(r["year"]) for r in csv.races.values() if csv.round_results(int(r["year"]), 1))


async def test_catalogue_and_public_widgets(tmp_path: Path, replay: Any, fixtures_csv: Csv) -> None:
    season = _last_season(fixtures_csv)
    async with frontend_app(tmp_path, replay) as app:
        catalogue = (await app.client.get(f"{API}/available")).json()
        bodies = {w.id: (await app.client.get(f"{API}/data/{w.id}/public")).json() for w in WIDGETS}
        unknown = await app.client.get(f"{API}/data/no_such_widget/public")
    conforms(WidgetsBody, catalogue)
    assert [w["id"] for w in catalogue["widgets"]] == [w.id for w in WIDGETS]
    for body in bodies.values():
        conforms(model_of(WidgetResult), body)
    standings = fixtures_csv.driver_standings(season)
    table = bodies["driver_standings"]["data"]
    assert table["season"] == season and table["total"] == len(standings)
    assert [s["Driver"]["driverId"] for s in table["standings"]] == [s.ref for s in standings][:10]
    leader = bodies["championship_leader"]["data"]
    assert leader["standing"]["Driver"]["driverId"] == standings[0].ref
    assert float(leader["standing"]["points"]) == standings[0].points
    teams = bodies["constructor_standings"]["data"]["standings"]
    assert [t["Constructor"]["constructorId"] for t in teams] == [
        s.ref for s in fixtures_csv.constructor_standings(season)
    ][:10]
    last = bodies["last_race_results"]["data"]
    last_round = max(
        int(r["round"])
        for r in fixtures_csv.rounds(season)
        if fixtures_csv.round_results(season, int(r["round"]))
    )
    assert last["race"]["round"] == str(last_round)
    assert [r["Driver"]["driverId"] for r in last["results"]["Results"]] == [
        r.driver for r in fixtures_csv.round_results(season, last_round)
    ]
    # Personal widgets, publicly: a message, no data.
    for personal in ("favorite_driver", "favorite_team", "recent_predictions"):
        assert bodies[personal]["data"] is None and bodies[personal]["message"]
    assert unknown.status_code == 200
    assert unknown.json()["error"] == "Widget not found"


async def test_favourites_come_from_the_account(
    tmp_path: Path, replay: Any, fixtures_csv: Csv
) -> None:
    season = _last_season(fixtures_csv)
    standing = fixtures_csv.driver_standings(season)[1]
    team = fixtures_csv.constructor_standings(season)[0]
    async with frontend_app(tmp_path, replay) as app:
        session = await rest_session(app.client)
        token = bearer(session["tokens"]["access_token"])
        assert (await app.client.get(f"{API}/data/favorite_driver")).status_code == 401
        unset = (await app.client.get(f"{API}/data/favorite_driver", headers=token)).json()
        update = {
            "favorite_driver": standing.code,
            "favorite_team": fixtures_csv.constructor_name(team.ref),
        }
        changed = await app.client.put("/api/v1/auth/preferences", json=update, headers=token)
        assert changed.status_code == 200, changed.text
        driver = (await app.client.get(f"{API}/data/favorite_driver", headers=token)).json()
        favourite_team = (await app.client.get(f"{API}/data/favorite_team", headers=token)).json()
    assert unset["data"] is None and unset["message"] == "No favorite driver set"
    conforms(model_of(WidgetResult), driver)
    profile = driver["data"]
    assert profile["driver"]["driverId"] == standing.ref
    assert profile["current_season"]["season"] == season
    assert profile["current_season"]["points"] == standing.points
    assert favourite_team["data"]["constructor"]["constructorId"] == team.ref
    assert favourite_team["data"]["current_season"]["points"] == team.points


async def test_race_weekend_current_without_an_upcoming_race_and_a_past_weekend(
    tmp_path: Path, replay: Any, fixtures_csv: Csv
) -> None:
    async with frontend_app(tmp_path, replay) as app:
        current = await app.client.get("/api/v1/race-weekend/current")
        past = await app.client.get("/api/v1/race-weekend/2023/5")
        missing = await app.client.get("/api/v1/race-weekend/2023/40")
    assert current.status_code == 200 and current.json() == {"message": NO_WEEKEND}
    assert past.status_code == 200, past.text
    body = past.json()
    conforms(model_of(RaceWeekend), body)
    assert (body["year"], body["round"], body["race"]["raceName"]) == (
        2023,
        5,
        fixtures_csv.round_results(2023, 5)[0].race_name,
    )
    assert [r["Driver"]["driverId"] for r in body["results"]["Results"]] == [
        r.driver for r in fixtures_csv.round_results(2023, 5)
    ]
    assert [s["name"] for s in body["sessions"]][-1] == "Race"
    assert missing.status_code == 404


async def test_race_weekend_current_is_the_next_race(
    tmp_path: Path, replay: Any, fixtures_csv: Csv, replay_now: Any
) -> None:
    replay_now(NOW)
    season, round_ = fixtures_csv.next_round(NOW)
    async with frontend_app(tmp_path, replay) as app:
        current = await app.client.get("/api/v1/race-weekend/current")
        widget = (await app.client.get(f"{API}/data/next_race/public")).json()
    assert current.status_code == 200, current.text
    body = current.json()
    conforms(model_of(RaceWeekend), body)
    assert (body["year"], body["round"]) == (season, round_)
    name = next(r["name"] for r in fixtures_csv.rounds(season) if int(r["round"]) == round_)
    assert body["race"]["raceName"] == widget["data"]["raceName"] == name
