"""The seam between the replay server and the Jolpica response generator (``ergast.py``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import structlog

log = structlog.get_logger(__name__)


class ErgastResponder(Protocol):
    def respond(
        self, path: str, query: Mapping[str, str], now: datetime
    ) -> dict[str, Any] | None: ...

    def after_last_results(self) -> datetime | None:
        """Just after the last race with results (the replay's ``now="fixtures"``)."""
        ...


#: Builds the generator from the CSV folder; ``None`` when there is none to build.
GeneratorFactory = Callable[[Path], ErgastResponder | None]


def load_csv_generator(csv_dir: Path) -> ErgastResponder | None:
    """``ErgastCsvDatabase.load(csv_dir)``, or ``None`` while ``ergast.py`` does not exist."""
    try:
        from pypole_gql.replay.ergast import ErgastCsvDatabase
    except ModuleNotFoundError as exc:
        # Only the module itself being absent is expected; a missing import inside it is a bug.
        if exc.name != "pypole_gql.replay.ergast":
            raise
        log.warning("replay.generator_missing", module="pypole_gql.replay.ergast")
        return None
    return ErgastCsvDatabase.load(csv_dir)
