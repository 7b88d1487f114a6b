"""ErgastCsvDatabase against every recorded Jolpica response, and against oracle values.

The recordings come from three origins (see ``jolpica/README.md`` in the fixtures):
ergast.com, jolpica-f1's Django app on its test database ("testserver") and api.jolpi.ca
production (``jolpica/`` and ``fastf1/`` folders). Every recording the generator claims to
answer must equal it, key order included, once ``MRData.url``/``xmlns`` are set aside and the
differences listed in ``KNOWN_DIFFERENCES``, ``NORMALISERS`` and ``DIVERGENT_RECORDINGS`` are
applied; each entry there says why the CSV database cannot or should not match. An entry that
no longer matches anything fails the statistics test, so the lists cannot go stale.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from pypole_gql.replay.ergast import AFTER_LAST_RESULTS, ErgastCsvDatabase
from pypole_gql.replay.jolpica_forms import JolpicaForms, recorded_files
from tests.jolpica_oracle import oracle_for

Json = dict[str, Any]

REPO_ROOT = Path(__file__).resolve().parents[2]
REQUIRE_SERVICES = os.environ.get("PYPOLE_TEST_REQUIRE_SERVICES") == "1"

# ergast.com recorded ``2023/next`` after the 2023 finale and before the 2024 opener; the
# other recordings without a date only depend on ``now`` through that pair.
UNDATED_NOW = datetime(2024, 1, 15, tzinfo=UTC)


def _fixtures_root() -> Path:
    configured = os.environ.get("PYPOLE_FIXTURES_DIR")
    return Path(configured) if configured else REPO_ROOT.parent / "shared" / "fixtures"


@pytest.fixture(scope="module")
def fixtures_dir() -> Path:
    """The shared upstream fixtures; skip without them, or fail when services are required."""
    root = _fixtures_root()
    if not (root / "jolpica" / "csv" / "races.csv").is_file():
        reason = f"upstream fixtures not found at {root} (set PYPOLE_FIXTURES_DIR)"
        if REQUIRE_SERVICES:
            pytest.fail(f"{reason} (PYPOLE_TEST_REQUIRE_SERVICES=1)", pytrace=False)
        pytest.skip(reason)
    return root


@pytest.fixture(scope="module")
def database(fixtures_dir: Path) -> ErgastCsvDatabase:
    return ErgastCsvDatabase.load(fixtures_dir / "jolpica" / "csv")


@pytest.fixture(scope="module")
def csv_rows(fixtures_dir: Path) -> Callable[[str], list[dict[str, str]]]:
    cache: dict[str, list[dict[str, str]]] = {}

    def rows(name: str) -> list[dict[str, str]]:
        if name not in cache:
            with (fixtures_dir / "jolpica" / "csv" / name).open(encoding="utf-8") as handle:
                cache[name] = list(csv.DictReader(handle))
        return cache[name]

    return rows


def _table(body: Json) -> Json:
    mrdata = body["MRData"]
    (name,) = (key for key, value in mrdata.items() if isinstance(value, dict))
    table: Json = mrdata[name]
    return table


def _items(body: Json) -> list[Json]:
    (items,) = (value for value in _table(body).values() if isinstance(value, list))
    return list(items)


# -- recordings ------------------------------------------------------------------------------

ENDPOINT_NAMES = {
    "races",
    "results",
    "qualifying",
    "sprint",
    "driverstandings",
    "constructorstandings",
    "drivers",
    "constructors",
    "circuits",
    "seasons",
    "status",
    "laps",
    "pitstops",
}


@dataclass(frozen=True)
class Recording:
    file: Path
    path: str
    query: dict[str, str]
    origin: str
    now: datetime

    @property
    def key(self) -> str:
        query = "&".join(f"{name}={value}" for name, value in sorted(self.query.items()))
        return f"{self.path}?{query}" if query else self.path

    @property
    def endpoint(self) -> str:
        segments = [s.lower() for s in self.path.removesuffix(".json").split("/")]
        return next((s for s in reversed(segments) if s in ENDPOINT_NAMES), "races")


def _request_from_file(relative: str) -> tuple[str, dict[str, str]]:
    """Invert the fixtures' URL-to-file rule: ``2021/5/laps__limit-100.json``."""
    stem = relative.removesuffix(".json")
    path, *params = stem.split("__")
    query = dict(param.split("-", 1) for param in params)
    return f"{path}.json", query


def _origin(description: str) -> str:
    if description.startswith("ergast.com"):
        return "ergast"
    return "testserver" if "testserver" in description else "production"


def _recordings(root: Path) -> Iterator[Recording]:
    manifest = json.loads((root / "jolpica" / "manifest.json").read_text(encoding="utf-8"))
    for entry in manifest["responses"]:
        path, query = _request_from_file(entry["file"].removeprefix("ergast/f1/"))
        recorded_at = entry.get("recorded_at")
        now = datetime.fromisoformat(recorded_at).replace(tzinfo=UTC) if recorded_at else None
        yield Recording(
            root / "jolpica" / entry["file"],
            path,
            query,
            _origin(entry["origin"]),
            now or UNDATED_NOW,
        )
    fastf1 = json.loads((root / "fastf1" / "MANIFEST.json").read_text(encoding="utf-8"))
    for entry in fastf1:
        if not entry["file"].startswith("ergast/f1/"):
            continue
        path, query = _request_from_file(entry["file"].removeprefix("ergast/f1/"))
        yield Recording(
            root / "fastf1" / entry["file"],
            path,
            query,
            "production",
            datetime.fromisoformat(entry["recorded_at"]),
        )


