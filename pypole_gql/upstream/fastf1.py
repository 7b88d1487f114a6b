"""FastF1, the only place the app touches it.

FastF1 is synchronous, slow (a race takes 2 to 12 s to load) and keeps ~400 MB per
loaded session, so a load never runs in the server process: :class:`FastF1Client` sends
it to a process pool (``spawn``/``forkserver``, so a worker inherits nothing of the
server) and the worker returns compact payload bytes
(:mod:`pypole_gql.upstream.fastf1_payload`) that the caller caches and decodes.

Worker side: :func:`configure_fastf1` points every FastF1 3.9.0 module-level upstream
URL at the given hosts; :func:`load_session_payload` loads one session, extracts what the
app needs once (:func:`extract_session_data`) and translates FastF1's failures into our
errors. FastF1 and pandas are imported inside these functions only, so importing this
module in the server costs nothing.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import ipaddress
import logging
import math
import multiprocessing
import os
import re
import resource
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal
from urllib.parse import urlsplit

import numpy as np

from pypole_gql.domain.params import race_key as normalise_race
from pypole_gql.domain.params import session_type as normalise_session_type
from pypole_gql.domain.sessions import (
    SESSION_TYPES,
    Lap,
    SessionData,
    SessionDriver,
    SessionInfo,
    Trace,
    compute_stints,
)
from pypole_gql.errors import AppError, BadUserInput, NotFound, UpstreamUnavailable
from pypole_gql.logging import count_upstream_call, get_logger
from pypole_gql.upstream.fastf1_payload import FORMAT_VERSION, encode_payload, payload_meta

if TYPE_CHECKING:
    from pypole_gql.config import Settings

UPSTREAM_LIVETIMING_URL: Final = "https://livetiming.formula1.com"
UPSTREAM_LIVETIMING_MIRROR_URL: Final = "https://livetiming-mirror.fastf1.dev"
UPSTREAM_SCHEDULE_URL: Final = "https://raw.githubusercontent.com/theOehrly/f1schedule/master"
UPSTREAM_JOLPICA_URL: Final = "https://api.jolpi.ca/ergast/f1"
UPSTREAM_MVAPI_URL: Final = "https://api.multiviewer.app"

_MAX_WARNINGS = 50
_log = get_logger("pypole.fastf1")


# --------------------------------------------------------------------------- config


@dataclass(frozen=True, slots=True)
class FastF1Config:
    """Where FastF1 fetches from and caches to; picklable, so it travels to the worker.

    ``cache_dir`` is required on purpose: FastF1's default is under the user's home.
    ``mvapi_url`` (circuit info, which the app does not load) defaults to the upstream
    when ``livetiming_url`` is the upstream, else to ``livetiming_url``'s origin, so a
    replay on loopback also answers for it. ``request_timeout`` bounds each HTTP request
    FastF1 makes (FastF1 itself sets none on live-timing requests).
    """

    cache_dir: Path
    livetiming_url: str = UPSTREAM_LIVETIMING_URL
    schedule_url: str = UPSTREAM_SCHEDULE_URL
    jolpica_url: str = UPSTREAM_JOLPICA_URL
    mvapi_url: str | None = None
    request_timeout: float = 30.0

    @classmethod
    def from_settings(cls, settings: Settings) -> FastF1Config:
        return cls(
            cache_dir=Path(settings.resolved_fastf1_cache_dir),
            livetiming_url=settings.livetiming_url,
            schedule_url=settings.schedule_url,
            jolpica_url=settings.jolpica_url,
            request_timeout=settings.fastf1_timeout,
        )

    def apply(self) -> None:
        configure_fastf1(
            cache_dir=self.cache_dir,
            livetiming_url=self.livetiming_url,
            schedule_url=self.schedule_url,
            jolpica_url=self.jolpica_url,
            mvapi_url=self.mvapi_url,
            request_timeout=self.request_timeout,
        )


_applied: tuple[Any, ...] | None = None


def configure_fastf1(
    *,
    cache_dir: str | os.PathLike[str],
    livetiming_url: str = UPSTREAM_LIVETIMING_URL,
    schedule_url: str = UPSTREAM_SCHEDULE_URL,
    jolpica_url: str = UPSTREAM_JOLPICA_URL,
    mvapi_url: str | None = None,
    request_timeout: float = 30.0,
) -> None:
    """Set every FastF1 3.9.0 patch point, in this process, before any request.

    * ``fastf1._api.base_url`` and ``base_url_mirror`` (FastF1 retries every 4xx on the
      mirror, so both go to ``livetiming_url`` unless it is the real upstream, which
      keeps the real mirror);
    * ``fastf1.events._SCHEDULE_BASE_URL`` (with the trailing slash FastF1 appends to);
    * ``fastf1.ergast.interface.BASE_URL`` and ``fastf1.ergast.legacy.base_url`` (the
      latter is a copy taken at import);
    * ``fastf1.mvapi.api.PROTO`` / ``HOST`` (see :class:`FastF1Config`);
    * ``fastf1.Cache.configure(cache_dir=...)``: FastF1's HTTP cache (requests-cache,
      sqlite, 12 h) and parsed-data pickles live there; the folder is created;
    * FastF1's per-host rate limiter (0.25 s a request, 500 an hour, loopback included)
      stays on for every real host and is skipped for loopback hosts only;
    * every HTTP request FastF1 sends gets ``request_timeout`` when it has none, and is
      counted (see :func:`load_session_payload`'s ``meta``).

    Idempotent: calling it again with the same arguments changes nothing (the HTTP
    cache session is only rebuilt when the arguments change).
    """
    global _applied
    key = (
        str(cache_dir),
        livetiming_url,
        schedule_url,
        jolpica_url,
        mvapi_url,
        request_timeout,
    )
    if key == _applied:
        return

    import fastf1
    import fastf1._api
    import fastf1.ergast.interface
    import fastf1.ergast.legacy
    import fastf1.events
    import fastf1.mvapi.api
    import fastf1.req

    livetiming = livetiming_url.rstrip("/")
    fastf1._api.base_url = livetiming
    fastf1._api.base_url_mirror = (
        UPSTREAM_LIVETIMING_MIRROR_URL if livetiming == UPSTREAM_LIVETIMING_URL else livetiming
    )
    fastf1.events._SCHEDULE_BASE_URL = schedule_url.rstrip("/") + "/"
    jolpica = jolpica_url.rstrip("/")
    fastf1.ergast.interface.BASE_URL = jolpica
    fastf1.ergast.legacy.base_url = jolpica
    if mvapi_url is None:
        parts = urlsplit(livetiming)
        mvapi_url = (
            UPSTREAM_MVAPI_URL
            if livetiming == UPSTREAM_LIVETIMING_URL
            else f"{parts.scheme}://{parts.netloc}"
        )
    mv = urlsplit(mvapi_url)
    fastf1.mvapi.api.PROTO = mv.scheme
    fastf1.mvapi.api.HOST = mv.netloc + mv.path.rstrip("/")

    limited = fastf1.req._SessionWithRateLimiting
    limited._RATE_LIMITS = {
        (p if isinstance(p, _SkipLoopback) else _SkipLoopback(p)): lims
        for p, lims in limited._RATE_LIMITS.items()
    }

    path = Path(cache_dir)
    # FastF1 unpickles what it finds there: the folder must be the app's alone.
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    fastf1.Cache.configure(cache_dir=str(path))
    # FastF1 logs progress at INFO on its own console handler; in a worker that is noise
    # on stderr. Warnings are collected per load instead (see _capture).
    fastf1.set_log_level("ERROR")
    for session in (fastf1.Cache._requests_session, fastf1.Cache._requests_session_cached):
        if session is not None:
            _instrument(session, request_timeout)
    cached = fastf1.Cache._requests_session_cached
    if cached is not None:
        # A truncated body arrives as a 200: without this, FastF1's HTTP cache would keep it
        # and every later load would build a session with laps missing from it, quietly.
        cached.settings.filter_fn = _cacheable
    _applied = key


def _cacheable(response: Any) -> bool:
    path = urlsplit(response.url).path
    return "/static/" not in path or _body_problem(path, response.content) is None


def is_loopback(url: str) -> bool:
    """True for ``http(s)://`` URLs on localhost, 127.0.0.0/8 or ::1."""
    host = urlsplit(url).hostname
    if host is None:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _SkipLoopback:
    """Stands in for one of FastF1's rate-limit URL patterns, matching nothing on loopback.

    FastF1 only calls ``pattern.match(url)``; the limiters themselves stay FastF1's own,
    with their state, so real hosts are limited exactly as before.
    """

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern

    def match(self, url: str) -> re.Match[str] | None:
        if is_loopback(url):
            return None
        return self.pattern.match(url)

    def __repr__(self) -> str:
        return f"_SkipLoopback({self.pattern.pattern!r})"


@dataclass
class _Probe:
    """What went over the network during the current load in this (worker) process.

    Counted at the transport adapter, under FastF1's HTTP cache, so a response served
    from the cache is not a request here.
    """

    requests: int = 0
    failures: list[str] = field(default_factory=list)


# One per process: a worker runs one load at a time.
_probe = _Probe()


def _instrument(session: Any, timeout: float) -> None:
    """Wrap each transport adapter's ``send``: default timeout, request and failure count."""
    for adapter in session.adapters.values():
        if getattr(adapter, "_pypole_timeout", None) is None:
            adapter.send = functools.partial(_send, adapter, adapter.send)
        adapter._pypole_timeout = timeout


def _send(adapter: Any, send: Callable[..., Any], request: Any, **kwargs: Any) -> Any:
    import requests

    if kwargs.get("timeout") is None:
        kwargs["timeout"] = adapter._pypole_timeout
    _probe.requests += 1
    where = urlsplit(request.url)
    try:
        response = send(request, **kwargs)
    except requests.RequestException as exc:
        _probe.failures.append(f"{where.netloc}{where.path}: {type(exc).__name__}")
        raise
    if response.status_code >= 500 or response.status_code == 429:
        _probe.failures.append(f"{where.netloc}{where.path}: HTTP {response.status_code}")
    elif response.status_code == 200 and "/static/" in where.path:
        problem = _body_problem(where.path, response.content)
        if problem:
            _probe.failures.append(f"{where.netloc}{where.path}: {problem}")
    return response


def _body_problem(path: str, body: bytes) -> str | None:
    """Why a live-timing body cannot be whole, or ``None``.

    FastF1 parses what it gets: a stream cut short (a proxy, a dropped connection that
    still looked complete) gives a session with laps missing, silently. The archive's
    streams are lines that each end in CRLF, its ``.json`` files one JSON document.
    """
    if path.endswith(".jsonStream"):
        return None if not body or body.endswith(b"\n") else "truncated stream"
    if path.endswith(".json"):
        import json

        try:
            json.loads(body.decode("utf-8-sig"))
        except ValueError:
            return "invalid JSON"
    return None


# --------------------------------------------------------------------------- worker


def load_session_payload(
    config: FastF1Config,
    year: int,
    race: int | str,
    session_type: str,
    telemetry: bool = True,
) -> bytes:
    """Load one session with FastF1 and return it as payload bytes. Runs IN THE WORKER.

    ``race`` is a round number or an event name as FastF1's fuzzy match takes it
    ("Azerbaijan", "Baku"); a string of digits is a round. ``session_type`` is one of
    :data:`~pypole_gql.domain.sessions.SESSION_TYPES` (any case). ``telemetry=False``
    skips car and position data (a race loads ~4x faster).

    Decode with :func:`~pypole_gql.upstream.fastf1_payload.decode_payload`; its
    ``meta`` (:func:`~pypole_gql.upstream.fastf1_payload.payload_meta`) tells
    ``load_seconds``, ``upstream_requests`` (sent over the network, not served by
    FastF1's HTTP cache) and FastF1's ``warnings``.

    Raises:
        BadUserInput: unknown session type, or an event name FastF1 cannot search with.
        NotFound: no such season schedule, round, event or session in that event.
        UpstreamUnavailable: an upstream failed (connection, timeout, 5xx, 429, FastF1's
            rate limit) at any point of the load (a degraded load is never returned, so
            it is never cached), or FastF1 has no data at all for the session.
    """
    started = time.perf_counter()
    kind = normalise_session_type(session_type, field="session")
    race_key = normalise_race(race)
    config.apply()
    with _capture() as captured:
        session = _open_session(year, race_key, kind)
        label = f"{year} {session.event['EventName']} {session.name}"
        try:
            session.load(laps=True, telemetry=telemetry, weather=False, messages=True)
        except Exception as exc:
            translated = _translate_load_error(exc, label)
            if translated is exc:
                raise
            raise translated from exc
        if _probe.failures:
            raise _upstream_failed(f"FastF1 upstream failed while loading {label}")
        data = extract_session_data(session, kind, telemetry=telemetry)
        if not data.drivers:
            raise UpstreamUnavailable(f"No data available for {label}")
    meta = {
        "format": FORMAT_VERSION,
        "fastf1_version": _fastf1_version(),
        "created_at": datetime.now(UTC).isoformat(),
        "load_seconds": round(time.perf_counter() - started, 3),
        "upstream_requests": captured.requests,
        "telemetry_requested": telemetry,
        "warnings": captured.warnings,
        "pid": os.getpid(),
        "worker_max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
    return encode_payload(data, meta)


@dataclass
class _Captured:
    requests: int = 0
    warnings: list[str] = field(default_factory=list)


class _ListHandler(logging.Handler):
    def __init__(self, sink: list[str]) -> None:
        super().__init__(logging.WARNING)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        if len(self.sink) < _MAX_WARNINGS:
            self.sink.append(f"{record.name}: {record.getMessage()}")


@contextmanager
def _capture() -> Iterator[_Captured]:
    """Reset the probe; collect FastF1's log warnings and Python warnings for ``meta``."""
    captured = _Captured()
    _probe.requests = 0
    _probe.failures.clear()
    handler = _ListHandler(captured.warnings)
    fastf1_logger = logging.getLogger("fastf1")
    fastf1_logger.addHandler(handler)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield captured
        for w in caught:
            # pandas deprecations inside FastF1 say nothing about the data
            if not issubclass(w.category, DeprecationWarning | FutureWarning):
                handler.sink.append(f"{w.category.__name__}: {w.message}")
    finally:
        fastf1_logger.removeHandler(handler)
        captured.requests = _probe.requests
        del captured.warnings[_MAX_WARNINGS:]


def _open_session(year: int, race: int | str, kind: str) -> Any:
    """``fastf1.get_session(year, race, kind)`` with each failure told apart.

    This is what ``get_session``/``get_event`` do, step by step, because FastF1 raises a
    bare ``ValueError`` for a missing schedule, round and session alike.
    """
    import fastf1
    from fastf1.exceptions import FastF1CriticalError, FuzzyMatchError

    try:
        schedule = fastf1.get_event_schedule(year, include_testing=False)
    except (ValueError, FastF1CriticalError) as exc:
        if _probe.failures or isinstance(exc, FastF1CriticalError):
            raise _upstream_failed(f"FastF1 could not load the {year} schedule") from exc
        raise NotFound(f"No F1 season {year}") from exc
    try:
        if isinstance(race, int):
            event = schedule.get_event_by_round(race)
        else:
            event = schedule.get_event_by_name(race)
    except FuzzyMatchError as exc:
        raise NotFound(f"No event matching {race!r} in {year}") from exc
    except ValueError as exc:
        if isinstance(race, int):
            raise NotFound(f"No round {race} in {year}") from exc
        raise BadUserInput(
            f"Event name {race!r} is too vague; use a country, city or grand prix name",
            field="race",
        ) from exc
    try:
        return event.get_session(kind)
    except ValueError as exc:
        raise NotFound(f"{year} {event['EventName']} has no {SESSION_TYPES[kind]} session") from exc


def _translate_load_error(exc: Exception, label: str) -> Exception:
    import requests
    from fastf1.exceptions import FastF1CriticalError

    if isinstance(exc, AppError):
        return exc
    if isinstance(exc, FastF1CriticalError | requests.RequestException) or _probe.failures:
        return _upstream_failed(f"FastF1 upstream failed while loading {label}")
    return exc


def _upstream_failed(message: str) -> UpstreamUnavailable:
    """The public message stays generic; which requests failed goes in a note for the log."""
    error = UpstreamUnavailable(message)
    for failure in _probe.failures[:5]:
        error.add_note(f"upstream request failed: {failure}")
    return error


def _fastf1_version() -> str:
    import fastf1

    version: str = fastf1.__version__
    return version


# ----------------------------------------------------------------------- extraction


def extract_session_data(session: Any, session_type: str, *, telemetry: bool) -> SessionData:
    """The app's compact view of a loaded ``fastf1.core.Session``.

    Laps keep FastF1's row order; times become float seconds (NaT -> ``None``). Car and
    position samples are kept whole per driver (car: ``speed rpm gear throttle brake
    drs``; position: ``x y``), so any lap can later be cut without FastF1; see
    :func:`~pypole_gql.domain.sessions.lap_telemetry`. A session whose laps or
    telemetry FastF1 could not load has none here (``laps_available`` /
    ``telemetry_available``): that is "not available", not an error.
    """
    drivers = _extract_drivers(session)
    frame = _loaded(lambda: session.laps)
    laps = [] if frame is None else _extract_laps(frame)
    car = pos = None
    if telemetry:
        car_data = _loaded(lambda: session.car_data)
        car = _extract_trace(
            car_data,
            drivers,
            {
                "speed": "Speed",
                "rpm": "RPM",
                "gear": "nGear",
                "throttle": "Throttle",
                "brake": "Brake",
                "drs": "DRS",
            },
        )
        pos = _extract_trace(_loaded(lambda: session.pos_data), drivers, {"x": "X", "y": "Y"})
    total_laps = _loaded(lambda: session.total_laps)
    event = session.event
    date = session.date
    info = SessionInfo(
        year=int(event.year),
        round=int(event["RoundNumber"]),
        event_name=str(event["EventName"]),
        session_type=session_type,
        session_name=str(session.name),
        start_time_utc=None if _isna(date) else date.to_pydatetime().replace(tzinfo=UTC),
        total_laps=None if _isna(total_laps) else int(total_laps),
        laps_available=bool(laps),
        telemetry_available=car is not None,
    )
    return SessionData(
        info=info,
        drivers=tuple(drivers),
        laps=tuple(laps),
        stints=tuple(compute_stints(laps)),
        car=car,
        position=pos,
    )


def _loaded(get: Callable[[], Any]) -> Any:
    """``get()``, or ``None`` for data FastF1 did not load (its loaders fail softly)."""
    from fastf1.exceptions import DataNotLoadedError

    try:
        return get()
    except DataNotLoadedError:
        return None


def _extract_drivers(session: Any) -> list[SessionDriver]:
    results = _loaded(lambda: session.results)
    if results is None:
        return []
    cols = set(results.columns)

    def col(name: str) -> list[Any]:
        return list(results[name]) if name in cols else [None] * len(results)

    out = []
    for number, code, name, team, driver_id, pos, grid, status, points in zip(
        col("DriverNumber"),
        col("Abbreviation"),
        col("FullName"),
        col("TeamName"),
        col("DriverId"),
        col("Position"),
        col("GridPosition"),
        col("Status"),
        col("Points"),
        strict=True,
    ):
        number = str(number)
        out.append(
            SessionDriver(
                code=_opt_str(code) or number,
                number=number,
                full_name=_opt_str(name) or "",
                team=_opt_str(team),
                driver_id=_opt_str(driver_id),
                position=_opt_int(pos),
                grid_position=_opt_int(grid),
                status=_opt_str(status),
                points=_opt_float(points),
            )
        )
    return out


def _extract_laps(laps: Any) -> list[Lap]:
    if len(laps) == 0:
        return []

    def seconds(name: str) -> list[float | None]:
        values = laps[name].dt.total_seconds().to_numpy(dtype=np.float64)
        return [None if math.isnan(v) else v for v in values.tolist()]

    def plain(name: str) -> list[Any]:
        return list(laps[name]) if name in laps.columns else [None] * len(laps)

    columns = zip(
        plain("Driver"),
        plain("DriverNumber"),
        plain("LapNumber"),
        seconds("LapTime"),
        seconds("Sector1Time"),
        seconds("Sector2Time"),
        seconds("Sector3Time"),
        plain("Compound"),
        plain("TyreLife"),
        plain("FreshTyre"),
        plain("Stint"),
        plain("Position"),
        plain("IsPersonalBest"),
        plain("Deleted"),
        plain("IsAccurate"),
        seconds("PitInTime"),
        seconds("PitOutTime"),
        plain("TrackStatus"),
        seconds("LapStartTime"),
        seconds("Time"),
        strict=True,
    )
    out = []
    for (
        code,
        number,
        lap_number,
        lap_time,
        s1,
        s2,
        s3,
        compound,
        tyre_life,
        fresh,
        stint,
        position,
        personal_best,
        deleted,
        accurate,
        pit_in,
        pit_out,
        track_status,
        start,
        end,
    ) in columns:
        lap_no = _opt_int(lap_number)
        if lap_no is None:  # pragma: no cover - FastF1 numbers every lap it keeps
            continue
        out.append(
            Lap(
                driver=str(code),
                driver_number=str(number),
                lap_number=lap_no,
                lap_time=lap_time,
                sector1_time=s1,
                sector2_time=s2,
                sector3_time=s3,
                compound=_opt_str(compound),
                tyre_life=_opt_float(tyre_life),
                fresh_tyre=_opt_bool(fresh),
                stint=_opt_int(stint),
                position=_opt_int(position),
                # pick_fastest selects `IsPersonalBest == True`: NaN/None count as False
                is_personal_best=_opt_bool(personal_best) is True,
                deleted=_opt_bool(deleted),
                is_accurate=bool(_opt_bool(accurate)),
                pit_in_time=pit_in,
                pit_out_time=pit_out,
                track_status=_opt_str(track_status),
                lap_start_time=start,
                time=end,
            )
        )
    return out


def _extract_trace(
    per_driver: Any, drivers: Sequence[SessionDriver], channels: dict[str, str]
) -> Trace | None:
    """Concatenate FastF1's per-driver ``Telemetry`` frames into one :class:`Trace`.

    Samples with a NaT ``SessionTime`` are dropped: FastF1's lap slice never selects them.
    """
    times: list[np.ndarray[Any, Any]] = []
    values: dict[str, list[np.ndarray[Any, Any]]] = {name: [] for name in channels}
    spans: dict[str, tuple[int, int]] = {}
    ordered: set[str] = set()
    offset = 0
    for drv in drivers:
        frame = per_driver.get(drv.number) if per_driver else None
        if frame is None or len(frame) == 0:
            continue
        st = frame["SessionTime"].to_numpy(dtype="timedelta64[ns]")
        keep = ~np.isnat(st)
        ns = st[keep].view(np.int64)
        if ns.size == 0:
            continue
        times.append(ns)
        for name, column in channels.items():
            values[name].append(frame[column].to_numpy()[keep])
        spans[drv.number] = (offset, offset + int(ns.size))
        offset += int(ns.size)
        if bool(np.all(ns[1:] >= ns[:-1])):
            ordered.add(drv.number)
    if not spans:
        return None
    return Trace(
        time_unit_ns=1,
        session_time=np.concatenate(times),
        channels={name: np.concatenate(parts) for name, parts in values.items()},
        spans=spans,
        sorted_drivers=frozenset(ordered),
    )


def _isna(value: Any) -> bool:
    import pandas as pd

    return value is None or bool(pd.isna(value))


def _opt_str(value: Any) -> str | None:
    if _isna(value):
        return None
    text = str(value)
    return text or None


def _opt_float(value: Any) -> float | None:
    return None if _isna(value) else float(value)


def _opt_int(value: Any) -> int | None:
    return None if _isna(value) else int(value)


def _opt_bool(value: Any) -> bool | None:
    return None if _isna(value) else bool(value)


# --------------------------------------------------------------------------- client

StartMethod = Literal["spawn", "forkserver"]


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
            )
        return self._pool

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

    def close(self) -> None:
        """Stop the workers (waits for a running load to end)."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    async def aclose(self) -> None:
        """:meth:`close` without blocking the event loop (for the app's lifespan)."""
        await asyncio.to_thread(self.close)
