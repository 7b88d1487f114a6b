"""Fixtures of the frontend services' tests (defined in ``frontend_support``)."""

from tests.services.frontend_support import (
    f1_factory,
    fixtures_csv,
    replay_f1,
    replay_now,
)

__all__ = ["f1_factory", "fixtures_csv", "replay_f1", "replay_now"]