RECORDINGS: list[Recording] = (
    list(_recordings(_fixtures_root()))
    if (_fixtures_root() / "jolpica" / "manifest.json").is_file()
    else []
)


# -- documented differences --------------------------------------------------------------------

MISSING: Any = type("Missing", (), {"__repr__": lambda self: "<missing>"})()


@dataclass(frozen=True)
class KnownDifference:
    """A field where the CSV database differs from Jolpica for a stated reason."""

    name: str
    reason: str
    where: str
    """Regex searched in the JSON path of the difference, e.g. ``.RaceTable.Races[0].url``."""
    accepts: Callable[[Any, Any], bool] = lambda expected, actual: True
    origins: frozenset[str] = frozenset({"ergast", "testserver", "production"})
    files: str = ""
    """Regex searched in the recording's request (path and query); empty: every recording."""

    def covers(self, recording: Recording, json_path: str, expected: Any, actual: Any) -> bool:
        return (
            recording.origin in self.origins
            and re.search(self.files, recording.key) is not None
            and re.search(self.where, json_path) is not None
            and self.accepts(expected, actual)
        )


def _wiki(expected: Any, actual: Any) -> bool:
    return all(isinstance(v, str) and "wikipedia.org/wiki/" in v for v in (expected, actual))


def _is(expected_value: Any, actual_value: Any) -> Callable[[Any, Any], bool]:
    return lambda expected, actual: expected == expected_value and actual == actual_value


LAPPED = re.compile(r"\+\d+ Laps?")
SESSIONS = r"Races\[\d+\]\.(FirstPractice|SecondPractice|ThirdPractice|Qualifying|Sprint\w*)$"

KNOWN_DIFFERENCES = (
    KnownDifference(
        "wikipedia-links",
        "Jolpica has since moved Wikipedia links to https and to renamed articles "
        "(Albert_Park_Circuit, ..._Formula_One_World_Championship); the CSV keeps Ergast's.",
        where=r"(^|\.)url$",
        accepts=_wiki,
    ),
    KnownDifference(
        "current-permanent-numbers",
        "Jolpica answers with a driver's current permanent number (recorded 2025-08 and "
        "2026-08: Verstappen 3, Norris 1, Bearman 87, Doohan 7); the CSV has the older ones.",
        where=r"\.Driver\.permanentNumber$",
        origins=frozenset({"production"}),
    ),
    KnownDifference(
        "lapped-status",
        "Status wording: the CSV has '+1 Lap', '+2 Laps' where Jolpica now says 'Lapped'.",
        where=r"\.status$",
        accepts=lambda expected, actual: expected == "Lapped" and bool(LAPPED.fullmatch(actual)),
    ),
    KnownDifference(
        "retired-status",
        "Status wording: Jolpica records 2025 retirements (and those of its 2023 test data) as "
        "'Retired', and non-starters as 'Did not start'; the CSV keeps the cause ('Accident', "
        "'Engine', 'Gearbox', ...).",
        where=r"\.status$",
        origins=frozenset({"testserver", "production"}),
        accepts=lambda expected, actual: (
            expected in ("Retired", "Did not start")
            and actual not in ("Finished", "Retired", "Did not start")
            and not LAPPED.fullmatch(actual)
        ),
    ),
    KnownDifference(
        "lapped-time",
        "Jolpica now gives lapped cars a race time from its own timing data (its test data "
        "and the 2026 production recordings); the CSV, like Ergast, has none.",
        where=r"\.Results\[\d+\]\.Time$",
        origins=frozenset({"testserver", "production"}),
        accepts=lambda expected, actual: actual is MISSING,
    ),
    KnownDifference(
        "disqualified-classification",
        "Jolpica's test data keeps Leclerc's finishing place (positionText '20') and fastest "
        "lap in the 2023 United States GP he was disqualified from; the CSV has 'D', no lap.",
        where=r"\.Races\[17\]\.Results\[0\]\.(positionText|FastestLap)$",
        origins=frozenset({"testserver"}),
        files=r"^2023/grid/1/results",
    ),
    KnownDifference(
        "pit-lane-grid",
        "A pit-lane start is grid 0 in the CSV; Jolpica's test data gave the two such 2023 "
        "Austrian GP drivers their grid slot.",
        where=r"\.grid$",
        accepts=lambda expected, actual: actual == "0" and expected != "0",
    ),
    KnownDifference(
        "sprint-fastest-rank",
        "sprint_results.csv has no fastest-lap rank for 2023 sprints; Jolpica has them from "
        "the Austrian GP on.",
        where=r"\.SprintResults\[\d+\]\.FastestLap\.rank$",
        accepts=lambda expected, actual: actual is MISSING,
    ),
    KnownDifference(
        "sprint-withdrawal",
        "The CSV marks a 2023 Azerbaijan sprint non-starter as withdrawn (W); Jolpica as R.",
        where=r"\.SprintResults\[\d+\]\.positionText$",
        origins=frozenset({"testserver", "production"}),
        accepts=_is("R", "W"),
    ),
    KnownDifference(
        "qualifying-missing-time",
        "The CSV has no Q time where Jolpica has one (2004 Australian GP Q1 of the last "
        "three, slow or deleted laps in 2023) or writes an empty one for a driver who ran in "
        "that part without setting a time; the CSV cannot tell those from not running.",
        where=r"\.QualifyingResults\[\d+\]\.Q[123]$",
        origins=frozenset({"testserver", "production"}),
        accepts=lambda expected, actual: actual is MISSING,
    ),
    KnownDifference(
        "united-states",
        "The CSV names the country of American circuits 'United States'; Jolpica 'USA'.",
        where=r"\.Location\.country$",
        accepts=_is("USA", "United States"),
    ),
    KnownDifference(
        "renamed-localities",
        "Jolpica renamed some circuit localities after the CSV snapshot (recorded 2026-08: "
        "Barcelona, Monte Carlo, Lusail).",
        where=r"\.Location\.locality$",
        origins=frozenset({"production"}),
        accepts=lambda expected, actual: (
            (expected, actual)
            in {("Barcelona", "Montmeló"), ("Monte Carlo", "Monte-Carlo"), ("Lusail", "Al Daayen")}
        ),
    ),
    KnownDifference(
        "qatar-2024-times",
        "races.csv has the 2024 Qatar GP's race, qualifying and sprint an hour late "
        "(17:00Z for a 16:00Z race start).",
        where=r"^\.RaceTable\.Races\[22\]\.(time|Qualifying\.time|Sprint\.time)$",
        origins=frozenset({"production"}),
        files=r"^2024\.json",
    ),
    KnownDifference(
        "missing-session-dates",
        "races.csv has no practice or qualifying dates for 2018 and 2019 and no session "
        "columns at all in its 2025 rows; Jolpica has them.",
        where=SESSIONS,
        origins=frozenset({"production"}),
        files=r"^(2018|2019|2025)(\.json|/races)",
        accepts=lambda expected, actual: actual is MISSING,
    ),
    KnownDifference(
        "corrected-race-times",
        "Jolpica has corrected these race times since the CSV's source (2003 Australian GP "
        "1:34:42.100 against .124; 2021 Belgian and 2022 British GP off by a millisecond).",
        where=r"\.Results\[\d+\]\.Time\.(millis|time)$",
        origins=frozenset({"production"}),
        files=r"^(2003/1|2021/12|2022/10)/results",
    ),
    KnownDifference(
        "manor-marussia",
        "Jolpica has a separate constructor 'manor' (Manor Marussia) for 2015; the CSV keeps "
        "'marussia'.",
        where=r"\.Constructor\.(constructorId|url|name|nationality)$",
        origins=frozenset({"production"}),
        files=r"^2015/",
    ),
    KnownDifference(
        "non-qualifiers-in-standings",
        "driver_standings.csv lists 41 drivers after 1980 R14, 7 of them non-qualifiers; "
        "Jolpica lists 34, so only the total differs on this first page.",
        where=r"^\.total$",
        origins=frozenset({"testserver"}),
        files=r"^1980/14/driverstandings",
        accepts=_is("34", "41"),
    ),
    KnownDifference(
        "status-recoded-totals",
        "Jolpica's test database re-coded 2023 statuses (316 'Finished' where the CSV has "
        "304), so only the total of these status/1 filters differs.",
        where=r"^\.total$",
        origins=frozenset({"testserver"}),
        files=r"^2023/status/1/(results|qualifying)",
        accepts=_is("316", "304"),
    ),
    KnownDifference(
        "ricciardo-pit-stop",
        "pit_stops.csv gives Ricciardo a copy of Leclerc's lap-23 stop in the 2023 United "
        "States GP; Jolpica has his real stop (lap 22, 14:41:51).",
        where=r"\.PitStops\[16\]\.(lap|time|duration)$",
        origins=frozenset({"testserver"}),
        files=r"^2023/18/pitstops",
    ),
    KnownDifference(
        "malaysia-2009-lapped-time",
        "The CSV gives a lapped car a time in the rain-stopped 2009 Malaysian GP; ergast.com "
        "did not.",
        where=r"\.Results\[0\]\.Time$",
        origins=frozenset({"ergast"}),
        files=r"^drivers/piquet_jr/results",
        accepts=lambda expected, actual: expected is MISSING,
    ),
)


