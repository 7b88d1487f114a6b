"""``/api/v1/predictor``: the rules, the template, a score of a bare JSON array of picks (as
the older client posts it), and stored predictions on SQLite and PostgreSQL.

Scores are checked against the rules as their text says them, applied to results.csv.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from pypole_gql.domain.predictions import PredictionScore, PredictorTemplate, StoredPrediction
from pypole_gql.rest.shapes import model_of
from tests.auth.support import bearer, rest_session
from tests.rest.frontend_support import NOW, Csv, conforms, fixtures_csv, frontend_app

__all__ = ["fixtures_csv"]
API = "/api/v1/predictor"
SCORED = (2023, 5)


def _points(difference: int) -> int:
    """25, 18, 15, 12, 10, 8 for 0..5 places off, then 10 - difference, never below 0."""
    table = {0: 25, 1: 18, 2: 15, 3: 12, 4: 10, 5: 8}
    return table[difference] if difference in table else max(0, 10 - difference)


def _grid_picks(csv: Csv, season: int, round_: int) -> list[dict[str, Any]]:
    rows = csv.round_results(season, round_)
    order = sorted(rows, key=lambda r: (r.grid is None, r.grid or 0, r.position))
    return [{"driver_id": r.driver, "predicted_position": i} for i, r in enumerate(order, 1)]


def _season_picks(csv: Csv, season: int, count: int) -> list[dict[str, Any]]:
    drivers = [s.ref for s in csv.driver_standings(season)][:count]
    return [{"driver_id": ref, "predicted_position": i} for i, ref in enumerate(drivers, 1)]


async def test_rules_and_a_bare_array_scored_against_the_csv(
    tmp_path: Path, replay: Any, fixtures_csv: Csv
) -> None:
    picks = _grid_picks(fixtures_csv, *SCORED)[:12]
    async with frontend_app(tmp_path, replay) as app:
        rules = (await app.client.get(f"{API}/scoring-rules")).json()
        response = await app.client.post(f"{API}/score/{SCORED[0]}/{SCORED[1]}", json=picks)
    assert rules["position_points"] == [_points(d) for d in range(6)]
    assert list(rules["prediction_scoring"].values()) == rules["position_points"]
    assert rules["bonus_points"] == {} and rules["description"]
    assert response.status_code == 200, response.text
    body = response.json()
    conforms(model_of(PredictionScore), body)
    actual = {r.driver: r.position for r in fixtures_csv.round_results(*SCORED)}
    expected = [_points(abs(p["predicted_position"] - actual[p["driver_id"]])) for p in picks]
    assert [s["points_earned"] for s in body["detailed_scores"]] == expected
    assert body["total_score"] == sum(expected)
    assert body["max_possible_score"] == 25 * len(picks)


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"driver_id": "x", "predicted_position": 1}, ["body"]),
        ([{"driver_id": "max_verstappen"}], ["body", "0", "predicted_position"]),
        ([{"driver_id": "max_verstappen", "predicted_position": 1}] * 2, None),
        ([{"driver_id": "nobody_at_all", "predicted_position": 1}], None),
    ],
)
async def test_bad_picks_are_422_naming_the_pick(
    tmp_path: Path, replay: Any, body: Any, loc: list[str] | None
) -> None:
    async with frontend_app(tmp_path, replay) as app:
        response = await app.client.post(f"{API}/score/{SCORED[0]}/{SCORED[1]}", json=body)
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, list) and detail
    if loc is not None:
        assert detail[0]["loc"] == loc
    else:
        assert detail[0]["loc"][0] == "body" and detail[0]["loc"][1].startswith("picks[")


async def test_template_and_the_ai_prediction_is_501(
    tmp_path: Path, replay: Any, fixtures_csv: Csv
) -> None:
    async with frontend_app(tmp_path, replay) as app:
        template = await app.client.get(f"{API}/template/{SCORED[0]}/{SCORED[1]}")
        missing = await app.client.get(f"{API}/template/{SCORED[0]}/40")
        ai = await app.client.get(f"{API}/ai-prediction/{SCORED[0]}/{SCORED[1]}")
    assert template.status_code == 200, template.text
    body = template.json()
    conforms(model_of(PredictorTemplate), body)
    results = fixtures_csv.round_results(*SCORED)
    assert body["race"]["raceName"] == results[0].race_name
    assert {d["driver_id"] for d in body["drivers"]} == {r.driver for r in results}
    names = {r.driver: r.constructor_name for r in results}
    assert all(d["team"] == names[d["driver_id"]] and d["name"] for d in body["drivers"])
    assert missing.status_code == 404
    assert missing.json() == {"detail": f"Race not found: {SCORED[0]} round 40"}
    assert ai.status_code == 501
    assert "no prediction model" in ai.json()["detail"]


async def test_stored_predictions_are_own_editable_until_the_start(
    tmp_path: Path, replay: Any, fixtures_csv: Csv, db_url: str
) -> None:
    season, round_ = fixtures_csv.next_round(NOW)
    started = round_ - 1
    path = f"{API}/predictions/{season}/{round_}"
    picks = _season_picks(fixtures_csv, season, 10)
    async with frontend_app(tmp_path, replay, now=NOW, database_url=db_url) as app:
        client = app.client
        alice = bearer((await rest_session(client))["tokens"]["access_token"])
        bob = bearer((await rest_session(client))["tokens"]["access_token"])
        assert (await client.put(path, json=picks)).status_code == 401
        saved = await client.put(path, json=list(reversed(picks)), headers=alice)
        assert saved.status_code == 200, saved.text
        conforms(model_of(StoredPrediction), saved.json())
        stored = saved.json()
        assert stored["prediction"]["picks"] == picks  # kept by position
        assert (stored["prediction"]["version"], stored["open"], stored["score"]) == (1, True, None)
        assert stored["closes_at"] == fixtures_csv.race_start(season, round_).isoformat()
        again = await client.put(path, json={"predictions": picks[:5]}, headers=alice)
        assert again.json()["prediction"]["version"] == 2
        mine = await client.get(path, headers=alice)
        assert mine.status_code == 200 and mine.json()["prediction"]["picks"] == picks[:5]
        # Another user's prediction is never visible nor changeable.
        assert (await client.get(path, headers=bob)).status_code == 404
        assert (await client.delete(path, headers=bob)).status_code == 404
        recent = (await client.get(f"{API}/predictions", headers=bob)).json()
        assert recent == {"predictions": []}
        listed = (await client.get(f"{API}/predictions", headers=alice)).json()["predictions"]
        assert [(p["prediction"]["season"], p["prediction"]["round"]) for p in listed] == [
            (season, round_)
        ]
        # The race before has started: 409, its message says when.
        closed = await client.put(
            f"{API}/predictions/{season}/{started}", json=picks, headers=alice
        )
        assert closed.status_code == 409
        start = fixtures_csv.race_start(season, started)
        assert f"{start:%Y-%m-%d %H:%M}" in closed.json()["detail"]
        # Bad input: 422 naming the pick.
        twice = await client.put(path, json=[picks[0], picks[0]], headers=alice)
        assert twice.status_code == 422 and twice.json()["detail"][0]["loc"][0] == "body"
        # Saves that race all succeed and the version counts them all.
        tries = [
            client.put(
                path,
                json=[
                    {**p, "predicted_position": (p["predicted_position"] + s) % 10 + 1}
                    for p in picks
                ],
                headers=alice,
            )
            for s in range(6)
        ]
        answers = await asyncio.gather(*tries)
        assert [a.status_code for a in answers] == [200] * 6
        final = (await client.get(path, headers=alice)).json()["prediction"]
        assert final["version"] == 2 + 6
        assert final["picks"] in [
            sorted(a.json()["prediction"]["picks"], key=lambda p: p["predicted_position"])
            for a in answers
        ]
        removed = await client.delete(path, headers=alice)
        assert removed.status_code == 200
        assert (await client.get(path, headers=alice)).status_code == 404
    assert fixtures_csv.race_start(season, round_) - timedelta(seconds=1) > NOW
