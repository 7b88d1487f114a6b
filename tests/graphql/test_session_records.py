"""Issue 12 over GraphQL: a session's results, weather, race control, track status, pit
stops, positions, track map and lap comparison, end to end on the replay, FastF1 itself
(loaded from the same replay) as the oracle; Jolpica's pit stops against the CSV.

Sessions come from the shared ``sessions_app`` (one app load each per test run); the
load-count test starts apps of its own on a Redis namespace of its own.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests import session_records_oracle as oracle
from tests.plugins.app import ClientFactory, resources_of
from tests.plugins.fastf1 import OracleLoader, SessionsApp, fastf1_app_settings
from tests.plugins.replay import Replay
from tests.session_records_oracle import SESSIONS, assert_rows_equal, camel

RESULT_FIELDS = """
  driver driverNumber broadcastName firstName lastName fullName driverId countryCode
  headshotUrl teamName teamId teamColor position classifiedPosition gridPosition q1 q2 q3
  time status points laps
"""
WEATHER_FIELDS = (
    "time airTemperature trackTemperature humidity pressure rainfall windSpeed windDirection"
)
RACE_CONTROL_FIELDS = (
    "time sessionTime lap category message status flag scope sector driverNumber driver"
)
PIT_FIELDS = """
  driver driverNumber lap pitInTime pitOutTime pitLaneTime compoundBefore compoundAfter
  freshTyreAfter jolpicaDuration
