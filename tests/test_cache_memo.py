"""The in-process memos (pypole_gql.cache.memo) and the freshness record, on a fake clock."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from cachetools import TLRUCache, TTLCache

from pypole_gql.cache.freshness import current, freshness_var, note_read, track
from pypole_gql.cache.memo import ExpiringLRU, expiring_lru, ttl_memo
from pypole_gql.cache.responses import RAW_MEMO_MAX_BYTES, KeyMemo


@dataclass
class Clock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass(frozen=True)
class Item:
    until: float
    size: int = 10


def lru_of(clock: Clock, *, max_entries: int = 10, max_bytes: int = 100) -> ExpiringLRU[str, Item]:
    return ExpiringLRU(
        max_entries=max_entries,
        max_bytes=max_bytes,
        expires=lambda item: item.until,
        size=lambda item: item.size,
        clock=clock,
    )


def test_an_entry_is_served_until_its_expiry_on_the_injected_clock() -> None:
    clock = Clock()
    entries = lru_of(clock)
    item = Item(until=clock.now + 5)
    assert entries.put("k", item)

    clock.now += 4.9
    assert entries.get("k") is item
    clock.now += 0.1
    assert entries.get("k") is None
    assert len(entries) == 0  # dropped when read expired


def test_the_entry_bound_pushes_out_the_least_recently_read() -> None:
    clock = Clock()
    entries = lru_of(clock, max_entries=2)
    entries.put("a", Item(until=2000))
    entries.put("b", Item(until=2000))
    assert entries.get("a") is not None

    entries.put("c", Item(until=2000))

    assert sorted(entries.keys()) == ["a", "c"]
    assert entries.evictions == 1


def test_the_byte_bound_holds_and_a_value_over_it_is_not_kept() -> None:
    clock = Clock()
    entries = lru_of(clock, max_bytes=25)
    entries.put("a", Item(until=2000, size=10))
    entries.put("b", Item(until=2000, size=10))
    entries.put("c", Item(until=2000, size=10))

    assert entries.size_bytes <= 25
    assert entries.keys() == ["b", "c"]
    assert not entries.put("huge", Item(until=2000, size=26))
    assert entries.get("huge") is None
    assert entries.keys() == ["b", "c"]


def test_values_are_the_fresh_ones_only() -> None:
    clock = Clock()
    entries = lru_of(clock)
    entries.put("old", Item(until=clock.now + 1))
    fresh = Item(until=clock.now + 10)
    entries.put("new", fresh)
    clock.now += 2

    assert entries.values() == [fresh]


def test_bounds_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        lru_of(Clock(), max_entries=0)


def test_ttl_memo_and_expiring_lru_follow_the_injected_clock() -> None:
    clock = Clock()
    rounds: TTLCache[str, int] = ttl_memo(4, 60, clock)
    rounds["2023:bahrain"] = 1
    decoded: TLRUCache[str, tuple[str, float]] = expiring_lru(4, lambda held: held[1], clock)
    decoded["s"] = ("session", clock.now + 30)

    clock.now += 30
    assert rounds.get("2023:bahrain") == 1
    assert decoded.get("s") is None
    clock.now += 30
    assert rounds.get("2023:bahrain") is None


def test_key_memo_keeps_small_raw_requests_only() -> None:
    memo = KeyMemo(max_entries=2)
    small = ("GET", b"query=%7Ba%7D")
    big = ("POST", b"x" * (RAW_MEMO_MAX_BYTES + 1))
    memo.put(small, "key-small")
    memo.put(big, "key-big")

    assert memo.get(small) == "key-small"
    assert memo.get(big) is None
    assert len(memo) == 1


def test_freshness_notes_the_earliest_expiry_and_the_stale_reads() -> None:
    assert current() is None
    note_read(5.0)  # outside a request: nowhere to note it, and no error

    record, token = track()
    try:
        note_read(30.0)
        note_read(10.0, stale=True)
        note_read(20.0)
        assert current() is record
    finally:
        freshness_var.reset(token)

    assert (record.reads, record.stale, record.until) == (3, 1, 10.0)
    assert current() is None
