"""The offline replay upstream: Jolpica, the F1 live-timing archive and FastF1's schedule files.

An aiohttp application on 127.0.0.1 that plays the upstreams from the fixtures directory, so
the real clients (our aiohttp Jolpica client, FastF1's own loader) run unchanged.

URL layout, with ``url`` the base URL :meth:`ReplayServer.start` returns:

- ``{url}/ergast/f1/...``: Jolpica. FastF1: ``fastf1.ergast.interface.BASE_URL`` and
  ``fastf1.ergast.legacy.base_url`` = ``f"{url}/ergast/f1"``.
- ``{url}/static/...``: the live-timing archive, byte for byte, ``fastf1-synthetic/static``
  before ``fastf1/static``. FastF1: ``fastf1._api.base_url`` and ``base_url_mirror`` = ``url``.
- ``{url}/f1schedule/schedule_<year>.json``: FastF1's schedule files. FastF1:
  ``fastf1.events._SCHEDULE_BASE_URL`` = ``f"{url}/f1schedule/"`` (with the trailing slash:
  FastF1 appends ``schedule_<year>.json`` to it).
- ``{url}/_replay/...``: the control API (:mod:`pypole_gql.replay.admin`).

Who answers a Jolpica request, in this order:

1. The recording of the exact request (path without regard to case, query sorted, ``format``
   dropped; see :func:`recording_name`), from ``jolpica/`` then ``fastf1/``. Recordings come
   first because they are the real upstream bytes. A recording of a season-wide table holds
   only the first page of 30 rows, which is right for that query; any other page or limit is
   a different query with no recording, so it falls to the generator.
2. The generator of the current ``forms`` (:data:`REPLAY_FORMS`: the CSV database as it is,
   the same in Jolpica's current forms, or the recordings alone re-paged); ``None`` from it
   is a 404. :meth:`ReplayServer.set_forms` switches while the server runs (and
   :meth:`ReplayServer.reset` goes back to the starting forms).
3. Only when there is no generator, or it raised: the recording of the same path without a
   query; then 404 (500 if the generator raised).

Every answer carries ``X-Replay-Source`` (the record's ``source``). Every request outside
``/_replay/`` is logged (:class:`RequestRecord`) and may meet a fault (:class:`Fault`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Literal
from urllib.parse import unquote

import orjson
import structlog
from aiohttp import web
from aiohttp.typedefs import Handler

from pypole_gql.replay import admin
from pypole_gql.replay.faults import Fault, FaultRegistry
from pypole_gql.replay.fixtures import FixtureIndex
from pypole_gql.replay.generator import (
    REPLAY_FORMS,
    ErgastResponder,
    GeneratorFactory,
    ReplayForms,
    load_csv_generator,
    load_forms_generator,
)
from pypole_gql.replay.matching import RequestMatch
from pypole_gql.replay.recorder import RequestLog, RequestRecord

log = structlog.get_logger(__name__)

SOURCE_HEADER = "X-Replay-Source"
ERGAST_PREFIX = "/ergast/f1/"
STATIC_PREFIX = "/static/"
SCHEDULE_PREFIX = "/f1schedule/"
# In-flight requests (a long delay fault) are cut off after this long when the server stops.
_SHUTDOWN_TIMEOUT = 1.0

#: ``now`` of a replay whose clock stands just after the last race with results in the
#: fixtures' CSV (``ErgastCsvDatabase.after_last_results``): ``current`` is the fixtures' last
#: season and ``next`` the race after that one. The default of ``pypole replay`` and of
#: ``pypole serve --replay``; without a CSV generator it falls back to the wall clock.
FIXTURES_NOW: Final = "fixtures"
ReplayNow = datetime | Literal["fixtures"] | None
"""A fixed moment, :data:`FIXTURES_NOW`, or ``None`` for the wall clock."""


def _json_response(
    status: int, payload: Any, source: str, headers: Mapping[str, str] | None = None
) -> web.Response:
    return web.Response(
        status=status,
        body=orjson.dumps(payload),
        content_type="application/json",
        headers={SOURCE_HEADER: source, **(headers or {})},
    )


def _not_found(detail: str, source: str = "missing") -> web.Response:
    return _json_response(404, {"detail": detail}, source)


async def _file_response(
    file: Path, source: str, content_type: str, charset: str | None = None
) -> web.Response:
    body = await asyncio.to_thread(file.read_bytes)
    return web.Response(
        body=body, content_type=content_type, charset=charset, headers={SOURCE_HEADER: source}
    )


def _safe_relative(raw_path: str, prefix: str) -> str | None:
    """The decoded path below ``prefix``, or ``None`` if it could leave the folder.

    Works on the raw path so an encoded ``%2e%2e`` or ``%2f`` is seen for what it is.
    """
    if not raw_path.startswith(prefix):
        return None
    segments = [unquote(s) for s in raw_path[len(prefix) :].split("/")]
    for segment in segments:
        if segment in ("", ".", "..") or any(c in segment for c in "/\\\x00"):
            return None
    return "/".join(segments)


def _broken(response: web.Response) -> web.Response:
    """200 with the first half of the body: truncated, so never valid JSON."""
    body = response.body
    data = bytes(body) if isinstance(body, bytes | bytearray) else b""
    return web.Response(
        status=200,
        body=data[: len(data) // 2] or b"{",
        content_type=response.content_type,
        charset=response.charset,
        headers={SOURCE_HEADER: response.headers.get(SOURCE_HEADER, "missing")},
    )


def _fault_response(fault: Fault) -> web.Response:
    assert fault.status is not None
    retry_after = fault.retry_after_header
    return _json_response(
        fault.status,
        {"detail": f"replay fault: HTTP {fault.status}"},
        "fault",
        {"Retry-After": retry_after} if retry_after is not None else None,
    )


class ReplayServer:
    """The replay upstream (see the module docstring for what it serves).

    The fixtures directory is checked and indexed in ``__init__``
    (:class:`ReplayFixturesError` names what is missing); the CSV generator is loaded once,
    by the first :meth:`start`. The request log and the faults are thread-safe, so a test
    may read and change them from another thread while the server runs.

    ``now`` resolves Jolpica's ``current``, ``last`` and ``next`` (see :data:`ReplayNow`);
    :attr:`now` is the fixed moment in use (with :data:`FIXTURES_NOW`, known once started),
    ``None`` while the wall clock decides. ``forms`` is how generated answers are written
    (:data:`REPLAY_FORMS`); the generator of other forms than ``csv`` is built on its first
    request (a fraction of a second).
    """

    def __init__(
        self,
        fixtures_dir: Path,
        now: ReplayNow = None,
        *,
        generator_factory: GeneratorFactory = load_csv_generator,
        forms: ReplayForms = "csv",
    ) -> None:
        _check_forms(forms)
        self.fixtures = FixtureIndex.load(fixtures_dir)
        self._now = now
        self.now: datetime | None = now if isinstance(now, datetime) else None
        self.log = RequestLog()
        self.faults = FaultRegistry()
        self.url: str | None = None
        self._generator_factory = generator_factory
        self._generator: ErgastResponder | None = None
        self._generator_loaded = False
        self._start_forms: str = forms
        self._forms: str = forms
        # Generators of the other forms, built on first use in the executor (so one at a time).
        self._form_generators: dict[str, ErgastResponder | None] = {}
        self._runner: web.AppRunner | None = None
        # One worker: generator calls do not hold up the event loop and never run at once.
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on ``host:port`` (0: a free port) and return the base URL."""
        if self._runner is not None:
            raise RuntimeError("the replay server is already running")
        loop = asyncio.get_running_loop()
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="replay-generator"
        )
        if not self._generator_loaded:
            self._generator = await loop.run_in_executor(self._executor, self._load_generator)
            self._generator_loaded = True
            if self._now == FIXTURES_NOW and self._generator is not None:
                self.now = self._generator.after_last_results()
        runner = web.AppRunner(self.make_app(), access_log=None, shutdown_timeout=_SHUTDOWN_TIMEOUT)
        try:
            await runner.setup()
            await web.TCPSite(runner, host, port).start()
        except BaseException:
            await runner.cleanup()
            self._shutdown_executor()
            raise
        self._runner = runner
        bound_port = runner.addresses[0][1]
        url_host = f"[{host}]" if ":" in host else host
        self.url = f"http://{url_host}:{bound_port}"
        log.info(
            "replay.started",
            url=self.url,
            fixtures_dir=str(self.fixtures.root),
            generator=self._generator is not None,
            now=self.now.isoformat() if self.now else None,
            **self.fixtures.counts(),
        )
        return self.url

    async def stop(self) -> None:
        if self._runner is None:
            return
        runner, self._runner = self._runner, None
        await runner.cleanup()
        self._shutdown_executor()
        log.info("replay.stopped", url=self.url)
        self.url = None

    def _shutdown_executor(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    def _load_generator(self) -> ErgastResponder | None:
        try:
            return self._generator_factory(self.fixtures.csv_dir)
        except Exception:
            log.exception("replay.generator_failed", csv_dir=str(self.fixtures.csv_dir))
            return None

    # -- programmatic control (thread-safe) ----------------------------------------------

    def requests(self, match: RequestMatch | None = None) -> list[RequestRecord]:
        """The logged requests (copies, oldest first) that ``match`` selects."""
        return self.log.snapshot(match)

    def count(self, match: RequestMatch | None = None) -> int:
        return len(self.log.snapshot(match))

    def add_fault(self, fault: Fault) -> int:
        """Apply ``fault`` to matching requests from now on; returns its id."""
        return self.faults.add(fault)

    def remove_fault(self, fault_id: int) -> bool:
        return self.faults.remove(fault_id)

    def clear_faults(self) -> None:
        self.faults.clear()

    def reset(self) -> None:
        """Forget the logged requests, remove every fault, go back to the starting forms."""
        self.log.clear()
        self.faults.clear()
        self._forms = self._start_forms

    @property
    def forms(self) -> str:
        """The forms generated answers are written in now (:data:`REPLAY_FORMS`)."""
        return self._forms

    def set_forms(self, forms: str) -> None:
        """Answer in ``forms`` from the next request on; ValueError for an unknown name."""
        _check_forms(forms)
        self._forms = forms

    def info(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "fixtures_dir": str(self.fixtures.root),
            "generator": self._generator is not None,
            "forms": self._forms,
            "now": self.now.isoformat() if self.now else None,
            **self.fixtures.counts(),
        }

    # -- the application -----------------------------------------------------------------

    def make_app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware])
        app.add_routes(
            admin.control_routes(self.log, self.faults, self.info, self.set_forms, self.reset)
        )
        app.add_routes(
            [
                web.get("/ergast/f1", self._ergast),
                web.get(ERGAST_PREFIX + "{tail:.*}", self._ergast),
                web.get(STATIC_PREFIX + "{tail:.*}", self._static),
                web.get(SCHEDULE_PREFIX + "{tail:.*}", self._schedule),
            ]
        )
        return app

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith(admin.PREFIX):
            return await handler(request)
        query = dict(request.query)
        record = self.log.begin(request.method, request.path, query)
        fault = self.faults.take(request.method, request.path, query)
        status: int | None = None
        source: str | None = None
        try:
            if fault is not None and fault.delay:
                await asyncio.sleep(fault.delay)
            if fault is not None and fault.drop:
                source = "fault"
                if request.transport is not None:
                    request.transport.abort()
                return web.Response(status=499)  # never reaches the client
            if fault is not None and fault.status is not None:
                response = _fault_response(fault)
            else:
                response = await self._dispatch(handler, request)
                if fault is not None and fault.broken_body:
                    response = _broken(response)
            status = response.status
            source = response.headers.get(SOURCE_HEADER)
            return response
        finally:
            self.log.finish(
                record,
                status=status,
                source=source,
                fault=fault.describe() if fault is not None else None,
            )

    @staticmethod
    async def _dispatch(handler: Handler, request: web.Request) -> web.Response:
        """The handler's response, with aiohttp's own 404 and 405 as JSON."""
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            allow = exc.headers.get("Allow")
            return _json_response(
                exc.status, {"detail": exc.reason}, "missing", {"Allow": allow} if allow else None
            )
        assert isinstance(response, web.Response)
        return response

    async def _ergast(self, request: web.Request) -> web.Response:
        path = request.path.removeprefix("/ergast/f1").removeprefix("/")
        items = [(name, value) for name, value in request.query.items() if name != "format"]
        recording = self.fixtures.recording(path, items)
        if recording is not None:
            return await _file_response(recording, "recording", "application/json")

        generator_failed = False
        if self._generator is not None:
            try:
                body = await self._generate(self._forms, path, dict(items))
            except Exception:
                log.exception("replay.generator_failed", path=path, query=dict(items))
                generator_failed = True
            else:
                if body is None:
                    return _not_found(f"no Jolpica answer for /ergast/f1/{path}")
                return _json_response(200, body, "generated")

        if items:
            fallback = self.fixtures.recording(path, [])
            if fallback is not None:
                return await _file_response(fallback, "fallback", "application/json")
        if generator_failed:
            return _json_response(500, {"detail": "the Jolpica generator failed"}, "generated")
        return _not_found(f"no recording for /ergast/f1/{path}")

    async def _generate(
        self, forms: str, path: str, query: dict[str, str]
    ) -> dict[str, Any] | None:
        now = self.now or datetime.now(UTC)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._respond, forms, path, query, now)

    def _respond(
        self, forms: str, path: str, query: dict[str, str], now: datetime
    ) -> dict[str, Any] | None:
        """In the executor's one thread: the generator of ``forms`` (built once) answers."""
        if forms not in self._form_generators:
            self._form_generators[forms] = load_forms_generator(
                forms, self._generator, self.fixtures
            )
            log.info("replay.forms_loaded", forms=forms)
        generator = self._form_generators[forms]
        if generator is None:
            raise RuntimeError(f"no generator for the {forms} forms")
        return generator.respond(path, query, now)

    async def _static(self, request: web.Request) -> web.Response:
        name = _safe_relative(request.rel_url.raw_path, STATIC_PREFIX)
        if name is None:
            return _not_found("not a file path", "refused")
        entry = self.fixtures.static.get(name)
        if entry is None:
            return _not_found(f"no live-timing file {name}")
        file, synthetic = entry
        content_type = "application/json" if name.endswith(".json") else "application/octet-stream"
        return await _file_response(file, "synthetic" if synthetic else "static", content_type)

    async def _schedule(self, request: web.Request) -> web.Response:
        name = _safe_relative(request.rel_url.raw_path, SCHEDULE_PREFIX)
        if name is None:
            return _not_found("not a file path", "refused")
        file = self.fixtures.schedule.get(name)
        if file is None:
            return _not_found(f"no schedule file {name}")
        # As raw.githubusercontent.com serves it; FastF1 reads ``response.text``.
        return await _file_response(file, "schedule", "text/plain", charset="utf-8")


def _check_forms(forms: str) -> None:
    if forms not in REPLAY_FORMS:
        raise ValueError(f"forms must be one of {', '.join(REPLAY_FORMS)}, not {forms!r}")
