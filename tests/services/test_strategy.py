"""StrategyService on the 2018 Azerbaijan GP: stints, order, stops and paces against FastF1."""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from collections.abc import Sequence
from typing import Any

import pandas as pd
import pytest

from pypole_gql.domain.strategy import ClassificationSource, RaceStrategy
from pypole_gql.errors import NotFound
from pypole_gql.services.f1 import F1Service
from pypole_gql.services.strategy import StrategyService
from tests.plugins.fastf1 import OracleLoader, SessionsApp
from tests.services.frontend_support import Csv

YEAR, RACE = 2018, "Baku"
#: What FastF1 puts in ``Compound`` when it does not know (besides NaN).
NO_COMPOUND = ("nan", "UNKNOWN", "TEST_UNKNOWN")


def _service(app: SessionsApp, f1: F1Service | None = None) -> StrategyService:
    return StrategyService(app.resources.sessions, f1 or app.resources.f1)


def _oracle_stints(session: Any) -> dict[str, list[tuple[int, str | None, int, int, int]]]:
    """code -> [(stint, compound of its first lap with one, first lap, last lap, laps)]."""
    laps = session.laps[session.laps["Stint"].notna()]
    found: dict[str, list[tuple[int, str | None, int, int, int]]] = {}
    for (code, stint), group in laps.groupby(["Driver", "Stint"], sort=False):
        compounds = group["Compound"].dropna()
        compounds = compounds[~compounds.isin(NO_COMPOUND)]
        found.setdefault(str(code), []).append(
            (
                int(stint),
                None if compounds.empty else str(compounds.iloc[0]),
                int(group["LapNumber"].min()),
                int(group["LapNumber"].max()),
                len(group),
            )
        )
    return {code: sorted(rows) for code, rows in found.items()}


def _same_rows(found: Sequence[tuple[float, ...]], expected: Sequence[tuple[float, ...]]) -> None:
    assert len(found) == len(expected)
    for ours, theirs in zip(found, expected, strict=True):
        assert ours == pytest.approx(theirs)


def _finite_numbers(report: RaceStrategy) -> list[float]:
    numbers: list[float] = []

    def walk(value: Any) -> None:
        if isinstance(value, float):
            numbers.append(value)
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            for f in dataclasses.fields(value):
                walk(getattr(value, f.name))
        elif isinstance(value, tuple | list):
            for item in value:
                walk(item)

    walk(report)
    return numbers


async def test_stints_and_order_equal_fastf1(
    sessions_app: SessionsApp, fastf1_oracle: OracleLoader
) -> None:
    report = await _service(sessions_app).race(YEAR, RACE)
    session = fastf1_oracle(YEAR, RACE, "R")
    stints = _oracle_stints(session)

    assert report.classification is ClassificationSource.FASTF1
    assert {
        s.driver: [(t.stint, t.compound, t.start_lap, t.end_lap, t.lap_count) for t in s.stints]
        for s in report.driver_strategies
    } == stints
    order = [
        r.Abbreviation
        for r in session.results.sort_values("Position").itertuples()
        if r.Abbreviation in stints
    ]
    assert [s.driver for s in report.driver_strategies] == order
    positions = {r.Abbreviation: int(r.Position) for r in session.results.itertuples()}
    for s in report.driver_strategies:
        rows = stints[s.driver]
        compounds = [c for _, c, _, _, _ in rows if c]
        assert s.position == positions[s.driver]
        assert s.num_stops == len(rows) - 1
        assert s.total_laps == max(last for _, _, _, last, _ in rows)
        assert s.compounds_used == tuple(dict.fromkeys(compounds))
        assert s.strategy_name == f"{len(rows) - 1}-stop ({'-'.join(compounds)})"


