"""ComparisonService: head to head against results.csv, race deltas against FastF1 itself."""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any

import pandas as pd
import pytest

from pypole_gql.domain.comparison import race_side
from pypole_gql.errors import BadUserInput, NotFound
from pypole_gql.services.comparison import ComparisonService
from pypole_gql.services.f1 import F1Service
from tests.plugins.fastf1 import OracleLoader, SessionsApp
from tests.services.frontend_support import Csv

SEASON = 2023
PAIRS = [("max_verstappen", "perez"), ("hamilton", "russell"), ("norris", "piastri")]


def _service(f1: F1Service, sessions_app: SessionsApp | None = None) -> ComparisonService:
    sessions = None if sessions_app is None else sessions_app.resources.sessions
    return ComparisonService(f1, sessions)  # type: ignore[arg-type]


def _expected(csv: Csv, one: str, two: str) -> dict[str, Any]:
    rows = csv.season_results(SEASON)
    rounds = sorted({r.round for r in rows})
    duels = []
    for n in rounds:
        by_driver = {r.driver: r for r in rows if r.round == n}
        if one in by_driver and two in by_driver:
            duels.append((n, by_driver[one], by_driver[two]))
    wins1 = sum(1 for _, a, b in duels if a.position < b.position)
    wins2 = len(duels) - wins1
    p1 = sum(a.points for _, a, _ in duels)
    p2 = sum(b.points for _, _, b in duels)
    return {
        "rounds": [n for n, _, _ in duels],
        "winners": [one if a.position < b.position else two for _, a, b in duels],
        "wins": (wins1, wins2),
        "percentages": (
            round(100 * wins1 / len(duels), 1) if duels else 0.0,
            round(100 * wins2 / len(duels), 1) if duels else 0.0,
        ),
        "points": (p1, p2, p1 - p2),
    }


@pytest.mark.parametrize(("one", "two"), PAIRS)
async def test_season_head_to_head_equals_results_csv(
    replay_f1: F1Service, fixtures_csv: Csv, one: str, two: str
) -> None:
    found = await _service(replay_f1).season(one, two, SEASON)
    assert found is not None
    expected = _expected(fixtures_csv, one, two)
    h2h = found.head_to_head
    assert [d.round for d in found.race_by_race] == expected["rounds"]
    assert [d.winner for d in found.race_by_race] == expected["winners"]
    assert (h2h.driver1_wins, h2h.driver2_wins) == expected["wins"]
    assert h2h.races_compared == len(expected["rounds"])
    assert (h2h.driver1_percentage, h2h.driver2_percentage) == expected["percentages"]
    points = (h2h.total_points_driver1, h2h.total_points_driver2, h2h.points_difference)
    assert points == pytest.approx(expected["points"])
    standings = {s.ref: s for s in fixtures_csv.driver_standings(SEASON)}
    for side, ref in ((found.driver1, one), (found.driver2, two)):
        assert side.driver.driver_id == ref
        assert (side.position, side.points, side.wins) == (
            standings[ref].position,
            standings[ref].points,
            standings[ref].wins,
        )


async def test_drivers_who_never_met_have_every_key_at_zero(
    replay_f1: F1Service, fixtures_csv: Csv
) -> None:
    rows = fixtures_csv.season_results(SEASON)
    rounds = {ref: {r.round for r in rows if r.driver == ref} for ref in {r.driver for r in rows}}
    standings = {s.ref for s in fixtures_csv.driver_standings(SEASON)}
    one, two = next(
        (a, b)
        for a, b in itertools.combinations(sorted(rounds), 2)
        if not rounds[a] & rounds[b] and {a, b} <= standings
    )
    found = await _service(replay_f1).season(one, two, SEASON)
    assert found is not None
    assert found.race_by_race == ()
    assert dataclasses.asdict(found.head_to_head) == {
        "races_compared": 0,
        "driver1_wins": 0,
        "driver2_wins": 0,
        "driver1_percentage": 0.0,
        "driver2_percentage": 0.0,
        "total_points_driver1": 0.0,
        "total_points_driver2": 0.0,
        "points_difference": 0.0,
    }


async def test_season_input_rules(replay_f1: F1Service) -> None:
    service = _service(replay_f1)
    assert await service.season("max_verstappen", "nobody_at_all", SEASON) is None
    with pytest.raises(BadUserInput) as caught:
        await service.season("perez", "perez", SEASON)
    assert caught.value.field == "driver2"
    with pytest.raises(BadUserInput) as caught:
        await service.season("perez;", "hamilton", SEASON)
    assert caught.value.field == "driver1"


def _oracle_side(session: Any, code: str) -> tuple[float | None, float | None, int]:
    laps = session.laps.pick_drivers(code)
    fastest = laps.pick_fastest()
    times = laps["LapTime"].dropna().dt.total_seconds()
    best = None if fastest is None or pd.isna(fastest["LapTime"]) else fastest["LapTime"]
    return (
        None if best is None else pd.Timedelta(best).value / 1e9,
        float(times.mean()) if len(times) else None,
        len(laps),
    )


@pytest.mark.parametrize(("one", "two"), [("HAM", "BOT"), ("VET", "RAI")])
async def test_race_comparison_equals_fastf1(
    sessions_app: SessionsApp, fastf1_oracle: OracleLoader, one: str, two: str
) -> None:
    found = await _service(sessions_app.resources.f1, sessions_app).race(2018, "Baku", one, two)
    session = fastf1_oracle(2018, "Baku", "R")
    best1, mean1, count1 = _oracle_side(session, one)
    best2, mean2, count2 = _oracle_side(session, two)
    assert (found.year, found.round) == (2018, session.event["RoundNumber"])
    for side, best, mean, count in (
        (found.driver1, best1, mean1, count1),
        (found.driver2, best2, mean2, count2),
    ):
        assert side.total_laps == count
        assert side.fastest_lap is not None and best is not None
        assert side.fastest_lap.lap_time == pytest.approx(best, abs=1e-9)
        assert side.average_lap_time == pytest.approx(mean, abs=1e-6)
    assert best1 is not None and best2 is not None and mean1 is not None and mean2 is not None
    assert found.delta.fastest_lap == pytest.approx(best1 - best2, abs=1e-6)
    assert found.delta.average_lap == pytest.approx(mean1 - mean2, abs=1e-6)


async def test_race_comparison_unknown_driver_is_not_found(sessions_app: SessionsApp) -> None:
    service = _service(sessions_app.resources.f1, sessions_app)
    with pytest.raises(NotFound):
        await service.race(2018, "Baku", "HAM", "XYZ")
    with pytest.raises(BadUserInput) as caught:
        await service.race(2018, "Baku", "HAM", "B O T")
    assert caught.value.field == "driver2"


async def test_laps_without_times_give_none_not_a_division_by_zero(
    sessions_app: SessionsApp,
) -> None:
    data = await sessions_app.resources.sessions.session(2018, "Baku", "R")
    driver = data.drivers[0]
    untimed = tuple(
        dataclasses.replace(lap, lap_time=None) if lap.driver_number == driver.number else lap
        for lap in data.laps
    )
    stripped = dataclasses.replace(data, laps=untimed, car=None, position=None)
    side = race_side(stripped, driver)
    assert side.total_laps == len(data.driver_laps(driver.number)) > 0
    assert side.timed_laps == 0
    assert side.average_lap_time is None
    assert side.fastest_lap is None