@dataclass(frozen=True)
class Normaliser:
    """A rewrite of a recording into what Jolpica itself would answer."""

    name: str
    reason: str
    origins: frozenset[str]
    apply: Callable[[Json], bool]
    """Rewrites the recorded ``MRData`` in place; True when it changed something."""


def _sprint_shootout_name(mrdata: Json) -> bool:
    changed = False
    for race in mrdata.get("RaceTable", {}).get("Races", []):
        if race["season"] == "2023" and "Sprint" in race and "SecondPractice" in race:
            shootout = race.pop("SecondPractice")
            sprint = race.pop("Sprint")
            race["Sprint"], race["SprintShootout"] = sprint, shootout
            changed = True
    return changed


def _status_by_count(mrdata: Json) -> bool:
    statuses: list[Json] | None = mrdata.get("StatusTable", {}).get("Status")
    if not statuses:
        return False
    ordered = sorted(statuses, key=lambda s: (-int(s["count"]), s["status"]))
    mrdata["StatusTable"]["Status"] = ordered
    return ordered != statuses


NORMALISERS = (
    Normaliser(
        "ergast-sprint-shootout",
        "ergast.com showed the 2023 sprint shootout as SecondPractice (before Sprint); Jolpica "
        "names it SprintShootout and puts it after Sprint.",
        frozenset({"ergast"}),
        _sprint_shootout_name,
    ),
    Normaliser(
        "ergast-status-order",
        "ergast.com listed statuses by statusId; Jolpica lists the most frequent first.",
        frozenset({"ergast"}),
        _status_by_count,
    ),
)

