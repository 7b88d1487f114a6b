"""``create_app(settings)``: the Starlette application and its lifespan."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.routing import Route
from starlette.types import ASGIApp

from pypole_gql.cache.graphql_keys import ResponseCache
from pypole_gql.cache.rest_keys import RestResponseCache
from pypole_gql.config import ConfigError, Settings
from pypole_gql.front import CacheHitFront
from pypole_gql.graphql.limits import MAX_TOKENS
from pypole_gql.graphql.persisted import ManifestError, PersistedQueries, load_manifest
from pypole_gql.graphql.schema import build_schema
from pypole_gql.graphql.view import make_view
from pypole_gql.health import routes as health_routes
from pypole_gql.logging import configure_logging, get_logger
from pypole_gql.middleware import RequestContextMiddleware
from pypole_gql.ratelimit import RateLimitMiddleware
from pypole_gql.resources import build_resources
from pypole_gql.rest import api_routes
from pypole_gql.rest.app import api_app
from pypole_gql.web.cors import CORS
from pypole_gql.web.errors import EXCEPTION_HANDLERS

log = get_logger("pypole.app")


class _App(Starlette):
    """Starlette with a front in front of its whole middleware stack (error guard
    included): the cache-hit front, which answers what it can before any of it runs."""

    front: Callable[[ASGIApp], ASGIApp] | None = None

    def build_middleware_stack(self) -> ASGIApp:
        stack = super().build_middleware_stack()
        return stack if self.front is None else self.front(stack)


def create_app(
    settings: Settings | None = None,
    *,
    configure_logs: bool = True,
    clock: Callable[[], float] | None = None,
    front: bool = True,
) -> Starlette:
    """Build the app. Resources (database, cache, clients) open in the lifespan, not here.

    ``clock``: wall-clock seconds for everything that keeps time (cache freshness, the
    response caches, the services' "now", the Redis breaker's cool-down); ``None`` (in
    production) is :func:`time.time`. Tests give a fake one to move time without waiting.
    ``front``: whether cache hits are answered by :class:`~pypole_gql.front.CacheHitFront`
    (False: by the whole stack, as tests compare and ``bench.inprocess --front off``).
    """
    settings = settings or Settings()
    if configure_logs:
        configure_logging(json=settings.json_logs, level=settings.log_level)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with build_resources(settings, clock=clock) as resources:
            app.state.resources = resources
            log.info("app.started", env=settings.env.value)
            yield
        log.info("app.stopped")

    schema = build_schema(introspection=settings.introspection_enabled)
    graphql = make_view(
        schema, graphiql=settings.graphiql_enabled, timeout=settings.graphql_timeout
    )
    api = api_app()
    app = _App(
        routes=[
            *health_routes,
            Route("/graphql", graphql, methods=["GET", "POST"]),
            *api_routes(api),
        ],
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=lifespan,
    )
    api.state = app.state  # the REST handlers' resources are the app's
    app.state.settings = settings
    # Repeated anonymous GraphQL queries and REST Jolpica reads answered from cache, inside
    # the rate limiter and the access log, in front of the router.
    response_cache = rest_response_cache = None
    if settings.response_cache:
        # On the cache's clock: fresh-until times come from it.
        now = clock or time.time
        response_cache = ResponseCache(
            schema, introspection=settings.introspection_enabled, max_tokens=MAX_TOKENS, clock=now
        )
        rest_response_cache = RestResponseCache(clock=now)
        app.add_middleware(rest_response_cache.wrap)
        app.add_middleware(response_cache.wrap)
    app.state.response_cache = response_cache
    app.state.rest_response_cache = rest_response_cache
    # Persisted queries (APQ, the allow-list): outside the response cache, which then sees
    # a request by hash as the same query sent in full.
    persisted = PersistedQueries(_manifest(settings), persisted_only=settings.persisted_only)
    app.add_middleware(persisted.wrap)
    app.state.persisted_queries = persisted
    # Inside RequestContext: logged with client IP. GraphiQL's page is not charged.
    app.add_middleware(RateLimitMiddleware, graphiql=settings.graphiql_enabled)
    app.add_middleware(RequestContextMiddleware)
    if settings.allowed_origins:
        app.add_middleware(CORS, origins=settings.allowed_origins)  # outermost: see web/cors.py
    if front and settings.response_cache:
        # Before all of the above: a hit it holds is answered as they would answer it.
        def build_front(stack: ASGIApp) -> ASGIApp:
            built = CacheHitFront(
                stack,
                graphql=response_cache,
                rest=rest_response_cache,
                persisted=persisted,
                graphiql=settings.graphiql_enabled,
                cors_origins=settings.allowed_origins,
            )
            app.state.front = built  # for tests and the bench: its counter
            return built

        app.front = build_front
    return app


def _manifest(settings: Settings) -> dict[str, str]:
    """The persisted query manifest's operations: none when there is no file, unless only
    persisted operations may run (then a missing or broken manifest stops the start)."""
    path = settings.resolved_persisted_queries_file
    if not path.exists() and not settings.persisted_only:
        return {}
    try:
        manifest = load_manifest(path)
    except ManifestError as exc:
        if settings.persisted_only:
            raise ConfigError(
                f"PYPOLE_PERSISTED_ONLY is on but the manifest cannot be used: {exc} "
                "(write it with `pypole persist DIR`)"
            ) from None
        log.warning("persisted_queries.manifest_unusable", error=str(exc))
        return {}
    log.info("persisted_queries.manifest", path=str(path), operations=len(manifest))
    return manifest
