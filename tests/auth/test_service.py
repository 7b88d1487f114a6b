"""AuthService on SQLite and PostgreSQL: the behaviour the edges cannot show directly."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from pypole_gql.auth.passwords import Passwords
from pypole_gql.auth.service import AuthService
from pypole_gql.auth.tokens import AccessTokens, hash_refresh_token
from pypole_gql.db.engine import Database
from pypole_gql.db.migrate import upgrade_async
from pypole_gql.db.models import RefreshTokenRow, RevokedAccessTokenRow, UserRow, utcnow
from pypole_gql.db.repositories import UserRepository
from pypole_gql.domain.users import Credentials, ProfileUpdate, Registration
from pypole_gql.errors import Conflict, Forbidden, Unauthenticated
from pypole_gql.logging import RequestStats, request_stats_var
from tests.auth.support import AUDIENCE, ISSUER, PASSWORD, new_account
from tests.plugins.app import TEST_SECRET


def make_service(db: Database, passwords: Passwords | None = None) -> AuthService:
    return AuthService(
        db,
        passwords=passwords or Passwords(),
        tokens=AccessTokens(
            secret=TEST_SECRET, issuer=ISSUER, audience=AUDIENCE, ttl=timedelta(minutes=30)
        ),
        refresh_ttl=timedelta(days=14),
    )


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    await upgrade_async(db_url)
    database = Database(db_url)
    yield database
    await database.close()


@pytest.fixture
def service(db: Database) -> AuthService:
    return make_service(db)


async def stored_hash(db: Database, user_id: int) -> str:
    async with db.session() as session:
        row = await session.get(UserRow, user_id)
        assert row is not None
        return row.password_hash


async def test_login_rehashes_a_password_made_with_older_parameters(db: Database) -> None:
    user = await make_service(db).register(Registration(**new_account()))
    old_hash = await stored_hash(db, user.id)
    assert "t=2" in old_hash

    stronger = make_service(db, Passwords(time_cost=3))
    await stronger.login(Credentials(email=user.email, password=PASSWORD))

    new_hash = await stored_hash(db, user.id)
    assert new_hash != old_hash
    assert new_hash.startswith("$argon2id$v=19$m=19456,t=3,p=1$")
    await stronger.login(Credentials(email=user.email, password=PASSWORD))
    assert await stored_hash(db, user.id) == new_hash


async def test_login_with_current_parameters_keeps_the_hash(
    service: AuthService, db: Database
) -> None:
    user = await service.register(Registration(**new_account()))
    before = await stored_hash(db, user.id)

    await service.login(Credentials(email=user.email, password=PASSWORD))

    assert await stored_hash(db, user.id) == before


async def test_unknown_email_is_verified_against_the_dummy_hash(
    service: AuthService, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real_dummy = service.passwords.verify_dummy

    async def counting_dummy(password: str) -> None:
        calls.append(password)
        await real_dummy(password)

    monkeypatch.setattr(service.passwords, "verify_dummy", counting_dummy)

    with pytest.raises(Unauthenticated) as caught:
        await service.login(Credentials(email="nobody@example.com", password="whatever-123"))

    assert caught.value.message == "Incorrect email or password"
    assert calls == ["whatever-123"]


@pytest.mark.parametrize("field", ["email", "username"])
async def test_racing_registrations_become_a_conflict(
    service: AuthService, monkeypatch: pytest.MonkeyPatch, field: str
) -> None:
    first = new_account()
    second = new_account(**{field: first[field]})

    # Both pass the early duplicate check, as two requests racing would.
    async def nothing_taken(*_args: object, **_kwargs: object) -> None:
        return None

    monkeypatch.setattr(UserRepository, "taken", nothing_taken)
    await service.register(Registration(**first))

    with pytest.raises(Conflict) as caught:
        await service.register(Registration(**second))
    assert caught.value.field == field


async def test_concurrent_registrations_of_one_email_create_one_account(
    service: AuthService, db: Database
) -> None:
    email = new_account()["email"]
    results = await asyncio.gather(
        *(service.register(Registration(**new_account(email=email))) for _ in range(3)),
        return_exceptions=True,
    )

    created = [r for r in results if not isinstance(r, BaseException)]
    conflicts = [r for r in results if isinstance(r, Conflict)]
    assert len(created) == 1
    assert len(conflicts) == 2
    assert {c.field for c in conflicts} == {"email"}


async def test_inactive_user_cannot_log_in_nor_use_a_token(
    service: AuthService, db: Database
) -> None:
    user = await service.register(Registration(**new_account()))
    auth = await service.login(Credentials(email=user.email, password=PASSWORD))
    async with db.session() as session:
        await session.execute(
            update(UserRow).where(UserRow.id == user.id).values(is_active=False)  # type: ignore[arg-type]
        )

    with pytest.raises(Forbidden):
        await service.login(Credentials(email=user.email, password=PASSWORD))
    with pytest.raises(Forbidden):
        await service.authenticate(auth.access_token)
    with pytest.raises(Forbidden):
        await service.refresh(auth.refresh_token)


async def test_inactive_user_with_wrong_password_gets_the_generic_error(
    service: AuthService, db: Database
) -> None:
    user = await service.register(Registration(**new_account()))
    async with db.session() as session:
        await session.execute(
            update(UserRow).where(UserRow.id == user.id).values(is_active=False)  # type: ignore[arg-type]
        )

    with pytest.raises(Unauthenticated):
        await service.login(Credentials(email=user.email, password="wrong password"))


async def test_expired_refresh_token_is_refused(service: AuthService, db: Database) -> None:
    user = await service.register(Registration(**new_account()))
    auth = await service.login(Credentials(email=user.email, password=PASSWORD))
    async with db.session() as session:
        await session.execute(
            update(RefreshTokenRow)
            .where(RefreshTokenRow.token_hash == hash_refresh_token(auth.refresh_token))  # type: ignore[arg-type]
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )

    with pytest.raises(Unauthenticated):
        await service.refresh(auth.refresh_token)


async def test_password_change_ends_other_sessions_only(service: AuthService) -> None:
    user = await service.register(Registration(**new_account()))
    credentials = Credentials(email=user.email, password=PASSWORD)
    mine = await service.login(credentials)
    other = await service.login(credentials)
    principal = await service.authenticate(mine.access_token)

    await service.update_me(
        principal, ProfileUpdate(password="a brand new password", current_password=PASSWORD)
    )

    with pytest.raises(Unauthenticated):
        await service.authenticate(other.access_token)
    with pytest.raises(Unauthenticated):
        await service.refresh(other.refresh_token)
    assert (await service.authenticate(mine.access_token)).user.id == user.id
    assert (await service.refresh(mine.refresh_token)).user.id == user.id


async def test_logout_prunes_expired_revocations(service: AuthService, db: Database) -> None:
    user = await service.register(Registration(**new_account()))
    stale_jti = f"stale-{user.id}"
    async with db.session() as session:
        session.add(
            RevokedAccessTokenRow(
                jti=stale_jti, user_id=user.id, expires_at=utcnow() - timedelta(minutes=1)
            )
        )
    auth = await service.login(Credentials(email=user.email, password=PASSWORD))

    await service.logout(access_token=auth.access_token, refresh_token=None)

    async with db.session() as session:
        jtis = set(
            (
                await session.execute(
                    select(RevokedAccessTokenRow.jti).where(  # type: ignore[call-overload]
                        RevokedAccessTokenRow.user_id == user.id
                    )
                )
            ).scalars()
        )
    assert stale_jti not in jtis
    assert len(jtis) == 1


async def test_refresh_tokens_are_stored_only_as_hashes(service: AuthService, db: Database) -> None:
    user = await service.register(Registration(**new_account()))
    auth = await service.login(Credentials(email=user.email, password=PASSWORD))

    async with db.session() as session:
        hashes = list(
            (
                await session.execute(
                    select(RefreshTokenRow.token_hash).where(  # type: ignore[call-overload]
                        RefreshTokenRow.user_id == user.id
                    )
                )
            ).scalars()
        )
    assert hashes == [hash_refresh_token(auth.refresh_token)]


async def test_authentication_marks_the_request_log_with_the_user(service: AuthService) -> None:
    user = await service.register(Registration(**new_account()))
    auth = await service.login(Credentials(email=user.email, password=PASSWORD))
    stats = RequestStats()
    token = request_stats_var.set(stats)
    try:
        principal = await service.authenticate(auth.access_token)
    finally:
        request_stats_var.reset(token)

    assert principal.user.id == user.id
    assert stats.user_id == user.id
