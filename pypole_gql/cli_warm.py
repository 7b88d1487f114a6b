"""The terminal side of ``pypole warm``: progress, the summary table, Ctrl-C.

The work itself is :mod:`pypole_gql.services.warm`. On a terminal the progress is a rich
bar naming the sessions loading, with elapsed time and ETA; elsewhere (a pipe, a log) one
line per session started and done, with the same figures.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from collections.abc import Iterable, Sequence

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from pypole_gql.config import Settings
from pypole_gql.errors import AppError
from pypole_gql.services.warm import (
    Outcome,
    WarmItem,
    WarmResult,
    plan,
    warm,
    warm_jolpica,
)

#: Exit status after Ctrl-C (128 + SIGINT), as a shell reports it.
INTERRUPTED = 130


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


class _Report:
    """Progress on stderr: a rich bar on a terminal, plain lines otherwise."""

    def __init__(self, total: int, console: Console) -> None:
        self.total = total
        self.console = console
        self.done = 0
        self.running: list[str] = []
        self.started = time.monotonic()
        self.progress: Progress | None = None
        self.task = None
        if console.is_terminal:
            self.progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("elapsed"),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=console,
            )
            self.task = self.progress.add_task("warming", total=total)
            self.progress.start()

    def _eta(self) -> str:
        if not self.done:
            return "?"
        elapsed = time.monotonic() - self.started
        return _clock(elapsed / self.done * (self.total - self.done))

    def start(self, item: WarmItem) -> None:
        self.running.append(item.label)
        if self.progress is not None and self.task is not None:
            self.progress.update(self.task, description=", ".join(self.running))
            return
        self.console.print(
            f"[{self.done}/{self.total}] loading {item.label} "
            f"(elapsed {_clock(time.monotonic() - self.started)}, ETA {self._eta()})",
            highlight=False,
        )

    def finish(self, result: WarmResult) -> None:
        self.done += 1
        if result.item.label in self.running:
            self.running.remove(result.item.label)
        if self.progress is not None and self.task is not None:
            self.progress.update(
                self.task, advance=1, description=", ".join(self.running) or "warming"
            )
            return
        reason = f": {result.reason}" if result.reason else ""
        self.console.print(
            f"[{self.done}/{self.total}] {result.item.label}: {result.outcome.value}{reason} "
            f"({result.seconds:.1f} s; elapsed {_clock(time.monotonic() - self.started)}, "
            f"ETA {self._eta()})",
            highlight=False,
        )

    def stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()


def summary(results: Iterable[WarmResult], interrupted: bool) -> Table:
    rows = sorted(results, key=lambda r: (r.item.round, r.item.session_type))
    table = Table(title="pypole warm" + (" (interrupted)" if interrupted else ""))
    table.add_column("session")
    table.add_column("outcome")
    table.add_column("seconds", justify="right")
    table.add_column("reason")
    for result in rows:
        table.add_row(
            result.item.label, result.outcome.value, f"{result.seconds:.1f}", result.reason
        )
    counts = {outcome: 0 for outcome in Outcome}
    for result in rows:
        counts[result.outcome] += 1
    table.caption = ", ".join(f"{outcome.value}: {count}" for outcome, count in counts.items())
    return table


def run_warm(
    settings: Settings,
    season: int,
    kinds: Sequence[str],
    rounds: frozenset[int] | None,
    *,
    jolpica: bool,
) -> int:
    from pypole_gql.logging import configure_logging

    configure_logging(json=settings.json_logs, level="WARNING")
    out = Console(file=sys.stdout, width=120)
    err = Console(file=sys.stderr, soft_wrap=True)  # one line per event, never wrapped
    results: list[WarmResult] = []
    interrupted = False

    async def main() -> int:
        nonlocal interrupted
        from pypole_gql.resources import build_resources

        if settings.database_url.startswith("sqlite"):
            from pypole_gql.db.migrate import upgrade_async

            await upgrade_async(settings.database_url)
        async with build_resources(settings) as resources:
            try:
                items, absent = await plan(resources, season, kinds, rounds)
            except AppError as exc:
                err.print(f"pypole: warm: {exc.message}", highlight=False)
                return 2
            results.extend(absent)
            report = _Report(len(items), err)

            def done(result: WarmResult) -> None:
                results.append(result)
                report.finish(result)

            work = asyncio.ensure_future(
                warm(resources, items, on_start=report.start, on_done=done)
            )
            loop = asyncio.get_running_loop()

            def stop() -> None:
                nonlocal interrupted
                interrupted = True
                work.cancel()

            loop.add_signal_handler(signal.SIGINT, stop)
            try:
                await work
                if jolpica:
                    chosen = rounds or {item.round for item in items}
                    results.append(await warm_jolpica(resources, season, chosen))
            except asyncio.CancelledError:
                if not interrupted:
                    raise
            finally:
                loop.remove_signal_handler(signal.SIGINT)
                report.stop()
                if interrupted:
                    # A load in a worker is dropped, not finished: nothing half-written is
                    # left, since every archive write is whole or absent.
                    err.print("interrupted: stopping the loads in progress", highlight=False)
                    resources.sessions.client.terminate()
                    results.extend(
                        WarmResult(item, Outcome.FAILED, "interrupted")
                        for item in items
                        if item not in {r.item for r in results}
                    )
        out.print(summary(results, interrupted))
        if interrupted:
            return INTERRUPTED
        return 1 if any(r.outcome is Outcome.FAILED for r in results) else 0

    return asyncio.run(main())
