"""Every setting is a documented contract: each ``Settings`` field is in ``.env.sample`` (under a
comment) and in the README's settings section, and neither lists a name the code does not read."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pypole_gql.config import Settings

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / ".env.sample"
README = ROOT / "README.md"
ASSIGNMENT = re.compile(r"^(PYPOLE_[A-Z0-9_]+)=")

FIELDS = sorted(f"PYPOLE_{name.upper()}" for name in Settings.model_fields)


def sample_lines() -> list[str]:
    return SAMPLE.read_text().splitlines()


def sample_variables() -> dict[str, int]:
    """Variable name -> line index in ``.env.sample``."""
    found: dict[str, int] = {}
    for index, line in enumerate(sample_lines()):
        match = ASSIGNMENT.match(line)
        if match:
            assert match[1] not in found, f"{match[1]} is set twice in .env.sample"
            found[match[1]] = index
    return found


def readme_settings_section() -> str:
    text = README.read_text()
    start = text.index("\n## Settings\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


@pytest.mark.parametrize("variable", FIELDS)
def test_setting_is_in_the_sample_under_a_comment(variable: str) -> None:
    variables = sample_variables()
    assert variable in variables, f"{variable} is missing from .env.sample"
    # The nearest line above that is not itself a variable (variables may share a comment).
    lines = sample_lines()
    index = variables[variable] - 1
    while index >= 0 and ASSIGNMENT.match(lines[index]):
        index -= 1
    assert index >= 0 and lines[index].startswith("# "), f"{variable} has no comment above it"


@pytest.mark.parametrize("variable", FIELDS)
def test_setting_is_in_the_readme(variable: str) -> None:
    assert f"`{variable}`" in readme_settings_section(), (
        f"{variable} is missing from README.md's Settings section"
    )


def test_the_sample_sets_nothing_the_code_ignores() -> None:
    assert sorted(set(sample_variables()) - set(FIELDS)) == []


def test_the_readme_names_nothing_the_code_ignores() -> None:
    named = set(re.findall(r"`(PYPOLE_[A-Z0-9_]+)`", readme_settings_section()))
    assert sorted(named - set(FIELDS)) == []


def test_the_sample_is_a_valid_dev_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in FIELDS:
        monkeypatch.delenv(variable, raising=False)

    settings = Settings(_env_file=SAMPLE)

    assert settings.is_dev
    assert settings.jwt_secret is None  # no secret shipped in the sample
