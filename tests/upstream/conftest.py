"""FastF1 against the replay server, and FastF1 itself as the oracle.

``replay`` (``tests/plugins/replay.py``) plays FastF1's three upstreams from the shared
fixtures: ``/static`` (synthetic telemetry laid over the recordings), ``/f1schedule`` and
``/ergast/f1``. ``fastf1_oracle`` loads a session with FastF1 in the test process, from that same
server, once per test session (loads take 1 to 12 s).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pypole_gql.upstream.fastf1 import FastF1Config
from tests.plugins.replay import Replay


def replay_config(url: str, cache_dir: Path, **kwargs: Any) -> FastF1Config:
    """FastF1 pointed at a replay server at ``url`` (or anything laid out like one)."""
    return FastF1Config(
        cache_dir=cache_dir,
        livetiming_url=url,
        schedule_url=f"{url}/f1schedule",
        jolpica_url=f"{url}/ergast/f1",
        **kwargs,
    )


OracleLoader = Callable[..., Any]


@pytest.fixture(scope="session")
def fastf1_oracle(replay: Replay, tmp_path_factory: pytest.TempPathFactory) -> OracleLoader:
    """``fastf1_oracle(year, race, kind, telemetry=False)``: a loaded ``fastf1.core.Session``."""
    config = replay_config(replay.url, tmp_path_factory.mktemp("fastf1-oracle-cache"))
    loaded: dict[tuple[Any, ...], Any] = {}

    def load(year: int, race: int | str, kind: str, *, telemetry: bool = False) -> Any:
        key = (year, race, kind, telemetry)
        if key not in loaded:
            import fastf1

            config.apply()
            session = fastf1.get_session(year, race, kind)
            session.load(laps=True, telemetry=telemetry, weather=False, messages=True)
            loaded[key] = session
        return loaded[key]

    return load
