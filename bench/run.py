"""``python -m bench``: run the figures of issue #6 and write bench/results/latest.{json,md}.

Each figure is a function of :class:`Bench` returning a :class:`Figure`; a figure that
cannot be measured yet says so (``status="todo"``) instead of printing numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.servers import REPO_ROOT, Server, ServerError, Stack, cpu_seconds
from pypole_gql.cli import DefaultsHelpFormatter

RESULTS_DIR = REPO_ROOT / "bench" / "results"
#: Issue #13's goal for figures 1 and 2: a cached answer at >= 0.8x a plain endpoint's rate.
CACHED_HIT_GOAL = 0.8

#: Figure 1 and 8: a season's schedule with circuits.
SCHEDULE = (
    "query Schedule($year: Int!) { season(year: $year) { year races { round name date "
    "circuit { circuitId name locality country latitude longitude } } } }"
)
#: Figure 3 and 7: the season dashboard of issue #3.
DASHBOARD = """
query Dashboard($year: Int!) {
  season(year: $year) {
    year
    races {
      round name date startsAt
      circuit { circuitId name locality country latitude longitude }
      sessions { name startsAt }
      results {
        position positionText points grid laps status time fastestLapRank fastestLapTime
        driver { driverId code }
        constructor { constructorId name }
      }
      qualifying { position q1 q2 q3 driver { driverId } constructor { constructorId } }
    }
    driverStandings { position points wins driver { driverId code } constructors { name } }
    constructorStandings { position points wins constructor { constructorId name } }
  }
}
"""
#: Figures 4, 6, 7: a cold FastF1 session load.
FASTF1_LAPS = 'query { session(year: 2018, race: "Azerbaijan", type: R) { laps { lapTime } } }'
JSON_HEADERS = ["Content-Type: application/json"]


@dataclass
class Row:
    subject: str
    rps: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    upstream: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Figure:
    number: int
    title: str
    status: str = "ok"  # ok, todo, skipped, error
    rows: list[Row] = field(default_factory=list)
    summary: str = ""
    notes: list[str] = field(default_factory=list)


@dataclass
class Load:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    failures: int
    generator_cpu: float
    server_cpu: float | None
    raw: list[list[dict[str, Any]]] = field(default_factory=list, repr=False)
    cpu_samples: list[float | None] = field(default_factory=list, repr=False)

    def row(self, subject: str, **extra: Any) -> Row:
        return Row(
            subject,
            rps=round(self.rps, 1),
            p50_ms=round(self.p50_ms, 3),
            p99_ms=round(self.p99_ms, 3),
            extra={
                "requests": self.requests,
                "failures": self.failures,
                "generator_cpu": round(self.generator_cpu, 2),
                **({"server_cpu": round(self.server_cpu, 2)} if self.server_cpu else {}),
                **extra,
            },
        )


@dataclass
class RunningLoad:
    processes: list[subprocess.Popen[bytes]]
    measure_from: float  # epoch seconds
    duration: float


def combine(rounds: list[list[dict[str, Any]]], server_cpu: list[float | None]) -> Load:
    """One Load from the outputs of generator processes (per round, per process)."""
    flat = [r for results in rounds for r in results]
    latencies = sorted(v for r in flat for v in r["latencies_us"])
    rps = statistics.fmean(sum(r["requests"] / r["window"] for r in res) for res in rounds)
    cpus = [c for c in server_cpu if c is not None]
    load = Load(
        rps=rps,
        p50_ms=_percentile(latencies, 0.50) / 1000,
        p99_ms=_percentile(latencies, 0.99) / 1000,
        requests=sum(r["requests"] for r in flat),
        failures=sum(r["failures"] for r in flat),
        generator_cpu=statistics.fmean(
            sum(r["cpu_seconds"] / r["window"] for r in res) for res in rounds
        ),
        server_cpu=statistics.fmean(cpus) if cpus else None,
    )
    load.raw = rounds
    load.cpu_samples = server_cpu
    return load


def merge(loads: list[Load]) -> Load:
    return combine(
        [res for load in loads for res in load.raw],
        [c for load in loads for c in load.cpu_samples],
    )


def _percentile(ordered: Sequence[float], q: float) -> float:
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def http(
    url: str,
    body: bytes | None = None,
    *,
    method: str | None = None,
    timeout: float = 300,
    headers: dict[str, str] | None = None,
) -> tuple[int, bytes, float]:
    """One request from this process: status, body and seconds taken."""
    request = urllib.request.Request(  # noqa: S310 - loopback URLs built here
        url,
        data=body,
        method=method or ("POST" if body is not None else "GET"),
        headers={
            **({"Content-Type": "application/json"} if body is not None else {}),
            **(headers or {}),
        },
    )
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            data = response.read()
            return response.status, data, time.perf_counter() - started
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), time.perf_counter() - started


def graphql_body(
    query: str, variables: dict[str, Any] | None = None, name: str | None = None
) -> bytes:
    payload: dict[str, Any] = {"query": query, "variables": variables or {}}
    if name:
        payload["operationName"] = name
    return json.dumps(payload, separators=(",", ":")).encode()


def _judge(figure: Figure, goal: float) -> None:
    ratio = figure.rows[0].extra["ratio"]
    figure.summary += f"; goal >= {goal:.2f}: {'met' if ratio >= goal else 'NOT met'}"


class Bench:
    def __init__(self, args: argparse.Namespace, stack: Stack) -> None:
        self.args = args
        self.stack = stack
        self.duration: float = args.duration
        self.concurrency: int = args.concurrency
        self.generators: int = args.generators

    # -- measuring -----------------------------------------------------------------------

    def load(
        self,
        url: str,
        *,
        method: str = "GET",
        body: bytes = b"",
        headers: Sequence[str] = (),
        connections: int | None = None,
        duration: float | None = None,
        expect_length: int | None = None,
        server: Server | None = None,
        stop_file: Path | None = None,
        expect_status: int = 200,
    ) -> Load:
        """Throughput and latency of ``url`` under load from generator processes.

        ``stop_file``: the window also ends as soon as that file exists (``duration`` is
        then an upper bound), for a figure measured while something else runs.
        """
        running = self.start_load(
            url,
            method=method,
            body=body,
            headers=headers,
            connections=connections,
            duration=duration,
            expect_length=expect_length,
            stop_file=stop_file,
            expect_status=expect_status,
        )
        return self.finish_load(running, server=server)

    def start_load(
        self,
        url: str,
        *,
        method: str = "GET",
        body: bytes = b"",
        headers: Sequence[str] = (),
        connections: int | None = None,
        duration: float | None = None,
        expect_length: int | None = None,
        start_at: float | None = None,
        stop_file: Path | None = None,
        expect_status: int = 200,
    ) -> RunningLoad:
        """Start the generator processes of one load; :meth:`finish_load` collects them.

        Loads started with the same ``start_at`` run side by side (their own connections,
        the same window), e.g. two URLs measured during the same cold load.
        """
        connections = connections or self.concurrency
        duration = duration or self.duration
        generators = max(1, min(self.generators, connections))
        body_file = None
        if body:
            with tempfile.NamedTemporaryFile(dir=self.stack.workdir, delete=False) as handle:
                handle.write(body)
                body_file = handle.name
        warmup = min(1.0, max(0.2, duration / 10))
        if start_at is None:
            start_at = time.time() + 0.5 + 0.2 * generators
        commands = []
        for index in range(generators):
            share = connections // generators + (1 if index < connections % generators else 0)
            command = [
                sys.executable,
                "-m",
                "bench.load",
                url,
                "--method",
                method,
                "--connections",
                str(share),
                "--duration",
                str(duration),
                "--warmup",
                str(warmup),
                "--start-at",
                str(start_at),
            ]
            for header in headers:
                command += ["--header", header]
            if body_file:
                command += ["--body-file", body_file]
            if expect_length is not None:
                command += ["--expect-length", str(expect_length)]
            if stop_file is not None:
                command += ["--stop-file", str(stop_file)]
            if expect_status != 200:
                command += ["--expect-status", str(expect_status)]
            commands.append(command)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p
        )
        processes = [
            subprocess.Popen(c, stdout=subprocess.PIPE, env=env, cwd=REPO_ROOT)  # noqa: S603
            for c in commands
        ]
        return RunningLoad(processes, start_at + warmup, duration)

    def finish_load(self, running: RunningLoad, *, server: Server | None = None) -> Load:
        """Wait for a load's generators; with ``server``, also its CPU use in the window
        (only meaningful when no other load runs at the same time)."""
        cpu_start = None
        if server is not None:
            time.sleep(max(0.0, running.measure_from - time.time()))
            cpu_start = cpu_seconds(server.pid)
            cpu_at = time.perf_counter()
        outputs = [p.communicate(timeout=running.duration + 120)[0] for p in running.processes]
        server_cpu = None
        if server is not None and cpu_start is not None:
            server_cpu = (cpu_seconds(server.pid) - cpu_start) / (time.perf_counter() - cpu_at)
        return combine([[json.loads(out) for out in outputs]], [server_cpu])

    def alternate(self, rounds: int, *runs: Callable[[float], Load]) -> list[Load]:
        """Run each measurement ``rounds`` times in turn (A B A B ...), each for a share of
        the duration, so a change in the machine's load hits both sides alike."""
        parts: list[list[Load]] = [[] for _ in runs]
        for _ in range(rounds):
            for index, run in enumerate(runs):
                parts[index].append(run(self.duration / rounds))
        return [merge(p) for p in parts]

    def upstream_count(self, prefix: str = "/ergast/") -> int:
        assert self.stack.replay is not None
        _, body, _ = http(f"{self.stack.replay.url}/_replay/requests?prefix={prefix}")
        count: int = json.loads(body)["count"]
        return count

    def reset_upstream(self) -> None:
        assert self.stack.replay is not None
        http(f"{self.stack.replay.url}/_replay/requests", method="DELETE")

    def warm(self, url: str, body: bytes | None = None, times: int = 2) -> bytes:
        answer = b""
        for _ in range(times):
            status, answer, _ = http(url, body)
            if status != 200:
                raise ServerError(f"{url} answered {status}: {answer[:300]!r}")
        if b'"errors"' in answer:
            raise ServerError(f"{url} answered errors: {answer[:300]!r}")
        return answer

    # -- figures -------------------------------------------------------------------------

    def _versus_plain(
        self, figure: Figure, app: Server, name: str, url: str, body: bytes | None
    ) -> None:
        answer = self.warm(url, body)
        plain = self.stack.start_plain(f"plain-{figure.number}", {name: answer})
        method = "POST" if body is not None else "GET"
        headers = JSON_HEADERS if body is not None else []
        ours, base = self.alternate(
            2,
            lambda d: self.load(
                url,
                method=method,
                body=body or b"",
                headers=headers,
                duration=d,
                expect_length=len(answer),
                server=app,
            ),
            lambda d: self.load(
                f"{plain.url}/plain/{name}",
                method=method,
                body=body or b"",
                headers=headers,
                duration=d,
                expect_length=len(answer),
                server=plain,
            ),
        )
        self.stack.stop(plain)
        ratio = ours.rps / base.rps if base.rps else 0.0
        figure.rows += [
            ours.row(figure.title.split(" vs ")[0], bytes=len(answer)),
            base.row("plain Starlette, same bytes", bytes=len(answer)),
        ]
        figure.summary = f"throughput ratio {ratio:.2f}"
        figure.rows[0].extra["ratio"] = round(ratio, 3)

    def figure_1(self) -> Figure:
        figure = Figure(1, "cached GraphQL query (season schedule + circuits) vs plain")
        app = self.shared_app()
        body = graphql_body(SCHEDULE, {"year": 2023})
        self._versus_plain(figure, app, "schedule", f"{app.url}/graphql", body)
        _judge(figure, CACHED_HIT_GOAL)
        return figure

    def figure_2(self) -> Figure:
        figure = Figure(2, "cached REST shim route (/api/v1/jolpica/schedule/2023) vs plain")
        app = self.shared_app()
        self._versus_plain(figure, app, "rest", f"{app.url}/api/v1/jolpica/schedule/2023", None)
        _judge(figure, CACHED_HIT_GOAL)
        return figure

    def figure_9(self) -> Figure:
        figure = Figure(9, "304 revalidation (GET /graphql, If-None-Match) vs plain")
        app = self.shared_app()
        query = urllib.parse.urlencode(
            {"query": SCHEDULE, "variables": json.dumps({"year": 2023}, separators=(",", ":"))}
        )
        url = f"{app.url}/graphql?{query}"
        answer = self.warm(url)
        with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 - loopback
            etag = response.headers["ETag"]
        status, _, _ = http(url, headers={"If-None-Match": etag})
        if etag is None or status != 304:
            raise ServerError(f"no 304 for {url} (ETag {etag!r}, status {status})")
        plain = self.stack.start_plain("plain-9", {"schedule": answer})
        headers = [f"If-None-Match: {etag}"]
        ours, base = self.alternate(
            2,
            lambda d: self.load(
                url, headers=headers, duration=d, expect_length=0, server=app, expect_status=304
            ),
            lambda d: self.load(
                f"{plain.url}/revalidate/schedule",
                headers=headers,
                duration=d,
                expect_length=0,
                server=plain,
                expect_status=304,
            ),
        )
        self.stack.stop(plain)
        ratio = ours.rps / base.rps if base.rps else 0.0
        figure.rows += [
            ours.row("304 from the response cache", bytes=0),
            base.row("plain Starlette 304, same ETag", bytes=0),
        ]
        figure.rows[0].extra["ratio"] = round(ratio, 3)
        figure.summary = (
            f"throughput ratio {ratio:.2f}; goal >= 0.90: {'met' if ratio >= 0.9 else 'NOT met'}"
        )
        return figure

    def figure_3(self) -> Figure:
        figure = Figure(3, "season dashboard (2023): cold and warm")
        app = self.stack.start_app("dashboard")
        url = f"{app.url}/graphql"
        body = graphql_body(DASHBOARD, {"year": 2023})
        self.reset_upstream()
        status, answer, seconds = http(url, body)
        if status != 200 or b'"errors"' in answer:
            raise ServerError(f"dashboard answered {status}: {answer[:300]!r}")
        cold_upstream = self.upstream_count()
        figure.rows.append(
            Row("cold (empty caches)", p50_ms=round(seconds * 1000, 1), upstream=cold_upstream)
        )
        self.reset_upstream()
        repeats = 20
        warm = sorted(http(url, body)[2] for _ in range(repeats))
        figure.rows.append(
            Row(
                "warm, response cache hit",
                p50_ms=round(statistics.median(warm) * 1000, 3),
                p99_ms=round(warm[-1] * 1000, 3),
                upstream=self.upstream_count(),
                extra={"samples": repeats},
            )
        )
        self.reset_upstream()
        # A new operation name each time: a new response-cache key over the same (warm)
        # data, so the query executes and only the data cache answers.
        executed = sorted(
            http(url, graphql_body(DASHBOARD.replace("Dashboard", f"D{i}"), {"year": 2023}))[2]
            for i in range(10)
        )
        figure.rows.append(
            Row(
                "warm, executed (data cache only)",
                p50_ms=round(statistics.median(executed) * 1000, 3),
                p99_ms=round(executed[-1] * 1000, 3),
                upstream=self.upstream_count(),
                extra={"samples": len(executed), "bytes": len(answer)},
            )
        )
        self.stack.stop(app)
        figure.summary = f"cold {cold_upstream} upstream requests (budget 15), warm 0"
        return figure

    def figure_4(self) -> Figure:
        from bench.fastf1_figures import figure_4

        return figure_4(self)

    def figure_5(self) -> Figure:
        from bench.fastf1_figures import figure_5

        return figure_5(self)

    def figure_6(self) -> Figure:
        from bench.fastf1_figures import figure_6

        return figure_6(self)

    def figure_10(self) -> Figure:
        from bench.fastf1_figures import figure_10

        return figure_10(self)

    def figure_7(self) -> Figure:
        n = self.args.burst
        figure = Figure(
            7, f"{n} concurrent cold identical requests (dashboard, FastF1 session): upstream"
        )
        body = graphql_body(DASHBOARD, {"year": 2022})
        app = self.stack.start_app("cold-one")
        self.reset_upstream()
        http(f"{app.url}/graphql", body)
        single = self.upstream_count()
        self.stack.stop(app)
        figure.rows.append(
            Row("1 cold dashboard query (2022)", upstream=single, extra={"counted": "/ergast/"})
        )

        app = self.stack.start_app("cold-many")
        self.reset_upstream()
        statuses = asyncio.run(_burst(f"{app.url}/graphql", body, n))
        many = self.upstream_count()
        self.stack.stop(app)
        failed = sum(1 for s in statuses if s != 200)
        figure.rows.append(
            Row(f"{n} concurrent cold dashboard queries", upstream=many, extra={"failed": failed})
        )
        figure.summary = f"Jolpica: {many} upstream requests for {n} vs {single} for one"
        from bench.fastf1_figures import figure_7_fastf1

        figure.summary += "; " + figure_7_fastf1(self, figure, n)
        return figure

    def figure_8(self) -> Figure:
        figure = Figure(8, "cached GraphQL query, 1 vs 2 uvicorn workers sharing Redis")
        redis_url = self.args.redis_url
        if not _redis_reachable(redis_url):
            figure.status = "skipped"
            figure.summary = f"no Redis at {redis_url}"
            return figure
        namespace = f"pypole-bench-{uuid.uuid4().hex[:8]}"
        body = graphql_body(SCHEDULE, {"year": 2023})
        results: dict[int, Load] = {}
        try:
            for workers in (1, 2):
                app = self.stack.start_app(
                    f"redis-{workers}w", workers=workers, redis_url=redis_url, namespace=namespace
                )
                answer = self.warm(f"{app.url}/graphql", body, times=4)
                results[workers] = self.load(
                    f"{app.url}/graphql",
                    method="POST",
                    body=body,
                    headers=JSON_HEADERS,
                    expect_length=len(answer),
                    server=app,
                )
                figure.rows.append(results[workers].row(f"{workers} worker(s)"))
                self.stack.stop(app)
        finally:
            _redis_cleanup(redis_url, namespace)
        scale = results[2].rps / results[1].rps if results[1].rps else 0.0
        figure.summary = f"2 workers / 1 worker = {scale:.2f}x on {os.cpu_count()} cores"
        return figure

    # -- shared app ----------------------------------------------------------------------

    _shared: Server | None = None
    _fastf1: Server | None = None

    def fastf1_app(self) -> Server | None:
        """The app figure 4 left with 2018 Baku R loaded, if it still runs."""
        if self._fastf1 is not None and self._fastf1.process.poll() is None:
            return self._fastf1
        return None

    def keep_fastf1_app(self, app: Server) -> None:
        self._fastf1 = app

    def stop_fastf1_app(self) -> None:
        if self._fastf1 is not None:
            self.stack.stop(self._fastf1)
            self._fastf1 = None

    def shared_app(self) -> Server:
        if self._shared is None or self._shared.process.poll() is not None:
            self._shared = self.stack.start_app("main")
        return self._shared


