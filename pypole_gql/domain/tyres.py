"""Tyre compounds as FastF1 names them, and which of those names mean "not known".

FastF1 names a compound ``SOFT`` ... ``WET`` (``HYPERSOFT`` ... in older seasons), uses
``UNKNOWN`` and ``TEST_UNKNOWN`` when the timing feed did not say, and, for some laps of
some sessions, gives the text ``"nan"`` (the 2018 Azerbaijan GP has 14 such laps). The
strategy pages treat all of those as no compound.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

UNKNOWN_COMPOUNDS: Final = frozenset({"", "NAN", "NONE", "UNKNOWN", "TEST_UNKNOWN"})


def known_compound(value: str | None) -> str | None:
    """``value``, or ``None`` when it names no compound."""
    if value is None or value.strip().upper() in UNKNOWN_COMPOUNDS:
        return None
    return value


def first_known(values: Iterable[str | None]) -> str | None:
    for value in values:
        if known_compound(value) is not None:
            return value
    return None
