"""The seam between the replay server and the Jolpica response generators.

``forms`` chooses how the replay answers what no recording does (see
:data:`REPLAY_FORMS`): from the Ergast CSV database as it is (``ergast.py``), the same in
Jolpica's current forms where Jolpica's own data has them (``jolpica_forms.py``), or from
the recorded bodies alone, re-paged (``recorded.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Final, Literal, Protocol, get_args

import structlog

from pypole_gql.replay.fixtures import FixtureIndex

log = structlog.get_logger(__name__)

ReplayForms = Literal["csv", "jolpica", "recorded"]
#: ``csv``: the CSV database's forms, Ergast's (the default). ``jolpica``: the same data in
#: Jolpica's current forms where its own data shows them (``Lapped``, ``Retired``, lapped
#: cars' times, pit-lane starters' grid slots, the sessions of 2018, 2019 and 2025).
#: ``recorded``: only what the recordings hold, served again in any page asked for.
REPLAY_FORMS: Final[tuple[str, ...]] = get_args(ReplayForms)


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


def load_forms_generator(
    forms: str, csv_generator: ErgastResponder | None, fixtures: FixtureIndex
) -> ErgastResponder | None:
    """The generator answering in ``forms`` (:data:`REPLAY_FORMS`); ``None`` when it cannot
    be built (``jolpica`` needs the CSV generator)."""
    if forms == "csv":
        return csv_generator
    if forms == "recorded":
        from pypole_gql.replay.recorded import RecordedErgast

        return RecordedErgast.load(fixtures.recording_dirs)
    if forms == "jolpica":
        from pypole_gql.replay.ergast import ErgastCsvDatabase
        from pypole_gql.replay.jolpica_forms import JolpicaForms, recorded_files

        if not isinstance(csv_generator, ErgastCsvDatabase):
            return None
        known = JolpicaForms.load(
            fixtures.jolpica_database_dir, recorded_files(fixtures.recording_dirs)
        )
        return csv_generator.with_forms(known)
    raise ValueError(f"forms must be one of {', '.join(REPLAY_FORMS)}, not {forms!r}")
