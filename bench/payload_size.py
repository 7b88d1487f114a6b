"""The extracted payload of one session with and without issue 12's records.

``uv run python -m bench.payload_size [YEAR RACE KIND]`` (default the 2018 Azerbaijan race)
loads the session once with FastF1 from the replayed fixtures (``$PYPOLE_FIXTURES_DIR``),
then encodes the same :class:`SessionData` twice: as extracted, and with the results,
weather, race control and track status left empty (what the payload held before them).
Prints raw and zlib-compressed (the cache's level) sizes of both and the growth.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import tempfile
import zlib
from pathlib import Path

from pypole_gql.cache.envelope import ZLIB_LEVEL
from pypole_gql.replay import start_in_thread
from pypole_gql.upstream.fastf1 import decode_payload, encode_payload, load_session_payload
from tests.plugins.fastf1 import replay_config


def main(argv: list[str]) -> None:
    year, race, kind = (int(argv[0]), argv[1], argv[2]) if argv else (2018, "Baku", "R")
    fixtures = Path(os.environ.get("PYPOLE_FIXTURES_DIR", "../shared/fixtures")).resolve()
    with start_in_thread(fixtures) as handle, tempfile.TemporaryDirectory() as cache:
        config = replay_config(handle.url, Path(cache))
        payload = load_session_payload(config, year, race, kind, telemetry=True)
    data = decode_payload(payload)
    without = dataclasses.replace(data, results=(), weather=(), race_control=(), track_status=())
    sizes = {}
    for name, value in (("before (no records)", without), ("with records", data)):
        raw = encode_payload(value)
        sizes[name] = (len(raw), len(zlib.compress(raw, level=ZLIB_LEVEL)))
    print(
        f"{year} {race} {kind}: {len(data.results)} results, {len(data.weather)} weather, "
        f"{len(data.race_control)} race control, {len(data.track_status)} track status rows"
    )
    for name, (raw_size, packed) in sizes.items():
        print(f"{name:>20}: raw {raw_size:>10,} B   compressed {packed:>10,} B")
    (b_raw, b_packed), (a_raw, a_packed) = sizes.values()
    print(
        f"{'growth':>20}: raw {100 * (a_raw / b_raw - 1):+.1f} %   "
        f"compressed {100 * (a_packed / b_packed - 1):+.1f} %"
    )
    print(f"(the payload as the worker sent it: {len(payload):,} B)")


if __name__ == "__main__":
    main(sys.argv[1:])
