"""When things happen on a race weekend: start times from the schedule, and what is over.

Pure functions over :class:`~pypole_gql.domain.f1.Race`; "now" is always passed in, so the
services that use them can be tested at any moment of a season.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Final

from pypole_gql.domain.f1 import Race, ScheduledSession

#: How long after its scheduled start a session counts as over for data that is only
#: published afterwards (FastF1's timing archive): a race is at most two hours of racing
#: (three including a suspension); an hour more for the archive to be complete.
SESSION_DATA_DELAY: Final = timedelta(hours=4)


class SessionKind(StrEnum):
    RACE = "race"
    PRACTICE = "practice"
    QUALIFYING = "qualifying"
    SPRINT = "sprint"
    SPRINT_QUALIFYING = "sprint_qualifying"


#: Jolpica's key of each session of a weekend (the race aside), its kind and display name.
_SESSIONS: Final[dict[str, tuple[SessionKind, str]]] = {
    "FirstPractice": (SessionKind.PRACTICE, "Practice 1"),
    "SecondPractice": (SessionKind.PRACTICE, "Practice 2"),
    "ThirdPractice": (SessionKind.PRACTICE, "Practice 3"),
    "Qualifying": (SessionKind.QUALIFYING, "Qualifying"),
    "SprintQualifying": (SessionKind.SPRINT_QUALIFYING, "Sprint Qualifying"),
    "SprintShootout": (SessionKind.SPRINT_QUALIFYING, "Sprint Shootout"),
    "Sprint": (SessionKind.SPRINT, "Sprint"),
}


@dataclass(frozen=True, slots=True)
class WeekendSession:
    """One session of a race weekend as the schedule publishes it."""

    kind: SessionKind
    name: str
    """Display name: ``"Practice 1"``, ``"Qualifying"``, ``"Race"`` ..."""
    jolpica_key: str
    """Jolpica's key: ``FirstPractice`` ... ``Sprint``, or ``Race`` for the race itself."""
    date: date
    starts_at: datetime | None
    """Timezone-aware UTC; ``None`` when only the day is published."""

    @property
    def start(self) -> datetime:
        """The start, or the beginning of its day (UTC) when only the day is known."""
        return starts_at_or_day(self.date, self.starts_at)


def starts_at_or_day(day: date, starts_at: datetime | None) -> datetime:
    return starts_at or datetime.combine(day, time.min, tzinfo=UTC)


def race_start(race: Race) -> datetime:
    """When the race starts; the beginning of race day (UTC) when no time is published.

    Erring early on purpose: whatever closes at the start (predictions) closes no later
    than the real start.
    """
    return starts_at_or_day(race.date, race.starts_at)


def weekend_sessions(race: Race) -> tuple[WeekendSession, ...]:
    """Every published session of the weekend, the race included, in chronological order.

    Sessions under a key this module does not know are left out.
    """
    sessions = [_session(s) for s in race.sessions if s.name in _SESSIONS]
    sessions.append(
        WeekendSession(
            kind=SessionKind.RACE,
            name="Race",
            jolpica_key="Race",
            date=race.date,
            starts_at=race.starts_at,
        )
    )
    sessions.sort(key=lambda s: s.start)
    return tuple(sessions)


def _session(scheduled: ScheduledSession) -> WeekendSession:
    kind, name = _SESSIONS[scheduled.name]
    return WeekendSession(
        kind=kind,
        name=name,
        jolpica_key=scheduled.name,
        date=scheduled.date,
        starts_at=scheduled.starts_at,
    )


def race_data_published(race: Race, now: datetime) -> bool:
    """True once the race is over and its timing data can be asked for (FastF1)."""
    return race_start(race) + SESSION_DATA_DELAY <= now
