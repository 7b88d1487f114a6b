"""``compose.yaml`` with a ``.env`` copied from ``.env.sample``, as the README says to do.

``docker compose config`` is not available here, so the test resolves the app container's
environment itself, with compose's rules:

- interpolation of ``${VAR}``, ``${VAR:-default}`` (unset or empty), ``${VAR-default}``
  (unset), ``$VAR`` and ``$$`` in ``compose.yaml``, from the shell (empty here) and ``.env``;
- YAML merge keys (``<<:``), which PyYAML's safe loader applies;
- the container's environment: the image's ``ENV`` (the Containerfile's last stage), then
  ``env_file`` (``KEY=`` sets an empty value), then ``environment``, each winning over the
  one before.

Then ``Settings`` reads that environment, as it would in the container.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml

from pypole_gql.config import Environment, Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "compose.yaml"
SAMPLE = ROOT / ".env.sample"
CONTAINERFILE = ROOT / "Containerfile"
SECRET = "compose-test-secret-0123456789-abcdefghijklmnop"
_DOTENV_LINE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$")
_INTERPOLATION = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?-)(?P<default>[^}]*))?\}"
    r"|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))"
)


def parse_dotenv(text: str) -> dict[str, str]:
    """``KEY=VALUE`` lines, ``#`` comments and blank lines (what ``.env.sample`` uses)."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = _DOTENV_LINE.match(stripped)
        assert match is not None, f"not a KEY=VALUE line: {line!r}"
        value = match[2].strip()
        assert not value.startswith(("'", '"')) and " #" not in value, (
            f"{match[1]}: quoting and inline comments are read differently by compose and "
            "by pydantic-settings; keep sample values plain"
        )
        values[match[1]] = value
    return values


def interpolate(value: Any, variables: Mapping[str, str]) -> Any:
    if isinstance(value, dict):
        return {key: interpolate(item, variables) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, variables) for item in value]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        name = match["braced"] or match["plain"]
        current = variables.get(name)
        if match["op"] == ":-" and not current:
            return match["default"]
        if match["op"] == "-" and current is None:
            return match["default"]
        return current or ""

    return _INTERPOLATION.sub(substitute, value)


def image_environment(containerfile: str) -> dict[str, str]:
    """The ``ENV`` of the Containerfile's last stage (the image compose runs)."""
    joined = re.sub(r"\\\n", " ", containerfile)
    last_stage = re.split(r"(?m)^FROM ", joined)[-1]
    environment: dict[str, str] = {}
    for line in last_stage.splitlines():
        if line.startswith("ENV "):
            for item in shlex.split(line[len("ENV ") :]):
                name, _, value = item.partition("=")
                environment[name] = value
    return environment


def as_mapping(environment: Any) -> dict[str, str]:
    if isinstance(environment, list):  # the ["KEY=VALUE", ...] form
        return dict(str(item).partition("=")[::2] for item in environment)
    return {str(key): "" if value is None else str(value) for key, value in environment.items()}


def container_environment(dotenv: str) -> tuple[dict[str, str], dict[str, Any]]:
    """The app service's environment with ``dotenv`` as ``.env``, and the service itself."""
    variables = parse_dotenv(dotenv)
    compose = interpolate(yaml.safe_load(COMPOSE.read_text()), variables)
    service: dict[str, Any] = compose["services"]["app"]
    env_files = service.get("env_file", [])
    assert env_files in (".env", [".env"]), "the test reads .env as the only env_file"
    environment = image_environment(CONTAINERFILE.read_text())
    environment.update(variables)
    environment.update(as_mapping(service.get("environment", {})))
    return environment, service


def volume_targets(service: Mapping[str, Any]) -> list[PurePosixPath]:
    """Mount points of the service's named volumes."""
    targets = []
    for volume in service.get("volumes", []):
        source, _, rest = str(volume).partition(":")
        if rest and not source.startswith((".", "/", "~")):
            targets.append(PurePosixPath(rest.split(":")[0]))
    return targets


def settings_in(environment: Mapping[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name in Settings.model_fields:
        monkeypatch.delenv(f"PYPOLE_{name.upper()}", raising=False)
    for name, value in environment.items():
        if name.startswith("PYPOLE_"):
            monkeypatch.setenv(name, value)
    return Settings(_env_file=None)


@pytest.fixture
def copied_sample() -> str:
    """``cp .env.sample .env`` and set the JWT secret, as the README's production steps say."""
    text = SAMPLE.read_text()
    assert re.search(r"(?m)^PYPOLE_JWT_SECRET=$", text)
    return re.sub(r"(?m)^PYPOLE_JWT_SECRET=$", f"PYPOLE_JWT_SECRET={SECRET}", text)


def test_the_sample_under_compose_runs_prod_with_the_cache_in_the_volume(
    copied_sample: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    environment, service = container_environment(copied_sample)
    monkeypatch.chdir(tmp_path)  # a relative path would land here, not in the volume

    settings = settings_in(environment, monkeypatch)

    cache = PurePosixPath(settings.resolved_fastf1_cache_dir)
    (volume,) = volume_targets(service)
    assert cache.is_absolute() and cache.is_relative_to(volume), (cache, volume)
    assert settings.env is Environment.PROD
    assert settings.workers == 2
    assert settings.database_url.startswith("postgresql+asyncpg://pypole:pypole@postgres:5432/")
    assert settings.redis_url == "redis://redis:6379/0"
    assert settings.resolved_jwt_secret() == SECRET


def test_compose_runs_prod_even_when_dotenv_says_dev(
    copied_sample: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One .env may serve `pypole serve` in dev and compose: compose stays prod."""
    local = re.sub(r"(?m)^PYPOLE_ENV=.*$", "PYPOLE_ENV=dev", copied_sample)
    local = re.sub(r"(?m)^PYPOLE_FASTF1_CACHE_DIR=.*$", "PYPOLE_FASTF1_CACHE_DIR=./cache", local)
    environment, _ = container_environment(local)

    settings = settings_in(environment, monkeypatch)

    assert settings.env is Environment.PROD
    assert str(settings.resolved_fastf1_cache_dir) == "/data/fastf1-cache"


def test_workers_from_dotenv_are_honoured(
    copied_sample: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    chosen = re.sub(r"(?m)^PYPOLE_WORKERS=.*$", "PYPOLE_WORKERS=4", copied_sample)
    environment, _ = container_environment(chosen)

    assert settings_in(environment, monkeypatch).workers == 4


def test_the_sample_as_is_gives_the_dev_defaults_to_pypole_serve(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The same copy, read by `pypole serve` from the working directory."""
    for name in Settings.model_fields:
        monkeypatch.delenv(f"PYPOLE_{name.upper()}", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text(SAMPLE.read_text())

    settings = Settings()

    assert settings.env is Environment.DEV
    assert settings.workers == 1
    assert settings.resolved_fastf1_cache_dir == tmp_path / "fastf1-cache"
    assert settings.database_url == "sqlite+aiosqlite:///./pypole.db"


def test_interpolation_follows_compose() -> None:
    variables = {"SET": "x", "EMPTY": ""}

    assert interpolate("${SET:-d} ${EMPTY:-d} ${UNSET:-d}", variables) == "x d d"
    assert interpolate("${SET-d} ${EMPTY-d} ${UNSET-d}", variables) == "x  d"
    assert interpolate("$SET $$SET ${UNSET}", variables) == "x $SET "
