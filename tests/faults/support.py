"""What the fault tests break and how they watch it: processes, a proxy, a real server.

- :class:`RedisProcess`: a ``redis-server`` of the test's own on a free loopback port, which
  the test may SIGKILL and start again on the same port.
- :class:`TcpProxy`: an asyncio TCP forwarder in front of a real server (the shared
  PostgreSQL). Stopping it closes its port and cuts every connection through it, which is
  what the app sees when its database goes away; starting it again reopens the same port.
  It can also freeze (a server that hangs) or fail every new session at the PostgreSQL
  handshake (a server starting up, shutting down or out of connection slots).
- :class:`ServerThread`: the app under uvicorn on a loopback port, in a thread of its own.
- :func:`fault_app` / :func:`client`: the app in process, with clients of chosen IPs.
- :func:`bounded`: the hang guard every request of these tests goes through.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx
import redis
import uvicorn
from starlette.applications import Starlette

from pypole_gql.app import create_app
from pypole_gql.config import Settings
from tests.plugins.app import running_app, test_settings

T = TypeVar("T")

#: The data questions the fault tests ask, through both faces of the app.
SEASON_QUERY = "{ season(year: %d) { year races { round name circuit { circuitId } } } }"
RACE_QUERY = (
    "{ race(year: %d, round: %d) { name results { position driver { driverId } } "
    "qualifying { position driver { driverId } } } }"
)
SCHEDULE = "/api/v1/jolpica/schedule/%d"
DRIVER_STANDINGS = "/api/v1/jolpica/standings/drivers?season=%d"
CONSTRUCTOR_STANDINGS = "/api/v1/jolpica/standings/constructors?season=%d"


async def bounded(awaitable: Awaitable[T], seconds: float) -> T:
    """``awaitable``, or a test failure once it has run ``seconds`` (a hang, not slowness)."""
    try:
        return await asyncio.wait_for(awaitable, timeout=seconds)
    except TimeoutError:
        raise AssertionError(f"hung: no answer within {seconds} s") from None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# -- the app -----------------------------------------------------------------------------------


def app_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """The tests' settings (``tests.plugins.app.test_settings``) with ``overrides``."""
    return test_settings(tmp_path, **overrides)


@asynccontextmanager
async def fault_app(
    tmp_path: Path, *, clock: Callable[[], float] | None = None, **overrides: Any
) -> AsyncIterator[Starlette]:
    """The real app with its lifespan entered (see ``tests.plugins.app.test_settings``), on
    ``clock`` when one is given (a ``FakeClock`` moves TTLs without sleeping)."""
    async with running_app(app_settings(tmp_path, **overrides), clock=clock) as app:
        yield app


def client(app: Starlette, ip: str = "127.0.0.1") -> httpx.AsyncClient:
    """An in-process client whose requests come from ``ip`` (each IP has its own rate budget)."""
    transport = httpx.ASGITransport(app=app, client=(ip, 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def gql(http: httpx.AsyncClient, query: str, **variables: Any) -> httpx.Response:
    return await http.post("/graphql", json={"query": query, "variables": variables})


def codes(body: dict[str, Any]) -> list[str]:
    return [error.get("extensions", {}).get("code") for error in body.get("errors") or []]


class ServerThread:
    """``settings``' app under uvicorn on a free loopback port, in a background thread.

    Use as a context manager; ``url`` is the server's base URL once entered. Migrations are
    the caller's (``upgrade_async``), as ``pypole migrate`` is in production.
    """

    def __init__(self, settings: Settings, *, start_timeout: float = 20.0) -> None:
        app = create_app(settings, configure_logs=False)
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=0,
            lifespan="on",
            log_config=None,
            access_log=False,
            backlog=1024,
        )
        self.server = uvicorn.Server(config)
        self.start_timeout = start_timeout
        self.url = ""
        self._thread = threading.Thread(target=self.server.run, name="fault-uvicorn", daemon=True)

    def __enter__(self) -> ServerThread:
        self._thread.start()
        deadline = time.monotonic() + self.start_timeout
        while not self.server.started:
            if not self._thread.is_alive():
                raise RuntimeError("uvicorn exited during startup")
            if time.monotonic() > deadline:
                self.server.should_exit = True
                raise RuntimeError(f"uvicorn did not start within {self.start_timeout} s")
            time.sleep(0.02)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self._thread.join(timeout=15)


# -- Redis -------------------------------------------------------------------------------------


class RedisProcess:
    """A throwaway ``redis-server`` (no persistence) that the test owns and may kill."""

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        executable = shutil.which("redis-server")
        if executable is None:
            raise RuntimeError("redis-server is not installed")
        self.executable = executable
        self.workdir = workdir
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 10.0) -> None:
        """Start on ``self.port`` (the same one every time) and wait until it answers PING."""
        assert self._proc is None or self._proc.poll() is not None, "already running"
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._proc = subprocess.Popen(
            [
                self.executable,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while not self.answers():
            if self._proc.poll() is not None:
                raise RuntimeError(
                    f"redis-server on port {self.port} exited: {self._proc.returncode}"
                )
            if time.monotonic() > deadline:
                raise RuntimeError(f"redis-server on port {self.port} did not answer")
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: no shutdown, no goodbye to the clients; waits until it is gone."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGKILL)
            self._proc.wait(timeout=10)

    def pause(self) -> None:
        """SIGSTOP: the port still accepts connections, but nothing is ever answered."""
        assert self._proc is not None
        self._proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self._proc is not None
        self._proc.send_signal(signal.SIGCONT)

    def answers(self) -> bool:
        conn = redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=0.5)
        try:
            return bool(conn.ping())
        except redis.RedisError:
            return False
        finally:
            conn.close()

    def keys(self, pattern: str = "*") -> list[str]:
        conn = redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=1)
        try:
            return sorted(key.decode() for key in conn.scan_iter(match=pattern, count=500))
        finally:
            conn.close()


