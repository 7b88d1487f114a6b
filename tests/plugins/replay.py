"""The replay upstream for tests (``pypole_gql.replay``), one server per test session.

Fixtures:

- ``fixtures_dir`` (session): ``$PYPOLE_FIXTURES_DIR``, by default ``<repo>/../shared/fixtures``.
  Missing or incomplete: the test is skipped with the reason, or fails when
  ``PYPOLE_TEST_REQUIRE_SERVICES=1``.
- ``replay`` (session): a :class:`Replay`, the server running in a background thread.
  Every test that uses it, directly or through another fixture, starts and ends with an
  empty request log and no faults.

``Replay``::

    replay.url                                  # http://127.0.0.1:PORT
    replay.server                               # the ReplayServer, for anything else
    replay.requests("/ergast/f1/2023/*")        # RequestRecords, oldest first
    replay.requests(prefix="/ergast/", query={"offset": "30"})
    replay.count(re.compile(r"/laps"), method="GET")
    with replay.fault("/ergast/*", status=503, times=1):
        ...                                     # the fault is removed on leaving the block
    replay.fault(prefix="/static/", delay=2.0)  # or kept until the end of the test
    with replay.forms("jolpica"):               # generated answers in Jolpica's current
        ...                                     # forms ("recorded": the recordings alone)
    replay.reset()

A ``pattern`` is a glob when it is a ``str`` (``*`` also crosses ``/``) and a regex
(``re.search``) when it is a compiled pattern; it is matched against the decoded path,
without the query string. ``prefix``, ``method`` and ``query`` (items that must be in the
request's query) narrow it further. Faults: ``delay`` (seconds, combinable with one other),
``status`` (a 429 carries ``Retry-After``: ``retry_after`` or 1), ``drop`` (connection
closed, no response), ``broken_body`` (200 with half the body); ``times`` limits how many
requests a fault applies to (``None``: until removed). A record's ``target`` is its path and
query string, ``time`` its arrival in epoch seconds. Every test starts in the ``csv`` forms
(``REPLAY_FORMS``); an app that cached a table in other forms must not outlive the block.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

import pytest

from pypole_gql.replay import (
    Fault,
    ReplayThread,
    RequestMatch,
    RequestRecord,
    fixture_problems,
    start_in_thread,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_FIXTURES = REPO_ROOT.parent / "shared" / "fixtures"

Pattern = str | re.Pattern[str] | None


class ActiveFault:
    """A fault already in force; leaving its ``with`` block (or :meth:`remove`) ends it."""

    def __init__(self, replay: Replay, fault_id: int) -> None:
        self._replay = replay
        self.id = fault_id

    def remove(self) -> None:
        self._replay.server.remove_fault(self.id)

    def __enter__(self) -> ActiveFault:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.remove()


class Replay:
    """What tests use of the replay server; see the module docstring."""

    def __init__(self, handle: ReplayThread) -> None:
        self.server = handle.server
        self.url = handle.url

    def requests(
        self,
        pattern: Pattern = None,
        *,
        prefix: str | None = None,
        method: str | None = None,
        query: Mapping[str, str] | None = None,
    ) -> list[RequestRecord]:
        match = RequestMatch.of(pattern, prefix=prefix, method=method, query=query)
        return self.server.requests(match)

    def count(
        self,
        pattern: Pattern = None,
        *,
        prefix: str | None = None,
        method: str | None = None,
        query: Mapping[str, str] | None = None,
    ) -> int:
        return len(self.requests(pattern, prefix=prefix, method=method, query=query))

    def fault(
        self,
        pattern: Pattern = None,
        *,
        prefix: str | None = None,
        method: str | None = None,
        query: Mapping[str, str] | None = None,
        delay: float = 0.0,
        status: int | None = None,
        retry_after: int | None = None,
        drop: bool = False,
        broken_body: bool = False,
        times: int | None = None,
    ) -> ActiveFault:
        fault = Fault(
            match=RequestMatch.of(pattern, prefix=prefix, method=method, query=query),
            delay=delay,
            status=status,
            retry_after=retry_after,
            drop=drop,
            broken_body=broken_body,
            times=times,
        )
        return ActiveFault(self, self.server.add_fault(fault))

    @contextmanager
    def forms(self, forms: str) -> Iterator[None]:
        """Generated answers in ``forms`` inside the block, the starting forms after it."""
        previous = self.server.forms
        self.server.set_forms(forms)
        try:
            yield
        finally:
            self.server.set_forms(previous)

    def reset(self) -> None:
        self.server.reset()


def _unavailable(reason: str) -> None:
    if os.environ.get("PYPOLE_TEST_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason} (PYPOLE_TEST_REQUIRE_SERVICES=1)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    root = Path(os.environ.get("PYPOLE_FIXTURES_DIR") or DEFAULT_FIXTURES).resolve()
    problems = fixture_problems(root)
    if problems:
        _unavailable(f"replay fixtures unusable ({'; '.join(problems)}); set PYPOLE_FIXTURES_DIR")
    return root


@pytest.fixture(scope="session")
def replay(fixtures_dir: Path) -> Iterator[Replay]:
    with start_in_thread(fixtures_dir) as handle:
        yield Replay(handle)


@pytest.fixture(autouse=True)
def _replay_isolation(request: pytest.FixtureRequest) -> Iterator[None]:
    """A clean log and no faults around every test that uses ``replay``; others never start it."""
    if "replay" not in request.fixturenames:
        yield
        return
    replay = request.getfixturevalue("replay")
    if not isinstance(replay, Replay):  # a conftest overrides the name with something else
        yield
        return
    replay.reset()
    yield
    replay.reset()
