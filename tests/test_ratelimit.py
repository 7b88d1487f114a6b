"""Rate limiting: budgets, headers, shared Redis store and its fallback, client IP resolution.

Most scenarios run the middleware on a small Starlette app (a REST route, the auth routes, a
tiny GraphQL schema with a ``login`` mutation, a health route); the ``test_app_*`` ones run the
real app through ``make_client``.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
import strawberry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from strawberry.asgi import GraphQL
from strawberry.schema.config import StrawberryConfig
from structlog.testing import capture_logs

from pypole_gql.graphql.auth_limit import AuthRateLimit
from pypole_gql.graphql.errors import AppErrors
from pypole_gql.middleware import RequestContextMiddleware, client_ip
from pypole_gql.ratelimit import RateLimiter, RateLimitMiddleware
from pypole_gql.redis_link import RedisLink
from tests.plugins.clock import FakeClock

LimiterFactory = Callable[..., RateLimiter]
LOGIN = 'mutation { login(email: "a@b.c") }'


@strawberry.type
class _Query:
    @strawberry.field
    def ping(self) -> str:
        return "pong"


@strawberry.type
class _Mutation:
    @strawberry.mutation(extensions=[AuthRateLimit()])  # type: ignore[untyped-decorator]
    async def login(self, email: str) -> str:
        return f"token-for-{email}"


class _GraphQLView(GraphQL[Any, None]):
    async def get_context(self, request: Any, response: Any) -> Any:
        return SimpleNamespace(request=request, response=response)


_schema = strawberry.Schema(
    query=_Query,
    mutation=_Mutation,
    extensions=[AppErrors],
    config=StrawberryConfig(batching_config={"max_operations": 10}),
)


async def _ok(request: Request) -> Response:
    return JSONResponse({"client_ip": client_ip(request.scope)})


def small_app(limiter: RateLimiter) -> Starlette:
    app = Starlette(
        routes=[
            Route("/health/live", _ok),
            Route("/api/v1/ping", _ok),
            Route("/api/v1/auth/login", _ok, methods=["POST"]),
            Route("/api/v1/auth/register", _ok, methods=["POST"]),
            Route("/graphql", _GraphQLView(_schema), methods=["GET", "POST"]),
        ]
    )
    app.state.resources = SimpleNamespace(limiter=limiter)
    app.add_middleware(RateLimitMiddleware)
    app.add_middleware(RequestContextMiddleware)
    return app


def client_for(app: Starlette, ip: str = "203.0.113.7") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(ip, 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.fixture
async def make_limiter() -> AsyncIterator[LimiterFactory]:
    made: list[RateLimiter] = []

    def factory(**options: Any) -> RateLimiter:
        options.setdefault("rate_limit", "5/minute")
        options.setdefault("auth_rate_limit", "2/minute")
        limiter = RateLimiter(**options)
        made.append(limiter)
        return limiter

    yield factory
    for limiter in made:
        await limiter.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _start_redis(port: int) -> subprocess.Popen[bytes]:
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed")
    proc = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    pytest.fail("redis-server did not start")


@pytest.fixture
def own_redis() -> Iterator[SimpleNamespace]:
    """A redis-server of this test's own, which the test may stop and start again."""
    port = _free_port()
    handle = SimpleNamespace(port=port, url=f"redis://127.0.0.1:{port}/0", proc=_start_redis(port))

    def stop() -> None:
        handle.proc.terminate()
        handle.proc.wait(timeout=5)

    def start() -> None:
        handle.proc = _start_redis(port)

    handle.stop, handle.start = stop, start
    yield handle
    if handle.proc.poll() is None:
        stop()


async def test_61st_request_in_a_minute_is_refused_with_headers(
    make_limiter: LimiterFactory, redis_url: str, redis_cleanup: str
) -> None:
    limiter = make_limiter(rate_limit="60/minute", redis_url=redis_url, key_prefix=redis_cleanup)
    async with client_for(small_app(limiter)) as client:
        for _ in range(60):
            assert (await client.get("/api/v1/ping")).status_code == 200
        refused = await client.get("/api/v1/ping")

    assert refused.status_code == 429
    assert refused.json() == {"detail": "Rate limit exceeded: 60 per 1 minute"}
    retry_after = int(refused.headers["Retry-After"])
    assert 1 <= retry_after <= 60
    assert refused.headers["RateLimit-Policy"] == "60;w=60"
    assert re.fullmatch(r"limit=60, remaining=0, reset=\d+", refused.headers["RateLimit"])
    assert refused.headers["X-RateLimit-Limit"] == "60"
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert 0 < int(refused.headers["X-RateLimit-Reset"]) - time.time() <= 61


