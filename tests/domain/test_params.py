"""The input rules, once: each bound, and the names they give their errors."""

from __future__ import annotations

import pytest

from pypole_gql.domain import params
from pypole_gql.errors import BadUserInput, InvalidParam


def test_race_is_a_round_number_or_an_event_name() -> None:
    assert params.race("4") == 4
    assert params.race(4) == 4
    assert params.race(" Baku ") == "Baku"
    assert params.race("São Paulo") == "São Paulo"
    for bad in ("e", "0", "101", "Baku; DROP TABLE", "x" * 81, "4th"):
        with pytest.raises(BadUserInput):
            params.race(bad)


def test_race_key_does_not_check() -> None:
    assert params.race_key(" 7 ") == 7
    assert params.race_key(" 4th ") == "4th"


def test_one_upper_bound_for_every_season() -> None:
    latest = 2026 + params.SEASONS_AHEAD
    assert params.season(latest, 2026) == params.timing_season(latest, 2026) == latest
    for rule in (params.season, params.timing_season):
        with pytest.raises(InvalidParam):
            rule(latest + 1, 2026)


def test_seasons_start_where_their_data_does() -> None:
    assert params.season(params.FIRST_SEASON, 2026) == params.FIRST_SEASON
    with pytest.raises(InvalidParam) as raised:
        params.timing_season(params.FIRST_TIMING_SEASON - 1, 2026)
    assert raised.value.field == "year"
    assert str(params.FIRST_TIMING_SEASON) in raised.value.message


def test_session_types_are_the_one_list() -> None:
    assert params.session_type(" q ") == "Q"
    assert list(params.SESSION_TYPES) == [kind.code for kind in params.SESSION_KINDS]
    with pytest.raises(InvalidParam) as raised:
        params.session_type("XX")
    assert raised.value.field == "session_type"


def test_max_points_bounds() -> None:
    assert params.max_points(None) is None
    assert params.max_points(params.MIN_POINTS) == params.MIN_POINTS
    for bad in (params.MIN_POINTS - 1, params.MAX_POINTS + 1):
        with pytest.raises(InvalidParam):
            params.max_points(bad)


def test_a_renamed_error_names_the_new_field_in_its_message() -> None:
    with pytest.raises(InvalidParam) as raised:
        params.season(1800, 2026)
    renamed = raised.value.renamed("year")
    assert renamed.field == "year"
    assert renamed.message.startswith("year must be between")
    assert raised.value.message.startswith("season must be between")


def test_an_invalid_param_survives_pickling() -> None:
    # The FastF1 worker raises them too; they cross the process boundary pickled.
    import pickle

    with pytest.raises(InvalidParam) as raised:
        params.session_type("nope", field="session")
    copy = pickle.loads(pickle.dumps(raised.value))
    assert (copy.field, copy.message) == ("session", raised.value.message)
    assert copy.renamed("type").field == "type"
