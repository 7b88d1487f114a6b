"""FastF1 tests share the oracle and replay helpers of ``tests/plugins/fastf1.py``."""

from tests.plugins.fastf1 import OracleLoader, replay_config

__all__ = ["OracleLoader", "replay_config"]
