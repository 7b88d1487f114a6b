"""Every SQL statement of the session archive table (``session_archive``).

Works inside a session the caller opened (``Database.session()``); one statement per call,
so each write is whole or absent.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from pypole_gql.db.models import SessionArchiveRow

#: What a listing reads: everything but the payload.
_LISTED = (
    col(SessionArchiveRow.year),
    col(SessionArchiveRow.round),
    col(SessionArchiveRow.session_type),
    col(SessionArchiveRow.format_version),
    col(SessionArchiveRow.size),
    col(SessionArchiveRow.stored_at),
)


class SessionArchiveRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def payload(self, year: int, round_: int, session_type: str) -> tuple[int, bytes] | None:
        """The entry's format version and stored bytes, or ``None``."""
        result = await self.session.execute(
            select(col(SessionArchiveRow.format_version), col(SessionArchiveRow.payload)).where(
                col(SessionArchiveRow.year) == year,
                col(SessionArchiveRow.round) == round_,
                col(SessionArchiveRow.session_type) == session_type,
            )
        )
        row = result.one_or_none()
        return None if row is None else (int(row[0]), bytes(row[1]))

    async def holds(self, year: int, round_: int, session_type: str, format_version: int) -> bool:
        """Whether an entry of ``format_version`` is there (reads neither payload nor size)."""
        result = await self.session.execute(
            select(col(SessionArchiveRow.year)).where(
                col(SessionArchiveRow.year) == year,
                col(SessionArchiveRow.round) == round_,
                col(SessionArchiveRow.session_type) == session_type,
                col(SessionArchiveRow.format_version) == format_version,
            )
        )
        return result.first() is not None

    async def listing(self) -> Sequence[tuple[int, int, str, int, int, datetime]]:
        """Every entry without its payload, by year, round and session type."""
        result = await self.session.execute(
            select(*_LISTED).order_by(
                col(SessionArchiveRow.year),
                col(SessionArchiveRow.round),
                col(SessionArchiveRow.session_type),
            )
        )
        return [(int(a), int(b), str(c), int(d), int(e), f) for a, b, c, d, e, f in result.all()]

    async def upsert(
        self,
        year: int,
        round_: int,
        session_type: str,
        format_version: int,
        payload: bytes,
        now: datetime,
    ) -> None:
        """Insert the entry or replace it whole, in one statement."""
        dialect = self.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = insert(SessionArchiveRow).values(
            year=year,
            round=round_,
            session_type=session_type,
            format_version=format_version,
            size=len(payload),
            payload=payload,
            stored_at=now,
        )
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=["year", "round", "session_type"],
                set_={
                    "format_version": statement.excluded.format_version,
                    "size": statement.excluded.size,
                    "payload": statement.excluded.payload,
                    "stored_at": statement.excluded.stored_at,
                },
            )
        )

    async def delete(self, year: int, round_: int, session_type: str) -> bool:
        result = await self.session.execute(
            delete(SessionArchiveRow)
            .where(
                col(SessionArchiveRow.year) == year,
                col(SessionArchiveRow.round) == round_,
                col(SessionArchiveRow.session_type) == session_type,
            )
            .returning(col(SessionArchiveRow.year)),
            execution_options={"synchronize_session": False},
        )
        return result.first() is not None
