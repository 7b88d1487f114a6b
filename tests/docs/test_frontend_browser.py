"""The older web frontend's calls, from a page on another origin, in headless Chromium.

A small page served from ``http://127.0.0.1:<page port>`` calls the API on
``http://127.0.0.1:<api port>`` with ``fetch`` the way the frontend's ``lib/api.ts`` does
(JSON content type on every call, ``Authorization: Bearer`` once signed in, JSON bodies; the
login as a form post). It signs up with a username holding a space and a non-ASCII letter,
onboards on a season whose calendar is not published (the browser's year, as the onboarding
page asks for it), then calls every route of :data:`ROUTES` and checks the fields the
frontend's pages read. With the page's origin in ``PYPOLE_CORS_ORIGINS`` it passes; without
it the browser blocks every call.

:data:`ROUTES` is data: one :func:`route` line per call (``{season}``, ``{round}`` ... are
filled from :class:`Plan`).

Needs Debian's ``chromium`` (as ``test_browser.py``); the API runs in this process (uvicorn
in a thread) on the replay and PostgreSQL, with predictions opening and closing against the
fixtures' "now" (:data:`~tests.services.frontend_support.NOW`) since the fixtures' races are
all past by the wall clock.
"""

from __future__ import annotations

import asyncio
import http.server
import importlib.util
import json
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import uvicorn

from pypole_gql.app import create_app
from pypole_gql.db.migrate import upgrade_async
from pypole_gql.resources import Resources
from pypole_gql.services.predictions import PredictionService
from pypole_gql.services.widgets import WidgetService
from tests.plugins.app import test_settings as app_settings
from tests.plugins.fastf1 import fastf1_app_settings
from tests.plugins.replay import Replay
from tests.plugins.services import unavailable
from tests.services.frontend_support import NOW, Csv, fixtures_csv, replay_now
from tests.serving import free_port

__all__ = ["fixtures_csv", "replay_now"]
pytestmark = pytest.mark.browser
SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "check_docs_browser.py"
#: How long the page may take for all its calls (a cold FastF1 load is among them).
PAGE_TIMEOUT_MS = 600_000


