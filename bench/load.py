"""The load generator: one process, N keep-alive HTTP/1.1 connections, D seconds.

Run by the harness as ``python -m bench.load ...`` (a process of its own, never the
server's), and prints one JSON object on stdout: requests completed inside the measured
window, failures, and every latency in microseconds.

It speaks just enough HTTP for this: a pre-built request written again as soon as the
previous answer is complete (no pipelining), answers framed by ``Content-Length``. That
keeps the client's cost per request a few microseconds, well below aiohttp's or httpx's,
so a Python generator is not what limits the figure (see README, Performance: the
harness can also split the connections over several generator processes).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from array import array
from dataclasses import dataclass, field
from typing import cast
from urllib.parse import urlsplit


@dataclass
class Tally:
    requests: int = 0
    failures: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    latencies: array[float] = field(default_factory=lambda: array("d"))


def build_request(url: str, method: str, body: bytes, headers: list[str]) -> tuple[str, int, bytes]:
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    port = parts.port or 80
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}:{port}", "Connection: keep-alive"]
    lines += headers
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return host, port, head + body


@dataclass
class Window:
    """The measured window, shared by every connection; ``stop_at`` may move earlier."""

    measure_from: float
    stop_at: float


class _Connection(asyncio.Protocol):
    def __init__(
        self,
        request: bytes,
        tally: Tally,
        *,
        window: Window,
        expect_length: int | None,
        done: asyncio.Future[None],
        expect_status: int = 200,
    ) -> None:
        self.request = request
        self.tally = tally
        self.window = window
        self.expect_length = expect_length
        self.expect_status = expect_status
        self.done = done
        self.buffer = bytearray()
        self.need = -1
        self.status = 0
        self.sent_at = 0.0
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self.transport = cast(asyncio.Transport, transport)
        self._send()

    def _send(self) -> None:
        assert self.transport is not None
        self.buffer.clear()
        self.need = -1
        self.sent_at = time.perf_counter()
        self.transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self.need < 0:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buffer[:end]).lower()
            self.status = int(head[9:12])
            at = head.find(b"\r\ncontent-length:")
            if at >= 0:
                stop = head.find(b"\r\n", at + 2)
                length = int(head[at + 17 : stop if stop > 0 else None])
            elif self.status in (204, 304):  # no body, and no length to say so
                length = 0
            else:
                self._fail()
                return
            self.need = end + 4 + length
        if len(self.buffer) < self.need:
            return
        now = time.perf_counter()
        if self.window.measure_from <= self.sent_at < self.window.stop_at:
            tally = self.tally
            tally.statuses[self.status] = tally.statuses.get(self.status, 0) + 1
            body_length = self.need - (self.buffer.find(b"\r\n\r\n") + 4)
            if self.status != self.expect_status or (
                self.expect_length is not None and body_length != self.expect_length
            ):
                tally.failures += 1
            else:
                tally.requests += 1
                tally.latencies.append((now - self.sent_at) * 1e6)
        if now >= self.window.stop_at:
            self._finish()
        else:
            self._send()

    def _fail(self) -> None:
        self.tally.failures += 1
        self._finish()

    def _finish(self) -> None:
        if self.transport is not None:
            self.transport.close()
        if not self.done.done():
            self.done.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            if time.perf_counter() < self.window.stop_at:
                self.tally.failures += 1
            self.done.set_result(None)


async def run(
    url: str,
    *,
    method: str,
    body: bytes,
    headers: list[str],
    connections: int,
    duration: float,
    warmup: float,
    start_at: float,
    expect_length: int | None,
    stop_file: str | None = None,
    expect_status: int = 200,
) -> dict[str, object]:
    host, port, request = build_request(url, method, body, headers)
    loop = asyncio.get_running_loop()
    delay = start_at - time.time()
    if delay > 0:
        await asyncio.sleep(delay)
    began = time.perf_counter()
    window = Window(measure_from=began + warmup, stop_at=began + warmup + duration)
    measure_from = window.measure_from
    tally = Tally()
    futures: list[asyncio.Future[None]] = []
    for _ in range(connections):
        done: asyncio.Future[None] = loop.create_future()
        futures.append(done)
        await loop.create_connection(
            lambda d=done: _Connection(  # type: ignore[misc]
                request,
                tally,
                window=window,
                expect_length=expect_length,
                done=d,
                expect_status=expect_status,
            ),
            host,
            port,
        )
    watcher = asyncio.ensure_future(_watch(stop_file, window)) if stop_file else None
    await asyncio.sleep(max(0.0, measure_from - time.perf_counter()))
    cpu_before = time.process_time()
    await asyncio.wait_for(asyncio.gather(*futures), timeout=duration + warmup + 30)
    cpu = time.process_time() - cpu_before
    if watcher is not None:
        watcher.cancel()
    ended = min(time.perf_counter(), window.stop_at) if tally.requests else window.stop_at
    return {
        "requests": tally.requests,
        "failures": tally.failures,
        "statuses": {str(k): v for k, v in tally.statuses.items()},
        "window": max(ended - measure_from, 1e-9),
        # The generator's own CPU time in the window: near the window's length, the
        # generator (not the server) is what limits the figure.
        "cpu_seconds": round(cpu, 3),
        "latencies_us": [round(v, 1) for v in tally.latencies],
    }


async def _watch(stop_file: str, window: Window) -> None:
    """End the window as soon as ``stop_file`` exists (an event the harness waits for,
    such as the end of a cold load, rather than a fixed duration)."""
    while True:
        if os.path.exists(stop_file):  # noqa: ASYNC240 - a stat every 20 ms, no I/O wait
            window.stop_at = min(window.stop_at, time.perf_counter())
            return
        await asyncio.sleep(0.02)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load")
    parser.add_argument("url")
    parser.add_argument("--method", default="GET")
    parser.add_argument("--body-file")
    parser.add_argument("--header", action="append", default=[])
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=0.5)
    parser.add_argument("--start-at", type=float, default=0.0, help="epoch seconds")
    parser.add_argument("--expect-length", type=int)
    parser.add_argument("--expect-status", type=int, default=200)
    parser.add_argument("--stop-file", help="end the window early once this file exists")
    args = parser.parse_args(argv)
    body = b""
    if args.body_file:
        with open(args.body_file, "rb") as handle:
            body = handle.read()
    runner = asyncio.run
    try:
        import uvloop

        runner = uvloop.run
    except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
        pass
    result = runner(
        run(
            args.url,
            method=args.method,
            body=body,
            headers=args.header,
            connections=args.connections,
            duration=args.duration,
            warmup=args.warmup,
            start_at=args.start_at,
            expect_length=args.expect_length,
            stop_file=args.stop_file,
            expect_status=args.expect_status,
        )
    )
    json.dump(result, sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
