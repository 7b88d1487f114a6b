"""FastF1 configuration, the worker's error translation and the process-pool client."""

from __future__ import annotations

import os
import re
import socket
import time
from pathlib import Path

import pytest

from pypole_gql.errors import BadUserInput, NotFound, UpstreamUnavailable
from pypole_gql.upstream.fastf1 import (
    UPSTREAM_JOLPICA_URL,
    UPSTREAM_LIVETIMING_MIRROR_URL,
    UPSTREAM_LIVETIMING_URL,
    UPSTREAM_SCHEDULE_URL,
    FastF1Client,
    configure_fastf1,
    is_loopback,
    load_session_payload,
)
from pypole_gql.upstream.fastf1.payload import decode_payload, payload_meta
from tests.plugins.replay import Replay
from tests.upstream.conftest import replay_config

# ------------------------------------------------------------------- configuration


def _limiters_for(url: str) -> list[object]:
    import fastf1.req

    return [
        lim
        for pattern, lims in fastf1.req._SessionWithRateLimiting._RATE_LIMITS.items()
        if pattern.match(url)
        for lim in lims
    ]


def test_configure_points_every_patch_point_at_the_replay(tmp_path: Path) -> None:
    import fastf1
    import fastf1._api
    import fastf1.ergast.interface
    import fastf1.ergast.legacy
    import fastf1.events
    import fastf1.mvapi.api

    base = "http://127.0.0.1:8765"
    configure_fastf1(
        cache_dir=tmp_path / "ff1",
        livetiming_url=base + "/",
        schedule_url=base + "/f1schedule",
        jolpica_url=base + "/ergast/f1/",
    )
    assert {
        "livetiming": fastf1._api.base_url,
        "mirror": fastf1._api.base_url_mirror,
        "schedule": fastf1.events._SCHEDULE_BASE_URL,
        "jolpica": fastf1.ergast.interface.BASE_URL,
        "jolpica legacy": fastf1.ergast.legacy.base_url,
        "mvapi": (fastf1.mvapi.api.PROTO, fastf1.mvapi.api.HOST),
        "cache": fastf1.Cache._CACHE_DIR,
    } == {
        "livetiming": base,
        "mirror": base,
        "schedule": base + "/f1schedule/",
        "jolpica": base + "/ergast/f1",
        "jolpica legacy": base + "/ergast/f1",
        "mvapi": ("http", "127.0.0.1:8765"),
        "cache": str(tmp_path / "ff1"),
    }
    assert (tmp_path / "ff1").is_dir()
    assert fastf1.Cache._requests_session_cached is not None


def test_configure_defaults_are_the_real_upstreams(tmp_path: Path) -> None:
    import fastf1._api
    import fastf1.ergast.interface
    import fastf1.events
    import fastf1.mvapi.api

    configure_fastf1(cache_dir=tmp_path)
    assert fastf1._api.base_url == UPSTREAM_LIVETIMING_URL
    assert fastf1._api.base_url_mirror == UPSTREAM_LIVETIMING_MIRROR_URL
    assert fastf1.events._SCHEDULE_BASE_URL == UPSTREAM_SCHEDULE_URL + "/"
    assert fastf1.ergast.interface.BASE_URL == UPSTREAM_JOLPICA_URL
    assert (fastf1.mvapi.api.PROTO, fastf1.mvapi.api.HOST) == ("https", "api.multiviewer.app")


def test_rate_limiter_skips_loopback_only(tmp_path: Path) -> None:
    import fastf1.req

    limits = fastf1.req._SessionWithRateLimiting._RATE_LIMITS
    original = {id(lim) for lims in limits.values() for lim in lims}
    configure_fastf1(cache_dir=tmp_path, livetiming_url="http://127.0.0.1:1")
    configure_fastf1(cache_dir=tmp_path, livetiming_url="http://localhost:2")
    patterns = list(fastf1.req._SessionWithRateLimiting._RATE_LIMITS)
    assert len(patterns) == 2
    assert all(isinstance(p.pattern, re.Pattern) for p in patterns)  # wrapped once only

    for url in ("http://127.0.0.1:8765/static/x", "http://localhost/a.b", "http://[::1]:80/x.y"):
        assert _limiters_for(url) == [], url
    jolpica = _limiters_for("https://api.jolpi.ca/ergast/f1/2018.json")
    livetiming = _limiters_for("https://livetiming.formula1.com/static/2018/Index.json")
    assert len(jolpica) == 4 and len(livetiming) == 2  # jolpi.ca also matches the general rule
    # FastF1's own limiter objects (with their state), not copies
    assert original == {id(lim) for lim in jolpica}


def test_is_loopback() -> None:
    assert is_loopback("http://127.0.0.1:80/x") and is_loopback("http://127.5.0.1/")
    assert is_loopback("http://[::1]:8080/") and is_loopback("http://localhost/")
    assert not is_loopback("https://api.jolpi.ca/ergast") and not is_loopback("http://10.0.0.1/")


def test_configure_again_with_same_arguments_keeps_the_http_cache(tmp_path: Path) -> None:
    import fastf1

    configure_fastf1(cache_dir=tmp_path, livetiming_url="http://127.0.0.1:9")
    first = fastf1.Cache._requests_session_cached
    configure_fastf1(cache_dir=tmp_path, livetiming_url="http://127.0.0.1:9")
    assert fastf1.Cache._requests_session_cached is first


# ------------------------------------------------------------------ worker errors


