"""``pypole import-users``: the older backend's accounts, moved over and able to log in.

The source is a real PostgreSQL database laid out as the older backend's migration made it
(created and dropped by the test), holding bcrypt hashes the test makes with the ``bcrypt``
package, as passlib did. The import runs as the command a user types; the accounts then log in
through the real app, and their hashes become argon2id.
"""

from __future__ import annotations

import asyncio
import csv
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import bcrypt
import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlmodel import col

from pypole_gql.auth.importer import LegacyUser, UserImporter
from pypole_gql.db.engine import Database
from pypole_gql.db.migrate import upgrade_async
from pypole_gql.db.models import UserRow
from pypole_gql.domain.users import email_key
from tests.auth.support import AUTH
from tests.plugins.app import ClientFactory
from tests.plugins.services import admin_execute, unavailable
from tests.serving import PYPOLE, clean_env, run

# The older backend's table, as its only Alembic revision created it.
LEGACY_DDL = """
CREATE TABLE users (
    id SERIAL PRIMARY KEY,
    email VARCHAR NOT NULL,
    username VARCHAR NOT NULL,
    hashed_password VARCHAR NOT NULL,
    is_active BOOLEAN NOT NULL,
    is_superuser BOOLEAN NOT NULL,
    created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
    updated_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
    favorite_team VARCHAR,
    favorite_driver VARCHAR,
    theme VARCHAR NOT NULL
);
CREATE UNIQUE INDEX ix_users_email ON users (email);
CREATE UNIQUE INDEX ix_users_username ON users (username);
CREATE INDEX ix_users_id ON users (id);
"""


def passlib_style_hash(password: str) -> str:
    """What passlib's bcrypt handler stored: ``$2b$``, the UTF-8 bytes as typed (cost 4 here
    to keep the test quick; the cost is part of the hash, so verification does not care)."""
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds=4)).decode()


@dataclass(frozen=True)
class Account:
    email: str
    username: str
    password: str
    theme: str = "dark"
    is_superuser: bool = False
    is_active: bool = True
    favorite_team: str | None = None
    favorite_driver: str | None = None
    hashed_password: str | None = None

    def row(self) -> dict[str, Any]:
        return {
            "email": self.email,
            "username": self.username,
            "hashed_password": self.hashed_password or passlib_style_hash(self.password),
            "is_active": self.is_active,
            "is_superuser": self.is_superuser,
            "created_at": datetime(2025, 3, 1, 12, 30),
            "updated_at": datetime(2025, 4, 2, 8, 0),
            "favorite_team": self.favorite_team,
            "favorite_driver": self.favorite_driver,
            "theme": self.theme,
        }


def legacy_accounts(tag: str) -> dict[str, Account]:
    return {
        "plain": Account(f"ann.{tag}@example.com", f"ann_{tag}", "ann password 1"),
        "spaced": Account(
            f"pedro.{tag}@example.com",
            f"Pedro Monteiro {tag}",
            "pässwörd-café",
            favorite_team="Red Bull",
            favorite_driver="VER",
        ),
        "neon": Account(f"neon.{tag}@example.com", f"neon_{tag}", "neon password", theme="neon"),
        "light": Account(f"light.{tag}@example.com", f"light_{tag}", "light password", "LIGHT"),
        "admin": Account(
            f"admin.{tag}@example.com", f"admin_{tag}", "admin password", is_superuser=True
        ),
        "inactive": Account(
            f"gone.{tag}@example.com", f"gone_{tag}", "gone password", is_active=False
        ),
        # Two rows the older backend kept apart and this server calls one account.
        "bob": Account(f"bob.{tag}@example.com", f"bob_{tag}", "bob password"),
        "bob_upper": Account(f"BOB.{tag}@example.com", f"Bob_{tag}_2", "bob password 2"),
        "case_username": Account(f"carl.{tag}@example.com", f"ANN_{tag}", "carl password"),
        "bad_username": Account(f"dee.{tag}@example.com", f"d<{tag}>", "dee password"),
        "plaintext": Account(
            f"eve.{tag}@example.com", f"eve_{tag}", "eve", hashed_password="eve-in-clear"
        ),
    }


async def _insert_legacy(url: str, accounts: dict[str, Account]) -> dict[str, int]:
    import asyncpg

    parsed = make_url(url)
    conn = await asyncpg.connect(
        host=parsed.host, port=parsed.port, user=parsed.username, database=parsed.database
    )
    try:
        await conn.execute(LEGACY_DDL)
        ids = {}
        for name, account in accounts.items():
            row = account.row()
            ids[name] = await conn.fetchval(
                f"INSERT INTO users ({', '.join(row)}) VALUES "
                f"({', '.join(f'${i}' for i in range(1, len(row) + 1))}) RETURNING id",
                *row.values(),
            )
        return ids
    finally:
        await conn.close()


@dataclass(frozen=True)
class LegacyDatabase:
    url: str
    accounts: dict[str, Account]
    ids: dict[str, int]


