"""The ``SessionType`` enum, generated from :data:`pypole_gql.domain.params.SESSION_KINDS`
(apart so that ``Race`` (f1.py) and sessions.py both import it)."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

import strawberry

from pypole_gql.domain.params import DEFAULT_SESSION_TYPE, SESSION_KINDS

if TYPE_CHECKING:
    SessionType = enum.Enum
else:
    SessionType = strawberry.enum(
        enum.Enum(
            "SessionType",
            {
                kind.code: strawberry.enum_value(kind.code, description=kind.description)
                for kind in SESSION_KINDS
            },
        ),
        description="A session of a race weekend, as FastF1 names them.",
    )

#: The type asked for when a query names none.
DEFAULT_TYPE: SessionType = SessionType.__members__[DEFAULT_SESSION_TYPE]
