"""OutboundBudget: the moving window holds, waits are bounded, Redis shares it, failures fall back.

The end-to-end checks (timestamps seen by the replay upstream, two app instances) are in
test_jolpica_client.py; these pin the budget's own contract.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import pytest

from pypole_gql.errors import UpstreamUnavailable
from pypole_gql.upstream.budget import BudgetExceeded, OutboundBudget


def max_in_window(stamps: list[float], window: float = 1.0) -> int:
    """The most timestamps inside any half-open window of ``window`` seconds."""
    ordered = sorted(stamps)
    return max((sum(1 for s in ordered if t <= s < t + window) for t in ordered), default=0)


async def take(budget: OutboundBudget, stamps: list[float], max_wait: float | None = None) -> None:
    await budget.acquire(max_wait)
    stamps.append(time.time())


@pytest.fixture
async def memory_budget() -> AsyncIterator[OutboundBudget]:
    budget = OutboundBudget("4/second;500/hour", name=f"test-{uuid.uuid4().hex[:8]}")
    yield budget
    await budget.close()


async def test_a_burst_never_exceeds_the_per_second_limit(memory_budget: OutboundBudget) -> None:
    stamps: list[float] = []
    await asyncio.gather(*(take(memory_budget, stamps) for _ in range(10)))
    assert len(stamps) == 10
    assert max_in_window(stamps) <= 4
    # ... and it is not slower than it has to be: 10 at 4/s fit in a little over 2 s.
    assert max(stamps) - min(stamps) < 3.0


async def test_waiters_are_served_in_arrival_order(memory_budget: OutboundBudget) -> None:
    order: list[int] = []

    async def one(i: int) -> None:
        await memory_budget.acquire()
        order.append(i)

    tasks = []
    for i in range(7):
        tasks.append(asyncio.create_task(one(i)))
        await asyncio.sleep(0)  # each queues before the next one starts
    await asyncio.gather(*tasks)
    assert order == list(range(7))


async def test_over_the_bound_raises_instead_of_waiting(memory_budget: OutboundBudget) -> None:
    for _ in range(4):
        await memory_budget.acquire()
    started = time.monotonic()
    with pytest.raises(BudgetExceeded) as caught:
        await memory_budget.acquire(max_wait=0.2)
    assert time.monotonic() - started < 0.5
    # The cache serves stale values on UpstreamUnavailable; the budget error is one.
    assert isinstance(caught.value, UpstreamUnavailable)
    assert caught.value.code == "UPSTREAM_UNAVAILABLE"
    assert int(caught.value.headers["Retry-After"]) >= 1


async def test_an_exhausted_long_window_refuses_at_once() -> None:
    budget = OutboundBudget("100/second;3/hour", name=f"test-{uuid.uuid4().hex[:8]}")
    try:
        for _ in range(3):
            await budget.acquire()
        started = time.monotonic()
        with pytest.raises(BudgetExceeded) as caught:
            await budget.acquire()
        assert time.monotonic() - started < 0.5
        assert caught.value.retry_after > 3000  # the hour's oldest entry has to age out
    finally:
        await budget.close()


async def test_instances_sharing_redis_share_the_budget(redis_url: str, redis_cleanup: str) -> None:
    name = f"shared-{uuid.uuid4().hex[:8]}"
    first = OutboundBudget("4/second", name=name, redis_url=redis_url, key_prefix=redis_cleanup)
    second = OutboundBudget("4/second", name=name, redis_url=redis_url, key_prefix=redis_cleanup)
    try:
        assert first.shared and second.shared
        stamps: list[float] = []
        await asyncio.gather(
            *(take(first, stamps) for _ in range(6)), *(take(second, stamps) for _ in range(6))
        )
        assert len(stamps) == 12
        assert max_in_window(stamps) <= 4
    finally:
        await first.close()
        await second.close()


async def test_redis_down_falls_back_to_memory_and_still_limits() -> None:
    # Nothing listens on port 9 of loopback: every Redis call fails at once.
    budget = OutboundBudget(
        "4/second", name=f"test-{uuid.uuid4().hex[:8]}", redis_url="redis://127.0.0.1:9/0"
    )
    try:
        stamps: list[float] = []
        await asyncio.gather(*(take(budget, stamps) for _ in range(6)))
        assert len(stamps) == 6
        assert max_in_window(stamps) <= 4
        assert not budget.shared
    finally:
        await budget.close()
