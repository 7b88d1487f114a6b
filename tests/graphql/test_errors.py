"""GraphQL error rendering: our errors keep their code, anything unexpected is masked.

The unexpected failure is injected into a real resolver path (the service behind
``nextRace``), so it travels the same way a bug would.
"""

from __future__ import annotations

import traceback
from typing import Any

import httpx
import pytest
from structlog.testing import capture_logs

from pypole_gql.errors import UpstreamUnavailable
from pypole_gql.graphql.limits import MAX_TOKENS
from pypole_gql.services.f1 import F1Service
from tests.plugins.app import ClientFactory

NEXT_RACE = "{ nextRace { name } }"


async def post(client: httpx.AsyncClient, query: str, **extra: Any) -> httpx.Response:
    response = await client.post("/graphql", json={"query": query, **extra})
    assert response.status_code == 200, response.text
    return response


def only_error(response: httpx.Response) -> dict[str, Any]:
    errors = response.json()["errors"]
    assert len(errors) == 1, errors
    error: dict[str, Any] = errors[0]
    return error


async def test_an_unexpected_exception_is_masked_and_logged(
    make_client: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(self: F1Service) -> None:
        raise RuntimeError("secret-detail-xyz")

    monkeypatch.setattr(F1Service, "next_race", broken)

    async with make_client() as client:
        with capture_logs() as logs:
            response = await post(client, NEXT_RACE)

    request_id = response.headers["x-request-id"]
    assert response.json() == {
        "data": {"nextRace": None},
        "errors": [
            {
                "message": "Internal server error",
                "locations": [{"line": 1, "column": 3}],
                "path": ["nextRace"],
                "extensions": {"code": "INTERNAL", "requestId": request_id},
            }
        ],
    }
    assert "secret-detail-xyz" not in response.text
    assert "RuntimeError" not in response.text

    [logged] = [e for e in logs if e["event"] == "graphql.unexpected_error"]
    assert logged["log_level"] == "error"
    assert logged["request_id"] == request_id
    assert logged["path"] == ["nextRace"]
    assert logged["error_type"] == "RuntimeError"
    # The full error with its traceback, down to the line that raised it.
    error = logged["exc_info"]
    assert isinstance(error, RuntimeError)
    trace = "".join(traceback.format_exception(error))
    assert "secret-detail-xyz" in trace
    assert "in broken" in trace


async def test_each_request_gets_its_own_request_id(
    make_client: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(self: F1Service) -> None:
        raise KeyError("secret-key")

    monkeypatch.setattr(F1Service, "next_race", broken)

    async with make_client() as client:
        first = await post(client, NEXT_RACE)
        second = await client.post(
            "/graphql", json={"query": NEXT_RACE}, headers={"x-request-id": "dashboard-42"}
        )

    ids = [only_error(r)["extensions"]["requestId"] for r in (first, second)]
    assert ids[0] == first.headers["x-request-id"] != "dashboard-42"
    assert ids[1] == "dashboard-42"
    assert "secret-key" not in first.text + second.text


async def test_our_own_errors_pass_with_their_code(
    make_client: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def unavailable(self: F1Service) -> None:
        raise UpstreamUnavailable(retry_after=7)

    monkeypatch.setattr(F1Service, "next_race", unavailable)

    async with make_client() as client:
        with capture_logs() as logs:
            response = await post(client, NEXT_RACE)

    error = only_error(response)
    assert error["message"] == "Upstream data source unavailable, try again later"
    assert error["extensions"] == {"code": "UPSTREAM_UNAVAILABLE"}
    assert not [e for e in logs if e["event"] == "graphql.unexpected_error"]


@pytest.mark.parametrize(
    ("query", "code", "message"),
    [
        (
            "{ nextRace { name }",
            "GRAPHQL_PARSE_FAILED",
            "Syntax Error: Expected Name, found <EOF>.",
        ),
        (
            "{ " + "__typename " * MAX_TOKENS + "}",
            "GRAPHQL_PARSE_FAILED",
            f"Syntax Error: Document contains more than {MAX_TOKENS} tokens. Parsing aborted.",
        ),
        (
            "{ nextRace { nam } }",
            "GRAPHQL_VALIDATION_FAILED",
            "Cannot query field 'nam' on type 'Race'. Did you mean 'name'?",
        ),
        (
            '{ season(year: "2023") { year } }',
            "GRAPHQL_VALIDATION_FAILED",
            'Int cannot represent non-integer value: "2023"',
        ),
    ],
)
async def test_request_errors_have_a_code_and_a_clear_message(
    make_client: ClientFactory, query: str, code: str, message: str
) -> None:
    async with make_client() as client:
        response = await post(client, query)

    error = only_error(response)
    assert error["message"] == message
    assert error["extensions"] == {"code": code}
    assert response.json()["data"] is None


async def test_variables_of_the_wrong_type_are_bad_user_input(
    make_client: ClientFactory,
) -> None:
    async with make_client() as client:
        response = await post(
            client,
            "query($year: Int) { season(year: $year) { year } }",
            variables={"year": "twenty"},
        )

    error = only_error(response)
    assert error["extensions"] == {"code": "BAD_USER_INPUT"}
    assert "Int cannot represent non-integer value: 'twenty'" in error["message"]
