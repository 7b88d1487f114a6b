"""The README is a contract: its run command installs the server's dependencies and none of
the dev tools (asked of the lock file with the same flags), CI runs exactly its test command,
and its examples run as written against a real ``pypole serve --replay`` (the Python client's
script is in test_codegen.py, the TypeScript client in test_typescript_client.py)."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.jolpica_oracle import oracle_for
from tests.plugins.services import unavailable
from tests.serving import Server, clean_env, serving

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
CI = ROOT / ".ci" / "run"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*")


def _normalised(requirement: str) -> str:
    match = _NAME.match(requirement.strip())
    assert match is not None, requirement
    return re.sub(r"[-_.]+", "-", match[0]).lower()


def quick_start_commands() -> list[list[str]]:
    """The commands of the quick start's first ``sh`` block, comments dropped."""
    text = README.read_text()
    start = text.index("\n## Quick start\n")
    section = text[start : text.index("\n## ", start + 1)]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    return [shlex.split(line, comments=True) for line in block.splitlines() if line.strip()]


def test_the_quick_start_has_a_run_and_a_test_command() -> None:
    run, test = quick_start_commands()

    assert run[:2] == ["uv", "run"] and run[-2:] == ["pypole", "serve"]
    assert test[:2] == ["uv", "run"] and "pytest" in test


def test_ci_runs_the_readme_test_command() -> None:
    _, test = quick_start_commands()
    ci_lines = [line.strip() for line in CI.read_text().splitlines()]

    assert shlex.join(test) in ci_lines


def test_the_run_command_installs_the_server_and_no_dev_tool() -> None:
    run, _ = quick_start_commands()
    flags = run[2 : run.index("pypole")]
    uv = os.environ.get("UV") or shutil.which("uv")
    if uv is None:
        unavailable("uv is not on PATH: cannot ask the lock file")
    assert uv is not None

    exported = subprocess.run(
        [uv, "export", "--frozen", "--no-hashes", "--no-header", "--no-emit-project", *flags],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    installed = {
        _normalised(line)
        for line in exported.splitlines()
        if line.strip() and not line.startswith((" ", "#"))
    }

    server = {_normalised(r) for r in PYPROJECT["project"]["dependencies"]}
    dev = {_normalised(r) for r in PYPROJECT["dependency-groups"]["dev"]}
    assert server <= installed
    assert not dev & installed, f"the run command installs dev tools: {sorted(dev & installed)}"


# -- the examples of "Using it" ----------------------------------------------------------------


def readme_block(language: str, after: str) -> str:
    """The first ``language`` code block after the text ``after``."""
    text = README.read_text()
    return text.split(after, 1)[1].split(f"```{language}\n", 1)[1].split("```", 1)[0]


@pytest.fixture(scope="module")
def readme_server(tmp_path_factory: pytest.TempPathFactory, fixtures_dir: Path) -> Iterator[Server]:
    """``pypole serve --replay``; cold FastF1 loads of a busy machine get time to finish."""
    work = tmp_path_factory.mktemp("readme")
    env = clean_env(graphql_timeout="300")
    with serving(work, "--replay", str(fixtures_dir), env=env) as server:
        yield server


def post_graphql(server: Server, query: str, token: str | None = None) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = httpx.post(
        f"{server.url}/graphql", json={"query": query}, headers=headers, timeout=300
    )
    body: dict[str, Any] = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


def test_the_account_examples_run_in_order(readme_server: Server) -> None:
    """GraphQL's register and me, then the REST block: login as that account, me, another."""
    for tool in ("bash", "curl", "jq"):
        if shutil.which(tool) is None:
            unavailable(f"{tool} is not on PATH: the README's shell block cannot run")
    register, me = (
        line.split("#", 1)[0] for line in readme_block("graphql", "## Using it").splitlines()
    )
    registered = post_graphql(readme_server, register)["register"]
    who = post_graphql(readme_server, me, token=registered["accessToken"])["me"]

    script = readme_block("sh", "REST (older clients)").replace(
        "localhost:8000", readme_server.url.removeprefix("http://")
    )
    # Each curl fails on an HTTP error and ends its answer with a newline.
    strict_curl = 'curl() { command curl -sS --fail-with-body "$@"; echo; }\n'
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", strict_curl + script],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert who["username"] == "ada"
    assert done.returncode == 0, done.stdout + done.stderr
    fastest, telemetry, rest_me, other = (json.loads(line) for line in done.stdout.splitlines())
    assert fastest["fastest_lap"]["driver"] == telemetry["driver"] == "BOT"
    assert (rest_me["id"], rest_me["username"]) == (int(registered["user"]["id"]), "ada")
    assert other["username"] == "grace"


def test_the_championship_and_session_query_runs(readme_server: Server, fixtures_dir: Path) -> None:
    oracle = oracle_for(fixtures_dir / "jolpica" / "csv")
    query = readme_block("graphql", "in one query:")

    data = post_graphql(readme_server, query)

    race = data["race"]
    assert race["name"] == oracle.race_name(2018, 4)
    codes = {
        d["driverRef"]: None if d["code"] == "\\N" else d["code"] for d in oracle.drivers.values()
    }
    assert [r["driver"]["code"] for r in race["results"]] == [
        codes[row.driver_ref] for row in oracle.results(2018, 4)
    ]
    session = race["session"]
    assert session["fastestLap"] is not None and session["stints"]
    assert session["telemetry"]["sampleCount"] > 0
    assert data["session"]["laps"]
