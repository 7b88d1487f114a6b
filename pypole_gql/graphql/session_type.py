"""The ``SessionType`` enum, apart so that ``Race`` (f1.py) and sessions.py both import it."""

from __future__ import annotations

import enum

import strawberry


@strawberry.enum(description="A session of a race weekend, as FastF1 names them.")
class SessionType(enum.Enum):
    FP1 = strawberry.enum_value("FP1", description="Free practice 1.")
    FP2 = strawberry.enum_value("FP2", description="Free practice 2.")
    FP3 = strawberry.enum_value("FP3", description="Free practice 3.")
    Q = strawberry.enum_value("Q", description="Qualifying.")
    SQ = strawberry.enum_value("SQ", description="Sprint qualifying (2024 on).")
    SS = strawberry.enum_value("SS", description="Sprint shootout (2023).")
    S = strawberry.enum_value("S", description="Sprint.")
    R = strawberry.enum_value("R", description="Race.")
