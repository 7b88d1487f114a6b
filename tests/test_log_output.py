"""BatchedLines: the lines of one loop turn written together at its end, in order, across
loops and threads."""

from __future__ import annotations

import asyncio
import io
import threading

from pypole_gql.log_output import BatchedLines


class _Out(io.BytesIO):
    """A byte stream counting its writes."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, data: object) -> int:
        self.writes += 1
        return super().write(data)  # type: ignore[arg-type]


def test_the_lines_of_a_turn_go_out_together_at_its_end() -> None:
    out = _Out()
    lines = BatchedLines(out)

    async def turn() -> tuple[bytes, bytes]:
        lines(b"a")
        lines(b"b")
        kept = out.getvalue()
        await asyncio.sleep(0)  # the turn ends
        return kept, out.getvalue()

    before, after = asyncio.run(turn())
    assert before == b""
    assert after == b"a\nb\n"
    assert out.writes == 1


def test_a_stopped_loops_lines_go_first_when_another_loop_logs() -> None:
    out = _Out()
    lines = BatchedLines(out)
    first = asyncio.new_event_loop()

    def log_and_stop() -> None:
        lines(b"first")
        first.stop()  # its turn's flush is left undone

    first.call_soon(log_and_stop)
    first.run_forever()
    # The flush was scheduled for the next turn of ``first``, which never comes.
    assert out.getvalue() in (b"", b"first\n")

    async def second() -> bytes:
        lines(b"second")
        await asyncio.sleep(0)
        return out.getvalue()

    assert asyncio.run(second()) == b"first\nsecond\n"
    first.close()


def test_lines_off_the_loop_and_from_another_threads_loop_are_all_written_in_order() -> None:
    out = _Out()
    lines = BatchedLines(out)
    lines(b"before")  # no loop running: written at once
    assert out.getvalue() == b"before\n"

    async def in_thread() -> None:
        lines(b"thread")
        await asyncio.sleep(0)

    async def main() -> bytes:
        lines(b"main-1")
        worker = threading.Thread(target=asyncio.run, args=(in_thread(),))
        worker.start()
        worker.join()
        lines(b"main-2")
        await asyncio.sleep(0)
        return out.getvalue()

    written = asyncio.run(main())
    assert written == b"before\nmain-1\nthread\nmain-2\n"
