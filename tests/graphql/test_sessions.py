"""Sessions over GraphQL, end to end: the app on the replay, FastF1 itself as the oracle.

The app loads each session in its real worker pool; the oracle loads the same session
with FastF1 in the test process from the same replay. Load counts come from the app's
FastF1 client (every load it started), upstream traffic from the replay's request log.
"""

from __future__ import annotations

import asyncio
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tests.jolpica_oracle import oracle_for
from tests.plugins.app import ClientFactory, resources_of
from tests.plugins.fastf1 import OracleLoader, SessionsApp, fastf1_app_settings
from tests.plugins.replay import Replay

SESSIONS = {
    "race": (2018, "Baku", "R"),
    "qualifying": (2023, "Azerbaijan", "Q"),
    "sprint": (2023, "Azerbaijan", "S"),
}
TOL = 1e-6

LAP_FIELDS = """
  driver lapNumber lapTime sector1Time sector2Time sector3Time compound tyreLife freshTyre
  stint position isPersonalBest deleted isAccurate pitInTime pitOutTime trackStatus
"""

SESSION_QUERY = f"""
query Session($year: Int!, $race: String!, $type: SessionType!) {{
  session(year: $year, race: $race, type: $type) {{
    year round eventName type startsAt
    drivers {{ code number fullName team driver {{ driverId familyName }} }}
    laps {{ {LAP_FIELDS} }}
    stints {{ driver stint compound freshTyre startLap endLap lapCount averageLapTime }}
    fastestLap {{ driver lapNumber lapTime compound }}
  }}
}}
"""

TELEMETRY_QUERY = """
query Telemetry($year: Int!, $race: String!, $driver: String!, $lap: Int!, $max: Int) {
  session(year: $year, race: $race) {
    telemetry(driver: $driver, lap: $lap, maxPoints: $max) {
      driver lapNumber sampleCount time distance speed rpm gear throttle brake drs x y
    }
  }
}
"""


def _seconds(value: Any) -> float | None:
    return None if pd.isna(value) else pd.Timedelta(value).value / 1e9


def _opt(value: Any) -> Any:
    return None if pd.isna(value) else value


