"""``python -m bench.inprocess``: CPU microseconds per cached answer, the ASGI app called
directly (no socket, no HTTP parsing), against plain Starlette answering the same bytes.

Builds ``create_app`` on embedded defaults (SQLite in a temporary folder, no Redis, JSON
access log at INFO written to ``/dev/null``) over the replay fixtures
(``PYPOLE_FIXTURES_DIR``, default ``../shared/fixtures``), warms the response cache with
figure 1's, 2's and 9's requests (``bench/run.py``), then calls the app ``--requests``
times for each and :mod:`bench.plain`'s app as many times with the same bytes. Prints the
process CPU time per request (best of ``--rounds``) and the ratio ``plain / ours`` (the
share of plain's throughput a server bound by this code alone would reach). Figures only,
no asserts: run it before and after a change of the hot path.

``--front off`` builds the app without its cache-hit front (the whole stack answers),
``--profile FIGURE`` prints cProfile's top functions for one figure's requests.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import hashlib
import json
import os
import pstats
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp, Message

from bench.run import SCHEDULE, graphql_body
from bench.servers import REPO_ROOT

DEFAULT_FIXTURES = REPO_ROOT.parent / "shared" / "fixtures"


@dataclass(frozen=True)
class Call:
    """One request, as the ASGI scope and body a server would hand the app."""

    method: str
    path: str
    query: bytes = b""
    body: bytes = b""
    headers: tuple[tuple[bytes, bytes], ...] = ()

    def scope(self) -> dict[str, Any]:
        headers = [(b"host", b"127.0.0.1:8000"), *self.headers]
        if self.body:
            headers += [
                (b"content-type", b"application/json"),
                (b"content-length", b"%d" % len(self.body)),
            ]
        return {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "server": ("127.0.0.1", 8000),
            "client": ("127.0.0.1", 50000),
            "scheme": "http",
            "method": self.method,
            "root_path": "",
            "path": self.path,
            "raw_path": self.path.encode(),
            "query_string": self.query,
            "headers": headers,
            "state": {},
        }


async def call(app: ASGIApp, request: Call) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
    """One request through ``app``: status, body and headers."""
    sent: list[Message] = []
    body_message: Message = {"type": "http.request", "body": request.body, "more_body": False}

    async def receive() -> Message:
        return body_message

    async def send(message: Message) -> None:
        sent.append(message)

    await app(request.scope(), receive, send)
    status = sent[0]["status"]
    body = b"".join(m.get("body", b"") for m in sent[1:])
    return status, body, list(sent[0].get("headers", []))


async def cpu_per_request(app: ASGIApp, request: Call, n: int, rounds: int) -> float:
    """Best of ``rounds``: process CPU microseconds per call of ``app``."""

    async def receive() -> Message:
        return {"type": "http.request", "body": request.body, "more_body": False}

    async def send(message: Message) -> None:
        return None

    template = request.scope()
    headers = template["headers"]
    best = float("inf")
    for _ in range(rounds):
        gc.collect()
        gc.freeze()  # the app's own objects: not traversed again by every collection
        started = time.process_time()
        for _ in range(n):
            # What a server does per request: a new scope (and its state).
            await app({**template, "headers": list(headers), "state": {}}, receive, send)
        best = min(best, (time.process_time() - started) / n * 1e6)
        await asyncio.sleep(0)  # let the access log's batch go out between rounds
    return best


def _figure_calls() -> dict[str, tuple[Call, Call]]:
    """Per figure: our request and plain Starlette's (bench/plain.py's routes)."""
    post = graphql_body(SCHEDULE, {"year": 2023})
    get_query = urllib.parse.urlencode(
        {"query": SCHEDULE, "variables": json.dumps({"year": 2023}, separators=(",", ":"))}
    ).encode()
    return {
        "1 GraphQL POST hit": (
            Call("POST", "/graphql", body=post),
            Call("POST", "/plain/schedule", body=post),
        ),
        "1 GraphQL GET hit": (
            Call("GET", "/graphql", query=get_query),
            Call("GET", "/plain/schedule"),
        ),
        "2 REST hit": (Call("GET", "/api/v1/jolpica/schedule/2023"), Call("GET", "/plain/rest")),
        "9 GraphQL GET 304": (
            Call("GET", "/graphql", query=get_query),
            Call("GET", "/revalidate/schedule"),
        ),
    }


async def _measure(args: argparse.Namespace, workdir: Path) -> None:
    from pypole_gql.app import create_app
    from pypole_gql.config import Settings
    from pypole_gql.db.migrate import upgrade_async
    from pypole_gql.replay import start_in_thread

    replay = start_in_thread(Path(args.fixtures))
    settings = Settings(
        _env_file=None,
        env="prod",
        jwt_secret=hashlib.sha256(b"bench-inprocess").hexdigest(),
        database_url=f"sqlite+aiosqlite:///{workdir / 'pypole.db'}",
        fastf1_cache_dir=workdir / "fastf1-cache",
        redis_url="",
        jolpica_url=f"{replay.url}/ergast/f1",
        livetiming_url=replay.url,
        schedule_url=f"{replay.url}/f1schedule",
        jolpica_rate="100000/second",
        rate_limit="10000000/second",
        auth_rate_limit="10000000/second",
        log_level="INFO",
    )
    await upgrade_async(settings.database_url)
    app = create_app(settings, configure_logs=False, front=args.front == "on")
    calls = _figure_calls()
    try:
        async with app.router.lifespan_context(app):
            answers: dict[str, bytes] = {}
            for name, (ours, _) in calls.items():
                for _ in range(2):  # the second one is a hit
                    status, body, headers = await call(app, ours)
                if status != 200:
                    raise SystemExit(f"{name}: {status} {body[:300]!r}")
                answers[name] = body
                if name.startswith("9"):
                    etag = dict(headers)[b"etag"]
                    calls[name] = (
                        Call(
                            ours.method, ours.path, ours.query, headers=((b"if-none-match", etag),)
                        ),
                        Call("GET", "/revalidate/schedule", headers=((b"if-none-match", etag),)),
                    )
                    status, _, _ = await call(app, calls[name][0])
                    if status != 304:
                        raise SystemExit(f"{name}: {status}, not 304")
            plain = _plain_app(workdir, answers)
            print(f"{'request':<22} {'ours us':>9} {'plain us':>9} {'ratio':>6}")
            for name, (ours, base) in calls.items():
                if args.profile and name.startswith(args.profile):
                    await _profile(app, ours, args.requests)
                mine = theirs = float("inf")
                for _ in range(args.rounds):  # alternating, so a busy moment hits both
                    mine = min(mine, await cpu_per_request(app, ours, args.requests, 1))
                    theirs = min(theirs, await cpu_per_request(plain, base, args.requests, 1))
                print(f"{name:<22} {mine:9.2f} {theirs:9.2f} {theirs / mine:6.2f}")
            front = getattr(app.state, "front", None)
            print(f"answered by the cache-hit front: {getattr(front, 'answered', 0)} requests")
    finally:
        replay.stop()


def _plain_app(workdir: Path, answers: dict[str, bytes]) -> ASGIApp:
    folder = workdir / "plain"
    folder.mkdir()
    (folder / "schedule.json").write_bytes(answers["1 GraphQL POST hit"])
    (folder / "rest.json").write_bytes(answers["2 REST hit"])
    os.environ["BENCH_PLAIN_DIR"] = str(folder)
    import bench.plain

    plain: ASGIApp = bench.plain.app
    return plain


async def _profile(app: ASGIApp, request: Call, n: int) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    await cpu_per_request(app, request, n, 1)
    profiler.disable()
    pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(25)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.inprocess", description=__doc__)
    parser.add_argument("--requests", type=int, default=10000, help="calls per round")
    parser.add_argument("--rounds", type=int, default=5, help="rounds (the best is kept)")
    parser.add_argument("--front", choices=("on", "off"), default="on")
    parser.add_argument("--profile", metavar="FIGURE", help="e.g. 1, 2 or 9")
    parser.add_argument(
        "--fixtures", default=os.environ.get("PYPOLE_FIXTURES_DIR", str(DEFAULT_FIXTURES))
    )
    args = parser.parse_args(argv)
    from pypole_gql.logging import configure_logging

    # The access log as in production (JSON at INFO), written where it costs only the write.
    devnull = open(os.devnull, "w")  # noqa: SIM115 - for the whole run
    real_stderr, sys.stderr = sys.stderr, devnull
    configure_logging(json=True, level="INFO")
    sys.stderr = real_stderr
    with tempfile.TemporaryDirectory(prefix="pypole-inprocess-") as workdir:
        asyncio.run(_measure(args, Path(workdir)))


if __name__ == "__main__":
    main()
