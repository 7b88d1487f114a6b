from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from pypole_gql.auth.passwords import Passwords
from tests.auth.support import LOGIN, ME, error_of, gql, gql_register
from tests.plugins.app import ClientFactory


@pytest.fixture
async def client(make_client: ClientFactory, db_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(database_url=db_url) as http:
        yield http


async def test_login_returns_a_working_session(client: httpx.AsyncClient) -> None:
    registered = await gql_register(client)
    email = registered["user"]["email"]

    body = await gql(client, LOGIN, {"email": email, "password": registered["password"]})

    payload = body["data"]["login"]
    assert payload["user"] == registered["user"]
    assert payload["tokenType"] == "bearer"
    assert payload["expiresIn"] == 1800
    assert payload["refreshToken"] != registered["refreshToken"]
    me = await gql(client, ME, token=payload["accessToken"])
    assert me["data"]["me"]["email"] == email


async def test_login_email_is_case_insensitive(client: httpx.AsyncClient) -> None:
    registered = await gql_register(client)

    body = await gql(
        client,
        LOGIN,
        {"email": registered["user"]["email"].upper(), "password": registered["password"]},
    )

    assert body["data"]["login"]["user"]["id"] == registered["user"]["id"]


async def test_wrong_password_is_unauthenticated(client: httpx.AsyncClient) -> None:
    registered = await gql_register(client)

    body = await gql(
        client, LOGIN, {"email": registered["user"]["email"], "password": "not my password"}
    )

    assert error_of(body) == {
        "message": "Incorrect email or password",
        "code": "UNAUTHENTICATED",
        "field": None,
    }
    assert body["data"] is None


async def test_unknown_email_gets_the_same_error(client: httpx.AsyncClient) -> None:
    body = await gql(
        client, LOGIN, {"email": "nobody-at-all@example.com", "password": "whatever-123"}
    )

    assert error_of(body) == {
        "message": "Incorrect email or password",
        "code": "UNAUTHENTICATED",
        "field": None,
    }


async def test_password_is_not_trimmed(client: httpx.AsyncClient) -> None:
    registered = await gql_register(client)

    body = await gql(
        client,
        LOGIN,
        {"email": registered["user"]["email"], "password": f" {registered['password']} "},
    )

    assert error_of(body)["code"] == "UNAUTHENTICATED"


async def test_huge_password_at_login_is_refused_without_hashing(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    registered = await gql_register(client)
    calls: list[str] = []

    def spy(_self: Passwords, _hash: str, _password: bytes) -> bool:
        calls.append("verify")
        return False

    monkeypatch.setattr(Passwords, "_verify_sync", spy)

    body = await gql(
        client, LOGIN, {"email": registered["user"]["email"], "password": "x" * 10_000}
    )

    assert error_of(body)["code"] == "BAD_USER_INPUT"
    assert error_of(body)["field"] == "password"
    assert calls == []
