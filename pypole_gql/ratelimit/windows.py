"""The moving windows a charge is counted in: in process, or in Redis with one script.

Both count as the ``limits`` library's moving window does: per (budget, client, policy), the
times of the hits still inside the window, at most ``limit`` of them; a request is refused
when the window already holds ``limit``. :class:`RedisWindows` charges every policy of a
request in one round trip (``limits.aio`` takes two per policy: measured by
``python -m bench.limiter``, see the README), with ``limits``' key and list layout, so
instances of older versions count in the same windows. The script is called by its SHA1
(``EVALSHA``, loaded again when Redis answers ``NOSCRIPT``) over the link's multiplexed
connection (:mod:`pypole_gql.redis_mux`): concurrent requests share its writes and round
trips, and no pool checkout is paid per request.
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from cachetools import LRUCache
from limits import RateLimitItem
from limits.util import WindowStats
from redis.exceptions import NoScriptError

from pypole_gql.redis_mux import Multiplexer, pack_parts

#: How often the in-process store drops the windows of clients gone quiet (seconds).
SWEEP_INTERVAL: Final = 10.0

# One round trip per request: every policy of the request is charged by one script, in
# order, stopping at the first refusal. The keys and the list layout are those of the
# ``limits`` library's moving window (newest hit first, at most the limit, expiring with
# the window), so instances of older versions count in the same windows.
# The hits that have left the window (older than now - expiry: they count for no one
# again) are dropped from the end first. What is left is the window itself, so it is full
# when it holds ``limit`` hits, its oldest hit is the last, and each step is one command
# at an end of the list, however long a generous limit lets it grow (a binary search with
# LINDEX walked it). A hit exactly at the window's start holds a refusal (as ``limits``
# has it) but is not counted in the window.
# ARGV: now, then per key: limit, expiry. Returns per key charged: allowed (0/1), the
# oldest hit still in the window (a string, "" when none) and how many hits it holds.
_CHARGE_SCRIPT: Final = """
local now = tonumber(ARGV[1])
local result = {}
for i, key in ipairs(KEYS) do
    local limit = tonumber(ARGV[2 * i])
    local expiry = tonumber(ARGV[2 * i + 1])
    local start = now - expiry
    local last = redis.call('lindex', key, -1)
    while last and tonumber(last) < start do
        redis.call('rpop', key)
        last = redis.call('lindex', key, -1)
    end
    local allowed = 1
    local count = redis.call('llen', key)
    if count >= limit then
        allowed = 0
    else
        count = redis.call('lpush', key, ARGV[1])
        if not last then
            last = ARGV[1]
        end
        redis.call('expire', key, expiry)
    end
    while count > 0 and tonumber(last) <= start do
        count = count - 1
        last = redis.call('lindex', key, count - 1)
    end
    table.insert(result, allowed)
    table.insert(result, count > 0 and last or "")
    table.insert(result, count)
    if allowed == 0 then
        break
    end
