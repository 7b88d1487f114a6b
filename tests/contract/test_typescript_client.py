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

from tests.auth.support import REGISTER, new_account
from tests.contract.test_codegen import graphql_url, oracle  # noqa: F401 (fixtures)
from tests.jolpica_oracle import ErgastOracle
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
