"""How fresh the data a request read is: a context variable the cache code writes.

Every cached value a request uses (from :meth:`~pypole_gql.cache.Cache.get_or_load`,
:meth:`~pypole_gql.cache.Cache.get`, or a service's own in-process copy) is noted with
:func:`note_read`: how many values, how many served stale, and the earliest time one of
them stops being fresh. A response built from them stays true until then, which is what
the whole-response cache (:mod:`pypole_gql.cache.responses`) keeps it for.

The request's :class:`Freshness` is opened by whoever frames the request (the access-log
middleware, or the response cache when it is mounted alone) with :func:`track`; the
access log reads :attr:`Freshness.response_cache` from it. Cache code never needs the
logging module for this.
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from dataclasses import dataclass

__all__ = ["Freshness", "current", "freshness_var", "note_read", "track"]


@dataclass(slots=True)
class Freshness:
    """The cached data one request read, and what the response cache did with it."""

    #: Cached values read.
    reads: int = 0
    #: Of those, values served stale (the upstream failed and an expired value stood in).
    stale: int = 0
    #: The earliest fresh-until time of the values read (None: nothing read yet).
    until: float | None = None
    #: "hit" or "miss" when a response cache looked the request up.
    response_cache: str | None = None


freshness_var: ContextVar[Freshness | None] = ContextVar("pypole_freshness", default=None)


def current() -> Freshness | None:
    """The current request's record, or None outside a request."""
    return freshness_var.get()


def track() -> tuple[Freshness, Token[Freshness | None]]:
    """Open a new record for the current context; pass the token to ``freshness_var.reset``."""
    record = Freshness()
    return record, freshness_var.set(record)


def note_read(fresh_until: float, *, stale: bool = False) -> None:
    """Record that the current request used a cached value fresh until ``fresh_until``."""
    record = freshness_var.get()
    if record is not None:
        record.reads += 1
        if stale:
            record.stale += 1
        if record.until is None or fresh_until < record.until:
            record.until = fresh_until
