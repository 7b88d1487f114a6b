"""One FastF1 load, in the worker: open the session, load it, translate its failures.

:func:`load_session_payload` is what the process pool runs. It tells FastF1's failures
apart (FastF1 raises a bare ``ValueError`` for a missing schedule, round and session
alike) and refuses a load during which an upstream request failed
(:mod:`~pypole_gql.upstream.fastf1.probe`), so a degraded load is never returned and
never cached.
"""

from __future__ import annotations

import logging
import os
import resource
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from pypole_gql.domain.params import race_key as normalise_race
from pypole_gql.domain.params import session_type as normalise_session_type

__all__ = ["normalise_race", "normalise_session_type"]
from pypole_gql.domain.sessions import SESSION_TYPES
from pypole_gql.errors import AppError, BadUserInput, NotFound, UpstreamUnavailable
from pypole_gql.upstream.fastf1.config import FastF1Config
from pypole_gql.upstream.fastf1.extract import extract_session_data
from pypole_gql.upstream.fastf1.payload import FORMAT_VERSION, encode_payload
from pypole_gql.upstream.fastf1.probe import probe, upstream_failed

_MAX_WARNINGS: Final = 50


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

    Decode with :func:`~pypole_gql.upstream.fastf1.payload.decode_payload`; its
    ``meta`` (:func:`~pypole_gql.upstream.fastf1.payload.payload_meta`) tells
    ``load_seconds``, ``upstream_requests`` (sent over the network, not served by
    FastF1's HTTP cache), FastF1's ``warnings`` and ``timing_available`` /
    ``timing_unavailable_reason`` (as in :class:`~pypole_gql.domain.sessions.SessionInfo`:
    a session the archive has not published timing data for is returned, marked).

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
            session.load(laps=True, telemetry=telemetry, weather=True, messages=True)
        except Exception as exc:
            translated = _translate_load_error(exc, label)
            if translated is exc:
                raise
            raise translated from exc
        if probe.failures:
            raise upstream_failed(f"FastF1 upstream failed while loading {label}")
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
        # Read by the session service without decoding: a load without timing data is
        # an answer to cache briefly, not for the full TTL.
        "timing_available": data.info.timing_available,
        "timing_unavailable_reason": data.info.timing_unavailable_reason,
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
    probe.reset()
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
        captured.requests = probe.requests
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
        if probe.failures or isinstance(exc, FastF1CriticalError):
            raise upstream_failed(f"FastF1 could not load the {year} schedule") from exc
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
    if isinstance(exc, FastF1CriticalError | requests.RequestException) or probe.failures:
        return upstream_failed(f"FastF1 upstream failed while loading {label}")
    return exc


def _fastf1_version() -> str:
    import fastf1

    version: str = fastf1.__version__
    return version
