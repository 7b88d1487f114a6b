"""The path and query parameters of the REST routes, each declared once.

They parse what HTTP cannot carry typed (digits to ``int``, a session type among the known
ones); the rules themselves (season bounds, round numbers, event names, ``max_points``) are
the services' (:mod:`pypole_gql.domain.params`), applied once there. The bounds below are
only documented here (the latest season moves with the clock, so it is described, not
fixed).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Literal

from fastapi import Path, Query
from pydantic import StringConstraints

from pypole_gql.domain import params
from pypole_gql.errors import InvalidParam

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
FormatQuery = Annotated[
    Literal["json", "csv"],
    Query(
        description="`json` (the default) or `csv`: the rows as RFC 4180 CSV with a header "
        "row, as a download (`Content-Disposition` names the file)."
    ),
]
#: The most drivers or laps a list parameter may name.
MAX_LIST_ITEMS = 100
DriverListText = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=400, pattern=r"^\w+( *, *\w+)*$"
    ),
]
DriversQuery = Annotated[
    list[DriverListText] | None,
    Query(
        description="Only these drivers (codes or car numbers): repeat the parameter "
        "(`drivers=HAM&drivers=VET`) or separate them with commas. All when left out.",
    ),
]
OptionalDriverQuery = Annotated[DriverText | None, Query(description=_DRIVER)]
OptionalLapQuery = Annotated[
    int | None, Query(ge=1, le=500, description="Lap number (needs `driver`).")
]


def driver_list(values: Sequence[str] | None, *, field: str = "drivers") -> list[str] | None:
    """``drivers=HAM,VET&drivers=44`` as ``["HAM", "VET", "44"]``; ``None`` when left out."""
    if values is None:
        return None
    names = [name.strip() for value in values for name in value.split(",")]
    if len(names) > MAX_LIST_ITEMS:
        raise InvalidParam(field, "{field} may name at most {most} items", most=MAX_LIST_ITEMS)
    return names
