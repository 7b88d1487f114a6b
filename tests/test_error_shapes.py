"""One renderer, two shapes: ``/graphql`` always answers errors as GraphQL does, every other
path as ``{"detail": ...}``; also for failures no handler expected."""

from __future__ import annotations

from typing import Any

import pytest

from pypole_gql.errors import RateLimited, render_for_path
from pypole_gql.graphql.view import GraphQLView
from pypole_gql.services.f1 import F1Service
from tests.plugins.app import ClientFactory


def test_render_for_path_picks_the_shape() -> None:
    error = RateLimited("Rate limit exceeded: 1 per 1 minute", headers={"Retry-After": "60"})

    rest = render_for_path("/api/v1/jolpica/schedule", error, "rid-1")
    graphql = render_for_path("/graphql", error, "rid-1")

    assert (rest.status, graphql.status) == (429, 429)
    assert rest.content == {"detail": "Rate limit exceeded: 1 per 1 minute"}
    assert graphql.content == {
        "errors": [
            {
                "message": "Rate limit exceeded: 1 per 1 minute",
                "extensions": {"code": "RATE_LIMITED", "requestId": "rid-1"},
            }
        ]
    }
    assert dict(graphql.headers) == {"Retry-After": "60"}
    assert (b"retry-after", b"60") in graphql.raw_headers()
    assert render_for_path("/graphqlx", error).content == rest.content


async def test_an_unexpected_rest_failure_is_a_json_500(
    make_client: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(self: F1Service) -> None:
        raise RuntimeError("secret-detail-xyz")

    monkeypatch.setattr(F1Service, "next_race", broken)
    async with make_client() as client:
        response = await client.get("/api/v1/jolpica/schedule/next")

    assert response.status_code == 500
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {
        "detail": "Internal server error",
        "request_id": response.headers["x-request-id"],
    }


async def test_a_failure_escaping_the_graphql_view_answers_in_graphql_shape(
    make_client: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(self: GraphQLView, *args: Any) -> None:
        raise RuntimeError("secret-detail-xyz")

    monkeypatch.setattr(GraphQLView, "get_context", broken)
    async with make_client() as client:
        response = await client.post("/graphql", json={"query": "{ __typename }"})

    assert response.status_code == 500
    assert "secret-detail-xyz" not in response.text
    assert response.json() == {
        "errors": [
            {
                "message": "Internal server error",
                "extensions": {"code": "INTERNAL", "requestId": response.headers["x-request-id"]},
            }
        ]
    }


async def test_a_method_graphql_does_not_serve_is_refused_in_graphql_shape(
    make_client: ClientFactory,
) -> None:
    async with make_client() as client:
        response = await client.put("/graphql", json={"query": "{ __typename }"})

    assert response.status_code == 405
    assert {m.strip() for m in response.headers["allow"].split(",")} >= {"GET", "POST"}
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "METHOD_NOT_ALLOWED"
    assert error["extensions"]["requestId"] == response.headers["x-request-id"]


async def test_rest_paths_keep_the_detail_shape(make_client: ClientFactory) -> None:
    async with make_client() as client:
        missing = await client.get("/api/v1/no/such/route")
        outside = await client.get("/no/such/page")
        head = await client.head("/api/v1/docs")

    assert (missing.status_code, missing.json()) == (404, {"detail": "Not Found"})
    assert (outside.status_code, outside.json()) == (404, {"detail": "Not Found"})
    assert head.status_code == 200  # HEAD answered by the GET route, as before
