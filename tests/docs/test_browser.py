"""Swagger UI, ReDoc and GraphiQL open in headless Chromium with no network beyond loopback.

Runs ``scripts/check_docs_browser.py`` against ``pypole serve --replay``. Needs Debian's
``chromium`` (``apt-get install -y chromium``): without it the test skips, or fails when
``PYPOLE_TEST_REQUIRE_SERVICES=1`` (CI).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.plugins.services import unavailable

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "check_docs_browser.py"

pytestmark = pytest.mark.browser


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_docs_browser", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_docs_pages_render_offline_in_chromium(
    fixtures_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = _load_script()
    try:
        script.find_chromium()
    except script.CheckFailed as exc:
        unavailable(str(exc))
    status = script.main(["--out", str(tmp_path), "--fixtures", str(fixtures_dir)])
    out, err = capsys.readouterr()
    assert status == 0, f"{out}\n{err}"
    for name in ("swagger-ui", "redoc", "graphiql"):
        shot = tmp_path / f"{name}.png"
        assert shot.stat().st_size > 10_000, f"{name}: screenshot too small to show a page"
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "no request beyond loopback" in out
