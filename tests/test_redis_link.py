"""pypole_gql.redis_link.Breaker on a fake clock: when calls go to Redis, and what is logged.

The breaker's cool-down starts at 1 s and doubles on each failed probe up to 10 s; a call
that answers closes it. ``redis.degraded`` is logged once per outage and
``redis.recovered`` once when it ends, whatever the number of callers in between.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from structlog.testing import capture_logs

from pypole_gql.redis_link import DEFAULT_COOLDOWN, DEFAULT_MAX_COOLDOWN, Breaker, RedisLink
from tests.plugins.clock import FakeClock

DOWN = RedisConnectionError("Connection refused")


def events(logs: Sequence[Mapping[str, Any]], name: str) -> list[Mapping[str, Any]]:
    return [entry for entry in logs if entry["event"] == name]


def probe_times(
    breaker: Breaker, clock: FakeClock, until: float, step: float = 0.25
) -> list[float]:
    """Move the clock in ``step``s up to ``until`` seconds from now, failing every call the
    breaker lets through; the moments (from the start) at which it let one through."""
    start = clock()
    allowed = []
    while clock() - start < until:
        if breaker.allow():
            allowed.append(clock() - start)
            breaker.failed(DOWN, user="test")
        clock.advance(step)
    return allowed


def test_the_defaults_are_one_second_doubling_to_ten() -> None:
    assert (DEFAULT_COOLDOWN, DEFAULT_MAX_COOLDOWN) == (1.0, 10.0)
    breaker = Breaker()
    assert (breaker.cooldown, breaker.max_cooldown) == (1.0, 10.0)


def test_closed_lets_every_call_through(clock: FakeClock) -> None:
    breaker = Breaker(clock=clock)
    assert all(breaker.allow() for _ in range(100))
    assert not breaker.degraded
    assert breaker.retry_in == 0.0


def test_a_failure_opens_it_for_the_cooldown(clock: FakeClock) -> None:
    breaker = Breaker(clock=clock)
    breaker.failed(DOWN, user="cache")

    assert breaker.degraded
    assert breaker.retry_in == 1.0
    assert not breaker.allow()
    clock.advance(0.75)
    assert not breaker.allow()
    assert breaker.retry_in == 0.25
    clock.advance(0.25)
    assert breaker.allow()  # the probe
    assert not breaker.allow()  # only one per cool-down


def test_the_cooldown_doubles_on_each_failed_probe_up_to_ten_seconds(clock: FakeClock) -> None:
    breaker = Breaker(clock=clock)
    breaker.failed(DOWN, user="cache")
    # Probes 1, 2, 4, 8, then 10, 10, ... seconds apart.
    assert probe_times(breaker, clock, until=60) == [1, 3, 7, 15, 25, 35, 45, 55]


def test_a_call_that_answers_closes_it_and_resets_the_cooldown(clock: FakeClock) -> None:
    breaker = Breaker(clock=clock)
    breaker.failed(DOWN, user="cache")
    assert probe_times(breaker, clock, until=8) == [1, 3, 7]
    clock.advance(breaker.retry_in)
    assert breaker.allow()
    breaker.succeeded(user="cache")

    assert not breaker.degraded
    assert all(breaker.allow() for _ in range(10))
    # The next outage starts again at 1 s, not where the last one left off.
    breaker.failed(DOWN, user="limiter")
    assert breaker.retry_in == 1.0
    assert probe_times(breaker, clock, until=4) == [1, 3]


def test_an_outage_is_logged_once_down_and_once_back(clock: FakeClock) -> None:
    breaker = Breaker(clock=clock)
    with capture_logs() as logs:
        breaker.succeeded(user="cache")  # closed: nothing to report
        breaker.failed(DOWN, user="cache")
        breaker.failed(DOWN, user="limiter")  # others find it down too
        breaker.failed(DOWN, user="budget")
        probe_times(breaker, clock, until=20)
        clock.advance(breaker.retry_in)
        assert breaker.allow()
        breaker.succeeded(user="budget")
        breaker.succeeded(user="cache")  # already closed

    (degraded,) = events(logs, "redis.degraded")
    assert degraded["log_level"] == "warning"
    assert degraded["user"] == "cache"
    assert degraded["error_type"] == "ConnectionError"
    assert degraded["retry_in"] == 1.0
    (recovered,) = events(logs, "redis.recovered")
    assert recovered["log_level"] == "info"
    assert recovered["user"] == "budget"
    # Down from the first failure to the probe that answered: 1 + 2 + 4 + 8 + 10 s.
    assert recovered["down_for"] == 25.0


@pytest.mark.parametrize(
    ("cooldown", "max_cooldown"), [(-1.0, 10.0), (5.0, 1.0)], ids=["negative", "max-below"]
)
def test_bad_cooldowns_are_refused(cooldown: float, max_cooldown: float) -> None:
    with pytest.raises(ValueError, match="cooldown"):
        Breaker(cooldown=cooldown, max_cooldown=max_cooldown)


async def test_a_link_runs_its_breaker_on_the_given_clock(clock: FakeClock) -> None:
    # Nothing listens on port 1: the link is built without connecting.
    link = RedisLink.from_url("redis://127.0.0.1:1/0", clock=clock)
    try:
        link.breaker.failed(DOWN, user="cache")
        assert not link.breaker.allow()
        clock.advance(1.0)
        assert link.breaker.allow()
    finally:
        await link.close()