# Recordings whose differences are not a few fields: the generator deliberately answers
# otherwise. They must still differ (else drop them here) and are reported apart.
DIVERGENT_RECORDINGS = {
    "2023/qualifying/1.json": "Jolpica's test fixture matches qualifying/N against the "
    "position in any of Q1/Q2/Q3 (41 rows); the generator keeps Ergast's meaning, the "
    "qualifying position, which jolpica-f1 issue #10 restored ('ergast parity').",
    "2023/12/qualifying/1.json": "as 2023/qualifying/1.json",
    "2023/12/qualifying/13.json": "as 2023/qualifying/1.json",
    "2023/qualifying.json": "Jolpica's test database orders 2023 Saudi Arabian GP "
    "qualifying differently (Verstappen P15 comes before P9), so the first page holds "
    "other rows; the production recordings follow the qualifying position, as generated.",
    "2023/status.json": "Jolpica's test database re-coded 2023 statuses (Lapped=143, "
    "Retired=31 absorbing most causes); the CSV keeps Ergast's ids and causes.",
    "2023/17/status.json": "as 2023/status.json",
    "2023/status/23/circuits.json": "as 2023/status.json (no 'Brakes' status left in Jolpica)",
    "2008/drivers/alonso/fastest/0/circuits.json": "ergast.com had fastest-lap rank 0 for "
    "all of Alonso's 2008 races when this was recorded; the CSV has the ranks.",
    "2023/drivers/alonso/fastest/0/seasons.json": "ergast.com had a rank 0 for Alonso in "
    "2023 when this was recorded; none of his 2023 results in the CSV has rank 0.",
}


# -- comparison --------------------------------------------------------------------------------


def _differences(expected: Any, actual: Any, path: str = "") -> Iterator[tuple[str, Any, Any]]:
    if isinstance(expected, dict) and isinstance(actual, dict):
        common = [key for key in expected if key in actual]
        if common != [key for key in actual if key in expected]:
            yield f"{path}{{order}}", list(expected), list(actual)
        for key in expected.keys() | actual.keys():
            yield from _differences(
                expected.get(key, MISSING), actual.get(key, MISSING), f"{path}.{key}"
            )
    elif isinstance(expected, list) and isinstance(actual, list):
        for index in range(max(len(expected), len(actual))):
            yield from _differences(
                expected[index] if index < len(expected) else MISSING,
                actual[index] if index < len(actual) else MISSING,
                f"{path}[{index}]",
            )
    elif expected != actual:
        yield path, expected, actual


@dataclass
class Comparison:
    status: str
    """equal, unsupported or divergent."""
    unexplained: list[tuple[str, Any, Any]] = field(default_factory=list)
    differences_used: Counter[str] = field(default_factory=Counter)
    normalisers_used: set[str] = field(default_factory=set)


def compare(database: ErgastCsvDatabase, recording: Recording) -> Comparison:
    generated = database.respond(recording.path, recording.query, recording.now)
    if generated is None:
        return Comparison("unsupported")
    expected = json.loads(recording.file.read_text(encoding="utf-8"))["MRData"]
    actual = dict(generated["MRData"])
    for key in ("url", "xmlns"):
        expected.pop(key)
        actual.pop(key)
    result = Comparison("equal")
    for normaliser in NORMALISERS:
        if recording.origin in normaliser.origins and normaliser.apply(expected):
            result.normalisers_used.add(normaliser.name)
    differences = list(_differences(expected, actual))
    if recording.key in DIVERGENT_RECORDINGS:
        result.status = "divergent"
        if not differences:
            result.unexplained.append(("<listed as divergent but equal>", None, None))
        return result
    for json_path, want, got in differences:
        known = next(
            (d for d in KNOWN_DIFFERENCES if d.covers(recording, json_path, want, got)), None
        )
        if known is None:
            result.unexplained.append((json_path, want, got))
        else:
            result.differences_used[known.name] += 1
    return result


def test_file_names_give_back_the_recorded_requests(fixtures_dir: Path) -> None:
    manifest = json.loads((fixtures_dir / "jolpica" / "manifest.json").read_text("utf-8"))
    for entry in manifest["responses"]:
        path, query = _request_from_file(entry["file"].removeprefix("ergast/f1/"))
        recorded = entry["request_path"].removeprefix("/ergast/f1/")
        # The README's rule maps .../races/, .../races and .../races.json to one file.
        assert path == recorded.rstrip("/").removesuffix(".json") + ".json"
        assert query == entry["query"]


@pytest.mark.parametrize(
    "recording", RECORDINGS or [None], ids=lambda r: f"{r.origin}:{r.key}" if r else "none"
)
def test_generator_matches_recording(
    fixtures_dir: Path, database: ErgastCsvDatabase, recording: Recording | None
) -> None:
    assert recording is not None, "fixtures found but no recordings listed"
    comparison = compare(database, recording)
    assert not comparison.unexplained, "\n".join(
        f"{path}: recorded {want!r}, generated {got!r}"
        for path, want, got in comparison.unexplained[:20]
    )


def test_recording_statistics(fixtures_dir: Path, database: ErgastCsvDatabase) -> None:
    """Every recording is compared or knowingly skipped, and no documented entry is stale."""
    by_endpoint: dict[str, Counter[str]] = defaultdict(Counter)
    used_differences: Counter[str] = Counter()
    used_normalisers: set[str] = set()
    for recording in RECORDINGS:
        comparison = compare(database, recording)
        by_endpoint[recording.endpoint][comparison.status] += 1
        used_differences.update(comparison.differences_used)
        used_normalisers |= comparison.normalisers_used
    totals = sum(by_endpoint.values(), Counter[str]())
    print(f"\nrecordings: {len(RECORDINGS)} {dict(totals)}")
    for endpoint, counts in sorted(by_endpoint.items()):
        print(f"  {endpoint:22} {dict(counts)}")
    print(f"  documented differences applied: {dict(used_differences)}")

    assert len(RECORDINGS) == 162
    assert totals["equal"] >= 120
    # Only laps (absent from the CSV database) are left unanswered.
    assert set(by_endpoint["laps"]) == {"unsupported"}
    assert sum(c["unsupported"] for e, c in by_endpoint.items() if e != "laps") == 0
    assert {d.name for d in KNOWN_DIFFERENCES} == set(used_differences)
    assert {n.name for n in NORMALISERS} == used_normalisers
    assert totals["divergent"] == len(DIVERGENT_RECORDINGS)


