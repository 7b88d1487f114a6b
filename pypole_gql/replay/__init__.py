"""The offline replay upstream used by tests and demos (see :mod:`pypole_gql.replay.server`)."""

from pypole_gql.replay.faults import Fault
from pypole_gql.replay.fixtures import ReplayFixturesError, fixture_problems
from pypole_gql.replay.generator import REPLAY_FORMS, ReplayForms
from pypole_gql.replay.matching import RequestMatch
from pypole_gql.replay.recorder import RequestRecord
from pypole_gql.replay.running import ReplayThread, run_replay, start_in_thread
from pypole_gql.replay.server import FIXTURES_NOW, ReplayNow, ReplayServer

__all__ = [
    "FIXTURES_NOW",
    "REPLAY_FORMS",
    "Fault",
    "ReplayFixturesError",
    "ReplayForms",
    "ReplayNow",
    "ReplayServer",
    "ReplayThread",
    "RequestMatch",
    "RequestRecord",
    "fixture_problems",
    "run_replay",
    "start_in_thread",
]
