"""What FastF1 sends over the network during a load, watched at the transport adapter.

FastF1 fails softly: a live-timing page that could not be fetched, or that arrived cut
short, becomes a session with laps missing and a log line. The worker must not return
(and the app must not cache) such a load, so every HTTP request FastF1 makes goes
through :func:`instrument`'s wrapper, which gives it a default timeout, counts it and
records each failure in the process's :data:`probe`; the loader then refuses a load
that had any (see :mod:`pypole_gql.upstream.fastf1.load`).

A 200 whose body cannot be whole (the truncated-body guard, :func:`body_problem`) counts
as a failure, and is also kept out of FastF1's HTTP cache (:func:`cacheable`), or every
later load would quietly build the same partial session from it.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from pypole_gql.errors import UpstreamUnavailable


@dataclass
class Probe:
    """What went over the network during the current load in this (worker) process.

    Counted at the transport adapter, under FastF1's HTTP cache, so a response served
    from the cache is not a request here.
    """

    requests: int = 0
    failures: list[str] = field(default_factory=list)

    def reset(self) -> None:
        self.requests = 0
        self.failures.clear()


#: One per process: a worker runs one load at a time.
probe = Probe()


def instrument(session: Any, timeout: float) -> None:
    """Wrap each transport adapter's ``send``: default timeout, request and failure count.

    Idempotent: a second call only changes the timeout.
    """
    for adapter in session.adapters.values():
        if getattr(adapter, "_pypole_timeout", None) is None:
            adapter.send = functools.partial(_send, adapter, adapter.send)
        adapter._pypole_timeout = timeout


def _send(adapter: Any, send: Callable[..., Any], request: Any, **kwargs: Any) -> Any:
    import requests

    if kwargs.get("timeout") is None:
        kwargs["timeout"] = adapter._pypole_timeout
    probe.requests += 1
    where = urlsplit(request.url)
    try:
        response = send(request, **kwargs)
    except requests.RequestException as exc:
        probe.failures.append(f"{where.netloc}{where.path}: {type(exc).__name__}")
        raise
    if response.status_code >= 500 or response.status_code == 429:
        probe.failures.append(f"{where.netloc}{where.path}: HTTP {response.status_code}")
    elif response.status_code == 200 and "/static/" in where.path:
        problem = body_problem(where.path, response.content)
        if problem:
            probe.failures.append(f"{where.netloc}{where.path}: {problem}")
    return response


def body_problem(path: str, body: bytes) -> str | None:
    """Why a live-timing body cannot be whole, or ``None``.

    FastF1 parses what it gets: a stream cut short (a proxy, a dropped connection that
    still looked complete) gives a session with laps missing, silently. The archive's
    streams are lines that each end in CRLF, its ``.json`` files one JSON document.
    """
    if path.endswith(".jsonStream"):
        return None if not body or body.endswith(b"\n") else "truncated stream"
    if path.endswith(".json"):
        try:
            json.loads(body.decode("utf-8-sig"))
        except ValueError:
            return "invalid JSON"
    return None


def cacheable(response: Any) -> bool:
    """requests-cache's ``filter_fn``: live-timing bodies are cached only when whole."""
    path = urlsplit(response.url).path
    return "/static/" not in path or body_problem(path, response.content) is None


def upstream_failed(message: str) -> UpstreamUnavailable:
    """The public message stays generic; which requests failed goes in a note for the log."""
    error = UpstreamUnavailable(message)
    for failure in probe.failures[:5]:
        error.add_note(f"upstream request failed: {failure}")
    return error
