"""WINDHASH_LOG_JSON: every line a service writes is one JSON object, the libraries' loggers (aiokafka,
asyncpg, uvicorn, FastStream, stamina) included. Real processes, pointed at servers that are not there, so
the libraries have plenty to say; no stack is needed."""

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from windhash_cli.service_processes import WINDHASH
from windhash_stack.ports import free_port

pytestmark = pytest.mark.timeout(120)


def run_briefly(command: list[str], env: dict[str, str], seconds: float, log: Path) -> list[str]:
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*WINDHASH, *command], env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT
        )
        time.sleep(seconds)
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return [line for line in log.read_text().splitlines() if line.strip()]


def nowhere() -> dict[str, str]:
    closed = free_port()
    return {
        "WINDHASH_LOG_JSON": "true",
        "WINDHASH_KAFKA_BOOTSTRAP": f"127.0.0.1:{closed}",
        "WINDHASH_DATABASE_URL": f"postgresql://windhash_calculator:x@127.0.0.1:{closed}/windhash",
        "WINDHASH_DYNAMODB_ENDPOINT": f"http://127.0.0.1:{closed}",
        "WINDHASH_METRICS_PORT": "0",
    }


def parsed(lines: list[str]) -> list[dict[str, object]]:
    not_json = []
    found = []
    for line in lines:
        try:
            found.append(json.loads(line))
        except json.JSONDecodeError:
            not_json.append(line)
    assert not not_json, f"lines that are not JSON: {not_json[:5]}"
    return found


def test_a_worker_writes_only_json_lines_its_libraries_included(tmp_path: Path) -> None:
    lines = run_briefly(["calculator"], nowhere(), 8.0, tmp_path / "calculator.log")
    records = parsed(lines)
    assert records, "the calculator said nothing while its dependencies were away"
    loggers = {str(record.get("logger")) for record in records}
    # stamina's retries (PostgreSQL away) come through the standard library's logging like everyone's.
    assert any(name.startswith("stamina") or name.startswith("windhash") for name in loggers), loggers
    assert all("level" in record and "timestamp" in record for record in records)


def test_the_api_and_uvicorn_write_only_json_lines(tmp_path: Path) -> None:
    env = {**nowhere(), "WINDHASH_API_PORT": str(free_port()), "WINDHASH_MIGRATE_ON_START": "false"}
    lines = run_briefly(["api"], env, 6.0, tmp_path / "api.log")
    records = parsed(lines)
    assert any(str(record.get("logger", "")).startswith("uvicorn") for record in records), records[:5]
