"""The path and query parameters of the REST routes, each declared once.

They parse what HTTP cannot carry typed (digits to ``int``, a session type among the known
ones); the rules themselves (season bounds, round numbers, event names, ``max_points``) are
the services' (:mod:`pypole_gql.domain.params`), applied once there. The bounds below are
only documented here (the latest season moves with the clock, so it is described, not
fixed).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from fastapi import Path, Query
from pydantic import StringConstraints

from pypole_gql.domain import params

if TYPE_CHECKING:
    SessionTypeName = str
else:
    #: One of :data:`pypole_gql.domain.params.SESSION_TYPES`.
    SessionTypeName = Literal[tuple(params.SESSION_TYPES)]

_SEASON = "Season year, 1950 to five years ahead. Left out: the current season."
_SEASON_SCHEMA = {"minimum": params.FIRST_SEASON}
_ROUND = "Round number within the season (1 to 100)."
_ROUND_SCHEMA = {"minimum": 1, "maximum": params.MAX_ROUND}
_DRIVER = "Three-letter driver code (VER) or car number (33)."
DriverText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=8, pattern=r"^\w+$")
]

SeasonPath = Annotated[int, Path(description=_SEASON, json_schema_extra=_SEASON_SCHEMA)]
SeasonQuery = Annotated[int | None, Query(description=_SEASON, json_schema_extra=_SEASON_SCHEMA)]
RoundPath = Annotated[int, Path(description=_ROUND, json_schema_extra=_ROUND_SCHEMA)]
RoundQuery = Annotated[int | None, Query(description=_ROUND, json_schema_extra=_ROUND_SCHEMA)]

YearPath = Annotated[
    int,
    Path(description="Season year.", json_schema_extra={"minimum": params.FIRST_TIMING_SEASON}),
]
RacePath = Annotated[
    str,
    StringConstraints(strip_whitespace=True),
    Path(
        description='Round number or event name as FastF1 accepts it, e.g. "4" or "Azerbaijan".',
        json_schema_extra={"minLength": 1, "maxLength": 80},
    ),
]
DriverPath = Annotated[DriverText, Path(description=_DRIVER)]
DriverQuery = Annotated[DriverText, Query(description=_DRIVER)]
SessionTypeQuery = Annotated[
    SessionTypeName,
    Query(
        description="FP1, FP2, FP3, Q, SQ (sprint qualifying), SS (sprint shootout), S "
        "(sprint) or R (race)."
    ),
]
LapQuery = Annotated[int, Query(ge=1, le=500, description="Lap number.")]
MaxPointsQuery = Annotated[
    int | None,
    Query(
        description="Downsample evenly to at most this many samples, keeping the first and "
        "last. Left out: full resolution.",
        json_schema_extra={"minimum": params.MIN_POINTS, "maximum": params.MAX_POINTS},
    ),
]
