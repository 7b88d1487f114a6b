"""What the rate limit does not charge (docs pages, their assets, health, CORS preflights), the
default limit per environment, and the 429 in the shape of each edge (issues 16.6 and 17.4).

Every scenario runs the real app through ``make_client``, with a budget small enough that one
charged request more would show.
"""

from __future__ import annotations

from typing import Any

import pytest

from pypole_gql.config import DEFAULT_RATE_LIMITS, Settings
from pypole_gql.docs.pages import ASSETS_PATH, VENDOR_DIR
from pypole_gql.ratelimit import RateLimiter, charged
from tests.plugins.app import TEST_SECRET, ClientFactory

HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
PREFLIGHT = {
    "Origin": "https://dashboard.example",
    "Access-Control-Request-Method": "GET",
    "Access-Control-Request-Headers": "authorization",
}
#: One page pass of the older web frontend (issue 16.6).
PAGE_PASS_CALLS = 70
#: React Query's default: a failed query is tried 3 more times.
RETRIES = 3


def _vendored_asset() -> str:
    """The URL of one vendored bundle the docs pages load (they are installed at build time)."""
    manifest = VENDOR_DIR / "manifest.json"
    if not manifest.is_file():
        pytest.skip("the docs pages' vendored assets are not installed")
    bundle = next(path for path in sorted(VENDOR_DIR.rglob("*.js")))
    return f"{ASSETS_PATH}/vendor/{bundle.relative_to(VENDOR_DIR).as_posix()}"


async def test_docs_pages_their_assets_and_health_are_never_charged(
    make_client: ClientFactory,
) -> None:
    pages = [
        ("/api/v1/docs", {}),
        ("/api/v1/redoc", {}),
        ("/api/v1/openapi.json", {}),
        ("/api/v1/health", {}),
        ("/graphql", HTML),  # GraphiQL's page (on in dev)
        (f"{ASSETS_PATH}/graphiql-init.js", {}),
        (_vendored_asset(), {}),
    ]
    async with make_client(rate_limit="1/minute") as client:
        answers = [await client.get(path, headers=headers) for path, headers in pages * 3]
        charged_once = await client.get("/api/v1/auth/me")
        refused = await client.get("/api/v1/auth/me")

    for answer in answers:
        assert answer.status_code == 200, answer.url
        assert "ratelimit" not in answer.headers, answer.url
    assert answers[4].headers["content-type"].startswith("text/html")
    # The whole budget was still there after 21 docs and health requests.
    assert charged_once.status_code == 401
    assert charged_once.headers["x-ratelimit-remaining"] == "0"
    assert refused.status_code == 429


async def test_a_graphql_query_over_get_is_charged_even_when_it_accepts_html(
    make_client: ClientFactory,
) -> None:
    async with make_client(rate_limit="1/minute") as client:
        first = await client.get("/graphql", params={"query": "{ __typename }"}, headers=HTML)
        second = await client.get("/graphql", params={"query": "{ __typename }"}, headers=HTML)

    assert first.status_code == 200
    assert first.json() == {"data": {"__typename": "Query"}}
    assert first.headers["x-ratelimit-remaining"] == "0"
    assert second.status_code == 429


async def test_graphiql_page_is_charged_when_graphiql_is_off(make_client: ClientFactory) -> None:
    async with make_client(rate_limit="1/minute", graphiql=False) as client:
        first = await client.get("/graphql", headers=HTML)
        second = await client.get("/graphql", headers=HTML)

    assert first.status_code != 429
    assert first.headers["x-ratelimit-remaining"] == "0"
    assert second.status_code == 429


async def test_preflights_are_never_charged_without_cors_configured(
    make_client: ClientFactory,
) -> None:
    # prod with no PYPOLE_CORS_ORIGINS: no CORS middleware answers the preflight.
    async with make_client(env="prod", jwt_secret=TEST_SECRET, rate_limit="2/minute") as client:
        preflights = [
            await client.options(path, headers=PREFLIGHT)
            for path in ("/graphql", "/api/v1/auth/me", "/api/v1/jolpica/schedule/2023") * 3
        ]
        real = await client.get("/api/v1/auth/me")

    assert all(answer.status_code != 429 for answer in preflights)
    assert all("ratelimit" not in answer.headers for answer in preflights)
    assert real.headers["x-ratelimit-remaining"] == "1"


