"""``pypole warm``: load a season's sessions ahead of the users, through the server's services.

Every session goes through :class:`~pypole_gql.services.sessions.SessionService`, the way a
request would, so the archive and Redis fill and the Jolpica budget applies; at most
``PYPOLE_FASTF1_WORKERS`` sessions load at a time. Each session ends as one
:class:`Outcome`; the caller shows progress through the ``on_start`` / ``on_done`` hooks.
"""

from __future__ import annotations

import asyncio
import enum
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final, Protocol

from pypole_gql.archive import ArchiveKey, not_archivable
from pypole_gql.domain.f1 import Race
from pypole_gql.domain.params import SESSION_TYPES
from pypole_gql.errors import AppError, NotFound
from pypole_gql.logging import get_logger
from pypole_gql.upstream.fastf1.payload import encode_payload

if TYPE_CHECKING:
    from pypole_gql.config import Settings
    from pypole_gql.services.f1 import F1Service
    from pypole_gql.services.sessions import SessionService

log = get_logger("pypole.warm")


class Resources(Protocol):
    """What warming reads of the app's resources (:class:`pypole_gql.resources.Resources`
    has these): the services go through, the settings bound the concurrency."""

    @property
    def settings(self) -> Settings: ...
    @property
    def f1(self) -> F1Service: ...
    @property
    def sessions(self) -> SessionService: ...


#: Jolpica's names of each session type in a weekend's schedule (the race is always there).
_SCHEDULE_NAMES: Final = {
    "FP1": ("FirstPractice",),
    "FP2": ("SecondPractice",),
    "FP3": ("ThirdPractice",),
    "Q": ("Qualifying",),
    "SQ": ("SprintQualifying", "SprintShootout"),
    "SS": ("SprintShootout", "SprintQualifying"),
    "S": ("Sprint",),
}


class Outcome(enum.Enum):
    LOADED = "loaded"
    ARCHIVED = "already archived"
    NOT_AVAILABLE = "not available"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class WarmItem:
    year: int
    round: int
    event: str
    session_type: str

    @property
    def label(self) -> str:
        return f"{self.year} R{self.round} {self.event} {self.session_type}"


@dataclass(frozen=True, slots=True)
class WarmResult:
    item: WarmItem
    outcome: Outcome
    reason: str = ""
    seconds: float = 0.0


#: The first season with sprint weekends (2021 British GP), and the kinds only they have.
FIRST_SPRINT_SEASON: Final = 2021
_SPRINT_KINDS: Final = frozenset({"S", "SQ", "SS"})


def parse_sessions(text: str) -> tuple[str, ...]:
    """``"r,q, S"`` -> ``("R", "Q", "S")``; ValueError naming an unknown type."""
    kinds = tuple(dict.fromkeys(part.strip().upper() for part in text.split(",") if part.strip()))
    unknown = [kind for kind in kinds if kind not in SESSION_TYPES]
    if unknown or not kinds:
        raise ValueError(
            f"unknown session type {', '.join(unknown) or text!r}; use {','.join(SESSION_TYPES)}"
        )
    return kinds


def parse_rounds(text: str) -> frozenset[int]:
    """``"1-5"``, ``"3"``, ``"1,4,7-9"`` -> the round numbers; ValueError otherwise."""
    rounds: set[int] = set()
    for part in text.split(","):
        low, _, high = part.strip().partition("-")
        try:
            first, last = int(low), int(high or low)
        except ValueError:
            raise ValueError(f"{text!r} is not rounds such as 1-5 or 1,4,7-9") from None
        if not 1 <= first <= last:
            raise ValueError(f"{part.strip()!r} is not a range of rounds from 1")
        rounds.update(range(first, last + 1))
    return frozenset(rounds)


def _scheduled(race: Race, kind: str) -> bool | None:
    """Whether the weekend has ``kind``; ``None`` when the schedule does not list sessions
    (then it is asked of FastF1), except that no weekend before :data:`FIRST_SPRINT_SEASON`
    had a sprint or its qualifying."""
    if kind == "R":
        return True
    if race.season < FIRST_SPRINT_SEASON and kind in _SPRINT_KINDS:
        return False
    if not race.sessions:
        return None
    names = {session.name for session in race.sessions}
    return any(name in names for name in _SCHEDULE_NAMES[kind])