end
return result
"""


@dataclass(frozen=True, slots=True)
class Charge:
    """One policy to charge: the budget (``api`` or ``auth``) and its limit."""

    scope: str
    item: RateLimitItem
    amount: int
    expiry: int


class MemoryWindows:
    """Moving windows in process, as the ``limits`` library's moving window counts them.

    Per (budget, client, policy): the times of the hits still inside the window, oldest
    first, at most ``limit`` of them. A request is refused when the window already holds
    ``limit`` hits. Runs on the event loop without awaiting, so it needs no lock. Windows
    of clients gone quiet are dropped every :data:`SWEEP_INTERVAL` seconds.
    """

    def __init__(self) -> None:
        self._windows: dict[tuple[str, str, int, int], deque[float]] = {}
        self._next_sweep = 0.0

    def charge(self, bucket: str, charges: Sequence[Charge], now: float) -> list[WindowStats]:
        """Charge each policy in order, stopping after the first that refuses; returns the
        stats of those charged, a refusal's ``remaining`` being -1."""
        if now >= self._next_sweep:
            self._sweep(now)
        results = []
        for charge in charges:
            key = (charge.scope, bucket, charge.amount, charge.expiry)
            window = self._windows.get(key)
            if window is None:
                window = self._windows[key] = deque(maxlen=charge.amount)
            start = now - charge.expiry
            while window and window[0] < start:
                window.popleft()
            allowed = len(window) < charge.amount
            if allowed:
                window.append(now)
            oldest = window[0] if window else now
            remaining = charge.amount - len(window) if allowed else -1
            results.append(WindowStats(oldest + charge.expiry, remaining))
            if not allowed:
                break
        return results

    def _sweep(self, now: float) -> None:
        self._next_sweep = now + SWEEP_INTERVAL
        stale = [
            key for key, window in self._windows.items() if not window or window[-1] < now - key[3]
        ]
        for key in stale:
            del self._windows[key]


_CHARGE_SHA: Final = (
    hashlib.sha1(_CHARGE_SCRIPT.encode(), usedforsecurity=False).hexdigest().encode()
)
#: Clients whose script arguments (keys, limits) are remembered between their requests.
ARGS_MEMO_ENTRIES: Final = 4096

_ScriptArgs = tuple[Sequence["Charge"], bytes, bytes]


class RedisWindows:
    """The windows in Redis: every policy of one request charged by one script call.

    Raises what redis-py raises; the limiter decides what a failure costs.
    """

    def __init__(self, mux: Multiplexer, key_prefix: str) -> None:
        self._mux = mux
        self._key_prefix = key_prefix
        # Per client and list of policies: the EVALSHA command packed before ``now`` (the
        # array header, the SHA, the key count, the keys) and after it (each policy's limit
        # and expiry), worked out once. Keyed by the list's identity, checked on use (a
        # limiter's lists live as long as it does; a list built per call is only worked
        # out again).
        self._args: LRUCache[tuple[str, int], _ScriptArgs] = LRUCache(maxsize=ARGS_MEMO_ENTRIES)

    def _script_args(self, bucket: str, charges: Sequence[Charge]) -> _ScriptArgs:
        memo = (bucket, id(charges))
        found = self._args.get(memo)
        if found is not None and found[0] is charges:
            return found
        keys = [f"{self._key_prefix}:{c.item.key_for(c.scope, bucket)}".encode() for c in charges]
        limits: list[bytes] = []
        for charge in charges:
            limits += [b"%d" % charge.amount, b"%d" % charge.expiry]
        count = 3 + len(keys) + 1 + len(limits)  # EVALSHA, SHA, key count, keys, now, limits
        head = b"*%d\r\n" % count + pack_parts(b"EVALSHA", _CHARGE_SHA, b"%d" % len(keys), *keys)
        args = (charges, head, pack_parts(*limits))
        self._args[memo] = args
        return args

    async def charge(self, bucket: str, charges: Sequence[Charge], now: float) -> list[WindowStats]:
        _, head, limits = self._script_args(bucket, charges)
        stamp = repr(now).encode()  # as redis-py writes a float
        command = b"%b$%d\r\n%b\r\n%b" % (head, len(stamp), stamp, limits)
        try:
            reply = await self._mux.execute_packed(command)
        except NoScriptError:  # a restarted or flushed Redis: load it, then charge
            await self._mux.execute("SCRIPT", "LOAD", _CHARGE_SCRIPT)
            reply = await self._mux.execute_packed(command)
        results = []
        for i in range(0, len(reply), 3):
            allowed, oldest, count = int(reply[i]), reply[i + 1], int(reply[i + 2])
            charge = charges[i // 3]
            start = float(oldest) if oldest else now
            remaining = charge.amount - count if allowed else -1
            results.append(WindowStats(start + charge.expiry, remaining))
        return results
