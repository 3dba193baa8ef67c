"""The service processes of a bench run: started with the run's environment, watched while they live (peak
memory, CPU), attached to the profiler when one runs, and waited for until they are ready."""

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from windhash_cli.service_processes import ServiceProcess

from bench.bench_cpu import cpu_seconds, peak_rss_kib
from bench.bench_profile import Profiler

READY_TIMEOUT_S = 120.0
# What each logs once its consumer runs (windhash_common.consumer_runtime logs "consuming").
READY_LINES = {"calculator": "calculator running", "aggregator": "consuming"}


@dataclass
class Services:
    env: dict[str, str]
    log_dir: Path
    running: dict[str, ServiceProcess] = field(default_factory=dict)
    peak_kib: dict[str, int] = field(default_factory=dict)
    cpu_s: dict[str, float] = field(default_factory=dict)
    profiler: Profiler | None = None

    def start(self, name: str, *args: str, extra: dict[str, str] | None = None) -> ServiceProcess:
        service = ServiceProcess(
            name, list(args) or [name], {**self.env, **(extra or {})}, self.log_dir / f"{name}.log"
        )
        service.start()
        self.running[name] = service
        if self.profiler is not None and service.process is not None:
            self.profiler.attach(name, service.process.pid)
        return service

    def sample_memory(self) -> None:
        """VmHWM is the process's own peak RSS and utime + stime its CPU time: read while it lives, the last
        reading is the figure."""
        for name, service in self.running.items():
            if service.process is not None and service.running:
                with contextlib.suppress(OSError, ValueError):
                    self.peak_kib[name] = max(self.peak_kib.get(name, 0), peak_rss_kib(service.process.pid))
                    self.cpu_s[name] = max(self.cpu_s.get(name, 0.0), cpu_seconds(service.process.pid))

    def check_alive(self, *names: str) -> None:
        for name in names:
            service = self.running[name]
            if not service.running:
                raise RuntimeError(
                    f"{name} exited ({service.process and service.process.returncode}):\n{service.log_tail()}"
                )

    def stop_all(self) -> None:
        for service in reversed(list(self.running.values())):
            service.stop()


async def wait_services_ready(services: Services, names: tuple[str, ...]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    for name in names:
        service = services.running[name]
        while READY_LINES[name] not in (
            service.log_path.read_text(errors="replace") if service.log_path.exists() else ""
        ):
            services.check_alive(name)
            if time.monotonic() > deadline:
                raise TimeoutError(f"{name} was not ready in {READY_TIMEOUT_S:.0f} s:\n{service.log_tail()}")
            await asyncio.sleep(0.2)


async def wait_http(url: str, services: Services, name: str) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    async with httpx.AsyncClient() as client:
        while True:
            services.check_alive(name)
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(url)).status_code == 200:
                    return
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} did not answer")
            await asyncio.sleep(0.2)
