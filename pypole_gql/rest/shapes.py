"""The frontend routes' bodies, derived from the services' domain objects.

The older frontend's pages read the domain objects almost field by field (snake_case, as the
dataclasses name them). So each body model is built from a dataclass's own fields
(:func:`model_of`), and a body from an object the same way (:func:`plain`), with three
rules:

* Jolpica's objects (drivers, constructors, races, result and standing rows) are Jolpica's
  own JSON, as the ``/jolpica`` routes pass them through and the frontend reads them
  (``driver.givenName``, ``race.Circuit.circuitName``);
* laps and stints are the ``/fastf1`` routes' rows (``lap_time`` as ``m:ss.fff``,
  ``num_laps``);
* :data:`EXTRAS` adds (or replaces) the few fields a page reads that the object holds in
  another form (a race's name where the page prints ``result.race``).

One derivation for the document and the body, so they cannot drift apart; the tests check
every body against its model.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model
from starlette.responses import Response

from pypole_gql.domain import f1, sessions
from pypole_gql.domain.calendar import WeekendSession
from pypole_gql.domain.comparison import ComparedDriver, RaceDuel
from pypole_gql.domain.predictions import POSITION_POINTS, ScoringRules, TemplateDriver
from pypole_gql.domain.profiles import (
    CareerSeason,
    DriverRaceResult,
    DriverSummary,
    TeamRace,
    TeamRaceRow,
)
from pypole_gql.domain.race_weekend import PitStops, RaceWeekend
from pypole_gql.domain.strategy import RaceStrategy, StrategySummary
from pypole_gql.rest import jolpica_schemas, schemas
from pypole_gql.web.responses import ORJSONResponse


@dataclass(frozen=True, slots=True)
class Extra:
    """A field a page reads that the object holds otherwise: its type, its value, its doc."""

    annotation: Any
    value: Callable[[Any], Any]
    description: str


def _name(driver: f1.Driver) -> str:
    return f"{driver.given_name} {driver.family_name}"


def _team_name(team: f1.Constructor | None) -> str | None:
    return None if team is None else team.name


_PLACES: tuple[str, ...] = (
    "exact_position",
    "one_position_off",
    "two_positions_off",
    "three_positions_off",
    "four_positions_off",
    "five_positions_off",
)

#: Per dataclass, the fields added (or, under an existing name, replaced).
EXTRAS: dict[type, dict[str, Extra]] = {
    DriverRaceResult: {
        "race": Extra(str, lambda r: r.race.name, "The race's name"),
        "race_info": Extra(
            jolpica_schemas.JolpicaRace, lambda r: r.race.raw, "The race, as Jolpica"
        ),
        "round": Extra(int, lambda r: r.race.round, "Round of the race"),
        "position": Extra(int | None, lambda r: r.result.position, "Finishing position"),
        "position_text": Extra(str, lambda r: r.result.position_text, "Jolpica's positionText"),
        "grid": Extra(int | None, lambda r: r.result.grid, "Starting position; 0: pit lane"),
        "status": Extra(str, lambda r: r.result.status, "Finishing status"),
        "points": Extra(float, lambda r: r.result.points, "Points scored in the race"),
    },
    CareerSeason: {
        "team": Extra(str | None, lambda s: _team_name(s.team), "The season's last team's name"),
        "team_id": Extra(
            str | None,
            lambda s: None if s.team is None else s.team.constructor_id,
            "Its Jolpica constructorId",
        ),
    },
    TeamRace: {
        "race": Extra(str, lambda r: r.race.name, "The race's name"),
        "race_info": Extra(
            jolpica_schemas.JolpicaRace, lambda r: r.race.raw, "The race, as Jolpica"
        ),
        "round": Extra(int, lambda r: r.race.round, "Round of the race"),
    },
    TeamRaceRow: {
        "driver": Extra(str, lambda r: _name(r.driver), "The driver's name"),
        "driver_id": Extra(str, lambda r: r.driver.driver_id, "Jolpica driverId"),
        "code": Extra(str | None, lambda r: r.driver.code, "Three-letter code"),
        "position": Extra(int | None, lambda r: r.result.position, "Finishing position"),
        "points": Extra(float, lambda r: r.result.points, "Points scored in the race"),
    },
    TemplateDriver: {
        "driver_id": Extra(str, lambda d: d.driver.driver_id, "Jolpica driverId, to pick"),
        "code": Extra(str | None, lambda d: d.driver.code, "Three-letter code"),
        "name": Extra(str, lambda d: _name(d.driver), "The driver's name"),
        "team": Extra(str | None, lambda d: _team_name(d.team), "The team's name"),
        "team_id": Extra(
            str | None,
            lambda d: None if d.team is None else d.team.constructor_id,
            "Its Jolpica constructorId",
        ),
    },
    ScoringRules: {
        "prediction_scoring": Extra(
            dict[str, int],
            lambda r: dict(zip(_PLACES, r.position_points, strict=True)),
            "Points by how far the predicted position is off (past five: `beyond`)",
        ),
    },
    RaceStrategy: {
        "optimal_strategies": Extra(
            dict[str, list[Any]],
            lambda s: {"all_strategies": [plain(g) for g in s.strategies]},
            "`all_strategies`: `strategies`, best average finishing position first",
        ),
    },
    StrategySummary: {
        "strategy_distribution": Extra(
            dict[str, int],
            lambda s: {str(c.num_stops): c.drivers for c in s.strategy_distribution},
            "Number of stops -> drivers who made that many",
        ),
    },
    DriverSummary: {
        "driver_id": Extra(str, lambda d: d.driver.driver_id, "Jolpica driverId"),
        "code": Extra(str | None, lambda d: d.driver.code, "Three-letter code"),
        "name": Extra(str, lambda d: _name(d.driver), "The driver's name"),
    },
    ComparedDriver: {
        "id": Extra(str, lambda d: d.driver.driver_id, "Jolpica driverId (`winner` names it)"),
        "info": Extra(
            jolpica_schemas.JolpicaDriver, lambda d: d.driver.raw, "The driver, as Jolpica"
        ),
    },
    RaceWeekend: {
        "race_info": Extra(
            jolpica_schemas.JolpicaRace, lambda w: w.race.raw, "The race, as Jolpica"
        ),
        "fastest_laps": Extra(
            dict[str, sessions.Lap | None],
            lambda w: {"race": w.fastest_lap},
            "`race`: the race's fastest lap (as `fastest_lap`)",
        ),
    },
    WeekendSession: {
        "type": Extra(str, lambda s: s.kind.value, "race, practice, qualifying, sprint, ..."),
        "time": Extra(
            str | None,
            lambda s: None if s.starts_at is None else f"{s.starts_at:%H:%M:%S}Z",
            "UTC start time of day (HH:MM:SSZ), as Jolpica gives it; null if unpublished",
        ),
    },
    RaceDuel: {
        "race": Extra(str, lambda d: d.race_name, "The race's name"),
        "driver1_position": Extra(int | None, lambda d: d.driver1.position, "driver1's place"),
        "driver2_position": Extra(int | None, lambda d: d.driver2.position, "driver2's place"),
    },
}
assert len(_PLACES) == len(POSITION_POINTS)

#: Domain types sent as another model: (the model, the value from the object).
_AS: dict[type, tuple[Any, Callable[[Any], Any]]] = {
    f1.Driver: (jolpica_schemas.JolpicaDriver, lambda d: d.raw),
    f1.Constructor: (jolpica_schemas.JolpicaConstructor, lambda c: c.raw),
    f1.Circuit: (jolpica_schemas.JolpicaCircuit, lambda c: c.raw),
    f1.Race: (jolpica_schemas.JolpicaRace, lambda r: r.raw),
    f1.RaceResult: (jolpica_schemas.JolpicaResult, lambda r: r.raw),
    f1.QualifyingResult: (jolpica_schemas.JolpicaQualifyingResult, lambda r: r.raw),
    f1.DriverStanding: (jolpica_schemas.JolpicaDriverStanding, lambda s: s.raw),
    f1.ConstructorStanding: (jolpica_schemas.JolpicaConstructorStanding, lambda s: s.raw),
    f1.RaceRows: (jolpica_schemas.JolpicaRace, lambda r: r.raw),
    sessions.Lap: (schemas.LapBody, schemas.lap_of),
    sessions.Stint: (schemas.StintBody, lambda s: schemas.StintBody.of(s).model_dump()),
}
#: Body names that would collide with another module's model of the same name.
_NAMES: dict[type, str] = {PitStops: "WeekendPitStopsBody"}
OPEN = ConfigDict(extra="forbid", frozen=True)


def _fields(cls: type) -> list[dataclasses.Field[Any]]:
    return [f for f in dataclasses.fields(cls) if f.name != "raw"]


def _annotation(tp: Any) -> Any:
    """The body type of a domain field type."""
    origin = typing.get_origin(tp)
    if origin in (types.UnionType, typing.Union):
        members = [_annotation(a) for a in typing.get_args(tp)]
        result = members[0]
        for member in members[1:]:
            result = result | member
        return result
    if origin is tuple:
        return list[_annotation(typing.get_args(tp)[0])]  # type: ignore[misc]
    if origin in (Mapping, dict, typing.Mapping) or tp is types.MappingProxyType:
        key, value = typing.get_args(tp)
        return dict[_annotation(key), _annotation(value)]  # type: ignore[misc]
    base = origin if origin is not None else tp
    if base in _AS:
        return _AS[base][0]
    if isinstance(base, type) and dataclasses.is_dataclass(base):
        return model_of(base)
    return tp


@cache
def model_of(cls: type) -> type[BaseModel]:
    """The body model of a dataclass of the domain (see the module docstring)."""
    hints = typing.get_type_hints(cls)
    fields: dict[str, Any] = {f.name: (_annotation(hints[f.name]), ...) for f in _fields(cls)}
    for name, extra in EXTRAS.get(cls, {}).items():
        fields[name] = (_annotation(extra.annotation), Field(description=extra.description))
    model: type[BaseModel] = create_model(
        _NAMES.get(cls, f"{cls.__name__}Body"),
        __config__=OPEN,
        __doc__=(cls.__doc__ or "").strip().split("\n\n")[0] or None,
        __module__=__name__,
        **fields,
    )
    return model


def list_of(cls: type) -> Any:
    """``list[body model of cls]``, as a field type."""
    return typing.cast(Any, list)[model_of(cls)]


def envelope(name: str, doc: str, **fields: Any) -> type[BaseModel]:
    """A body model holding ``fields`` (name: type), all required."""
    model: type[BaseModel] = create_model(  # type: ignore[call-overload]
        name,
        __config__=OPEN,
        __doc__=doc,
        __module__=__name__,
        **{key: (value, ...) for key, value in fields.items()},
    )
    return model


def plain(value: Any) -> Any:
    """``value`` as the JSON its body model describes."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, (tuple, list)):
        return [plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    kind = type(value)
    if kind in _AS:
        return _AS[kind][1](value)
    if dataclasses.is_dataclass(value):
        body = {f.name: plain(getattr(value, f.name)) for f in _fields(kind)}
        for name, extra in EXTRAS.get(kind, {}).items():
            body[name] = plain(extra.value(value))
        return body
    raise TypeError(f"No body for {kind.__name__}")


def respond_plain(value: Any, status_code: int = 200) -> Response:
    return ORJSONResponse(plain(value), status_code)
