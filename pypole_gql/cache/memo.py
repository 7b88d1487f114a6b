"""The in-process memos and LRUs of the app, on :mod:`cachetools`.

These shapes cover every one of them:

* :func:`lru` -- a plain LRU bounded in entries (remembered parses and verdicts; the
  response keys, which never go stale, are a ``FIFOCache``: a hit is one lookup);
* :func:`ttl_memo` -- an LRU whose entries all live ``ttl`` seconds (round numbers);
* :func:`expiring_lru` -- an LRU whose entries each expire at a time read from the value
  (decoded FastF1 sessions);
* :class:`ExpiringLRU` -- least-recently-used first out, bounded both in entries and in
  bytes, each entry with its own expiry time read from the value (the in-process byte
  store, the response cache's front).

The clock is the owner's injected one, so a fake clock in a test moves expiry too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from cachetools import LRUCache, TLRUCache, TTLCache

__all__ = ["ExpiringLRU", "expiring_lru", "lru", "ttl_memo"]

K = TypeVar("K")
V = TypeVar("V")


def lru(max_entries: int) -> LRUCache[K, V]:
    """An LRU of at most ``max_entries`` entries."""
    return LRUCache(maxsize=max_entries)


def ttl_memo(max_entries: int, ttl: float, clock: Callable[[], float]) -> TTLCache[K, V]:
    """An LRU of at most ``max_entries`` entries, each kept ``ttl`` seconds by ``clock``."""
    return TTLCache(maxsize=max_entries, ttl=ttl, timer=clock)


def expiring_lru(
    max_entries: int, expires: Callable[[V], float], clock: Callable[[], float]
) -> TLRUCache[K, V]:
    """An LRU of at most ``max_entries`` entries, each fresh while ``clock() <
    expires(value)`` (one already expired is not kept)."""
    return TLRUCache(maxsize=max_entries, ttu=lambda _k, v, _now: expires(v), timer=clock)


class _Bounded(LRUCache[K, V]):
    """cachetools' LRU bounded in bytes (``getsizeof``), with a second bound in entries and
    an eviction count."""

    def __init__(self, max_bytes: int, max_entries: int, getsizeof: Callable[[V], float]) -> None:
        super().__init__(maxsize=max_bytes, getsizeof=getsizeof)
        self.max_entries = max_entries
        self.evictions = 0

    def popitem(self) -> tuple[K, V]:
        item = super().popitem()
        self.evictions += 1
        return item

    def __setitem__(self, key: K, value: V) -> None:
        super().__setitem__(key, value)
        while len(self) > self.max_entries:
            self.popitem()


class ExpiringLRU(Generic[K, V]):
    """Entries bounded in number and in bytes, each fresh while ``clock() < expires(value)``.

    ``get`` answers only an entry still fresh (an expired one is dropped when it is read,
    or pushed out by the bounds); ``put`` of a value larger than ``max_bytes`` keeps
    nothing and answers False. Least recently read (or put) goes first when a bound is
    reached. (A plain LRU with the expiry checked on read, rather than cachetools'
    ``TLRUCache``: the response cache's hit path reads it on every request.)
    """

    __slots__ = ("_clock", "_entries", "_expires", "max_bytes")

    def __init__(
        self,
        *,
        max_entries: int,
        max_bytes: int,
        expires: Callable[[V], float],
        size: Callable[[V], int],
        clock: Callable[[], float],
    ) -> None:
        if max_bytes <= 0 or max_entries <= 0:
            raise ValueError("max_bytes and max_entries must be positive")
        self.max_bytes = max_bytes
        self._expires = expires
        self._clock = clock
        self._entries: _Bounded[K, V] = _Bounded(max_bytes, max_entries, size)

    @property
    def max_entries(self) -> int:
        return self._entries.max_entries

    @property
    def evictions(self) -> int:
        """Entries pushed out by a bound (not those dropped as expired)."""
        return self._entries.evictions

    @property
    def size_bytes(self) -> int:
        """Bytes accounted to the entries held now."""
        return int(self._entries.currsize)

    def __len__(self) -> int:
        return len(self._entries)

    def keys(self) -> list[K]:
        """The keys of the entries held (expired ones not read since included)."""
        return list(self._entries)

    def values(self) -> list[V]:
        """The fresh values (reading them counts as a use)."""
        found = (self.get(key) for key in self.keys())
        return [value for value in found if value is not None]

    def get(self, key: K) -> V | None:
        try:
            value = self._entries[key]
        except KeyError:
            return None
        if self._clock() < self._expires(value):
            return value
        del self._entries[key]
        return None

    def put(self, key: K, value: V) -> bool:
        """Keep ``value`` under ``key``; False when it is larger than the whole budget."""
        self._entries.pop(key, None)
        if self._entries.getsizeof(value) > self.max_bytes:
            return False
        self._entries[key] = value
        return True

    def drop(self, key: K) -> None:
        self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()
