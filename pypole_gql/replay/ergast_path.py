"""Parsing of Jolpica/Ergast request paths (the part after ``/ergast/f1/``).

A path is ``[{season}[/{round}]]`` followed by ``keyword/value`` filter pairs and ends in an
endpoint keyword, optionally with a value that both filters and names the endpoint
(``drivers/alonso``, ``2023/22/driverstandings/1``). With no endpoint the path asks for the
schedule (``2023``, ``2023/5``, ``current/next``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

#: Jolpica's page size when ``limit`` is not given, and the largest it allows.
DEFAULT_LIMIT: Final = 30
MAX_LIMIT: Final = 100

_NUMBER = re.compile(r"[0-9]{1,4}")
_SEASON = re.compile(r"[0-9]{4}")
_IDENTIFIER = re.compile(r"[A-Za-z0-9_\-]+")

ENDPOINTS = frozenset(
    {
        "races",
        "results",
        "qualifying",
        "sprint",
        "driverstandings",
        "constructorstandings",
        "drivers",
        "constructors",
        "circuits",
        "seasons",
        "status",
        "laps",
        "pitstops",
    }
)
# Filter keyword -> the key Jolpica echoes in the table header.
FILTERS = {
    "circuits": "circuitId",
    "constructors": "constructorId",
    "drivers": "driverId",
    "fastest": "fastest",
    "grid": "grid",
    "results": "position",
    "status": "status",
    "laps": "lap",
    "pitstops": "stop",
}
_TEXT_FILTERS = frozenset({"circuits", "constructors", "drivers"})


@dataclass(frozen=True, slots=True)
class ErgastPath:
    """A parsed path; ``season`` is ``"current"`` or digits, ``round`` digits, last or next."""

    season: str | None
    round: str | None
    endpoint: str
    endpoint_value: str | None
    filters: dict[str, str] = field(default_factory=dict)


def parse_path(path: str) -> ErgastPath | None:
    """Parse ``path``; ``None`` when it is not a well-formed Ergast path."""
    text = path.strip("/")
    if text.lower().endswith(".json"):
        text = text[: -len(".json")].rstrip("/")
    if not text:
        return None
    segments = text.split("/")
    season: str | None = None
    round_: str | None = None
    index = 0
    first = segments[0].lower()
    if _SEASON.fullmatch(first) or first == "current":
        season = first
        index = 1
        if index < len(segments):
            candidate = segments[index].lower()
            if _NUMBER.fullmatch(candidate) or candidate in ("last", "next"):
                round_ = candidate
                index += 1
    elif first in ("last", "next"):
        round_ = first
        index = 1

    filters: dict[str, str] = {}
    endpoint = "races"
    endpoint_value: str | None = None
    rest = segments[index:]
    for position in range(0, len(rest), 2):
        keyword = rest[position].lower()
        value = rest[position + 1] if position + 1 < len(rest) else None
        is_last = position + 2 >= len(rest)
        if value is not None and not _valid_value(keyword, value):
            return None
        if is_last:
            if keyword not in ENDPOINTS:
                return None
            endpoint, endpoint_value = keyword, value
        else:
            if keyword not in FILTERS or keyword in filters or value is None:
                return None
            filters[keyword] = value
    if endpoint_value is not None and endpoint in filters:
        return None
    return ErgastPath(season, round_, endpoint, endpoint_value, filters)


def _valid_value(keyword: str, value: str) -> bool:
    if keyword in _TEXT_FILTERS:
        return _IDENTIFIER.fullmatch(value) is not None
    return _NUMBER.fullmatch(value) is not None


def page_bounds(query: Mapping[str, str]) -> tuple[int, int]:
    """``(limit, offset)`` of a request: 30 and 0 by default, ``limit`` clamped to 100."""
    limit = _non_negative(query.get("limit"), DEFAULT_LIMIT)
    offset = _non_negative(query.get("offset"), 0)
    return min(limit, MAX_LIMIT), offset


def _non_negative(raw: str | None, default: int) -> int:
    text = (raw or "").strip()
    return int(text) if text.isascii() and text.isdigit() else default


def url_path(path: str) -> str:
    """The path as Jolpica echoes it in ``MRData.url``: no slashes around, no ``.json``."""
    text = path.strip("/")
    if text.lower().endswith(".json"):
        text = text[: -len(".json")]
    return text.rstrip("/")
