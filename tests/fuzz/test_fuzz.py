"""schemathesis against both faces of a real server: ``/api/v1`` by its OpenAPI document,
``/graphql`` by introspection.

Each test runs the ``st`` command (settings and value dictionaries in schemathesis.toml, auth
and the GraphQL check in hooks.py) against ``fuzz_server`` and fails with its report, which
names each failing case and the curl command that replays it. Every case found so far is
kept in test_regressions.py.

- REST: no 5xx, every status code documented for its operation, the documented content type,
  the body and headers valid against the documented schemas; 405 with ``Allow`` for methods a
  path does not serve, 401 without a required token.
- GraphQL: no 5xx, no ``INTERNAL`` error, every error coded, no null in a non-null field.

Both also bound the FastF1 loads the fuzz may start (see schemathesis.toml).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fuzz.conftest import FuzzServer

pytestmark = pytest.mark.timeout(600)

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
CONFIG = HERE / "schemathesis.toml"
REST_CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    # Also what schemathesis asks of HTTP itself: a 405 for a method a path does not serve,
    # with an Allow header naming those it does; a 401 without the token a route requires.
    "unsupported_method",
    "allow_header_conformance",
    "ignored_auth",
    "missing_required_header",
)
GRAPHQL_CHECKS = ("response_schema_conformance", "graphql_no_internal_error")
#: FastF1 loads one fuzz run may start. A few sessions the fixtures hold no data for are
#: expected (a fraction of a second each): `session`/`race { session }` and, since they take a
#: season and a round too, `raceStrategy` and `loadSession`, over the dictionaries' 4 seasons
#: and 3 rounds. Many more would mean the fuzz reaches sessions with data (seconds each); past
#: 20 the worker process is replaced (seconds of imports), which the bound allows once.
MAX_FASTF1_LOADS = 32


def schemathesis_run(
    server: FuzzServer, location: str, checks: tuple[str, ...], extra: tuple[str, ...] = ()
) -> None:
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "tests.fuzz.hooks",
        "PYPOLE_FUZZ_URL": server.url,
        "PYPOLE_FUZZ_EMAIL": server.email,
        "PYPOLE_FUZZ_PASSWORD": server.password,
    }
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(CONFIG),
        "run",
        f"{server.url}{location}",
        "--checks",
        ",".join(checks),
        "--no-color",
        *extra,
    ]
    loads = server.fastf1_loads
    started = time.perf_counter()
    result = subprocess.run(
        command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=540, check=False
    )
    report = f"{result.stdout}\n{result.stderr}"
    assert result.returncode == 0, report
    started_loads = server.fastf1_loads - loads
    print(report)
    print(f"{location}: {time.perf_counter() - started:.1f} s, {started_loads} FastF1 loads")
    assert started_loads <= MAX_FASTF1_LOADS, report


def test_rest_api_answers_as_documented(fuzz_server: FuzzServer) -> None:
    # The AI prediction route answers 501 by design (no model here, nothing invented), which
    # `not_a_server_error` counts as a failure whatever the config says once `--checks` names
    # it; its one answer is tested in tests/rest/test_predictor.py instead.
    schemathesis_run(
        fuzz_server,
        "/api/v1/openapi.json",
        REST_CHECKS,
        ("--exclude-operation-id", "ai_prediction"),
    )


def test_graphql_api_never_fails_internally(fuzz_server: FuzzServer) -> None:
    schemathesis_run(fuzz_server, "/graphql", GRAPHQL_CHECKS)
