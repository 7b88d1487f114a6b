"""ProfileService on the replay: every number against the fixtures' CSV, and its upstream cost."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable

import pytest

from pypole_gql.errors import BadUserInput
from pypole_gql.services.f1 import F1Service
from pypole_gql.services.profiles import CAREER_SEASONS, ProfileService
from tests.plugins.replay import Replay
from tests.services.frontend_support import Csv, CsvResult, F1Factory, jolpica_requests

SEASON = 2023


def _dnf(position_text: str) -> bool:
    return position_text in ("R", "N")


async def test_drivers_list_is_the_final_standings(replay_f1: F1Service, fixtures_csv: Csv) -> None:
    season, drivers = await ProfileService(replay_f1).drivers(SEASON)
    expected = fixtures_csv.driver_standings(SEASON)
    assert season == SEASON
    assert [(d.driver.driver_id, d.driver.code, d.position, d.points, d.wins) for d in drivers] == [
        (s.ref, s.code, s.position, s.points, s.wins) for s in expected
    ]
    # The team is the one of the driver's latest race.
    latest: dict[str, tuple[int, str]] = {}
    for row in fixtures_csv.season_results(SEASON):
        if row.driver not in latest or row.round > latest[row.driver][0]:
            latest[row.driver] = (row.round, row.constructor)
    assert all(d.team is not None for d in drivers)
    assert {d.driver.driver_id: d.team.constructor_id for d in drivers if d.team} == {
        ref: team for ref, (_, team) in latest.items()
    }


async def test_drivers_without_a_code_have_none(replay_f1: F1Service, fixtures_csv: Csv) -> None:
    _, drivers = await ProfileService(replay_f1).drivers(1990)
    expected = {s.ref: s.code for s in fixtures_csv.driver_standings(1990)}
    assert None in expected.values()  # the fixture holds such drivers
    assert {d.driver.driver_id: d.driver.code for d in drivers} == expected


async def test_teams_list_is_the_final_standings(replay_f1: F1Service, fixtures_csv: Csv) -> None:
    season, teams = await ProfileService(replay_f1).teams(SEASON)
    assert season == SEASON
    assert [(t.constructor.constructor_id, t.position, t.points, t.wins) for t in teams] == [
        (s.ref, s.position, s.points, s.wins) for s in fixtures_csv.constructor_standings(SEASON)
    ]


async def test_empty_season_has_empty_lists(replay_f1: F1Service) -> None:
    service = ProfileService(replay_f1)
    assert await service.drivers(2029) == (2029, ())
    assert await service.teams(2029) == (2029, ())
    assert await service.driver("max_verstappen", 2029) is None


async def test_every_driver_of_a_season_matches_the_csv(
    replay_f1: F1Service, fixtures_csv: Csv
) -> None:
    service = ProfileService(replay_f1)
    first = SEASON - CAREER_SEASONS + 1
    finals = {
        y: {s.ref: s for s in fixtures_csv.driver_standings(y)} for y in range(first, SEASON + 1)
    }
    by_driver: dict[tuple[int, str], list[CsvResult]] = defaultdict(list)
    for y in range(first, SEASON + 1):
        for row in fixtures_csv.season_results(y):
            by_driver[(y, row.driver)].append(row)

    for ref, standing in finals[SEASON].items():
        profile = await service.driver(ref, SEASON)
        assert profile is not None, ref
        rows = sorted(by_driver[(SEASON, ref)], key=lambda r: r.round)
        current = profile.current_season
        assert (current.position, current.points, current.wins) == (
            standing.position,
            standing.points,
            standing.wins,
        )
        assert current.races_entered == len(rows)
        assert current.podiums == sum(
            1 for r in rows if r.position_text.isdigit() and r.position <= 3
        )
        assert current.dnfs == sum(1 for r in rows if _dnf(r.position_text))
        assert current.fastest_laps == sum(1 for r in rows if r.fastest_rank == 1)
        assert [
            (
                r.round,
                r.result.position,
                r.result.grid,
                r.result.points,
                r.result.status,
                r.fastest_lap,
            )
            for r in profile.race_results
        ] == [(r.round, r.position, r.grid, r.points, r.status, r.fastest_rank == 1) for r in rows]
        # Career: the seasons of the window the driver has a standing in.
        seasons = [y for y in range(first, SEASON + 1) if ref in finals[y]]
        career = profile.career
        assert [s.year for s in career.seasons] == seasons
        assert career.total_races == sum(len(by_driver[(y, ref)]) for y in seasons)
        assert career.total_podiums == sum(
            1
            for y in seasons
            for r in by_driver[(y, ref)]
            if r.position_text.isdigit() and r.position <= 3
        )
        assert career.total_wins == sum(finals[y][ref].wins for y in seasons)
        assert career.total_points == pytest.approx(sum(finals[y][ref].points for y in seasons))
        assert career.championships == sum(
            1 for y in seasons if finals[y][ref].position == 1 and fixtures_csv.season_finished(y)
        )


async def test_lapped_finishers_are_classified_not_dnfs(
    replay_f1: F1Service, fixtures_csv: Csv
) -> None:
    rows = fixtures_csv.season_results(SEASON)
    lapped = Counter(r.driver for r in rows if "Lap" in r.status and r.position_text.isdigit())
    driver, laps_down = lapped.most_common(1)[0]
    profile = await ProfileService(replay_f1).driver(driver, SEASON)
    assert profile is not None
    marked = [r for r in profile.race_results if "Lap" in r.result.status]
    assert len(marked) == laps_down
    assert all(r.classified and not r.dnf for r in marked)


async def test_running_season_title_is_not_a_championship(
    replay_f1: F1Service, fixtures_csv: Csv
) -> None:
    running = 2025
    assert not fixtures_csv.season_finished(running)
    leader = fixtures_csv.driver_standings(running)[0]
    profile = await ProfileService(replay_f1).driver(leader.ref, running)
    assert profile is not None
    assert profile.current_season.position == 1
    assert not profile.current_season.finished
    this = next(s for s in profile.career.seasons if s.year == running)
    assert not this.champion
    titles = sum(
        1
        for y in range(running - CAREER_SEASONS + 1, running)
        for s in fixtures_csv.driver_standings(y)
        if s.ref == leader.ref and s.position == 1
    )
    assert profile.career.championships == titles


async def test_every_team_of_a_season_equals_the_csv_sums(
    replay_f1: F1Service, fixtures_csv: Csv
) -> None:
    service = ProfileService(replay_f1)
    rows = fixtures_csv.season_results(SEASON)
    sprints = [r for r in fixtures_csv.sprints if r.season == SEASON]
    drivers = {s.ref: s for s in fixtures_csv.driver_standings(SEASON)}
    for standing in fixtures_csv.constructor_standings(SEASON):
        profile = await service.team(standing.ref, SEASON)
        assert profile is not None
        season = profile.current_season
        assert (season.position, season.points, season.wins) == (
            standing.position,
            standing.points,
            standing.wins,
        )
        own = [r for r in rows if r.constructor == standing.ref]
        per_round: dict[int, float] = defaultdict(float)
        for r in own:
            per_round[r.round] += r.points
        assert [(race.round, race.total_points) for race in profile.race_results] == sorted(
            per_round.items()
        )
        assert [
            [(row.driver.driver_id, row.result.position, row.result.points) for row in race.results]
            for race in profile.race_results
        ] == [
            [
                (r.driver, r.position, r.points)
                for r in sorted(own, key=lambda r: r.position)
                if r.round == n
            ]
            for n in sorted(per_round)
        ]
        # Grand Prix plus sprint points are the championship.
        sprint_points = sum(r.points for r in sprints if r.constructor == standing.ref)
        assert sum(per_round.values()) + sprint_points == pytest.approx(season.points)
        assert season.races == len(per_round)
        assert season.podiums == sum(
            1 for r in own if r.position_text.isdigit() and r.position <= 3
        )
        assert season.dnfs == sum(1 for r in own if _dnf(r.position_text))
        starts = Counter(r.driver for r in own)
        assert {d.driver.driver_id: d.races_for_team for d in season.drivers} == dict(starts)
        assert [d.driver.driver_id for d in season.drivers] == sorted(
            starts, key=lambda ref: drivers[ref].position
        )
        assert all(d.points == drivers[d.driver.driver_id].points for d in season.drivers)


async def test_unknown_and_malformed_ids(replay_f1: F1Service) -> None:
    service = ProfileService(replay_f1)
    assert await service.driver("nobody_at_all", SEASON) is None
    assert await service.team("no_such_team", SEASON) is None
    with pytest.raises(BadUserInput) as caught:
        await service.driver("../2023/results", SEASON)
    assert caught.value.field == "driver_id"
    with pytest.raises(BadUserInput) as caught:
        await service.team("red bull", SEASON)
    assert caught.value.field == "constructor_id"
    with pytest.raises(BadUserInput):
        await service.drivers(1900)


async def test_season_none_is_the_current_season(replay_f1: F1Service) -> None:
    current = (await replay_f1.current_schedule()).season
    season, _ = await ProfileService(replay_f1).drivers(None)
    assert season == current


async def test_cold_upstream_cost(
    f1_factory: F1Factory, replay: Replay, fixtures_csv: Csv, capsys: pytest.CaptureFixture[str]
) -> None:
    """Jolpica requests of each profile on an empty cache, as the CSV says they must be: a
    calendar and standings per season touched, and the season-wide results table (one
    request per 100 rows) of each season the driver raced in; never a per-driver request."""
    window = range(SEASON - CAREER_SEASONS + 1, SEASON + 1)
    finals = {y: {s.ref for s in fixtures_csv.driver_standings(y)} for y in window}

    async def cost(call: Callable[[ProfileService], Awaitable[object]]) -> int:
        service = ProfileService(await f1_factory())
        before = jolpica_requests(replay)
        assert await call(service)
        return jolpica_requests(replay) - before

    figures = {
        "drivers list": (await cost(lambda s: s.drivers(SEASON)), 2),
        "teams list": (await cost(lambda s: s.teams(SEASON)), 2),
        "team profile": (
            await cost(lambda s: s.team("red_bull", SEASON)),
            3 + fixtures_csv.result_pages(SEASON),
        ),
    }
    for driver in ("max_verstappen", "piastri"):
        raced = [y for y in window if driver in finals[y]]
        figures[f"driver profile ({driver}, {len(raced)} seasons)"] = (
            await cost(lambda s, d=driver: s.driver(d, SEASON)),  # type: ignore[misc]
            2 * len(window) + sum(fixtures_csv.result_pages(y) for y in raced),
        )
    with capsys.disabled():
        print()
        for name, (measured, _) in figures.items():
            print(f"cold Jolpica requests, {name}: {measured}")
    assert {name: m for name, (m, _) in figures.items()} == {
        name: e for name, (_, e) in figures.items()
    }


async def test_profiles_share_the_season_tables(replay_f1: F1Service, replay: Replay) -> None:
    service = ProfileService(replay_f1)
    await service.driver("max_verstappen", SEASON)
    before = jolpica_requests(replay)
    await service.driver("perez", SEASON)
    await service.drivers(SEASON)
    assert jolpica_requests(replay) == before
    await service.team("mercedes", SEASON)
    await service.team("ferrari", SEASON)
    assert jolpica_requests(replay) == before + 1  # the constructors' standings