"""
POSITION_FIELDS = "driver driverNumber lap position time gapToLeader interval"

RECORDS_QUERY = f"""
query Records($year: Int!, $race: String!, $type: SessionType!) {{
  session(year: $year, race: $race, type: $type) {{
    results {{ {RESULT_FIELDS} }}
    weather {{ {WEATHER_FIELDS} }}
    weatherSeries {{ sampleCount {WEATHER_FIELDS} }}
    raceControl {{ {RACE_CONTROL_FIELDS} }}
    trackStatus {{ time status message }}
    pitStops {{ {PIT_FIELDS} }}
    positions {{ {POSITION_FIELDS} }}
  }}
}}
"""

#: Everything of issue 12 for the 2018 race, in one query (examples/queries has it too).
EVERYTHING_QUERY = f"""
query Everything {{
  session(year: 2018, race: "Azerbaijan", type: R) {{
    results {{ {RESULT_FIELDS} }}
    weather {{ {WEATHER_FIELDS} }}
    weatherSeries {{ sampleCount time airTemperature }}
    raceControl {{ {RACE_CONTROL_FIELDS} }}
    yellow: raceControl(category: "flag", flag: "yellow") {{ message }}
    trackStatus {{ time status message }}
    pitStops {{ {PIT_FIELDS} }}
    positions {{ {POSITION_FIELDS} }}
    trackMap(maxPoints: 300) {{ driver lapNumber sampleCount sourceSampleCount time x y z }}
    compare(drivers: ["HAM", "BOT"]) {{
      sampleCount distance laps {{ driver lapNumber lapTime speed throttle brake gear delta }}
    }}
  }}
  race(year: 2018, round: 4) {{ pitStops {{ driverId stop lap time duration }} }}
}}
"""


def _codes(body: dict[str, Any]) -> list[str | None]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors", [])]


def _fastf1(fastf1_oracle: OracleLoader, name: str) -> Any:
    # The race with its car data: FastF1 dates race control's session times from it.
    return fastf1_oracle(*SESSIONS[name], telemetry=name == "race")


@pytest.fixture(scope="module")
async def records(sessions_app: SessionsApp) -> dict[str, dict[str, Any]]:
    out = {}
    for name, (year, race, kind) in SESSIONS.items():
        body = await sessions_app.graphql(RECORDS_QUERY, year=year, race=race, type=kind)
        assert "errors" not in body, body
        out[name] = body["data"]["session"]
    return out


@pytest.mark.parametrize("name", list(SESSIONS))
def test_results_equal_fastf1(
    name: str, records: dict[str, dict[str, Any]], fastf1_oracle: OracleLoader
) -> None:
    expected = camel(oracle.results(_fastf1(fastf1_oracle, name)))
    assert len(expected) > 0
    assert_rows_equal(records[name]["results"], expected)


@pytest.mark.parametrize("name", list(SESSIONS))
def test_weather_rows_and_columns_equal_fastf1(
    name: str, records: dict[str, dict[str, Any]], fastf1_oracle: OracleLoader
) -> None:
    expected = camel(oracle.weather(_fastf1(fastf1_oracle, name)))
    ours = records[name]
    assert_rows_equal(ours["weather"], expected)
    series = ours["weatherSeries"]
    assert series["sampleCount"] == len(expected)
    for key in expected[0] if expected else ():
        assert len(series[key]) == len(expected)
    as_rows = [
        {key: series[key][i] for key in (expected[0] if expected else {})}
        for i in range(series["sampleCount"])
    ]
    assert_rows_equal(as_rows, expected)


def test_weather_is_there_for_the_race(records: dict[str, dict[str, Any]]) -> None:
    assert len(records["race"]["weather"]) > 10


@pytest.mark.parametrize("name", list(SESSIONS))
def test_race_control_equals_fastf1(
    name: str, records: dict[str, dict[str, Any]], fastf1_oracle: OracleLoader
) -> None:
    session = _fastf1(fastf1_oracle, name)
    expected = camel(oracle.race_control(session, with_session_time=name == "race"))
    ours = [{**m, "time": datetime.fromisoformat(m["time"])} for m in records[name]["raceControl"]]
    # The fixtures have no RaceControlMessages of the 2023 sprint: none from FastF1, none here.
    assert len(expected) > 0 or name == "sprint"
    assert_rows_equal(ours, expected)


@pytest.mark.parametrize("name", list(SESSIONS))
def test_track_status_equals_fastf1(
    name: str, records: dict[str, dict[str, Any]], fastf1_oracle: OracleLoader
) -> None:
    expected = camel(oracle.track_status(_fastf1(fastf1_oracle, name)))
    assert len(expected) > 0
    assert_rows_equal(records[name]["trackStatus"], expected)


@pytest.mark.parametrize("name", list(SESSIONS))
def test_pit_in_and_out_equal_fastf1(
    name: str, records: dict[str, dict[str, Any]], fastf1_oracle: OracleLoader
) -> None:
    expected = camel(oracle.pit_stops(_fastf1(fastf1_oracle, name)))
    assert len(expected) > 0
    assert_rows_equal(records[name]["pitStops"], expected)


@pytest.mark.parametrize("name", list(SESSIONS))
def test_positions_gaps_and_intervals_from_fastf1_laps(
    name: str, records: dict[str, dict[str, Any]], fastf1_oracle: OracleLoader
) -> None:
    expected = camel(oracle.positions(_fastf1(fastf1_oracle, name)))
    assert_rows_equal(records[name]["positions"], expected)


def test_race_pit_stops_carry_jolpicas_duration_from_the_csv(
    records: dict[str, dict[str, Any]], fixtures_dir: Path
) -> None:
    stops = records["race"]["pitStops"]
    results = {r["driverNumber"]: r["driverId"] for r in records["race"]["results"]}
    csv_rows = oracle.jolpica_pit_stops(fixtures_dir, 2018, 4)
    assert len(csv_rows) > 0
    durations = {(r["driver_id"], r["lap"]): r["duration"] for r in csv_rows}
    for stop in stops:
        key = (results[stop["driverNumber"]], stop["lap"])
        assert stop["jolpicaDuration"] == durations.get(key)
    assert sum(s["jolpicaDuration"] is not None for s in stops) == len(csv_rows)
    # A sprint has no Jolpica pit stops: no durations.
    assert all(s["jolpicaDuration"] is None for s in records["sprint"]["pitStops"])


async def test_filters(sessions_app: SessionsApp, fastf1_oracle: OracleLoader) -> None:
    query = """
    query {
      session(year: 2018, race: "4") {
        sc: raceControl(category: " SAFETYCAR ") { category message }
        blue: raceControl(flag: "blue") { flag }
        none: raceControl(category: "no such category") { message }
        pitStops(drivers: ["VET", "44"]) { driver lap }
        positions(drivers: ["RAI"]) { driver lap position }
      }
    }
    """
    body = await sessions_app.graphql(query)
    assert "errors" not in body, body
    data = body["data"]["session"]
    session = _fastf1(fastf1_oracle, "race")
    messages = session.race_control_messages
    assert [m["message"] for m in data["sc"]] == list(
        messages[messages["Category"] == "SafetyCar"]["Message"]
    )
    assert len(data["blue"]) == (messages["Flag"] == "BLUE").sum() > 0
    assert data["none"] == []
    stops = oracle.pit_stops(session)
    assert [(s["driver"], s["lap"]) for s in data["pitStops"]] == [
        (s["driver"], s["lap"]) for s in stops if s["driver"] in ("VET", "HAM")
    ]
    rai = session.laps.pick_drivers("RAI")
    assert [p["position"] for p in data["positions"]] == [
        oracle.integer(v) for v in rai["Position"]
    ]


async def test_jolpica_pit_stops_equal_the_csv(
    sessions_app: SessionsApp, fixtures_dir: Path
) -> None:
    query = """
    query($y: Int!, $r: Int!) {
      race(year: $y, round: $r) { pitStops { driverId stop lap time duration driver { driverId } } }
    }
    """
    for year, round_ in ((2018, 4), (2023, 4), (2023, 1)):
        body = await sessions_app.graphql(query, y=year, r=round_)
        assert "errors" not in body, body
        ours = body["data"]["race"]["pitStops"]
        expected = oracle.jolpica_pit_stops(fixtures_dir, year, round_)
        assert len(expected) > 0

        def key(row: Mapping[str, Any]) -> tuple[Any, ...]:
            return (row["lap"], row["time"], row.get("driver_id") or row.get("driverId"))

        mine = sorted(
            (
                {
                    "driver_id": s["driverId"],
                    "stop": s["stop"],
                    "lap": s["lap"],
                    "time": s["time"],
                    "duration": s["duration"],
                }
                for s in ours
            ),
            key=key,
        )
        assert_rows_equal(mine, sorted(expected, key=key))
        assert all(s["driver"]["driverId"] == s["driverId"] for s in ours)


async def test_track_map_is_the_fastest_lap_by_default(
    sessions_app: SessionsApp, fastf1_oracle: OracleLoader
) -> None:
    query = """
    query($driver: String, $lap: Int, $max: Int) {
      session(year: 2018, race: "Baku") {
        trackMap(driver: $driver, lap: $lap, maxPoints: $max) {
          driver lapNumber sampleCount sourceSampleCount time x y z
        }
      }
    }
    """
    session = _fastf1(fastf1_oracle, "race")
    fastest = session.laps.pick_fastest()
    body = await sessions_app.graphql(query)
    assert "errors" not in body, body
    ours = body["data"]["session"]["trackMap"]
    assert (ours["driver"], ours["lapNumber"]) == (fastest["Driver"], int(fastest["LapNumber"]))
    pos = fastest.get_pos_data()
    assert ours["sampleCount"] == ours["sourceSampleCount"] == len(pos) > 100
    assert ours["x"] == pos["X"].tolist() and ours["y"] == pos["Y"].tolist()
    assert ours["z"] == pos["Z"].tolist()
    small = await sessions_app.graphql(query, driver="VET", lap=10, max=50)
    assert "errors" not in small, small
    lap = session.laps.pick_drivers("VET").pick_laps(10).iloc[0].get_pos_data()
    got = small["data"]["session"]["trackMap"]
    assert got["sampleCount"] == 50 and got["sourceSampleCount"] == len(lap)
    assert (got["x"][0], got["x"][-1]) == (lap["X"].iat[0], lap["X"].iat[-1])
    bad = await sessions_app.graphql(query, lap=3)
    assert _codes(bad) == ["BAD_USER_INPUT"]
    missing = await sessions_app.graphql(query, driver="VET", lap=400)
    assert _codes(missing) == ["NOT_FOUND"]


async def test_compare_delta_at_the_finish_is_the_lap_time_difference(
    sessions_app: SessionsApp, fastf1_oracle: OracleLoader
) -> None:
    query = """
    query($drivers: [String!]!, $laps: [Int!]) {
      session(year: 2018, race: "Baku") {
        compare(drivers: $drivers, laps: $laps) {
          sampleCount distance laps { driver lapNumber lapTime speed throttle brake gear delta }
        }
      }
    }
    """
    laps = _fastf1(fastf1_oracle, "race").laps
    for drivers, numbers in (
        (["HAM", "BOT"], None),
        (["VET", "RAI", "5", "HAM"], [20, 20, 30, 40]),
    ):
        body = await sessions_app.graphql(query, drivers=drivers, laps=numbers)
        assert "errors" not in body, body
        found = body["data"]["session"]["compare"]
        distance = found["distance"]
        assert len(distance) == found["sampleCount"] > 100
        assert all(b >= a for a, b in itertools.pairwise(distance))
        reference = found["laps"][0]
        assert set(reference["delta"]) == {0.0}
        for i, lap in enumerate(found["laps"]):
            code = laps.pick_drivers(drivers[i])["Driver"].iat[0]
            row = (
                laps.pick_drivers(code).pick_fastest()
                if numbers is None
                else laps.pick_drivers(code).pick_laps(numbers[i]).iloc[0]
            )
            assert (lap["driver"], lap["lapNumber"]) == (code, int(row["LapNumber"]))
            assert lap["lapTime"] == oracle.seconds(row["LapTime"])
            for channel in ("speed", "throttle", "brake", "gear", "delta"):
                assert len(lap[channel]) == len(distance)
            if i:
                assert abs(lap["delta"][-1] - (lap["lapTime"] - reference["lapTime"])) < 0.05


async def test_compare_without_car_data_is_not_found(sessions_app: SessionsApp) -> None:
    query = """
    query($drivers: [String!]!) {
      session(year: 2023, race: "Azerbaijan", type: Q) {
        compare(drivers: $drivers) { sampleCount }
      }
    }
    """
    results = await sessions_app.graphql(RECORDS_QUERY, year=2023, race="Azerbaijan", type="Q")
    codes = [r["driver"] for r in results["data"]["session"]["results"][:2]]
    body = await sessions_app.graphql(query, drivers=codes)
    assert _codes(body) == ["NOT_FOUND"] and "car data" in body["errors"][0]["message"]
    assert body["data"]["session"]["compare"] is None
    one = await sessions_app.graphql(query, drivers=codes[:1])
    assert _codes(one) == ["BAD_USER_INPUT"]


async def test_everything_in_one_query_is_one_load_and_none_on_a_second_server(
    make_client: ClientFactory, replay: Replay, redis_url: str
) -> None:
    settings = fastf1_app_settings(
        replay, redis_url=redis_url, redis_namespace=f"pypole-test-{uuid.uuid4().hex[:10]}"
    )
    answers = []
    for _ in range(2):  # two servers, one Redis namespace
        async with make_client(**settings) as client:
            resources = resources_of(client)
            static_before = replay.count(prefix="/static/")
            response = await client.post("/graphql", json={"query": EVERYTHING_QUERY})
            body = response.json()
            assert "errors" not in body, body
            answers.append((body["data"], resources.sessions.client.loads))
            if len(answers) == 2:
                assert replay.count(prefix="/static/") == static_before
    (first, first_loads), (second, second_loads) = answers
    assert first_loads == 1
    assert second_loads == 0
    assert second == first
    session = first["session"]
    for field in ("results", "weather", "raceControl", "yellow", "trackStatus", "pitStops"):
        assert session[field], field
    assert session["trackMap"]["sampleCount"] == 300
    assert len(session["compare"]["laps"]) == 2
    assert first["race"]["pitStops"]