async def _burst(url: str, body: bytes, n: int) -> list[int]:
    import aiohttp

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=300)) as session:

        async def one() -> int:
            async with session.post(
                url, data=body, headers={"Content-Type": "application/json"}
            ) as response:
                await response.read()
                return response.status

        return list(await asyncio.gather(*(one() for _ in range(n))))


def _redis_reachable(url: str) -> bool:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=1)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


def _redis_cleanup(url: str, namespace: str) -> None:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=1)
    try:
        for pattern in (f"{namespace}:*", f"{namespace}-lock:*"):
            keys = list(client.scan_iter(match=pattern, count=500))
            if keys:
                client.delete(*keys)
    except redis.RedisError:
        pass
    finally:
        client.close()


# -- reporting ---------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions: dict[str, str | None] = {}
    for package in ("starlette", "uvicorn", "strawberry-graphql", "orjson", "redis", "fastf1"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "packages": versions,
    }


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def markdown(report: dict[str, Any]) -> str:
    lines = [
        "| # | figure | measured | req/s | p50 ms | p99 ms | upstream req | notes |",
        "|---|---|---|---:|---:|---:|---:|---|",
    ]
    for figure in report["figures"]:
        rows = figure["rows"] or [{"subject": "", "extra": {}}]
        for index, row in enumerate(rows):
            first = index == 0
            note = ""
            if first:
                note = (
                    figure["summary"]
                    if figure["status"] == "ok"
                    else (f"**{figure['status'].upper()}**: {figure['summary']}")
                )
            lines.append(
                "| "
                + " | ".join(
                    [
                        str(figure["number"]) if first else "",
                        figure["title"] if first else "",
                        row.get("subject", ""),
                        _cell(row.get("rps")),
                        _cell(row.get("p50_ms")),
                        _cell(row.get("p99_ms")),
                        _cell(row.get("upstream")),
                        note,
                    ]
                )
                + " |"
            )
    m = report["machine"]
    lines += [
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, Python {m['python']}; "
        f"load average at start {m['load_average']}. "
        f"Options: duration {report['options']['duration']} s, "
        f"concurrency {report['options']['concurrency']}, "
        f"burst {report['options'].get('burst')}, "
        f"generator processes {report['options']['generators']}.",
    ]
    for figure in report["figures"]:
        for note in figure["notes"]:
            lines.append(f"- figure {figure['number']}: {note}")
    return "\n".join(lines) + "\n"