_SSL_REQUEST = (80877103).to_bytes(4, "big")


def _error_response(sqlstate: str, message: str) -> bytes:
    """A PostgreSQL ErrorResponse message of severity FATAL."""
    fields = b"".join(
        kind + value.encode() + b"\0"
        for kind, value in ((b"S", "FATAL"), (b"V", "FATAL"), (b"C", sqlstate), (b"M", message))
    )
    body = fields + b"\0"
    return b"E" + (len(body) + 4).to_bytes(4, "big") + body


# -- a TCP proxy -------------------------------------------------------------------------------


class TcpProxy:
    """Forwards ``127.0.0.1:port`` to ``target``; :meth:`stop` is an outage, :meth:`start` the end.

    Runs on the test's event loop. The port is chosen at the first start and kept, so the
    app's configured URL stays right across restarts.
    """

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._frozen = False
        self._failing = False
        self._fatal: tuple[str, str] | None = None

    @property
    def running(self) -> bool:
        return self._server is not None

    async def start(self) -> None:
        assert self._server is None, "already running"
        self._frozen = self._failing = False
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Close the port (new connections are refused) and reset every open connection."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()

    async def fail_handshakes(self, fatal: tuple[str, str] | None) -> None:
        """PostgreSQL-specific: new connections pass TLS negotiation ("no TLS") and then fail
        at the startup message, with a FATAL ``(sqlstate, message)`` as a PostgreSQL that is
        starting up or shutting down sends, or (``None``) by hanging up without a word. Open
        connections are reset."""
        self._fatal = fatal
        self._failing = True
        for writer in list(self._writers):
            writer.transport.abort()

    async def freeze(self) -> None:
        """A black hole: connections stay open (and new ones are accepted) but nothing passes,
        as when the server hangs or the network drops packets."""
        self._frozen = True
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._failing:
            await self._fail_handshake(reader, writer)
            return
        self._writers.add(writer)
        if self._frozen:
            return  # accepted, never answered; stop() resets it
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            self._writers.discard(writer)
            return
        self._writers.add(up_writer)
        pipes = [
            asyncio.create_task(self._pipe(reader, up_writer)),
            asyncio.create_task(self._pipe(up_reader, writer)),
        ]
        self._tasks.update(pipes)
        try:
            await asyncio.gather(*pipes, return_exceptions=True)
        finally:
            self._tasks.difference_update(pipes)
        if self._frozen:
            return  # the connection hangs open until stop()
        for w in (writer, up_writer):
            self._writers.discard(w)
            w.transport.abort()

    async def _fail_handshake(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError, TimeoutError):
            length = int.from_bytes(await asyncio.wait_for(reader.readexactly(4), 2), "big")
            body = await asyncio.wait_for(reader.readexactly(length - 4), 2)
            if body[:4] == _SSL_REQUEST:
                writer.write(b"N")  # no TLS here; the startup message follows
                length = int.from_bytes(await asyncio.wait_for(reader.readexactly(4), 2), "big")
                await asyncio.wait_for(reader.readexactly(length - 4), 2)
            if self._fatal is not None:
                writer.write(_error_response(*self._fatal))
                await writer.drain()
        writer.close()

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        with contextlib.suppress(OSError, RuntimeError):
            writer.write_eof()
