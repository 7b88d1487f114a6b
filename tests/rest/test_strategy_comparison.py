"""``/api/v1/strategy`` and ``/api/v1/comparison`` on the 2018 Azerbaijan GP (FastF1 on the
replay) and the CSV: what the strategy and comparison pages read, against FastF1 itself."""

from __future__ import annotations

import pandas as pd

from pypole_gql.domain.comparison import RaceComparison, SeasonComparison
from pypole_gql.domain.strategy import DriverStrategyDetail, RaceStrategy
from pypole_gql.rest.schemas import format_lap_time
from pypole_gql.rest.shapes import model_of
from tests.plugins.fastf1 import OracleLoader, SessionsApp
from tests.rest.frontend_support import Csv, conforms, fixtures_csv

__all__ = ["fixtures_csv"]
YEAR, RACE = 2018, "Baku"


async def test_race_strategy_reads_as_the_page_does(
    sessions_app: SessionsApp, fastf1_oracle: OracleLoader
) -> None:
    response = await sessions_app.client.get(f"/api/v1/strategy/race/{YEAR}/{RACE}")
    assert response.status_code == 200, response.text
    body = response.json()
    conforms(model_of(RaceStrategy), body)
    laps = fastf1_oracle(YEAR, RACE, "R").laps
    stints = laps[laps["Stint"].notna()].groupby("Driver")["Stint"].nunique()
    by_driver = {d["driver"]: d for d in body["driver_strategies"]}
    assert set(by_driver) == set(stints.index)
    for code, count in stints.items():
        entry = by_driver[str(code)]
        assert len(entry["stints"]) == count and entry["num_stops"] == count - 1
        assert all({"stint", "compound", "num_laps"} <= set(s) for s in entry["stints"])
        assert entry["total_laps"] == int(laps[laps["Driver"] == code]["LapNumber"].max())
    # The summary's stop distribution, as an object the page takes the keys of.
    stops = {str(n - 1): 0 for n in stints}
    for n in stints:
        stops[str(n - 1)] += 1
    assert body["summary"]["strategy_distribution"] == stops
    assert body["summary"]["total_drivers"] == len(stints)
    groups = body["optimal_strategies"]["all_strategies"]
    assert groups == body["strategies"]
    averages = [g["avg_finishing_position"] for g in groups]
    assert averages == sorted(averages)
    assert all({"lap", "count"} <= set(w) for w in body["pit_stop_timing"]["most_common_windows"])


async def test_driver_strategy_and_unknown_driver(
    sessions_app: SessionsApp, fastf1_oracle: OracleLoader
) -> None:
    found = await sessions_app.client.get(f"/api/v1/strategy/driver/{YEAR}/{RACE}/HAM")
    unknown = await sessions_app.client.get(f"/api/v1/strategy/driver/{YEAR}/{RACE}/ZZZ")
    assert found.status_code == 200, found.text
    conforms(model_of(DriverStrategyDetail), found.json())
    laps = fastf1_oracle(YEAR, RACE, "R").laps
    ham = laps[(laps["Driver"] == "HAM") & laps["Stint"].notna()]
    assert [s["stint"] for s in found.json()["stints"]] == sorted(
        int(s) for s in ham["Stint"].unique()
    )
    assert unknown.status_code == 404


async def test_race_comparison_equals_fastf1(
    sessions_app: SessionsApp, fastf1_oracle: OracleLoader
) -> None:
    response = await sessions_app.client.get(
        "/api/v1/comparison/drivers/race",
        params={"driver1": "HAM", "driver2": "BOT", "year": YEAR, "race": RACE},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    conforms(model_of(RaceComparison), body)
    laps = fastf1_oracle(YEAR, RACE, "R").laps
    for side, code in (("driver1", "HAM"), ("driver2", "BOT")):
        own = laps.pick_drivers(code)
        fastest = own.pick_fastest()
        seconds = pd.Timedelta(fastest["LapTime"]).value / 1e9
        assert body[side]["driver"]["code"] == code
        assert body[side]["total_laps"] == len(own)
        assert body[side]["fastest_lap"]["lap_number"] == int(fastest["LapNumber"])
        assert body[side]["fastest_lap"]["lap_time"] == format_lap_time(seconds)
    one = body["driver1"]["fastest_lap"]["lap_time_seconds"]
    two = body["driver2"]["fastest_lap"]["lap_time_seconds"]
    assert abs(body["delta"]["fastest_lap"] - (one - two)) < 1e-6
    same = await sessions_app.client.get(
        "/api/v1/comparison/drivers/race",
        params={"driver1": "HAM", "driver2": "ZZZ", "year": YEAR, "race": RACE},
    )
    assert same.status_code == 404


async def test_season_comparison_equals_the_csv(
    sessions_app: SessionsApp, fixtures_csv: Csv
) -> None:
    one, two = (s.ref for s in fixtures_csv.driver_standings(2023)[:2])
    response = await sessions_app.client.get(
        "/api/v1/comparison/drivers/season",
        params={"driver1": one, "driver2": two, "season": 2023},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    conforms(model_of(SeasonComparison), body)
    rows = fixtures_csv.season_results(2023)
    shared = sorted(
        {r.round for r in rows if r.driver == one} & {r.round for r in rows if r.driver == two}
    )
    place = {(r.driver, r.round): r.position for r in rows}
    wins1 = sum(place[(one, n)] < place[(two, n)] for n in shared)
    h2h = body["head_to_head"]
    assert (h2h["races_compared"], h2h["driver1_wins"], h2h["driver2_wins"]) == (
        len(shared),
        wins1,
        len(shared) - wins1,
    )
    assert [d["round"] for d in body["race_by_race"]] == shared
    assert [d["driver1_position"] for d in body["race_by_race"]] == [
        place[(one, n)] for n in shared
    ]
    missing = await sessions_app.client.get(
        "/api/v1/comparison/drivers/season",
        params={"driver1": one, "driver2": "nobody_at_all", "season": 2023},
    )
    assert missing.status_code == 404
    assert missing.json() == {"detail": "One or both drivers not found in standings"}
    twice = await sessions_app.client.get(
        "/api/v1/comparison/drivers/season", params={"driver1": one, "driver2": one}
    )
    assert twice.status_code == 422 and twice.json()["detail"][0]["loc"] == ["query", "driver2"]
