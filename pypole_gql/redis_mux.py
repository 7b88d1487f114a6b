"""One multiplexed connection to Redis for the command every request makes.

redis-py's client, for each command, checks a connection out of the pool (the blocking pool
waits on a condition under a timeout), packs the command, and wraps the write and the read
each in a timeout of their own (on Python 3.11 the write's ``asyncio.wait_for`` runs a task
of its own): about three times the CPU the command's bytes cost on the socket. The rate
limiter charges every request, so its script call goes through a :class:`Multiplexer`
instead (:attr:`RedisLink.mux <pypole_gql.redis_link.RedisLink.mux>`):

* one connection, opened on first use (within the link's connect timeout, handshake
  included) and again after it fails;
* commands are written as they come, every command queued in one turn of the event loop
  in one write, and answered in order by one reader: concurrent requests share writes and
  round trips (Redis runs them one by one, as it would from several connections; each
  script still runs atomically);
* one timer watches the oldest unanswered command: past the link's socket timeout the
  connection is dropped and every command waiting on it fails with redis-py's
  ``TimeoutError`` (a refused or reset connection fails them with its ``ConnectionError``),
  so the caller's breaker sees what it sees from the pool;
* an error reply (``NOSCRIPT``, ``OOM``) fails that command alone, as redis-py's
  ``ResponseError``.

It speaks through a redis-py connection of the pool's own class and settings (host, TLS,
password, database, client name, protocol), so it says what the pool says.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any, Final

from redis.asyncio.connection import AbstractConnection, BlockingConnectionPool
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.typing import EncodableT

__all__ = ["Multiplexer", "connection_factory", "pack_parts"]

#: Pool settings a connection of the multiplexer does not take: the pool's handling of
#: cluster maintenance notifications (it relaxes the pool's own timeouts) and the socket
#: timeout, which the multiplexer applies itself, once for every command in flight.
_POOL_ONLY: Final = ("maint_notifications_", "orig_", "socket_timeout")


def pack_parts(*args: bytes) -> bytes:
    """``args`` as Redis protocol bulk strings, without the array header that says how
    many there are (a command is ``*<count>\\r\\n`` and then its arguments so packed)."""
    return b"".join(b"$%d\r\n%b\r\n" % (len(arg), arg) for arg in args)


def connection_factory(pool: BlockingConnectionPool) -> Callable[[], AbstractConnection]:
    """New connections of ``pool``'s class and settings, without a socket timeout of their
    own (the :class:`Multiplexer` times its commands)."""
    kwargs = {
        name: value
        for name, value in pool.connection_kwargs.items()
        if not name.startswith(_POOL_ONLY)
    }
    kwargs["socket_timeout"] = None  # redis-py's default is 5 s
    connection_class = pool.connection_class

    def make() -> AbstractConnection:
        connection: AbstractConnection = connection_class(**kwargs)
        return connection

    return make


class _Session:
    """One open connection: the commands queued for its next write and those written and
    not yet answered (with the loop time each must be answered by), oldest first."""

    __slots__ = ("connection", "outbox", "queued", "reader", "waiting", "wake", "writer")

    def __init__(self, connection: AbstractConnection) -> None:
        self.connection = connection
        self.outbox: list[bytes] = []
        self.queued: list[asyncio.Future[Any]] = []
        self.waiting: deque[tuple[float, asyncio.Future[Any]]] = deque()
        self.wake = asyncio.Event()
        self.reader: asyncio.Task[None] | None = None
        self.writer: asyncio.Task[None] | None = None

    def fail(self, exc: BaseException) -> None:
        for future in self.queued:
            if not future.done():
                future.set_exception(exc)
        for _, future in self.waiting:
            if not future.done():
                future.set_exception(exc)
        self.queued.clear()
        self.outbox.clear()
        self.waiting.clear()


class Multiplexer:
    """Commands of many callers over one connection (see the module docstring).

    ``timeout``: seconds a written command may wait for its answer; ``connect_timeout``:
    seconds to open the connection, handshake included. Closed with :meth:`aclose`.
    """

    def __init__(
        self,
        make_connection: Callable[[], AbstractConnection],
        *,
        timeout: float,
        connect_timeout: float,
    ) -> None:
        if timeout <= 0 or connect_timeout <= 0:
            raise ValueError("timeout and connect_timeout must be positive")
        self._make_connection = make_connection
        self._timeout = timeout
        self._connect_timeout = connect_timeout
        self._session: _Session | None = None
        self._opening: asyncio.Future[_Session] | None = None
        self._watchdog: asyncio.TimerHandle | None = None
        self._closing: set[asyncio.Task[None]] = set()
        self._closed = False
        #: Writes made and commands answered, for tests and benchmarks.
        self.writes = 0
        self.replies = 0

    async def execute(self, *args: EncodableT) -> Any:
        """Send one command; its reply (an error reply raises ``ResponseError``)."""
        session = self._session
        if session is None:
            session = await self._open()
        return await self._queue(session, session.connection.pack_command(*args))

    async def execute_packed(self, command: bytes) -> Any:
        """Send one command already in the protocol's bytes (see :func:`pack_parts`): for a
        command sent on every request, most of whose arguments never change."""
        session = self._session
        if session is None:
            session = await self._open()
        return await self._queue(session, (command,))

    def _queue(self, session: _Session, chunks: Iterable[bytes]) -> asyncio.Future[Any]:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        session.outbox += chunks
        session.queued.append(future)
        session.wake.set()
        return future

    async def aclose(self) -> None:
        """Fail what is in flight, close the connection; later calls raise."""
        self._closed = True
        self._drop(RedisConnectionError("the Redis link is closed"))
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)

    # -- the connection ----------------------------------------------------------------

    async def _open(self) -> _Session:
        """The connection, opened by one attempt that every caller arriving meanwhile
        shares (a Redis that does not answer costs them one connect timeout together)."""
        if self._closed:
            raise RedisConnectionError("the Redis link is closed")
        opening = self._opening
        if opening is None:
            opening = self._opening = asyncio.ensure_future(self._connect())
            opening.add_done_callback(self._opened)
        return await asyncio.shield(opening)

    def _opened(self, attempt: asyncio.Future[_Session]) -> None:
        self._opening = None
        if not attempt.cancelled():
            attempt.exception()  # seen: every caller waiting on it got it

    async def _connect(self) -> _Session:
        connection = self._make_connection()
        try:
            async with asyncio.timeout(self._connect_timeout):
                await connection.connect()  # type: ignore[no-untyped-call]
        except TimeoutError:
            await connection.disconnect(nowait=True)
            raise RedisTimeoutError("Timeout connecting to Redis") from None
        except BaseException:
            await connection.disconnect(nowait=True)
            raise
        session = _Session(connection)
        if self._closed:  # closed while connecting
            await connection.disconnect(nowait=True)
            raise RedisConnectionError("the Redis link is closed")
        session.writer = asyncio.create_task(self._write(session), name="redis-mux.write")
        session.reader = asyncio.create_task(self._read(session), name="redis-mux.read")
        self._session = session
        return session

    def _drop(self, exc: BaseException, session: _Session | None = None) -> None:
        """Give up the connection (``session``'s, by default the current one): every
        command on it fails with ``exc``."""
        session = session or self._session
        if session is None:
            return
        if session is not self._session:  # already replaced: fail what it still holds
            session.fail(exc)
            return
        self._session = None
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        session.fail(exc)
        current = asyncio.current_task()
        for task in (session.reader, session.writer):
            if task is not None and task is not current:
                task.cancel()
        closing = asyncio.get_running_loop().create_task(
            session.connection.disconnect(nowait=True), name="redis-mux.close"
        )
        self._closing.add(closing)
        closing.add_done_callback(self._closing.discard)

    # -- writing and reading ---------------------------------------------------------

    async def _write(self, session: _Session) -> None:
        loop = asyncio.get_running_loop()
        connection = session.connection
        while True:
            await session.wake.wait()
            session.wake.clear()
            chunks, futures = session.outbox, session.queued
            if not futures:
                continue
            session.outbox, session.queued = [], []
            deadline = loop.time() + self._timeout
            session.waiting.extend((deadline, future) for future in futures)
            if self._watchdog is None:
                self._watchdog = loop.call_at(deadline, self._check, session)
            self.writes += 1
            try:
                await connection.send_packed_command(chunks, check_health=False)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._drop(exc, session)
                return

    async def _read(self, session: _Session) -> None:
        connection = session.connection
        waiting = session.waiting
        while True:
            try:
                reply: Any = await connection.read_response(disconnect_on_error=False)
            except ResponseError as exc:
                reply = exc
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._drop(exc, session)
                return
            if not waiting:  # an answer nobody asked for: the stream is out of step
                self._drop(RedisConnectionError("Redis answered a command not sent"), session)
                return
            _, future = waiting.popleft()
            self.replies += 1
            if future.done():  # its caller went away
                continue
            if isinstance(reply, ResponseError):
                future.set_exception(reply)
            else:
                future.set_result(reply)

    def _check(self, session: _Session) -> None:
        """The watchdog: drop the connection when its oldest command is overdue."""
        self._watchdog = None
        if session is not self._session or not session.waiting:
            return
        loop = asyncio.get_running_loop()
        deadline = session.waiting[0][0]
        if loop.time() >= deadline:
            self._drop(RedisTimeoutError("Timeout reading from Redis"), session)
            return
        self._watchdog = loop.call_at(deadline, self._check, session)