# -- Jolpica's current forms -------------------------------------------------------------------

#: The documented differences that are the CSV's forms against Jolpica's own: in the
#: ``jolpica`` forms none of them may be needed.
FORM_DIFFERENCES = frozenset(
    {
        "lapped-status",
        "retired-status",
        "lapped-time",
        "pit-lane-grid",
        "sprint-withdrawal",
        "missing-session-dates",
        "qatar-2024-times",
        "corrected-race-times",
    }
)
JOLPICA_RECORDINGS = [r for r in RECORDINGS if r.origin in ("testserver", "production")]


@pytest.fixture(scope="module")
def jolpica_database(fixtures_dir: Path, database: ErgastCsvDatabase) -> ErgastCsvDatabase:
    """The CSV database in Jolpica's current forms, as ``pypole replay --forms jolpica``."""
    forms = JolpicaForms.load(
        fixtures_dir / "jolpica" / "csv" / "jolpica_db_subset",
        recorded_files([fixtures_dir / "fastf1/ergast/f1", fixtures_dir / "jolpica/ergast/f1"]),
    )
    return database.with_forms(forms)


def test_form_differences_are_documented_differences() -> None:
    assert {d.name for d in KNOWN_DIFFERENCES} >= FORM_DIFFERENCES


@pytest.mark.parametrize(
    "recording",
    JOLPICA_RECORDINGS or [None],
    ids=lambda r: f"{r.origin}:{r.key}" if r else "none",
)
def test_jolpica_forms_match_recording_without_form_differences(
    jolpica_database: ErgastCsvDatabase, recording: Recording | None
) -> None:
    assert recording is not None, "fixtures found but no Jolpica recordings listed"
    comparison = compare(jolpica_database, recording)
    assert not comparison.unexplained, "\n".join(
        f"{path}: recorded {want!r}, generated {got!r}"
        for path, want, got in comparison.unexplained[:20]
    )
    assert not FORM_DIFFERENCES & set(comparison.differences_used), comparison.differences_used


def test_every_form_difference_is_seen_in_the_csv_forms(database: ErgastCsvDatabase) -> None:
    """The comparison above cannot pass for want of cases: the CSV forms need them all."""
    used: Counter[str] = Counter()
    for recording in JOLPICA_RECORDINGS:
        used.update(compare(database, recording).differences_used)
    assert set(used) >= FORM_DIFFERENCES, FORM_DIFFERENCES - set(used)


def test_jolpicas_database_alone_gives_the_recorded_2023_forms(
    fixtures_dir: Path, database: ErgastCsvDatabase
) -> None:
    # Without the recordings (which it would copy), jolpica-f1's database extract rendered
    # as Jolpica's serializer does must give what jolpica-f1's app and production answered
    # for 2023: Lapped with a time, Retired, grid slots of pit-lane starters, "R" sprint.
    forms = JolpicaForms.load(fixtures_dir / "jolpica" / "csv" / "jolpica_db_subset", ())
    extract = database.with_forms(forms)
    seen: Counter[str] = Counter()
    for recording in JOLPICA_RECORDINGS:
        if not recording.key.startswith("2023/"):
            continue
        comparison = compare(extract, recording)
        assert not comparison.unexplained, (recording.key, comparison.unexplained[:5])
        assert not FORM_DIFFERENCES & set(comparison.differences_used), recording.key
        seen.update(compare(database, recording).differences_used)
    # The CSV forms of the same recordings needed these: the extract really replaced them.
    assert {"lapped-status", "retired-status", "lapped-time", "pit-lane-grid"} <= set(seen)


# -- oracle values computed from the CSV -------------------------------------------------------

NOW = datetime(2025, 11, 10, tzinfo=UTC)


def _race_ids(csv_rows: Callable[[str], list[dict[str, str]]], season: int) -> dict[str, int]:
    """raceId -> round of a season, from races.csv."""
    return {
        row["raceId"]: int(row["round"])
        for row in csv_rows("races.csv")
        if int(row["year"]) == season
    }


def _points_by(
    csv_rows: Callable[[str], list[dict[str, str]]], season: int, column: str
) -> list[tuple[str, float]]:
    """A season's points summed from results and sprint results by driverId/constructorId,
    most first."""
    races = _race_ids(csv_rows, season)
    totals: dict[str, float] = defaultdict(float)
    for table in ("results.csv", "sprint_results.csv"):
        for row in csv_rows(table):
            if row["raceId"] in races:
                totals[row[column]] += float(row["points"])
    return sorted(totals.items(), key=lambda item: -item[1])