async def plan(
    resources: Resources, season: int, kinds: Sequence[str], rounds: Iterable[int] | None
) -> tuple[list[WarmItem], list[WarmResult]]:
    """What to load, and what is known not to exist without loading it."""
    schedule = await resources.f1.schedule(season)
    if not schedule.races:
        raise NotFound(f"No {season} season calendar")
    wanted = None if rounds is None else set(rounds)
    if wanted is not None:
        missing = wanted - {race.round for race in schedule.races}
        if missing:
            raise NotFound(
                f"No round {', '.join(map(str, sorted(missing)))} in the {season} season"
            )
    items: list[WarmItem] = []
    absent: list[WarmResult] = []
    for race in schedule.races:
        if wanted is not None and race.round not in wanted:
            continue
        for kind in kinds:
            item = WarmItem(season, race.round, race.name, kind)
            if _scheduled(race, kind) is False:
                absent.append(
                    WarmResult(
                        item, Outcome.NOT_AVAILABLE, f"no {SESSION_TYPES[kind]} that weekend"
                    )
                )
            else:
                items.append(item)
    return items, absent


async def warm_one(resources: Resources, item: WarmItem) -> WarmResult:
    """Load one session through the service; never raises but for cancellation."""
    sessions = resources.sessions
    archive = sessions.archive
    key = ArchiveKey(item.year, item.round, item.session_type)
    started = time.perf_counter()

    def result(outcome: Outcome, reason: str = "") -> WarmResult:
        return WarmResult(item, outcome, reason, time.perf_counter() - started)

    try:
        held = archive is not None and await archive.holds(key)
        # Through the service even when archived: Redis fills from the archive.
        data = await sessions.load(sessions.request(item.year, item.round, item.session_type))
    except NotFound as exc:
        return result(Outcome.NOT_AVAILABLE, exc.message)
    except AppError as exc:
        return result(Outcome.FAILED, f"{exc.code}: {exc.message}")
    except Exception as exc:
        log.exception("warm.failed", session=item.label)
        return result(Outcome.FAILED, f"internal error ({type(exc).__name__})")
    if held:
        return result(Outcome.ARCHIVED)
    if not data.info.timing_available:
        return result(Outcome.NOT_AVAILABLE, data.info.timing_unavailable_reason or "no timing")
    if archive is None:
        return result(Outcome.LOADED, "no archive")
    if not await archive.holds(key):
        reason = not_archivable(data.info, datetime.now(UTC))
        if reason is not None:
            return result(Outcome.LOADED, f"not archived: {reason}")
        # Redis held it from before the archive: archive that copy (decoding is lossless).
        if not await archive.put(key, encode_payload(data)):
            return result(Outcome.FAILED, "loaded, but the archive could not be written")
    return result(Outcome.LOADED)


async def warm_jolpica(resources: Resources, season: int, rounds: Iterable[int]) -> WarmResult:
    """The season's Jolpica tables (results, qualifying, sprints, standings, pit stops)."""
    item = WarmItem(season, 0, "Jolpica season data", "-")
    started = time.perf_counter()
    f1 = resources.f1
    try:
        await f1.results(season)
        await f1.qualifying(season)
        await f1.sprint(season)
        await f1.driver_standings(season)
        await f1.constructor_standings(season)
        await f1.drivers(season)
        await f1.constructors(season)
        for round_ in sorted(rounds):
            await f1.pit_stops(season, round_)
    except AppError as exc:
        return WarmResult(item, Outcome.FAILED, f"{exc.code}: {exc.message}")
    return WarmResult(item, Outcome.LOADED, "", time.perf_counter() - started)


async def warm(
    resources: Resources,
    items: Sequence[WarmItem],
    *,
    on_start: Callable[[WarmItem], None],
    on_done: Callable[[WarmResult], None],
) -> list[WarmResult]:
    """Every item, at most ``PYPOLE_FASTF1_WORKERS`` at a time, in order of the list."""
    gate = asyncio.Semaphore(resources.settings.fastf1_workers)
    results: list[WarmResult] = []

    async def one(item: WarmItem) -> None:
        async with gate:
            on_start(item)
            done = await warm_one(resources, item)
            results.append(done)
            on_done(done)

    async with asyncio.TaskGroup() as group:
        for item in items:
            group.create_task(one(item))
    return results
