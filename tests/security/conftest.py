"""What the GraphQL abuse tests share: the app on the replay, and a count of service calls.

"Refused cheaply" is asserted, not timed: a refused request must reach no service method
(:func:`service_calls`) and no upstream (the replay's request log stays empty).
"""

from __future__ import annotations

import functools
import inspect
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
import pytest

from pypole_gql.auth.service import AuthService
from pypole_gql.services.f1 import F1Service
from pypole_gql.services.sessions import SessionService
from tests.plugins.app import ClientFactory
from tests.plugins.replay import Replay

#: Every service a GraphQL resolver calls.
SERVICES = (AuthService, F1Service, SessionService)
_NOT_REQUEST_WORK = frozenset({"aclose", "close"})

ReplayApp = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


def _counting(function: Callable[..., Any], name: str, calls: list[str]) -> Callable[..., Any]:
    if inspect.iscoroutinefunction(function):

        @functools.wraps(function)
        async def counted_async(*args: Any, **kwargs: Any) -> Any:
            calls.append(name)
            return await function(*args, **kwargs)

        return counted_async

    @functools.wraps(function)
    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(name)
        return function(*args, **kwargs)

    return counted


@pytest.fixture
def service_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of the service methods called so far (``F1Service.schedule``...), in order."""
    calls: list[str] = []
    for service in SERVICES:
        for name, member in list(vars(service).items()):
            if name.startswith("_") or name in _NOT_REQUEST_WORK:
                continue
            if inspect.isfunction(member):
                label = f"{service.__name__}.{name}"
                monkeypatch.setattr(service, name, _counting(member, label, calls))
    return calls


@pytest.fixture
def replay_app(make_client: ClientFactory, replay: Replay) -> ReplayApp:
    """``replay_app(**settings)``: the real app with every upstream on the replay server."""

    @asynccontextmanager
    async def factory(**overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
        values: dict[str, Any] = {
            "jolpica_url": f"{replay.url}/ergast/f1",
            "livetiming_url": replay.url,
            "schedule_url": f"{replay.url}/f1schedule",
            "jolpica_rate": "1000/second",
            "redis_namespace": f"pypole-test-{uuid.uuid4().hex[:10]}",
        }
        values.update(overrides)
        async with make_client(**values) as client:
            yield client

    return factory


def error_of(body: dict[str, Any]) -> dict[str, Any]:
    """The only error of a GraphQL response (fails when there are none or several)."""
    errors = body.get("errors")
    assert isinstance(errors, list) and len(errors) == 1, body
    error: dict[str, Any] = errors[0]
    return error
