"""SessionService: names to rounds, loads shared across restarts and processes, worker death."""

from __future__ import annotations

import asyncio
import csv
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from pypole_gql.domain.race_names import match_race, normalise_name
from pypole_gql.errors import BadUserInput
from tests.jolpica_oracle import oracle_for
from tests.plugins.app import TEST_SECRET, ClientFactory, resources_of
from tests.plugins.fastf1 import SessionsApp, fastf1_app_settings
from tests.plugins.replay import Replay

ALL_LAP_TELEMETRY = """{ session(year: 2018, race: "Baku") {
  laps { driver lapNumber telemetry(maxPoints: 2) { sampleCount speed } } } }"""


def test_normalise_name() -> None:
    assert normalise_name("  São   Paulo ") == "sao paulo"
    assert normalise_name("Emilia-Romagna") == "emilia romagna"
    assert normalise_name("AZERBAIJAN Grand Prix") == "azerbaijan grand prix"


async def test_names_resolve_against_the_calendar(
    make_client: ClientFactory, replay: Replay
) -> None:
    async with make_client(**fastf1_app_settings(replay)) as client:
        f1 = resources_of(client).f1
        s2018, s2020, s2021 = [await f1.schedule(y) for y in (2018, 2020, 2021)]
    baku = next(r for r in s2018.races if r.circuit.locality == "Baku")
    for name in ("Baku", "baku", "Azerbaijan", "Azerbaijan Grand Prix", "azerbaijan gp"):
        found = match_race(s2018, name)
        assert found is not None and found.round == baku.round, name
    mexico = match_race(s2021, "Mexico City")
    assert mexico is not None and mexico.name == "Mexico City Grand Prix"
    assert match_race(s2018, "Atlantis") is None
    monza = match_race(s2020, "Monza")
    assert monza is not None and monza.name == "Italian Grand Prix"


async def test_a_country_names_the_event_named_after_it_and_a_true_tie_is_refused(
    make_client: ClientFactory, replay: Replay, fixtures_dir: Path
) -> None:
    oracle = oracle_for(fixtures_dir / "jolpica" / "csv")

    def rounds_in(season: int, country: str) -> dict[str, int]:
        """Race name -> round of the season's races in ``country``, from races.csv."""
        circuits = {
            row["circuitId"]: row["country"] for row in _csv_rows(fixtures_dir, "circuits.csv")
        }
        return {
            race["name"]: int(race["round"])
            for race in oracle.races
            if int(race["year"]) == season and circuits[race["circuitId"]] == country
        }

    async with make_client(**fastf1_app_settings(replay)) as client:
        f1 = resources_of(client).f1
        s2020, s2021 = [await f1.schedule(y) for y in (2020, 2021)]
    # Three events in Italy in 2020 (Monza, Mugello, Imola), two in 2021: "Italy" is the
    # Italian Grand Prix; "Austria" in 2020 the Austrian, not the Styrian one.
    for schedule, country, event in (
        (s2020, "Italy", "Italian Grand Prix"),
        (s2021, "Italy", "Italian Grand Prix"),
        (s2020, "Austria", "Austrian Grand Prix"),
    ):
        events = rounds_in(schedule.season, country)
        assert len(events) > 1, events
        found = match_race(schedule, country)
        assert found is not None and found.round == events[event], (schedule.season, country)
    # Both 2020 Silverstone races are in the UK and neither is named after it, nor after
    # the town: a true tie, refused.
    assert len(rounds_in(2020, "UK")) == 2
    for name in ("UK", "Silverstone"):
        with pytest.raises(BadUserInput, match="round number"):
            match_race(s2020, name)


