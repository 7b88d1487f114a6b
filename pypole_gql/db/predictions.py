"""Every SQL statement of the predictions table.

Each function takes the user id and filters on it: no statement here can read or change
another user's prediction. Works inside a session the caller opened (``Database.session()``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from pypole_gql.db.models import PredictionRow


class PredictionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, user_id: int, season: int, round_: int) -> PredictionRow | None:
        result = await self.session.execute(
            select(PredictionRow).where(
                col(PredictionRow.user_id) == user_id,
                col(PredictionRow.season) == season,
                col(PredictionRow.round) == round_,
            )
        )
        return result.scalar_one_or_none()

    async def recent(self, user_id: int, limit: int) -> Sequence[PredictionRow]:
        """The user's predictions, latest race first."""
        result = await self.session.execute(
            select(PredictionRow)
            .where(col(PredictionRow.user_id) == user_id)
            .order_by(col(PredictionRow.season).desc(), col(PredictionRow.round).desc())
            .limit(limit)
        )
        return result.scalars().all()

    async def upsert(
        self,
        user_id: int,
        season: int,
        round_: int,
        picks: list[dict[str, Any]],
        now: datetime,
    ) -> PredictionRow:
        """Create the prediction, or replace its picks and bump its version, in one statement.

        ``INSERT ... ON CONFLICT (user_id, season, round) DO UPDATE``: two saves that race
        both succeed, one after the other, and the row holds the last one whole (``version``
        says how many there were). No read-then-write window, hence no unique violation.
        """
        dialect = self.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = insert(PredictionRow).values(
            user_id=user_id,
            season=season,
            round=round_,
            picks=picks,
            version=1,
            created_at=now,
            updated_at=now,
        )
        upsert = statement.on_conflict_do_update(
            index_elements=["user_id", "season", "round"],
            set_={
                "picks": statement.excluded.picks,
                "updated_at": statement.excluded.updated_at,
                "version": PredictionRow.__table__.c.version + 1,  # type: ignore[attr-defined]
            },
        ).returning(PredictionRow)
        result = await self.session.execute(upsert, execution_options={"populate_existing": True})
        row: PredictionRow = result.scalar_one()
        return row

    async def delete(self, user_id: int, season: int, round_: int) -> bool:
        result = await self.session.execute(
            delete(PredictionRow)
            .where(
                col(PredictionRow.user_id) == user_id,
                col(PredictionRow.season) == season,
                col(PredictionRow.round) == round_,
            )
            .returning(col(PredictionRow.id)),
            execution_options={"synchronize_session": False},
        )
        return result.scalar_one_or_none() is not None