@pytest.mark.parametrize(
    ("season", "rounds", "drivers", "constructor"),
    [
        (2023, 22, [("VER", 575), ("PER", 285), ("HAM", 234)], ("red_bull", 860)),
        (2024, 24, [("VER", 437)], ("mclaren", 666)),
    ],
)
def test_final_standings_match_points_summed_from_results(
    database: ErgastCsvDatabase,
    csv_rows: Callable[[str], list[dict[str, str]]],
    season: int,
    rounds: int,
    drivers: list[tuple[str, int]],
    constructor: tuple[str, int],
) -> None:
    # The oracle is computed from results.csv + sprint_results.csv; the generator answers
    # from the standings tables, so the two are independent. The literals are the
    # fixtures README's values, a cross-check of the computation.
    assert len(_race_ids(csv_rows, season)) == rounds
    schedule = database.respond(str(season), {}, NOW)
    assert schedule is not None
    assert schedule["MRData"]["total"] == str(rounds)

    codes = {row["driverId"]: row["code"] for row in csv_rows("drivers.csv")}
    by_driver = _points_by(csv_rows, season, "driverId")
    oracle = [(codes[d], int(p)) for d, p in by_driver[: len(drivers)]]
    assert oracle == drivers
    body = database.respond(f"{season}/driverStandings.json", {}, NOW)
    assert body is not None
    (standings,) = _items(body)
    assert standings["round"] == str(rounds)
    generated = [
        (s["Driver"]["code"], int(float(s["points"])))
        for s in standings["DriverStandings"][: len(drivers)]
    ]
    assert generated == oracle

    refs = {row["constructorId"]: row["constructorRef"] for row in csv_rows("constructors.csv")}
    team_id, team_points = _points_by(csv_rows, season, "constructorId")[0]
    assert (refs[team_id], int(team_points)) == constructor
    body = database.respond(f"{season}/constructorstandings", {}, NOW)
    assert body is not None
    (standings,) = _items(body)
    leader = standings["ConstructorStandings"][0]
    assert (leader["Constructor"]["constructorId"], int(float(leader["points"]))) == constructor


def test_driver_standings_list_every_team_of_the_season(
    database: ErgastCsvDatabase, csv_rows: Callable[[str], list[dict[str, str]]]
) -> None:
    races = _race_ids(csv_rows, 2024)
    driver_id = next(r["driverId"] for r in csv_rows("drivers.csv") if r["driverRef"] == "bearman")
    refs = {row["constructorId"]: row["constructorRef"] for row in csv_rows("constructors.csv")}
    raced = sorted(
        (races[row["raceId"]], refs[row["constructorId"]])
        for row in csv_rows("results.csv")
        if row["raceId"] in races and row["driverId"] == driver_id
    )
    expected = list(dict.fromkeys(team for _, team in raced))
    assert len(expected) == 2

    body = database.respond("2024/drivers/bearman/driverStandings", {}, NOW)
    assert body is not None
    (standings,) = _items(body)
    (entry,) = standings["DriverStandings"]
    assert [c["constructorId"] for c in entry["Constructors"]] == expected
    first = database.respond(f"2024/{raced[0][0]}/drivers/bearman/driverStandings", {}, NOW)
    assert first is not None
    (early,) = _items(first)
    assert [c["constructorId"] for c in early["DriverStandings"][0]["Constructors"]] == [
        raced[0][1]
    ]


# -- pagination --------------------------------------------------------------------------------


def _season_result_rows(
    csv_rows: Callable[[str], list[dict[str, str]]], season: int
) -> list[tuple[str, str]]:
    """(round, driverRef) of every race result of a season, in Jolpica's order."""
    races = _race_ids(csv_rows, season)
    refs = {row["driverId"]: row["driverRef"] for row in csv_rows("drivers.csv")}
    rows = sorted(
        (races[row["raceId"]], int(row["positionOrder"]), refs[row["driverId"]])
        for row in csv_rows("results.csv")
        if row["raceId"] in races
    )
    return [(str(round_), ref) for round_, _, ref in rows]


def _page_rows(body: Json) -> list[tuple[str, str]]:
    return [
        (race["round"], result["Driver"]["driverId"])
        for race in _items(body)
        for result in race["Results"]
    ]


def test_total_counts_result_rows_and_pages_split_races(
    database: ErgastCsvDatabase, csv_rows: Callable[[str], list[dict[str, str]]]
) -> None:
    expected = _season_result_rows(csv_rows, 2023)
    first = database.respond("2023/results.json", {}, NOW)
    assert first is not None
    mrdata = first["MRData"]
    assert list(mrdata) == ["xmlns", "series", "url", "limit", "offset", "total", "RaceTable"]
    assert (mrdata["limit"], mrdata["offset"], mrdata["total"]) == ("30", "0", str(len(expected)))
    # 20 rows of round 1 and the first 10 of round 2; the next page starts with the rest.
    assert [(r["round"], len(r["Results"])) for r in _items(first)] == [("1", 20), ("2", 10)]
    second = database.respond("2023/results.json", {"offset": "30"}, NOW)
    assert second is not None
    assert [(r["round"], len(r["Results"])) for r in _items(second)] == [("2", 10), ("3", 20)]

    pages: list[tuple[str, str]] = []
    for offset in range(0, len(expected), 100):
        body = database.respond("2023/results", {"limit": "100", "offset": str(offset)}, NOW)
        assert body is not None
        pages.extend(_page_rows(body))
    assert pages == expected


def test_a_page_deep_in_a_season(
    database: ErgastCsvDatabase, csv_rows: Callable[[str], list[dict[str, str]]]
) -> None:
    expected = _season_result_rows(csv_rows, 2024)
    body = database.respond("2024/results.json", {"limit": "100", "offset": "200"}, NOW)
    assert body is not None
    assert body["MRData"]["total"] == str(len(expected)) == "479"
    assert _page_rows(body) == expected[200:300]


