"""The OpenAPI document of ``/api/v1`` as the app builds it: ``pypole export-openapi`` writes
it, and the committed ``openapi.json`` must equal it (tests/contract/test_openapi.py)."""

from __future__ import annotations

import functools
from typing import Any

from fastapi import FastAPI

from pypole_gql.rest.app import api_app
from pypole_gql.rest.document import render


@functools.cache
def _api() -> FastAPI:
    return api_app()


def build_openapi() -> dict[str, Any]:
    """The document, as a JSON-ready dict (built once per process; treat it as read-only)."""
    return _api().openapi()


@functools.cache
def render_openapi() -> str:
    """The document as the committed ``openapi.json`` holds it."""
    return render(build_openapi())
