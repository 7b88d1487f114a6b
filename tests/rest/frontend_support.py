"""Shared pieces of the REST tests of the frontend's routes: the app on the replay, and each
body checked against the model its route declares (the document and the body agree)."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from tests.services.frontend_support import Csv, csv_for, fixtures_csv

__all__ = ["Csv", "conforms", "csv_for", "fixtures_csv"]


def conforms(model: Any, body: Any) -> None:
    """``body`` is valid for ``model`` (a model or a union of them), extra fields refused."""
    TypeAdapter(model).validate_python(body)
