"""configure_logging(json_lines=True): windhash's structlog events and the libraries' standard-library loggers
(aiokafka, asyncpg, uvicorn, FastStream) all come out as one JSON object per line, in one format."""

import json
import logging
from collections.abc import Iterator

import pytest
import structlog
from windhash_common.logging_setup import configure_logging


@pytest.fixture(autouse=True)
def logging_restored() -> Iterator[None]:
    """configure_logging changes process-wide state: the other tests get theirs back."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers, root.level = handlers, level
    structlog.reset_defaults()


def test_every_logger_writes_json_lines(capsys: pytest.CaptureFixture[str]) -> None:
    uvicorn_error = logging.getLogger("uvicorn.error")
    uvicorn_error.addHandler(logging.StreamHandler())  # what uvicorn's own config would have done
    uvicorn_error.propagate = False
    configure_logging("INFO", json_lines=True)
    structlog.get_logger("windhash_test").info("batch applied", periods=3)
    logging.getLogger("aiokafka.conn").warning("Unable connect to %s", "127.0.0.1:1")
    logging.getLogger("asyncpg.pool").error("connection lost", extra={"pool": "p1"})
    logging.getLogger("uvicorn.error").info("Started server process [%d]", 42)
    logging.getLogger("faststream.windhash").info("published")
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("aiokafka").exception("fetch failed")
    lines = [line for line in capsys.readouterr().out.splitlines() if line]
    records = [json.loads(line) for line in lines]
    by_logger = {record["logger"]: record for record in records}
    assert (
        by_logger["windhash_test"]["event"] == "batch applied" and by_logger["windhash_test"]["periods"] == 3
    )
    assert by_logger["aiokafka.conn"]["event"] == "Unable connect to 127.0.0.1:1"
    assert by_logger["asyncpg.pool"]["pool"] == "p1" and by_logger["asyncpg.pool"]["level"] == "error"
    assert by_logger["uvicorn.error"]["event"] == "Started server process [42]"
    assert "faststream.windhash" in by_logger
    assert "ValueError: boom" in by_logger["aiokafka"]["exception"]
    assert all("timestamp" in record for record in records)


def test_without_json_the_same_loggers_write_key_value_lines(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", json_lines=False)
    logging.getLogger("aiokafka").warning("plain")
    out = capsys.readouterr().out
    assert "plain" in out and not out.lstrip().startswith("{")
