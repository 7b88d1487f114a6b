"""Open the API docs pages in headless Chromium against a running server, as a person would.

    uv run python scripts/check_docs_browser.py --out docs/screenshots
    uv run python scripts/check_docs_browser.py --url http://127.0.0.1:8000 --out /tmp/shots

Without ``--url`` it starts ``pypole serve --replay FIXTURES`` (fixtures from
``--fixtures`` or ``PYPOLE_FIXTURES_DIR``, default ``../shared/fixtures``) on a free loopback
port, with a throwaway SQLite database, and stops it at the end.

Checks, each failing the run: Swagger UI lists the API's operations, ReDoc shows the title and
the operations, GraphiQL loaded the schema, ran its query and shows a result with data; no
page logged an error or a Content-Security-Policy violation; and no request left the machine
(every request to a host other than loopback is refused and recorded). Saves one PNG per page.

Chromium is Debian's (``apt-get install -y chromium``), driven by Playwright without a browser
download of its own; ``--chromium`` or ``PYPOLE_CHROMIUM`` point at another binary.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Page, Route, sync_playwright

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CHROMIUM = "/usr/bin/chromium"
GRAPHIQL_QUERY = """query DocsCheck {
  season(year: 2023) {
    year
    driverStandings {
      position
      points
      driver { code familyName }
    }
  }
}
"""
PAGE_TIMEOUT_MS = 30_000
VIEWPORT = {"width": 1280, "height": 800}


class CheckFailed(Exception):
    pass


@dataclass
class Outcome:
    screenshots: list[Path] = field(default_factory=list)
    outside_requests: list[str] = field(default_factory=list)
    csp_blocked: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def find_chromium(explicit: str | None = None) -> str:
    candidates = [explicit, os.environ.get("PYPOLE_CHROMIUM"), DEFAULT_CHROMIUM]
    candidates += [shutil.which("chromium"), shutil.which("chromium-browser")]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise CheckFailed(
        "Chromium not found: install Debian's package (`apt-get install -y chromium`) "
        "or pass --chromium / set PYPOLE_CHROMIUM"
    )


def is_loopback_url(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about"):
        return True
    host = (parts.hostname or "").strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_live(url: str, proc: subprocess.Popen[bytes] | None, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise CheckFailed(f"the server exited with status {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/health/live", timeout=2) as response:  # noqa: S310 (loopback URL we built)
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise CheckFailed(f"{url} did not come up in {timeout:.0f} s")


@contextmanager
def serve(fixtures: Path) -> Iterator[str]:
    """``pypole serve --replay`` on a free loopback port, in a scratch directory."""
    if not (fixtures / "README.md").is_file():
        raise CheckFailed(f"fixtures not found at {fixtures} (set PYPOLE_FIXTURES_DIR)")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="pypole-docs-") as scratch:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("PYPOLE_") or key.startswith("PYPOLE_TEST_")
        }
        env.update(
            PYPOLE_ENV="dev",
            PYPOLE_DATABASE_URL=f"sqlite+aiosqlite:///{scratch}/pypole.db",
            PYPOLE_FASTF1_CACHE_DIR=f"{scratch}/fastf1-cache",
            PYPOLE_LOG_LEVEL="WARNING",
        )
        command = [sys.executable, "-m", "pypole_gql", "serve", "--port", str(port)]
        command += ["--replay", str(fixtures)]
        log = Path(scratch) / "server.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(command, cwd=scratch, env=env, stdout=out, stderr=out)  # noqa: S603 (our own command line)
            try:
                try:
                    _wait_live(url, proc)
                except CheckFailed as exc:
                    raise CheckFailed(f"{exc}\n{log.read_text()[-4000:]}") from None
                yield url
            finally:
                proc.terminate()
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def _check_swagger(page: Page) -> None:
    page.wait_for_selector(".swagger-ui .opblock-summary", timeout=PAGE_TIMEOUT_MS)
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    wanted = ["/api/v1/auth/login", "/api/v1/jolpica/schedule/{season}", "/api/v1/fastf1/"]
    for fragment in wanted:
        if not any(fragment in path for path in paths):
            raise CheckFailed(f"Swagger UI lists no operation on {fragment} (saw {len(paths)})")
    title = page.locator(".swagger-ui .info .title").inner_text()
    if "PyPole GQL REST API" not in title:
        raise CheckFailed(f"Swagger UI shows the title {title!r}")


def _check_redoc(page: Page) -> None:
    page.wait_for_selector("h1", timeout=PAGE_TIMEOUT_MS)
    page.wait_for_selector("[data-section-id^='operation/']", timeout=PAGE_TIMEOUT_MS)
    heading = page.locator("h1").first.inner_text()
    if "PyPole GQL REST API" not in heading:
        raise CheckFailed(f"ReDoc shows the heading {heading!r}")
    operations = page.locator("[data-section-id^='operation/']").count()
    if operations < 20:
        raise CheckFailed(f"ReDoc shows only {operations} operations")


def _check_graphiql(page: Page) -> None:
    page.wait_for_selector(".graphiql-query-editor .CodeMirror", timeout=PAGE_TIMEOUT_MS)
    # The schema arrived (introspection): the docs explorer button is enabled once it has.
    page.wait_for_function(
        "() => !document.querySelector('.graphiql-sidebar [aria-label*=\"Documentation\"]')"
        "?.hasAttribute('disabled')",
        timeout=PAGE_TIMEOUT_MS,
    )
    page.evaluate(
        "(query) => document.querySelector('.graphiql-query-editor .CodeMirror')"
        ".CodeMirror.setValue(query)",
        GRAPHIQL_QUERY,
    )
    # GraphiQL takes the operation name from the editor after a debounce; running at once
    # would send the default query's name with the new text.
    page.wait_for_timeout(1000)
    page.click(".graphiql-execute-button")
    page.wait_for_function(
        "() => { const r = document.querySelector('.graphiql-response .CodeMirror');"
        " return r && r.CodeMirror.getValue().includes('\"data\"'); }",
        timeout=PAGE_TIMEOUT_MS,
    )
    result = page.evaluate(
        "() => document.querySelector('.graphiql-response .CodeMirror').CodeMirror.getValue()"
    )
    if '"errors"' in result or '"year": 2023' not in result or '"points"' not in result:
        raise CheckFailed(f"GraphiQL's query gave {result[:500]}")


# Blocked by the pages' Content-Security-Policy before any request is made, and expected:
# ReDoc's sidebar shows Redocly's logo from their CDN (and hides it when it fails to load).
EXPECTED_CSP_BLOCKS = ("https://cdn.redoc.ly/redoc/logo-mini.svg",)

PAGES: list[tuple[str, str, Callable[[Page], None]]] = [
    ("swagger-ui", "/api/v1/docs", _check_swagger),
    ("redoc", "/api/v1/redoc", _check_redoc),
    ("graphiql", "/graphql", _check_graphiql),
]


def check_pages(base_url: str, out_dir: Path, chromium: str) -> Outcome:
    """Open every page, check it, screenshot it. Problems are collected, not raised."""
    out_dir.mkdir(parents=True, exist_ok=True)
    outcome = Outcome()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=chromium,
            headless=True,
            # Belt and braces beside the request filter below: no name resolves but loopback.
            args=["--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1"],
        )
        try:
            context = browser.new_context(viewport=VIEWPORT, service_workers="block")

            def guard(route: Route) -> None:
                url = route.request.url
                if is_loopback_url(url):
                    route.continue_()
                else:
                    outcome.outside_requests.append(url)
                    route.abort("blockedbyclient")

            context.route("**/*", guard)
            for name, path, check in PAGES:
                page = context.new_page()
                errors: list[str] = []
                page.on("pageerror", lambda exc, errors=errors: errors.append(str(exc)))
                page.on(
                    "console",
                    lambda msg, errors=errors: (
                        errors.append(f"{msg.text} ({msg.location.get('url')})")
                        if msg.type == "error"
                        else None
                    ),
                )
                page.on("websocket", lambda ws: outcome.outside_requests.append(ws.url))
                try:
                    response = page.goto(base_url + path, wait_until="load")
                    if response is None or response.status != 200:
                        status = None if response is None else response.status
                        raise CheckFailed(f"{path} answered {status}")
                    csp = response.headers.get("content-security-policy", "")
                    if "http" in csp or "*" in csp:
                        raise CheckFailed(f"{path}: CSP names other origins: {csp}")
                    check(page)
                    page.wait_for_timeout(300)  # let the last paint settle for the picture
                except CheckFailed as exc:
                    outcome.problems.append(f"{name}: {exc}")
                except Exception as exc:
                    outcome.problems.append(f"{name}: {type(exc).__name__}: {exc}")
                finally:
                    shot = out_dir / f"{name}.png"
                    try:
                        page.screenshot(path=str(shot))
                        outcome.screenshots.append(shot)
                    except Exception as exc:
                        outcome.problems.append(f"{name}: no screenshot: {exc}")
                    page.close()
                for text in errors:
                    if "Content Security Policy" in text and any(
                        url in text for url in EXPECTED_CSP_BLOCKS
                    ):
                        outcome.csp_blocked.append(f"{name}: {text}")
                    else:
                        outcome.problems.append(f"{name}: browser error: {text}")
        finally:
            browser.close()
    outcome.problems += [f"request left the machine: {url}" for url in outcome.outside_requests]
    return outcome


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a running server (default: start one with --replay)")
    parser.add_argument("--out", default="docs/screenshots", help="folder for the PNGs")
    parser.add_argument("--fixtures", help="replay fixtures (default: PYPOLE_FIXTURES_DIR)")
    parser.add_argument("--chromium", help=f"Chromium binary (default: {DEFAULT_CHROMIUM})")
    args = parser.parse_args(argv)
    try:
        chromium = find_chromium(args.chromium)
        out = Path(args.out)
        if args.url:
            if not is_loopback_url(args.url):
                raise CheckFailed(f"{args.url} is not a loopback address")
            _wait_live(args.url.rstrip("/"), None, timeout=10)
            outcome = check_pages(args.url.rstrip("/"), out, chromium)
        else:
            fixtures = Path(
                args.fixtures
                or os.environ.get("PYPOLE_FIXTURES_DIR")
                or REPO.parent / "shared" / "fixtures"
            )
            with serve(fixtures) as url:
                outcome = check_pages(url, out, chromium)
    except CheckFailed as exc:
        print(f"docs check: {exc}", file=sys.stderr)
        return 2
    for shot in outcome.screenshots:
        print(f"screenshot: {shot}")
    for blocked in outcome.csp_blocked:
        print(f"blocked by CSP (expected): {blocked}")
    for problem in outcome.problems:
        print(f"FAILED {problem}", file=sys.stderr)
    if outcome.problems:
        return 1
    print(f"docs check: {len(PAGES)} pages rendered, no request beyond loopback")
    return 0


if __name__ == "__main__":
    sys.exit(main())
