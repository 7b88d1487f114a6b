"""Running a :class:`~pypole_gql.replay.server.ReplayServer`: in a daemon thread of the
calling process (tests, ``pypole serve --replay``), or in the foreground until a signal
(``pypole replay``)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import signal
import threading
from pathlib import Path
from types import TracebackType
from typing import Final

from pypole_gql.replay.fixtures import ReplayFixturesError
from pypole_gql.replay.generator import GeneratorFactory, ReplayForms, load_csv_generator
from pypole_gql.replay.server import ReplayNow, ReplayServer

_START_TIMEOUT: Final = 60.0


class ReplayThread:
    """A :class:`ReplayServer` running on its own event loop in a daemon thread."""

    def __init__(
        self,
        server: ReplayServer,
        loop: asyncio.AbstractEventLoop,
        thread: threading.Thread,
        url: str,
    ) -> None:
        self.server = server
        self.url = url
        self._loop = loop
        self._thread = thread

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server and its thread; calling it again does nothing."""
        if not self._thread.is_alive():
            return
        asyncio.run_coroutine_threadsafe(self.server.stop(), self._loop).result(timeout)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout)

    def __enter__(self) -> ReplayThread:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_in_thread(
    fixtures_dir: Path,
    now: ReplayNow = None,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    generator_factory: GeneratorFactory = load_csv_generator,
    forms: ReplayForms = "csv",
) -> ReplayThread:
    """Start a replay server in a background thread; returns once it is listening.

    Raises :class:`ReplayFixturesError` for a bad fixtures directory and ``OSError`` when
    the port cannot be bound, in the calling thread.
    """
    server = ReplayServer(fixtures_dir, now, generator_factory=generator_factory, forms=forms)
    loop = asyncio.new_event_loop()
    started: concurrent.futures.Future[str] = concurrent.futures.Future()

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            try:
                url = loop.run_until_complete(server.start(host, port))
            except BaseException as exc:
                started.set_exception(exc)
                return
            started.set_result(url)
            loop.run_forever()
        finally:
            loop.run_until_complete(loop.shutdown_default_executor())
            loop.close()

    thread = threading.Thread(target=run, name="pypole-replay", daemon=True)
    thread.start()
    return ReplayThread(server, loop, thread, started.result(timeout=_START_TIMEOUT))


def run_replay(
    fixtures_dir: Path, host: str, port: int, now: ReplayNow, forms: ReplayForms = "csv"
) -> None:
    """Serve until SIGINT or SIGTERM (``pypole replay``).

    A bad fixtures directory or a port that cannot be bound ends the process with a one-line
    message (``SystemExit``), not a traceback.
    """
    try:
        server = ReplayServer(fixtures_dir, now, forms=forms)
    except ReplayFixturesError as exc:
        raise SystemExit(f"pypole replay: {exc}") from None
    try:
        asyncio.run(_serve_until_signal(server, host, port))
    except OSError as exc:
        raise SystemExit(f"pypole replay: cannot listen on {host}:{port}: {exc}") from None
    except KeyboardInterrupt:
        pass


async def _serve_until_signal(server: ReplayServer, host: str, port: int) -> None:
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stopping.set)
    await server.start(host, port)
    try:
        await stopping.wait()
    finally:
        await server.stop()
