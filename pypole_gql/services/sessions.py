"""Loaded F1 sessions (FastF1 data): the one way the app asks for laps, stints and telemetry.

GraphQL resolvers and REST handlers call :class:`SessionService`; neither touches FastF1.

A session is loaded once, in the FastF1 worker pool, and everything the app will ever
ask of it (laps, stints, results, car and position data as columns) comes back as one
compact payload (:mod:`pypole_gql.upstream.fastf1.payload`). That payload goes through
:meth:`Cache.get_or_load` under a canonical key, compressed:

* concurrent requests for one session make one load, also across instances sharing Redis;
* telemetry of any driver and lap is then cut from the cached columns, never by loading
  FastF1 again, also after a restart when Redis holds the payload;
* a session that does not exist is remembered too, so a wrong name costs one load.

The canonical key names the round, not the name the client used: "Baku", "Azerbaijan"
and ``4`` are one key. Names resolve against the season's calendar from Jolpica
(:class:`F1Service`, itself cached; :mod:`pypole_gql.domain.race_names`); only when
Jolpica cannot answer does the name go to FastF1's own fuzzy match, under a key of its own.

Decoded sessions stay in a small in-process LRU, so a request on a warm session costs
neither a Redis read of megabytes nor a decode.

A load that comes back without the session's timing data (not published yet) is no good
load: it is not cached as the session, only remembered as NOT_AVAILABLE for
``PYPOLE_FASTF1_UNAVAILABLE_TTL`` seconds, after which the next request loads it again.
Where a session stands (:meth:`SessionService.status`) and loads in the background
(:meth:`SessionService.start_load`) are tracked by :mod:`pypole_gql.services.session_loads`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Final

from cachetools import TLRUCache, TTLCache

from pypole_gql.archive import ArchiveKey, SessionArchive
from pypole_gql.cache import Cache, note_read
from pypole_gql.cache.memo import expiring_lru, ttl_memo
from pypole_gql.config import Settings
from pypole_gql.domain import params
from pypole_gql.domain.params import SessionRequest
from pypole_gql.domain.race_names import match_race, normalise_name
from pypole_gql.domain.sessions import (
    LapComparison,
    PitStop,
    SessionData,
    Telemetry,
    TrackMap,
    compare,
    lap_telemetry,
    pit_stops,
    track_map,
    with_jolpica_durations,
)
from pypole_gql.errors import AppError, NotAvailable, NotFound, UpstreamUnavailable
from pypole_gql.logging import get_logger
from pypole_gql.redis_link import RedisLink
from pypole_gql.services.f1 import F1Service
from pypole_gql.services.session_loads import (
    SessionLoads,
    SessionState,
    SessionStatus,
    SharedLoads,
)
from pypole_gql.upstream.fastf1 import FORMAT_VERSION, FastF1Client, decode_payload, payload_meta

log = get_logger("pypole.sessions")

#: Seconds a decoded session is served from process memory before the store is read again.
DECODED_TTL: Final = 600
#: Seconds the claim on a load outlives ``PYPOLE_FASTF1_LOAD_TIMEOUT`` (see SharedLoads).
CLAIM_MARGIN: Final = 30.0
#: Bounds of the delay between polls for another instance's load.
CLAIM_POLL_MIN: Final = 0.1
CLAIM_POLL_MAX: Final = 1.0


def _held_until(held: tuple[SessionData, float]) -> float:
    return held[1]


#: Marks a cached "no such session" answer (a payload starts with ``b"PPF1"``).
_MISSING: Final = b"PPNF"
#: Suffix of the key that remembers a session loaded without its timing data.
_UNAVAILABLE: Final = ":unavailable"
_FAILED_MESSAGE: Final = "The session could not be loaded"


class SessionService:
    """Cached FastF1 sessions.

    :meth:`session` raises :class:`~pypole_gql.errors.InvalidParam` for a year, race or
    session type that cannot be asked for (:mod:`pypole_gql.domain.params`),
    :class:`NotFound` for an event or session that does not exist, and
    :class:`UpstreamUnavailable` when the data cannot be loaded (upstream down, the worker
    died, no data published for the session).
    """

    def __init__(
        self,
        client: FastF1Client,
        cache: Cache,
        f1: F1Service,
        *,
        ttl: int,
        archive_ttl: int,
        unavailable_ttl: int = 300,
        memory_sessions: int = 4,
        clock: Callable[[], float] = time.time,
        archive: SessionArchive | None = None,
        shared: SharedLoads | None = None,
    ) -> None:
        if memory_sessions < 0:
            raise ValueError("memory_sessions must be >= 0")
        self._client = client
        self._cache = cache
        self._f1 = f1
        self.ttl = ttl
        self.archive_ttl = archive_ttl
        self.unavailable_ttl = unavailable_ttl
        self.loads = SessionLoads(failure_ttl=unavailable_ttl, clock=clock)
        self._memory_sessions = memory_sessions
        self._clock = clock
        self.archive = archive
        #: Loads and failures shared with the other instances on Redis (None: this one's).
        self.shared = shared
        # Decoded sessions (with their fresh-until), most recently used kept.
        self._decoded: TLRUCache[str, tuple[SessionData, float]] = expiring_lru(
            max(memory_sessions, 1), _held_until, clock
        )
        # Calendars change rarely and a round number never moves to another event
        # mid-season: the round a name or number resolved to is kept for a while.
        self._rounds: TTLCache[tuple[int, int | str], int] = ttl_memo(1024, DECODED_TTL, clock)

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        client: FastF1Client,
        cache: Cache,
        f1: F1Service,
        archive: SessionArchive | None = None,
        redis: RedisLink | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> SessionService:
        shared = None
        if redis is not None:
            shared = SharedLoads(
                redis,
                namespace=settings.redis_namespace,
                # A little over the longest load: a crashed holder blocks no one for longer.
                claim_ttl=settings.fastf1_load_timeout + CLAIM_MARGIN,
                failure_ttl=settings.fastf1_unavailable_ttl,
            )
        return cls(
            client,
            cache,
            f1,
            ttl=settings.fastf1_ttl,
            archive_ttl=settings.archive_ttl,
            unavailable_ttl=settings.fastf1_unavailable_ttl,
            clock=clock,
            archive=archive,
            shared=shared,
        )

    @property
    def client(self) -> FastF1Client:
        return self._client

    # -- sessions ----------------------------------------------------------------------

    def request(self, year: int, race: int | str, session_type: str) -> SessionRequest:
        """The arguments of a session, parsed (see the class for the errors)."""
        return params.session_request(year, race, session_type, self._f1.current_year())

    async def session(self, year: int, race: int | str, session_type: str) -> SessionData:
        """The loaded session (see the class for the errors)."""
        return await self.load(self.request(year, race, session_type))

    async def load(self, asked: SessionRequest) -> SessionData:
        """The session of arguments :meth:`request` parsed; :class:`NotAvailable` when
        its timing data is not published (yet)."""
        return await self._get(*await self._key(asked))

    async def status(self, asked: SessionRequest) -> SessionStatus:
        """Where the session stands, at once: never starts a load (it may read the cache,
        and the season's calendar to know the round). :class:`NotFound` for an event that
        does not exist."""
        key, year, load_as, kind = await self._key(asked)
        status = await self._status(key, year, _archive_key(year, load_as, kind))
        if not status.ready:
            # Changes any moment: a response that shows it must not be cached.
            note_read(self._clock())
        return status

    async def start_load(self, asked: SessionRequest) -> SessionStatus:
        """Start loading the session in the background unless it is ready or loading (a
        running load is joined, never repeated); its status after that."""
        key, year, load_as, kind = await self._key(asked)
        status = await self._status(key, year, _archive_key(year, load_as, kind))
        if status.state in (SessionState.NOT_LOADED, SessionState.FAILED):
            self.loads.start(key, lambda: self._get(key, year, load_as, kind))
            status = self.loads.loading(key) or status
        note_read(self._clock())
        return status

    async def _status(self, key: str, year: int, archived: ArchiveKey | None) -> SessionStatus:
        """Process LRU, loads running or failed, Redis, then whether the archive holds it
        (an existence check: the archive's payload is read by the load that follows)."""
        held = self._decoded.get(key)
        if held is not None:
            note_read(held[1])
            return SessionStatus(SessionState.READY)
        loading = self.loads.loading(key)
        if loading is not None:
            return loading
        marker = await self._cache.peek(key + _UNAVAILABLE)
        if marker is not None:
            return SessionStatus(SessionState.NOT_AVAILABLE, reason=marker[0].decode())
        if self.shared is not None:
            # Another instance's load or failure (or this one's failure), as all see it.
            elsewhere = await self.shared.state(key)
            if elsewhere is not None:
                return elsewhere
        stored = await self._cache.peek(key)
        if stored is None:
            # After Redis: a failure here is stale once another instance loaded it.
            failure = self.loads.failure(key)
            if failure is not None:
                return failure
            if (
                self.archive is not None
                and archived is not None
                and await self.archive.holds(archived)
            ):
                # Reading it costs no FastF1 load; it may be pruned, so not for long.
                note_read(self._ttl_until(year))
                return SessionStatus(SessionState.READY)
            return SessionStatus(SessionState.NOT_LOADED)
        payload, fresh_until = stored
        if payload.startswith(_MISSING):
            raise NotFound(payload[len(_MISSING) :].decode(errors="replace"))
        # Decoded now, so the request that follows the status is served from memory.
        self._remember(key, await self._decode(payload), min(fresh_until, self._ttl_until(year)))
        note_read(fresh_until)
        return SessionStatus(SessionState.READY)

    def _ttl_until(self, year: int) -> float:
        return self._clock() + min(self._ttl(year), DECODED_TTL)

    def _ttl(self, year: int) -> int:
        return self.archive_ttl if year < datetime.now(UTC).year else self.ttl

    async def _key(self, asked: SessionRequest) -> tuple[str, int, int | str, str]:
        """The cache key of the session, its year, what FastF1 is asked for and the type."""
        year, target, kind = asked.year, asked.race, asked.session_type
        round_ = await self._resolve_round(year, target)
        if round_ is not None:
            key = f"fastf1:session:{year}:{round_}:{kind}:p{FORMAT_VERSION}"
            load_as: int | str = round_
        else:
            # Jolpica could not say which round the name is: FastF1 decides, under a key
            # of the name (rare: only while Jolpica is down and nothing is cached).
            key = (
                f"fastf1:session:{year}:name={normalise_name(str(target))}:{kind}:p{FORMAT_VERSION}"
            )
            load_as = target
        return key, year, load_as, kind

    async def _resolve_round(self, year: int, race: int | str) -> int | None:
        memo_key = (year, race if isinstance(race, int) else normalise_name(race))
        memo = self._rounds.get(memo_key)
        if memo is not None:
            return memo
        round_ = await self._lookup_round(year, race)
        if round_ is not None:
            # Skips the calendar read (and a parse of it) for a while.
            self._rounds[memo_key] = round_
        return round_

    async def _lookup_round(self, year: int, race: int | str) -> int | None:
        try:
            schedule = await self._f1.schedule(year)
        except UpstreamUnavailable:
            log.warning("sessions.schedule_unavailable", year=year, race=race)
            return race if isinstance(race, int) else None
        if not schedule.races:
            raise NotFound(f"No {year} season calendar")
        if isinstance(race, int):
            if schedule.race(race) is None:
                raise NotFound(f"No round {race} in the {year} season")
            return race
        found = match_race(schedule, race)
        if found is None:
            raise NotFound(f"No event matching {race!r} in the {year} season")
        return found.round

    async def _get(self, key: str, year: int, race: int | str, kind: str) -> SessionData:
        now = self._clock()
        held = self._decoded.get(key)
        if held is not None:
            note_read(held[1])  # what a response built on it may be cached for
            return held[0]
        ttl = self._ttl(year)
        marker = await self._cache.peek(key + _UNAVAILABLE)
        if marker is not None:
            raise NotAvailable(marker[0].decode())

        # Lookup order: process LRU (above), Redis (the cache), the archive, FastF1. What
        # the loader answers fills Redis, an archive hit included.
        archived = _archive_key(year, race, kind)

        async def load() -> bytes:
            if self.shared is not None:
                done_elsewhere = await self._claim(key)
                if done_elsewhere is not None:
                    return done_elsewhere
            if self.archive is not None and archived is not None:
                kept = await self.archive.get(archived)
                if kept is not None:
                    return kept
            try:
                payload = await self._client.load_session(year, race, kind, telemetry=True)
            except NotFound as exc:
                return _MISSING + exc.message.encode()
            if payload_meta(payload).get("timing_available") is False:
                # Not the session, only its absence for now: remembered briefly, and the
                # error (never cached by get_or_load) reaches every request waiting on it.
                raise await self._not_available(key, await self._decode(payload))
            if self.archive is not None and archived is not None:
                await self.archive.put(archived, payload)
            return payload

        with self.loads.waiting(key):
            if self.shared is None:
                payload = await self._fill(key, load, ttl)
            else:
                # The claim is released once the outcome is stored, also when the request
                # that started the load goes away meanwhile.
                fill = asyncio.ensure_future(self._fill(key, load, ttl))
                fill.add_done_callback(_seen)
                payload = await asyncio.shield(fill)
        if payload.startswith(_MISSING):
            raise NotFound(payload[len(_MISSING) :].decode(errors="replace"))
        data = await self._decode(payload)
        if not data.info.timing_available:  # cached before such loads were refused
            await self._cache.invalidate(key)
            raise await self._not_available(key, data)
        # The decoded copy is a short-lived shortcut past the cache, not a second cache: it
        # never outlives the entry and is re-read from the store every few minutes.
        self._remember(key, data, now + min(ttl, DECODED_TTL))
        return data

    async def _fill(self, key: str, load: Callable[[], Awaitable[bytes]], ttl: int) -> bytes:
        """The payload through the cache; a failure remembered (and shared), and this
        instance's claim on the load (taken by ``load``) released after the outcome."""
        try:
            return await self._cache.get_or_load(
                key, load, ttl=ttl, encode=_same, decode=_same, compress=True
            )
        except (NotAvailable, NotFound):
            raise
        except Exception as exc:
            reason = exc.message if isinstance(exc, AppError) else _FAILED_MESSAGE
            self.loads.failed(key, reason)
            if self.shared is not None and self.shared.holds(key):
                await self.shared.failed(key, reason)
            raise
        finally:
            if self.shared is not None:
                await self.shared.release(key)

    async def _claim(self, key: str) -> bytes | None:
        """Claim the load of ``key`` for this instance; while another holds it, wait for its
        outcome: its payload (from Redis), or its error. None once claimed here."""
        assert self.shared is not None
        started_at = self.loads.started_at(key) or self._clock()
        while True:
            if await self.shared.claim(key, started_at) is None:
                return None
            log.info("sessions.load_elsewhere", key=key)
            delay = CLAIM_POLL_MIN
            while True:
                # Bounded: the claim expires CLAIM_MARGIN past the longest load.
                now = await self.shared.state(key)
                if now is None or now.state is not SessionState.LOADING:
                    break
                await asyncio.sleep(delay)
                delay = min(delay * 2, CLAIM_POLL_MAX)
            marker = await self._cache.peek(key + _UNAVAILABLE)
            if marker is not None:
                raise NotAvailable(marker[0].decode())
            stored = await self._cache.peek(key)
            if stored is not None:
                return stored[0]
            failure = await self.shared.state(key)
            if failure is not None and failure.state is SessionState.FAILED:
                raise UpstreamUnavailable(failure.reason or _FAILED_MESSAGE)
            # The holder went away without an outcome (or Redis did): load it here.

    async def _not_available(self, key: str, data: SessionData) -> NotAvailable:
        """The error for a load without timing data, remembered for ``unavailable_ttl``."""
        reason = data.info.timing_unavailable_reason or "no lap timing data"
        message = f"No lap timing data for {data.label} yet: {reason}"
        await self._cache.put(key + _UNAVAILABLE, message.encode(), ttl=self.unavailable_ttl)
        log.info("sessions.not_available", key=key, reason=reason)
        return NotAvailable(message)

    @staticmethod
    async def _decode(payload: bytes) -> SessionData:
        # Decoding is a few ms of numpy work; bigger payloads go to a thread.
        if len(payload) > 256 * 1024:
            return await asyncio.to_thread(decode_payload, payload)
        return decode_payload(payload)

    def _remember(self, key: str, data: SessionData, until: float) -> None:
        if self._memory_sessions == 0:
            return
        self._decoded[key] = (data, until)

    @staticmethod
    def telemetry(
        data: SessionData, driver: str, lap: int, *, max_points: int | None = None
    ) -> Telemetry | None:
        """One lap's car telemetry of a loaded session, downsampled to ``max_points``
        (:func:`~pypole_gql.domain.sessions.lap_telemetry`); ``None`` when none was
        published. :class:`NotFound` for an unknown driver or lap."""
        return lap_telemetry(data, driver, lap, max_points=params.max_points(max_points))

    @staticmethod
    def track_map(
        data: SessionData,
        driver: str | None = None,
        lap: int | None = None,
        *,
        max_points: int | None = None,
    ) -> TrackMap | None:
        """One lap's position samples (:func:`~pypole_gql.domain.sessions.track_map`),
        by default the session's fastest lap; ``None`` without position data."""
        return track_map(data, driver, lap, max_points=params.max_points(max_points))

    @staticmethod
    def compare(
        data: SessionData, drivers: list[str], laps: list[int] | None = None
    ) -> LapComparison:
        """2 to 4 laps on one distance axis with the time delta
        (:func:`~pypole_gql.domain.sessions.compare`); :class:`NotFound` for a lap without
        car data."""
        return compare(data, drivers, laps)

    async def pit_stops(self, data: SessionData, drivers: list[str] | None = None) -> list[PitStop]:
        """The session's pit stops from FastF1's laps, with Jolpica's duration joined on
        for a race (Jolpica lists the stops of races only).

        Jolpica being unavailable is not the stops' failure: they are answered without
        its durations (and the miss is logged)."""
        stops = pit_stops(data, drivers)
        info = data.info
        if info.session_type != "R" or not stops:
            return stops
        try:
            jolpica = await self._f1.pit_stops(info.year, info.round)
        except UpstreamUnavailable:
            log.warning("sessions.jolpica_pit_stops_unavailable", year=info.year, round=info.round)
            return stops
        return with_jolpica_durations(data, stops, jolpica)

    def forget_decoded(self) -> None:
        """Drop the in-process decoded sessions and resolved rounds (the cache keeps both)."""
        self._decoded.clear()
        self._rounds.clear()

    async def aclose(self) -> None:
        await self.loads.aclose()
        self._decoded.clear()
        await self._client.aclose()


def _archive_key(year: int, race: int | str, kind: str) -> ArchiveKey | None:
    """The session's archive entry; ``None`` for a load by name (no round known)."""
    return ArchiveKey(year, race, kind) if isinstance(race, int) else None


def _seen(task: asyncio.Future[bytes]) -> None:
    """Retrieve a fill's error: the request awaiting it may be gone (it was theirs)."""
    if not task.cancelled():
        task.exception()


def _same(payload: bytes) -> bytes:
    return payload
