"""The process set the demo and the tests run services with: a service that dies is reported, one stopped on
purpose is not, however it ended."""

import subprocess
import sys
from pathlib import Path

import pytest
from windhash_cli.service_processes import ServiceProcess, ServiceProcesses


def _process(tmp_path: Path, name: str, code: str) -> ServiceProcess:
    service = ServiceProcess(name=name, args=[name], env={}, log_path=tmp_path / f"{name}.log")
    service.process = subprocess.Popen([sys.executable, "-c", code], start_new_session=True)
    return service


def test_a_service_that_dies_is_reported_and_one_stopped_before_its_handler_is_not(tmp_path: Path) -> None:
    processes = ServiceProcesses(env={}, log_dir=tmp_path)
    # No SIGTERM handler at all: stopping it ends it with -SIGTERM, as a worker still importing would.
    stopped = processes.services["stopped"] = _process(tmp_path, "stopped", "import time; time.sleep(60)")
    assert stopped.stop() == -15
    processes.check_alive()
    died = processes.services["died"] = _process(tmp_path, "died", "raise SystemExit(3)")
    assert died.process is not None and died.process.wait() == 3
    with pytest.raises(RuntimeError, match="service died exited with 3"):
        processes.check_alive()