def test_limit_is_clamped_to_100(database: ErgastCsvDatabase) -> None:
    body = database.respond("2023/results.json", {"limit": "1000"}, NOW)
    assert body is not None
    assert body["MRData"]["limit"] == "100"
    assert sum(len(race["Results"]) for race in _items(body)) == 100


def test_offset_past_the_end_gives_an_empty_page(database: ErgastCsvDatabase) -> None:
    body = database.respond("2023/results.json", {"offset": "1000"}, NOW)
    assert body is not None
    assert (body["MRData"]["total"], body["MRData"]["offset"], _items(body)) == ("440", "1000", [])


def test_standings_total_counts_entries(database: ErgastCsvDatabase) -> None:
    body = database.respond("2023/driverstandings.json", {"limit": "5", "offset": "20"}, NOW)
    assert body is not None
    assert body["MRData"]["total"] == "22"
    (standings,) = _items(body)
    assert [s["position"] for s in standings["DriverStandings"]] == ["21", "22"]


# -- unknown rounds and malformed paths ---------------------------------------------------------


@pytest.mark.parametrize(
    ("endpoint", "table", "items"),
    [
        ("results", "RaceTable", "Races"),
        ("qualifying", "RaceTable", "Races"),
        ("sprint", "RaceTable", "Races"),
        ("races", "RaceTable", "Races"),
        ("drivers", "DriverTable", "Drivers"),
        ("constructors", "ConstructorTable", "Constructors"),
        ("circuits", "CircuitTable", "Circuits"),
        ("seasons", "SeasonTable", "Seasons"),
        ("status", "StatusTable", "Status"),
        ("driverStandings", "StandingsTable", "StandingsLists"),
        ("pitstops", "RaceTable", "Races"),
    ],
)
def test_an_unknown_round_is_an_empty_table(
    database: ErgastCsvDatabase, endpoint: str, table: str, items: str
) -> None:
    body = database.respond(f"2023/99/{endpoint}.json", {}, NOW)
    assert body is not None
    assert body["MRData"]["total"] == "0"
    assert body["MRData"][table] == {"season": "2023", "round": "99", items: []}


@pytest.mark.parametrize(
    "path",
    [
        "",
        "f1",
        "2023/abc/results.json",
        "20x3/results",
        "2023/results/abc",
        "2023/5/results/1/2",
        "2023/drivers",  # a valid path: kept here as the control
        "2023/5/laps.json",
        "2023/races/5",
        "2023/seasons/2023",
        "2023/grid/1",
        "2023/drivers/alonso/drivers/hamilton",
        "results/1/qualifying/x",
        "2023/driverstandings/1/races/",
        "2023/results.xml",
    ],
)
def test_malformed_or_unsupported_paths_are_refused(database: ErgastCsvDatabase, path: str) -> None:
    body = database.respond(path, {}, NOW)
    if path == "2023/drivers":
        assert body is not None
    else:
        assert body is None


def test_path_spellings_are_equivalent(database: ErgastCsvDatabase) -> None:
    def without_url(path: str) -> Json:
        body = database.respond(path, {}, NOW)
        assert body is not None
        return {k: v for k, v in body["MRData"].items() if k != "url"}

    assert without_url("2023") == without_url("2023/races/") == without_url("2023/races.json")
    assert without_url("2023/5/driverStandings.json") == without_url("2023/5/DRIVERSTANDINGS")
    assert without_url("/2023/5/constructorstandings/") == without_url(
        "2023/5/constructorStandings.json"
    )


# -- the schedule ------------------------------------------------------------------------------


def _race_row(
    csv_rows: Callable[[str], list[dict[str, str]]], season: int, round_: int
) -> dict[str, str]:
    return next(
        row
        for row in csv_rows("races.csv")
        if int(row["year"]) == season and int(row["round"]) == round_
    )


def _race(database: ErgastCsvDatabase, season: int, round_: int) -> Json:
    body = database.respond(f"{season}/{round_}.json", {}, NOW)
    assert body is not None
    (race,) = _items(body)
    return race


def _at(row: dict[str, str], column: str) -> Json:
    return {"date": row[f"{column}_date"], "time": row[f"{column}_time"] + "Z"}


def test_a_conventional_weekend_has_three_practices(
    database: ErgastCsvDatabase, csv_rows: Callable[[str], list[dict[str, str]]]
) -> None:
    row = _race_row(csv_rows, 2023, 1)
    race = _race(database, 2023, 1)
    assert list(race)[-4:] == ["FirstPractice", "SecondPractice", "ThirdPractice", "Qualifying"]
    assert race["time"] == row["time"] + "Z"
    assert race["SecondPractice"] == _at(row, "fp2")


@pytest.mark.parametrize(
    ("season", "round_", "name"), [(2023, 4, "SprintShootout"), (2024, 5, "SprintQualifying")]
)
def test_sprint_weekends_name_the_fp2_slot_after_the_sprint_format(
    database: ErgastCsvDatabase,
    csv_rows: Callable[[str], list[dict[str, str]]],
    season: int,
    round_: int,
    name: str,
) -> None:
    row = _race_row(csv_rows, season, round_)
    race = _race(database, season, round_)
    assert list(race)[-4:] == ["FirstPractice", "Qualifying", "Sprint", name]
    assert race[name] == _at(row, "fp2")
    assert race["Sprint"] == _at(row, "sprint")


def test_2022_sprint_weekends_kept_a_second_practice(database: ErgastCsvDatabase) -> None:
    race = _race(database, 2022, 4)
    assert list(race)[-4:] == ["FirstPractice", "SecondPractice", "Qualifying", "Sprint"]


