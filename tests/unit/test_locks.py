"""The two locks: requirements.lock (what the services run on; the Docker image installs only it) and
requirements-dev.lock (the same pins plus the test and lint tools, what `make install` installs)."""

import re
import tomllib
from pathlib import Path

from windhash_stack.settings import find_repo_root

ROOT = find_repo_root(Path(__file__).resolve().parent) or Path(__file__).resolve().parents[2]
DEV_ONLY = {
    "pytest",
    "mypy",
    "ruff",
    "playwright",
    "testcontainers",
    "schemathesis",
    "hypothesis",
    "ta-lib",
    "py-spy",
    "axe-playwright-python",
}


def pins(name: str) -> dict[str, str]:
    found = {}
    for line in (ROOT / name).read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            package, version = line.strip().split("==")
            found[package.lower()] = version
    return found


def requirement_names(requirements: list[str]) -> set[str]:
    return {re.split(r"[<>=\[;~! ]", requirement, maxsplit=1)[0].lower() for requirement in requirements}


def test_the_runtime_lock_pins_every_runtime_dependency_and_no_tool() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = pins("requirements.lock")
    assert requirement_names(project["dependencies"]) <= set(runtime)
    assert not DEV_ONLY & set(runtime)


def test_the_dev_lock_has_the_runtime_pins_unchanged_and_every_tool() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime, dev = pins("requirements.lock"), pins("requirements-dev.lock")
    assert {name: dev.get(name) for name in runtime} == runtime
    assert requirement_names(project["optional-dependencies"]["dev"]) <= set(dev)
