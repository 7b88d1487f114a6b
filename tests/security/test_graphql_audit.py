"""The well-known GraphQL audit payloads, each refused with a clear error, and cheaply.

Cheaply means before any work: no service method is called and the replay upstream sees
no request. ``test_an_ordinary_query_does_reach_the_services`` shows that both counters
do count, so their zeros below mean something.
"""

from __future__ import annotations

import httpx
import orjson
import pytest

from pypole_gql.graphql.limits import MAX_ALIASES, MAX_BODY_BYTES, MAX_DEPTH, MAX_DIRECTIVES
from tests.plugins.replay import Replay
from tests.security.conftest import ReplayApp, error_of

SEASON = "season(year: 2023) { year }"


async def post(client: httpx.AsyncClient, query: str) -> httpx.Response:
    return await client.post("/graphql", json={"query": query})


def assert_untouched(calls: list[str], replay: Replay) -> None:
    assert calls == []
    assert replay.requests() == []


async def test_an_ordinary_query_does_reach_the_services(
    replay_app: ReplayApp, replay: Replay, service_calls: list[str]
) -> None:
    async with replay_app() as client:
        response = await post(client, "{ " + SEASON + " }")

    assert response.json() == {"data": {"season": {"year": 2023}}}
    assert "F1Service.schedule" in service_calls
    assert replay.count(prefix="/ergast/") > 0


async def test_101_aliases(replay_app: ReplayApp, replay: Replay, service_calls: list[str]) -> None:
    query = "{ " + " ".join(f"a{i}: {SEASON}" for i in range(101)) + " }"

    async with replay_app() as client:
        response = await post(client, query)

    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None
    assert error_of(body)["message"] == (
        f"Operation 'anonymous' uses 101 aliases; the limit is {MAX_ALIASES}"
    )
    assert error_of(body)["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert_untouched(service_calls, replay)


@pytest.mark.parametrize("field", [SEASON, "__typename", "me { id }"])
async def test_500_duplicated_fields(
    replay_app: ReplayApp, replay: Replay, service_calls: list[str], field: str
) -> None:
    async with replay_app() as client:
        response = await post(client, "{ " + " ".join([field] * 500) + " }")

    assert response.status_code == 200
    error = error_of(response.json())
    assert error["message"] == (
        "The document selects 499 fields again where they are already selected; the limit is 20"
    )
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert_untouched(service_calls, replay)


async def test_a_batch_of_10_operations(
    replay_app: ReplayApp, replay: Replay, service_calls: list[str]
) -> None:
    batch = [{"query": "{ " + SEASON + " }"} for _ in range(10)]

    async with replay_app() as client:
        response = await client.post("/graphql", json=batch)

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    error = error_of(response.json())
    assert error["message"] == (
        "Batched operations are not supported: send one operation per request"
    )
    assert error["extensions"]["code"] == "BATCHING_NOT_SUPPORTED"
    assert error["extensions"]["requestId"] == response.headers["x-request-id"]
    assert_untouched(service_calls, replay)


async def test_directive_overloading(
    replay_app: ReplayApp, replay: Replay, service_calls: list[str]
) -> None:
    query = "{ season(year: 2023) " + "@include(if: true) " * 500 + "{ year } }"

    async with replay_app() as client:
        response = await post(client, query)

    # One error, not one per repeated directive.
    error = error_of(response.json())
    assert error["message"] == f"The document uses more than {MAX_DIRECTIVES} directives"
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert_untouched(service_calls, replay)


async def test_circular_introspection_in_dev(
    replay_app: ReplayApp, replay: Replay, service_calls: list[str]
) -> None:
    query = "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }"

    async with replay_app(env="dev") as client:
        response = await post(client, query)

    error = error_of(response.json())
    assert error["message"] == "Maximum introspection depth exceeded"
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert_untouched(service_calls, replay)


async def test_deep_circular_introspection_is_over_the_depth_limit(
    replay_app: ReplayApp, replay: Replay
) -> None:
    # Through ofType, which graphql-core's introspection rule does not count.
    query = "{ __schema { types { " + "fields { type { ofType { " * 6 + "name" + " } } }" * 6
    query += " } } }"

    async with replay_app(env="dev") as client:
        body = (await post(client, query)).json()

    assert [e["message"] for e in body["errors"]] == [
        f"Operation 'anonymous' is 15 fields deep; the limit is {MAX_DEPTH}",
        "Maximum introspection depth exceeded",
    ]


async def test_a_query_20_deep(
    replay_app: ReplayApp, replay: Replay, service_calls: list[str]
) -> None:
    query = "{ " + "season(year: 2023) { races { results { driver { " + "x { " * 16
    query += "name" + " }" * 20 + " }"

    async with replay_app() as client:
        response = await post(client, query)

    # Refused for its depth alone: the unknown fields are not even looked at.
    error = error_of(response.json())
    assert error["message"] == f"Operation 'anonymous' is 21 fields deep; the limit is {MAX_DEPTH}"
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert_untouched(service_calls, replay)


async def test_a_get_mutation(
    replay_app: ReplayApp, replay: Replay, service_calls: list[str]
) -> None:
    mutation = (
        'mutation { register(input: {email: "get@example.com", username: "getter", '
        'password: "correct horse battery"}) { accessToken } }'
    )

    async with replay_app() as client:
        response = await client.get("/graphql", params={"query": mutation})
        refused_calls = list(service_calls)
        # The same mutation over POST works: only the method was wrong.
        allowed = await post(client, mutation)

    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    error = error_of(response.json())
    assert error["message"] == "Mutations are only accepted over POST"
    assert error["extensions"]["code"] == "METHOD_NOT_ALLOWED"
    assert refused_calls == []
    assert allowed.json()["data"]["register"]["accessToken"]
    assert "AuthService.register_and_login" in service_calls


async def test_a_url_encoded_post(
    replay_app: ReplayApp, replay: Replay, service_calls: list[str]
) -> None:
    async with replay_app() as client:
        response = await client.post("/graphql", data={"query": "{ " + SEASON + " }"})

    assert response.status_code == 415
    error = error_of(response.json())
    assert error["message"].startswith("POST /graphql takes a JSON body")
    assert error["extensions"]["code"] == "UNSUPPORTED_MEDIA_TYPE"
    assert_untouched(service_calls, replay)


async def test_a_1_mib_body(
    replay_app: ReplayApp, replay: Replay, service_calls: list[str]
) -> None:
    padding = " " * (1024 * 1024)
    content = orjson.dumps({"query": "{ " + SEASON + padding + " }"})

    async with replay_app() as client:
        response = await client.post(
            "/graphql", content=content, headers={"content-type": "application/json"}
        )

    assert response.status_code == 413
    error = error_of(response.json())
    assert error["message"] == (
        f"The request body is larger than the limit of {MAX_BODY_BYTES} bytes"
    )
    assert error["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    assert_untouched(service_calls, replay)
