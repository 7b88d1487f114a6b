"""The GraphQL key strategy: which requests :class:`ResponseCache` answers, and their key.

:class:`ResponseCache` is the whole-response layer (:mod:`pypole_gql.cache.responses`) of
the GraphQL endpoint. A request it may answer from the cache is one that:

* has no ``Authorization`` header (a signed-in user's answer is never shared);
* is a single GraphQL request (no batch) sent as ``GET ?query=`` or ``POST`` with an
  ``application/json`` body of at most :data:`MAX_REQUEST_BYTES`, without ``extensions``
  and without asking for a streamed (multipart or event-stream) answer (a persisted query
  arrives here as a plain one: :class:`~pypole_gql.graphql.persisted.PersistedQueries`,
  in front, puts the text in and takes the extension out);
* selects a ``query`` operation. The operation type comes from the server's own parse of
  the query text (remembered per text), never from anything the client says about it.

Anything else goes to the view untouched. For an eligible request the key is a hash of
the schema's fingerprint (its SDL, the introspection setting and the app version), the
normalised query text (parsed and printed again, so spacing and comments do not matter),
the operation name and the variables as canonical JSON. It keeps only complete answers:
``data`` and no ``errors``. Entries live in process and, with Redis, in Redis too.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import orjson
from cachetools import LRUCache
from graphql import OperationDefinitionNode, OperationType, parse, print_ast
from starlette.datastructures import QueryParams
from starlette.types import Message, Receive, Scope, Send
from strawberry import Schema
from strawberry.printer import print_schema

from pypole_gql.cache.memo import lru
from pypole_gql.cache.responses import (
    FORMAT,
    FRONT_MAX_BYTES,
    FRONT_MAX_ENTRIES,
    KeyMemo,
    ResponseLayer,
    app_version,
)
from pypole_gql.web.body import read_messages, replay_messages

__all__ = ["MAX_REQUEST_BYTES", "ResponseCache"]

#: Larger request bodies go to the view without being read here.
MAX_REQUEST_BYTES: Final = 16 * 1024
#: Query texts whose parse (operation types, normalised digest) is remembered.
DOCUMENT_MEMO_ENTRIES: Final = 512

_KEY_PREFIX: Final = "gql-response"
_JSON_MEDIA: Final = b"application/json"
_STREAMING_ACCEPT: Final = (b"multipart/mixed", b"text/event-stream")


@dataclass(frozen=True, slots=True)
class _Document:
    """What the server itself learnt from parsing one query text."""

    digest: bytes
    operations: dict[str | None, OperationType]


@dataclass(frozen=True, slots=True)
class _Request:
    document: bytes
    operation_name: str | None
    variables: bytes


def _schema_fingerprint(schema: Schema, introspection: bool) -> bytes:
    digest = hashlib.sha256()
    for part in (FORMAT, app_version(), "introspection" if introspection else "closed"):
        digest.update(part.encode() + b"\0")
    digest.update(print_schema(schema).encode())
    return digest.digest()[:16]


def _parse_document(query: str, max_tokens: int) -> _Document | None:
    try:
        document = parse(query, no_location=True, max_tokens=max_tokens)
    except Exception:
        # Syntax errors, too many tokens, too deep for the parser: the view answers them.
        return None
    operations: dict[str | None, OperationType] = {}
    found = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    for definition in found:
        if definition.name is not None:
            operations[definition.name.value] = definition.operation
    if len(found) == 1:
        operations[None] = found[0].operation
    digest = hashlib.blake2b(print_ast(document).encode(), digest_size=20).digest()
    return _Document(digest, operations)


class ResponseCache(ResponseLayer):
    """ASGI middleware answering repeated anonymous queries to ``path`` (the GraphQL
    endpoint) from the cache; see the module docstring. Everything else, and every
    request it does not answer, goes on to the app it wraps (the router, then the view).

    Built in ``create_app`` and installed with ``app.add_middleware(layer.wrap)`` inside
    the rate limiter; ``app.state.response_cache`` keeps a handle on it. A hit is sent
    from here, without the router.
    """

    def __init__(
        self,
        schema: Schema,
        *,
        introspection: bool,
        max_tokens: int,
        path: str = "/graphql",
        clock: Callable[[], float] = time.time,
        front_max_entries: int = FRONT_MAX_ENTRIES,
        front_max_bytes: int = FRONT_MAX_BYTES,
    ) -> None:
        """``clock`` must be the app cache's clock: fresh-until times come from it.
        ``max_tokens``: the GraphQL view's bound on a document (a longer one is not parsed
        here either; the view answers it)."""
        super().__init__(
            clock=clock,
            front_max_entries=front_max_entries,
            front_max_bytes=front_max_bytes,
            front_with_redis=True,
        )
        self._path = path
        self._schema = schema
        self._introspection = introspection
        self._max_tokens = max_tokens
        self._fingerprint: bytes | None = None
        self._documents: LRUCache[str, _Document | None] = lru(DOCUMENT_MEMO_ENTRIES)
        # Raw request (method, query string or body) -> key: a repeat skips JSON parsing,
        # canonical variables and hashing. Never stale (keys only).
        self._keys = KeyMemo()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Other methods go on to the router, which answers them (405) as before.
        if (
            scope["type"] != "http"
            or scope["path"] != self._path
            or scope["method"] not in ("GET", "POST")
        ):
            await self.app(scope, receive, send)
            return
        key, read, if_none_match = await self._eligible(scope, receive)
        if read:
            receive = replay_messages(read, receive)
        if key is None:
            await self._bypass(scope, receive, send)
            return
        await self._answer(scope, receive, send, key, if_none_match)

    def _storable(self, body: bytes) -> bool:
        # Only complete answers: data and no errors (a partial answer is an error answer).
        try:
            answer = orjson.loads(body)
        except orjson.JSONDecodeError:
            return False
        return isinstance(answer, dict) and set(answer) == {"data"} and answer["data"] is not None

    # -- which requests ------------------------------------------------------------------

    async def _eligible(
        self, scope: Scope, receive: Receive
    ) -> tuple[str | None, list[Message], bytes | None]:
        """The key to look up (None: pass it on), the messages read to find out and the
        request's ``If-None-Match``."""
        method = scope["method"]
        if method not in ("GET", "POST"):
            return None, [], None
        content_type = b""
        length = -1
        if_none_match = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                return None, [], None
            if name == b"accept" and any(s in value for s in _STREAMING_ACCEPT):
                return None, [], None
            if name == b"content-type":
                content_type = value
            elif name == b"content-length":
                length = int(value) if value.isdigit() else -1
            elif name == b"if-none-match":
                if_none_match = value
        if method == "GET":
            raw: bytes = scope["query_string"]
            key = self._key_for("GET", raw, lambda: self._from_params(QueryParams(raw)))
            return key, [], if_none_match
        media = content_type.split(b";", 1)[0].strip().lower()
        if media != _JSON_MEDIA or not 0 < length <= MAX_REQUEST_BYTES:
            return None, [], None
        body, messages = await read_messages(receive, MAX_REQUEST_BYTES)
        if body is None:
            return None, messages, None
        return self._key_for("POST", body, lambda: self._from_body(body)), messages, None

    def known_key(self, method: str, raw: bytes) -> str | None:
        """The key of an eligible request already seen, by its raw query string (``GET``)
        or body (``POST``); None when it was not seen (or is not eligible). Whether the
        request may be answered from cache (signed in, ``Accept``, the body's media type
        and size) is the caller's to check, as :meth:`__call__` does."""
        return self._keys.get((method, raw))

    def _key_for(
        self, method: str, raw: bytes, request: Callable[[], _Request | None]
    ) -> str | None:
        """The key of an eligible request, remembered per raw request for repeats."""
        found = self._keys.get((method, raw))
        if found is not None:
            return found
        parsed = request()
        if parsed is None:
            return None
        key = self._key(parsed)
        self._keys.put((method, raw), key)
        return key

    def _from_body(self, body: bytes) -> _Request | None:
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            return None
        if not isinstance(data, dict) or data.get("extensions"):
            return None
        return self._request(data.get("query"), data.get("operationName"), data.get("variables"))

    def _from_params(self, params: QueryParams) -> _Request | None:
        if "extensions" in params:
            return None
        variables: Any = None
        if "variables" in params:
            try:
                variables = orjson.loads(params["variables"])
            except orjson.JSONDecodeError:
                return None
            if variables is None:
                return None
        return self._request(params.get("query"), params.get("operationName"), variables)

    def _request(self, query: Any, operation_name: Any, variables: Any) -> _Request | None:
        if not isinstance(query, str) or not query:
            return None
        if operation_name is not None and not isinstance(operation_name, str):
            return None
        if variables is None:
            variables = {}
        if not isinstance(variables, dict):
            return None
        document = self._document(query)
        # An empty name selects nothing (an error in the view), unlike a missing one.
        if document is None or document.operations.get(operation_name) is not OperationType.QUERY:
            return None
        try:
            canonical = orjson.dumps(variables, option=orjson.OPT_SORT_KEYS)
        except TypeError:
            return None
        return _Request(document.digest, operation_name, canonical)

    def _document(self, query: str) -> _Document | None:
        memo = self._documents
        try:
            return memo[query]
        except KeyError:
            document = memo[query] = _parse_document(query, self._max_tokens)
            return document

    def _key(self, request: _Request) -> str:
        if self._fingerprint is None:
            self._fingerprint = _schema_fingerprint(self._schema, self._introspection)
        digest = hashlib.blake2b(self._fingerprint, digest_size=20)
        digest.update(request.document)
        name = request.operation_name
        digest.update(b"\0" if name is None else b"\1" + name.encode() + b"\0")
        digest.update(request.variables)
        return f"{_KEY_PREFIX}:{digest.hexdigest()}"
