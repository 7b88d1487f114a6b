"""Automatic persisted queries (the Apollo protocol) and the allow-list mode.

A client sends ``extensions: {"persistedQuery": {"version": 1, "sha256Hash": "<hex>"}}``
(over ``POST``, or ``GET /graphql?extensions=...&variables=...``), with or without the
query text:

* **hash alone**: the text registered under the hash runs; an unknown hash answers
  ``PersistedQueryNotFound`` (``extensions.code`` ``PERSISTED_QUERY_NOT_FOUND``, status 200
  as Apollo's clients expect), upon which the client sends the text with the hash;
* **hash and text**: the hash must be the SHA-256 of the text exactly (else 400
  ``PERSISTED_QUERY_HASH_MISMATCH``); the text is registered and runs.

Registered texts live in the app's cache (Redis when configured, so every worker and
instance shares them) for :data:`APQ_TTL`, and in a bounded in-process memo (a hash names
one text forever, so the memo never goes stale). The operations of the **manifest**
(``PYPOLE_PERSISTED_QUERIES_FILE``, written by ``pypole persist DIR``, in Apollo's
persisted query manifest format) are registered for good.

With ``PYPOLE_PERSISTED_ONLY=true`` only the manifest's operations run: a hash that is not
in it, or a text whose operation is not (compared in canonical form, see
:func:`~.persisted_manifest.canonical_operations`), is refused with 400
``PERSISTED_QUERY_NOT_IN_LIST`` and nothing is registered. The manifest itself (its format,
the canonical form) is :mod:`~.persisted_manifest`; ``ManifestError`` and ``load_manifest``
are named here too for the app factory that installs this middleware.

:class:`PersistedQueries` is ASGI middleware in front of the response cache: it resolves
the hash to the text and hands the request on as a plain one (``query`` set,
``persistedQuery`` removed), so the response cache keys, keeps and serves APQ requests
exactly as the same query sent in full.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlencode

import orjson
from cachetools import LRUCache
from graphql import parse
from starlette.datastructures import QueryParams
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pypole_gql.cache import Cache
from pypole_gql.cache.memo import lru
from pypole_gql.errors import AppError, BadRequest, render
from pypole_gql.graphql.limits import MAX_BODY_BYTES
from pypole_gql.graphql.persisted_manifest import (
    ManifestError,
    canonical_operations,
    load_manifest,
    sha256_hex,
)
from pypole_gql.graphql.schema import MAX_TOKENS
from pypole_gql.logging import get_logger, request_id_var
from pypole_gql.resources import Resources
from pypole_gql.web.body import replay_body
from pypole_gql.web.http_cache import NO_STORE

__all__ = [
    "APQ_TTL",
    "ManifestError",
    "PersistedQueries",
    "PersistedQueryHashMismatch",
    "PersistedQueryNotFound",
    "PersistedQueryNotInList",
    "load_manifest",
]

log = get_logger("pypole.graphql.persisted")

#: How long a registered text stays in the app's cache without being registered again.
APQ_TTL: Final = 7 * 24 * 3600
#: Hash -> text pairs remembered in process.
MEMO_ENTRIES: Final = 4096
#: Raw GET query strings whose rewritten form is remembered, and the longest remembered.
REWRITE_ENTRIES: Final = 1024
REWRITE_MAX_BYTES: Final = 4096
#: Query texts whose allow-list verdict is remembered (allow-list mode).
VERDICT_ENTRIES: Final = 512
_KEY_PREFIX: Final = "apq"
_HASH: Final = re.compile(r"^[0-9a-fA-F]{64}$")
_JSON_MEDIA: Final = b"application/json"


class PersistedQueryNotFound(AppError):
    """The hash names no registered query: send the query text with it."""

    code = "PERSISTED_QUERY_NOT_FOUND"
    # Apollo's clients read the error from a 200 answer and retry with the text.
    status = 200
    # The message Apollo's clients look for (some match it rather than the code).
    default_message = "PersistedQueryNotFound"


class PersistedQueryHashMismatch(BadRequest):
    code = "PERSISTED_QUERY_HASH_MISMATCH"
    default_message = (
        "extensions.persistedQuery.sha256Hash is not the SHA-256 of the query text sent "
        "with it (hash the exact text, as UTF-8)"
    )


class PersistedQueryNotInList(BadRequest):
    code = "PERSISTED_QUERY_NOT_IN_LIST"
    default_message = (
        "This server runs only registered operations (PYPOLE_PERSISTED_ONLY) and this one "
        "is not registered; register it with `pypole persist`"
    )


# -- the middleware --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Persisted:
    hash: str
    query: str | None


class _Refused(Exception):
    def __init__(self, error: AppError) -> None:
        self.error = error


def _persisted(extensions: Any) -> _Persisted | None:
    """The ``persistedQuery`` extension, checked (None when there is none)."""
    if not isinstance(extensions, dict) or "persistedQuery" not in extensions:
        return None
    found = extensions["persistedQuery"]
    if not isinstance(found, dict):
        raise _Refused(BadRequest("extensions.persistedQuery must be an object"))
    if found.get("version") != 1:
        raise _Refused(BadRequest("extensions.persistedQuery.version must be 1"))
    digest = found.get("sha256Hash")
    if not isinstance(digest, str) or not _HASH.match(digest):
        raise _Refused(
            BadRequest("extensions.persistedQuery.sha256Hash must be 64 hexadecimal digits")
        )
    return _Persisted(digest.lower(), None)


class PersistedQueries:
    """ASGI middleware for ``path`` (the GraphQL endpoint); see the module docstring.

    Installed in ``create_app`` outside the response cache with
    ``app.add_middleware(layer.wrap)``; ``app.state.persisted_queries`` keeps a handle.
    """

    app: ASGIApp

    def __init__(
        self,
        manifest: Mapping[str, str] | None = None,
        *,
        persisted_only: bool = False,
        path: str = "/graphql",
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        self.manifest: dict[str, str] = dict(manifest or {})
        self.persisted_only = persisted_only
        self._path = path
        self._max_body_bytes = max_body_bytes
        self._memo: LRUCache[str, str] = lru(MEMO_ENTRIES)
        self._rewrites: LRUCache[bytes, bytes] = lru(REWRITE_ENTRIES)
        self._verdicts: LRUCache[tuple[str, str | None], bool] = lru(VERDICT_ENTRIES)
        #: Texts registered by clients (for tests and the bench).
        self.registered = 0

    def wrap(self, app: ASGIApp) -> ASGIApp:
        self.app = app
        return self

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self._path:
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        try:
            if method == "GET":
                scope = await self._get(scope)
            elif method == "POST":
                scope, receive = await self._post(scope, receive)
        except _Refused as refused:
            await self._refuse(refused.error, send)
            return
        await self.app(scope, receive, send)

    def rewritten(self, raw: bytes) -> bytes | None:
        """The query string a ``GET`` with query string ``raw`` is handed on with: ``raw``
        itself when this layer leaves it alone, the rewritten one already worked out for
        it (by hash, resolved and checked), None when it was not worked out yet."""
        if not raw or (not self.persisted_only and b"extensions" not in raw):
            return raw
        return self._rewrites.get(raw)

    # -- GET ----------------------------------------------------------------------------

    async def _get(self, scope: Scope) -> Scope:
        raw: bytes = scope["query_string"]
        if not raw or (not self.persisted_only and b"extensions" not in raw):
            return scope
        rewritten = self._rewrites.get(raw)
        if rewritten is not None:
            return {**scope, "query_string": rewritten}
        params = QueryParams(raw)
        extensions: Any = None
        if "extensions" in params:
            try:
                extensions = orjson.loads(params["extensions"])
            except orjson.JSONDecodeError:
                raise _Refused(BadRequest("extensions must be JSON")) from None
        query = params.get("query")
        resolved = await self._resolve(scope, extensions, query, params.get("operationName"))
        if resolved is None:
            return scope
        text, rest = resolved
        items = [(k, v) for k, v in params.multi_items() if k not in ("extensions", "query")]
        if rest:
            items.append(("extensions", orjson.dumps(rest).decode()))
        items.append(("query", text))
        rewritten = urlencode(items).encode()
        if len(raw) <= REWRITE_MAX_BYTES:
            self._rewrites[raw] = rewritten
        return {**scope, "query_string": rewritten}

    # -- POST ---------------------------------------------------------------------------

    async def _post(self, scope: Scope, receive: Receive) -> tuple[Scope, Receive]:
        media = b""
        for name, value in scope["headers"]:
            if name == b"content-type":
                media = value.split(b";", 1)[0].strip().lower()
        if media != _JSON_MEDIA:
            return scope, receive  # the view refuses it (415)
        body, complete = await self._read(receive)
        receive = replay_body(body, receive)
        if not complete or (not self.persisted_only and b"persistedQuery" not in body):
            return scope, receive  # too big (the view answers 413) or a plain request
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            return scope, receive  # the view answers it
        if not isinstance(data, dict):
            return scope, receive  # a batch: the view refuses it, nothing runs
        query = data.get("query")
        name = data.get("operationName")
        resolved = await self._resolve(scope, data.get("extensions"), query, name)
        if resolved is None:
            return scope, receive
        text, rest = resolved
        data["query"] = text
        if rest:
            data["extensions"] = rest
        else:
            data.pop("extensions", None)
        body = orjson.dumps(data)
        headers = [(k, v) for k, v in scope["headers"] if k != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        return {**scope, "headers": headers}, replay_body(body, receive)

    async def _read(self, receive: Receive) -> tuple[bytes, bool]:
        """The body up to the view's limit, and whether that is all of it."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message: Message = await receive()
            if message["type"] != "http.request":
                return b"".join(chunks), False
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            chunks.append(chunk)
            if size > self._max_body_bytes:
                return b"".join(chunks), False
            if not message.get("more_body", False):
                return b"".join(chunks), True

    # -- both ---------------------------------------------------------------------------

    async def _resolve(
        self,
        scope: Scope,
        extensions: Any,
        query: Any,
        operation_name: Any,
    ) -> tuple[str, dict[str, Any]] | None:
        """The query text to run and the other extensions, or None to pass the request on
        unchanged (raises :class:`_Refused`)."""
        persisted = _persisted(extensions)
        if persisted is None:
            if self.persisted_only and isinstance(query, str) and query:
                name = operation_name if isinstance(operation_name, str) else None
                if not self._listed_text(query, name):
                    raise _Refused(PersistedQueryNotInList())
            return None
        assert isinstance(extensions, dict)
        rest = {k: v for k, v in extensions.items() if k != "persistedQuery"}
        if isinstance(query, str) and query:
            if sha256_hex(query) != persisted.hash:
                raise _Refused(PersistedQueryHashMismatch())
            if self.persisted_only:
                name = operation_name if isinstance(operation_name, str) else None
                if persisted.hash not in self.manifest and not self._listed_text(query, name):
                    raise _Refused(PersistedQueryNotInList())
            elif persisted.hash not in self.manifest and persisted.hash not in self._memo:
                await self._register(scope, persisted.hash, query)
            return query, rest
        text = await self._lookup(scope, persisted.hash)
        if text is None:
            if self.persisted_only:
                raise _Refused(PersistedQueryNotInList())
            raise _Refused(PersistedQueryNotFound())
        return text, rest

    def _listed_text(self, query: str, operation_name: str | None) -> bool:
        """Whether the operation ``query`` selects is one of the manifest's (allow-list)."""
        key = (query, operation_name)
        verdict = self._verdicts.get(key)
        if verdict is None:
            verdict = self._check_listed(query, operation_name)
            self._verdicts[key] = verdict
        return verdict

    def _check_listed(self, query: str, operation_name: str | None) -> bool:
        if sha256_hex(query) in self.manifest:
            return True
        try:
            document = parse(query, no_location=True, max_tokens=MAX_TOKENS)
            operations = canonical_operations([document])
        except Exception:
            return False  # not even GraphQL: refused as not registered
        if operation_name is None:
            chosen = operations if len(operations) == 1 else []
        else:
            chosen = [op for op in operations if op[0] == operation_name]
        return len(chosen) == 1 and sha256_hex(chosen[0][2]) in self.manifest

    @staticmethod
    def _cache(scope: Scope) -> Cache:
        resources: Resources = scope["app"].state.resources
        return resources.cache

    async def _lookup(self, scope: Scope, digest: str) -> str | None:
        text = self.manifest.get(digest)
        if text is not None or self.persisted_only:
            return text
        text = self._memo.get(digest)
        if text is not None:
            return text
        found = await self._cache(scope).peek(f"{_KEY_PREFIX}:{digest}")
        if found is None:
            return None
        try:
            text = found[0].decode()
        except UnicodeDecodeError:
            return None
        if sha256_hex(text) != digest:  # never run a text under another's hash
            log.warning("persisted_query.corrupt_entry", hash=digest)
            return None
        self._memo[digest] = text
        return text

    async def _register(self, scope: Scope, digest: str, query: str) -> None:
        self._memo[digest] = query
        self.registered += 1
        await self._cache(scope).put(f"{_KEY_PREFIX}:{digest}", query.encode(), ttl=APQ_TTL)
        log.info("persisted_query.registered", hash=digest)

    @staticmethod
    async def _refuse(error: AppError, send: Send) -> None:
        rendered = render(error, "graphql", request_id=request_id_var.get())
        headers = [*rendered.raw_headers(), (b"cache-control", NO_STORE)]
        await send({"type": "http.response.start", "status": rendered.status, "headers": headers})
        await send({"type": "http.response.body", "body": rendered.body()})
