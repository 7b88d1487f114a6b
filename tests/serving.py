"""``pypole serve`` as a real subprocess for tests: a free port, a clean environment, its own
process group (as a terminal's foreground job), killed with its workers in ``finally``."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from pypole_gql.config import Settings

BIN = Path(sys.executable).parent
PYPOLE = str(BIN / "pypole")
START_TIMEOUT = 60.0
STOP_TIMEOUT = 20.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def clean_env(**settings: str) -> dict[str, str]:
    """The test's environment without any PYPOLE_ setting of the outer shell, plus ``settings``
    (``access_token_minutes="5"`` becomes ``PYPOLE_ACCESS_TOKEN_MINUTES=5``)."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not (name.startswith("PYPOLE_") and name[7:].lower() in Settings.model_fields)
    }
    env.update({f"PYPOLE_{name.upper()}": value for name, value in settings.items()})
    env["PYTHONUNBUFFERED"] = "1"
    return env


def run(
    args: Sequence[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args,
        cwd=cwd,
        env=env or clean_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def stderr(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self, signum: int = signal.SIGINT) -> int:
        """Send ``signum`` to the server process and wait for the exit status."""
        self.process.send_signal(signum)
        return self.process.wait(timeout=STOP_TIMEOUT)

    def interrupt(self) -> int:
        """Ctrl-C at a terminal: SIGINT to every process of the group (the server runs in
        one of its own, as a terminal's foreground job does); waits for the exit status."""
        os.killpg(self.process.pid, signal.SIGINT)
        return self.process.wait(timeout=STOP_TIMEOUT)

    def group_alive(self) -> bool:
        """Whether any process of the server's group (its workers included) is left."""
        try:
            os.killpg(self.process.pid, 0)
        except ProcessLookupError:
            return False
        return True


@contextmanager
def serving(
    cwd: Path, *extra: str, env: dict[str, str] | None = None, ready_path: str = "/health/ready"
) -> Iterator[Server]:
    """``pypole serve`` on a free port in ``cwd``; yields once ``ready_path`` answers 200."""
    port = free_port()
    log = cwd.parent / f"{cwd.name}-{port}.stderr"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [PYPOLE, "serve", "--port", str(port), *extra],
            cwd=cwd,
            env=env or clean_env(),
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(process, f"http://127.0.0.1:{port}", log)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(f"pypole serve exited with {process.returncode}:\n{server.stderr()}")
            try:
                if httpx.get(server.url + ready_path, timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"pypole serve did not become ready:\n{server.stderr()}")
            time.sleep(0.2)
        yield server
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT)
        with contextlib.suppress(ProcessLookupError):  # workers the server left behind
            os.killpg(process.pid, signal.SIGKILL)
