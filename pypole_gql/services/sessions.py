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
(:class:`F1Service`, itself cached); only when Jolpica cannot answer does the name go to
FastF1's own fuzzy match, under a key of its own.

Decoded sessions stay in a small in-process LRU, so a request on a warm session costs
neither a Redis read of megabytes nor a decode.
"""

from __future__ import annotations

import asyncio
import re
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Final

from pypole_gql.archive import ArchiveKey, SessionArchive
from pypole_gql.cache import Cache
from pypole_gql.config import Settings
from pypole_gql.domain import params
from pypole_gql.domain.f1 import Race, Schedule
from pypole_gql.domain.params import SessionRequest
from pypole_gql.domain.sessions import SessionData, Telemetry, lap_telemetry
from pypole_gql.errors import BadUserInput, NotFound, UpstreamUnavailable
from pypole_gql.logging import get_logger, note_data_read
from pypole_gql.services.f1 import F1Service
from pypole_gql.upstream.fastf1 import FORMAT_VERSION, FastF1Client, decode_payload

log = get_logger("pypole.sessions")

#: Seconds a decoded session is served from process memory before the store is read again.
DECODED_TTL: Final = 600
#: Marks a cached "no such session" answer (a payload starts with ``b"PPF1"``).
_MISSING: Final = b"PPNF"
_GRAND_PRIX: Final = re.compile(r"\s*\b(grand prix|gp)\s*$")


def normalise_name(text: str) -> str:
    """Case-, accent- and spacing-insensitive form of an event, place or country name."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    plain = re.sub(r"[^\w]+", " ", plain)
    return " ".join(plain.split())


def match_race(schedule: Schedule, name: str) -> Race | None:
    """The race of ``schedule`` that ``name`` designates, ``None`` when none does.

    Exact matches come first, field by field: the race's name ("Azerbaijan",
    "Azerbaijan Grand Prix"), its town ("Baku"), its country, the circuit's name; then
    the same as a part of each ("Mexico" for "Mexico City Grand Prix"). The first field
    that designates exactly one race wins. A country with several events that year names
    the one named after it ("Italy" in 2020 and 2021 is the Italian Grand Prix, not the
    Tuscan or Emilia Romagna one; "Austria" in 2020 the Austrian, not the Styrian): see
    :func:`_named_after`. Several races and no such preference is a true tie, refused
    with :class:`BadUserInput` asking for the round.
    """
    wanted = _GRAND_PRIX.sub("", normalise_name(name))
    if not wanted:
        return None

    def fields(race: Race) -> tuple[str, ...]:
        return (
            _event_name(race),
            normalise_name(race.circuit.locality or ""),
            normalise_name(race.circuit.country or ""),
            normalise_name(race.circuit.name),
        )

    table = [(race, fields(race)) for race in schedule.races]
    rules: list[Callable[[tuple[str, ...]], bool]] = [
        lambda f: f[0] == wanted,
        lambda f: f[1] == wanted,
        lambda f: f[2] == wanted,
        lambda f: f[3] == wanted,
        lambda f: _contains(f[0], wanted),
        lambda f: _contains(f[1], wanted) or _contains(f[3], wanted),
        lambda f: _contains(f[2], wanted),
    ]
    for rule in rules:
        found = [race for race, f in table if rule(f)]
        if len(found) > 1:
            # Several events in one country: the one named after it, if exactly one is.
            preferred = [race for race in found if _named_after(_event_name(race), wanted)]
            found = preferred if len(preferred) == 1 else found
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            names = ", ".join(f"{r.name} (round {r.round})" for r in found)
            raise BadUserInput(
                f"{name!r} matches several events of {schedule.season}: {names}; "
                "use the round number",
                field="race",
            )
    return None


def _event_name(race: Race) -> str:
    return _GRAND_PRIX.sub("", normalise_name(race.name))


def _named_after(event: str, place: str) -> bool:
    """Whether the event's name is the place's adjective ("Italian" for "Italy").

    The adjective shares the place's stem: all of its last word but at most the last two
    letters, and at least three ("ita" of "italy", "spa" of "spain", "belgi" of
    "belgium", "saudi arab" of "saudi arabia"); the words before it are equal. Only used
    among events that all matched ``place`` already, so a short stem cannot pull in an
    event elsewhere.
    """
    *event_head, event_last = event.split()
    *place_head, place_last = place.split()
    if event_head != place_head or len(place_last) < 3:
        return False
    stem = max(3, len(place_last) - 2)
    return event_last[:stem] == place_last[:stem]


