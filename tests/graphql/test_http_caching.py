"""HTTP caching end to end on the real app and the replay upstream: automatic persisted
queries (Apollo's protocol, over GET), the allow-list mode with a manifest written by
``pypole persist`` (run as a subprocess), and ``ETag`` / ``304`` / ``Cache-Control``.

Expected values come from the fixtures (through the plain query's own answer), the
settings (TTLs) and the manifest the command wrote; nothing is timed.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from graphql import FragmentDefinitionNode, parse, print_ast
from starlette.applications import Starlette

from pypole_gql.cache.graphql_keys import ResponseCache
from pypole_gql.cache.responses import MAX_TTL
from pypole_gql.graphql.persisted import PersistedQueries
from tests.auth.support import bearer, gql_register
from tests.jolpica_support import Counter, at_most
from tests.plugins.app import running_app
from tests.plugins.app import test_settings as app_settings
from tests.plugins.fastf1 import SessionsApp

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "queries"

SCHEDULE = "query Schedule($year: Int) { season(year: $year) { year races { round name date } } }"
JOLPICA = "/api/v1/jolpica"
#: Settings the Cache-Control values are checked against.
LIVE_TTL = 600
ARCHIVE_TTL = 30 * 24 * 3600
#: A moment inside the fixtures' last season, for the replay's ``current``.
MID_SEASON = datetime(2025, 7, 1, 12, tzinfo=UTC)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def persisted(digest: str) -> str:
    return orjson.dumps({"persistedQuery": {"version": 1, "sha256Hash": digest}}).decode()


def max_age(response: httpx.Response) -> int:
    match = re.fullmatch(r"public, max-age=(\d+)", response.headers["cache-control"])
    assert match, response.headers["cache-control"]
    return int(match[1])


@dataclass
class Harness:
    app: Starlette
    client: httpx.AsyncClient

    @property
    def responses(self) -> ResponseCache:
        layer: ResponseCache = self.app.state.response_cache
        return layer

    @property
    def persisted(self) -> PersistedQueries:
        layer: PersistedQueries = self.app.state.persisted_queries
        return layer

    async def get(self, headers: dict[str, str] | None = None, **params: Any) -> httpx.Response:
        query = {
            k: v if isinstance(v, str) else orjson.dumps(v).decode() for k, v in params.items()
        }
        return await self.client.get("/graphql", params=query, headers=headers)


@pytest.fixture(params=["memory", "redis"])
def cache_settings(request: pytest.FixtureRequest) -> dict[str, Any]:
    if request.param == "memory":
        return {"redis_url": ""}
    return {
        "redis_url": request.getfixturevalue("redis_url"),
        "redis_namespace": request.getfixturevalue("redis_cleanup"),
    }


@pytest.fixture
def harness(tmp_path: Path, replay: Any) -> Any:
    @asynccontextmanager
    async def factory(**overrides: Any) -> AsyncIterator[Harness]:
        values: dict[str, Any] = {
            "jolpica_url": f"{replay.url}/ergast/f1",
            "jolpica_rate": "1000/second",
            "jolpica_ttl": LIVE_TTL,
            "archive_ttl": ARCHIVE_TTL,
            "redis_namespace": f"pypole-test-{uuid.uuid4().hex[:10]}",
        }
        values.update(overrides)
        async with running_app(app_settings(tmp_path, **values)) as app:
            transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
            async with httpx.AsyncClient(
                transport=transport, base_url="http://testserver"
            ) as client:
                yield Harness(app, client)

    return factory


# -- automatic persisted queries ----------------------------------------------------------


async def test_apq_round_trip_over_get(
    harness: Any, replay: Any, cache_settings: dict[str, Any]
) -> None:
    variables = {"year": 2023}
    digest = sha256(SCHEDULE)
    async with harness(**cache_settings) as h:
        plain = await h.client.post("/graphql", json={"query": SCHEDULE, "variables": variables})
        assert plain.status_code == 200 and "errors" not in plain.json(), plain.text

        unknown = await h.get(extensions=persisted(digest), variables=variables)
        assert unknown.status_code == 200
        [error] = unknown.json()["errors"]
        assert error["message"] == "PersistedQueryNotFound"
        assert error["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"

        registered = await h.get(extensions=persisted(digest), variables=variables, query=SCHEDULE)
        assert registered.status_code == 200
        assert registered.content == plain.content
        assert h.persisted.registered == 1

        hits = h.responses.stats.hits
        with at_most(replay, 0):
            by_hash = await h.get(extensions=persisted(digest), variables=variables)
        assert by_hash.status_code == 200
        assert by_hash.content == plain.content
        # The response cache serves it: the same entry as the query sent in full.
        assert h.responses.stats.hits == hits + 1
        assert len(str(by_hash.request.url)) < len(str(registered.request.url))

    if cache_settings["redis_url"]:
        # Another worker (a fresh process: nothing in memory) knows the hash through Redis.
        async with harness(**cache_settings) as other:
            again = await other.get(extensions=persisted(digest), variables=variables)
        assert again.status_code == 200
        assert again.content == plain.content
        assert other.persisted.registered == 0


async def test_an_unknown_hash_is_persisted_query_not_found(harness: Any) -> None:
    async with harness() as h:
        response = await h.get(extensions=persisted(sha256("{ nothing }")))
        posted = await h.client.post(
            "/graphql", json={"extensions": orjson.loads(persisted(sha256("{ nothing }")))}
        )
    for answer in (response, posted):
        assert answer.status_code == 200
        [error] = answer.json()["errors"]
        assert error["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
        assert answer.headers["cache-control"] == "no-store"


async def test_a_hash_that_is_not_the_querys_is_refused(harness: Any) -> None:
    other = sha256(SCHEDULE + " ")
    async with harness() as h:
        response = await h.get(extensions=persisted(other), query=SCHEDULE, variables={})
        later = await h.get(extensions=persisted(other), variables={})
        bad_version = await h.get(
            extensions={"persistedQuery": {"version": 2, "sha256Hash": sha256(SCHEDULE)}},
            query=SCHEDULE,
        )
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "PERSISTED_QUERY_HASH_MISMATCH"
    assert "SHA-256" in error["message"]
    assert response.headers["cache-control"] == "no-store"
    # Nothing was registered under the wrong hash.
    assert later.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    assert bad_version.status_code == 400
    assert "version" in bad_version.json()["errors"][0]["message"]


# -- the allow-list -------------------------------------------------------------------------


def persist(manifest: Path) -> list[dict[str, Any]]:
    """``pypole persist examples/queries`` as a subprocess; the manifest's operations."""
    done = subprocess.run(
        [sys.executable, "-m", "pypole_gql", "persist", str(EXAMPLES), "--output", str(manifest)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=manifest.parent,
    )
    assert done.returncode == 0, done.stderr
    operations: list[dict[str, Any]] = orjson.loads(manifest.read_bytes())["operations"]
    # Each operation's printed hash is the manifest's id for it.
    for entry in operations:
        assert f"{entry['id']}  {entry['type']} {entry['name']}" in done.stdout
    return operations


async def test_allow_list_runs_registered_operations_only(
    harness: Any, tmp_path: Path, replay: Any
) -> None:
    manifest = tmp_path / "manifest.json"
    operations = persist(manifest)
    names = {entry["name"] for entry in operations}
    expected = {
        m[1]
        for path in EXAMPLES.glob("*.graphql")
        for m in re.finditer(r"^(?:query|mutation) (\w+)", path.read_text(), re.M)
    }
    assert names == expected
    dashboard = next(e for e in operations if e["name"] == "SeasonDashboard")
    variables = {"year": 2023}

    async with harness(persisted_only=False) as open_server:
        oracle = await open_server.client.post(
            "/graphql", json={"query": dashboard["body"], "variables": variables}
        )
    assert oracle.status_code == 200 and "errors" not in oracle.json(), oracle.text

    async with harness(persisted_only=True, persisted_queries_file=manifest) as h:
        refused = await h.get(query=SCHEDULE, variables=variables)
        refused_post = await h.client.post(
            "/graphql", json={"query": SCHEDULE, "variables": variables}
        )
        refused_apq = await h.get(
            extensions=persisted(sha256(SCHEDULE)), query=SCHEDULE, variables=variables
        )
        counter = Counter(replay)
        by_hash = await h.get(extensions=persisted(dashboard["id"]), variables=variables)
        # As a client writes it: the file's own text (comments, spacing) and the
        # fragments it uses, in another order than the manifest's.
        used = set(re.findall(r"\.\.\.(\w+)", dashboard["body"]))
        fragments = [
            print_ast(d)
            for d in parse((EXAMPLES / "fragments.graphql").read_text()).definitions
            if isinstance(d, FragmentDefinitionNode) and d.name.value in used
        ]
        text = "\n".join([(EXAMPLES / "season_dashboard.graphql").read_text(), *fragments[::-1]])
        as_text = await h.client.post(
            "/graphql",
            json={"query": text, "variables": variables, "operationName": "SeasonDashboard"},
        )
    for answer in (refused, refused_post, refused_apq):
        assert answer.status_code == 400, answer.text
        assert answer.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_IN_LIST"
    assert h.persisted.registered == 0
    assert by_hash.status_code == 200
    assert by_hash.json() == oracle.json()
    assert len(counter) > 0  # it ran (a fresh app: nothing cached)
    assert as_text.status_code == 200
    assert as_text.json() == oracle.json()


async def test_allow_list_without_a_manifest_does_not_start(tmp_path: Path) -> None:
    from pypole_gql.app import create_app
    from pypole_gql.config import ConfigError

    settings = app_settings(
        tmp_path, persisted_only=True, persisted_queries_file=tmp_path / "missing.json"
    )
    with pytest.raises(ConfigError, match="pypole persist"):
        create_app(settings, configure_logs=False)


# -- ETag, 304, Cache-Control ---------------------------------------------------------------


def strong_etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


async def test_finished_season_etag_304_and_cache_control(harness: Any, replay: Any) -> None:
    variables = {"year": 2023}
    async with harness() as h:
        first = await h.get(query=SCHEDULE, variables=variables)
        with at_most(replay, 0):
            revalidated = await h.get(
                {"If-None-Match": first.headers["etag"]}, query=SCHEDULE, variables=variables
            )
            listed = await h.get(
                {"If-None-Match": f'"other", W/{first.headers["etag"]}'},
                query=SCHEDULE,
                variables=variables,
            )
            changed = await h.get({"If-None-Match": '"other"'}, query=SCHEDULE, variables=variables)
        later = await h.get(query=SCHEDULE, variables=variables)
        posted = await h.client.post("/graphql", json={"query": SCHEDULE, "variables": variables})

    assert first.status_code == 200 and "errors" not in first.json()
    assert first.json()["data"]["season"]["year"] == 2023
    assert first.headers["etag"] == strong_etag(first.content)
    assert "Accept" in first.headers["vary"] and "Authorization" in first.headers["vary"]
    # A finished season's data is kept for the archive TTL; the response at most MAX_TTL.
    assert LIVE_TTL < max_age(first) <= min(ARCHIVE_TTL, MAX_TTL)

    for answer in (revalidated, listed):
        assert answer.status_code == 304
        assert answer.content == b""
        assert answer.headers["etag"] == first.headers["etag"]
        assert answer.headers["vary"] == first.headers["vary"]
        assert max_age(later) <= max_age(answer) <= max_age(first)
        assert "content-type" not in answer.headers
    assert h.responses.stats.not_modified == 2
    assert changed.status_code == 200
    assert changed.content == first.content
    assert changed.headers["etag"] == first.headers["etag"]
    # POST answers are never publicly cacheable.
    assert posted.status_code == 200
    assert posted.content == first.content
    assert posted.headers["cache-control"] == "no-store"


async def test_current_season_is_cacheable_for_the_live_ttl(harness: Any, replay: Any) -> None:
    replay.server.now = MID_SEASON
    try:
        async with harness() as h:
            graphql = await h.get(query=SCHEDULE)
            rest = await h.client.get(f"{JOLPICA}/schedule/current")
            rest_304 = await h.client.get(
                f"{JOLPICA}/schedule/current", headers={"If-None-Match": rest.headers["etag"]}
            )
            finished = await h.client.get(f"{JOLPICA}/schedule/2023")
    finally:
        replay.server.now = None

    assert graphql.status_code == 200 and "errors" not in graphql.json(), graphql.text
    assert graphql.json()["data"]["season"]["year"] == MID_SEASON.year
    assert 0 < max_age(graphql) <= LIVE_TTL
    assert graphql.headers["etag"] == strong_etag(graphql.content)

    assert rest.status_code == 200
    assert rest.json()["season"] == MID_SEASON.year
    assert 0 < max_age(rest) <= LIVE_TTL
    assert rest.headers["etag"] == strong_etag(rest.content)
    assert rest_304.status_code == 304 and rest_304.content == b""
    assert rest_304.headers["etag"] == rest.headers["etag"]
    assert max_age(rest_304) <= max_age(rest)

    assert finished.status_code == 200
    assert LIVE_TTL < max_age(finished) <= min(ARCHIVE_TTL, MAX_TTL)


async def test_signed_in_answers_are_private(harness: Any) -> None:
    async with harness() as h:
        session = await gql_register(h.client)
        token = session["accessToken"]
        anonymous = await h.get(query=SCHEDULE, variables={"year": 2023})
        signed_in = await h.get(bearer(token), query=SCHEDULE, variables={"year": 2023})
        me = await h.client.post(
            "/graphql", json={"query": "{ me { username } }"}, headers=bearer(token)
        )
        rest = await h.client.get(f"{JOLPICA}/schedule/2023", headers=bearer(token))
        revalidate = await h.get(
            {**bearer(token), "If-None-Match": anonymous.headers["etag"]},
            query=SCHEDULE,
            variables={"year": 2023},
        )
    assert anonymous.headers["cache-control"].startswith("public")
    for answer in (signed_in, me, rest, revalidate):
        assert answer.status_code == 200, answer.text
        assert answer.headers["cache-control"] == "private, no-store"
        assert "etag" not in answer.headers
    assert signed_in.content == anonymous.content
    assert me.json()["data"]["me"]["username"] == session["user"]["username"]


async def test_errors_are_not_cacheable(harness: Any) -> None:
    async with harness() as h:
        invalid = await h.get(query="{ season(year: 2023) { nope } }")
        missing = await h.client.get(f"{JOLPICA}/results/2023/99")
    assert invalid.status_code in (200, 400)
    assert "errors" in invalid.json()
    assert invalid.headers["cache-control"] == "no-store"
    assert "etag" not in invalid.headers
    assert missing.status_code == 404
    assert missing.headers["cache-control"] == "no-store"


async def test_fastf1_rest_reads_carry_etag_and_revalidate(sessions_app: SessionsApp) -> None:
    url = "/api/v1/fastf1/race/2018/Baku/stints"
    first = await sessions_app.client.get(url)
    assert first.status_code == 200, first.text
    assert first.json()["year"] == 2018
    assert first.headers["etag"] == strong_etag(first.content)
    ttl = sessions_app.resources.settings.fastf1_ttl
    assert 0 < max_age(first) <= min(ttl, MAX_TTL)
    revalidated = await sessions_app.client.get(
        url, headers={"If-None-Match": first.headers["etag"]}
    )
    assert revalidated.status_code == 304
    assert revalidated.content == b""
    assert revalidated.headers["etag"] == first.headers["etag"]
