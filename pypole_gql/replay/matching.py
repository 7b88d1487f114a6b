"""Which requests a count or a fault applies to."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

#: The keys of a match in its JSON form.
MATCH_KEYS = ("glob", "regex", "prefix", "method", "query")


@dataclass(frozen=True, slots=True)
class RequestMatch:
    """Conditions on a request; every condition given must hold. No condition: every request.

    All path conditions look at the decoded URL path without the query string:

    - ``glob``: :func:`fnmatch.fnmatchcase` on the whole path; ``*`` also crosses ``/``,
      so ``/ergast/f1/2023/*`` matches every 2023 endpoint.
    - ``regex``: :func:`re.search` on the path (a string, or a compiled pattern whose flags
      are kept).
    - ``prefix``: ``path.startswith(prefix)``.
    - ``method``: the HTTP method, without regard to case.
    - ``query``: every ``name: value`` given is in the request's query string.
    """

    glob: str | None = None
    regex: str | re.Pattern[str] | None = None
    prefix: str | None = None
    method: str | None = None
    query: Mapping[str, str] | None = None
    _regex: re.Pattern[str] | None = field(init=False, repr=False, compare=False, default=None)

    def __post_init__(self) -> None:
        compiled: re.Pattern[str] | None
        if isinstance(self.regex, str):
            try:
                compiled = re.compile(self.regex)
            except re.error as exc:
                raise ValueError(f"invalid regex {self.regex!r}: {exc}") from exc
        else:
            compiled = self.regex
        object.__setattr__(self, "_regex", compiled)

    @classmethod
    def of(
        cls,
        pattern: str | re.Pattern[str] | None = None,
        *,
        prefix: str | None = None,
        method: str | None = None,
        query: Mapping[str, str] | None = None,
    ) -> RequestMatch:
        """A match from a glob (``str``) or a regex (compiled pattern) plus other conditions."""
        if isinstance(pattern, re.Pattern):
            return cls(regex=pattern, prefix=prefix, method=method, query=query)
        return cls(glob=pattern, prefix=prefix, method=method, query=query)

    def matches(self, method: str, path: str, query: Mapping[str, str]) -> bool:
        if self.method is not None and self.method.upper() != method.upper():
            return False
        if self.prefix is not None and not path.startswith(self.prefix):
            return False
        if self.glob is not None and not fnmatchcase(path, self.glob):
            return False
        if self._regex is not None and self._regex.search(path) is None:
            return False
        if self.query is not None:
            return all(query.get(name) == value for name, value in self.query.items())
        return True

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.glob is not None:
            out["glob"] = self.glob
        if self._regex is not None:
            out["regex"] = self._regex.pattern
        if self.prefix is not None:
            out["prefix"] = self.prefix
        if self.method is not None:
            out["method"] = self.method
        if self.query is not None:
            out["query"] = dict(self.query)
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RequestMatch:
        """Build from the match keys of ``data`` (other keys are ignored); ValueError if bad."""
        values: dict[str, Any] = {}
        for key in ("glob", "regex", "prefix", "method"):
            value = data.get(key)
            if value is not None and not isinstance(value, str):
                raise ValueError(f"{key} must be a string")
            values[key] = value
        query = data.get("query")
        if query is not None:
            if not isinstance(query, Mapping) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in query.items()
            ):
                raise ValueError("query must be an object of strings")
            values["query"] = dict(query)
        return cls(**values)