def _contains(text: str, part: str) -> bool:
    return bool(text) and f" {part} " in f" {text} "


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
        memory_sessions: int = 4,
        clock: Callable[[], float] = time.time,
        archive: SessionArchive | None = None,
    ) -> None:
        if memory_sessions < 0:
            raise ValueError("memory_sessions must be >= 0")
        self._client = client
        self._cache = cache
        self._f1 = f1
        self.ttl = ttl
        self.archive_ttl = archive_ttl
        self._memory_sessions = memory_sessions
        self._clock = clock
        self.archive = archive
        self._decoded: OrderedDict[str, tuple[SessionData, float]] = OrderedDict()
        self._rounds: dict[tuple[int, int | str], tuple[int, float]] = {}

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        client: FastF1Client,
        cache: Cache,
        f1: F1Service,
        archive: SessionArchive | None = None,
    ) -> SessionService:
        return cls(
            client,
            cache,
            f1,
            ttl=settings.fastf1_ttl,
            archive_ttl=settings.archive_ttl,
            archive=archive,
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
        """The session of arguments :meth:`request` parsed."""
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
        return await self._get(key, year, load_as, kind)

    async def _resolve_round(self, year: int, race: int | str) -> int | None:
        memo_key = (year, race if isinstance(race, int) else normalise_name(race))
        memo = self._rounds.get(memo_key)
        now = self._clock()
        if memo is not None and memo[1] > now:
            return memo[0]
        round_ = await self._lookup_round(year, race)
        if round_ is not None:
            # Calendars change rarely and a round number never moves to another event
            # mid-season: skip the calendar read (and a parse of it) for a while.
            if len(self._rounds) >= 1024:
                self._rounds.clear()
            self._rounds[memo_key] = (round_, now + DECODED_TTL)
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
        if held is not None and held[1] > now:
            self._decoded.move_to_end(key)
            note_data_read(held[1])  # what a response built on it may be cached for
            return held[0]
        ttl = self.archive_ttl if year < datetime.now(UTC).year else self.ttl

        # Lookup order: process LRU (above), Redis (the cache), the archive, FastF1. What
        # the loader answers fills Redis, an archive hit included.
        archived = ArchiveKey(year, race, kind) if isinstance(race, int) else None

        async def load() -> bytes:
            if self.archive is not None and archived is not None:
                kept = await self.archive.get(archived)
                if kept is not None:
                    return kept
            try:
                payload = await self._client.load_session(year, race, kind, telemetry=True)
            except NotFound as exc:
                return _MISSING + exc.message.encode()
            if self.archive is not None and archived is not None:
                await self.archive.put(archived, payload)
            return payload

        payload = await self._cache.get_or_load(
            key, load, ttl=ttl, encode=_same, decode=_same, compress=True
        )
        if payload.startswith(_MISSING):
            raise NotFound(payload[len(_MISSING) :].decode(errors="replace"))
        # Decoding is a few ms of numpy work; bigger payloads go to a thread.
        if len(payload) > 256 * 1024:
            data = await asyncio.to_thread(decode_payload, payload)
        else:
            data = decode_payload(payload)
        # The decoded copy is a short-lived shortcut past the cache, not a second cache: it
        # never outlives the entry and is re-read from the store every few minutes.
        self._remember(key, data, now + min(ttl, DECODED_TTL))
        return data

    def _remember(self, key: str, data: SessionData, until: float) -> None:
        if self._memory_sessions == 0:
            return
        self._decoded[key] = (data, until)
        self._decoded.move_to_end(key)
        while len(self._decoded) > self._memory_sessions:
            self._decoded.popitem(last=False)

    @staticmethod
    def telemetry(
        data: SessionData, driver: str, lap: int, *, max_points: int | None = None
    ) -> Telemetry | None:
        """One lap's car telemetry of a loaded session, downsampled to ``max_points``
        (:func:`~pypole_gql.domain.sessions.lap_telemetry`); ``None`` when none was
        published. :class:`NotFound` for an unknown driver or lap."""
        return lap_telemetry(data, driver, lap, max_points=params.max_points(max_points))

    def forget_decoded(self) -> None:
        """Drop the in-process decoded sessions and resolved rounds (the cache keeps both)."""
        self._decoded.clear()
        self._rounds.clear()

    async def aclose(self) -> None:
        self._decoded.clear()
        await self._client.aclose()


def _same(payload: bytes) -> bytes:
    return payload