def route(
    name: str,
    path: str,
    fields: list[str],
    *,
    method: str = "GET",
    auth: bool = False,
    body: Any = None,
    status: int = 200,
    equals: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One call of the page: ``fields`` are dotted paths (``drivers.0.driver.givenName``)
    that must be present (not ``undefined``) in the answer, ``equals`` paths with values."""
    return {
        "name": name,
        "method": method,
        "path": path,
        "fields": fields,
        "auth": auth,
        "body": body,
        "status": status,
        "equals": equals or {},
    }


@dataclass(frozen=True)
class Plan:
    """The values the routes are filled with, and the expected ones, from the CSV."""

    season: int
    """A finished season with every table (profiles, comparison)."""
    unpublished: int
    """The browser's year: in range, no calendar in the fixtures."""
    next_season: int
    next_round: int
    """The race after the fixtures' "now": predictions are open for it."""
    team: str
    team_points: float
    driver: str
    driver_points: float
    rival: str
    leader_code: str
    picks: list[dict[str, Any]]
    saved: list[dict[str, Any]]


def plan_from(csv: Csv) -> Plan:
    season = 2023
    teams = csv.constructor_standings(season)
    drivers = csv.driver_standings(season)
    next_season, next_round = csv.next_round(NOW)
    results = csv.round_results(season, 5)
    entry = [s.ref for s in csv.driver_standings(next_season)][:10]
    unpublished = datetime.now(UTC).year
    assert not csv.rounds(unpublished), "the browser's year must have no calendar here"
    return Plan(
        season=season,
        unpublished=unpublished,
        next_season=next_season,
        next_round=next_round,
        team=teams[0].ref,
        team_points=teams[0].points,
        driver=drivers[0].ref,
        driver_points=drivers[0].points,
        rival=drivers[1].ref,
        leader_code=csv.driver_standings(next_season)[0].code or "",
        picks=[
            {"driver_id": r.driver, "predicted_position": i}
            for i, r in enumerate(reversed(results[:10]), 1)
        ],
        saved=[{"driver_id": ref, "predicted_position": i} for i, ref in enumerate(entry, 1)],
    )


def routes(p: Plan) -> list[dict[str, Any]]:
    """Every call of the frontend's pages beyond sign-up and login, in page order."""
    s, u = p.season, p.unpublished
    saved_path = f"/predictor/predictions/{p.next_season}/{p.next_round}"
    return [
        # Onboarding and settings on a season without a calendar: 200 and empty lists.
        route(
            "onboarding drivers",
            f"/jolpica/standings/drivers?season={u}",
            ["standings"],
            equals={"standings.length": 0},
        ),
        route(
            "onboarding teams",
            f"/jolpica/standings/constructors?season={u}",
            ["standings"],
            equals={"standings.length": 0},
        ),
        route(
            "schedule unpublished",
            f"/jolpica/schedule?season={u}",
            ["races"],
            equals={"races.length": 0},
        ),
        route(
            "preferences",
            "/auth/preferences",
            ["favorite_driver"],
            method="PUT",
            auth=True,
            body={"favorite_driver": p.leader_code},
            equals={"favorite_driver": p.leader_code},
        ),
        # Profiles pages.
        route(
            "drivers",
            f"/profiles/drivers?season={s}",
            [
                "drivers.0.driver_id",
                "drivers.0.name",
                "drivers.0.code",
                "drivers.0.team.name",
                "drivers.0.points",
            ],
            equals={"drivers.0.driver_id": p.driver},
        ),
        route(
            "driver profile",
            f"/profiles/drivers/{p.driver}?season={s}",
            [
                "driver.code",
                "driver.givenName",
                "driver.nationality",
                "current_season.team.name",
                "current_season.position",
                "current_season.podiums",
                "current_season.races_entered",
                "current_season.dnfs",
                "career.seasons.0.year",
                "career.seasons.0.team",
                "career.total_wins",
                "career.total_points",
                "career.championships",
                "race_results.0.round",
                "race_results.0.race",
                "race_results.0.position",
                "race_results.0.grid",
                "race_results.0.status",
                "race_results.0.points",
                "race_results.0.fastest_lap",
            ],
            equals={"current_season.points": p.driver_points},
        ),
        route("teams", f"/profiles/teams?season={s}", ["teams.0.constructor.name"]),
        route(
            "team profile",
            f"/profiles/teams/{p.team}?season={s}",
            [
                "constructor.name",
                "constructor.nationality",
                "current_season.position",
                "current_season.wins",
                "current_season.drivers.0.driver.driverId",
                "current_season.drivers.0.position",
                "race_results.0.race",
                "race_results.0.total_points",
                "race_results.0.results.0.position",
                "race_results.0.results.0.driver",
                "race_results.0.results.0.points",
            ],
            equals={"current_season.points": p.team_points},
        ),
        # Comparison page.
        route(
            "compare season",
            f"/comparison/drivers/season?driver1={p.driver}&driver2={p.rival}&season={s}",
            [
                "driver1.info.givenName",
                "driver1.team.name",
                "driver1.position",
                "driver1.id",
                "head_to_head.races_compared",
                "head_to_head.driver1_percentage",
                "head_to_head.points_difference",
                "race_by_race.0.race",
                "race_by_race.0.winner",
                "race_by_race.0.driver1.position",
                "race_by_race.0.driver1.grid",
            ],
        ),
        route(
            "compare race",
            "/comparison/drivers/race?driver1=HAM&driver2=BOT&year=2018&race=Baku",
            ["driver1.fastest_lap.lap_time", "driver2.total_laps", "delta.fastest_lap"],
        ),
        # Strategy page.
        route(
            "strategy",
            "/strategy/race/2018/Baku",
            [
                "summary.total_drivers",
                "summary.fastest_compound",
                "summary.strategy_distribution",
                "optimal_strategies.all_strategies.0.avg_finishing_position",
                "compound_performance.0.avg_lap_time",
                "compound_performance.0.fastest_lap",
                "pit_stop_timing.most_common_windows.0.lap",
                "driver_strategies.0.strategy_name",
                "driver_strategies.0.stints.0.num_laps",
            ],
        ),
        # Race weekend hub.
        route(
            "race weekend",
            "/race-weekend/current",
            [
                "round",
                "status",
                "race_info.raceName",
                "race_info.Circuit.Location.locality",
                "sessions.0.name",
                "sessions.0.type",
                "sessions.0.date",
            ],
            equals={"year": p.next_season, "round": p.next_round},
        ),
        route(
            "race weekend past",
            f"/race-weekend/{s}/5",
            [
                "results.Results.0.Driver.givenName",
                "qualifying.QualifyingResults.0.position",
                "status",
            ],
            equals={"status": "completed"},
        ),
        # Dashboard widgets.
        route("widgets", "/widgets/available", ["widgets.0.id", "widgets.0.name"]),
        route("next race widget", "/widgets/data/next_race/public", ["data.raceName"]),
        route(
            "leader widget",
            "/widgets/data/championship_leader",
            ["data.standing.points"],
            auth=True,
        ),
        route(
            "favourite driver widget",
            "/widgets/data/favorite_driver",
            ["data.driver.code", "data.current_season.points"],
            auth=True,
            equals={"data.driver.code": p.leader_code},
        ),
        # Predictor page.
        route(
            "scoring rules",
            "/predictor/scoring-rules",
            ["description", "prediction_scoring.exact_position", "bonus_points"],
        ),
        route(
            "template",
            f"/predictor/template/{s}/5",
            [
                "race.raceName",
                "race.Circuit.circuitName",
                "drivers.0.driver_id",
                "drivers.0.code",
                "drivers.0.name",
                "drivers.0.team",
            ],
        ),
        route(
            "score",
            f"/predictor/score/{s}/5",
            ["total_score", "detailed_scores"],
            method="POST",
            body=p.picks,
            equals={"max_possible_score": 25 * len(p.picks)},
        ),
        route("ai prediction", f"/predictor/ai-prediction/{s}/5", ["detail"], status=501),
        route(
            "save prediction",
            saved_path,
            ["prediction.version", "open"],
            method="PUT",
            auth=True,
            body=p.saved,
            equals={"open": True},
        ),
        route(
            "own prediction",
            saved_path,
            ["prediction.picks.0.driver_id"],
            auth=True,
            equals={"prediction.picks.length": len(p.saved)},
        ),
    ]


PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>frontend calls</title></head>
<body><script>
const API = %(api)s;
const ACCOUNT = %(account)s;
const ROUTES = %(routes)s;

async function call(method, path, token, body) {
  const headers = {"Content-Type": "application/json"};  // axios.create's default
  if (token) headers.Authorization = `Bearer ${token}`;
  const init = {method, headers};
  if (body !== null && body !== undefined) init.body = JSON.stringify(body);
  const response = await fetch(API + path, init);
  let data = null;
  try { data = await response.json(); } catch (e) { data = null; }
  return {status: response.status, data};
}

function at(value, path) {
  for (const key of path.split(".")) {
    if (value === null || value === undefined) return undefined;
    value = value[key];
  }
  return value;
}

async function step(name, run, status, fields, equals) {
  try {
    const answer = await run();
    const problems = [];
    if (answer.status !== status) problems.push(`status ${answer.status}, not ${status}`);
    for (const field of fields) {
      if (at(answer.data, field) === undefined) problems.push(`no ${field}`);
    }
    for (const [field, expected] of Object.entries(equals)) {
      const found = at(answer.data, field);
      if (JSON.stringify(found) !== JSON.stringify(expected)) {
        problems.push(`${field} is ${JSON.stringify(found)}, not ${JSON.stringify(expected)}`);
      }
    }
    return {name, ok: problems.length === 0, problems, data: answer.data};
  } catch (error) {
    return {name, ok: false, problems: [String(error)], data: null};
  }
}

async function main() {
  const results = [];
  const signup = await step("sign up", () => call("POST", "/auth/register", null, ACCOUNT),
    201, ["id", "username"], {username: ACCOUNT.username});
  results.push(signup);
  // The login page posts a form (OAuth2's password flow): no JSON content type.
  const login = await step("login", async () => {
    const form = new URLSearchParams({username: ACCOUNT.email, password: ACCOUNT.password});
    const response = await fetch(API + "/auth/login", {method: "POST", body: form});
    return {status: response.status, data: await response.json()};
  }, 200, ["access_token", "token_type"], {token_type: "bearer"});
  results.push(login);
  const token = login.data && login.data.access_token;
  results.push(await step("me", () => call("GET", "/auth/me", token), 200, ["username"],
    {username: ACCOUNT.username}));
  for (const r of ROUTES) {
    results.push(await step(r.name, () => call(r.method, r.path, r.auth ? token : null, r.body),
      r.status, r.fields, r.equals));
  }
  window.__results = results.map(({name, ok, problems}) => ({name, ok, problems}));
}
main();
</script></body></html>
"""


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_docs_browser", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@contextmanager
def api_server(settings_values: dict[str, Any], tmp_path: Path) -> Iterator[str]:
    """The app under uvicorn in a thread; predictions (and the widget that shows them) run
    on the fixtures' clock."""
    settings = app_settings(tmp_path, **settings_values)
    asyncio.run(upgrade_async(settings.database_url))
    app = create_app(settings, configure_logs=False)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the API did not start"
        time.sleep(0.05)
    resources: Resources = app.state.resources
    resources.predictions = PredictionService(resources.db, resources.f1, clock=lambda: NOW)
    resources.widgets = WidgetService(
        resources.f1, resources.sessions, resources.profiles, resources.predictions
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=60)


def run_page(chromium: str, url: str) -> list[dict[str, Any]]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True)
        try:
            page = browser.new_page()
            page.goto(url)
            page.wait_for_function("window.__results !== undefined", timeout=PAGE_TIMEOUT_MS)
            results: list[dict[str, Any]] = page.evaluate("window.__results")
        finally:
            browser.close()
    return results


