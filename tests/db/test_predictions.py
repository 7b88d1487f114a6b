"""PredictionRepository on SQLite and PostgreSQL: one row per user and race, scoped by user."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from pypole_gql.db.engine import Database
from pypole_gql.db.migrate import upgrade_async
from pypole_gql.db.models import PredictionRow, UserRow, as_utc, utcnow
from pypole_gql.db.predictions import PredictionRepository


@pytest.fixture
async def database(db_url: str) -> AsyncIterator[Database]:
    await upgrade_async(db_url)
    db = Database(db_url)
    yield db
    await db.close()


async def _user(db: Database) -> int:
    tag = uuid.uuid4().hex[:12]
    async with db.session() as session:
        row = UserRow(
            email=f"{tag}@example.com",
            email_normalized=f"{tag}@example.com",
            username=f"u{tag}",
            username_normalized=f"u{tag}",
            password_hash="not-a-hash",
        )
        session.add(row)
        await session.flush()
        assert row.id is not None
        return row.id


def _picks(*drivers: str) -> list[dict[str, object]]:
    return [{"driver_id": d, "predicted_position": i} for i, d in enumerate(drivers, start=1)]


async def test_upsert_creates_then_replaces(database: Database) -> None:
    user = await _user(database)
    first = utcnow()
    async with database.session() as session:
        created = await PredictionRepository(session).upsert(user, 2030, 3, _picks("a", "b"), first)
        assert (created.version, created.picks) == (1, _picks("a", "b"))
    async with database.session() as session:
        replaced = await PredictionRepository(session).upsert(user, 2030, 3, _picks("b"), utcnow())
    assert replaced.id == created.id
    assert (replaced.version, replaced.picks) == (2, _picks("b"))
    assert as_utc(replaced.created_at) == as_utc(created.created_at)
    assert as_utc(replaced.updated_at) >= as_utc(first)


async def test_every_statement_is_scoped_to_the_user(database: Database) -> None:
    alice, bob = await _user(database), await _user(database)
    async with database.session() as session:
        repo = PredictionRepository(session)
        await repo.upsert(alice, 2030, 1, _picks("a"), utcnow())
        await repo.upsert(alice, 2030, 2, _picks("b"), utcnow())
        await repo.upsert(bob, 2030, 1, _picks("c"), utcnow())
    async with database.session() as session:
        repo = PredictionRepository(session)
        mine = await repo.get(alice, 2030, 1)
        assert mine is not None and mine.picks == _picks("a")
        assert [(r.season, r.round) for r in await repo.recent(alice, 10)] == [(2030, 2), (2030, 1)]
        assert [r.picks for r in await repo.recent(bob, 10)] == [_picks("c")]
        assert await repo.get(bob, 2030, 2) is None
        assert await repo.delete(bob, 2030, 2) is False
        assert await repo.delete(bob, 2030, 1) is True
    async with database.session() as session:
        assert await PredictionRepository(session).get(alice, 2030, 1) is not None


async def test_one_row_per_user_and_race(database: Database) -> None:
    user = await _user(database)
    now = utcnow()
    with pytest.raises(IntegrityError):
        async with database.session() as session:
            for _ in range(2):
                session.add(
                    PredictionRow(
                        user_id=user, season=2030, round=9, picks=[], created_at=now, updated_at=now
                    )
                )
                await session.flush()


async def test_predictions_go_with_their_user(database: Database) -> None:
    user = await _user(database)
    async with database.session() as session:
        await PredictionRepository(session).upsert(user, 2030, 4, _picks("a"), utcnow())
    async with database.session() as session:
        await session.execute(delete(UserRow).where(col(UserRow.id) == user))
    async with database.session() as session:
        assert await PredictionRepository(session).recent(user, 10) == []
