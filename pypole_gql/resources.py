"""Everything the running app holds: built once in the lifespan, closed at shutdown.

No module keeps a connection of its own; request handlers reach these through
``request.app.state.resources``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pypole_gql.archive import open_archive
from pypole_gql.auth.service import AuthService
from pypole_gql.cache import Cache
from pypole_gql.clock import service_clock
from pypole_gql.config import Settings
from pypole_gql.db.engine import Database
from pypole_gql.logging import get_logger
from pypole_gql.ratelimit import RateLimiter
from pypole_gql.redis_link import RedisLink
from pypole_gql.services.comparison import ComparisonService
from pypole_gql.services.f1 import F1Service
from pypole_gql.services.predictions import PredictionService
from pypole_gql.services.profiles import ProfileService
from pypole_gql.services.race_weekend import RaceWeekendService
from pypole_gql.services.sessions import SessionService
from pypole_gql.services.strategy import StrategyService
from pypole_gql.services.widgets import WidgetService
from pypole_gql.upstream.budget import OutboundBudget
from pypole_gql.upstream.fastf1 import FastF1Client, FastF1Config
from pypole_gql.upstream.http import HttpClient
from pypole_gql.upstream.jolpica import JolpicaClient

if TYPE_CHECKING:
    from starlette.requests import HTTPConnection

log = get_logger("pypole.resources")
#: Seconds one readiness check may take (a load balancer's probe must not hang on a dead host).
READINESS_TIMEOUT = 3.0


@dataclass
class Resources:
    settings: Settings
    db: Database
    auth: AuthService
    limiter: RateLimiter
    cache: Cache
    redis: RedisLink | None
    http: HttpClient
    jolpica: JolpicaClient
    f1: F1Service
    sessions: SessionService
    profiles: ProfileService
    comparison: ComparisonService
    strategy: StrategyService
    race_weekend: RaceWeekendService
    predictions: PredictionService
    widgets: WidgetService
    extras: dict[str, Any] = field(default_factory=dict)

    async def readiness(self) -> dict[str, bool]:
        """Each dependency's reachability, for ``/health/ready``: checked concurrently, and a
        check that has not answered within ``READINESS_TIMEOUT`` seconds counts as failing."""
        probes: dict[str, Awaitable[bool]] = {"database": self.db.ping()}
        if self.settings.redis_url:
            probes["redis"] = self.cache.ping()
        results = await asyncio.gather(
            *(asyncio.wait_for(probe, READINESS_TIMEOUT) for probe in probes.values()),
            return_exceptions=True,
        )
        return {name: result is True for name, result in zip(probes, results, strict=True)}

    async def readiness_report(self) -> tuple[dict[str, Any], int]:
        """The body and status of a readiness check (``/health/ready`` and
        ``/api/v1/health`` answer it): 503 when a dependency is failing."""
        checks = await self.readiness()
        ok = all(checks.values())
        body = {
            "status": "ok" if ok else "unavailable",
            "checks": {name: ("ok" if good else "failing") for name, good in checks.items()},
        }
        return body, 200 if ok else 503


@asynccontextmanager
async def build_resources(
    settings: Settings, *, clock: Callable[[], float] | None = None
) -> AsyncIterator[Resources]:
    """Open every resource for the app's lifetime; close them in reverse order.

    ``clock``: wall-clock seconds, given to every component that keeps time (the cache's
    fresh-until times, the session service and its loads, the archive, the services' "now"
    and, when given, the Redis breaker's cool-down); ``None`` is :func:`time.time` (and
    :func:`time.monotonic` for the breaker). Redis's own key expiry stays real time: it is
    only the outer bound (fresh time plus the stale grace) of what the clock decides.
    """
    now = clock or time.time

    def utc_now() -> datetime:
        return datetime.fromtimestamp(now(), UTC)

    # The services' "now" (seasons, race starts, prediction windows): the given clock, else
    # PYPOLE_NOW's fixed moment, else the wall clock.
    service_now = utc_now if clock is not None else service_clock(settings)

    async with AsyncExitStack() as stack:
        db = Database(settings.database_url)
        stack.push_async_callback(db.close)
        auth = AuthService.from_settings(settings, db)
        # One link to Redis for the cache, the rate limiter and the outbound budget: one
        # pool, one breaker (redis.degraded / redis.recovered); closed after all of them.
        redis: RedisLink | None = None
        if settings.redis_url:
            redis = RedisLink.from_url(settings.redis_url, clock=clock)
            stack.push_async_callback(redis.close)
        limiter = RateLimiter.from_settings(settings, redis=redis)
        stack.push_async_callback(limiter.close)
        namespace = settings.redis_namespace
        cache = await Cache.create(
            settings.redis_url or None,
            namespace=namespace,
            stale_grace=settings.stale_grace,
            redis=redis,
            clock=now,
        )
        stack.push_async_callback(cache.close)
        http = await stack.enter_async_context(
            HttpClient.open(call_timeout=settings.jolpica_timeout)
        )
        budget = OutboundBudget(
            settings.jolpica_rate,
            name="jolpica",
            redis=redis,
            key_prefix=f"{namespace}:budget",
        )
        stack.push_async_callback(budget.close)
        jolpica = JolpicaClient(http, settings.jolpica_url, budget)
        f1 = F1Service.from_settings(settings, jolpica, cache, clock=service_now)
        # Workers start on the first load, not here: a server that never loads a session
        # never pays for them.
        fastf1 = FastF1Client(
            FastF1Config.from_settings(settings),
            max_workers=settings.fastf1_workers,
            load_timeout=settings.fastf1_load_timeout,
        )
        archive = open_archive(settings, db, clock=now)
        stack.push_async_callback(archive.close)
        sessions = SessionService.from_settings(
            settings, fastf1, cache, f1, archive, redis, clock=now
        )
        stack.push_async_callback(sessions.aclose)
        # The frontend's pages: stateless over the two data services (and the database
        # for predictions); nothing of their own to open or close.
        profiles = ProfileService(f1)
        predictions = PredictionService(db, f1, clock=service_now)
        resources = Resources(
            settings=settings,
            db=db,
            auth=auth,
            limiter=limiter,
            cache=cache,
            redis=redis,
            http=http,
            jolpica=jolpica,
            f1=f1,
            sessions=sessions,
            profiles=profiles,
            comparison=ComparisonService(f1, sessions),
            strategy=StrategyService(sessions, f1),
            race_weekend=RaceWeekendService(f1, sessions, clock=service_now),
            predictions=predictions,
            widgets=WidgetService(f1, sessions, profiles, predictions, clock=service_now),
        )
        log.info("app.resources_ready", database=db.engine.url.render_as_string(hide_password=True))
        yield resources


def get_resources(conn: HTTPConnection) -> Resources:
    resources: Resources = conn.app.state.resources
    return resources
