"""One loaded F1 session (FastF1 data) and the questions the app asks of it.

Everything here is plain data plus pure functions: no FastF1, no pandas, no I/O. A
:class:`SessionData` (:mod:`.model`) is built once per session by the FastF1 worker,
shipped as a compact payload and decoded in the server process; each module answers
one kind of question from it:

* :mod:`.laps`: laps by driver and number, the fastest lap;
* :mod:`.stints`: stints and their average lap and pace times;
* :mod:`.telemetry`: one lap's car telemetry;
* :mod:`.records`: results, weather, race control messages, track status;
* :mod:`.pits`: pit stops from the laps' pit-lane times;
* :mod:`.positions`: lap-by-lap position, gap to the leader, interval;
* :mod:`.track_map`: one lap's position samples;
* :mod:`.compare`: laps on one distance axis with the time delta;
* :mod:`.lap_frames`: every car's position and place at each lap's end (a replay).
"""

from pypole_gql.domain.sessions.compare import ComparedLap, LapComparison, compare
from pypole_gql.domain.sessions.lap_frames import CarAtLapEnd, LapFrame, lap_frames
from pypole_gql.domain.sessions.laps import fastest_lap, find_lap, select_laps
from pypole_gql.domain.sessions.model import (
    SESSION_TYPES,
    BoolArray,
    FloatArray,
    IntArray,
    Lap,
    RaceControlMessage,
    SessionData,
    SessionDriver,
    SessionInfo,
    SessionResult,
    Stint,
    Trace,
    TrackStatusChange,
    WeatherSample,
    driver_numbers,
    elapsed,
    require_driver,
    seconds_to_ns,
)
from pypole_gql.domain.sessions.pits import PitStop, pit_stops, with_jolpica_durations
from pypole_gql.domain.sessions.positions import LapPosition, positions
from pypole_gql.domain.sessions.records import race_control, results, track_status, weather
from pypole_gql.domain.sessions.stints import (
    QUICKLAP_THRESHOLD,
    compute_stints,
    quick_lap_limit,
    select_stints,
)
from pypole_gql.domain.sessions.telemetry import Telemetry, lap_telemetry
from pypole_gql.domain.sessions.track_map import TrackMap, track_map

__all__ = [
    "QUICKLAP_THRESHOLD",
    "SESSION_TYPES",
    "BoolArray",
    "CarAtLapEnd",
    "ComparedLap",
    "FloatArray",
    "IntArray",
    "Lap",
    "LapComparison",
    "LapFrame",
    "LapPosition",
    "PitStop",
    "RaceControlMessage",
    "SessionData",
    "SessionDriver",
    "SessionInfo",
    "SessionResult",
    "Stint",
    "Telemetry",
    "Trace",
    "TrackMap",
    "TrackStatusChange",
    "WeatherSample",
    "compare",
    "compute_stints",
    "driver_numbers",
    "elapsed",
    "fastest_lap",
    "find_lap",
    "lap_frames",
    "lap_telemetry",
    "pit_stops",
    "positions",
    "quick_lap_limit",
    "race_control",
    "require_driver",
    "results",
    "seconds_to_ns",
    "select_laps",
    "select_stints",
    "track_map",
    "track_status",
    "weather",
    "with_jolpica_durations",
]
