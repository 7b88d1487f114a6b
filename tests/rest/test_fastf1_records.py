"""Issue 12 over REST: ``/api/v1/fastf1/race/{year}/{race}/...`` records and lap analysis,
FastF1 itself (on the same replay) as the oracle, and their ``?format=csv`` downloads.
``track-map`` and ``lap-positions`` also in the shapes the older web frontend reads."""

from __future__ import annotations

import csv
import io
import itertools
from datetime import datetime
from typing import Any

import httpx
import pytest

from tests import session_records_oracle as oracle
from tests.plugins.fastf1 import OracleLoader, SessionsApp
from tests.session_records_oracle import SESSIONS, assert_rows_equal

BASE = "/api/v1/fastf1/race"

#: route -> (body field, the oracle's rows)
TABLES = {
    "results": ("results", oracle.results),
    "weather": ("weather", oracle.weather),
    "track-status": ("track_status", oracle.track_status),
    "pit-stops": ("pit_stops", oracle.pit_stops),
    "positions": ("positions", oracle.positions),
}


async def _get(app: SessionsApp, name: str, route: str, **params: Any) -> httpx.Response:
    year, race, kind = SESSIONS[name]
    return await app.client.get(
        f"{BASE}/{year}/{race}/{route}", params={"session_type": kind, **params}
    )


def _fastf1(fastf1_oracle: OracleLoader, name: str) -> Any:
    return fastf1_oracle(*SESSIONS[name], telemetry=name == "race")


def _csv(response: httpx.Response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].startswith('attachment; filename="')
    text = response.content.decode("utf-8")
    assert text.endswith("\r\n")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


@pytest.mark.parametrize(("name", "route"), list(itertools.product(SESSIONS, TABLES)))
async def test_tables_equal_fastf1(
    name: str, route: str, sessions_app: SessionsApp, fastf1_oracle: OracleLoader
) -> None:
    field, rows = TABLES[route]
    expected = rows(_fastf1(fastf1_oracle, name))
    response = await _get(sessions_app, name, route)
    assert response.status_code == 200, response.text
    body = response.json()
    year, race, kind = SESSIONS[name]
    assert (body["year"], body["race"], body["session_type"]) == (year, race, kind)
    assert len(expected) > 0 or route == "weather"
    assert_rows_equal(body[field], expected)
    # The same rows as CSV: a header row of the JSON rows' fields, then each row's cells.
    table = _csv(await _get(sessions_app, name, route, format="csv"))
    assert len(table) == len(body[field])
    for line, row in zip(table, body[field], strict=True):
        assert list(line) == list(row)
        assert line == {k: _cell(v) for k, v in row.items()}


@pytest.mark.parametrize("name", ["race", "qualifying"])
async def test_race_control_equals_fastf1(
    name: str, sessions_app: SessionsApp, fastf1_oracle: OracleLoader
) -> None:
    session = _fastf1(fastf1_oracle, name)
    expected = oracle.race_control(session, with_session_time=name == "race")
    response = await _get(sessions_app, name, "race-control")
    assert response.status_code == 200, response.text
    messages = response.json()["messages"]
    ours = [{**m, "time": datetime.fromisoformat(m["time"])} for m in messages]
    assert len(expected) > 0
    assert_rows_equal(ours, expected)
    frame = session.race_control_messages
    flagged = await _get(sessions_app, name, "race-control", category="FLAG", flag="yellow")
    assert [m["message"] for m in flagged.json()["messages"]] == list(
        frame[(frame["Category"] == "Flag") & (frame["Flag"] == "YELLOW")]["Message"]
    )
    table = _csv(await _get(sessions_app, name, "race-control", format="csv"))
    assert [line["message"] for line in table] == [m["message"] for m in messages]
    assert [datetime.fromisoformat(line["time"]) for line in table] == [m["time"] for m in ours]


async def test_driver_filters_and_jolpica_durations(
    sessions_app: SessionsApp, fastf1_oracle: OracleLoader
) -> None:
    session = _fastf1(fastf1_oracle, "race")
    stops = oracle.pit_stops(session)
    repeated = await _get(sessions_app, "race", "pit-stops", drivers=["VET", "44"])
    commas = await _get(sessions_app, "race", "pit-stops", drivers="VET, 44")
    assert repeated.status_code == commas.status_code == 200, repeated.text
    assert repeated.json() == commas.json()
    wanted = [s for s in stops if s["driver"] in ("VET", "HAM")]
    assert_rows_equal(repeated.json()["pit_stops"], wanted)
    assert any(s["jolpica_duration"] is not None for s in repeated.json()["pit_stops"])
    positions = await _get(sessions_app, "race", "positions", drivers="RAI")
    assert [p["position"] for p in positions.json()["positions"]] == [
        oracle.integer(v) for v in session.laps.pick_drivers("RAI")["Position"]
    ]
    bad = await _get(sessions_app, "race", "positions", drivers="HAM;DROP")
    assert bad.status_code == 422


