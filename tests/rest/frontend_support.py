"""Shared pieces of the REST tests of the frontend's routes: the app on the replay with the
prediction clock set, and each body checked against the model its route declares."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from pydantic import TypeAdapter

from pypole_gql.resources import Resources
from pypole_gql.services.predictions import PredictionService
from pypole_gql.services.widgets import WidgetService
from tests.plugins.app import running_app, test_settings
from tests.services.frontend_support import NOW, Csv, csv_for, fixtures_csv

__all__ = ["NOW", "Csv", "FrontendApp", "conforms", "csv_for", "fixtures_csv", "frontend_app"]


def conforms(model: Any, body: Any) -> None:
    """``body`` is valid for ``model`` (a model or a union of them), extra fields refused."""
    TypeAdapter(model).validate_python(body)


@dataclass
class FrontendApp:
    client: httpx.AsyncClient
    resources: Resources


@asynccontextmanager
async def frontend_app(
    tmp_path: Path, replay: Any, *, now: datetime | None = None, **settings: Any
) -> AsyncIterator[FrontendApp]:
    """The whole app on the replay's Jolpica. ``now``: the moment predictions open and close
    against (the fixtures' races are all past by the wall clock); the rest is unchanged."""
    values: dict[str, Any] = {
        "jolpica_url": f"{replay.url}/ergast/f1",
        "jolpica_rate": "1000/second",
        "redis_namespace": f"pypole-test-{uuid.uuid4().hex[:10]}",
    }
    values.update(settings)
    async with running_app(test_settings(tmp_path, **values)) as app:
        resources: Resources = app.state.resources
        if now is not None:
            moment = now
            resources.predictions = PredictionService(
                resources.db, resources.f1, clock=lambda: moment
            )
            resources.widgets = WidgetService(
                resources.f1, resources.sessions, resources.profiles, resources.predictions
            )
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver", timeout=120
        ) as client:
            yield FrontendApp(client, resources)
