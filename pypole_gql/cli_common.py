"""What every ``pypole`` command shares: the help formatter, the settings read once and
checked, the one-line failure, and the argument types."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TypeAlias

from pypole_gql.config import ConfigError, Settings

if TYPE_CHECKING:
    Subparsers: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]

#: What ``--now`` of ``pypole serve --replay`` and ``pypole replay`` means when it is omitted.
NOW_DEFAULT_HELP = (
    "default: just after the last race with results in the fixtures' CSV, so that `current` "
    "is the fixtures' last season and `next` its following race"
)


class DefaultsHelpFormatter(argparse.HelpFormatter):
    """Help that ends each option with its default, unless the text already says it or
    there is none to say (a flag, a required option, an option that is off unless given)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if (
            "default:" in text
            or action.required
            or action.default in (None, False, argparse.SUPPRESS)
        ):
            return text
        return f"{text} (default: %(default)s)"


def add_command(
    sub: Subparsers,
    name: str,
    func: Callable[[argparse.Namespace], int],
    *,
    help: str,
    description: str | None = None,
) -> argparse.ArgumentParser:
    """The ``pypole`` command ``name``, which runs ``func``; its help ends each option
    with the option's default (:class:`DefaultsHelpFormatter`)."""
    parser = sub.add_parser(
        name, help=help, description=description, formatter_class=DefaultsHelpFormatter
    )
    parser.set_defaults(func=func)
    return parser


def settings_or_exit() -> Settings:
    """Every setting, checked: a bad one ends the command here, before anything has started."""
    from pydantic import ValidationError

    try:
        return Settings()
    except ConfigError as exc:
        fail(f"configuration error: {exc}")
    except ValidationError as exc:
        problems = "; ".join(
            f"PYPOLE_{'_'.join(str(part) for part in error['loc']).upper()}: "
            f"{error['msg'].removeprefix('Value error, ')}"
            for error in exc.errors()
        )
        fail(f"configuration error: {problems}")


def configured(level: str | None = None) -> Settings:
    """The settings (as :func:`settings_or_exit`), and logging configured by them, at
    ``level`` when given."""
    from pypole_gql.logging import configure_logging

    settings = settings_or_exit()
    configure_logging(json=settings.json_logs, level=level or settings.log_level)
    return settings


def fail(message: str) -> NoReturn:
    """End the command with a one-line message and status 2 (no traceback)."""
    print(f"pypole: {message}", file=sys.stderr)
    raise SystemExit(2)


def iso_datetime(text: str) -> datetime:
    """``--now``: an ISO 8601 date or date and time; without an offset it is UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO 8601 date-time such as 2025-07-06T16:00:00Z"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return value


def port_number(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0 to 65535)")
    return value


def write_output(text: str, output: str) -> None:
    if output == "-":
        sys.stdout.write(text)
    else:
        Path(output).write_text(text)
