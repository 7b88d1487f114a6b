"""The fixtures directory: checked and indexed once at start-up.

Layout (see ``shared/fixtures/README.md``)::

    jolpica/ergast/f1/...     recorded Jolpica responses, query in the file name
    jolpica/csv/              the Ergast CSV database the generator answers from
    fastf1/ergast/f1/...      FastF1's recorded Jolpica responses
    fastf1/static/...         the live-timing archive
    fastf1/f1schedule/...     FastF1's schedule files
    fastf1-synthetic/static/  synthetic telemetry laid over fastf1/static (optional)
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

# What must be there, with what it is, for the error message.
REQUIRED = {
    "jolpica/ergast/f1": "recorded Jolpica responses",
    "jolpica/csv": "the Ergast CSV database",
    "fastf1/ergast/f1": "FastF1's recorded Jolpica responses",
    "fastf1/static": "the live-timing archive",
    "fastf1/f1schedule": "FastF1's schedule files",
}
SYNTHETIC = "fastf1-synthetic/static"


class ReplayFixturesError(Exception):
    """The fixtures directory is missing or incomplete; the message says what is missing."""


def fixture_problems(root: Path) -> list[str]:
    """What is wrong with ``root`` as a fixtures directory (empty: nothing)."""
    if not root.exists():
        return [f"{root} does not exist"]
    if not root.is_dir():
        return [f"{root} is not a directory"]
    problems = []
    for rel, what in REQUIRED.items():
        folder = root / rel
        if not folder.is_dir():
            problems.append(f"missing {rel}/ ({what})")
        elif not any(folder.iterdir()):
            problems.append(f"{rel}/ is empty ({what})")
    return problems


def recording_name(path: str, query: Iterable[tuple[str, str]]) -> str | None:
    """The file, relative to ``ergast/f1/``, that a request maps to (jolpica/README.md).

    ``path`` is the decoded part after ``/ergast/f1/``. A trailing ``/`` or ``.json`` is
    dropped, ``format`` is dropped from the query, and the remaining parameters, sorted by
    name, go before ``.json`` as ``__<name>-<value>``. ``None`` for an empty path.
    """
    if path.endswith("/"):
        path = path[:-1]
    elif path.endswith(".json"):
        path = path[: -len(".json")]
    if not path:
        return None
    params = sorted((item for item in query if item[0] != "format"), key=lambda item: item[0])
    return path + "".join(f"__{name}-{value}" for name, value in params) + ".json"


def recording_request(name: str) -> tuple[str, dict[str, str]]:
    """The request a recording answers, from its file name relative to ``ergast/f1/``:
    ``2021/5/laps__limit-100.json`` -> ``("2021/5/laps.json", {"limit": "100"})``; the
    inverse of :func:`recording_name`."""
    stem = name.removesuffix(".json")
    path, *params = stem.split("__")
    return f"{path}.json", dict(param.split("-", 1) for param in params)


def _files(folder: Path) -> dict[str, Path]:
    """Every file under ``folder`` by its ``/``-separated relative path."""
    out: dict[str, Path] = {}
    for dirpath, _dirs, names in os.walk(folder):
        for name in names:
            file = Path(dirpath) / name
            out[file.relative_to(folder).as_posix()] = file
    return out


@dataclass(frozen=True, slots=True)
class FixtureIndex:
    """Lookup tables built from the fixtures directory.

    ``ergast`` is keyed by the lowercased file name relative to ``ergast/f1/`` because
    Jolpica accepts ``driverStandings`` and ``driverstandings`` alike. When both recording
    sets hold the same name, ``jolpica/`` wins over ``fastf1/`` (today only ``2023.json``,
    the same schedule as recorded from ergast.com and from api.jolpi.ca). ``static`` maps
    the exact relative path (the live-timing archive is case-sensitive) to the file and
    whether it is synthetic; the synthetic overlay wins over the recording.
    """

    root: Path
    ergast: dict[str, Path]
    static: dict[str, tuple[Path, bool]]
    schedule: dict[str, Path]
    csv_dir: Path

    @property
    def recording_dirs(self) -> tuple[Path, Path]:
        """The two ``ergast/f1`` folders of recorded Jolpica responses (fastf1/, jolpica/)."""
        return self.root / "fastf1/ergast/f1", self.root / "jolpica/ergast/f1"

    @property
    def jolpica_database_dir(self) -> Path:
        """jolpica-f1's own test-database extract (``jolpica/csv/jolpica_db_subset``)."""
        return self.csv_dir / "jolpica_db_subset"

    @classmethod
    def load(cls, fixtures_dir: Path) -> FixtureIndex:
        root = fixtures_dir.expanduser().resolve()
        problems = fixture_problems(root)
        if problems:
            raise ReplayFixturesError(
                f"not a usable fixtures directory: {'; '.join(problems)}. Expected the folder "
                "that holds jolpica/, fastf1/ and fastf1-synthetic/ (shared/fixtures)."
            )
        ergast: dict[str, Path] = {}
        for folder in (root / "fastf1/ergast/f1", root / "jolpica/ergast/f1"):
            ergast.update({name.lower(): file for name, file in _files(folder).items()})
        static = {name: (file, False) for name, file in _files(root / "fastf1/static").items()}
        if (root / SYNTHETIC).is_dir():
            static.update({name: (file, True) for name, file in _files(root / SYNTHETIC).items()})
        return cls(
            root=root,
            ergast=ergast,
            static=static,
            schedule=_files(root / "fastf1/f1schedule"),
            csv_dir=root / "jolpica/csv",
        )

    def recording(self, path: str, query: Iterable[tuple[str, str]]) -> Path | None:
        name = recording_name(path, query)
        return None if name is None else self.ergast.get(name.lower())

    def counts(self) -> dict[str, int]:
        return {
            "recordings": len(self.ergast),
            "static_files": len(self.static),
            "synthetic_files": sum(1 for _, synthetic in self.static.values() if synthetic),
            "schedules": len(self.schedule),
        }
