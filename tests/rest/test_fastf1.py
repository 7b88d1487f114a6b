"""``/api/v1/fastf1``: the older backend's shapes, values from FastF1 itself on the same replay."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from pypole_gql.rest.schemas import format_lap_time
from tests.plugins.app import ClientFactory
from tests.plugins.fastf1 import OracleLoader, SessionsApp, fastf1_app_settings
from tests.plugins.replay import Replay

BASE = "/api/v1/fastf1/race"
LAP_KEYS = {
    "driver",
    "lap_number",
    "lap_time",
    "lap_time_seconds",
    "sector1_time",
    "sector2_time",
    "sector3_time",
    "compound",
    "tyre_life",
    "stint",
    "is_personal_best",
}


def _seconds(value: Any) -> float | None:
    return None if pd.isna(value) else pd.Timedelta(value).value / 1e9


async def _get(app: SessionsApp, path: str, **params: Any) -> Any:
    return await app.client.get(f"{BASE}{path}", params=params)


def test_lap_time_format() -> None:
    assert format_lap_time(105.149) == "1:45.149"
    assert format_lap_time(59.9996) == "1:00.000"
    assert format_lap_time(3723.5) == "62:03.500"
    assert format_lap_time(None) is None


async def test_laps_equal_fastf1(sessions_app: SessionsApp, fastf1_oracle: OracleLoader) -> None:
    response = await _get(sessions_app, "/2018/Baku/laps")
    assert response.status_code == 200, response.text
    body = response.json()
    laps = fastf1_oracle(2018, "Baku", "R").laps
    assert (body["year"], body["race"], body["session_type"]) == (2018, "Baku", "R")
    assert body["total_laps"] == len(body["laps"]) == len(laps)
    for ours, (_, row) in zip(body["laps"], laps.iterrows(), strict=True):
        assert set(ours) == LAP_KEYS
        assert ours["driver"] == row["Driver"]
        assert ours["lap_number"] == int(row["LapNumber"])
        assert ours["lap_time_seconds"] == _seconds(row["LapTime"])
        assert ours["lap_time"] == format_lap_time(_seconds(row["LapTime"]))
        assert ours["sector2_time"] == _seconds(row["Sector2Time"])
        assert ours["stint"] == (None if pd.isna(row["Stint"]) else int(row["Stint"]))


async def test_driver_laps_by_code_and_number(
    sessions_app: SessionsApp, fastf1_oracle: OracleLoader
) -> None:
    expected = fastf1_oracle(2018, "Baku", "R").laps.pick_drivers("BOT")
    for who in ("BOT", "bot", "77"):
        response = await _get(sessions_app, f"/2018/Azerbaijan/driver/{who}/laps")
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["driver"] == "BOT"
        assert [lap["lap_number"] for lap in body["laps"]] == expected["LapNumber"].astype(
            int
        ).tolist()
        assert body["total_laps"] == len(expected)


async def test_stints_and_fastest_lap(
    sessions_app: SessionsApp, fastf1_oracle: OracleLoader
) -> None:
    laps = fastf1_oracle(2018, "Baku", "R").laps
    body = (await _get(sessions_app, "/2018/Baku/stints")).json()
    first = laps.dropna(subset=["Stint"]).groupby(["Driver", "Stint"], sort=False).size()
    assert [(s["driver"], s["stint"], s["num_laps"]) for s in body["stints"]] == [
        (d, int(n), int(c)) for (d, n), c in first.items()
    ]
    assert set(body["stints"][0]) == {
        "driver",
        "stint",
        "compound",
        "start_lap",
        "end_lap",
        "num_laps",
        "avg_lap_time",
        "avg_pace_time",
    }
    fastest = (await _get(sessions_app, "/2018/Baku/fastest-lap")).json()["fastest_lap"]
    assert fastest["driver"] == "BOT" and fastest["lap_number"] == 37
    assert fastest["lap_time"] == "1:45.149" and fastest["lap_time_seconds"] == 105.149


async def test_telemetry_full_resolution_equals_fastf1(
    sessions_app: SessionsApp, fastf1_oracle: OracleLoader
) -> None:
    session = fastf1_oracle(2018, "Baku", "R", telemetry=True)
    response = await _get(sessions_app, "/2018/Baku/telemetry", driver="VET", lap=12)
    assert response.status_code == 200, response.text
    body = response.json()
    lap = session.laps.pick_drivers("VET").pick_laps(12).iloc[0]
    expected = lap.get_car_data().add_distance()
    assert (body["driver"], body["lap_number"]) == ("VET", 12)
    assert body["lap_time"] == format_lap_time(_seconds(lap["LapTime"]))
    assert body["compound"] == lap["Compound"]
    samples = body["telemetry"]
    assert len(samples) == len(expected) > 100
    assert set(samples[0]) == {"distance", "speed", "throttle", "brake", "gear", "rpm", "drs"}
    for key, column in {
        "distance": "Distance",
        "speed": "Speed",
        "rpm": "RPM",
        "gear": "nGear",
    }.items():
        np.testing.assert_allclose(
            [s[key] for s in samples], expected[column].to_numpy(dtype=np.float64), atol=1e-6
        )
    assert [s["brake"] for s in samples] == expected["Brake"].astype(bool).tolist()
    short = (
        await _get(sessions_app, "/2018/Baku/telemetry", driver="VET", lap=12, max_points=20)
    ).json()
    assert len(short["telemetry"]) == 20
    assert short["telemetry"][0] == samples[0] and short["telemetry"][-1] == samples[-1]


@pytest.mark.parametrize(
    ("path", "params", "status", "needle"),
    [
        ("/2018/Atlantis/laps", {}, 404, "Atlantis"),
        ("/2018/Baku/driver/XYZ/laps", {}, 404, "XYZ"),
        ("/2018/Baku/telemetry", {"driver": "HAM", "lap": 99}, 404, "99"),
        ("/2018/Baku/telemetry", {"driver": "NOPE", "lap": 3}, 404, "NOPE"),
        ("/2018/Baku/laps", {"session_type": "XX"}, 422, "session_type"),
        ("/abcd/Baku/laps", {}, 422, "year"),
        ("/2017/Baku/laps", {}, 422, "year"),
        ("/2020/Silverstone/laps", {}, 422, "round number"),
        ("/2018/Baku/telemetry", {"driver": "HAM"}, 422, "lap"),
        ("/2018/Baku/telemetry", {"driver": "HAM", "lap": 3, "max_points": 1}, 422, "max_points"),
    ],
)
async def test_errors(
    sessions_app: SessionsApp, path: str, params: dict[str, Any], status: int, needle: str
) -> None:
    response = await _get(sessions_app, path, **params)
    assert response.status_code == status, response.text
    assert needle in response.text
    detail = response.json()["detail"]
    if status == 422:
        # As the older backend: a list naming each offending field.
        assert isinstance(detail, list) and detail[0]["loc"] and detail[0]["msg"]
    else:
        assert isinstance(detail, str)


async def test_no_telemetry_or_upstream_down_is_503(
    make_client: ClientFactory, replay: Replay, sessions_app: SessionsApp
) -> None:
    response = await _get(
        sessions_app, "/2023/Azerbaijan/telemetry", session_type="Q", driver="VER", lap=2
    )
    assert response.status_code == 503, response.text
    assert "telemetry" in response.json()["detail"].lower()
    async with make_client(**fastf1_app_settings(replay)) as client:
        with replay.fault(prefix="/static/", status=500):
            response = await client.get(f"{BASE}/2021/Monza/laps", params={"session_type": "FP2"})
        assert response.status_code == 503, response.text
        assert response.headers.get("retry-after")
        assert set(response.json()) == {"detail"}
