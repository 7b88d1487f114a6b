"""Servers of a benchmark run, each a subprocess on a free loopback port.

- the replay upstream (``pypole replay``), shared by every app of the run; it counts the
  requests it serves, which is how the figures count upstream requests;
- the app (``pypole serve``, production settings, on the replay), one per figure that
  needs a cold start;
- the plain Starlette baseline (:mod:`bench.plain`) on uvicorn with the app's options.

Children get a clean environment: no ``PYPOLE_*`` variable of the caller leaks in, and
they run in the run's temporary folder so no ``.env`` is read.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

REPO_ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found += [int(c) for c in task.read_text().split()]
        except OSError:
            continue
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` and its live descendants (Linux; 0 elsewhere)."""
    total = 0.0
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    stack = [pid]
    while stack:
        current = stack.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks
        stack += _children(current)
    return total


def process_tree(pid: int) -> list[int]:
    """``pid`` and its live descendants (Linux)."""
    found: list[int] = []
    stack = [pid]
    while stack:
        current = stack.pop()
        if not Path(f"/proc/{current}").exists():
            continue
        found.append(current)
        stack += _children(current)
    return found


def _status_kib(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _pss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def memory_mb(pid: int) -> dict[str, float | int]:
    """Memory of ``pid`` and its descendants (the server and its FastF1 workers), in MB.

    ``rss`` is the plain sum of each process's resident set (shared pages count once per
    process, so it overstates); ``pss`` shares them out (the honest total, when the kernel
    has ``smaps_rollup``); ``processes`` counts the tree.
    """
    pids = process_tree(pid)
    rss = sum(_status_kib(p, "VmRSS") for p in pids)
    pss = sum(_pss_kib(p) for p in pids)
    return {"rss": round(rss / 1024, 1), "pss": round(pss / 1024, 1), "processes": len(pids)}


@dataclass
class Server:
    name: str
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


class ServerError(RuntimeError):
    pass


class Stack:
    """The run's servers and temporary folder; a context manager that stops them all."""

    def __init__(self, fixtures: Path, *, log_level: str = "INFO") -> None:
        self.fixtures = fixtures
        self.log_level = log_level
        self._tmp = tempfile.TemporaryDirectory(prefix="pypole-bench-")
        self.workdir = Path(self._tmp.name)
        self.servers: list[Server] = []
        self.replay: Server | None = None

    def __enter__(self) -> Stack:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        for server in reversed(self.servers):
            server.stop()
        self.servers.clear()
        self._tmp.cleanup()

    def stop(self, server: Server) -> None:
        server.stop()
        if server in self.servers:
            self.servers.remove(server)

    # -- starting ------------------------------------------------------------------------

    def _env(self, extra: Mapping[str, str]) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYPOLE_", "BENCH_"))}
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p
        )
        env.update(extra)
        return env

    def _spawn(
        self,
        name: str,
        args: list[str],
        env: Mapping[str, str],
        url: str,
        ready_path: str,
        timeout: float = 60.0,
    ) -> Server:
        log_path = self.workdir / f"{name}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
                [sys.executable, *args],
                cwd=self.workdir,
                env=self._env(env),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        server = Server(name, url, process, log_path)
        self.servers.append(server)
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise ServerError(f"{name} exited with {process.returncode}:\n{server.log_tail()}")
            try:
                with urllib.request.urlopen(url + ready_path, timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        return server
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                self.stop(server)
                raise ServerError(f"{name} not ready after {timeout} s:\n{server.log_tail()}")
            time.sleep(0.1)

    def start_replay(self) -> Server:
        port = free_port()
        self.replay = self._spawn(
            "replay",
            ["-m", "pypole_gql", "replay", "--fixtures", str(self.fixtures), "--port", str(port)],
            {},
            f"http://127.0.0.1:{port}",
            "/_replay/info",
            timeout=120,
        )
        return self.replay

    def start_app(
        self,
        name: str,
        *,
        workers: int = 1,
        redis_url: str = "",
        namespace: str = "pypole-bench",
        env: Mapping[str, str] | None = None,
    ) -> Server:
        """``pypole serve`` in production mode on the replay, every limit out of the way."""
        if self.replay is None:
            self.start_replay()
        assert self.replay is not None
        port = free_port()
        data = self.workdir / name
        data.mkdir(exist_ok=True)
        values = {
            "PYPOLE_ENV": "prod",
            "PYPOLE_JWT_SECRET": secrets.token_urlsafe(48),
            "PYPOLE_DATABASE_URL": f"sqlite+aiosqlite:///{data / 'pypole.db'}",
            "PYPOLE_FASTF1_CACHE_DIR": str(data / "fastf1-cache"),
            "PYPOLE_REDIS_URL": redis_url,
            "PYPOLE_REDIS_NAMESPACE": namespace,
            "PYPOLE_JOLPICA_URL": f"{self.replay.url}/ergast/f1",
            "PYPOLE_LIVETIMING_URL": self.replay.url,
            "PYPOLE_SCHEDULE_URL": f"{self.replay.url}/f1schedule",
            # The figures measure the server, not Jolpica's budget or a client's quota:
            # a 1 s window keeps the limiter's per-request cost what it is in production.
            "PYPOLE_JOLPICA_RATE": "100000/second",
            "PYPOLE_RATE_LIMIT": "10000000/second",
            "PYPOLE_AUTH_RATE_LIMIT": "10000000/second",
            "PYPOLE_LOG_LEVEL": self.log_level,
        }
        values.update(env or {})
        return self._spawn(
            name,
            [
                "-m",
                "pypole_gql",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(workers),
            ],
            values,
            f"http://127.0.0.1:{port}",
            "/health/live",
        )

    def start_plain(self, name: str, bodies: Mapping[str, bytes]) -> Server:
        folder = self.workdir / f"{name}-bodies"
        folder.mkdir(exist_ok=True)
        for key, body in bodies.items():
            (folder / f"{key}.json").write_bytes(body)
        port = free_port()
        return self._spawn(
            name,
            [
                "-m",
                "uvicorn",
                "bench.plain:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-access-log",
                "--no-server-header",
                "--log-level",
                "warning",
            ],
            {"BENCH_PLAIN_DIR": str(folder)},
            f"http://127.0.0.1:{port}",
            "/health/live",
        )
