"""A clock a test moves by hand: TTLs, fresh-until times and cool-downs without sleeping.

``FakeClock()`` starts at the wall clock's now (so dates derived from it are today's) and only
moves when told: ``clock.advance(seconds)``. It is a ``Callable[[], float]`` like
:func:`time.time`, so it can be given wherever the app takes a ``clock``
(``create_app(settings, clock=...)``, ``Cache(..., clock=...)``, ``Breaker(clock=...)``).
The ``clock`` fixture is a fresh one per test; ``make_client(clock=clock)`` runs the app on it.

Redis's own key expiry is real time and does not follow it: the app's freshness is its own
fresh-until time compared with this clock, Redis's expiry only the outer bound of the grace.
"""

from __future__ import annotations

import time

import pytest


class FakeClock:
    """Seconds since the epoch that stand still until :meth:`advance` moves them."""

    def __init__(self, start: float | None = None) -> None:
        self.now = time.time() if start is None else start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        """Move the clock ``seconds`` forward (never back); returns the new time."""
        if seconds < 0:
            raise ValueError("a clock does not run backwards")
        self.now += seconds
        return self.now

    def __repr__(self) -> str:
        return f"FakeClock({self.now!r})"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
