"""The session's records as FastF1 gives them: results, weather, race control, track status.

Each is stored whole in :class:`SessionData` in FastF1's row order; these functions
select from them.
"""

from __future__ import annotations

from pypole_gql.domain.sessions.model import (
    RaceControlMessage,
    SessionData,
    SessionResult,
    TrackStatusChange,
    WeatherSample,
)


def results(data: SessionData) -> tuple[SessionResult, ...]:
    """FastF1's ``Session.results``, in its order (finishing order for a race)."""
    return data.results


def weather(data: SessionData) -> tuple[WeatherSample, ...]:
    """FastF1's ``Session.weather_data``, in time order."""
    return data.weather


def race_control(
    data: SessionData, category: str | None = None, flag: str | None = None
) -> list[RaceControlMessage]:
    """FastF1's ``Session.race_control_messages``, optionally of one category and flag.

    ``category`` and ``flag`` match FastF1's values without regard to case or surrounding
    space (``"safetycar"`` is ``SafetyCar``, ``"double yellow"`` is ``DOUBLE YELLOW``);
    ``None`` means any.
    """
    want_category = _folded(category)
    want_flag = _folded(flag)
    return [
        m
        for m in data.race_control
        if (want_category is None or _folded(m.category) == want_category)
        and (want_flag is None or _folded(m.flag) == want_flag)
    ]


def track_status(data: SessionData) -> tuple[TrackStatusChange, ...]:
    """FastF1's ``Session.track_status``: each change of the track's status, in time order."""
    return data.track_status


def _folded(text: str | None) -> str | None:
    return None if text is None else text.strip().casefold()
