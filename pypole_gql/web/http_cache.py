"""HTTP caching headers shared by both edges: ``ETag``, ``If-None-Match``, ``Cache-Control``
and ``Vary``.

* An anonymous answer the server keeps (see :mod:`pypole_gql.cache.responses`) is
  ``Cache-Control: public, max-age=<seconds until its data's fresh-until>`` with a strong
  ``ETag`` (a hash of its bytes); a request whose ``If-None-Match`` names that tag gets
  ``304 Not Modified`` with no body and the same validators.
* A signed-in answer (the request had ``Authorization``) is ``private, no-store``; anything
  else on a cacheable route (errors, answers not kept, POST) is ``no-store``.
* ``Vary`` names the request headers that change the body there: ``Accept`` (a streamed
  answer), ``Authorization`` (a signed-in one). The app does not compress, so
  ``Accept-Encoding`` is not among them.
"""

from __future__ import annotations

import hashlib
from typing import Final

__all__ = [
    "NO_STORE",
    "PRIVATE",
    "VARY",
    "etag_for",
    "matches",
    "not_modified_headers",
    "public",
    "with_cache_control",
]

#: ``Cache-Control`` of a signed-in answer.
PRIVATE: Final = b"private, no-store"
#: ``Cache-Control`` of an answer no cache may keep (errors, POST, answers not kept here).
NO_STORE: Final = b"no-store"
#: ``Vary`` of every answer on a cacheable route.
VARY: Final = b"Accept, Authorization"

#: The headers a 304 repeats from the 200 it stands for (RFC 9110, 15.4.5).
_NOT_MODIFIED_KEEP: Final = frozenset({b"etag", b"cache-control", b"vary", b"expires", b"date"})


def etag_for(body: bytes) -> bytes:
    """A strong entity tag for ``body``: the first 128 bits of its SHA-256, quoted."""
    return b'"' + hashlib.sha256(body).hexdigest()[:32].encode() + b'"'


def public(max_age: float) -> bytes:
    """``Cache-Control`` of an anonymous answer fresh for ``max_age`` more seconds."""
    return b"public, max-age=%d" % max(int(max_age), 0)


def matches(if_none_match: bytes, etag: bytes) -> bool:
    """Whether an ``If-None-Match`` value names ``etag`` (weak comparison, as the header
    asks for; ``*`` matches any current answer)."""
    if if_none_match == etag:
        return True
    for candidate in if_none_match.split(b","):
        tag = candidate.strip()
        if tag == b"*":
            return True
        if tag.startswith(b"W/"):
            tag = tag[2:]
        if tag == etag:
            return True
    return False


def not_modified_headers(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The headers of the 304 answering for a 200 with ``headers``."""
    return [(k, v) for k, v in headers if k.lower() in _NOT_MODIFIED_KEEP]


def with_cache_control(
    headers: list[tuple[bytes, bytes]], value: bytes, *, vary: bool = True
) -> list[tuple[bytes, bytes]]:
    """``headers`` with ``Cache-Control: value`` (unless the answer set its own) and ``Vary``."""
    out = list(headers)
    names = {k.lower() for k, _ in out}
    if b"cache-control" not in names:
        out.append((b"cache-control", value))
    if vary:
        out.append((b"vary", VARY))
    return out
