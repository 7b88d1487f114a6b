"""The replay upstream over real HTTP: lookups, byte-for-byte bodies, faults, counting, control.

Expected bodies are read from the fixture files themselves (and their manifests).
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import pytest

from pypole_gql.replay import FIXTURES_NOW, ReplayFixturesError, ReplayServer, run_replay
from pypole_gql.replay.ergast import AFTER_LAST_RESULTS
from pypole_gql.replay.generator import ErgastResponder
from tests.jolpica_oracle import oracle_for
from tests.plugins.replay import Replay

RACE_2018 = "2018/2018-04-29_Azerbaijan_Grand_Prix/2018-04-29_Race"


def get(replay: Replay, target: str, **kwargs: Any) -> httpx.Response:
    return httpx.get(f"{replay.url}{target}", timeout=10, **kwargs)


def read(fixtures_dir: Path, rel: str) -> bytes:
    return (fixtures_dir / rel).read_bytes()


async def raw_get(base_url: str, target: str) -> tuple[int, bytes]:
    """A GET with the request target sent exactly as given (no client-side normalising)."""
    parts = urlsplit(base_url)
    assert parts.hostname is not None and parts.port is not None
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    writer.write(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    data = await reader.read()
    writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


# -- recorded Jolpica responses --------------------------------------------------------------


def test_every_jolpica_recording_is_served_byte_for_byte(
    replay: Replay, fixtures_dir: Path
) -> None:
    manifest = json.loads(read(fixtures_dir, "jolpica/manifest.json"))
    with httpx.Client(base_url=replay.url) as client:
        responses = [
            (entry, client.get(entry["request_path"], params=entry["query"]))
            for entry in manifest["responses"]
        ]
    for entry, response in responses:
        assert response.status_code == 200, entry["file"]
        assert response.headers["content-type"] == "application/json"
        assert response.headers["x-replay-source"] == "recording"
        assert response.content == read(fixtures_dir, f"jolpica/{entry['file']}"), entry["file"]


# Each upstream base FastF1 uses, and what a client sets it to on the replay.
FASTF1_BASES = {
    "https://livetiming.formula1.com": "",
    "https://livetiming-mirror.fastf1.dev": "",
    "https://api.jolpi.ca/ergast/f1": "/ergast/f1",
    "https://raw.githubusercontent.com/theOehrly/f1schedule/master/": "/f1schedule/",
}


def test_every_fastf1_recording_is_served_byte_for_byte(replay: Replay, fixtures_dir: Path) -> None:
    with httpx.Client(base_url=replay.url) as client:
        for entry in json.loads(read(fixtures_dir, "fastf1/MANIFEST.json")):
            file, url = entry["file"], entry["upstream_url"]
            expected = fixtures_dir / "fastf1" / file
            if file.startswith("ergast/") and (fixtures_dir / "jolpica" / file).is_file():
                expected = fixtures_dir / "jolpica" / file  # jolpica/ wins a name both hold
            [(base, to)] = [(b, r) for b, r in FASTF1_BASES.items() if url.startswith(b)]
            response = client.get(to + url.removeprefix(base))
            assert response.status_code == 200, file
            assert response.content == expected.read_bytes(), file


@pytest.mark.parametrize(
    "target",
    ["/ergast/f1/2023/races", "/ergast/f1/2023/races/", "/ergast/f1/2023/races.json"],
)
def test_path_forms_map_to_the_same_recording(
    replay: Replay, fixtures_dir: Path, target: str
) -> None:
    response = get(replay, target)
    assert response.content == read(fixtures_dir, "jolpica/ergast/f1/2023/races.json")


def test_path_is_looked_up_without_regard_to_case(replay: Replay, fixtures_dir: Path) -> None:
    expected = read(fixtures_dir, "jolpica/ergast/f1/2023/4/driverStandings.json")
    for target in ("/ergast/f1/2023/4/driverstandings.json", "/ergast/f1/2023/4/DRIVERSTANDINGS"):
        response = get(replay, target)
        assert response.headers["x-replay-source"] == "recording"
        assert response.content == expected


def test_query_is_sorted_and_format_dropped(replay: Replay, fixtures_dir: Path) -> None:
    response = get(replay, "/ergast/f1/2021/5/laps.json?offset=200&format=json&limit=100")
    assert response.headers["x-replay-source"] == "recording"
    assert response.content == read(
        fixtures_dir, "jolpica/ergast/f1/2021/5/laps__limit-100__offset-200.json"
    )


def test_fastf1_recordings_are_found_too(replay: Replay, fixtures_dir: Path) -> None:
    response = get(replay, "/ergast/f1/2018/4/laps/1.json")
    assert response.content == read(fixtures_dir, "fastf1/ergast/f1/2018/4/laps/1.json")


@pytest.mark.parametrize(
    "target", ["/ergast/f1/2023/notanendpoint/x/y.json", "/ergast/f1/", "/ergast/f1"]
)
def test_malformed_ergast_path_is_a_json_404(replay: Replay, target: str) -> None:
    response = get(replay, target)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert "detail" in response.json()


# -- the generator seam (a fake generator, so only the server's rules are under test) --------


class FakeGenerator:
    def __init__(self, answer: bool = True, fail: bool = False) -> None:
        self.answer = answer
        self.fail = fail
        self.calls: list[tuple[str, dict[str, str], datetime]] = []

    def after_last_results(self) -> datetime | None:
        return None

    def respond(self, path: str, query: Mapping[str, str], now: datetime) -> dict[str, Any] | None:
        self.calls.append((path, dict(query), now))
        if self.fail:
            raise RuntimeError("generator bug")
        return {"MRData": {"path": path, "query": dict(query)}} if self.answer else None


NOW = datetime(2024, 3, 1, 12, tzinfo=UTC)


@pytest.fixture
async def start_fake() -> AsyncIterator[Any]:
    servers: list[ReplayServer] = []

    async def start(fixtures_dir: Path, generator: ErgastResponder | None) -> str:
        server = ReplayServer(fixtures_dir, NOW, generator_factory=lambda _csv: generator)
        servers.append(server)
        return await server.start()

    yield start
    for server in servers:
        await server.stop()


async def test_recording_wins_over_the_generator(fixtures_dir: Path, start_fake: Any) -> None:
    generator = FakeGenerator()
    url = await start_fake(fixtures_dir, generator)
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{url}/ergast/f1/2023/results.json")
    assert response.content == read(fixtures_dir, "jolpica/ergast/f1/2023/results.json")
    assert generator.calls == []


async def test_unrecorded_request_goes_to_the_generator(
    fixtures_dir: Path, start_fake: Any
) -> None:
    generator = FakeGenerator()
    url = await start_fake(fixtures_dir, generator)
    async with httpx.AsyncClient() as client:
        response = await client.get(
            f"{url}/ergast/f1/2023/results.json?limit=100&offset=30&format=json"
        )
    assert response.headers["x-replay-source"] == "generated"
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "MRData": {"path": "2023/results.json", "query": {"limit": "100", "offset": "30"}}
    }
    assert generator.calls == [("2023/results.json", {"limit": "100", "offset": "30"}, NOW)]


async def test_generator_none_is_a_404_without_fallback(
    fixtures_dir: Path, start_fake: Any
) -> None:
    url = await start_fake(fixtures_dir, FakeGenerator(answer=False))
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{url}/ergast/f1/2023/results.json?offset=30")
    assert response.status_code == 404


async def test_without_generator_the_query_less_recording_answers(
    fixtures_dir: Path, start_fake: Any
) -> None:
    url = await start_fake(fixtures_dir, None)
    async with httpx.AsyncClient() as client:
        fallback = await client.get(f"{url}/ergast/f1/2023/results.json?offset=30")
        missing = await client.get(f"{url}/ergast/f1/2024/results.json?offset=30")
    assert fallback.headers["x-replay-source"] == "fallback"
    assert fallback.content == read(fixtures_dir, "jolpica/ergast/f1/2023/results.json")
    assert missing.status_code == 404


async def test_failing_generator_falls_back_or_answers_500(
    fixtures_dir: Path, start_fake: Any
) -> None:
    url = await start_fake(fixtures_dir, FakeGenerator(fail=True))
    async with httpx.AsyncClient() as client:
        fallback = await client.get(f"{url}/ergast/f1/2023/results.json?offset=30")
        failed = await client.get(f"{url}/ergast/f1/2024/results.json")
    assert fallback.headers["x-replay-source"] == "fallback"
    assert failed.status_code == 500


# -- live timing and schedule files ----------------------------------------------------------


def test_synthetic_overlay_is_served(replay: Replay, fixtures_dir: Path) -> None:
    response = get(replay, f"/static/{RACE_2018}/CarData.z.jsonStream")
    assert response.status_code == 200
    assert response.headers["x-replay-source"] == "synthetic"
    assert response.content == read(
        fixtures_dir, f"fastf1-synthetic/static/{RACE_2018}/CarData.z.jsonStream"
    )


def test_recorded_live_timing_file_byte_for_byte(replay: Replay, fixtures_dir: Path) -> None:
    response = get(replay, f"/static/{RACE_2018}/TimingData.jsonStream")
    assert response.headers["x-replay-source"] == "static"
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.content == read(
        fixtures_dir, f"fastf1/static/{RACE_2018}/TimingData.jsonStream"
    )


def test_url_encoded_static_path_is_decoded(replay: Replay, fixtures_dir: Path) -> None:
    encoded = quote(f"{RACE_2018}/SessionInfo.jsonStream", safe="/").replace("_", "%5F")
    response = get(replay, f"/static/{encoded}")
    assert response.content == read(
        fixtures_dir, f"fastf1/static/{RACE_2018}/SessionInfo.jsonStream"
    )


def test_schedule_is_utf8_text(replay: Replay, fixtures_dir: Path) -> None:
    response = get(replay, "/f1schedule/schedule_2018.json")
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.content == read(fixtures_dir, "fastf1/f1schedule/schedule_2018.json")


@pytest.mark.parametrize(
    "target",
    [
        "/static/../fastf1/README.md",
        "/static/%2e%2e/%2e%2e/fastf1/README.md",
        "/static/2018/..%2f..%2fREADME.md",
        "/static/2018/..%5c..%5cREADME.md",
        "/f1schedule/%2e%2e/README.md",
        "/f1schedule/..%2FMANIFEST.json",
    ],
)
async def test_path_traversal_is_refused(replay: Replay, fixtures_dir: Path, target: str) -> None:
    status, body = await raw_get(replay.url, target)
    assert status == 404
    assert body != read(fixtures_dir, "fastf1/README.md")
    assert body != read(fixtures_dir, "fastf1/MANIFEST.json")


# -- faults ----------------------------------------------------------------------------------


def test_status_fault_applies_the_given_number_of_times(replay: Replay, fixtures_dir: Path) -> None:
    replay.fault("/ergast/f1/2023/*", status=503, times=2)
    statuses = [get(replay, "/ergast/f1/2023/drivers.json").status_code for _ in range(3)]
    assert statuses == [503, 503, 200]
    assert [r.fault for r in replay.requests()] == ["status=503", "status=503", None]


def test_429_carries_retry_after(replay: Replay) -> None:
    with replay.fault(prefix="/ergast/", status=429):
        default = get(replay, "/ergast/f1/2023/drivers.json")
    with replay.fault(prefix="/ergast/", status=429, retry_after=120):
        explicit = get(replay, "/ergast/f1/2023/drivers.json")
    assert (default.status_code, default.headers["retry-after"]) == (429, "1")
    assert explicit.headers["retry-after"] == "120"


def test_fault_is_removed_on_leaving_the_block(replay: Replay) -> None:
    with replay.fault(re.compile(r"/drivers\.json$"), status=500):
        assert get(replay, "/ergast/f1/2023/drivers.json").status_code == 500
        assert get(replay, "/ergast/f1/2023/circuits.json").status_code == 200
    assert get(replay, "/ergast/f1/2023/drivers.json").status_code == 200


def test_fault_can_require_query_items(replay: Replay) -> None:
    replay.fault(prefix="/ergast/", query={"offset": "200"}, status=503)
    assert get(replay, "/ergast/f1/2021/5/laps.json?limit=100&offset=100").status_code == 200
    assert get(replay, "/ergast/f1/2021/5/laps.json?limit=100&offset=200").status_code == 503


def test_first_added_fault_wins(replay: Replay) -> None:
    replay.fault(prefix="/ergast/", status=500, times=1)
    replay.fault(prefix="/ergast/", status=503)
    statuses = [get(replay, "/ergast/f1/2023/drivers.json").status_code for _ in range(2)]
    assert statuses == [500, 503]


def test_drop_closes_the_connection_without_a_response(replay: Replay) -> None:
    replay.fault("/static/*", drop=True, times=1)
    with pytest.raises(httpx.RemoteProtocolError):
        get(replay, f"/static/{RACE_2018}/LapCount.jsonStream")
    [record] = replay.requests()
    assert (record.status, record.fault) == (None, "drop")


def test_broken_body_is_truncated_json_with_200(replay: Replay, fixtures_dir: Path) -> None:
    replay.fault(prefix="/ergast/", broken_body=True)
    response = get(replay, "/ergast/f1/2023/drivers.json")
    full = read(fixtures_dir, "jolpica/ergast/f1/2023/drivers.json")
    assert response.status_code == 200
    assert 0 < len(response.content) < len(full)
    assert full.startswith(response.content)
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)


async def test_delay_does_not_hold_up_other_requests(replay: Replay) -> None:
    replay.fault("/ergast/f1/2023/drivers.json", delay=1.5)
    async with httpx.AsyncClient(base_url=replay.url, timeout=10) as client:
        started = time.monotonic()

        async def timed(target: str) -> float:
            response = await client.get(target)
            assert response.status_code == 200
            return time.monotonic() - started

        slow, fast = await asyncio.gather(
            timed("/ergast/f1/2023/drivers.json"), timed("/ergast/f1/2023/circuits.json")
        )
    assert slow >= 1.5
    assert fast < 1.0


async def test_client_that_gives_up_during_a_delay_is_still_counted(replay: Replay) -> None:
    replay.fault(prefix="/ergast/", delay=2.0)
    async with httpx.AsyncClient(base_url=replay.url, timeout=0.3) as client:
        with pytest.raises(httpx.TimeoutException):
            await client.get("/ergast/f1/2023/drivers.json")
    assert replay.count(prefix="/ergast/") == 1


def test_bad_fault_is_rejected() -> None:
    from pypole_gql.replay import Fault

    with pytest.raises(ValueError, match="exclude each other"):
        Fault(status=503, drop=True)
    with pytest.raises(ValueError, match="needs"):
        Fault()


# -- counting --------------------------------------------------------------------------------


def test_counts_by_prefix_glob_regex_and_query(replay: Replay) -> None:
    for target in (
        "/ergast/f1/2021/5/laps.json?limit=100&offset=100",
        "/ergast/f1/2021/5/laps.json?limit=100&offset=200",
        "/ergast/f1/2023/drivers.json",
        f"/static/{RACE_2018}/LapCount.jsonStream",
        "/f1schedule/schedule_2018.json",
    ):
        get(replay, target)
    assert replay.count() == 5
    assert replay.count(prefix="/ergast/f1/") == 3
    assert replay.count("/ergast/f1/2021/*/laps.json") == 2
    assert replay.count(re.compile(r"\.jsonStream$")) == 1
    assert replay.count(prefix="/ergast/", query={"offset": "200"}) == 1
    assert replay.count(method="POST") == 0


def test_record_fields(replay: Replay) -> None:
    before = time.time()
    get(replay, "/ergast/f1/2021/5/laps.json?offset=100&limit=100")
    get(replay, "/ergast/f1/2023/notanendpoint/x/y.json")
    found, missing = replay.requests()
    assert (found.method, found.path, found.query) == (
        "GET",
        "/ergast/f1/2021/5/laps.json",
        {"offset": "100", "limit": "100"},
    )
    assert found.target == "/ergast/f1/2021/5/laps.json?offset=100&limit=100"
    assert (found.status, found.source, found.fault) == (200, "recording", None)
    assert before <= found.time <= missing.time <= time.time()
    assert (missing.status, missing.source) == (404, "missing")


def test_reset_forgets_requests_and_faults(replay: Replay) -> None:
    replay.fault(prefix="/ergast/", status=503)
    get(replay, "/ergast/f1/2023/drivers.json")
    replay.reset()
    assert replay.count() == 0
    assert get(replay, "/ergast/f1/2023/drivers.json").status_code == 200


# -- the control API over HTTP ---------------------------------------------------------------


def test_admin_lists_filtered_requests_and_is_not_counted(replay: Replay) -> None:
    get(replay, "/ergast/f1/2023/drivers.json")
    get(replay, "/ergast/f1/2023/drivers.json")
    get(replay, "/f1schedule/schedule_2018.json")
    body = get(replay, "/_replay/requests", params={"prefix": "/ergast/"}).json()
    assert body["count"] == 2
    assert body["counts"] == {"/ergast/f1/2023/drivers.json": 2}
    assert [r["status"] for r in body["requests"]] == [200, 200]
    by_glob = get(replay, "/_replay/requests", params={"glob": "/f1schedule/*"}).json()
    assert by_glob["count"] == 1
    assert replay.count() == 3


def test_admin_adds_lists_and_removes_faults(replay: Replay) -> None:
    added = httpx.post(
        f"{replay.url}/_replay/faults", json={"prefix": "/ergast/", "status": 503, "times": 5}
    )
    assert added.status_code == 201
    assert get(replay, "/ergast/f1/2023/drivers.json").status_code == 503
    [listed] = get(replay, "/_replay/faults").json()
    assert (listed["id"], listed["remaining"], listed["hits"]) == (added.json()["id"], 4, 1)
    removed = httpx.delete(f"{replay.url}/_replay/faults/{listed['id']}")
    assert removed.status_code == 204
    assert httpx.delete(f"{replay.url}/_replay/faults/{listed['id']}").status_code == 404
    assert get(replay, "/ergast/f1/2023/drivers.json").status_code == 200


def test_admin_clears_faults_and_resets(replay: Replay) -> None:
    httpx.post(f"{replay.url}/_replay/faults", json={"glob": "/static/*", "drop": True})
    assert httpx.delete(f"{replay.url}/_replay/faults").status_code == 204
    assert get(replay, "/_replay/faults").json() == []
    get(replay, "/f1schedule/schedule_2018.json")
    assert httpx.post(f"{replay.url}/_replay/reset").status_code == 204
    assert get(replay, "/_replay/requests").json()["count"] == 0


@pytest.mark.parametrize(
    "body",
    [{"prefix": "/ergast/"}, {"status": "503"}, {"regex": "("}, {"nonsense": 1}, [1, 2]],
)
def test_admin_rejects_a_bad_fault(replay: Replay, body: Any) -> None:
    response = httpx.post(f"{replay.url}/_replay/faults", json=body)
    assert response.status_code == 400
    assert response.json()["detail"]


def test_admin_info_has_fixture_counts(replay: Replay, fixtures_dir: Path) -> None:
    info = get(replay, "/_replay/info").json()
    schedules = list((fixtures_dir / "fastf1/f1schedule").iterdir())
    assert info["schedules"] == len(schedules)
    assert info["url"] == replay.url


# -- the replay's clock ----------------------------------------------------------------------


async def test_fixtures_now_stands_just_after_the_last_race_with_results(
    fixtures_dir: Path,
) -> None:
    oracle = oracle_for(fixtures_dir / "jolpica" / "csv")
    season, round_ = oracle.last_race_with_results()
    following = oracle.race_after(season, round_)
    server = ReplayServer(fixtures_dir, FIXTURES_NOW)
    assert server.now is None  # known once the CSV is loaded, by start()
    url = await server.start()
    try:
        async with httpx.AsyncClient(base_url=url) as client:
            current = (await client.get("/ergast/f1/current.json")).json()
            last = (await client.get("/ergast/f1/current/last.json")).json()
            upcoming = (await client.get("/ergast/f1/current/next.json")).json()
            info = (await client.get("/_replay/info")).json()
    finally:
        await server.stop()

    expected_now = oracle.race_start(season, round_) + AFTER_LAST_RESULTS
    assert server.now == expected_now
    assert info["now"] == expected_now.isoformat()
    races = current["MRData"]["RaceTable"]["Races"]
    assert [int(race["round"]) for race in races] == oracle.rounds(season)
    (last_race,) = last["MRData"]["RaceTable"]["Races"]
    assert (int(last_race["season"]), int(last_race["round"])) == (season, round_)
    (next_race,) = upcoming["MRData"]["RaceTable"]["Races"]
    assert (int(next_race["season"]), int(next_race["round"])) == following


async def test_fixtures_now_without_a_generator_is_the_wall_clock(fixtures_dir: Path) -> None:
    server = ReplayServer(fixtures_dir, FIXTURES_NOW, generator_factory=lambda _csv: None)
    await server.start()
    await server.stop()

    assert server.now is None


# -- start-up --------------------------------------------------------------------------------


def test_missing_fixtures_dir_is_named(tmp_path: Path) -> None:
    with pytest.raises(ReplayFixturesError, match="does not exist"):
        ReplayServer(tmp_path / "nowhere")


def test_incomplete_fixtures_dir_names_what_is_missing(tmp_path: Path) -> None:
    (tmp_path / "jolpica/ergast/f1").mkdir(parents=True)
    (tmp_path / "jolpica/ergast/f1/2023.json").write_text("{}")
    with pytest.raises(ReplayFixturesError) as info:
        ReplayServer(tmp_path)
    message = str(info.value)
    assert "jolpica/csv" in message
    assert "fastf1/static" in message
    assert "jolpica/ergast/f1/ " not in message


def test_run_replay_exits_with_a_message_for_a_bad_dir(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as info:
        run_replay(tmp_path / "nowhere", "127.0.0.1", 0, None)
    assert str(info.value.code).startswith("pypole replay: ")
    assert "does not exist" in str(info.value.code)
