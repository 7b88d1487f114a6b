"""The TypeScript client of ``clients/typescript/``: graphql-codegen's typed documents from
``schema.graphql`` and ``examples/queries/``, compiled by tsc (strict), and its example run by
node against a live server (uvicorn on a loopback port, Jolpica replayed).

CI installs the locked packages first (``npm ci`` in ``.ci/run``); without them this test
runs ``npm ci`` itself, from the npm registry, as the README tells a user to.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from tests import session_records_oracle as records
from tests.auth.support import REGISTER, new_account
from tests.contract.test_codegen import (  # noqa: F401 (fixtures)
    graphql_url,
    oracle,
    sessions_graphql_url,
)
from tests.jolpica_oracle import ErgastOracle
from tests.plugins.fastf1 import OracleLoader, SessionsApp
from tests.plugins.services import unavailable

CLIENT = Path(__file__).resolve().parents[2] / "clients" / "typescript"


def _run(args: list[str]) -> None:
    done = subprocess.run(
        args, cwd=CLIENT, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The client generated afresh and compiled into a temporary folder."""
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        unavailable("node and npm are not on PATH: the TypeScript client cannot be built")
    assert npm is not None
    if not (CLIENT / "node_modules").is_dir():
        _run([npm, "ci", "--no-audit", "--no-fund"])
    _run([npm, "run", "--silent", "codegen"])
    out = tmp_path_factory.mktemp("typescript")
    _run([str(CLIENT / "node_modules" / ".bin" / "tsc"), "--outDir", str(out)])
    # node looks for packages in node_modules beside the script and above it.
    (out / "node_modules").symlink_to(CLIENT / "node_modules")
    (out / "package.json").write_text('{"type": "module"}\n')
    return out


def _js_number(value: float) -> str:
    return str(int(value)) if value.is_integer() else str(value)


def test_the_example_reads_a_season_and_signs_in(
    compiled: Path,
    graphql_url: str,  # noqa: F811 (the fixture)
    oracle: ErgastOracle,  # noqa: F811 (the fixture)
) -> None:
    account = new_account()
    registered = httpx.post(
        graphql_url, json={"query": REGISTER, "variables": {"input": account}}, timeout=30
    ).json()["data"]["register"]
    env = {
        **os.environ,
        "PYPOLE_URL": graphql_url,
        "PYPOLE_EMAIL": account["email"],
        "PYPOLE_PASSWORD": account["password"],
    }

    done = subprocess.run(
        ["node", str(compiled / "example.js"), "2023"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    races = [f"2023 round {n}: {oracle.race_name(2023, n)} (" for n in oracle.rounds(2023)]
    assert [line[: len(prefix)] for line, prefix in zip(lines, races, strict=False)] == races
    leader = oracle.driver_standings(2023)[0]
    assert lines[len(races) :] == [
        f"leader: {leader.code} with {_js_number(leader.points)} points",
        f"signed in as {account['username']} (theme {registered['user']['theme']})",
    ]


def test_a_graphql_error_is_reported_with_its_code(
    compiled: Path,
    graphql_url: str,  # noqa: F811 (the fixture)
) -> None:
    done = subprocess.run(
        ["node", str(compiled / "example.js"), "1900"],
        env={**os.environ, "PYPOLE_URL": graphql_url},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 1
    assert done.stderr.startswith("pypole: BAD_USER_INPUT: year must be between 1950"), done.stderr


async def test_the_race_analysis_example_reads_issue_12s_fields(
    compiled: Path,
    sessions_graphql_url: str,  # noqa: F811 (the fixture)
    sessions_app: SessionsApp,
    fastf1_oracle: OracleLoader,
    oracle: ErgastOracle,  # noqa: F811 (the fixture)
    fixtures_dir: Path,
) -> None:
    # The sessions app loads the race (once per test run); the server reads it from Redis.
    warm = await sessions_app.graphql('{ session(year: 2018, race: "4") { round } }')
    assert "errors" not in warm, warm
    done = subprocess.run(
        ["node", str(compiled / "race_analysis.js"), "2018", "4", "HAM", "BOT"],
        env={**os.environ, "PYPOLE_URL": sessions_graphql_url},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    session = fastf1_oracle(2018, "Baku", "R")
    laps = session.laps
    jolpica = records.jolpica_pit_stops(fixtures_dir, 2018, 4)
    stops = records.pit_stops(session)
    status = session.track_status
    ham, bot = (laps.pick_drivers(code).pick_fastest()["LapTime"] for code in ("HAM", "BOT"))
    delta = (bot - ham).total_seconds()
    results = session.results
    winner = results[results["Position"] == 1]["Abbreviation"].iat[0]
    assert oracle.results(2018, 4)[0].driver_ref == results["DriverId"].iat[0]
    lines = done.stdout.splitlines()
    assert lines[:4] == [
        f"{oracle.race_name(2018, 4)}: won by {winner}",
        f"pit stops: {len(stops)} ({len(jolpica)} with Jolpica's duration)",
        f"Jolpica pit stops: {len(jolpica)}",
        f"safety car deployments: {int((status['Status'] == '4').sum())}",
    ]
    assert lines[4].startswith("BOT vs HAM: ")
    assert abs(float(lines[4].split(": ")[1].split(" ")[0]) - delta) < 0.05
