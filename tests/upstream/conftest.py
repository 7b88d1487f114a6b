"""FastF1 tests share the oracle and replay helpers of ``tests/plugins/fastf1.py``, and
the sessions the worker produced, each loaded once per test run.

- ``race_payload``: the 2018 Azerbaijan race with the synthetic telemetry, produced by
  a real ``spawn`` worker through :class:`FastF1Client`;
- ``session_data(name)``: any of :data:`SESSIONS` decoded (the others loaded
  in-process without telemetry);
- ``oracle(name)``: the same session loaded by FastF1 itself from the same server.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from pypole_gql.domain.sessions import SessionData
from pypole_gql.upstream.fastf1 import FastF1Client, decode_payload, load_session_payload
from tests.plugins.fastf1 import OracleLoader, replay_config
from tests.plugins.replay import Replay

__all__ = ["OracleLoader", "replay_config"]

RACE_NAME = "2018-baku-race"
RACE = (2018, "Baku", "R")
SESSIONS = {
    RACE_NAME: RACE,
    "2023-azerbaijan-q": (2023, "Azerbaijan", "Q"),
    "2023-azerbaijan-sprint": (2023, "Azerbaijan", "S"),
    "2025-miami-sprint": (2025, "Miami", "S"),
    # The only qualifying of the fixtures with weather data (no sprint has any).
    "2021-mexico-q": (2021, "Mexico City", "Q"),
}
#: Floats FastF1 and the payload compute the same way may still differ in the last bits.
TOL = 1e-6


@pytest.fixture(scope="session")
async def race_payload(
    replay: Replay, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[bytes]:
    client = FastF1Client(
        replay_config(replay.url, tmp_path_factory.mktemp("fastf1-worker-cache")), max_workers=1
    )
    try:
        yield await client.load_session(*RACE, telemetry=True)
    finally:
        client.close()


@pytest.fixture(scope="session")
def session_data(
    race_payload: bytes, replay: Replay, fastf1_shared_cache: Path
) -> Callable[[str], SessionData]:
    # The oracle's FastF1 cache: whichever of the two loads a session first, the other
    # parses it from there (both load without telemetry, the race aside).
    cache_dir = fastf1_shared_cache
    decoded: dict[str, SessionData] = {RACE_NAME: decode_payload(race_payload)}

    def get(name: str) -> SessionData:
        if name not in decoded:
            payload = load_session_payload(
                replay_config(replay.url, cache_dir), *SESSIONS[name], telemetry=False
            )
            decoded[name] = decode_payload(payload)
        return decoded[name]

    return get


@pytest.fixture(scope="session")
def oracle(fastf1_oracle: OracleLoader) -> Callable[[str], Any]:
    """``oracle(name)``: FastF1's own ``Session`` for one of :data:`SESSIONS`."""

    def get(name: str) -> Any:
        return fastf1_oracle(*SESSIONS[name], telemetry=name == RACE_NAME)

    return get


def seconds(value: Any) -> float | None:
    """ns / 1e9 as ``Series.dt.total_seconds()`` computes it; the scalar
    ``Timedelta.total_seconds()`` can differ in the last bit."""
    return None if pd.isna(value) else pd.Timedelta(value).value / 1e9


def opt(value: Any) -> Any:
    return None if pd.isna(value) else value


def text(value: Any) -> str | None:
    """FastF1 text as the app means it: NaN, ``""`` and the string ``"nan"`` are no text."""
    if pd.isna(value) or str(value).strip().lower() in ("", "nan"):
        return None
    return str(value)