def _csv_rows(fixtures_dir: Path, name: str) -> list[dict[str, str]]:
    with (fixtures_dir / "jolpica" / "csv" / name).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def _wait_ready(url: str, proc: subprocess.Popen[bytes], deadline: float) -> None:
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise AssertionError(f"server exited with {proc.returncode}")
            try:
                if (await client.get(f"{url}/health/live")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise AssertionError("server did not start")


async def test_second_process_sharing_redis_serves_telemetry_without_a_load(
    sessions_app: SessionsApp, replay: Replay, tmp_path: Path
) -> None:
    # The first instance (in this process) loads the race once, or already has.
    here = await sessions_app.graphql(ALL_LAP_TELEMETRY)
    assert "errors" not in here, here
    replay.reset()
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PYPOLE_")},
        "PYPOLE_ENV": "dev",
        "PYPOLE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'second.db'}",
        "PYPOLE_JWT_SECRET": TEST_SECRET,
        "PYPOLE_REDIS_URL": sessions_app.redis_url,
        "PYPOLE_REDIS_NAMESPACE": sessions_app.namespace,
        "PYPOLE_JOLPICA_URL": f"{replay.url}/ergast/f1",
        "PYPOLE_LIVETIMING_URL": replay.url,
        "PYPOLE_SCHEDULE_URL": f"{replay.url}/f1schedule",
        "PYPOLE_FASTF1_CACHE_DIR": str(tmp_path / "fastf1-second"),
        "PYPOLE_RATE_LIMIT": "100000/minute",
        "PYPOLE_GRAPHQL_TIMEOUT": "600",
    }
    log = (tmp_path / "second.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "pypole_gql", "serve", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        await _wait_ready(url, proc, time.monotonic() + 60)
        async with httpx.AsyncClient(base_url=url, timeout=120) as client:
            response = await client.post("/graphql", json={"query": ALL_LAP_TELEMETRY})
        body = response.json()
        assert "errors" not in body, body
        assert body == here
        laps = body["data"]["session"]["laps"]
        assert len(laps) > 800
        assert sum(1 for lap in laps if lap["telemetry"] and lap["telemetry"]["sampleCount"]) > 800
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
    output = (tmp_path / "second.log").read_text()
    # The second process never loaded FastF1 and never read the live-timing archive.
    assert "fastf1.loaded" not in output
    assert replay.count(prefix="/static/") == 0


async def test_restart_finds_the_session_in_redis(
    sessions_app: SessionsApp, make_client: ClientFactory, replay: Replay
) -> None:
    await sessions_app.graphql('{ session(year: 2018, race: "Baku") { round } }')
    settings = fastf1_app_settings(
        replay, redis_url=sessions_app.redis_url, redis_namespace=sessions_app.namespace
    )
    async with make_client(**settings) as client:
        resources = resources_of(client)
        query = """{ session(year: 2018, race: "4") {
            telemetry(driver: "RIC", lap: 20) { sampleCount } } }"""
        body = (await client.post("/graphql", json={"query": query})).json()
        assert body["data"]["session"]["telemetry"]["sampleCount"] > 100
        assert resources.sessions.client.loads == 0


async def test_worker_killed_mid_load_fails_cleanly_and_the_pool_recovers(
    make_client: ClientFactory, replay: Replay
) -> None:
    query = '{ session(year: 2022, race: "Jeddah", type: Q) { laps { lapNumber } } }'
    async with make_client(**fastf1_app_settings(replay)) as client:
        resources = resources_of(client)
        fastf1 = resources.sessions.client
        with replay.fault(prefix="/static/", delay=10):
            request = asyncio.create_task(client.post("/graphql", json={"query": query}))
            # Wait until the worker is inside the load (its first live-timing request); a
            # spawned worker importing FastF1 on a loaded machine can take minutes to get there.
            deadline = time.monotonic() + 240
            while not replay.count(prefix="/static/") and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            assert replay.count(prefix="/static/"), "the load never reached the archive"
            pids = fastf1.worker_pids
            assert pids
            for pid in pids:
                os.kill(pid, signal.SIGKILL)
            response = await asyncio.wait_for(request, 30)
        body: dict[str, Any] = response.json()
        assert response.status_code == 200
        assert [e["extensions"]["code"] for e in body["errors"]] == ["UPSTREAM_UNAVAILABLE"]
        assert "Traceback" not in response.text
        # The next request loads again, in a new pool, and succeeds.
        body = (await client.post("/graphql", json={"query": query})).json()
        assert "errors" not in body, body
        assert body["data"]["session"]["laps"]
        assert fastf1.loads == 2
