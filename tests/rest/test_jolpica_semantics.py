"""``/api/v1/jolpica`` passes Jolpica's objects through in whichever form Jolpica sends.

The REST shim does not normalise (GraphQL does): a standing keeps Jolpica's ``position``
next to its ``positionText``, a result its ``grid``, ``status`` and ``Time`` as sent. With
the replay's ``recorded`` forms the bodies are production's own, served again for the
app's page requests, and must come out of the shim unchanged. Expected values come from
the CSV and the recorded files.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.jolpica_support import ClientFactory, jolpica_app
from tests.plugins.replay import Replay
from tests.semantics_support import RECORDED_RACES, RECORDED_SCHEDULES, CsvFacts, mrdata

API = "/api/v1/jolpica"


@pytest.fixture(scope="module")
def facts(fixtures_dir: Path) -> CsvFacts:
    return CsvFacts(fixtures_dir)


async def test_excluded_standings_keep_jolpicas_position_and_position_text(
    make_client: ClientFactory, replay: Replay, facts: CsvFacts
) -> None:
    async with jolpica_app(make_client, replay) as client:
        drivers = await client.get(f"{API}/standings/drivers", params={"season": 1997})
        teams = await client.get(
            f"{API}/standings/constructors", params={"season": 2007, "round": 5}
        )
        early = await client.get(f"{API}/standings/drivers", params={"season": 2025, "round": 1})
    for response, kind, season, round_, entrant, id_key in (
        (drivers, "drivers", 1997, None, "Driver", "driverId"),
        (teams, "constructors", 2007, 5, "Constructor", "constructorId"),
        (early, "drivers", 2025, 1, "Driver", "driverId"),
    ):
        assert response.status_code == 200, response.text
        expected = {
            ref: (text, sent)
            for ref, (_, text, sent) in facts.standings(kind, season, round_).items()
        }
        assert any(not text.isdigit() for text, _ in expected.values())
        got = {
            row[entrant][id_key]: (row["positionText"], row.get("position"))
            for row in response.json()["standings"]
        }
        assert got == expected, (kind, season, round_)


@pytest.mark.parametrize("forms", ["jolpica", "recorded"])
async def test_results_are_jolpicas_own_rows(
    make_client: ClientFactory, replay: Replay, fixtures_dir: Path, forms: str
) -> None:
    with replay.forms(forms):
        async with jolpica_app(make_client, replay) as client:
            responses = {
                (season, round_): await client.get(f"{API}/results/{season}/{round_}")
                for season, round_, key, _ in RECORDED_RACES
                if key == "Results"
            }
    for season, round_, key, relative in RECORDED_RACES:
        if key != "Results":
            continue
        response = responses[(season, round_)]
        assert response.status_code == 200, response.text
        (recorded,) = mrdata(fixtures_dir, relative)["RaceTable"]["Races"]
        race = response.json()["race"]
        if forms == "recorded":
            # Production's (or jolpica-f1's) object, byte for byte through the whole server.
            assert race == recorded
            continue
        fields = ("position", "positionText", "grid", "laps", "status", "Time")
        assert [{k: row.get(k) for k in fields} for row in race["Results"]] == [
            {k: row.get(k) for k in fields} for row in recorded["Results"]
        ]


async def test_recorded_schedules_pass_through_with_day_only_sessions(
    make_client: ClientFactory, replay: Replay, fixtures_dir: Path
) -> None:
    with replay.forms("recorded"):
        async with jolpica_app(make_client, replay) as client:
            responses = {
                year: await client.get(f"{API}/schedule/{year}") for year in RECORDED_SCHEDULES
            }
    for year, relative in RECORDED_SCHEDULES.items():
        response = responses[year]
        assert response.status_code == 200, response.text
        recorded = mrdata(fixtures_dir, relative)["RaceTable"]["Races"]
        assert response.json() == {"season": year, "races": recorded}
        sessions = [
            value for race in recorded for value in race.values() if isinstance(value, dict)
        ]
        # 2018 and 2019: every practice and qualifying a day without a time; 2025: timed.
        assert {("time" in s) for s in sessions if "date" in s} == {year == 2025}
