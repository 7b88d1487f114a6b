from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest

from pypole_gql.auth.passwords import Passwords
from tests.auth.support import (
    LOGIN,
    ME,
    REGISTER,
    UNUSUAL_EMAILS,
    error_of,
    gql,
    gql_register,
    new_account,
    unique,
)
from tests.plugins.app import ClientFactory


@pytest.fixture
async def client(make_client: ClientFactory, db_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(database_url=db_url) as http:
        yield http


async def test_register_returns_a_session_and_the_user(client: httpx.AsyncClient) -> None:
    account = new_account()

    body = await gql(client, REGISTER, {"input": account})

    payload = body["data"]["register"]
    assert payload["tokenType"] == "bearer"
    assert payload["expiresIn"] == 1800
    user = payload["user"]
    assert user["email"] == account["email"]
    assert user["username"] == account["username"]
    assert user["isActive"] is True
    assert (user["favoriteTeam"], user["favoriteDriver"], user["theme"]) == (None, None, "DARK")
    created = datetime.fromisoformat(user["createdAt"])
    assert abs((datetime.now(UTC) - created).total_seconds()) < 60
    me = await gql(client, ME, token=payload["accessToken"])
    assert me["data"]["me"]["id"] == user["id"]


async def test_register_stores_preferences(client: httpx.AsyncClient) -> None:
    payload = await gql_register(
        client, favoriteTeam="Ferrari", favoriteDriver="Charles Leclerc", theme="LIGHT"
    )

    user = payload["user"]
    assert (user["favoriteTeam"], user["favoriteDriver"], user["theme"]) == (
        "Ferrari",
        "Charles Leclerc",
        "LIGHT",
    )


async def test_duplicate_email_is_a_conflict(client: httpx.AsyncClient) -> None:
    first = await gql_register(client)

    body = await gql(client, REGISTER, {"input": new_account(email=first["user"]["email"])})

    assert error_of(body) == {
        "message": "Email already registered",
        "code": "CONFLICT",
        "field": "email",
    }


async def test_email_differing_only_in_case_is_a_duplicate(client: httpx.AsyncClient) -> None:
    first = await gql_register(client)
    local, domain = first["user"]["email"].split("@")

    body = await gql(
        client, REGISTER, {"input": new_account(email=f"{local.upper()}@{domain.upper()}")}
    )

    assert error_of(body)["code"] == "CONFLICT"
    assert error_of(body)["field"] == "email"


async def test_duplicate_username_is_a_conflict(client: httpx.AsyncClient) -> None:
    first = await gql_register(client)

    body = await gql(
        client, REGISTER, {"input": new_account(username=first["user"]["username"].upper())}
    )

    assert error_of(body) == {
        "message": "Username already taken",
        "code": "CONFLICT",
        "field": "username",
    }


async def test_is_superuser_is_not_part_of_the_input(client: httpx.AsyncClient) -> None:
    account = new_account()

    body = await gql(client, REGISTER, {"input": {**account, "isSuperuser": True}})

    assert error_of(body)["code"] == "BAD_USER_INPUT"
    assert "isSuperuser" in error_of(body)["message"]
    login = await gql(client, LOGIN, {"email": account["email"], "password": account["password"]})
    assert error_of(login)["code"] == "UNAUTHENTICATED"


async def test_huge_password_is_refused_before_hashing(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    hashed: list[str] = []
    real_hash = Passwords.hash

    async def counting_hash(self: Passwords, password: str) -> str:
        hashed.append(password)
        return await real_hash(self, password)

    monkeypatch.setattr(Passwords, "hash", counting_hash)

    body = await gql(client, REGISTER, {"input": new_account(password="x" * 10_000)})

    assert error_of(body) == {
        "message": "password: String should have at most 1024 characters",
        "code": "BAD_USER_INPUT",
        "field": "password",
    }
    assert hashed == []


async def test_longest_allowed_password_is_accepted(client: httpx.AsyncClient) -> None:
    payload = await gql_register(client, password="y" * 1024)

    login = await gql(client, LOGIN, {"email": payload["user"]["email"], "password": "y" * 1024})
    assert login["data"]["login"]["user"]["id"] == payload["user"]["id"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("email", "not-an-email"),
        ("email", "two@@example.com"),
        ("username", "ab"),
        ("username", "x" * 51),
        ("username", "angle<bracket>"),
        ("username", "zero\u200bwidth"),
        ("username", "  a  "),
        ("password", "short"),
        ("favoriteTeam", "F" * 101),
        ("favoriteDriver", "D" * 101),
    ],
)
async def test_invalid_field_is_bad_user_input(
    client: httpx.AsyncClient, field: str, value: str
) -> None:
    body = await gql(client, REGISTER, {"input": new_account(**{field: value})})

    error = error_of(body)
    assert error["code"] == "BAD_USER_INPUT"
    assert error["field"] == field
    assert body["data"] is None


@pytest.mark.parametrize(("typed", "stored", "login_as"), UNUSUAL_EMAILS)
async def test_unusual_emails_are_stored_and_matched(
    client: httpx.AsyncClient, typed: str, stored: str, login_as: str
) -> None:
    tag = unique()
    payload = await gql_register(client, email=typed.format(tag=tag))
    assert payload["user"]["email"] == stored.format(tag=tag)

    login = await gql(
        client, LOGIN, {"email": login_as.format(tag=tag), "password": payload["password"]}
    )

    assert login["data"]["login"]["user"]["id"] == payload["user"]["id"]


async def test_like_wildcards_in_an_email_match_nothing_else(client: httpx.AsyncClient) -> None:
    tag = unique()
    payload = await gql_register(client, email=f"ab{tag}@example.com")

    login = await gql(
        client, LOGIN, {"email": f"a%{tag}@example.com", "password": payload["password"]}
    )

    assert error_of(login)["code"] == "UNAUTHENTICATED"
