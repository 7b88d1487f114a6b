"""The ``pypole`` command as a user runs it: real subprocesses in empty working directories.

Every process is bounded in time and killed in ``finally``, whatever the test's outcome.
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic.script import ScriptDirectory

from pypole_gql.cli import build_parser
from pypole_gql.config import DEV_KEY_FILE
from pypole_gql.db.migrate import alembic_config, current
from pypole_gql.replay.ergast import AFTER_LAST_RESULTS
from tests.auth.support import LOGIN, ME, REGISTER, new_account
from tests.jolpica_oracle import oracle_for
from tests.serving import PYPOLE, STOP_TIMEOUT, clean_env, free_port, run, serving

#: The latest migration: what `pypole migrate` and `pypole serve` bring a database to.
HEAD = ScriptDirectory.from_config(alembic_config("sqlite+aiosqlite://")).get_current_head()

GOOD_SECRET = "cli-test-secret-0123456789-abcdefghijklmnop"
#: The console log's timestamp at the start of a line, as the app's own lines carry it.
CONSOLE_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z ")
SEASON_AND_NEXT = "{ season { year races { round } } nextRace { season round } }"


def graphql(
    url: str, query: str, variables: dict[str, Any], token: str | None = None
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = httpx.post(
        f"{url}/graphql", json={"query": query, "variables": variables}, headers=headers, timeout=30
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


def register_and_login(url: str) -> tuple[dict[str, Any], str]:
    """A new account over GraphQL; returns the login payload and the password."""
    account = new_account()
    graphql(url, REGISTER, {"input": account})
    login = graphql(url, LOGIN, {"email": account["email"], "password": account["password"]})
    return login["login"], account["password"]


# -- pypole serve ----------------------------------------------------------------------------


def test_serve_in_an_empty_directory(tmp_path: Path) -> None:
    """The README's first command: migrated ./pypole.db, a dev secret, GraphQL accounts, a
    quiet start and a clean stop on SIGINT."""
    work = tmp_path / "empty"
    work.mkdir()

    with serving(work) as server:
        ready = httpx.get(server.url + "/health/ready", timeout=5)
        session, password = register_and_login(server.url)
        me = graphql(server.url, ME, {}, token=session["accessToken"])
        assert (
            httpx.get(server.url + "/graphql", headers={"Accept": "text/html"}).status_code == 200
        )
        status = server.stop(signal.SIGINT)
        log = server.stderr()

    assert ready.json() == {"status": "ok", "checks": {"database": "ok"}}
    assert me["me"]["id"] == session["user"]["id"]
    assert status == 0, log
    assert sorted(p.name for p in work.iterdir() if not p.name.startswith("pypole.db-")) == [
        DEV_KEY_FILE,
        "pypole.db",
    ]
    assert current(f"sqlite+aiosqlite:///{work / 'pypole.db'}") == HEAD
    for expected in ("db.migrated", "config.jwt_secret_generated", "app.started", "app.stopped"):
        assert expected in log
    assert "Traceback" not in log
    # Alembic's own INFO narration is silenced at start.
    assert "alembic" not in log, log
    for secret in (password, session["accessToken"], session["refreshToken"]):
        assert secret not in log


def test_tokens_survive_a_restart_and_sigterm_stops_cleanly(tmp_path: Path) -> None:
    with serving(tmp_path) as first:
        session, _ = register_and_login(first.url)
        assert first.stop(signal.SIGTERM) == 0, first.stderr()
    secret = (tmp_path / DEV_KEY_FILE).read_text()

    with serving(tmp_path) as second:
        me = graphql(second.url, ME, {}, token=session["accessToken"])
        assert second.stop(signal.SIGTERM) == 0, second.stderr()
        log = second.stderr()

    assert me["me"]["id"] == session["user"]["id"]
    assert (tmp_path / DEV_KEY_FILE).read_text() == secret
    assert "config.jwt_secret_from_file" in log
    assert "Traceback" not in log


def test_serve_reads_dotenv_in_the_working_directory(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "PYPOLE_DATABASE_URL=sqlite+aiosqlite:///./data/from-dotenv.db\n"
        "PYPOLE_ENV=prod\n"
        f"PYPOLE_JWT_SECRET={GOOD_SECRET}\n"
    )

    with serving(tmp_path) as server:
        session, _ = register_and_login(server.url)
        log = server.stderr()

    assert (tmp_path / "data" / "from-dotenv.db").exists()
    assert not (tmp_path / "pypole.db").exists()
    assert not (tmp_path / "data" / DEV_KEY_FILE).exists()  # prod: the given secret
    assert session["expiresIn"] == 1800
    # prod logs JSON: one object per line
    events = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    assert any(e.get("event") == "app.started" for e in events)
    assert GOOD_SECRET not in log


def test_serve_with_two_workers(tmp_path: Path) -> None:
    with serving(tmp_path, "--workers", "2") as server:
        session, _ = register_and_login(server.url)
        # Each request may land on either worker: all must accept the token (one secret).
        answers = [
            graphql(server.url, ME, {}, token=session["accessToken"])["me"]["id"] for _ in range(10)
        ]
        status = server.stop(signal.SIGTERM)
        log = server.stderr()

    assert answers == [session["user"]["id"]] * 10
    assert status == 0, log
    assert log.count("app.started") == 2
    assert "Traceback" not in log


def log_line(log: str, event: str) -> str:
    (line,) = [line for line in log.splitlines() if f" {event} " in line]
    return line


def test_serve_names_its_urls_at_start(tmp_path: Path) -> None:
    with serving(tmp_path) as server:
        line = log_line(server.stderr(), "serve.starting")
        urls = dict(re.findall(r"(\w+)=(http://\S+)", line))
        answers = {
            name: httpx.get(url, headers={"Accept": "text/html"}, timeout=10).status_code
            for name, url in urls.items()
        }

    assert urls == {
        "graphql": f"{server.url}/graphql",
        "docs": f"{server.url}/api/v1/docs",
        "health": f"{server.url}/health/ready",
    }
    # GraphiQL (dev), Swagger UI of the REST shim, the readiness check.
    assert answers == {"graphql": 200, "docs": 200, "health": 200}


def test_serve_with_the_replay_upstream(tmp_path: Path, fixtures_dir: Path) -> None:
    with serving(tmp_path, "--replay", str(fixtures_dir)) as server:
        response = httpx.get(f"{server.url}/api/v1/jolpica/schedule/2023", timeout=30)
        log = server.stderr()

    assert response.status_code == 200, response.text
    assert "Traceback" not in log
    # The replay's line is written like the server's own.
    for event in ("replay.started", "db.migrated", "serve.starting", "app.started"):
        assert CONSOLE_TIMESTAMP.match(log_line(log, event)), log_line(log, event)


def test_serve_replay_defaults_to_just_after_the_fixtures_last_results(
    tmp_path: Path, fixtures_dir: Path
) -> None:
    """The offline demo's current season is the fixtures' last one, with its next race."""
    oracle = oracle_for(fixtures_dir / "jolpica" / "csv")
    season, round_ = oracle.last_race_with_results()
    following = oracle.race_after(season, round_)
    assert following is not None and following[0] == season  # a race of that season is ahead

    with serving(tmp_path, "--replay", str(fixtures_dir)) as server:
        schedule = httpx.get(f"{server.url}/api/v1/jolpica/schedule/current", timeout=30)
        data = graphql(server.url, SEASON_AND_NEXT, {})

    assert schedule.status_code == 200, schedule.text
    assert schedule.json()["season"] == season
    assert [int(race["round"]) for race in schedule.json()["races"]] == oracle.rounds(season)
    assert data["season"] == {
        "year": season,
        "races": [{"round": number} for number in oracle.rounds(season)],
    }
    assert data["nextRace"] == {"season": following[0], "round": following[1]}


def test_serve_replay_now_sets_the_replays_clock(tmp_path: Path, fixtures_dir: Path) -> None:
    oracle = oracle_for(fixtures_dir / "jolpica" / "csv")
    # Halfway between two races of a season before the fixtures' last.
    season = oracle.last_race_with_results()[0] - 2
    middle = oracle.rounds(season)[len(oracle.rounds(season)) // 2]
    now = (
        oracle.race_start(season, middle)
        + (oracle.race_start(season, middle + 1) - oracle.race_start(season, middle)) / 2
    )
    upcoming = oracle.next_race(now)

    with serving(tmp_path, "--replay", str(fixtures_dir), "--now", now.isoformat()) as server:
        data = graphql(server.url, SEASON_AND_NEXT, {})
        saves = {
            round_: save_prediction(server.url, season, round_) for round_ in (middle, middle + 1)
        }
        log = server.stderr()

    assert upcoming == (season, middle + 1)
    assert data["season"]["year"] == season
    assert data["nextRace"] == {"season": season, "round": middle + 1}
    assert f"now={now.isoformat()}" in log_line(log, "replay.started")
    # The server's own clock is the replay's: the next race is open, the one before started.
    assert saves[middle + 1].status_code == 200, saves[middle + 1].text
    assert saves[middle].status_code == 409, saves[middle].text


def save_prediction(url: str, season: int, round_: int) -> httpx.Response:
    """Sign up, then save a prediction (the race template's first drivers) for the race."""
    api = f"{url}/api/v1"
    user = {"email": f"p{round_}@example.com", "username": f"p{round_}", "password": "x" * 12}
    assert httpx.post(f"{api}/auth/register", json=user, timeout=30).status_code == 201
    login = httpx.post(
        f"{api}/auth/login", data={"email": user["email"], "password": user["password"]}, timeout=30
    )
    token = login.json()["access_token"]
    template = httpx.get(f"{api}/predictor/template/{season}/{round_}", timeout=30)
    assert template.status_code == 200, template.text
    drivers = [d["driver_id"] for d in template.json()["drivers"]][:3]
    picks = [{"driver_id": d, "predicted_position": i} for i, d in enumerate(drivers, 1)]
    return httpx.put(
        f"{api}/predictor/predictions/{season}/{round_}",
        json=picks,
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )


@pytest.mark.parametrize("given", [None, "2024-07-01T12:00:00+00:00"], ids=["default", "given"])
def test_pypole_replay_now(tmp_path: Path, fixtures_dir: Path, given: str | None) -> None:
    oracle = oracle_for(fixtures_dir / "jolpica" / "csv")
    last = oracle.last_race_with_results()
    expected = given or (oracle.race_start(*last) + AFTER_LAST_RESULTS).isoformat()
    port = free_port()
    args = [PYPOLE, "replay", "--fixtures", str(fixtures_dir), "--port", str(port)]
    process = subprocess.Popen(
        [*args, *(["--now", given] if given else [])],
        cwd=tmp_path,
        env=clean_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        info = None
        while info is None and process.poll() is None and time.monotonic() < deadline:
            try:
                info = httpx.get(f"http://127.0.0.1:{port}/_replay/info", timeout=2).json()
            except httpx.TransportError:
                time.sleep(0.2)
        process.send_signal(signal.SIGINT)
        status = process.wait(timeout=STOP_TIMEOUT)
        log = process.stderr.read() if process.stderr else ""
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT)

    assert info is not None, log
    assert info["now"] == expected
    assert status == 0, log
    assert CONSOLE_TIMESTAMP.match(log_line(log, "replay.started")), log


def test_ctrl_c_after_a_session_load_stops_every_process_quietly(
    tmp_path: Path, fixtures_dir: Path
) -> None:
    """Ctrl-C reaches the FastF1 worker too (one process group): no traceback from it."""
    query = (
        '{ session(year: 2023, race: "Baku", type: Q) { laps(drivers: ["VER"]) { lapNumber } } }'
    )
    with serving(tmp_path, "--replay", str(fixtures_dir)) as server:
        laps = graphql(server.url, query, {})["session"]["laps"]
        status = server.interrupt()
        log = server.stderr()
        deadline = time.monotonic() + STOP_TIMEOUT
        while server.group_alive() and time.monotonic() < deadline:
            time.sleep(0.1)
        left = server.group_alive()

    assert laps, "the session did not load"
    assert "fastf1.loaded" in log
    assert status == 0, log
    assert "KeyboardInterrupt" not in log and "Traceback" not in log, log
    assert "app.stopped" in log
    assert not left, "a process of the server's group outlived it"


# -- refusals: one clear line, status 2, no traceback ----------------------------------------


def assert_refused(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.startswith("pypole: "), result.stderr
    for fragment in fragments:
        assert fragment in result.stderr


@pytest.mark.parametrize(
    ("secret", "fragment"),
    [
        pytest.param(None, "PYPOLE_JWT_SECRET is missing or a placeholder", id="missing"),
        pytest.param("too-short-secret", "PYPOLE_JWT_SECRET is 16 bytes", id="short"),
        pytest.param("replace-with-a-long-random-string", "placeholder", id="placeholder"),
    ],
)
def test_serve_in_prod_refuses_a_weak_secret(
    tmp_path: Path, secret: str | None, fragment: str
) -> None:
    settings = {"env": "prod"} | ({"jwt_secret": secret} if secret else {})

    result = run([PYPOLE, "serve", "--port", str(free_port())], tmp_path, clean_env(**settings))

    assert_refused(result, "configuration error", fragment)
    assert not (tmp_path / "pypole.db").exists()  # refused before touching anything


def test_serve_refuses_an_invalid_setting(tmp_path: Path) -> None:
    result = run(
        [PYPOLE, "serve", "--port", str(free_port())],
        tmp_path,
        clean_env(access_token_minutes="0", log_level="loud"),
    )

    assert_refused(result, "PYPOLE_ACCESS_TOKEN_MINUTES", "PYPOLE_LOG_LEVEL")


@pytest.mark.parametrize(
    ("setting", "value", "fragment"),
    [
        pytest.param(
            "rate_limit", "lots", "PYPOLE_RATE_LIMIT: 'lots' is not a rate limit", id="rate"
        ),
        pytest.param("trusted_proxies", "my-proxy", "PYPOLE_TRUSTED_PROXIES", id="proxies"),
        pytest.param("redis_url", "localhost:6379", "PYPOLE_REDIS_URL", id="redis"),
        pytest.param("database_url", "postgresql://db/x", "PYPOLE_DATABASE_URL", id="database"),
    ],
)
def test_serve_refuses_a_bad_setting_before_starting_anything(
    tmp_path: Path, fixtures_dir: Path, setting: str, value: str, fragment: str
) -> None:
    result = run(
        [PYPOLE, "serve", "--port", str(free_port()), "--replay", str(fixtures_dir)],
        tmp_path,
        clean_env(**{setting: value}),
    )

    assert_refused(result, "configuration error", fragment)
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert list(tmp_path.iterdir()) == []  # not migrated, no secret, no replay started


def test_serve_now_needs_the_replay(tmp_path: Path) -> None:
    result = run([PYPOLE, "serve", "--now", "2025-07-06T16:00:00Z"], tmp_path)

    assert_refused(result, "--now", "--replay")


def test_serve_refuses_a_now_that_is_not_a_datetime(tmp_path: Path, fixtures_dir: Path) -> None:
    result = run([PYPOLE, "serve", "--replay", str(fixtures_dir), "--now", "yesterday"], tmp_path)

    assert result.returncode == 2
    assert "argument --now: 'yesterday' is not an ISO 8601 date-time" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_refuses_a_bad_replay_directory(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-fixtures"

    result = run([PYPOLE, "serve", "--port", str(free_port()), "--replay", str(missing)], tmp_path)

    assert_refused(result, "--replay", "not a usable fixtures directory", str(missing))


def test_serve_refuses_a_replay_directory_without_fixtures(tmp_path: Path) -> None:
    (tmp_path / "fixtures").mkdir()

    result = run([PYPOLE, "serve", "--port", str(free_port()), "--replay", "fixtures"], tmp_path)

    assert_refused(result, "not a usable fixtures directory")


# -- pypole migrate, --help ------------------------------------------------------------------


def test_migrate_a_fresh_sqlite_file_named_in_dotenv(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("PYPOLE_DATABASE_URL=sqlite+aiosqlite:///./db/fresh.db\n")
    url = f"sqlite+aiosqlite:///{tmp_path / 'db' / 'fresh.db'}"

    results, revisions = [], []
    for args in ([], ["base"], []):  # up, down to nothing, up again
        results.append(run([PYPOLE, "migrate", *args], tmp_path))
        revisions.append(current(url))

    assert [r.returncode for r in results] == [0, 0, 0], results
    assert revisions == [HEAD, None, HEAD]
    assert "db.migrated" in results[0].stderr
    assert "db.downgraded" in results[1].stderr
    assert not any("Running upgrade" in r.stderr or "Traceback" in r.stderr for r in results)
    assert not (tmp_path / "pypole.db").exists()


def test_migrate_to_an_unknown_revision_is_one_line(tmp_path: Path) -> None:
    result = run([PYPOLE, "migrate", "no-such-revision"], tmp_path)

    assert_refused(result, "migrate no-such-revision: Can't locate revision")
    assert len(result.stderr.splitlines()) == 1, result.stderr


def test_python_m_help(tmp_path: Path) -> None:
    result = run([sys.executable, "-m", "pypole_gql", "--help"], tmp_path)

    assert result.returncode == 0, result.stderr
    for command in ("serve", "migrate", "replay", "export-schema"):
        assert command in result.stdout


def test_serve_help_lists_its_options(tmp_path: Path) -> None:
    result = run([PYPOLE, "serve", "--help"], tmp_path)

    assert result.returncode == 0
    for option in ("--host", "--port", "--workers", "--replay"):
        assert option in result.stdout


def test_an_unknown_command_is_a_usage_error(tmp_path: Path) -> None:
    result = run([sys.executable, "-m", "pypole_gql", "fly"], tmp_path)

    assert result.returncode == 2
    assert "invalid choice: 'fly'" in result.stderr
    assert "Traceback" not in result.stderr


def test_every_option_of_every_command_has_help() -> None:
    parser = build_parser()
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    missing = [
        f"{name} {action.dest}"
        for name, command in commands.choices.items()
        for action in command._actions
        if action.dest != "help" and not (action.help or "").strip()
    ]

    assert "serve" in commands.choices and "migrate" in commands.choices
    assert missing == []


def test_help_shows_defaults_and_what_revision_accepts(tmp_path: Path) -> None:
    serve = run([PYPOLE, "serve", "--help"], tmp_path).stdout
    migrate = run([PYPOLE, "migrate", "--help"], tmp_path).stdout
    export = run([PYPOLE, "export-schema", "--help"], tmp_path).stdout

    assert "(default: 127.0.0.1)" in serve and "(default: 8000)" in serve
    assert "--now ISO-DATETIME" in serve
    for accepted in ("'head'", "'base'", "-1", "(default: head)"):
        assert accepted in migrate
    assert "'-' for standard output" in export and "(default: schema.graphql)" in export


def test_export_schema_to_standard_output(tmp_path: Path) -> None:
    from strawberry.printer import print_schema

    from pypole_gql.graphql.schema import build_schema

    result = run([PYPOLE, "export-schema", "--output", "-"], tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout == print_schema(build_schema()) + "\n"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "command",
    [
        pytest.param([sys.executable, "-m", "bench", "--help"], id="python-m-bench"),
        pytest.param([PYPOLE, "bench", "--help"], id="pypole-bench"),
    ],
)
def test_bench_help_is_for_users(command: list[str]) -> None:
    repo = Path(__file__).resolve().parents[1]

    result = run(command, repo)

    assert result.returncode == 0, result.stderr
    assert "``" not in result.stdout and ":class:" not in result.stdout  # no docstring markup
    for option in ("--duration S", "--only 1,2", "(default: 10.0)"):
        assert option in result.stdout
    assert re.search(r"^  8  ", result.stdout, re.MULTILINE)  # the figures are listed