FIGURES: dict[int, Callable[[Bench], Figure]] = {
    1: Bench.figure_1,
    2: Bench.figure_2,
    3: Bench.figure_3,
    4: Bench.figure_4,
    5: Bench.figure_5,
    6: Bench.figure_6,
    7: Bench.figure_7,
    8: Bench.figure_8,
    9: Bench.figure_9,
    10: Bench.figure_10,
}


class _HelpFormatter(DefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Defaults shown after each option; the figure list kept as written."""


def _fixtures_dir(value: str | None) -> Path:
    if value:
        return Path(value).resolve()
    env = os.environ.get("PYPOLE_FIXTURES_DIR")
    return Path(env).resolve() if env else (REPO_ROOT.parent / "shared" / "fixtures").resolve()


#: What each figure measures, for ``--help`` (the table in README.md, "Performance").
FIGURE_HELP: dict[int, str] = {
    1: "cached GraphQL query vs a plain Starlette app",
    2: "cached REST shim route vs a plain Starlette app",
    3: "season dashboard (2023), cold and warm",
    4: "FastF1 session (2018 Baku R, telemetry): cold, warm, memory",
    5: "telemetry of one full lap: GraphQL vs REST vs orjson alone",
    6: "/health/live and a cached query during a cold FastF1 load",
    7: "20 concurrent cold identical requests: upstream requests made",
    8: "cached GraphQL query, 1 vs 2 uvicorn workers sharing Redis",
    9: "304 revalidation of a cached GraphQL GET vs a plain Starlette 304",
    10: "session archive hit (new process, empty cache) vs a FastF1 cold load",
}
DESCRIPTION = (
    "Measure the server as deployed: it starts the app (uvicorn, SQLite, the replay upstream "
    "from the fixtures) in processes of its own, loads it from separate generator processes, "
    "prints a Markdown table and writes latest.json and latest.md."
)


def build_parser(prog: str = "python -m bench") -> argparse.ArgumentParser:
    epilog = "figures:\n" + "\n".join(f"  {n}  {text}" for n, text in FIGURE_HELP.items())
    parser = argparse.ArgumentParser(
        prog=prog,
        description=DESCRIPTION,
        epilog=epilog,
        formatter_class=_HelpFormatter,
    )
    parser.add_argument(
        "--duration", type=float, default=10.0, metavar="S", help="seconds of load per figure"
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=32,
        metavar="N",
        help="open connections of the load figures",
    )
    parser.add_argument(
        "--burst", type=int, default=20, metavar="N", help="concurrent cold requests of figure 7"
    )
    parser.add_argument(
        "--generators",
        type=int,
        default=1,
        metavar="G",
        help="load generator processes sharing the connections",
    )
    parser.add_argument(
        "--only", metavar="1,2", help="comma-separated figure numbers (default: every figure)"
    )
    parser.add_argument(
        "--fixtures",
        metavar="DIR",
        help="replay fixtures (default: $PYPOLE_FIXTURES_DIR, else ../shared/fixtures)",
    )
    parser.add_argument(
        "--redis-url",
        metavar="URL",
        default=os.environ.get("PYPOLE_BENCH_REDIS_URL", "redis://127.0.0.1:6379/15"),
        help="Redis for figure 8, also $PYPOLE_BENCH_REDIS_URL (keys under a random namespace, "
        "removed after)",
    )
    parser.add_argument(
        "--log-level",
        default="INFO",
        metavar="LEVEL",
        help="the servers' PYPOLE_LOG_LEVEL (INFO: one access-log line per request, as deployed)",
    )
    parser.add_argument(
        "--output",
        default=str(RESULTS_DIR),
        metavar="DIR",
        help="folder for latest.json and latest.md",
    )
    return parser


def main(argv: Sequence[str] | None = None, prog: str = "python -m bench") -> int:
    args = build_parser(prog).parse_args(argv)
    wanted = sorted(FIGURES) if not args.only else [int(x) for x in args.only.split(",") if x]
    unknown = [n for n in wanted if n not in FIGURES]
    if unknown:
        print(f"bench: no figure {unknown}", file=sys.stderr)
        return 2
    fixtures = _fixtures_dir(args.fixtures)
    report: dict[str, Any] = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "python -m bench " + " ".join(argv if argv is not None else sys.argv[1:]),
        "machine": machine(),
        "options": {
            "duration": args.duration,
            "concurrency": args.concurrency,
            "burst": args.burst,
            "generators": args.generators,
            "log_level": args.log_level,
            "only": wanted,
        },
        "figures": [],
    }
    with Stack(fixtures, log_level=args.log_level) as stack:
        bench = Bench(args, stack)
        for number in wanted:
            print(f"bench: figure {number} ...", file=sys.stderr, flush=True)
            try:
                figure = FIGURES[number](bench)
            except Exception as exc:  # one broken figure must not lose the others
                figure = Figure(number, f"figure {number}", status="error", summary=str(exc)[:500])
            report["figures"].append(asdict(figure))
    table = markdown(report)
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    (out / "latest.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / "latest.md").write_text(table)
    print(table)
    return 0
