"""structlog set-up: console in dev, JSON in prod, secrets redacted, request-scoped context.

Log events are ``noun.verb`` with key-value fields. The request id and the per-request
counters (cache hits and misses, upstream calls) live in context variables so any code
path can add to them without threading a logger through.
"""

from __future__ import annotations

import functools
import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import structlog

REDACTED = "[REDACTED]"
_SENSITIVE_KEY = re.compile(
    r"pass(word)?|secret|token|authorization|cookie|api[_-]?key|jwt|credential|hash",
    re.IGNORECASE,
)
# A bearer token, a JWT or an argon2 password hash inside a free-text value (a library's
# debug line may quote them, e.g. aiosqlite's statements with their parameters).
_SENSITIVE_TEXT = re.compile(
    r"(?i)bearer\s+[A-Za-z0-9._~+/=-]+|eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"
    r"|\$argon2(?:id|i|d)\$[A-Za-z0-9+/=$,.-]+"
)
# Keys whose values are safe even though their names look sensitive.
_SAFE_KEYS = frozenset({"token_type", "tokens", "max_tokens"})


@dataclass
class RequestStats:
    """Counters for one request, reported in its access log line."""

    cache_hits: int = 0
    cache_misses: int = 0
    upstream_calls: int = 0
    user_id: int | None = None
    operation_name: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # The cached data the request read (reported by Cache.get_or_load): how many values,
    # how many of them served stale, and the earliest time one of them stops being fresh.
    # A response built from them stays true until then (see graphql/response_cache.py).
    data_reads: int = 0
    stale_reads: int = 0
    data_fresh_until: float | None = None
    #: "hit" or "miss" when the GraphQL response cache looked the request up.
    response_cache: str | None = None


request_id_var: ContextVar[str | None] = ContextVar("pypole_request_id", default=None)
request_stats_var: ContextVar[RequestStats | None] = ContextVar(
    "pypole_request_stats", default=None
)


def current_stats() -> RequestStats | None:
    return request_stats_var.get()


def count_cache(hit: bool) -> None:
    stats = request_stats_var.get()
    if stats is not None:
        if hit:
            stats.cache_hits += 1
        else:
            stats.cache_misses += 1


def note_data_read(fresh_until: float, *, stale: bool = False) -> None:
    """Record that the current request used a cached value fresh until ``fresh_until``."""
    stats = request_stats_var.get()
    if stats is not None:
        stats.data_reads += 1
        if stale:
            stats.stale_reads += 1
        if stats.data_fresh_until is None or fresh_until < stats.data_fresh_until:
            stats.data_fresh_until = fresh_until


def count_upstream_call() -> None:
    stats = request_stats_var.get()
    if stats is not None:
        stats.upstream_calls += 1


@functools.lru_cache(maxsize=4096)
def _sensitive_key(key: str) -> bool:
    # Every log line repeats the same few dozen keys: one regex search per key, not per line.
    return key not in _SAFE_KEYS and _SENSITIVE_KEY.search(key) is not None


def _redact_value(key: str, value: Any) -> Any:
    if _sensitive_key(key):
        return REDACTED
    if value is None or type(value) in (int, float, bool):
        return value
    if isinstance(value, str):
        return _SENSITIVE_TEXT.sub(REDACTED, value)
    if isinstance(value, Mapping):
        return {str(k): _redact_value(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_value(key, v) for v in value]
    return value


def redact_secrets(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: hide passwords, tokens and Authorization headers in an event."""
    for key in list(event_dict):
        if key == "event":
            event_dict[key] = _redact_value("event", event_dict[key])
        else:
            event_dict[key] = _redact_value(key, event_dict[key])
    return event_dict


def _add_request_id(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    request_id = request_id_var.get()
    if request_id is not None:
        event_dict.setdefault("request_id", request_id)
    return event_dict


def configure_logging(*, json: bool, level: str = "INFO") -> None:
    """Route structlog and the standard library's logging through one renderer."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        _add_request_id,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
        redact_secrets,
    ]
    renderer: Any
    if json:
        renderer = structlog.processors.JSONRenderer()
        shared.append(structlog.processors.format_exc_info)
    else:
        # Plain tracebacks: rich's (structlog's default when rich is installed) prints local
        # variables, and a local may be a password or a token.
        renderer = structlog.dev.ConsoleRenderer(
            colors=sys.stderr.isatty(), exception_formatter=structlog.dev.plain_traceback
        )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())
    # uvicorn's own access log would duplicate ours.
    logging.getLogger("uvicorn.access").handlers = []
    logging.getLogger("uvicorn.access").propagate = False
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    logger: structlog.stdlib.BoundLogger = structlog.get_logger(name)
    return logger
