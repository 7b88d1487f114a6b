from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

import httpx
import pytest

from pypole_gql.auth.passwords import Passwords
from tests.auth.support import (
    AUTH,
    UNUSUAL_EMAILS,
    invalid_fields,
    new_account,
    rest_login,
    rest_register,
    unique,
)
from tests.plugins.app import ClientFactory


@pytest.fixture
async def client(make_client: ClientFactory, db_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(database_url=db_url) as http:
        yield http


async def test_register_returns_201_and_the_user(client: httpx.AsyncClient) -> None:
    account = new_account(favorite_team="Red Bull", theme="system")

    response = await client.post(f"{AUTH}/register", json=account)

    assert response.status_code == 201
    user = response.json()
    assert set(user) == {
        "id",
        "email",
        "username",
        "is_active",
        "is_superuser",
        "favorite_team",
        "favorite_driver",
        "theme",
        "created_at",
        "updated_at",
    }
    assert isinstance(user["id"], int)
    assert user["email"] == account["email"]
    assert user["username"] == account["username"]
    assert (user["is_active"], user["is_superuser"]) == (True, False)
    assert (user["favorite_team"], user["favorite_driver"], user["theme"]) == (
        "Red Bull",
        None,
        "system",
    )
    assert datetime.fromisoformat(user["created_at"]).utcoffset() is not None
    assert "password" not in response.text


async def test_theme_defaults_to_dark(client: httpx.AsyncClient) -> None:
    user = await rest_register(client)

    assert user["theme"] == "dark"


async def test_duplicate_email_is_400(client: httpx.AsyncClient) -> None:
    first = await rest_register(client)

    response = await client.post(f"{AUTH}/register", json=new_account(email=first["email"]))

    assert response.status_code == 400
    assert response.json() == {"detail": "Email already registered"}


async def test_email_differing_only_in_case_is_a_duplicate(client: httpx.AsyncClient) -> None:
    first = await rest_register(client)

    response = await client.post(f"{AUTH}/register", json=new_account(email=first["email"].upper()))

    assert response.status_code == 400
    assert response.json() == {"detail": "Email already registered"}


async def test_duplicate_username_is_400(client: httpx.AsyncClient) -> None:
    first = await rest_register(client)

    response = await client.post(f"{AUTH}/register", json=new_account(username=first["username"]))

    assert response.status_code == 400
    assert response.json() == {"detail": "Username already taken"}


async def test_is_superuser_in_the_payload_is_ignored(client: httpx.AsyncClient) -> None:
    account = new_account(is_superuser=True, is_active=False, id=1)

    response = await client.post(f"{AUTH}/register", json=account)

    assert response.status_code == 201
    assert response.json()["is_superuser"] is False
    assert response.json()["is_active"] is True
    tokens = await rest_login(client, account["email"], account["password"])
    me = await client.get(
        f"{AUTH}/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert me.json()["is_superuser"] is False


async def test_huge_password_is_422_before_any_hashing(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    hashed: list[str] = []
    real_hash = Passwords.hash

    async def counting_hash(self: Passwords, password: str) -> str:
        hashed.append(password)
        return await real_hash(self, password)

    monkeypatch.setattr(Passwords, "hash", counting_hash)

    response = await client.post(f"{AUTH}/register", json=new_account(password="x" * 10_000))

    assert response.status_code == 422
    assert response.json() == {
        "detail": "password: String should have at most 1024 characters",
        "errors": [
            {
                "loc": ["body", "password"],
                "msg": "String should have at most 1024 characters",
                "type": "string_too_long",
            }
        ],
    }
    assert hashed == []


async def test_every_invalid_field_is_listed(client: httpx.AsyncClient) -> None:
    response = await client.post(
        f"{AUTH}/register",
        json={"email": "nope", "username": "a", "password": "short", "theme": "neon"},
    )

    assert response.status_code == 422
    locations = [error["loc"] for error in invalid_fields(response)]
    assert locations == [
        ["body", "email"],
        ["body", "username"],
        ["body", "password"],
        ["body", "theme"],
    ]


async def test_missing_fields_are_listed(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{AUTH}/register", json={})

    assert response.status_code == 422
    detail = invalid_fields(response)
    assert [(e["loc"], e["type"]) for e in detail] == [
        (["body", "email"], "missing"),
        (["body", "username"], "missing"),
        (["body", "password"], "missing"),
    ]


async def test_malformed_json_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post(
        f"{AUTH}/register", content=b"{not json", headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 422
    assert response.json() == {
        "detail": "Invalid JSON body",
        "errors": [{"loc": ["body"], "msg": "Invalid JSON body", "type": "json_invalid"}],
    }


@pytest.mark.parametrize(("typed", "stored", "login_as"), UNUSUAL_EMAILS)
async def test_unusual_emails_are_stored_and_matched(
    client: httpx.AsyncClient, typed: str, stored: str, login_as: str
) -> None:
    tag = unique()
    user = await rest_register(client, email=typed.format(tag=tag))
    assert user["email"] == stored.format(tag=tag)

    tokens = await rest_login(client, login_as.format(tag=tag), user["password"])

    me = await client.get(
        f"{AUTH}/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert me.json()["id"] == user["id"]


# -- usernames the older backend accepted (issue 16.1) ----------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("Pedro Monteiro {tag}", "Pedro Monteiro {tag}"),
        ("josé {tag}", "josé {tag}"),
        ("  Ayrton   Senna {tag} ", "Ayrton Senna {tag}"),
        ("\uff26\uff55llwidth{tag}", "Fullwidth{tag}"),
        ("Кими {tag}", "Кими {tag}"),
        ("o'neil.{tag}@f1+fan", "o'neil.{tag}@f1+fan"),
    ],
)
async def test_username_with_spaces_and_any_alphabet_is_accepted(
    client: httpx.AsyncClient, typed: str, stored: str
) -> None:
    tag = unique()[:8]

    response = await client.post(
        f"{AUTH}/register", json=new_account(username=typed.format(tag=tag))
    )

    assert response.status_code == 201, response.text
    assert response.json()["username"] == stored.format(tag=tag)


async def test_username_differing_in_case_or_unicode_form_is_a_duplicate(
    client: httpx.AsyncClient,
) -> None:
    import unicodedata

    tag = unique()[:8]
    first = await rest_register(client, username=unicodedata.normalize("NFC", f"José {tag}"))

    for other in (
        first["username"].upper(),
        unicodedata.normalize("NFD", first["username"]),
        f"josé   {tag}",
    ):
        response = await client.post(f"{AUTH}/register", json=new_account(username=other))
        assert response.status_code == 400, other
        assert response.json() == {"detail": "Username already taken"}


@pytest.mark.parametrize("username", ["ab", "  a  ", "x" * 51, "tab\there\x00", "no<tags>"])
async def test_username_outside_the_rules_is_422_naming_the_field(
    client: httpx.AsyncClient, username: str
) -> None:
    response = await client.post(f"{AUTH}/register", json=new_account(username=username))

    assert response.status_code == 422
    assert ["body", "username"] in [error["loc"] for error in invalid_fields(response)]
