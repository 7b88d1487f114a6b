"""The README's quick start is a contract: its run command installs the server's dependencies
and none of the dev tools (asked of the lock file with the same flags), and CI runs exactly its
test command."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import tomllib
from pathlib import Path

from tests.plugins.services import unavailable

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
CI = ROOT / ".ci" / "run"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*")


def _normalised(requirement: str) -> str:
    match = _NAME.match(requirement.strip())
    assert match is not None, requirement
    return re.sub(r"[-_.]+", "-", match[0]).lower()


def quick_start_commands() -> list[list[str]]:
    """The commands of the quick start's first ``sh`` block, comments dropped."""
    text = README.read_text()
    start = text.index("\n## Quick start\n")
    section = text[start : text.index("\n## ", start + 1)]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    return [shlex.split(line, comments=True) for line in block.splitlines() if line.strip()]


def test_the_quick_start_has_a_run_and_a_test_command() -> None:
    run, test = quick_start_commands()

    assert run[:2] == ["uv", "run"] and run[-2:] == ["pypole", "serve"]
    assert test[:2] == ["uv", "run"] and "pytest" in test


def test_ci_runs_the_readme_test_command() -> None:
    _, test = quick_start_commands()
    ci_lines = [line.strip() for line in CI.read_text().splitlines()]

    assert shlex.join(test) in ci_lines


def test_the_run_command_installs_the_server_and_no_dev_tool() -> None:
    run, _ = quick_start_commands()
    flags = run[2 : run.index("pypole")]
    uv = os.environ.get("UV") or shutil.which("uv")
    if uv is None:
        unavailable("uv is not on PATH: cannot ask the lock file")
    assert uv is not None

    exported = subprocess.run(
        [uv, "export", "--frozen", "--no-hashes", "--no-header", "--no-emit-project", *flags],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    installed = {
        _normalised(line)
        for line in exported.splitlines()
        if line.strip() and not line.startswith((" ", "#"))
    }

    server = {_normalised(r) for r in PYPROJECT["project"]["dependencies"]}
    dev = {_normalised(r) for r in PYPROJECT["dependency-groups"]["dev"]}
    assert server <= installed
    assert not dev & installed, f"the run command installs dev tools: {sorted(dev & installed)}"