async def test_successful_responses_carry_rate_limit_headers(make_limiter: LimiterFactory) -> None:
    async with client_for(small_app(make_limiter())) as client:
        first = await client.get("/api/v1/ping")
        second = await client.get("/api/v1/ping")

    assert first.status_code == second.status_code == 200
    assert first.headers["RateLimit-Policy"] == "5;w=60"
    assert re.fullmatch(r"limit=5, remaining=4, reset=\d+", first.headers["RateLimit"])
    assert first.headers["X-RateLimit-Limit"] == "5"
    assert first.headers["X-RateLimit-Remaining"] == "4"
    assert second.headers["X-RateLimit-Remaining"] == "3"
    assert int(first.headers["X-RateLimit-Reset"]) > time.time()
    assert "Retry-After" not in first.headers


async def test_graphql_refusal_is_json_for_rest_and_graphql_clients(
    make_limiter: LimiterFactory,
) -> None:
    async with client_for(small_app(make_limiter(rate_limit="1/minute"))) as client:
        assert (await client.post("/graphql", json={"query": "{ ping }"})).status_code == 200
        refused = await client.post("/graphql", json={"query": "{ ping }"})

    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/json"
    assert refused.headers["Retry-After"]
    body = refused.json()
    # GraphQL's error shape, as every refusal on /graphql (errors.render_for_path).
    assert list(body) == ["errors"]
    assert body["errors"][0]["message"] == "Rate limit exceeded: 1 per 1 minute"
    extensions = body["errors"][0]["extensions"]
    assert extensions["code"] == "RATE_LIMITED"
    assert extensions["retryAfter"] == int(refused.headers["Retry-After"])
    assert extensions["requestId"] == refused.headers["x-request-id"]


async def test_auth_limit_is_separate_and_stricter(make_limiter: LimiterFactory) -> None:
    async with client_for(small_app(make_limiter())) as client:
        logins = [await client.post("/api/v1/auth/login") for _ in range(2)]
        refused = await client.post("/api/v1/auth/register")
        other = await client.get("/api/v1/ping")

    assert [r.status_code for r in logins] == [200, 200]
    assert logins[0].headers["RateLimit-Policy"] == "5;w=60, 2;w=60"
    assert logins[1].headers["X-RateLimit-Limit"] == "2"
    assert refused.status_code == 429
    assert refused.json() == {"detail": "Rate limit exceeded: 2 per 1 minute"}
    assert other.status_code == 200
    assert other.headers["X-RateLimit-Remaining"] == "1"


