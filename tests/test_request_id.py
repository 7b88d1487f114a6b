"""The request id: taken from ``X-Request-ID`` when it is sane, generated otherwise, echoed in
the response and carried by the request's access log line."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.auth.support import AUTH
from tests.plugins.app import ClientFactory
from tests.test_logging import captured_logs, completed, json_lines

GENERATED = re.compile(r"^[0-9a-f]{32}$")


async def get_logged(
    make_client: ClientFactory, path: str, headers: dict[str, str] | None = None
) -> tuple[httpx.Response, list[dict[str, Any]]]:
    with captured_logs(level="INFO") as buffer:
        async with make_client() as client:
            response = await client.get(path, headers=headers or {})
    return response, completed(json_lines(buffer))


async def test_a_given_request_id_is_echoed_and_logged(make_client: ClientFactory) -> None:
    response, lines = await get_logged(
        make_client, f"{AUTH}/me", {"X-Request-ID": "client-abc.123:retry-1"}
    )

    assert response.status_code == 401
    assert response.headers["x-request-id"] == "client-abc.123:retry-1"
    assert [line["request_id"] for line in lines] == ["client-abc.123:retry-1"]


async def test_a_request_id_is_generated_when_absent(make_client: ClientFactory) -> None:
    response, lines = await get_logged(make_client, "/graphql?query={__typename}")

    assert response.status_code == 200
    request_id = response.headers["x-request-id"]
    assert GENERATED.match(request_id)
    assert [(line["path"], line["request_id"]) for line in lines] == [("/graphql", request_id)]


async def test_each_request_gets_its_own_id(make_client: ClientFactory) -> None:
    async with make_client() as client:
        ids = {(await client.get("/health/live")).headers["x-request-id"] for _ in range(5)}

    assert len(ids) == 5


@pytest.mark.parametrize(
    "given",
    [
        pytest.param("a" * 129, id="too-long"),
        pytest.param("x" * 100_000, id="huge"),
        pytest.param("id with spaces", id="spaces"),
        pytest.param('"><script>alert(1)</script>', id="markup"),
        pytest.param("line\tbreak", id="control"),
        pytest.param("fake\u00e9id", id="non-ascii"),
    ],
)
async def test_a_garbage_request_id_is_replaced(make_client: ClientFactory, given: str) -> None:
    with captured_logs(level="INFO") as buffer:
        async with make_client() as client:
            # Raw bytes: httpx would refuse some of these values as a str header.
            response = await client.get(
                f"{AUTH}/me", headers=[(b"X-Request-ID", given.encode("latin-1"))]
            )
    lines = completed(json_lines(buffer))

    echoed = response.headers["x-request-id"]
    assert GENERATED.match(echoed)
    assert [line["request_id"] for line in lines] == [echoed]
    assert given not in buffer.getvalue()


async def test_the_longest_accepted_request_id(make_client: ClientFactory) -> None:
    given = "r" * 128
    async with make_client() as client:
        response = await client.get("/health/live", headers={"X-Request-ID": given})

    assert response.headers["x-request-id"] == given


async def test_an_error_response_carries_the_request_id(make_client: ClientFactory) -> None:
    async with make_client() as client:
        response = await client.post(
            f"{AUTH}/login", data={"email": "x@example.com"}, headers={"X-Request-ID": "req-7"}
        )

    assert response.status_code == 422
    assert response.headers["x-request-id"] == "req-7"
