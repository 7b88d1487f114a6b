"""The input rules of the F1 questions: each defined once, applied once, at the service entry.

A rule takes the value as an edge typed it (an ``int`` from a path, a GraphQL enum's name)
and returns it parsed, or raises :class:`~pypole_gql.errors.InvalidParam` naming the
parameter by the service's name for it (the names below). An edge that calls a parameter
otherwise maps the name when it renders the error (GraphQL's ``year`` for ``season``, see
:mod:`pypole_gql.graphql.errors`; REST finds where the parameter was from the route's own
declaration, see :mod:`pypole_gql.rest.errors`).

Seasons have one upper bound everywhere: the current year plus :data:`SEASONS_AHEAD`
(calendars are published a year or so ahead; anything further is a mistake, not a season
without data yet). Championship data starts in :data:`FIRST_SEASON`, lap timing data
(FastF1) in :data:`FIRST_TIMING_SEASON`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from pypole_gql.errors import InvalidParam

#: The first world championship season.
FIRST_SEASON: Final = 1950
#: The first season of the live-timing archive FastF1 reads laps and telemetry from.
FIRST_TIMING_SEASON: Final = 2018
#: How far ahead of the current year a season may be asked for.
SEASONS_AHEAD: Final = 5
MAX_ROUND: Final = 100
#: The fewest and the most samples a telemetry lap may be downsampled to (a lap has a few
#: hundred to a thousand).
MIN_POINTS: Final = 2
MAX_POINTS: Final = 100_000
#: The session type asked for when none is named.
DEFAULT_SESSION_TYPE: Final = "R"

_DRIVER_ID: Final = re.compile(r"[A-Za-z0-9_\-]{1,64}")
_EVENT_NAME: Final = re.compile(r"[^\W\d_][\w .'\-]{2,79}", re.UNICODE)


@dataclass(frozen=True, slots=True)
class SessionKind:
    """A session of a race weekend: our (and FastF1's) identifier, FastF1's name for it."""

    code: str
    name: str
    description: str


#: Every session type the app accepts, in weekend order. The GraphQL enum and the REST
#: parameter type are generated from this list.
SESSION_KINDS: Final[tuple[SessionKind, ...]] = (
    SessionKind("FP1", "Practice 1", "Free practice 1."),
    SessionKind("FP2", "Practice 2", "Free practice 2."),
    SessionKind("FP3", "Practice 3", "Free practice 3."),
    SessionKind("Q", "Qualifying", "Qualifying."),
    SessionKind("SQ", "Sprint Qualifying", "Sprint qualifying (2024 on)."),
    SessionKind("SS", "Sprint Shootout", "Sprint shootout (2023)."),
    SessionKind("S", "Sprint", "Sprint."),
    SessionKind("R", "Race", "Race."),
)
#: Identifier -> FastF1's name of the session.
SESSION_TYPES: Final[Mapping[str, str]] = {kind.code: kind.name for kind in SESSION_KINDS}


def latest_season(current_year: int) -> int:
    return current_year + SEASONS_AHEAD


def season(value: int, current_year: int, *, field: str = "season") -> int:
    """A championship season (Jolpica): :data:`FIRST_SEASON` to :func:`latest_season`."""
    latest = latest_season(current_year)
    if not FIRST_SEASON <= value <= latest:
        raise InvalidParam(
            field, "{field} must be between {low} and {high}", low=FIRST_SEASON, high=latest
        )
    return value


def timing_season(value: int, current_year: int, *, field: str = "year") -> int:
    """A season with lap timing data (FastF1): :data:`FIRST_TIMING_SEASON` to
    :func:`latest_season`."""
    latest = latest_season(current_year)
    if not FIRST_TIMING_SEASON <= value <= latest:
        raise InvalidParam(
            field,
            "{field} must be between {low} and {high}: lap timing data starts with the "
            "{low} season",
            low=FIRST_TIMING_SEASON,
            high=latest,
        )
    return value


def round_number(value: int, *, field: str = "round") -> int:
    if not 1 <= value <= MAX_ROUND:
        raise InvalidParam(field, "{field} must be between 1 and {high}", high=MAX_ROUND)
    return value


def race_key(value: int | str) -> int | str:
    """The race as one key, unchecked: ``" 4"`` and ``4`` are round 4, ``" Baku "`` is
    ``"Baku"``."""
    if isinstance(value, int):
        return value
    text = value.strip()
    return int(text) if text.isdigit() else text


def race(value: int | str, *, field: str = "race") -> int | str:
    """A round number (an int or digits) or an event name; anything else is refused."""
    key = race_key(value)
    if isinstance(key, int):
        return round_number(key, field=field)
    if not _EVENT_NAME.fullmatch(key):
        raise InvalidParam(
            field,
            "{field} must be a round number or an event name "
            "(letters, spaces, '.', ''', '-'; 3 to 80 characters)",
        )
    return key


def session_type(value: str, *, field: str = "session_type") -> str:
    """``"q "`` -> ``"Q"``; anything not in :data:`SESSION_TYPES` is refused."""
    code = value.strip().upper()
    if code not in SESSION_TYPES:
        raise InvalidParam(
            field,
            "Unknown session type {value!r}; expected one of {expected}",
            value=value,
            expected=", ".join(SESSION_TYPES),
        )
    return code


@dataclass(frozen=True, slots=True)
class SessionRequest:
    """A session asked for, its arguments parsed (:func:`session_request`)."""

    year: int
    race: int | str
    session_type: str


def session_request(
    year: int, race_: int | str, session_type_: str, current_year: int
) -> SessionRequest:
    """The three arguments of a session, each by its rule (year, race, session type)."""
    return SessionRequest(
        timing_season(year, current_year), race(race_), session_type(session_type_)
    )


def max_points(value: int | None, *, field: str = "max_points") -> int | None:
    """How many samples to downsample a lap's telemetry to; ``None``: all of them."""
    if value is not None and not MIN_POINTS <= value <= MAX_POINTS:
        raise InvalidParam(
            field, "{field} must be between {low} and {high}", low=MIN_POINTS, high=MAX_POINTS
        )
    return value


def driver_id(value: str, *, field: str = "driver_id") -> str:
    """A Jolpica driver id (``max_verstappen``)."""
    if not _DRIVER_ID.fullmatch(value):
        raise InvalidParam(
            field, "{field} must be a Jolpica driver id (letters, digits, '_' or '-')"
        )
    return value
