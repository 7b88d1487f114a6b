"""The GraphQL protections beyond the audit payloads: where each limit lies, the timeout,
the accepted media types, and what ``prod`` turns off by default."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import httpx
import orjson
import pytest
from graphql import parse, validate

from pypole_gql.graphql.limits import MAX_BODY_BYTES, MAX_LIST_ITEMS, limit_rules
from pypole_gql.graphql.schema import build_schema
from tests.plugins.replay import Replay
from tests.schema_support import core_schema
from tests.security.conftest import ReplayApp, error_of

LAPS = 'query($d: [String!]) { session(year: 2023, race: "1") { laps(drivers: $d) { lapNumber } } }'


def _body_of_size(size: int) -> bytes:
    """A valid operation, padded with spaces to exactly ``size`` bytes of JSON."""
    bare = orjson.dumps({"query": "{ __typename }"})
    return orjson.dumps({"query": "{ __typename }" + " " * (size - len(bare))})


# -- body size ------------------------------------------------------------------------------


async def test_a_body_at_the_limit_is_served(replay_app: ReplayApp) -> None:
    body = _body_of_size(MAX_BODY_BYTES)
    assert len(body) == MAX_BODY_BYTES

    async with replay_app() as client:
        response = await client.post(
            "/graphql", content=body, headers={"content-type": "application/json"}
        )

    assert response.json() == {"data": {"__typename": "Query"}}


async def test_one_byte_over_the_limit_is_413(replay_app: ReplayApp) -> None:
    async with replay_app() as client:
        response = await client.post(
            "/graphql",
            content=_body_of_size(MAX_BODY_BYTES + 1),
            headers={"content-type": "application/json"},
        )

    assert response.status_code == 413
    assert error_of(response.json())["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


async def test_a_streamed_body_is_read_no_further_than_the_limit(
    replay_app: ReplayApp, service_calls: list[str]
) -> None:
    # No Content-Length: the view must count what arrives and stop reading at the limit.
    chunk = b" " * 8192
    chunks_total = 128  # 1 MiB
    sent: list[int] = []

    async def stream() -> AsyncIterator[bytes]:
        yield b'{"query": "{ __typename '
        for index in range(chunks_total):
            sent.append(index)
            yield chunk
        yield b'}"}'

    async with replay_app() as client:
        response = await client.post(
            "/graphql", content=stream(), headers={"content-type": "application/json"}
        )

    assert response.status_code == 413
    assert "content-length" not in response.request.headers
    assert len(sent) <= MAX_BODY_BYTES // len(chunk) + 1 < chunks_total
    assert service_calls == []


# -- media types and methods ----------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    ["application/graphql", "multipart/form-data; boundary=x", "text/plain", ""],
)
async def test_only_json_bodies_are_accepted(replay_app: ReplayApp, content_type: str) -> None:
    async with replay_app() as client:
        response = await client.post(
            "/graphql",
            content=b'{"query": "{ __typename }"}',
            headers={"content-type": content_type},
        )

    assert response.status_code == 415
    assert error_of(response.json())["extensions"]["code"] == "UNSUPPORTED_MEDIA_TYPE"


async def test_json_with_a_charset_and_get_queries_are_served(replay_app: ReplayApp) -> None:
    async with replay_app() as client:
        posted = await client.post(
            "/graphql",
            content=b'{"query": "{ __typename }"}',
            headers={"content-type": "application/json; charset=utf-8"},
        )
        got = await client.get("/graphql", params={"query": "{ __typename }"})

    assert posted.json() == got.json() == {"data": {"__typename": "Query"}}


async def test_a_body_that_is_not_json_is_a_json_400(replay_app: ReplayApp) -> None:
    async with replay_app() as client:
        response = await client.post(
            "/graphql", content=b"{query", headers={"content-type": "application/json"}
        )

    assert response.status_code == 400
    error = error_of(response.json())
    assert error == {
        "message": "Unable to parse request body as JSON",
        "extensions": {"code": "BAD_REQUEST", "requestId": response.headers["x-request-id"]},
    }


# -- list arguments -------------------------------------------------------------------------


async def test_a_long_list_literal_is_refused_before_the_session_loads(
    replay_app: ReplayApp, replay: Replay, service_calls: list[str]
) -> None:
    drivers = ", ".join(f'"D{i:02}"' for i in range(MAX_LIST_ITEMS + 1))
    query = f'{{ session(year: 2023, race: "1") {{ laps(drivers: [{drivers}]) {{ lapNumber }} }} }}'

    async with replay_app() as client:
        response = await client.post("/graphql", json={"query": query})

    error = error_of(response.json())
    assert error["message"] == "A list of 101 items; a list may hold at most 100"
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert service_calls == []
    assert replay.requests() == []


async def test_a_long_list_variable_is_refused_before_the_session_loads(
    replay_app: ReplayApp, replay: Replay, service_calls: list[str]
) -> None:
    variables = {"d": [f"D{i}" for i in range(MAX_LIST_ITEMS + 1)]}

    async with replay_app() as client:
        response = await client.post("/graphql", json={"query": LAPS, "variables": variables})

    error = error_of(response.json())
    assert (
        error["message"] == "Variable '$d' holds a list of 101 items; a list may hold at most 100"
    )
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert service_calls == []
    assert replay.requests() == []


@pytest.mark.parametrize("where", ["literal", "variable"])
@pytest.mark.parametrize(
    ("items", "refused"), [(MAX_LIST_ITEMS, False), (MAX_LIST_ITEMS + 1, True)]
)
def test_the_list_cap_lies_at_max_list_items(where: str, items: int, refused: bool) -> None:
    schema = build_schema()
    numbers = list(range(items))
    if where == "literal":
        laps = f"laps(lapNumbers: {numbers}) {{ lapNumber }}"
        document = parse(f'{{ session(year: 2023, race: "1") {{ {laps} }} }}')
        variables = None
    else:
        document = parse(LAPS)
        variables = {"d": [str(n) for n in numbers]}

    errors = validate(core_schema(schema), document, list(limit_rules(variables)))

    assert bool(errors) is refused, errors


# -- timeout --------------------------------------------------------------------------------


async def test_a_slow_operation_is_cancelled_with_timeout(
    replay_app: ReplayApp, replay: Replay
) -> None:
    replay.fault(prefix="/ergast/", delay=2.0)

    async with replay_app(graphql_timeout=0.3) as client:
        started = time.monotonic()
        response = await client.post("/graphql", json={"query": "{ season { year } }"})
        elapsed = time.monotonic() - started

    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None
    assert error_of(body) == {
        "message": "The operation did not finish within 0.3 seconds; its data is still "
        "loading, retry in a moment",
        "extensions": {"code": "TIMEOUT", "requestId": response.headers["x-request-id"]},
    }
    assert replay.count(prefix="/ergast/") >= 1  # it was waiting on the slow upstream
    assert elapsed < 1.5  # answered at the timeout, not when the upstream answered


async def test_an_operation_within_the_timeout_is_served(
    replay_app: ReplayApp, replay: Replay
) -> None:
    replay.fault(prefix="/ergast/", delay=0.2)

    async with replay_app(graphql_timeout=5) as client:
        response = await client.post("/graphql", json={"query": "{ season(year: 2023) { year } }"})

    assert response.json() == {"data": {"season": {"year": 2023}}}


# -- prod and dev defaults ------------------------------------------------------------------

INTROSPECTION = "{ __schema { queryType { name } } }"
TYPO = "{ seasn(year: 2023) { year } }"


async def _ide(client: httpx.AsyncClient) -> httpx.Response:
    return await client.get("/graphql", headers={"accept": "text/html"})


async def test_prod_has_no_graphiql_introspection_or_suggestions(replay_app: ReplayApp) -> None:
    async with replay_app(env="prod") as client:
        ide = await _ide(client)
        introspection = (await client.post("/graphql", json={"query": INTROSPECTION})).json()
        typo = (await client.post("/graphql", json={"query": TYPO})).json()
        typename = (await client.post("/graphql", json={"query": "{ __typename }"})).json()

    assert ide.status_code == 404
    assert ide.headers["content-type"] == "application/json"
    assert error_of(ide.json())["extensions"]["code"] == "NOT_FOUND"
    assert introspection["data"] is None
    first = introspection["errors"][0]
    assert first["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert first["message"] == (
        "GraphQL introspection has been disabled, but the requested query contained "
        "the field '__schema'."
    )
    assert error_of(typo)["message"] == "Cannot query field 'seasn' on type 'Query'."
    assert typename == {"data": {"__typename": "Query"}}


async def test_prod_can_turn_graphiql_and_introspection_on(replay_app: ReplayApp) -> None:
    async with replay_app(env="prod", graphiql=True, introspection=True) as client:
        ide = await _ide(client)
        introspection = (await client.post("/graphql", json={"query": INTROSPECTION})).json()
        typo = (await client.post("/graphql", json={"query": TYPO})).json()

    assert ide.status_code == 200
    assert ide.headers["content-type"].startswith("text/html")
    assert introspection == {"data": {"__schema": {"queryType": {"name": "Query"}}}}
    assert "Did you mean 'season'" in error_of(typo)["message"]


async def test_dev_has_everything_on_and_can_turn_it_off(replay_app: ReplayApp) -> None:
    async with replay_app(env="dev") as client:
        ide = await _ide(client)
        introspection = (await client.post("/graphql", json={"query": INTROSPECTION})).json()
        typo = (await client.post("/graphql", json={"query": TYPO})).json()
    async with replay_app(env="dev", graphiql=False, introspection=False) as client:
        closed_ide = await _ide(client)
        closed = (await client.post("/graphql", json={"query": INTROSPECTION})).json()

    assert ide.status_code == 200
    assert introspection["data"]["__schema"]["queryType"]["name"] == "Query"
    assert "Did you mean 'season'" in error_of(typo)["message"]
    assert closed_ide.status_code == 404
    assert closed["data"] is None
    assert "introspection has been disabled" in closed["errors"][0]["message"]


async def test_suggestions_are_hidden_in_variable_errors_too(replay_app: ReplayApp) -> None:
    query = "mutation($i: PreferencesInput!) { updatePreferences(input: $i) { id } }"
    variables = {"i": {"thme": "DARK"}}

    async with replay_app(env="prod") as client:
        body = (await client.post("/graphql", json={"query": query, "variables": variables})).json()

    error = error_of(body)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "thme" in error["message"]
    assert "Did you mean" not in error["message"]
