"""RaceWeekendService: the hub of a finished, a running and an upcoming weekend.

A weekend that has not happened must cost no FastF1 load (no request to the replay's
live-timing archive) and no results tables.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from pypole_gql.domain.calendar import SessionKind
from pypole_gql.domain.race_weekend import WeekendStatus
from pypole_gql.services.f1 import F1Service
from pypole_gql.services.race_weekend import RaceWeekendService
from tests.jolpica_oracle import oracle_for
from tests.plugins.fastf1 import OracleLoader, SessionsApp
from tests.plugins.replay import Replay
from tests.services.frontend_support import NOW, Csv, jolpica_requests

STATIC = "/static/"
#: races.csv columns of each session before the race, and its kind.
SESSION_COLUMNS = [
    ("fp1", SessionKind.PRACTICE),
    ("fp2", SessionKind.PRACTICE),
    ("fp3", SessionKind.PRACTICE),
    ("quali", SessionKind.QUALIFYING),
    ("sprint", SessionKind.SPRINT),
]


def _service(f1: F1Service, app: SessionsApp, now: datetime) -> RaceWeekendService:
    return RaceWeekendService(f1, app.resources.sessions, clock=lambda: now)


def _session_starts(csv: Csv, season: int, round_: int) -> list[tuple[SessionKind, datetime]]:
    race = next(r for r in csv.rounds(season) if int(r["round"]) == round_)
    found = []
    for column, kind in SESSION_COLUMNS:
        day, clock = race.get(f"{column}_date"), race.get(f"{column}_time")
        if day not in (None, "", "\\N") and clock not in (None, "", "\\N"):
            found.append((kind, datetime.fromisoformat(f"{day}T{clock}+00:00")))
    found.append((SessionKind.RACE, csv.race_start(season, round_)))
    return sorted(found, key=lambda item: item[1])


async def test_finished_weekend_has_results_and_timing(
    replay_f1: F1Service,
    sessions_app: SessionsApp,
    fastf1_oracle: OracleLoader,
    fixtures_csv: Csv,
    fixtures_dir: Path,
) -> None:
    session = fastf1_oracle(2018, "Baku", "R")
    round_ = int(session.event["RoundNumber"])
    hub = await _service(replay_f1, sessions_app, NOW).weekend(2018, round_)
    assert hub is not None
    assert hub.status is WeekendStatus.COMPLETED
    assert [(s.kind, s.start) for s in hub.sessions] == _session_starts(fixtures_csv, 2018, round_)
    assert hub.results is not None and hub.qualifying is not None
    assert [r.driver.driver_id for r in hub.results.rows] == [
        r.driver for r in fixtures_csv.round_results(2018, round_)
    ]
    oracle = oracle_for(fixtures_dir / "jolpica" / "csv")
    assert [q.driver.driver_id for q in hub.qualifying.rows] == [
        q.driver_ref for q in oracle.qualifying(2018, round_)
    ]
    assert hub.sprint is None

    fastest = session.laps.pick_fastest()
    assert hub.fastest_lap is not None
    assert (hub.fastest_lap.driver, hub.fastest_lap.lap_number) == (
        fastest["Driver"],
        int(fastest["LapNumber"]),
    )
    assert hub.fastest_lap.lap_time == pytest.approx(pd.Timedelta(fastest["LapTime"]).value / 1e9)

    laps = session.laps[session.laps["Stint"].notna()]
    expected = []
    for code, group in laps.groupby("Driver"):
        ends = group.groupby("Stint")["LapNumber"].max().astype(int).tolist()
        sizes = group.groupby("Stint").size().tolist()
        expected += [(str(code), i + 1, ends[i], sizes[i]) for i in range(len(ends) - 1)]
    assert hub.pit_stops is not None
    assert hub.pit_stops.total_stops == len(expected)
    assert sorted(
        (s.driver, s.stop_number, s.lap, s.stint_length) for s in hub.pit_stops.stops
    ) == (sorted(expected))


def _race_with_sessions(csv: Csv, season: int) -> int:
    return next(
        int(r["round"])
        for r in csv.rounds(season)
        if r.get("fp1_time") not in (None, "\\N") and r.get("quali_time") not in (None, "\\N")
    )


@pytest.mark.parametrize("after", ["fp1", "quali"])
async def test_running_weekend_shows_what_has_happened_and_loads_nothing(
    replay_f1: F1Service,
    sessions_app: SessionsApp,
    replay: Replay,
    fixtures_csv: Csv,
    fixtures_dir: Path,
    after: str,
) -> None:
    season = 2024
    round_ = _race_with_sessions(fixtures_csv, season)
    starts: dict[SessionKind, datetime] = {}
    for kind, start in _session_starts(fixtures_csv, season, round_):
        starts.setdefault(kind, start)
    moment = starts[SessionKind.PRACTICE if after == "fp1" else SessionKind.QUALIFYING]
    now = moment + timedelta(minutes=30)
    loads = sessions_app.resources.sessions.client.loads

    hub = await _service(replay_f1, sessions_app, now).weekend(season, round_)

    assert hub is not None
    assert hub.status is WeekendStatus.IN_PROGRESS
    assert [(s.kind, s.start) for s in hub.sessions] == _session_starts(
        fixtures_csv, season, round_
    )
    assert hub.results is None and hub.fastest_lap is None and hub.pit_stops is None
    if after == "fp1":
        assert hub.qualifying is None
    else:
        oracle = oracle_for(fixtures_dir / "jolpica" / "csv")
        assert hub.qualifying is not None
        assert [q.driver.driver_id for q in hub.qualifying.rows] == [
            q.driver_ref for q in oracle.qualifying(season, round_)
        ]
    assert replay.count(prefix=STATIC) == 0
    assert sessions_app.resources.sessions.client.loads == loads


async def test_upcoming_weekend_costs_only_the_calendar(
    replay_f1: F1Service, sessions_app: SessionsApp, replay: Replay, fixtures_csv: Csv
) -> None:
    season, round_ = fixtures_csv.next_round(NOW)
    loads = sessions_app.resources.sessions.client.loads
    hub = await _service(replay_f1, sessions_app, NOW).weekend(season, round_)
    assert hub is not None
    assert hub.status is WeekendStatus.UPCOMING
    assert (hub.results, hub.qualifying, hub.sprint, hub.fastest_lap, hub.pit_stops) == (
        None,
        None,
        None,
        None,
        None,
    )
    assert jolpica_requests(replay) == 1  # the season's calendar
    assert replay.count(prefix=STATIC) == 0
    # No load either (the sessions app's FastF1 cache is shared with the oracle's, so a load
    # of a session loaded before might read no live-timing stream).
    assert sessions_app.resources.sessions.client.loads == loads


async def test_current_is_the_next_race(
    replay_f1: F1Service,
    sessions_app: SessionsApp,
    replay_now: Callable[[datetime], None],
    fixtures_csv: Csv,
) -> None:
    replay_now(NOW)
    hub = await _service(replay_f1, sessions_app, NOW).current()
    assert hub is not None
    assert (hub.year, hub.round) == fixtures_csv.next_round(NOW)
    assert hub.status is WeekendStatus.UPCOMING


async def test_no_upcoming_race_is_none(
    replay_f1: F1Service, sessions_app: SessionsApp, replay_now: Callable[[datetime], None]
) -> None:
    replay_now(datetime.fromisoformat("2031-01-01T00:00:00+00:00"))
    assert await _service(replay_f1, sessions_app, NOW).current() is None


async def test_round_not_in_the_calendar_is_none(
    replay_f1: F1Service, sessions_app: SessionsApp, fixtures_csv: Csv
) -> None:
    missing = len(fixtures_csv.rounds(2023)) + 1
    assert await _service(replay_f1, sessions_app, NOW).weekend(2023, missing) is None


async def test_finished_race_without_timing_data_still_answers(
    replay_f1: F1Service, sessions_app: SessionsApp, fixtures_csv: Csv
) -> None:
    # The fixtures hold FastF1 data of one race only (2018 Azerbaijan): 2023's first fails.
    hub = await _service(replay_f1, sessions_app, NOW).weekend(2023, 1)
    assert hub is not None
    assert hub.status is WeekendStatus.COMPLETED
    assert hub.results is not None
    assert [r.driver.driver_id for r in hub.results.rows] == [
        r.driver for r in fixtures_csv.round_results(2023, 1)
    ]
    assert (hub.fastest_lap, hub.pit_stops) == (None, None)
