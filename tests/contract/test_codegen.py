"""The typed client: ariadne-codegen turns ``schema.graphql`` and ``examples/queries/`` into an
async Python package (configured in ``[tool.ariadne-codegen]`` of pyproject.toml), and that
package talks to a real server: uvicorn on a loopback port, upstream data from the replay.

ariadne-codegen needs an older graphql-core and ruff than the project, so it runs as CI runs
it, in a throwaway environment of the ``codegen`` dependency group; the generated package
itself needs only httpx and pydantic, and is imported here.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import importlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import tomllib
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import uvicorn

from pypole_gql.app import create_app
from pypole_gql.config import Settings
from pypole_gql.db.migrate import upgrade_async
from tests.jolpica_oracle import ErgastOracle, oracle_for
from tests.plugins import app as app_plugin
from tests.plugins.fastf1 import SessionsApp, fastf1_app_settings
from tests.plugins.services import unavailable

REPO_ROOT = Path(__file__).resolve().parents[2]
#: The CI command, without the ``--config`` that points it at this test's copy of the table.
CODEGEN = ("run", "--frozen", "--isolated", "--only-group", "codegen", "ariadne-codegen")


def _toml(table: dict[str, Any], name: str) -> str:
    """``table`` as the TOML table ``name`` (the few value types the codegen table uses)."""
    lines = [f"[{name}]"]
    nested: list[str] = []
    for key, value in table.items():
        if isinstance(value, dict):
            nested.append(_toml(value, f"{name}.{key}"))
        elif isinstance(value, bool):
            lines.append(f"{key} = {'true' if value else 'false'}")
        elif isinstance(value, str | int | float | list):
            # JSON strings, numbers and lists of them are valid TOML values.
            lines.append(f"{key} = {json.dumps(value)}")
        else:
            raise TypeError(f"{name}.{key}: {type(value).__name__} is not handled")
    return "\n\n".join(["\n".join(lines), *nested]) + "\n"


def _codegen_config(target: Path) -> dict[str, Any]:
    """The project's codegen table with absolute paths and ``target`` as the output."""
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    config: dict[str, Any] = dict(pyproject["tool"]["ariadne-codegen"])
    config["schema_path"] = str(REPO_ROOT / config["schema_path"])
    config["queries_path"] = str(REPO_ROOT / config["queries_path"])
    config["target_package_path"] = str(target)
    return config


