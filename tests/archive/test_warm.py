"""``pypole warm`` as a subprocess against the replay: progress, summary and exit status, then a
server answers the session from the archive with no load; Ctrl-C mid-run leaves no entry; and
``pypole archive list|export|import|prune`` on what it archived."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
import uuid
from pathlib import Path

from pypole_gql.archive import ArchiveKey, FolderStore
from pypole_gql.domain.race_names import match_race
from tests.archive.test_session_archive import flush
from tests.plugins.app import ClientFactory, resources_of
from tests.plugins.fastf1 import fastf1_app_settings
from tests.plugins.replay import Replay
from tests.serving import PYPOLE, clean_env, run

BAKU = '{ session(year: 2018, race: "Baku") { round laps { driver lapNumber lapTime } } }'


def warm_env(replay: Replay, tmp_path: Path, **more: str) -> dict[str, str]:
    return clean_env(
        jolpica_url=f"{replay.url}/ergast/f1",
        livetiming_url=replay.url,
        schedule_url=f"{replay.url}/f1schedule",
        jolpica_rate="1000/second",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'pypole.db'}",
        fastf1_cache_dir=str(tmp_path / "fastf1-cache"),
        **more,
    )


async def test_warm_fills_the_archive_then_a_server_answers_without_a_load(
    replay: Replay, tmp_path: Path, make_client: ClientFactory, redis_url: str
) -> None:
    namespace = f"pypole-test-{uuid.uuid4().hex[:10]}"
    env = warm_env(replay, tmp_path, redis_url=redis_url, redis_namespace=namespace)
    try:
        # Baku's round, from the same calendar the server reads.
        settings = fastf1_app_settings(replay)
        async with make_client(**settings) as client:
            race = match_race(await resources_of(client).f1.schedule(2018), "Baku")
            assert race is not None
        done = run(
            [PYPOLE, "warm", "--season", "2018", "--sessions", "R,S", "--rounds", str(race.round)],
            cwd=tmp_path,
            env=env,
            timeout=600,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        # Progress names the session; the summary counts each outcome.
        label = f"2018 R{race.round} {race.name} R"
        assert f"loading {label}" in done.stderr
        assert re.search(rf"\[1/1\] {re.escape(label)}: loaded .*elapsed .*ETA", done.stderr)
        assert "loaded: 1" in done.stdout and "failed: 0" in done.stdout
        # 2018 Baku had no sprint: known from the calendar, no load for it.
        assert "not available: 1" in done.stdout and "no Sprint that weekend" in done.stdout
        listed = run([PYPOLE, "archive", "list"], cwd=tmp_path, env=env)
        assert listed.returncode == 0, listed.stderr
        assert re.search(rf"2018\s+{race.round}\s+R\s+\d+ \(current\)", listed.stdout)

        # A second run finds it archived.
        again = run(
            [PYPOLE, "warm", "--season", "2018", "--sessions", "R", "--rounds", str(race.round)],
            cwd=tmp_path,
            env=env,
            timeout=600,
        )
        assert again.returncode == 0, again.stdout + again.stderr
        assert "already archived: 1" in again.stdout

        # A server on the same database, Redis flushed: no FastF1 load, no live-timing read.
        await flush(redis_url, namespace)
        replay.reset()
        app_settings = fastf1_app_settings(
            replay,
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'pypole.db'}",
            redis_url=redis_url,
            redis_namespace=namespace,
        )
        async with make_client(**app_settings) as client:
            body = (await client.post("/graphql", json={"query": BAKU})).json()
            assert "errors" not in body, body
            assert len(body["data"]["session"]["laps"]) > 800
            assert resources_of(client).sessions.client.loads == 0
        assert replay.count(prefix="/static/") == 0

        # export, import into a folder archive, prune a season.
        exported = run([PYPOLE, "archive", "export", str(tmp_path / "out")], cwd=tmp_path, env=env)
        assert exported.returncode == 0 and "1 entries copied" in exported.stdout, exported
        folder_env = {**env, "PYPOLE_ARCHIVE_URL": (tmp_path / "folder").as_uri()}
        imported = run(
            [PYPOLE, "archive", "import", str(tmp_path / "out")], cwd=tmp_path, env=folder_env
        )
        assert imported.returncode == 0 and "1 entries copied" in imported.stdout, imported
        key = ArchiveKey(2018, race.round, "R")
        assert await FolderStore(tmp_path / "folder").read(key) is not None
        pruned = run([PYPOLE, "archive", "prune", "--season", "2018"], cwd=tmp_path, env=folder_env)
        assert pruned.returncode == 0 and "dropped 1 entries" in pruned.stdout, pruned
        assert await FolderStore(tmp_path / "folder").entries() == []
    finally:
        await flush(redis_url, namespace)


def test_ctrl_c_mid_run_stops_cleanly_and_leaves_no_entry(replay: Replay, tmp_path: Path) -> None:
    folder = tmp_path / "archive"
    env = warm_env(replay, tmp_path, archive_url=folder.as_uri())
    # Slow live-timing answers keep the load running while the test interrupts it.
    with replay.fault(prefix="/static/", delay=2.0):
        process = subprocess.Popen(
            [PYPOLE, "warm", "--season", "2018", "--sessions", "R", "--rounds", "4"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 120
            while not replay.count(prefix="/static/") and time.monotonic() < deadline:
                assert process.poll() is None, process.communicate()
                time.sleep(0.1)
            assert replay.count(prefix="/static/"), "the load never reached the archive"
            os.killpg(process.pid, signal.SIGINT)  # Ctrl-C at a terminal: the whole group
            stdout, stderr = process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    assert process.returncode == 130, stdout + stderr
    assert "interrupted" in stdout and "Traceback" not in stderr
    # No entry, whole or partial, and no temporary file.
    assert not folder.exists() or list(folder.rglob("*.*")) == []
    # The workers are gone too (they end with the command, not after their load).
    deadline = time.monotonic() + 15
    while group_alive(process.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    alive = group_alive(process.pid)
    if alive:
        os.killpg(process.pid, signal.SIGKILL)
    assert not alive


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True
