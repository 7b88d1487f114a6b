"""Reading the older PyPole backend's ``users`` table (the source of ``pypole import-users``).

The one SQL statement that touches another application's database: a plain ``SELECT`` of the
columns the import knows, on a connection of its own that is closed afterwards. Columns the
table lacks are read as NULL, except the ones no account can do without.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, NoSuchTableError
from sqlalchemy.ext.asyncio import create_async_engine

_ASYNC_DRIVERS = {"postgresql": "postgresql+asyncpg", "postgres": "postgresql+asyncpg"}
_ASYNC_DRIVERS.update({"sqlite": "sqlite+aiosqlite"})


class LegacySourceError(Exception):
    """The source database cannot be reached or holds no usable ``users`` table."""


def async_url(url: str) -> str:
    """``postgresql://...`` (as the older backend's settings wrote it) with an async driver."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise LegacySourceError(f"not a database URL: {exc}") from None
    driver = _ASYNC_DRIVERS.get(parsed.drivername.split("+")[0])
    if driver is None:
        raise LegacySourceError(f"unsupported database {parsed.drivername!r}")
    return parsed.set(drivername=driver).render_as_string(hide_password=False)


async def read_users(
    url: str, columns: Sequence[str], required: Sequence[str], *, table: str = "users"
) -> list[dict[str, Any]]:
    """Every row of ``table`` as a dict of ``columns`` (absent optional columns as None)."""
    try:
        engine = create_async_engine(async_url(url), connect_args=_connect_args(url))
    except (ArgumentError, NoSuchModuleError) as exc:
        raise LegacySourceError(str(exc)) from None
    try:
        async with engine.connect() as conn:
            try:
                present = await conn.run_sync(
                    lambda sync: {c["name"] for c in sa.inspect(sync).get_columns(table)}
                )
            except NoSuchTableError:
                raise LegacySourceError(f"the source database has no {table!r} table") from None
            absent = [name for name in required if name not in present]
            if absent:
                raise LegacySourceError(f"the {table!r} table has no column {absent[0]!r}")
            chosen: list[sa.ColumnClause[Any]] = [
                sa.column(name) for name in columns if name in present
            ]
            query = sa.select(*chosen).select_from(sa.table(table))
            if "id" in present:
                query = query.order_by(sa.column("id"))
            rows = (await conn.execute(query)).mappings().all()
    except (DBAPIError, OSError) as exc:
        raise LegacySourceError(f"cannot read the source database: {exc}") from None
    finally:
        await engine.dispose()
    return [{name: row.get(name) for name in columns} for row in rows]


def _connect_args(url: str) -> dict[str, Any]:
    return {"timeout": 10} if make_url(url).drivername.startswith("postgres") else {}
