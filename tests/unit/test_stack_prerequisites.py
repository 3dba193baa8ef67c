"""Missing programs give one sentence on what to install (and exit code 2 from the CLI), never a traceback."""

from pathlib import Path

import pytest
from typer.testing import CliRunner
from windhash_cli.main import app
from windhash_stack import LocalStack, MissingPrerequisite, StackSettings
from windhash_stack.prerequisites import (
    find_java,
    find_maven,
    find_postgres_bin,
    parse_java_major,
    parse_postgres_major,
)


@pytest.mark.parametrize(
    ("output", "major"),
    [
        ('openjdk version "17.0.15" 2025-04-15', 17),
        ('java version "1.8.0_392"', 8),
        ('openjdk version "21" 2023-09-19', 21),
        ("no java here", None),
    ],
)
def test_java_major_version(output: str, major: int | None) -> None:
    assert parse_java_major(output) == major


def test_postgres_major_version() -> None:
    assert parse_postgres_major("postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)") == 15
    assert parse_postgres_major("something else") is None


def test_missing_java_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", "")
    with pytest.raises(MissingPrerequisite, match="apt-get install openjdk-17-jre-headless"):
        find_java()


def test_missing_maven_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "")
    with pytest.raises(MissingPrerequisite, match="apt-get install maven"):
        find_maven()


def test_missing_postgres_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        "windhash_stack.prerequisites.postgres_bin_candidates", lambda: [Path("/nonexistent")]
    )
    with pytest.raises(MissingPrerequisite, match="PostgreSQL 15"):
        find_postgres_bin()


def test_cli_turns_a_missing_prerequisite_into_one_line_and_exit_2(monkeypatch: pytest.MonkeyPatch) -> None:
    async def missing_java(self: object, servers: object = None) -> None:
        raise MissingPrerequisite("Java 17+ is needed for Kafka and DynamoDB Local: apt-get install x")

    monkeypatch.setattr("windhash_stack.LocalStack.start", missing_java)
    result = CliRunner().invoke(app, ["stack", "up"])
    assert result.exit_code == 2
    assert "Java 17+ is needed" in result.output
    assert "Traceback" not in result.output


async def test_up_checks_every_prerequisite_before_starting_anything(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", "")
    stack = LocalStack(StackSettings(state_dir=tmp_path / "state"))
    with pytest.raises(MissingPrerequisite, match="Java 17"):
        await stack.up()
    assert stack.pids() == {}
    assert not (tmp_path / "state").exists()
