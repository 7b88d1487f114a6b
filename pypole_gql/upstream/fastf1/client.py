"""The process pool that runs FastF1 loads away from the server's event loop."""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import multiprocessing
import signal
import time
from concurrent.futures.process import BrokenProcessPool
from typing import Literal

from pypole_gql.errors import AppError, UpstreamUnavailable
from pypole_gql.logging import count_upstream_call, get_logger
from pypole_gql.upstream.fastf1.config import FastF1Config
from pypole_gql.upstream.fastf1.load import load_session_payload
from pypole_gql.upstream.fastf1.payload import payload_meta

_log = get_logger("pypole.fastf1")

StartMethod = Literal["spawn", "forkserver"]


def _ignore_sigint() -> None:
    """Pool initializer: Ctrl-C reaches every process of the terminal's process group, and
    a worker would die on it with a ``KeyboardInterrupt`` traceback; the server stops its
    workers itself when it shuts down (:meth:`FastF1Client.close`)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class FastF1Client:
    """Runs FastF1 loads in a process pool that it owns; one per app (see ``create_app``).

    The pool starts its workers with ``spawn`` (or ``forkserver``) so that they inherit
    none of the server's state (event loop, sockets, locks). A worker is replaced after
    ``max_tasks_per_child`` loads, because FastF1 leaves hundreds of MB behind in the
    process. A crashed worker breaks a ``ProcessPoolExecutor`` for good, so the client
    builds a new pool on the next load.

    ``loads`` counts the loads this client started, whatever FastF1's HTTP cache in the
    worker served: tests use it to assert that the app's own cache works.
    """

    def __init__(
        self,
        config: FastF1Config,
        *,
        max_workers: int = 1,
        start_method: StartMethod = "spawn",
        max_tasks_per_child: int | None = 20,
        load_timeout: float = 300.0,
    ) -> None:
        self.config = config
        self.max_workers = max_workers
        self.start_method = start_method
        self.max_tasks_per_child = max_tasks_per_child
        self.load_timeout = load_timeout
        self.loads = 0
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None

    def _executor(self) -> concurrent.futures.ProcessPoolExecutor:
        if self._pool is None:
            self._pool = concurrent.futures.ProcessPoolExecutor(
                max_workers=self.max_workers,
                mp_context=multiprocessing.get_context(self.start_method),
                max_tasks_per_child=self.max_tasks_per_child,
                initializer=_ignore_sigint,
            )
        return self._pool

    @property
    def worker_pids(self) -> list[int]:
        """Process ids of the pool's workers (none before the first load starts them)."""
        return [] if self._pool is None else list(self._pool._processes or {})

    async def load_session(
        self, year: int, race: int | str, session_type: str, *, telemetry: bool = True
    ) -> bytes:
        """Payload bytes of one session; see :func:`load_session_payload` for the errors."""
        loop = asyncio.get_running_loop()
        call = functools.partial(
            load_session_payload, self.config, year, race, session_type, telemetry
        )
        self.loads += 1
        count_upstream_call()
        started = time.perf_counter()
        try:
            try:
                payload = await asyncio.wait_for(
                    loop.run_in_executor(self._executor(), call), self.load_timeout
                )
            except BrokenProcessPool as exc:
                self._discard_pool()
                raise UpstreamUnavailable("The FastF1 worker stopped; try again") from exc
            except TimeoutError as exc:
                # The worker cannot be interrupted; its result is dropped when it ends.
                raise UpstreamUnavailable(
                    f"Loading {year} {race} {session_type} took longer than {self.load_timeout:g} s"
                ) from exc
        except Exception as exc:
            _log.warning(
                "fastf1.load_failed",
                year=year,
                race=race,
                session_type=session_type,
                seconds=round(time.perf_counter() - started, 3),
                code=exc.code if isinstance(exc, AppError) else "INTERNAL",
                error=exc.message if isinstance(exc, AppError) else type(exc).__name__,
            )
            raise
        meta = payload_meta(payload)
        _log.info(
            "fastf1.loaded",
            year=year,
            race=race,
            session_type=session_type,
            telemetry=telemetry,
            bytes=len(payload),
            seconds=round(time.perf_counter() - started, 3),
            worker_seconds=meta.get("load_seconds"),
            upstream_requests=meta.get("upstream_requests"),
            worker_max_rss_mb=meta.get("worker_max_rss_mb"),
        )
        return payload

    def _discard_pool(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    def terminate(self) -> None:
        """Stop the workers now, dropping any load they run (``pypole warm`` on Ctrl-C)."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        # The executor has no public way to end a running task: end its processes.
        processes = list((getattr(pool, "_processes", None) or {}).values())
        for process in processes:
            process.terminate()
        pool.shutdown(wait=True, cancel_futures=True)

    def close(self) -> None:
        """Stop the workers (waits for a running load to end)."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    async def aclose(self) -> None:
        """:meth:`close` without blocking the event loop (for the app's lifespan)."""
        await asyncio.to_thread(self.close)
