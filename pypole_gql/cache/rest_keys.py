"""The REST key strategy: :class:`RestResponseCache`, anonymous ``GET`` answers of the
REST routes under :data:`REST_PREFIXES`, keyed by path and query.

The whole-response layer (:mod:`pypole_gql.cache.responses`) applied to the REST shim's
Jolpica and FastF1 routes (``GET`` without ``Authorization``). The key is a hash of the
path and the query parameters (sorted by name; repeated names keep their order, since the
last one wins). It keeps 200 JSON answers byte for byte, whatever their shape. With Redis
its entries live in Redis alone (no in-process copy), so the shim follows Redis as the
data cache does.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Final
from urllib.parse import parse_qsl

import orjson
from starlette.types import Receive, Scope, Send

from pypole_gql.cache.responses import (
    FORMAT,
    FRONT_MAX_BYTES,
    FRONT_MAX_ENTRIES,
    KeyMemo,
    ResponseLayer,
    app_version,
)

__all__ = ["REST_PREFIXES", "RestResponseCache"]

_REST_KEY_PREFIX: Final = "rest-response"
#: The REST routes whose anonymous GET answers :class:`RestResponseCache` keeps.
REST_PREFIXES: Final = ("/api/v1/jolpica/", "/api/v1/fastf1/")


class RestResponseCache(ResponseLayer):
    """ASGI middleware answering anonymous ``GET`` requests under :data:`REST_PREFIXES`
    from the cache; see the module docstring. Everything else passes through untouched.

    Installed like :class:`ResponseCache`; ``app.state.rest_response_cache``.
    """

    def __init__(
        self,
        *,
        prefixes: tuple[str, ...] = REST_PREFIXES,
        clock: Callable[[], float] = time.time,
        front_max_entries: int = FRONT_MAX_ENTRIES,
        front_max_bytes: int = FRONT_MAX_BYTES,
    ) -> None:
        """``clock`` must be the app cache's clock: fresh-until times come from it."""
        # With Redis, entries live there alone: a REST read then behaves as the data cache
        # does (a dead Redis means fresh loads, a restarted one fills again), one Redis read
        # instead of decoding and re-encoding the data.
        super().__init__(
            clock=clock,
            front_max_entries=front_max_entries,
            front_max_bytes=front_max_bytes,
            front_with_redis=False,
        )
        self._prefixes = prefixes
        self._fingerprint = hashlib.sha256(f"{FORMAT}\0{app_version()}\0rest".encode()).digest()
        # (path, raw query string) -> key, as for GraphQL requests.
        self._keys = KeyMemo()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "GET"
            or not scope["path"].startswith(self._prefixes)
        ):
            await self.app(scope, receive, send)
            return
        if_none_match = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                await self._bypass(scope, receive, send)
                return
            if name == b"if-none-match":
                if_none_match = value
        key = self.key_for(scope["path"], scope["query_string"])
        await self._answer(scope, receive, send, key, if_none_match)

    def key_for(self, path: str, query: bytes) -> str:
        """The key of an anonymous GET of ``path`` with ``query`` (remembered per raw pair)."""
        raw = (path, query)
        key = self._keys.get(raw)
        if key is None:
            key = self._key(path, query)
            self._keys.put(raw, key)
        return key

    def _key(self, path: str, query: bytes) -> str:
        # Sorted by name only: the order of a repeated name's values is kept (the handler
        # reads the last one).
        params = sorted(parse_qsl(query.decode("latin-1"), keep_blank_values=True), key=_name)
        digest = hashlib.blake2b(self._fingerprint, digest_size=20)
        digest.update(orjson.dumps([path, params]))
        return f"{_REST_KEY_PREFIX}:{digest.hexdigest()}"


def _name(param: tuple[str, str]) -> str:
    return param[0]