@pytest.fixture
def legacy_db(postgres_url: str) -> Iterator[LegacyDatabase]:
    """A PostgreSQL database of the test's own, laid out and filled as the older backend's."""
    import os

    admin = os.environ.get("PYPOLE_TEST_DATABASE_URL")
    if not admin:
        unavailable("PYPOLE_TEST_DATABASE_URL is not set")
    assert admin is not None
    name = f"pypole_legacy_{uuid.uuid4().hex[:10]}"
    asyncio.run(admin_execute(admin, f'CREATE DATABASE "{name}"'))
    url = make_url(admin).set(drivername="postgresql", database=name)
    accounts = legacy_accounts(uuid.uuid4().hex[:8])
    try:
        ids = asyncio.run(_insert_legacy(url.render_as_string(hide_password=False), accounts))
        yield LegacyDatabase(url.render_as_string(hide_password=False), accounts, ids)
    finally:
        asyncio.run(admin_execute(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def import_users(target_url: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = clean_env(database_url=target_url, jwt_secret="import-test-secret-0123456789-abcdefgh")
    return run([PYPOLE, "import-users", *args], cwd, env=env, timeout=120)


def report_lines(result: subprocess.CompletedProcess[str]) -> dict[str, str]:
    """The report's account lines, by email."""
    lines = {}
    for line in result.stdout.splitlines():
        if line.startswith(("  + ", "  - ")):
            email = line[4:].split(" ", 2)[1].rstrip(":")
            lines[email] = line
    return lines


async def stored(target_url: str, email: str) -> UserRow | None:
    """The account the email signs in to (compared as logins compare it)."""
    db = Database(target_url)
    try:
        async with db.session() as session:
            result = await session.execute(
                select(UserRow).where(col(UserRow.email_normalized) == email_key(email))
            )
            return result.scalar_one_or_none()
    finally:
        await db.close()


async def stored_username(target_url: str, username: str) -> bool:
    db = Database(target_url)
    try:
        async with db.session() as session:
            result = await session.execute(select(UserRow).where(col(UserRow.username) == username))
            return result.scalar_one_or_none() is not None
    finally:
        await db.close()


@pytest.fixture
async def target(db_url: str) -> AsyncIterator[str]:
    """The server's database, on SQLite and on PostgreSQL, migrated."""
    await upgrade_async(db_url)
    yield db_url


@pytest.fixture
async def sqlite_target(tmp_path: Path) -> AsyncIterator[str]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'target.db'}"
    await upgrade_async(url)
    yield url


async def test_import_from_the_older_backends_database_then_log_in(
    legacy_db: LegacyDatabase, target: str, tmp_path: Path, make_client: ClientFactory
) -> None:
    accounts = legacy_db.accounts

    result = await asyncio.to_thread(import_users, target, "--from", legacy_db.url, cwd=tmp_path)

    # Some rows were refused, so the status says so; the report names each row.
    assert result.returncode == 1, result.stderr
    lines = report_lines(result)
    imported = {"plain", "spaced", "neon", "light", "admin", "inactive", "bob"}
    refused = {"bob_upper", "case_username", "bad_username", "plaintext"}
    for name in imported:
        assert lines[accounts[name].email].startswith("  + "), lines
    for name in refused:
        assert lines[accounts[name].email].startswith("  - "), lines
    assert f"imported: {len(imported)}" in result.stdout
    assert f"refused: {len(refused)}" in result.stdout
    assert "email already in this import" in lines[accounts["bob_upper"].email]
    assert "username already in this import" in lines[accounts["case_username"].email]
    assert "invalid username" in lines[accounts["bad_username"].email]
    assert "neither bcrypt nor argon2" in lines[accounts["plaintext"].email]
    assert "superuser flag dropped" in lines[accounts["admin"].email]
    assert "theme 'neon' -> system" in lines[accounts["neon"].email]

    # What was stored: the old hash as it was, the mapped theme, the flag dropped.
    for name in imported:
        row = await stored(target, accounts[name].email)
        assert row is not None, name
        assert row.password_hash == (await _legacy_hash(legacy_db, name))
        assert row.is_superuser is False
        assert row.is_active is accounts[name].is_active
        assert row.username == accounts[name].username
    neon = await stored(target, accounts["neon"].email)
    light = await stored(target, accounts["light"].email)
    spaced = await stored(target, accounts["spaced"].email)
    assert neon is not None and light is not None and spaced is not None
    assert (neon.theme, light.theme) == ("system", "light")
    assert (spaced.favorite_team, spaced.favorite_driver) == ("Red Bull", "VER")
    assert spaced.created_at.replace(tzinfo=UTC) == datetime(2025, 3, 1, 12, 30, tzinfo=UTC)
    for name in refused:
        assert not await stored_username(target, accounts[name].username), name

    async with make_client(database_url=target) as client:
        for name in imported - {"inactive"}:
            account = accounts[name]
            response = await client.post(
                f"{AUTH}/login", data={"email": account.email, "password": account.password}
            )
            assert response.status_code == 200, (name, response.text)
            me = await client.get(
                f"{AUTH}/me", headers={"Authorization": f"Bearer {response.json()['access_token']}"}
            )
            assert me.json()["username"] == account.username
            assert me.json()["is_superuser"] is False
            row = await stored(target, account.email)
            assert row is not None and row.password_hash.startswith("$argon2id$"), name
        # An inactive account imports as inactive: the right password is refused with 403.
        gone = accounts["inactive"]
        response = await client.post(
            f"{AUTH}/login", data={"email": gone.email, "password": gone.password}
        )
        assert response.status_code == 403
        # A wrong password against an imported (now rehashed) account fails as usual.
        response = await client.post(
            f"{AUTH}/login", data={"email": accounts["plain"].email, "password": "wrong one"}
        )
        assert response.status_code == 401


async def _legacy_hash(legacy_db: LegacyDatabase, name: str) -> str:
    import asyncpg

    parsed = make_url(legacy_db.url)
    conn = await asyncpg.connect(
        host=parsed.host, port=parsed.port, user=parsed.username, database=parsed.database
    )
    try:
        value: str = await conn.fetchval(
            "SELECT hashed_password FROM users WHERE id = $1", legacy_db.ids[name]
        )
        return value
    finally:
        await conn.close()


async def test_a_second_import_adds_nothing(
    legacy_db: LegacyDatabase, sqlite_target: str, tmp_path: Path
) -> None:
    await asyncio.to_thread(import_users, sqlite_target, "--from", legacy_db.url, cwd=tmp_path)

    again = await asyncio.to_thread(
        import_users, sqlite_target, "--from", legacy_db.url, cwd=tmp_path
    )

    assert again.returncode == 1
    assert "imported: 0" in again.stdout
    assert "email already registered here" in again.stdout


async def test_dry_run_writes_nothing(
    legacy_db: LegacyDatabase, sqlite_target: str, tmp_path: Path
) -> None:
    result = await asyncio.to_thread(
        import_users, sqlite_target, "--from", legacy_db.url, "--dry-run", cwd=tmp_path
    )

    assert "would import: 7" in result.stdout
    for account in legacy_db.accounts.values():
        assert await stored(sqlite_target, account.email) is None


async def test_keep_superusers_keeps_the_flag_and_names_it(
    legacy_db: LegacyDatabase, sqlite_target: str, tmp_path: Path
) -> None:
    result = await asyncio.to_thread(
        import_users, sqlite_target, "--from", legacy_db.url, "--keep-superusers", cwd=tmp_path
    )

    admin = legacy_db.accounts["admin"]
    assert "superuser flag kept" in report_lines(result)[admin.email]
    row = await stored(sqlite_target, admin.email)
    assert row is not None and row.is_superuser is True
    plain = await stored(sqlite_target, legacy_db.accounts["plain"].email)
    assert plain is not None and plain.is_superuser is False


def test_import_from_a_csv_export(tmp_path: Path) -> None:
    tag = uuid.uuid4().hex[:8]
    accounts = [
        Account(f"csv.{tag}@example.com", f"José {tag}", "csv password", theme="Dark"),
        Account(f"csv2.{tag}@example.com", f"x{tag}", "other", theme="midnight"),
    ]
    path = tmp_path / "users.csv"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["id", *accounts[0].row()])
        writer.writeheader()
        for number, account in enumerate(accounts, 1):
            row = account.row()
            row["is_active"] = "t" if row["is_active"] else "f"  # as COPY ... CSV writes it
            row["is_superuser"] = "f"
            writer.writerow({"id": number, **row})
    target = f"sqlite+aiosqlite:///{tmp_path / 'target.db'}"

    result = import_users(target, "--from", str(path), cwd=tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "imported: 2" in result.stdout
    first = asyncio.run(stored(target, accounts[0].email))
    second = asyncio.run(stored(target, accounts[1].email))
    assert first is not None and second is not None
    assert (first.username, first.theme) == (f"José {tag}", "dark")
    assert second.theme == "system"


def test_a_source_without_the_users_columns_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "users.csv"
    path.write_text("id,mail\n1,a@example.com\n")

    result = import_users(
        f"sqlite+aiosqlite:///{tmp_path / 't.db'}", "--from", str(path), cwd=tmp_path
    )

    assert result.returncode == 2
    assert "no column 'email'" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unreachable_source_database_is_a_clear_error(tmp_path: Path) -> None:
    result = import_users(
        f"sqlite+aiosqlite:///{tmp_path / 't.db'}",
        "--from",
        "postgresql://postgres@127.0.0.1:9/none",
        cwd=tmp_path,
    )

    assert result.returncode == 2
    assert "cannot read the source database" in result.stderr
    assert "Traceback" not in result.stderr


async def test_importer_refuses_an_email_registered_here(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'in.db'}"
    await upgrade_async(url)
    db = Database(url)
    try:
        importer = UserImporter(db)
        first = LegacyUser("1", "Same@Example.com", "same_one", passlib_style_hash("pw pw pw pw"))
        again = LegacyUser("2", "same@example.com", "same_two", passlib_style_hash("pw pw pw pw"))

        one = await importer.run([first])
        two = await importer.run([again])
    finally:
        await db.close()

    assert [o.status for o in one.outcomes] == ["imported"]
    assert [(o.status, o.reason) for o in two.outcomes] == [
        ("refused", "email already registered here")
    ]