@pytest.mark.parametrize("allowed", [True, False], ids=["cors-on", "origin-removed"])
def test_the_frontend_calls_from_another_origin(
    allowed: bool,
    replay: Replay,
    replay_now: Any,
    fixtures_csv: Csv,
    postgres_url: str,
    tmp_path: Path,
) -> None:
    script = _load_script()
    try:
        chromium = script.find_chromium()
    except script.CheckFailed as exc:
        unavailable(str(exc))
    replay_now(NOW)  # Jolpica's current and next: the fixtures' running season
    plan = plan_from(fixtures_csv)
    calls = routes(plan)
    tag = uuid.uuid4().hex[:6]
    account = {
        "email": f"jose.{tag}@example.com",
        "username": f"José Maria {tag}",
        "password": "correct horse battery",
    }
    # The page's origin is needed before the API starts (its CORS setting), the API's URL
    # once it listens: the page is filled in then.
    html_ref = {"html": ""}
    with page_server(free_port(), html_ref) as page_url:
        origins = page_url if allowed else "http://localhost:3000"
        values = fastf1_app_settings(replay, database_url=postgres_url, cors_origins=origins)
        with api_server(values, tmp_path) as api_url:
            html_ref["html"] = PAGE % {
                "api": json.dumps(f"{api_url}/api/v1"),
                "account": json.dumps(account, ensure_ascii=False),
                "routes": json.dumps(calls, ensure_ascii=False),
            }
            results = run_page(chromium, page_url + "/")
    names = ["sign up", "login", "me", *(c["name"] for c in calls)]
    assert [r["name"] for r in results] == names
    if allowed:
        failed = [f"{r['name']}: {'; '.join(r['problems'])}" for r in results if not r["ok"]]
        assert not failed, "\n".join(failed)
    else:
        # The browser refuses every answer: fetch rejects, nothing is read.
        assert all(not r["ok"] for r in results)
        assert all("Failed to fetch" in " ".join(r["problems"]) for r in results)


@contextmanager
def page_server(port: int, ref: dict[str, str]) -> Iterator[str]:
    """The page alone on ``port`` (another origin than the API's), serving ``ref["html"]``
    as it is when asked."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            content = ref["html"].encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        def log_message(self, *args: Any) -> None:
            return

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        httpd.shutdown()
        httpd.server_close()
