"""The installed version of the package (what ``GET /`` and the OpenAPI document say)."""

from __future__ import annotations

import functools
from importlib.metadata import PackageNotFoundError, version

SERVICE_NAME = "PyPole GQL"


@functools.cache
def package_version() -> str:
    try:
        return version("pypole-gql")
    except PackageNotFoundError:  # pragma: no cover (running from a bare checkout)
        return "0.0.0"