async def test_graphql_login_aliases_each_pay_the_auth_limit(make_limiter: LimiterFactory) -> None:
    query = 'mutation { a: login(email: "a@b.c") b: login(email: "a@b.c") c: login(email: "x") }'
    async with client_for(small_app(make_limiter())) as client:
        response = await client.post("/graphql", json={"query": query})

    assert response.status_code == 429
    body = response.json()
    assert body["data"] is None  # a non-null mutation field failed
    assert body["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert body["errors"][0]["path"] == ["c"]
    assert response.headers["RateLimit-Policy"] == "2;w=60"
    assert response.headers["X-RateLimit-Remaining"] == "0"
    assert int(response.headers["Retry-After"]) >= 1


async def test_graphql_login_in_a_batch_pays_per_operation(make_limiter: LimiterFactory) -> None:
    batch = [{"query": LOGIN}, {"query": LOGIN}, {"query": LOGIN}]
    async with client_for(small_app(make_limiter())) as client:
        response = await client.post("/graphql", json=batch)

    results = response.json()
    assert [r["data"] is not None for r in results] == [True, True, False]
    assert results[2]["errors"][0]["extensions"]["code"] == "RATE_LIMITED"


async def test_health_endpoints_are_exempt(make_limiter: LimiterFactory) -> None:
    async with client_for(small_app(make_limiter(rate_limit="1/minute"))) as client:
        responses = [await client.get("/health/live") for _ in range(5)]
        api = await client.get("/api/v1/ping")

    assert [r.status_code for r in responses] == [200] * 5
    assert "RateLimit" not in responses[0].headers
    assert api.headers["X-RateLimit-Remaining"] == "0"  # health hits were never counted


async def test_two_instances_sharing_redis_share_one_budget(
    make_limiter: LimiterFactory, redis_url: str, redis_cleanup: str
) -> None:
    one = small_app(make_limiter(redis_url=redis_url, key_prefix=redis_cleanup))
    two = small_app(make_limiter(redis_url=redis_url, key_prefix=redis_cleanup))
    async with client_for(one) as a, client_for(two) as b:
        statuses = [(await c.get("/api/v1/ping")).status_code for c in (a, b, a, b, a)]
        refused_a = await a.get("/api/v1/ping")
        refused_b = await b.get("/api/v1/ping")

    assert statuses == [200] * 5
    assert refused_a.status_code == refused_b.status_code == 429


async def test_redis_down_limit_still_holds_per_process(
    make_limiter: LimiterFactory, own_redis: SimpleNamespace
) -> None:
    limiter = make_limiter(rate_limit="3/minute", redis_url=own_redis.url, retry_backoff=60)
    async with client_for(small_app(limiter)) as client:
        before = [(await client.get("/api/v1/ping")).status_code for _ in range(2)]
        own_redis.stop()
        with capture_logs() as logs:
            during = [(await client.get("/api/v1/ping")).status_code for _ in range(6)]

    assert before == [200, 200]
    # The in-process store starts its own count: 3 more, then refused; nothing fails.
    assert during == [200, 200, 200, 429, 429, 429]
    assert not limiter.shared
    fallbacks = [e for e in logs if e["event"] == "redis.degraded"]
    assert len(fallbacks) == 1
    assert fallbacks[0]["log_level"] == "warning"


async def test_redis_is_used_again_after_the_back_off(
    make_limiter: LimiterFactory, own_redis: SimpleNamespace, clock: FakeClock
) -> None:
    # The limiter's link as it would build it, with its back-off on the fake clock.
    link = RedisLink.from_url(
        own_redis.url, connect_timeout=0.25, socket_timeout=0.25, cooldown=1.0, clock=clock
    )
    limiter = make_limiter(rate_limit="100/minute", redis=link)
    try:
        async with client_for(small_app(limiter)) as client:
            own_redis.stop()
            assert (await client.get("/api/v1/ping")).status_code == 200
            assert not limiter.shared
            own_redis.start()
            clock.advance(0.5)  # within the back-off: still counted in process
            assert (await client.get("/api/v1/ping")).status_code == 200
            assert not limiter.shared
            clock.advance(0.5)  # the back-off is over: the next request probes Redis
            with capture_logs() as logs:
                assert (await client.get("/api/v1/ping")).status_code == 200
    finally:
        await link.close()

    assert limiter.shared
    events = [e["event"] for e in logs if e["event"].startswith("redis.")]
    assert events == ["redis.recovered"]
    assert await _redis_keys(own_redis.url)  # the request was counted in Redis again


async def _redis_keys(url: str) -> list[bytes]:
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(url)
    try:
        return [key async for key in client.scan_iter(match="pypole:ratelimit:*")]
    finally:
        await client.aclose()


async def test_spoofed_forwarded_for_from_untrusted_peer_changes_nothing(
    make_limiter: LimiterFactory,
) -> None:
    app = small_app(make_limiter(rate_limit="2/minute", trusted_proxies=["10.0.0.0/8"]))
    async with client_for(app, ip="203.0.113.7") as client:
        responses = [
            await client.get("/api/v1/ping", headers={"X-Forwarded-For": f"198.51.100.{n}"})
            for n in range(3)
        ]

    assert [r.status_code for r in responses] == [200, 200, 429]
    assert responses[0].json() == {"client_ip": "203.0.113.7"}


async def test_forwarded_for_from_trusted_proxy_uses_rightmost_untrusted_hop(
    make_limiter: LimiterFactory,
) -> None:
    app = small_app(make_limiter(rate_limit="1/minute", trusted_proxies=["10.0.0.0/8"]))
    async with client_for(app, ip="10.0.0.2") as proxy:
        # The client forged the leftmost hop; our proxies appended the rest.
        first = await proxy.get(
            "/api/v1/ping", headers={"X-Forwarded-For": "1.1.1.1, 198.51.100.9, 10.0.0.5"}
        )
        same_client = await proxy.get(
            "/api/v1/ping", headers={"X-Forwarded-For": "2.2.2.2, 198.51.100.9, 10.0.0.5"}
        )
        other_client = await proxy.get("/api/v1/ping", headers={"X-Forwarded-For": "198.51.100.10"})

    assert first.json() == {"client_ip": "198.51.100.9"}
    assert same_client.status_code == 429
    assert other_client.status_code == 200


async def test_ipv6_clients_share_a_budget_per_64(make_limiter: LimiterFactory) -> None:
    app = small_app(make_limiter(rate_limit="1/minute"))
    async with client_for(app, ip="2001:db8::1") as one, client_for(app, ip="2001:db8::2") as two:
        assert (await one.get("/api/v1/ping")).status_code == 200
        assert (await two.get("/api/v1/ping")).status_code == 429


# -- the real app --------------------------------------------------------------------------


def _unique_ip() -> str:
    n = uuid.uuid4().int
    return f"198.18.{n % 250}.{(n >> 8) % 250 + 1}"


async def test_app_61st_graphql_request_is_refused(make_client: Any) -> None:
    async with make_client(rate_limit="60/minute") as client:
        for _ in range(60):
            response = await client.post("/graphql", json={"query": "{ __typename }"})
            assert response.status_code == 200
        refused = await client.post("/graphql", json={"query": "{ __typename }"})

    assert refused.status_code == 429
    assert refused.json()["errors"][0]["message"] == "Rate limit exceeded: 60 per 1 minute"
    assert refused.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert refused.headers["RateLimit-Policy"] == "60;w=60"
    assert refused.headers["x-request-id"]  # answered inside the request context


async def test_app_health_is_exempt(make_client: Any) -> None:
    async with make_client(rate_limit="1/minute") as client:
        statuses = [(await client.get("/health/live")).status_code for _ in range(3)]

    assert statuses == [200, 200, 200]


async def test_app_rest_login_has_the_auth_limit(make_client: Any) -> None:
    async with make_client(rate_limit="60/minute", auth_rate_limit="2/minute") as client:
        attempts = [
            await client.post(
                "/api/v1/auth/login", json={"email": "nobody@example.com", "password": "x" * 12}
            )
            for _ in range(3)
        ]

    assert [r.status_code == 429 for r in attempts] == [False, False, True]
    assert attempts[2].json() == {"detail": "Rate limit exceeded: 2 per 1 minute"}


async def test_app_graphql_login_has_the_auth_limit(make_client: Any) -> None:
    query = (
        'mutation { login(email: "nobody@example.com", password: "xxxxxxxxxxxx") { accessToken } }'
    )
    async with make_client(rate_limit="60/minute", auth_rate_limit="1/minute") as client:
        first = await client.post("/graphql", json={"query": query})
        second = await client.post("/graphql", json={"query": query})

    assert first.status_code != 429
    assert second.status_code == 429
    assert second.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"


async def test_app_limiter_shares_redis(make_client: Any, redis_url: str) -> None:
    ip = _unique_ip()
    headers = {"X-Forwarded-For": ip}
    settings = {"rate_limit": "2/minute", "redis_url": redis_url, "trusted_proxies": ["127.0.0.1"]}
    async with make_client(**settings) as one, make_client(**settings) as two:
        statuses = [(await c.get("/health/live")).status_code for c in (one, two)]  # both apps up
        hits = [
            (await c.post("/graphql", json={"query": "{ __typename }"}, headers=headers))
            for c in (one, two, one)
        ]

    assert statuses == [200, 200]
    assert [r.status_code for r in hits] == [200, 200, 429]


async def test_headers_without_a_decision_equal_the_decisions_headers(
    make_limiter: LimiterFactory,
) -> None:
    # The front's charge (hit_now_headers) builds the allowed answer's headers itself; for
    # the same sequence of charges they must be what Decision.raw_headers says, and the
    # refusal must come at the same request, as a Decision.
    def scope() -> dict[str, Any]:
        return {
            "type": "http",
            "method": "GET",
            "path": "/graphql",
            "headers": [],
            "client": ("203.0.113.9", 4000),
            "state": {},
        }

    with_decision = make_limiter(rate_limit="3/second;5/minute")
    headers_only = make_limiter(rate_limit="3/second;5/minute")

    def without_reset(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
        return [
            (name, value.rsplit(b", reset=", 1)[0] if name == b"ratelimit" else value)
            for name, value in headers
            if name != b"x-ratelimit-reset"
        ]

    for _ in range(3):
        decision = await with_decision.hit(scope())
        answer = headers_only.hit_now_headers(scope())
        assert isinstance(answer, list)
        assert without_reset(answer) == without_reset(decision.raw_headers())
    refused = await with_decision.hit(scope())
    refusal = headers_only.hit_now_headers(scope())
    assert not refused.allowed
    assert not isinstance(refusal, list) and refusal is not None and not refusal.allowed
    assert without_reset(refusal.raw_headers()) == without_reset(refused.raw_headers())
