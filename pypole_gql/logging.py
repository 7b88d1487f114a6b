"""structlog set-up: console in dev, JSON in prod, secrets redacted, request-scoped context.

Log events are ``noun.verb`` with key-value fields. The request id and the per-request
counters (cache hits and misses, upstream calls) live in context variables so any code
path can add to them without threading a logger through.
"""

from __future__ import annotations

import functools
import json as stdlib_json
import logging
import re
import sys
import time
from collections.abc import Callable, Mapping, MutableMapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, cast

import orjson
import structlog
from structlog.typing import FilteringBoundLogger

from pypole_gql.log_output import LineWriter, line_output

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
#: structlog's level names for its method names (add_log_level's mapping).
_LEVEL_NAMES: Final = {"warn": "warning", "exception": "error"}
#: The fewest characters a match of _SENSITIVE_TEXT holds (``eyJa.b.``).
_SHORTEST_SECRET_TEXT: Final = 7
#: Values with nothing inside to redact.
_PLAIN_TYPES: Final = frozenset({int, float, bool, type(None)})
# Keys whose values are safe even though their names look sensitive.
_SAFE_KEYS = frozenset({"token_type", "tokens", "max_tokens"})


@dataclass(slots=True)
class RequestStats:
    """Counters for one request, reported in its access log line."""

    cache_hits: int = 0
    cache_misses: int = 0
    upstream_calls: int = 0
    user_id: int | None = None
    operation_name: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # The freshness of the cached data the request read, and the response cache's answer,
    # are the cache's: pypole_gql.cache.freshness (the access log reads them there).


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


def count_upstream_call() -> None:
    stats = request_stats_var.get()
    if stats is not None:
        stats.upstream_calls += 1


@functools.lru_cache(maxsize=4096)
def _sensitive_key(key: str) -> bool:
    # Every log line repeats the same few dozen keys: one regex search per key, not per line.
    return key not in _SAFE_KEYS and _SENSITIVE_KEY.search(key) is not None


def redact_text(value: str) -> str:
    """``value`` with the bearer tokens, JWTs and password hashes inside it hidden."""
    # Every match of _SENSITIVE_TEXT holds one of these: most values hold none, and three
    # substring tests cost a fraction of the regex scan.
    if "eyJ" in value or "$argon2" in value or "bearer" in value.lower():
        return _SENSITIVE_TEXT.sub(REDACTED, value)
    return value


