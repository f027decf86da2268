"""The project's files agree with each other: environment.yml mirrors pyproject.toml."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def requirement(text: str) -> tuple[str, str]:
    """('pandas', '>=3.0') from 'pandas>=3.0'; names normalised as PyPI does."""
    match = re.fullmatch(r"([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?\s*(.*)", text.strip())
    assert match, text
    return re.sub(r"[-_.]+", "-", match.group(1)).lower(), match.group(2).replace(" ", "")


def test_environment_yml_matches_pyproject_dependencies() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = dict(requirement(r) for r in project["dependencies"])
    notebooks = dict(requirement(r) for r in project["optional-dependencies"]["notebooks"])
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = dict(
        requirement(item) for item in env["dependencies"] if isinstance(item, str)
    )
    pip_items = next(item["pip"] for item in env["dependencies"] if isinstance(item, dict))
    assert "-e ." in pip_items
    python = conda.pop("python")
    assert python == project["requires-python"]
    conda.pop("pip")
    assert conda == runtime | notebooks


def test_version_is_single_sourced() -> None:
    import raadata

    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'version = { attr = "raadata._version.__version__" }' in pyproject
    assert re.fullmatch(r"\d+\.\d+\.\d+", raadata.__version__)