# -- current, last and next --------------------------------------------------------------------


def _where(database: ErgastCsvDatabase, path: str, now: datetime) -> tuple[str, str | None]:
    body = database.respond(path, {}, now)
    assert body is not None
    table = _table(body)
    races = _items(body)
    if races:
        assert (races[0]["season"], races[0]["round"]) == (table["season"], table["round"])
    return table["season"], table.get("round")


def test_last_and_next_during_a_season(database: ErgastCsvDatabase) -> None:
    # Between the 2023 Austrian (R9, 2 July) and British (R10, 9 July) Grands Prix.
    now = datetime(2023, 7, 5, 12, tzinfo=UTC)
    assert _where(database, "current/last.json", now) == ("2023", "9")
    assert _where(database, "current/next.json", now) == ("2023", "10")
    assert _where(database, "last", now) == ("2023", "9")
    assert _where(database, "next", now) == ("2023", "10")
    assert _where(database, "2023/last", now) == ("2023", "9")
    assert _where(database, "2023/next", now) == ("2023", "10")
    body = database.respond("current.json", {}, now)
    assert body is not None
    assert (_table(body), body["MRData"]["total"]) == (
        {"season": "2023", "Races": _items(body)},
        "22",
    )


def test_a_race_counts_as_last_from_its_start(database: ErgastCsvDatabase) -> None:
    start = datetime(2023, 7, 9, 14, tzinfo=UTC)  # British GP, 14:00Z
    assert _where(database, "current/last", start.replace(minute=0, hour=13)) == ("2023", "9")
    assert _where(database, "current/last", start) == ("2023", "10")


def test_last_and_next_between_seasons(database: ErgastCsvDatabase) -> None:
    # As ergast.com recorded 2023/next: after the 2023 finale, before the 2024 opener.
    now = UNDATED_NOW
    assert _where(database, "2023/last", now) == ("2023", "22")
    assert _where(database, "2023/next", now) == ("2024", "1")
    assert _where(database, "current/last", now) == ("2023", "22")
    assert _where(database, "current/next", now) == ("2024", "1")
    body = database.respond("current/last/results.json", {}, now)
    assert body is not None
    assert _table(body)["round"] == "22"
    assert _items(body)[0]["Results"][0]["Driver"]["code"] == "VER"


def test_a_finished_season_has_no_next_race_in_it(database: ErgastCsvDatabase) -> None:
    now = datetime(2021, 6, 1, tzinfo=UTC)
    assert _where(database, "2021/last/constructorStandings", now) == ("2021", "5")
    assert _where(database, "2030/last", now) == ("2030", None)
    assert _where(database, "2030/next", now) == ("2030", None)


# -- the replay's default clock: just after the last race with results ------------------------


def test_after_last_results_is_the_day_after_the_last_scored_race(
    database: ErgastCsvDatabase, fixtures_dir: Path
) -> None:
    oracle = oracle_for(fixtures_dir / "jolpica" / "csv")
    season, round_ = oracle.last_race_with_results()
    following = oracle.race_after(season, round_)
    assert following is not None  # the fixtures' calendar goes on past their results
    assert oracle.race_start(*following) > oracle.race_start(season, round_) + AFTER_LAST_RESULTS

    now = database.after_last_results()

    assert now == oracle.race_start(season, round_) + AFTER_LAST_RESULTS
    assert _where(database, "current/last.json", now) == (str(season), str(round_))
    assert _where(database, "current/next.json", now) == tuple(map(str, following))
    body = database.respond("current.json", {}, now)
    assert body is not None
    assert [int(race["round"]) for race in _items(body)] == oracle.rounds(season)


def test_after_last_results_stays_before_a_race_within_the_day(
    fixtures_dir: Path, tmp_path: Path
) -> None:
    """A next race starting sooner than a day after: the clock stops a second before it."""
    csv_dir = tmp_path / "csv"
    shutil.copytree(fixtures_dir / "jolpica" / "csv", csv_dir)
    oracle = oracle_for(fixtures_dir / "jolpica" / "csv")
    last = oracle.last_race_with_results()
    following = oracle.race_after(*last)
    assert following is not None
    soon = oracle.race_start(*last) + timedelta(hours=5)
    races = csv_dir / "races.csv"
    with races.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    header = rows[0]
    year, round_, date, time_ = (header.index(c) for c in ("year", "round", "date", "time"))
    for row in rows[1:]:
        if (int(row[year]), int(row[round_])) == following:
            row[date], row[time_] = soon.strftime("%Y-%m-%d"), soon.strftime("%H:%M:%S")
    with races.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)

    now = ErgastCsvDatabase.load(csv_dir).after_last_results()

    assert now == soon - timedelta(seconds=1)


# -- performance -------------------------------------------------------------------------------


def test_load_and_season_wide_answers_are_fast(fixtures_dir: Path) -> None:
    started = time.perf_counter()
    database = ErgastCsvDatabase.load(fixtures_dir / "jolpica" / "csv")
    loaded = time.perf_counter() - started
    timings = []
    for path in ("2023/results", "2023/driverStandings", "2024/qualifying", "2024"):
        started = time.perf_counter()
        assert database.respond(path, {"limit": "100"}, NOW) is not None
        timings.append(time.perf_counter() - started)
    pages = ", ".join(f"{t * 1000:.1f} ms" for t in timings)
    print(f"\nload {loaded:.2f} s; season-wide pages of 100: {pages}")
    # Generous bounds for a shared CI machine; measured here about 0.6 s and a few ms.
    assert loaded < 5
    assert max(timings) < 0.1
