"""Faults the replay injects into matching requests, for tests of timeouts and retries."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pypole_gql.replay.matching import MATCH_KEYS, RequestMatch

_FAULT_KEYS = ("delay", "status", "retry_after", "drop", "broken_body", "times")


@dataclass(frozen=True, slots=True)
class Fault:
    """What happens to a request that ``match`` selects.

    - ``delay``: seconds to wait before anything else (other requests are not held up);
      may be combined with one of the three below, or used alone (the normal answer follows).
    - ``status``: answer this 4xx/5xx status with a small JSON body instead of the real one;
      a 429 always carries ``Retry-After`` (``retry_after``, default 1 second), other
      statuses only when ``retry_after`` is given.
    - ``drop``: close the connection without sending any response.
    - ``broken_body``: answer 200 with the first half of the real body (invalid JSON).
    - ``times``: how many requests the fault applies to; ``None``: until it is removed.
    """

    match: RequestMatch = field(default_factory=RequestMatch)
    delay: float = 0.0
    status: int | None = None
    retry_after: int | None = None
    drop: bool = False
    broken_body: bool = False
    times: int | None = None

    def __post_init__(self) -> None:
        if self.delay < 0:
            raise ValueError("delay must be >= 0")
        if self.status is not None and not 400 <= self.status <= 599:
            raise ValueError("status must be a 4xx or 5xx code")
        if sum((self.status is not None, self.drop, self.broken_body)) > 1:
            raise ValueError("status, drop and broken_body exclude each other")
        if self.delay == 0 and self.status is None and not self.drop and not self.broken_body:
            raise ValueError("a fault needs delay, status, drop or broken_body")
        if self.retry_after is not None and self.retry_after < 0:
            raise ValueError("retry_after must be >= 0")
        if self.times is not None and self.times < 1:
            raise ValueError("times must be >= 1 (None: permanent)")

    @property
    def retry_after_header(self) -> str | None:
        if self.retry_after is not None:
            return str(self.retry_after)
        return "1" if self.status == 429 else None

    def describe(self) -> str:
        parts = [f"delay={self.delay:g}"] if self.delay else []
        if self.status is not None:
            parts.append(f"status={self.status}")
        if self.drop:
            parts.append("drop")
        if self.broken_body:
            parts.append("broken_body")
        return "+".join(parts)

    def to_json(self) -> dict[str, Any]:
        return {
            **self.match.to_json(),
            "delay": self.delay,
            "status": self.status,
            "retry_after": self.retry_after,
            "drop": self.drop,
            "broken_body": self.broken_body,
            "times": self.times,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Fault:
        """A fault from one flat object of match keys and fault keys; ValueError if bad.

        Example: ``{"prefix": "/ergast/", "status": 503, "times": 2}``.
        """
        unknown = set(data) - set(_FAULT_KEYS) - set(MATCH_KEYS)
        if unknown:
            raise ValueError(f"unknown keys: {', '.join(sorted(unknown))}")
        delay = data.get("delay", 0.0)
        if isinstance(delay, bool) or not isinstance(delay, int | float):
            raise ValueError("delay must be a number of seconds")
        ints: dict[str, int | None] = {}
        for key in ("status", "retry_after", "times"):
            value = data.get(key)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise ValueError(f"{key} must be an integer")
            ints[key] = value
        flags: dict[str, bool] = {}
        for key in ("drop", "broken_body"):
            value = data.get(key, False)
            if not isinstance(value, bool):
                raise ValueError(f"{key} must be true or false")
            flags[key] = value
        return cls(
            match=RequestMatch.from_json(data),
            delay=float(delay),
            status=ints["status"],
            retry_after=ints["retry_after"],
            times=ints["times"],
            drop=flags["drop"],
            broken_body=flags["broken_body"],
        )


@dataclass(slots=True)
class _Entry:
    id: int
    fault: Fault
    remaining: int | None
    hits: int = 0


class FaultRegistry:
    """Active faults, in the order they were added. Thread-safe.

    When several faults match a request, the one added first applies (and only it).
    A fault limited by ``times`` is removed once it has been applied that many times.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[_Entry] = []
        self._next_id = 0

    def add(self, fault: Fault) -> int:
        with self._lock:
            self._next_id += 1
            self._entries.append(_Entry(self._next_id, fault, fault.times))
            return self._next_id

    def remove(self, fault_id: int) -> bool:
        with self._lock:
            before = len(self._entries)
            self._entries = [e for e in self._entries if e.id != fault_id]
            return len(self._entries) != before

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def take(self, method: str, path: str, query: Mapping[str, str]) -> Fault | None:
        """The fault for this request, if any, counting it as applied once."""
        with self._lock:
            for entry in self._entries:
                if entry.fault.match.matches(method, path, query):
                    entry.hits += 1
                    if entry.remaining is not None:
                        entry.remaining -= 1
                        if entry.remaining == 0:
                            self._entries.remove(entry)
                    return entry.fault
            return None

    def to_json(self) -> list[dict[str, Any]]:
        with self._lock:
            return [
                {"id": e.id, "remaining": e.remaining, "hits": e.hits, **e.fault.to_json()}
                for e in self._entries
            ]
