"""Holding an app's answer until it is complete, for the whole-response layer.

:class:`Capture` is the ``send`` the layer gives the app on a miss: the answer's caching
headers depend on the whole of it, so it is held, then sent with them by
:meth:`Capture.release` (or kept and sent as an entry); one over
:data:`MAX_RESPONSE_BYTES` is sent on as it comes (``no-store``) and not kept.
"""

from __future__ import annotations

from typing import Final

from starlette.types import Message, Send

from pypole_gql.web.http_cache import NO_STORE, PRIVATE, with_cache_control

__all__ = ["MAX_RESPONSE_BYTES", "Capture", "adding_cache_control"]

#: Larger answers are sent but not kept.
MAX_RESPONSE_BYTES: Final = 4 * 1024 * 1024


class Capture:
    """Keeps the view's answer until it is complete (its caching headers depend on it),
    then :meth:`release` sends it; one over :data:`MAX_RESPONSE_BYTES` is sent on as it
    comes (``no-store``) and not kept."""

    def __init__(self, send: Send, *, signed_in: bool = False) -> None:
        self._send = send
        self._signed_in = signed_in
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.chunks: list[bytes] = []
        self.size = 0
        self.complete = False
        self.too_big = False
        #: Whether the answer is still held here (not a byte sent yet).
        self.holding = True
        self._start: Message | None = None

    async def __call__(self, message: Message) -> None:
        kind = message["type"]
        if not self.holding:
            await self._send(message)
            return
        if kind == "http.response.start":
            self.status = message["status"]
            self.headers = list(message.get("headers", []))
            self._start = message
            return
        if kind != "http.response.body":
            await self._send(message)
            return
        body: bytes = message.get("body", b"")
        self.size += len(body)
        more = message.get("more_body", False)
        if not more:
            self.complete = True
        if self.size <= MAX_RESPONSE_BYTES:
            self.chunks.append(body)
            return
        # Too big to keep: send what is held and the rest as it comes.
        self.too_big = True
        held = b"".join(self.chunks)
        self.chunks.clear()
        await self.release(self.not_kept_headers())
        await self._send({"type": "http.response.body", "body": held + body, "more_body": more})

    def not_kept_headers(self) -> list[tuple[bytes, bytes]]:
        return with_cache_control(self.headers, PRIVATE if self._signed_in else NO_STORE)

    async def release(self, headers: list[tuple[bytes, bytes]]) -> None:
        """Send the held answer with ``headers`` (its body unless it is too big)."""
        if not self.holding:
            return
        self.holding = False
        if self._start is None:
            return
        await self._send({**self._start, "headers": headers})
        if not self.too_big:
            body = b"".join(self.chunks)
            await self._send({"type": "http.response.body", "body": body})


def adding_cache_control(send: Send, value: bytes) -> Send:
    """``send`` adding ``Cache-Control: value`` (unless set) and ``Vary`` to the answer."""

    async def adding(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = with_cache_control(list(message.get("headers", [])), value)
            message = {**message, "headers": headers}
        await send(message)

    return adding