def _redact_value(key: str, value: Any) -> Any:
    if _sensitive_key(key):
        return REDACTED
    if value is None or type(value) in (int, float, bool):
        return value
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {str(k): _redact_value(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_value(key, v) for v in value]
    return value


def redact_secrets(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: hide passwords, tokens and Authorization headers in an event."""
    sensitive = _sensitive_key
    for key, value in event_dict.items():
        # Replacing the values of existing keys while iterating is fine (no key is added).
        if sensitive(key):
            event_dict[key] = REDACTED
        elif type(value) is str:
            # redact_text, inline: every access line runs this for each of its strings.
            if len(value) >= _SHORTEST_SECRET_TEXT and (
                "eyJ" in value or "$argon2" in value or "bearer" in value.lower()
            ):
                event_dict[key] = _SENSITIVE_TEXT.sub(REDACTED, value)
        elif type(value) not in _PLAIN_TYPES:
            event_dict[key] = _redact_value(key, value)
    return event_dict


def _add_request_id(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    request_id = request_id_var.get()
    if request_id is not None:
        event_dict.setdefault("request_id", request_id)
    return event_dict


def _json_fallback(value: Any) -> Any:
    # structlog's own JSONRenderer convention: __structlog__() when defined, else repr().
    structlog_repr = getattr(value, "__structlog__", None)
    return structlog_repr() if structlog_repr is not None else repr(value)


def _json_bytes(event_dict: Mapping[str, Any]) -> bytes:
    try:
        return orjson.dumps(event_dict, default=_json_fallback, option=orjson.OPT_NON_STR_KEYS)
    except TypeError:  # what orjson refuses (an int beyond 64 bits, ...): the slow way
        return stdlib_json.dumps(event_dict, default=_json_fallback).encode()


def _render_json(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> bytes:
    return _json_bytes(event_dict)


def _render_json_text(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> str:
    return _json_bytes(event_dict).decode()


class _Stamp:
    """structlog processor for JSON lines: ``level``, ``logger`` and ``timestamp`` in one
    step, as ``add_log_level``, ``add_logger_name`` and ``TimeStamper(fmt="iso", utc=True)``
    write them (``2024-05-01T12:00:00.123456Z``), the date and time formatted once a second."""

    __slots__ = ("_bytes", "_prefix", "_second")

    def __init__(self) -> None:
        self._second = -1
        self._prefix = ""
        self._bytes = (-1, b"")  # (second, its prefix as bytes), for timestamp_bytes

    def __call__(
        self, logger: Any, method: str, event_dict: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        event_dict["level"] = _LEVEL_NAMES.get(method, method)
        record = event_dict.get("_record")
        event_dict["logger"] = logger.name if record is None else record.name
        event_dict["timestamp"] = self.timestamp()
        return event_dict

    def timestamp(self) -> str:
        """Now, as the ``timestamp`` of a line."""
        now = time.time()
        second = int(now)
        if second != self._second:
            # Two threads may both refresh it: each writes a consistent pair.
            self._prefix = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
            self._second = second
            prefix = self._prefix
        else:
            prefix = self._prefix
        micros = int((now - second) * 1_000_000)
        return f"{prefix}.{micros:06d}Z" if micros else f"{prefix}Z"

    def timestamp_bytes(self) -> bytes:
        """:meth:`timestamp` as bytes (for a line rendered without the processors)."""
        now = time.time()
        second = int(now)
        kept = self._bytes
        if kept[0] != second:
            text = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
            kept = self._bytes = (second, text.encode())
        micros = int((now - second) * 1_000_000)
        return b"%b.%06dZ" % (kept[1], micros) if micros else kept[1] + b"Z"


@dataclass(frozen=True, slots=True)
class JsonLines:
    """The JSON log's output as :func:`configure_logging` set it up, for code that writes
    lines of a fixed shape itself (the cache-hit front's access line): the same stream, the
    same batching, the same ``timestamp``. A line written here must be what the processors
    would have made of its event: redacted (:func:`redact_secrets`, :func:`redact_text`),
    with ``event``, ``request_id``, ``level``, ``logger`` and ``timestamp`` in that order.
    """

    processors: list[Any]
    level: int
    stamp: _Stamp
    write: Callable[[bytes], None]


_json_lines: JsonLines | None = None
#: structlog's configuration object, read directly by :func:`json_lines` (``get_config``
#: builds a dict every call); None if a structlog release renames it.
_STRUCTLOG_CONFIG: Any = getattr(getattr(structlog, "_config", None), "_CONFIG", None)


def _processors_in_force() -> Any:
    if _STRUCTLOG_CONFIG is not None:
        return _STRUCTLOG_CONFIG.default_processors
    return structlog.get_config()["processors"]


def json_lines(level: int = logging.INFO) -> JsonLines | None:
    """The JSON output when it is the one in force and takes lines at ``level``; None in
    console mode, below the level, or once structlog was configured otherwise since (a
    test capturing logs): then log through :func:`get_logger`."""
    found = _json_lines
    if found is None or level < found.level:
        return None
    if _processors_in_force() is not found.processors:
        return None
    return found


def _format_exc_info(
    logger: Any, method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    # structlog's format_exc_info, skipped for the (many) events without an exception.
    if "exc_info" not in event_dict:
        return event_dict
    formatted: MutableMapping[str, Any] = structlog.processors.format_exc_info(
        logger, method, event_dict
    )
    return formatted


def configure_logging(*, json: bool, level: str = "INFO") -> None:
    """Route structlog and the standard library's logging through one renderer.

    JSON (production): structlog events are rendered with orjson and written straight to
    stderr, one flushed line each; the standard library's records (third-party libraries)
    go through a ``logging`` handler with the same processors. Console (development): both
    go through ``logging`` and structlog's console renderer.
    """
    global _json_lines
    # Redaction runs once the event holds everything a caller or a library put in it; the
    # fields added after it (level, logger name, time) are the app's own.
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        _add_request_id,
        structlog.processors.StackInfoRenderer(),
        redact_secrets,
    ]
    stream = sys.stderr
    formatter: logging.Formatter
    if json:
        stamp = _Stamp()
        shared += [stamp, _format_exc_info]
        output = line_output(stream)
        number = logging.getLevelNamesMapping()[level.upper()]
        processors = [*shared, _render_json]
        structlog.configure(
            processors=processors,
            logger_factory=functools.partial(LineWriter, output),
            wrapper_class=structlog.make_filtering_bound_logger(number),
            cache_logger_on_first_use=False,
        )
        _json_lines = JsonLines(processors, number, stamp, output)
        formatter = structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                _render_json_text,
            ],
        )
    else:
        _json_lines = None
        shared += [
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
        ]
        # Plain tracebacks: rich's (structlog's default when rich is installed) prints local
        # variables, and a local may be a password or a token.
        renderer = structlog.dev.ConsoleRenderer(
            colors=stream.isatty(), exception_formatter=structlog.dev.plain_traceback
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
    handler = logging.StreamHandler(stream)
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


class _Logger:
    """What :func:`get_logger` returns: structlog's logger for the configuration in force.

    structlog's lazy proxy builds a bound logger on every call; with
    ``cache_logger_on_first_use`` it keeps the first one for good, so a later
    ``configure()`` (tests, ``capture_logs`` restoring its state) would not reach it. This
    one is rebuilt whenever the configured processors list, wrapper class, logger factory or
    context class is another object than the one it was built with.
    """

    __slots__ = ("_bound", "_built_for", "_name")

    def __init__(self, name: str) -> None:
        self._name = name
        self._bound: Any = None
        self._built_for: tuple[Any, ...] = ()

    def _current(self) -> Any:
        config = structlog.get_config()
        processors, wrapper, factory, context = self._built_for or (None, None, None, None)
        if (
            config["processors"] is not processors
            or config["wrapper_class"] is not wrapper
            or config["logger_factory"] is not factory
            or config["context_class"] is not context
        ):
            self._bound = structlog.get_logger(self._name).bind()
            self._built_for = (
                config["processors"],
                config["wrapper_class"],
                config["logger_factory"],
                config["context_class"],
            )
        return self._bound

    # The logging methods are those of the bound logger in force, handed out as they are
    # (no call of our own in between, which would pack the event's fields once more).

    @property
    def debug(self) -> Any:
        return self._current().debug

    @property
    def info(self) -> Any:
        return self._current().info

    @property
    def warning(self) -> Any:
        return self._current().warning

    @property
    def error(self) -> Any:
        return self._current().error

    @property
    def exception(self) -> Any:
        return self._current().exception

    @property
    def critical(self) -> Any:
        return self._current().critical

    def __getattr__(self, name: str) -> Any:
        return getattr(self._current(), name)


def get_logger(name: str) -> FilteringBoundLogger:
    """A logger named ``name``; it follows whatever :func:`configure_logging` set last."""
    return cast(FilteringBoundLogger, _Logger(name))