@pytest.mark.parametrize(
    ("method", "path", "query", "headers", "graphiql", "expected"),
    [
        ("GET", "/api/v1/docs", b"", [], True, False),
        ("GET", "/api/v1/docs/", b"", [], True, False),
        ("POST", "/api/v1/health", b"", [], True, True),  # only reads are exempt
        ("GET", "/api/v1/jolpica/schedule/2023", b"", [], True, True),
        ("GET", "/graphql", b"", [(b"accept", b"text/html")], True, False),
        ("GET", "/graphql", b"", [(b"accept", b"text/html")], False, True),
        ("GET", "/graphql", b"", [(b"accept", b"application/json")], True, True),
        ("GET", "/graphql", b"query=", [(b"accept", b"text/html")], True, True),
        ("POST", "/graphql", b"", [(b"accept", b"text/html")], True, True),
        ("OPTIONS", "/graphql", b"", [(b"access-control-request-method", b"POST")], True, False),
        ("OPTIONS", "/graphql", b"", [], True, True),  # not a preflight
        ("GET", "/health/live", b"", [], True, False),
        ("GET", "/static/docs/swagger-init.js", b"", [], True, False),
    ],
)
def test_which_requests_are_charged(
    method: str,
    path: str,
    query: bytes,
    headers: list[tuple[bytes, bytes]],
    graphiql: bool,
    expected: bool,
) -> None:
    scope: dict[str, Any] = {
        "type": "http",
        "method": method,
        "path": path,
        "query_string": query,
        "headers": headers,
    }
    assert charged(scope, graphiql=graphiql) is expected


def test_default_limit_is_higher_in_dev_than_in_prod() -> None:
    dev = Settings(_env_file=None)
    prod = Settings(_env_file=None, env="prod", jwt_secret=TEST_SECRET)
    chosen = Settings(_env_file=None, env="prod", jwt_secret=TEST_SECRET, rate_limit="5/second")

    assert dev.rate_limit == DEFAULT_RATE_LIMITS["dev"] == "1200/minute"
    assert prod.rate_limit == DEFAULT_RATE_LIMITS["prod"] == "300/minute"
    assert chosen.rate_limit == "5/second"  # PYPOLE_RATE_LIMIT wins in every environment


def test_default_limit_reads_from_the_environment_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PYPOLE_RATE_LIMIT", "90/minute")
    monkeypatch.setenv("PYPOLE_ENV", "dev")

    assert Settings(_env_file=None).rate_limit == "90/minute"


async def test_prod_default_fits_a_dashboard_page_pass_with_every_call_retried() -> None:
    settings = Settings(_env_file=None, env="prod", jwt_secret=TEST_SECRET)
    limiter = RateLimiter.from_settings(settings)
    scope: dict[str, Any] = {"type": "http", "client": ("203.0.113.70", 5000), "headers": []}
    try:
        # The worst page pass: every call fails and React Query tries it RETRIES more times.
        worst_pass = [
            await limiter.hit(dict(scope)) for _ in range(PAGE_PASS_CALLS * (1 + RETRIES))
        ]
        # A client that keeps hammering is still stopped within the minute.
        beyond = [await limiter.hit(dict(scope)) for _ in range(PAGE_PASS_CALLS)]
    finally:
        await limiter.close()

    assert all(decision.allowed for decision in worst_pass)
    limit = limiter.limits[0].amount
    assert [d.allowed for d in beyond] == [
        i < limit - len(worst_pass) for i in range(PAGE_PASS_CALLS)
    ]


async def test_the_429_comes_from_the_error_renderer_in_each_edge_shape(
    make_client: ClientFactory,
) -> None:
    async with make_client(rate_limit="1/minute") as client:
        await client.get("/api/v1/auth/me")
        rest = await client.get("/api/v1/auth/me")
        graphql = await client.post("/graphql", json={"query": "{ __typename }"})

    assert (rest.status_code, graphql.status_code) == (429, 429)
    assert rest.json() == {"detail": "Rate limit exceeded: 1 per 1 minute"}
    retry_after = int(graphql.headers["retry-after"])
    assert graphql.json() == {
        "errors": [
            {
                "message": "Rate limit exceeded: 1 per 1 minute",
                "extensions": {
                    "code": "RATE_LIMITED",
                    "retryAfter": retry_after,
                    "requestId": graphql.headers["x-request-id"],
                },
            }
        ]
    }
    for answer in (rest, graphql):
        assert answer.headers["content-type"] == "application/json"
        assert int(answer.headers["content-length"]) == len(answer.content)
        assert answer.headers["ratelimit-policy"] == "1;w=60"