def _codes(body: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors", [])]


@pytest.fixture(scope="module")
async def loaded(sessions_app: SessionsApp) -> dict[str, dict[str, Any]]:
    """Each session as the app serves it (one GraphQL query per session)."""
    out = {}
    for name, (year, race, kind) in SESSIONS.items():
        body = await sessions_app.graphql(SESSION_QUERY, year=year, race=race, type=kind)
        assert "errors" not in body, body
        out[name] = body["data"]["session"]
    return out


@pytest.mark.parametrize("name", list(SESSIONS))
def test_laps_equal_fastf1(
    name: str, loaded: dict[str, dict[str, Any]], fastf1_oracle: OracleLoader
) -> None:
    session = fastf1_oracle(*SESSIONS[name])
    ours = loaded[name]["laps"]
    assert len(ours) == len(session.laps) > 0
    for lap, (_, row) in zip(ours, session.laps.iterrows(), strict=True):
        expected = {
            "driver": row["Driver"],
            "lapNumber": int(row["LapNumber"]),
            "lapTime": _seconds(row["LapTime"]),
            "sector1Time": _seconds(row["Sector1Time"]),
            "sector2Time": _seconds(row["Sector2Time"]),
            "sector3Time": _seconds(row["Sector3Time"]),
            # FastF1 gives the text "nan" for some lap-1 compounds: null (issue 15.3)
            "compound": None if str(row["Compound"]) == "nan" else _opt(row["Compound"]),
            "tyreLife": None if pd.isna(row["TyreLife"]) else round(row["TyreLife"]),
            "freshTyre": _opt(row["FreshTyre"]),
            "stint": None if pd.isna(row["Stint"]) else int(row["Stint"]),
            "position": None if pd.isna(row["Position"]) else int(row["Position"]),
            "isPersonalBest": _opt(row["IsPersonalBest"]) == True,  # noqa: E712
            "deleted": _opt(row["Deleted"]),
            "isAccurate": bool(row["IsAccurate"]),
            "pitInTime": _seconds(row["PitInTime"]),
            "pitOutTime": _seconds(row["PitOutTime"]),
            "trackStatus": _opt(row["TrackStatus"]) or None,
        }
        assert lap == expected


@pytest.mark.parametrize("name", list(SESSIONS))
def test_laps_per_driver_and_session_info_equal_fastf1(
    name: str, loaded: dict[str, dict[str, Any]], fastf1_oracle: OracleLoader
) -> None:
    session = fastf1_oracle(*SESSIONS[name])
    data = loaded[name]
    assert data["year"] == SESSIONS[name][0]
    assert data["round"] == int(session.event["RoundNumber"])
    assert data["eventName"] == session.event["EventName"]
    assert data["type"] == SESSIONS[name][2]
    assert [d["code"] for d in data["drivers"]] == session.results["Abbreviation"].tolist()
    for drv in data["drivers"]:
        expected = session.laps.pick_drivers(drv["code"])["LapNumber"].astype(int).tolist()
        assert [lap["lapNumber"] for lap in data["laps"] if lap["driver"] == drv["code"]] == (
            expected
        )
    # The championship driver resolves for every driver FastF1 could join to Jolpica.
    linked = [d for d in data["drivers"] if d["driver"] is not None]
    assert len(linked) == len(data["drivers"])
    for drv in linked:
        row = session.results[session.results["Abbreviation"] == drv["code"]].iloc[0]
        assert drv["driver"]["driverId"] == row["DriverId"]


@pytest.mark.parametrize("name", list(SESSIONS))
def test_fastest_lap_and_stints_equal_fastf1(
    name: str, loaded: dict[str, dict[str, Any]], fastf1_oracle: OracleLoader
) -> None:
    laps = fastf1_oracle(*SESSIONS[name]).laps
    picked = laps.pick_fastest()
    fastest = loaded[name]["fastestLap"]
    assert (fastest["driver"], fastest["lapNumber"], fastest["lapTime"]) == (
        picked["Driver"],
        int(picked["LapNumber"]),
        _seconds(picked["LapTime"]),
    )
    grouped = (
        laps.dropna(subset=["Stint"])
        .groupby(["Driver", "Stint"], sort=False)
        .agg(
            compound=("Compound", "first"),
            start=("LapNumber", "min"),
            end=("LapNumber", "max"),
            count=("LapNumber", "size"),
            mean=("LapTime", "mean"),
        )
    )
    expected = [
        (drv, int(stint), _opt(g.compound), int(g.start), int(g.end), int(g["count"]))
        for (drv, stint), g in grouped.iterrows()
    ]
    stints = loaded[name]["stints"]
    ours = [
        (s["driver"], s["stint"], s["compound"], s["startLap"], s["endLap"], s["lapCount"])
        for s in stints
    ]
    assert ours == expected
    for stint, (_, g) in zip(stints, grouped.iterrows(), strict=True):
        want = _seconds(g["mean"])
        if want is None:
            assert stint["averageLapTime"] is None
        else:
            assert math.isclose(stint["averageLapTime"], want, abs_tol=1e-9)


def test_race_known_values(loaded: dict[str, dict[str, Any]]) -> None:
    # The fixtures README's cross-check: Bottas, lap 37, 1:45.149 on supersoft.
    fastest = loaded["race"]["fastestLap"]
    assert fastest == {
        "driver": "BOT",
        "lapNumber": 37,
        "lapTime": 105.149,
        "compound": "SUPERSOFT",
    }
    assert loaded["race"]["eventName"] == "Azerbaijan Grand Prix"


async def test_telemetry_equals_get_car_data_add_distance(
    sessions_app: SessionsApp, fastf1_oracle: OracleLoader, loaded: dict[str, dict[str, Any]]
) -> None:
    session = fastf1_oracle(2018, "Baku", "R", telemetry=True)
    race_laps = loaded["race"]["laps"]
    picks = []
    for code in ("HAM", "BOT", "VET", "RAI"):
        mine = [lap for lap in race_laps if lap["driver"] == code]
        pit = [lap for lap in mine if lap["pitInTime"] is not None]
        picks += [(code, lap["lapNumber"]) for lap in [mine[0], mine[len(mine) // 2], *pit[:1]]]
    loads = sessions_app.loads
    for code, number in picks:
        body = await sessions_app.graphql(
            TELEMETRY_QUERY, year=2018, race="Azerbaijan", driver=code, lap=number
        )
        assert "errors" not in body, body
        ours = body["data"]["session"]["telemetry"]
        lap = session.laps.pick_drivers(code).pick_laps(number).iloc[0]
        expected = lap.get_car_data().add_distance()
        assert ours["sampleCount"] == len(expected) > 100
        for field, column in {
            "time": "Time",
            "distance": "Distance",
            "speed": "Speed",
            "rpm": "RPM",
            "gear": "nGear",
            "throttle": "Throttle",
            "brake": "Brake",
            "drs": "DRS",
        }.items():
            want = expected[column]
            if pd.api.types.is_timedelta64_dtype(want):
                want = want.dt.total_seconds()
            np.testing.assert_allclose(
                np.asarray(ours[field], dtype=np.float64),
                want.to_numpy(dtype=np.float64),
                rtol=0,
                atol=TOL,
                err_msg=f"{code} lap {number} {field}",
            )
        assert len(ours["x"]) == len(ours["y"]) == ours["sampleCount"]
    # Every one of those laps was cut from the loaded session: no load, no upstream call.
    assert sessions_app.loads == loads


async def test_max_points_downsamples_keeping_first_and_last(
    sessions_app: SessionsApp, loaded: dict[str, dict[str, Any]]
) -> None:
    full = await sessions_app.graphql(TELEMETRY_QUERY, year=2018, race="4", driver="44", lap=10)
    short = await sessions_app.graphql(
        TELEMETRY_QUERY, year=2018, race="4", driver="44", lap=10, max=50
    )
    f, s = full["data"]["session"]["telemetry"], short["data"]["session"]["telemetry"]
    assert f["sampleCount"] > 50 and s["sampleCount"] == 50
    assert f["driver"] == s["driver"] == "HAM"
    for channel in ("time", "distance", "speed", "x"):
        assert s[channel][0] == f[channel][0] and s[channel][-1] == f[channel][-1]
        assert set(s[channel]) <= set(f[channel])


async def test_race_session_and_query_session_share_one_load(
    make_client: ClientFactory, replay: Replay, fixtures_dir: Path
) -> None:
    oracle = oracle_for(fixtures_dir / "jolpica" / "csv")
    (round_,) = [
        r for r in oracle.rounds(2024) if oracle.race_name(2024, r) == "Spanish Grand Prix"
    ]
    query = """
    query Both($round: Int!, $roundText: String!) {
      byName: session(year: 2024, race: "Spain", type: Q) { round laps { lapNumber } }
      race(year: 2024, round: $round) { name session(type: Q) { eventName stints { stint } } }
      byRound: session(year: 2024, race: $roundText, type: Q) { fastestLap { driver } }
    }
    """
    async with make_client(**fastf1_app_settings(replay)) as client:
        resources = resources_of(client)
        response = await client.post(
            "/graphql",
            json={"query": query, "variables": {"round": round_, "roundText": str(round_)}},
        )
        body = response.json()
        assert "errors" not in body, body
        data = body["data"]
        assert data["byName"]["round"] == round_ and data["byName"]["laps"]
        assert data["race"]["name"] == data["race"]["session"]["eventName"]
        assert data["race"]["session"]["stints"]
        assert data["byRound"]["fastestLap"]["driver"]
        # A name, a round and Race.session: one session, one load.
        assert resources.sessions.client.loads == 1


async def test_twenty_concurrent_cold_requests_make_one_load(
    make_client: ClientFactory, replay: Replay, tmp_path: Path
) -> None:
    query = '{ session(year: 2019, race: "Monza", type: Q) { laps { driver lapTime } } }'
    # What one cold load reads from the live-timing archive (FastF1 asks for some files
    # twice by itself), measured with an app of its own and FastF1 cache of its own.
    single = fastf1_app_settings(replay, fastf1_cache_dir=tmp_path / "single")
    async with make_client(**single) as client:
        assert "errors" not in (await client.post("/graphql", json={"query": query})).json()
    one_load = replay.count(prefix="/static/")
    assert one_load > 0
    replay.reset()
    # A database of its own too: the first app archived the session in its own.
    many = fastf1_app_settings(
        replay,
        fastf1_cache_dir=tmp_path / "many",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'many.db'}",
    )
    async with make_client(**many) as client:
        resources = resources_of(client)
        responses = await asyncio.gather(
            *(client.post("/graphql", json={"query": query}) for _ in range(20))
        )
        bodies = [r.json() for r in responses]
        assert all("errors" not in b for b in bodies), bodies[0]
        assert all(b == bodies[0] for b in bodies)
        assert len(bodies[0]["data"]["session"]["laps"]) > 100
        assert resources.sessions.client.loads == 1
        assert replay.count(prefix="/static/") == one_load


async def test_unknown_event_round_and_year_are_refused_without_a_load(
    make_client: ClientFactory, replay: Replay
) -> None:
    async with make_client(**fastf1_app_settings(replay)) as client:
        resources = resources_of(client)

        async def ask(year: int, race: str, kind: str = "R") -> dict[str, Any]:
            query = (
                "query($y:Int!,$r:String!,$t:SessionType!){session(year:$y,race:$r,type:$t){round}}"
            )
            response = await client.post(
                "/graphql", json={"query": query, "variables": {"y": year, "r": race, "t": kind}}
            )
            return response.json()  # type: ignore[no-any-return]

        body = await ask(2018, "Atlantis")
        assert _codes(body) == ["NOT_FOUND"] and "Atlantis" in body["errors"][0]["message"]
        assert body["data"] == {"session": None}
        assert _codes(await ask(2018, "99")) == ["NOT_FOUND"]
        assert _codes(await ask(2017, "Monza")) == ["BAD_USER_INPUT"]
        assert _codes(await ask(2018, "Baku; DROP TABLE")) == ["BAD_USER_INPUT"]
        # Two events at one circuit, neither named after it: the round number decides.
        body = await ask(2020, "Silverstone")
        assert _codes(body) == ["BAD_USER_INPUT"] and "round number" in body["errors"][0]["message"]
        # An unknown session type is refused by the schema itself.
        bad = await client.post(
            "/graphql", json={"query": '{ session(year: 2018, race: "Baku", type: XX) { round } }'}
        )
        assert bad.json()["errors"] and bad.json().get("data") is None
        assert resources.sessions.client.loads == 0
        assert replay.count(prefix="/static/") == 0


async def test_missing_session_is_not_found_and_remembered(
    make_client: ClientFactory, replay: Replay
) -> None:
    # 2018 Baku had no sprint: FastF1 says so once; the answer is cached.
    query = '{ session(year: 2018, race: "Baku", type: S) { round } }'
    async with make_client(**fastf1_app_settings(replay)) as client:
        resources = resources_of(client)
        for _ in range(3):
            body = (await client.post("/graphql", json={"query": query})).json()
            assert _codes(body) == ["NOT_FOUND"], body
        assert resources.sessions.client.loads == 1


async def test_unknown_driver_or_lap_is_not_found_and_no_car_data_is_null(
    sessions_app: SessionsApp, loaded: dict[str, dict[str, Any]]
) -> None:
    body = await sessions_app.graphql(TELEMETRY_QUERY, year=2018, race="Baku", driver="XXX", lap=3)
    assert _codes(body) == ["NOT_FOUND"] and "XXX" in body["errors"][0]["message"]
    body = await sessions_app.graphql(TELEMETRY_QUERY, year=2018, race="Baku", driver="HAM", lap=99)
    assert _codes(body) == ["NOT_FOUND"] and "99" in body["errors"][0]["message"]
    query = """{ session(year: 2023, race: "Azerbaijan", type: Q) {
        telemetry(driver: "VER", lap: 2) { sampleCount }
        laps(drivers: ["VER"], lapNumbers: [2]) { lapNumber telemetry { sampleCount } } } }"""
    body = await sessions_app.graphql(query)
    assert "errors" not in body, body
    assert body["data"]["session"]["telemetry"] is None
    assert body["data"]["session"]["laps"] == [{"lapNumber": 2, "telemetry": None}]


async def test_filters_and_their_caps(sessions_app: SessionsApp, loaded: dict[str, Any]) -> None:
    query = """query($d: [String!], $n: [Int!]) { session(year: 2018, race: "Baku") {
        laps(drivers: $d, lapNumbers: $n) { driver lapNumber } stints(drivers: $d) { driver } } }"""
    body = await sessions_app.graphql(query, d=["ham", "5"], n=[1, 2, 3])
    laps = body["data"]["session"]["laps"]
    assert sorted((lap["driver"], lap["lapNumber"]) for lap in laps) == sorted(
        (d, n) for d in ("HAM", "VET") for n in (1, 2, 3)
    )
    assert {s["driver"] for s in body["data"]["session"]["stints"]} == {"HAM", "VET"}
    body = await sessions_app.graphql(query, d=["HAM"] * 101)
    assert _codes(body) == ["BAD_USER_INPUT"]


async def test_a_request_may_not_load_a_whole_season(
    make_client: ClientFactory, replay: Replay
) -> None:
    query = "{ season(year: 2023) { races { round session(type: Q) { round } } } }"
    async with make_client(**fastf1_app_settings(replay)) as client:
        resources = resources_of(client)
        body = (await client.post("/graphql", json={"query": query})).json()
        codes = _codes(body)
        assert codes.count("BAD_USER_INPUT") == 22 - 3
        # At most three loads were started, not one per race.
        assert resources.sessions.client.loads <= 3


async def test_upstream_down_is_upstream_unavailable(
    make_client: ClientFactory, replay: Replay
) -> None:
    query = '{ session(year: 2022, race: "Silverstone", type: FP1) { round } }'
    async with make_client(**fastf1_app_settings(replay)) as client:
        with replay.fault(prefix="/static/", status=503):
            body = (await client.post("/graphql", json={"query": query})).json()
        assert _codes(body) == ["UPSTREAM_UNAVAILABLE"], body
        assert body["data"] == {"session": None}
        # Not remembered: once the upstream is back, the session loads.
        body = (await client.post("/graphql", json={"query": query})).json()
        assert "errors" not in body, body
        assert body["data"]["session"]["round"] > 0


async def test_a_load_outlasting_the_operation_timeout_still_completes_once(
    make_client: ClientFactory, replay: Replay
) -> None:
    query = '{ session(year: 2021, race: "Mexico City", type: Q) { laps { lapNumber } } }'
    settings = fastf1_app_settings(replay, graphql_timeout=0.5)
    async with make_client(**settings) as client:
        resources = resources_of(client)
        with replay.fault(prefix="/static/", delay=1.0, times=1):
            body = (await client.post("/graphql", json={"query": query})).json()
        assert _codes(body) == ["TIMEOUT"], body
        # The load goes on in the worker; retries join it and then read the cached session.
        for _ in range(240):
            body = (await client.post("/graphql", json={"query": query})).json()
            if _codes(body) != ["TIMEOUT"]:
                break
            await asyncio.sleep(0.5)
        assert "errors" not in body, body
        assert body["data"]["session"]["laps"]
        assert resources.sessions.client.loads == 1