async def test_track_map_in_the_older_frontends_shape_and_columnar(
    sessions_app: SessionsApp, fastf1_oracle: OracleLoader
) -> None:
    session = _fastf1(fastf1_oracle, "race")
    response = await _get(sessions_app, "race", "track-map")
    assert response.status_code == 200, response.text
    body = response.json()
    fastest = session.laps.pick_fastest()
    pos = fastest.get_pos_data()
    assert (body["driver"], body["lap_number"]) == (fastest["Driver"], int(fastest["LapNumber"]))
    assert body["sample_count"] == len(pos) > 100
    assert body["points"] == [[x, y] for x, y in zip(pos["X"], pos["Y"], strict=True)]
    assert body["x"] == pos["X"].tolist() and body["z"] == pos["Z"].tolist()
    small = await _get(sessions_app, "race", "track-map", driver="VET", lap=10, max_points=40)
    assert small.status_code == 200 and len(small.json()["points"]) == 40
    table = _csv(await _get(sessions_app, "race", "track-map", format="csv", max_points=40))
    assert list(table[0]) == ["time", "x", "y", "z"] and len(table) == 40
    assert float(table[0]["x"]) == pos["X"].iat[0]
    assert (await _get(sessions_app, "race", "track-map", lap=3)).status_code == 422
    assert (await _get(sessions_app, "race", "track-map", driver="ZZZ")).status_code == 404
    # The fixtures have no position data of the 2023 qualifying: not available.
    assert (await _get(sessions_app, "qualifying", "track-map")).status_code == 503


async def test_lap_positions_in_the_older_frontends_shape(
    sessions_app: SessionsApp, fastf1_oracle: OracleLoader
) -> None:
    session = _fastf1(fastf1_oracle, "race")
    response = await _get(sessions_app, "race", "lap-positions")
    assert response.status_code == 200, response.text
    body = response.json()
    laps = session.laps
    numbers = sorted(int(n) for n in laps["LapNumber"].unique())
    assert [f["lap"] for f in body["frames"]] == numbers
    assert body["total_laps"] == numbers[-1]
    assert set(body["drivers"]) == set(session.results["Abbreviation"])
    ham = body["drivers"]["HAM"]
    team = session.results.set_index("Abbreviation").loc["HAM"]
    assert ham == {
        "code": "HAM",
        "name": team["FullName"],
        "team": team["TeamName"],
        "color": f"#{team['TeamColor']}",
    }
    track = (await _get(sessions_app, "race", "track-map")).json()
    xs = [p[0] for p in track["points"]]
    for frame in body["frames"]:
        rows = laps[laps["LapNumber"] == frame["lap"]]
        assert set(frame["drivers"]) == set(rows["Driver"])
        for row in rows.itertuples():
            car = frame["drivers"][row.Driver]
            assert car["position"] == oracle.integer(row.Position)
            assert car["compound"] == oracle.text(row.Compound)
            assert car["lap_time_s"] == oracle.seconds(row.LapTime)
            if car["x"] is not None:  # on the track map's axes
                assert min(xs) - 2000 <= car["x"] <= max(xs) + 2000
    assert sum(car["x"] is not None for f in body["frames"] for car in f["drivers"].values()) > 0
    table = _csv(await _get(sessions_app, "race", "lap-positions", format="csv"))
    assert len(table) == len(laps)
    assert list(table[0]) == ["lap", "driver", "position", "compound", "lap_time_s", "x", "y"]


async def test_compare(sessions_app: SessionsApp, fastf1_oracle: OracleLoader) -> None:
    laps = _fastf1(fastf1_oracle, "race").laps
    response = await _get(sessions_app, "race", "compare", drivers="HAM,BOT")
    assert response.status_code == 200, response.text
    body = response.json()
    distance = body["distance"]
    assert all(b >= a for a, b in itertools.pairwise(distance))
    reference, other = body["laps"]
    for lap, code in ((reference, "HAM"), (other, "BOT")):
        fastest = laps.pick_drivers(code).pick_fastest()
        assert lap["lap_number"] == int(fastest["LapNumber"])
        assert lap["lap_time"] == oracle.seconds(fastest["LapTime"])
        assert len(lap["delta"]) == len(lap["speed"]) == len(distance) == body["sample_count"]
    assert abs(other["delta"][-1] - (other["lap_time"] - reference["lap_time"])) < 0.05
    table = _csv(await _get(sessions_app, "race", "compare", drivers=["HAM", "BOT"], format="csv"))
    assert len(table) == 2 * len(distance)
    assert float(table[-1]["delta"]) == other["delta"][-1]
    assert (await _get(sessions_app, "race", "compare", drivers="HAM")).status_code == 422
    no_car = await _get(sessions_app, "qualifying", "compare", drivers="VER,LEC")
    assert no_car.status_code == 404 and "car data" in no_car.json()["detail"]
