"""FastF1 3.9.0 itself against the replay, with only its documented patch points changed.

Every patch is undone after the test (``monkeypatch``), and FastF1's cache lives in tmp_path.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.plugins.replay import Replay

RACE_2018 = "/static/2018/2018-04-29_Azerbaijan_Grand_Prix/2018-04-29_Race/"


@pytest.fixture
def fastf1(replay: Replay, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    import fastf1
    import fastf1._api
    import fastf1.ergast.interface
    import fastf1.ergast.legacy
    import fastf1.events
    import fastf1.req

    monkeypatch.setattr(fastf1._api, "base_url", replay.url)
    monkeypatch.setattr(fastf1._api, "base_url_mirror", replay.url)
    monkeypatch.setattr(fastf1.events, "_SCHEDULE_BASE_URL", f"{replay.url}/f1schedule/")
    monkeypatch.setattr(fastf1.ergast.interface, "BASE_URL", f"{replay.url}/ergast/f1")
    monkeypatch.setattr(fastf1.ergast.legacy, "base_url", f"{replay.url}/ergast/f1")
    monkeypatch.setattr(fastf1.req._SessionWithRateLimiting, "_RATE_LIMITS", {})
    cache = fastf1.Cache
    for name in ("_CACHE_DIR", "_requests_session_cached", "_IGNORE_VERSION", "_FORCE_RENEW"):
        monkeypatch.setattr(cache, name, getattr(cache, name))  # restored afterwards
    cache.configure(cache_dir=str(tmp_path))
    return fastf1


def test_event_schedule_comes_from_the_replay(
    fastf1: Any, replay: Replay, fixtures_dir: Path
) -> None:
    recorded = json.loads((fixtures_dir / "fastf1/f1schedule/schedule_2018.json").read_text())

    schedule = fastf1.get_event_schedule(2018)

    assert list(schedule["EventName"]) == list(recorded["event_name"].values())
    assert [r.target for r in replay.requests()] == ["/f1schedule/schedule_2018.json"]


def test_race_loads_from_the_replay(fastf1: Any, replay: Replay, fixtures_dir: Path) -> None:
    results = json.loads((fixtures_dir / "fastf1/ergast/f1/2018/4/results.json").read_bytes())
    rows = results["MRData"]["RaceTable"]["Races"][0]["Results"]
    [fastest] = [r for r in rows if r.get("FastestLap", {}).get("rank") == "1"]
    minutes, seconds = fastest["FastestLap"]["Time"]["time"].split(":")

    session = fastf1.get_session(2018, "Azerbaijan", "R")
    session.load(telemetry=False, weather=False, messages=False)

    lap = session.laps.pick_fastest()
    assert lap["Driver"] == fastest["Driver"]["code"]
    assert lap["LapNumber"] == int(fastest["FastestLap"]["lap"])
    assert lap["LapTime"] == timedelta(minutes=int(minutes), seconds=float(seconds))
    assert session.results.iloc[0]["Abbreviation"] == rows[0]["Driver"]["code"]
    assert session.laps["LapNumber"].max() == int(rows[0]["laps"])
    requests = replay.requests()
    assert all(r.status == 200 for r in requests), [(r.target, r.status) for r in requests]
    assert len({r.target for r in requests}) == len(requests)
    assert replay.count(prefix=RACE_2018) == replay.count(prefix="/static/")
