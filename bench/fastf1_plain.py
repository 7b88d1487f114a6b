"""The baseline of figure 4: FastF1 loading a session in a plain script, no server.

    python -m bench.fastf1_plain --replay URL --cache-dir DIR 2018 Azerbaijan R

FastF1 is pointed at the replay exactly as the app's worker points it
(:class:`~pypole_gql.upstream.fastf1.FastF1Config`: same upstream URLs, no rate limiter on
loopback, FastF1's HTTP cache in ``DIR``, which should be empty for a cold load) and loads
the session with the app's flags (laps, telemetry, messages; no weather). Prints one JSON
object: seconds spent importing FastF1, in ``get_session`` + ``load``, and in all (from
the interpreter's start), the laps and car-data samples loaded, and the process's peak RSS.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    started = time.perf_counter()
    parser = argparse.ArgumentParser(prog="python -m bench.fastf1_plain")
    parser.add_argument("year", type=int)
    parser.add_argument("race")
    parser.add_argument("session_type")
    parser.add_argument("--replay", required=True, help="base URL of the replay upstream")
    parser.add_argument("--cache-dir", required=True)
    parser.add_argument("--no-telemetry", action="store_true")
    args = parser.parse_args(argv)

    import fastf1

    from pypole_gql.upstream.fastf1 import FastF1Config

    replay = args.replay.rstrip("/")
    FastF1Config(
        cache_dir=Path(args.cache_dir),
        livetiming_url=replay,
        schedule_url=f"{replay}/f1schedule",
        jolpica_url=f"{replay}/ergast/f1",
    ).apply()
    imported = time.perf_counter()
    race: int | str = int(args.race) if args.race.isdigit() else args.race
    session = fastf1.get_session(args.year, race, args.session_type)
    telemetry = not args.no_telemetry
    session.load(laps=True, telemetry=telemetry, weather=False, messages=True)
    loaded = time.perf_counter()
    samples = 0
    if telemetry:
        samples = sum(len(frame) for frame in session.car_data.values())
    json.dump(
        {
            "import_seconds": round(imported - started, 3),
            "load_seconds": round(loaded - imported, 3),
            "total_seconds": round(loaded - started, 3),
            "laps": len(session.laps),
            "car_samples": samples,
            "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        },
        sys.stdout,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
