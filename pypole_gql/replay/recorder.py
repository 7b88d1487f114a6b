"""The log of every request the replay has been asked to serve."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from pypole_gql.replay.matching import RequestMatch


@dataclass(slots=True)
class RequestRecord:
    """One request, logged when it arrives and completed when its response has been made.

    ``time`` is the arrival (epoch seconds), so a client that gave up during a delay fault
    is still counted; ``elapsed`` is the seconds from arrival until the response was ready.
    ``status`` stays ``None`` while the request is in flight and when no response was sent
    (a ``drop`` fault). ``source`` says what answered: ``recording``, ``generated``,
    ``fallback`` (the recording of the same path without a query), ``static``,
    ``synthetic``, ``schedule``, ``fault``, ``missing`` or ``refused`` (path traversal).
    ``fault`` describes the fault applied, if any (``"status=503"``, ``"delay=2+drop"``).
    """

    seq: int
    method: str
    path: str
    query: dict[str, str]
    time: float
    status: int | None = None
    elapsed: float | None = None
    source: str | None = None
    fault: str | None = None

    @property
    def target(self) -> str:
        """Path and query string, e.g. ``/ergast/f1/2021/5/laps.json?limit=100&offset=200``."""
        return f"{self.path}?{urlencode(self.query)}" if self.query else self.path

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["target"] = self.target
        return data


class RequestLog:
    """Thread-safe: the server appends on its loop thread, tests read from theirs.

    Keeps the newest ``max_records`` requests, so a replay left running for a demo does not
    grow without bound; tests reset it long before that.
    """

    def __init__(self, max_records: int = 100_000) -> None:
        self._lock = threading.Lock()
        self._records: deque[RequestRecord] = deque(maxlen=max_records)
        self._started: dict[int, float] = {}
        self._seq = 0

    def begin(self, method: str, path: str, query: Mapping[str, str]) -> RequestRecord:
        with self._lock:
            self._seq += 1
            record = RequestRecord(self._seq, method, path, dict(query), time.time())
            self._records.append(record)
            self._started[record.seq] = time.perf_counter()
            return record

    def finish(
        self, record: RequestRecord, *, status: int | None, source: str | None, fault: str | None
    ) -> None:
        with self._lock:
            started = self._started.pop(record.seq, None)
            record.status = status
            record.source = source
            record.fault = fault
            if started is not None:
                record.elapsed = time.perf_counter() - started

    def snapshot(self, match: RequestMatch | None = None) -> list[RequestRecord]:
        """Copies of the records (oldest first) that ``match`` selects."""
        with self._lock:
            return [
                dataclasses.replace(r, query=dict(r.query))
                for r in self._records
                if match is None or match.matches(r.method, r.path, r.query)
            ]

    def counts(self, match: RequestMatch | None = None) -> dict[str, int]:
        """Number of requests per path."""
        return dict(Counter(r.path for r in self.snapshot(match)))

    def clear(self) -> None:
        with self._lock:
            self._records.clear()
            self._started.clear()
