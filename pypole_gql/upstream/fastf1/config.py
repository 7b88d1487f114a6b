"""Where FastF1 fetches from and caches to: its module-level patch points, set per process.

FastF1 3.9.0 keeps its upstream URLs, its HTTP cache and its rate limiter in module
attributes; :func:`configure_fastf1` sets all of them in the (worker) process before the
first request, and :class:`FastF1Config` is the picklable set of arguments that travels
to the worker.
"""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

from pypole_gql.upstream.fastf1.probe import cacheable, instrument

if TYPE_CHECKING:
    from pypole_gql.config import Settings

UPSTREAM_LIVETIMING_URL: Final = "https://livetiming.formula1.com"
UPSTREAM_LIVETIMING_MIRROR_URL: Final = "https://livetiming-mirror.fastf1.dev"
UPSTREAM_SCHEDULE_URL: Final = "https://raw.githubusercontent.com/theOehrly/f1schedule/master"
UPSTREAM_JOLPICA_URL: Final = "https://api.jolpi.ca/ergast/f1"
UPSTREAM_MVAPI_URL: Final = "https://api.multiviewer.app"


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
      counted (:mod:`pypole_gql.upstream.fastf1.probe`).

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
    # on stderr. Warnings are collected per load instead (see load.py).
    fastf1.set_log_level("ERROR")
    for session in (fastf1.Cache._requests_session, fastf1.Cache._requests_session_cached):
        if session is not None:
            instrument(session, request_timeout)
    cached = fastf1.Cache._requests_session_cached
    if cached is not None:
        # A truncated body arrives as a 200: without this, FastF1's HTTP cache would keep it
        # and every later load would build a session with laps missing from it, quietly.
        cached.settings.filter_fn = cacheable
    _applied = key


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
