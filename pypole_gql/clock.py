"""The one clock the services read "now" from (seasons, race starts, prediction windows).

The wall clock, unless ``PYPOLE_NOW`` fixes the moment: the offline demo
(``pypole serve --replay --now``) sets it to the replay's, so the server and its upstream
agree on which races have started. Like the replay's, a fixed clock stands still. Caches,
tokens and logs keep the wall clock: expiry is real time whatever the demo's date.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from pypole_gql.config import Settings

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


def service_clock(settings: Settings) -> Clock:
    """``settings.now`` when set (always that moment), else the wall clock."""
    fixed = settings.now
    if fixed is None:
        return utcnow

    def clock() -> datetime:
        return fixed

    return clock