@pytest.fixture(scope="module")
def client_package(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The generated client package, freshly generated and imported."""
    uv = os.environ.get("UV") or shutil.which("uv")
    if uv is None:
        unavailable("uv is not on PATH: the codegen step cannot run")
    assert uv is not None
    out = tmp_path_factory.mktemp("codegen")
    config = _codegen_config(out)
    config_file = out / "codegen.toml"
    config_file.write_text(_toml(config, "tool.ariadne-codegen"))
    done = subprocess.run(
        [uv, *CODEGEN, "--config", str(config_file)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, f"ariadne-codegen failed:\n{done.stdout}\n{done.stderr}"
    name: str = config["target_package_name"]
    sys.path.insert(0, str(out))
    try:
        with warnings.catch_warnings():
            # pydantic warns that the result model of `register` has a field named like
            # ABCMeta.register; the field works, and the operation keeps the schema's name.
            warnings.filterwarnings("ignore", r'Field name "register"', UserWarning)
            package = importlib.import_module(name)
        yield package
    finally:
        sys.path.remove(str(out))
        for module in [m for m in sys.modules if m == name or m.startswith(f"{name}.")]:
            del sys.modules[module]


def _serve(settings: Settings) -> tuple[uvicorn.Server, threading.Thread]:
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, configure_logs=False),
            host="127.0.0.1",
            port=0,
            lifespan="on",
            log_config=None,
            access_log=False,
        )
    )

    async def main() -> None:
        await upgrade_async(settings.database_url)
        await server.serve()

    thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
    thread.start()
    return server, thread


@contextlib.contextmanager
def _served(settings: Settings) -> Iterator[str]:
    """``/graphql`` of the app served by uvicorn on a free loopback port."""
    server, thread = _serve(settings)
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive(), "the test server stopped during start-up"
        assert time.monotonic() < deadline, "the test server did not start in 30 s"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/graphql"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture
def graphql_url(tmp_path: Path, replay: Any) -> Iterator[str]:
    """``/graphql`` of the app served by uvicorn on a free loopback port, Jolpica replayed."""
    settings = app_plugin.test_settings(
        tmp_path,
        jolpica_url=f"{replay.url}/ergast/f1",
        jolpica_rate="1000/second",
        redis_namespace=f"pypole-test-{uuid.uuid4().hex[:10]}",
    )
    with _served(settings) as url:
        yield url


@pytest.fixture
def sessions_graphql_url(tmp_path: Path, replay: Any, sessions_app: SessionsApp) -> Iterator[str]:
    """The same, with FastF1 replayed too and sharing the sessions app's Redis namespace: a
    session that app loaded is read from Redis, not loaded again."""
    settings = app_plugin.test_settings(
        tmp_path,
        **fastf1_app_settings(
            replay, redis_url=sessions_app.redis_url, redis_namespace=sessions_app.namespace
        ),
    )
    with _served(settings) as url:
        yield url


@pytest.fixture(scope="module")
def oracle(fixtures_dir: Path) -> ErgastOracle:
    return oracle_for(fixtures_dir / "jolpica" / "csv")


def test_toml_round_trips_the_codegen_table(tmp_path: Path) -> None:
    config = _codegen_config(tmp_path)
    text = _toml(config, "tool.ariadne-codegen")
    assert tomllib.loads(text)["tool"]["ariadne-codegen"] == config


async def test_season_dashboard_through_the_generated_client(
    client_package: ModuleType, graphql_url: str, oracle: ErgastOracle
) -> None:
    async with client_package.PyPoleClient(url=graphql_url) as client:
        dashboard = await client.season_dashboard(year=2023)
    season = dashboard.season
    assert season is not None
    assert season.year == 2023
    assert [race.round for race in season.races] == oracle.rounds(2023)
    assert len(season.races) == len(oracle.rounds(2023))
    for race in season.races:
        assert race.name == oracle.race_name(2023, race.round)
        assert isinstance(race.date, dt.date)  # the Date scalar is typed, not a string
        assert [(r.driver.driver_id, r.position, r.points) for r in race.results] == [
            (row.driver_ref, row.position, row.points) for row in oracle.results(2023, race.round)
        ]
    assert [(s.driver.code, s.points, s.wins) for s in season.driver_standings] == [
        (row.code, row.points, row.wins) for row in oracle.driver_standings(2023)
    ]
    assert [(s.constructor.constructor_id, s.points) for s in season.constructor_standings] == [
        (row.ref, row.points) for row in oracle.constructor_standings(2023)
    ]


async def test_race_analysis_through_the_generated_client(
    client_package: ModuleType,
    sessions_graphql_url: str,
    sessions_app: SessionsApp,
    oracle: ErgastOracle,
) -> None:
    """Issue 12's fields, typed: the 2018 race (loaded once by the sessions app, read here
    from the Redis it shares)."""
    # The sessions app loads the race (once per test run); this server then reads it.
    warm = await sessions_app.graphql('{ session(year: 2018, race: "4") { round } }')
    assert "errors" not in warm, warm
    async with client_package.PyPoleClient(url=sessions_graphql_url) as client:
        analysis = await client.race_analysis(
            year=2018, round=4, type_=client_package.SessionType.R, drivers=["HAM", "BOT"]
        )
    race = analysis.race
    assert race is not None and race.name == oracle.race_name(2018, 4)
    session = race.session
    assert session is not None and session.event_name == "Azerbaijan Grand Prix"
    assert [(r.driver_id, r.position, r.points) for r in session.results] == [
        (row.driver_ref, row.position, row.points) for row in oracle.results(2018, 4)
    ]
    assert session.weather_series.sample_count == len(session.weather_series.time) > 0
    assert session.race_control and session.track_status and session.positions
    joined = [s for s in session.pit_stops if s.jolpica_duration is not None]
    assert len(joined) == len(race.pit_stops) > 0
    assert isinstance(session.race_control[0].time, dt.datetime)
    track = session.track_map
    assert track is not None and track.lap_number > 0
    assert track.sample_count == len(track.x) == len(track.y) > 100
    comparison = session.compare
    assert comparison is not None and [lap.driver for lap in comparison.laps] == ["HAM", "BOT"]
    reference, other = comparison.laps
    assert reference.lap_time is not None and other.lap_time is not None
    assert abs(other.delta[-1] - (other.lap_time - reference.lap_time)) < 0.05


async def test_account_through_the_generated_client(
    client_package: ModuleType, graphql_url: str
) -> None:
    client_type = client_package.PyPoleClient
    theme = client_package.Theme
    name = f"ada_{uuid.uuid4().hex[:8]}"
    email, password = f"{name}@example.com", "correct horse battery"
    async with client_type(url=graphql_url) as anonymous:
        registered = (
            await anonymous.register(
                client_package.RegisterInput(
                    email=email, username=name, password=password, favorite_team="Ferrari"
                )
            )
        ).register
        assert (await anonymous.me()).me is None
    assert registered.token_type == "bearer"
    assert registered.expires_in > 0

    bearer = {"Authorization": f"Bearer {registered.access_token}"}
    async with client_type(url=graphql_url, headers=bearer) as signed_in:
        me = (await signed_in.me()).me
        assert me is not None
        assert (me.id, me.username, me.theme) == (registered.user.id, name, theme.DARK)
        assert isinstance(me.created_at, dt.datetime)
        changed = (
            await signed_in.update_preferences(
                client_package.PreferencesInput(theme=theme.LIGHT, favorite_driver="Leclerc")
            )
        ).update_preferences
        # Fields left out of the input are not sent, so favoriteTeam stays.
        assert (changed.theme, changed.favorite_driver, changed.favorite_team) == (
            theme.LIGHT,
            "Leclerc",
            "Ferrari",
        )
        refreshed = (await signed_in.refresh_token(registered.refresh_token)).refresh_token
        assert refreshed.refresh_token != registered.refresh_token
        logged_in = (await signed_in.login(email, password)).login
        assert logged_in.user.id == registered.user.id


def test_the_readme_script_runs(
    client_package: ModuleType, graphql_url: str, oracle: ErgastOracle
) -> None:
    """The README's ``season.py``, as written there, against a live server."""
    readme = (REPO_ROOT / "README.md").read_text()
    script = readme.split("save this as `season.py`", 1)[1].split("```python\n", 1)[1]
    script = script.split("```", 1)[0]
    assert 'URL = "http://127.0.0.1:8000/graphql"' in script
    assert client_package.__file__ is not None
    package_dir = Path(client_package.__file__).resolve().parents[1]

    done = subprocess.run(
        [sys.executable, "-c", script.replace("http://127.0.0.1:8000/graphql", graphql_url)],
        env={**os.environ, "PYTHONPATH": str(package_dir)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    leader = oracle.driver_standings(2023)[0]
    races = [f"{round_} {oracle.race_name(2023, round_)} " for round_ in oracle.rounds(2023)]
    lines = done.stdout.splitlines()
    assert [line[: len(prefix)] for line, prefix in zip(lines, races, strict=False)] == races
    assert lines[len(races) :] == [f"leader: {leader.code} {leader.points}"]
