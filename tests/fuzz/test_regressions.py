"""Every case the fuzzing found, kept as a plain test against the app (SQLite and PostgreSQL).

Each test names what schemathesis sent and what the server answered before the fix.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.auth.support import (
    AUTH,
    REGISTER,
    UPDATE_PREFERENCES,
    bearer,
    error_of,
    gql,
    gql_register,
    new_account,
    rest_session,
)
from tests.contract.test_openapi import check
from tests.plugins.app import ClientFactory


@pytest.fixture
async def client(make_client: ClientFactory, db_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(database_url=db_url) as http:
        yield http


# -- a form Starlette refuses to parse: was an undocumented 400 ---------------------------------


@pytest.mark.parametrize("route", ["login", "refresh"])
async def test_form_with_too_many_fields_is_a_422(client: httpx.AsyncClient, route: str) -> None:
    fields = {f"field{i}": "x" for i in range(21)}

    response = await client.post(f"{AUTH}/{route}", data=fields)

    assert response.status_code == 422
    body = check(response, f"/api/v1/auth/{route}")
    assert body["errors"][0]["loc"] == ["body"]
    assert "Too many fields" in body["errors"][0]["msg"]


async def test_multipart_form_with_a_file_is_a_422(client: httpx.AsyncClient) -> None:
    response = await client.post(
        f"{AUTH}/login",
        data={"email": "a@example.com", "password": "x"},
        files={"upload": ("a.txt", b"data", "text/plain")},
    )

    assert response.status_code == 422
    check(response, "/api/v1/auth/login")


async def test_multipart_content_type_without_a_boundary_is_a_422(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        f"{AUTH}/login", content=b"email=a", headers={"content-type": "multipart/form-data"}
    )

    assert response.status_code == 422
    check(response, "/api/v1/auth/login")


# -- a NUL character in a favourite: PostgreSQL refused it, a 500 / INTERNAL ----------------------


async def test_rest_register_refuses_a_favourite_with_a_nul(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{AUTH}/register", json=new_account(favorite_driver="VER\x00"))

    assert response.status_code == 422
    body = check(response, "/api/v1/auth/register")
    assert body["errors"][0]["loc"] == ["body", "favorite_driver"]


async def test_rest_preferences_refuse_a_favourite_with_a_nul(client: httpx.AsyncClient) -> None:
    session = await rest_session(client)
    token = session["tokens"]["access_token"]

    response = await client.put(
        f"{AUTH}/preferences", json={"favorite_team": "\xa7\x00\\"}, headers=bearer(token)
    )

    assert response.status_code == 422
    body = check(response, "/api/v1/auth/preferences")
    assert body["errors"][0]["loc"] == ["body", "favorite_team"]
    me = await client.get(f"{AUTH}/me", headers=bearer(token))
    assert me.json()["favorite_team"] is None


async def test_graphql_preferences_refuse_a_favourite_with_a_nul(
    client: httpx.AsyncClient,
) -> None:
    account = await gql_register(client)

    body = await gql(
        client,
        UPDATE_PREFERENCES,
        {"input": {"favoriteTeam": "\xa7\x00\\", "theme": "SYSTEM"}},
        token=account["accessToken"],
    )

    assert error_of(body) | {"message": None} == {
        "message": None,
        "code": "BAD_USER_INPUT",
        "field": "favoriteTeam",
    }


async def test_graphql_register_refuses_a_favourite_with_a_nul(client: httpx.AsyncClient) -> None:
    body = await gql(client, REGISTER, {"input": new_account(favoriteDriver="a\x00")})

    assert error_of(body)["code"] == "BAD_USER_INPUT"
    assert error_of(body)["field"] == "favoriteDriver"


# -- a 405 on /auth/me named only GET in Allow (GET and PUT were two routes) -------------------


async def test_405_on_me_allows_both_of_its_methods(client: httpx.AsyncClient) -> None:
    response = await client.request("OPTIONS", f"{AUTH}/me")

    assert response.status_code == 405
    allowed = {method.strip() for method in response.headers["allow"].split(",")}
    assert {"GET", "PUT"} <= allowed
