"""Reading a request body no further than a limit, and handing it on once read."""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import Message, Receive

from pypole_gql.errors import PayloadTooLarge

#: The largest JSON (or form) body the REST shim reads.
MAX_JSON_BODY = 64 * 1024


async def read_body(request: Request, limit: int = MAX_JSON_BODY) -> bytes:
    """The whole body, or :class:`PayloadTooLarge` as soon as it (or its declared
    ``Content-Length``) passes ``limit`` bytes: never more than ``limit`` is held."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge()
        chunks.append(chunk)
    return b"".join(chunks)


async def read_messages(receive: Receive, limit: int) -> tuple[bytes | None, list[Message]]:
    """The whole body read from ``receive`` (None when the client stopped, or the body passed
    ``limit`` bytes) and the messages read, to hand on with :func:`replay_messages`."""
    messages: list[Message] = []
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return None, messages
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None, messages
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), messages


def replay_body(body: bytes, receive: Receive) -> Receive:
    """``receive`` for a body already read: the body once, then the client's own messages
    (a disconnect, for instance)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed


def replay_messages(messages: list[Message], receive: Receive) -> Receive:
    """``receive`` that first gives back ``messages`` (already read, in order), then the
    client's own."""
    pending = list(messages)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay
