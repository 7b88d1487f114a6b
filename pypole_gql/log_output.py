"""Where rendered log lines go: a byte stream, a line at a time off the event loop and the
lines of one loop turn together on it (:func:`line_output`), behind structlog's last stop
in JSON mode (:class:`LineWriter`)."""

from __future__ import annotations

import asyncio
import atexit
from collections.abc import Callable
from threading import get_ident
from typing import BinaryIO, TextIO

__all__ = ["BATCH_BYTES", "BatchedLines", "LineWriter", "line_output"]

#: The most bytes of log lines kept before they are written (see BatchedLines).
BATCH_BYTES = 64 * 1024


class LineWriter:
    """structlog's last stop in JSON mode: each event, rendered to one line of bytes, is
    written and flushed at once (no stdlib ``logging`` on the way)."""

    __slots__ = ("_write", "name")

    def __init__(self, write: Callable[[bytes], None], name: str | None = None) -> None:
        self._write = write
        self.name = name  # read by structlog.stdlib.add_logger_name

    def msg(self, line: bytes) -> None:
        self._write(line)

    debug = info = warning = warn = error = critical = exception = fatal = msg


class BatchedLines:
    """Writes lines to a byte stream, the lines of one turn of the event loop at once.

    Every request logs a line, and stderr's byte stream is unbuffered: one system call a
    line. On the event loop, lines are kept until the end of the loop's current turn (or
    until :data:`BATCH_BYTES` of them) and written together; off the loop (start-up,
    worker threads) each line is written at once. Lines still kept at exit are written
    then.
    """

    def __init__(self, out: BinaryIO) -> None:
        self._out = out
        self._lines: list[bytes] = []
        self._size = 0
        # The loop lines were last kept for, its thread, and whether a write of the kept
        # lines is due at the end of its current turn.
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = 0
        self._scheduled = False
        atexit.register(self.flush)

    def __call__(self, line: bytes) -> None:
        loop = self._loop
        # The loop running in this thread is the last one when that one runs here (one
        # loop at a time runs in a thread): then it need not be asked for, a call that
        # checks the process id (a system call) every time.
        if loop is None or self._thread != get_ident() or not loop.is_running():
            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                self._write(line + b"\n")
                return
            if running is not loop:
                # Another loop's turn may never end (it stopped): its lines go first, now.
                self.flush()
                self._loop = loop = running
                self._thread = get_ident()
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self.flush)
        self._lines.append(line)
        self._size += len(line)
        if self._size >= BATCH_BYTES:
            self.flush()

    def flush(self) -> None:
        self._scheduled = False
        if self._lines:
            lines, self._lines, self._size = self._lines, [], 0
            lines.append(b"")
            self._write(b"\n".join(lines))

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = self._out.write(view)
            if written is None:  # a non-blocking stream that is full: give up on this batch
                return
            view = view[written:]
        self._out.flush()


def line_output(stream: TextIO) -> Callable[[bytes], None]:
    """A function writing one rendered line to ``stream`` (its byte buffer when it has one)."""
    binary: BinaryIO | None = getattr(stream, "buffer", None)
    if binary is not None:
        stream.flush()  # text already written goes first
        return BatchedLines(binary)

    def write_text(line: bytes) -> None:
        stream.write(line.decode() + "\n")
        stream.flush()

    return write_text
