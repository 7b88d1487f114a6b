"""The database engine and session scope (SQLite via aiosqlite, or PostgreSQL via asyncpg)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Final

from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from pypole_gql.errors import ServiceUnavailable
from pypole_gql.logging import get_logger

log = get_logger("pypole.db")
#: Seconds a readiness ping may take. Cancelling a query on a hung server takes asyncpg a
#: while of its own, so the ping gives up on its own clock instead of awaiting that.
PING_TIMEOUT = 2.5


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


#: SQLSTATEs that mean "no usable server right now" rather than "this statement is wrong":
#: connection exceptions (class 08), shutdown, crash and startup (57P01-57P03), and too many
#: connections (53300).
_UNAVAILABLE_SQLSTATES: Final = ("08", "57P01", "57P02", "57P03", "53300")


def _sqlstate(exc: DBAPIError) -> str | None:
    # The driver's error, or what it wrapped (asyncpg's error behind SQLAlchemy's adapter).
    orig: BaseException | None = exc.orig
    while orig is not None:
        code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
        if isinstance(code, str):
            return code
        orig = orig.__cause__
    return None


def _is_unavailable(exc: Exception) -> bool:
    """Whether ``exc`` means the database cannot be reached (a 503), not a bug (a 500).

    A connection lost while it was being opened arrives as a plain ``DBAPIError`` with no
    connection to invalidate: its SQLSTATE is what tells.
    """
    if isinstance(exc, OperationalError | OSError | TimeoutError):
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        code = _sqlstate(exc)
        return code is not None and code.startswith(_UNAVAILABLE_SQLSTATES)
    return False


def _ignore_outcome(task: asyncio.Future[None]) -> None:
    if not task.cancelled():
        task.exception()


class Database:
    """Owns the engine; hands out sessions that turn an unreachable database into a 503."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        kwargs: dict[str, Any] = {"echo": echo, "pool_pre_ping": True}
        if not self.is_sqlite:
            kwargs.update(pool_size=10, max_overflow=10, pool_timeout=5)
            kwargs["connect_args"] = {"timeout": 5, "command_timeout": 10}
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session in one transaction: committed on success, rolled back on error."""
        try:
            async with self.sessionmaker() as session, session.begin():
                yield session
        except (OperationalError, DBAPIError, OSError, TimeoutError) as exc:
            if not _is_unavailable(exc):
                raise
            log.error("db.unavailable", error=type(exc).__name__, detail=str(exc)[:200])
            raise ServiceUnavailable(
                "The account database is unavailable, try again later"
            ) from exc

    async def ping(self) -> bool:
        """True when the database answers ``SELECT 1`` within ``PING_TIMEOUT`` seconds.

        Never waits longer, even on a server that accepts connections and then hangs: a
        probe still running at the deadline is cancelled and finishes in the background.
        """
        probe = asyncio.ensure_future(self._select_one())
        probe.add_done_callback(_ignore_outcome)
        try:
            done, _ = await asyncio.wait({probe}, timeout=PING_TIMEOUT)
        finally:
            probe.cancel()  # a no-op once it is done
        if not done:
            log.warning("db.ping_failed", error="TimeoutError")
            return False
        exc = probe.exception()
        if exc is not None:  # any failure means not ready
            log.warning("db.ping_failed", error=type(exc).__name__)
            return False
        return True

    async def _select_one(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def close(self) -> None:
        await self.engine.dispose()