@pytest.mark.parametrize(
    ("race", "kind", "error", "mentions"),
    [
        ("Atlantis", "R", NotFound, "Atlantis"),
        (40, "R", NotFound, "round 40"),
        ("Baku", "S", NotFound, "has no Sprint"),
        ("Baku", "X", BadUserInput, "'X'"),
        ("GP", "R", BadUserInput, "'GP'"),
    ],
)
def test_unknown_event_or_session(
    replay: Replay,
    tmp_path: Path,
    race: int | str,
    kind: str,
    error: type[Exception],
    mentions: str,
) -> None:
    with pytest.raises(error, match=mentions):
        load_session_payload(replay_config(replay.url, tmp_path), 2018, race, kind)


def test_bad_input_names_the_field(replay: Replay, tmp_path: Path) -> None:
    with pytest.raises(BadUserInput) as info:
        load_session_payload(replay_config(replay.url, tmp_path), 2018, "Baku", "Q3")
    assert info.value.field == "session"


def test_season_without_schedule_is_not_found(replay: Replay, tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="2031"):
        load_session_payload(replay_config(replay.url, tmp_path), 2031, 1, "R")


def test_upstream_down_is_unavailable(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"  # nothing listens once closed
    with pytest.raises(UpstreamUnavailable):
        load_session_payload(replay_config(url, tmp_path), 2018, "Baku", "R")


def test_dropped_connections_are_unavailable(replay: Replay, tmp_path: Path) -> None:
    replay.fault(prefix="/static/", drop=True)
    with pytest.raises(UpstreamUnavailable, match="Azerbaijan Grand Prix Race") as info:
        load_session_payload(replay_config(replay.url, tmp_path), 2018, "Baku", "R")
    assert any("/static/" in note for note in info.value.__notes__)


def test_silent_upstream_times_out(replay: Replay, tmp_path: Path) -> None:
    replay.fault(delay=3.0)
    config = replay_config(replay.url, tmp_path, request_timeout=0.3)
    started = time.perf_counter()
    with pytest.raises(UpstreamUnavailable, match="2018 schedule"):
        load_session_payload(config, 2018, "Baku", "R")
    # every schedule source timed out (FastF1 falls back from one to the next)
    assert time.perf_counter() - started < 3.0
    assert replay.count() >= 3


def test_upstream_failing_mid_load_is_unavailable_not_partial(
    replay: Replay, tmp_path: Path
) -> None:
    """A 5xx on one page would leave FastF1 with a degraded session: it must not be cached."""
    replay.fault("*/TimingAppData.jsonStream", status=503)
    with pytest.raises(UpstreamUnavailable, match="Azerbaijan Grand Prix Qualifying"):
        load_session_payload(replay_config(replay.url, tmp_path), 2023, "Azerbaijan", "Q")
    assert replay.count("*/TimingAppData.jsonStream") >= 1


def test_everything_is_requested_from_the_configured_upstream(
    replay: Replay, tmp_path: Path
) -> None:
    payload = load_session_payload(replay_config(replay.url, tmp_path), 2024, "Spain", "Q")
    meta = payload_meta(payload)
    assert meta["upstream_requests"] == replay.count() > 0
    assert decode_payload(payload).info.event_name == "Spanish Grand Prix"


# ---------------------------------------------------------------------- the pool


async def test_client_counts_loads_that_fastf1_served_from_its_http_cache(
    replay: Replay, tmp_path: Path
) -> None:
    client = FastF1Client(replay_config(replay.url, tmp_path), max_workers=1)
    try:
        # A session the fixtures hold every page of: FastF1's HTTP cache keeps no 404s (a
        # session without WeatherData asks for it again on every load).
        first = await client.load_session(2021, "Mexico City", "Q", telemetry=False)
        served = replay.count()
        second = await client.load_session(2021, "Mexico City", "Q", telemetry=False)
        assert client.loads == 2
        assert replay.count() == served  # FastF1's HTTP cache answered
        assert payload_meta(first)["upstream_requests"] > 0
        assert payload_meta(second)["upstream_requests"] == 0
        assert decode_payload(first).laps == decode_payload(second).laps
        assert payload_meta(first)["pid"] != os.getpid()
        # The workers were spawned (a fresh interpreter running multiprocessing's spawn
        # entry point), not forked from this process with its state.
        assert client.worker_pids
        for pid in client.worker_pids:
            assert b"multiprocessing.spawn" in Path(f"/proc/{pid}/cmdline").read_bytes()
    finally:
        client.close()


async def test_client_errors_cross_the_process_boundary(replay: Replay, tmp_path: Path) -> None:
    client = FastF1Client(replay_config(replay.url, tmp_path), max_workers=1)
    try:
        with pytest.raises(NotFound, match="Atlantis") as missing:
            await client.load_session(2018, "Atlantis", "R")
        assert missing.value.code == "NOT_FOUND"
        with pytest.raises(BadUserInput) as bad:
            await client.load_session(2018, "Baku", "nope")
        assert bad.value.field == "session"
    finally:
        client.close()


# ------------------------------------------------------------------------- layering


def test_importing_the_package_loads_neither_fastf1_nor_pandas() -> None:
    import subprocess
    import sys

    code = (
        "import sys, pypole_gql.upstream.fastf1, pypole_gql.services.sessions\n"
        "print(sorted(m for m in ('fastf1', 'pandas') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_only_upstream_imports_fastf1_or_pandas() -> None:
    import ast

    package = Path(__file__).resolve().parents[2] / "pypole_gql"
    offenders = []
    for path in package.rglob("*.py"):
        if path.relative_to(package).parts[0] == "upstream":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            offenders += [
                f"{path.relative_to(package)}: {n}"
                for n in names
                if n.split(".")[0] in {"fastf1", "pandas"}
            ]
    assert offenders == []