async def test_pit_stops_and_groups(sessions_app: SessionsApp, fastf1_oracle: OracleLoader) -> None:
    report = await _service(sessions_app).race(YEAR, RACE)
    session = fastf1_oracle(YEAR, RACE, "R")
    stints = _oracle_stints(session)
    # A stop is made on the last lap of the stint before it.
    in_laps = Counter(rows[i][3] for rows in stints.values() for i in range(len(rows) - 1))
    timing = report.pit_stop_timing
    assert [(c.lap, c.count) for c in timing.pit_stops_by_lap] == sorted(in_laps.items())
    assert [(c.lap, c.count) for c in timing.most_common_windows] == sorted(
        in_laps.items(), key=lambda item: (-item[1], item[0])
    )[:5]
    # ... which is where FastF1 records the pit entry.
    pit_in = Counter(
        int(lap)
        for lap in session.laps[session.laps["PitInTime"].notna()]["LapNumber"]
        if int(lap) < session.laps["LapNumber"].max()
    )
    assert set(in_laps) <= set(pit_in)

    positions = {r.Abbreviation: int(r.Position) for r in session.results.itertuples()}
    names = {s.driver: s.strategy_name for s in report.driver_strategies}
    groups: dict[str, list[str]] = {}
    for s in report.driver_strategies:
        groups.setdefault(names[s.driver], []).append(s.driver)
    assert {g.strategy: list(g.drivers) for g in report.strategies} == groups
    for g in report.strategies:
        assert g.avg_finishing_position == pytest.approx(
            sum(positions[d] for d in g.drivers) / len(g.drivers)
        )
    averages = [g.avg_finishing_position for g in report.strategies]
    assert averages == sorted(averages)
    assert report.best_strategy == report.strategies[0]
    summary = report.summary
    assert summary.total_drivers == len(stints)
    assert {c.num_stops: c.drivers for c in summary.strategy_distribution} == Counter(
        len(rows) - 1 for rows in stints.values()
    )


async def test_compound_performance_equals_fastf1(
    sessions_app: SessionsApp, fastf1_oracle: OracleLoader
) -> None:
    report = await _service(sessions_app).race(YEAR, RACE)
    laps = fastf1_oracle(YEAR, RACE, "R").laps
    known = laps["Compound"].notna() & ~laps["Compound"].isin(NO_COMPOUND)
    timed = laps[known & laps["LapTime"].notna()]
    seconds = timed["LapTime"].dt.total_seconds()
    expected = {
        str(compound): (float(s.mean()), float(s.min()), float(s.max()), len(s))
        for compound, s in seconds.groupby(timed["Compound"])
    }
    found = {
        c.compound: (c.avg_lap_time, c.fastest_lap, c.slowest_lap, c.total_laps)
        for c in report.compound_performance
    }
    assert found.keys() == expected.keys()
    for compound, values in expected.items():
        assert found[compound] == pytest.approx(values), compound
    fastest = min(expected, key=lambda c: expected[c][0])
    assert report.summary.fastest_compound == fastest
    assert report.summary.fastest_compound_avg_time == pytest.approx(expected[fastest][0])
    numbers = _finite_numbers(report)
    assert numbers and all(math.isfinite(n) for n in numbers)


async def test_driver_detail_equals_fastf1(
    sessions_app: SessionsApp, fastf1_oracle: OracleLoader
) -> None:
    detail = await _service(sessions_app).driver(YEAR, RACE, "ham")
    laps = fastf1_oracle(YEAR, RACE, "R").laps.pick_drivers("HAM")
    assert detail.driver.code == "HAM"
    performance = []
    degradation = []
    for stint, group in laps[laps["Stint"].notna()].groupby("Stint"):
        group = group.sort_values("LapNumber")
        times = [pd.Timedelta(t).value / 1e9 for t in group["LapTime"].dropna()]
        if not times:
            continue
        performance.append(
            (int(stint), len(group), sum(times) / len(times), min(times), max(times))
        )
        if len(times) >= 3:
            total = times[-1] - times[0]
            degradation.append((int(stint), len(times), total, total / (len(times) - 1)))
    _same_rows(
        [
            (p.stint, p.laps_completed, p.avg_lap_time, p.fastest_lap, p.slowest_lap)
            for p in detail.stint_performance
        ],
        performance,
    )
    _same_rows(
        [
            (d.stint, d.num_laps, d.total_degradation, d.degradation_per_lap)
            for d in detail.degradation
        ],
        degradation,
    )
    with pytest.raises(NotFound):
        await _service(sessions_app).driver(YEAR, RACE, "XYZ")


async def test_without_fastf1_positions_the_order_is_jolpicas(
    sessions_app: SessionsApp, replay_f1: F1Service, fixtures_csv: Csv
) -> None:
    data = await sessions_app.resources.sessions.session(YEAR, RACE, "R")
    anonymous = dataclasses.replace(
        data, drivers=tuple(dataclasses.replace(d, position=None) for d in data.drivers)
    )
    positions, source = await _service(sessions_app, replay_f1).classification(anonymous)
    assert source is ClassificationSource.JOLPICA
    expected = {r.driver: r.position for r in fixtures_csv.round_results(YEAR, data.info.round)}
    assert {d.driver_id: positions[d.number] for d in data.drivers if d.number in positions} == {
        d.driver_id: expected[d.driver_id] for d in data.drivers if d.driver_id in expected
    }
