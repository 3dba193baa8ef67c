"""The optional monitoring server of the local stack: a real Prometheus scraping the services and the
exporters, sending its alerts to Alertmanager (monitoring_servers.py).

Debian's `prometheus` binary runs as a plain process like the other servers (no systemd): its config is
rendered into <state_dir>/prometheus with a copy of deploy/prometheus/alerts.yml beside it, and its TSDB lives
in <state_dir>/prometheus/data. `windhash stack up --monitoring` starts it, `windhash stack down` stops it.

    server = PrometheusServer(StackSettings(), MonitoringSettings())
    report = await server.start()            # idempotent; a running server re-reads its rendered config
    await server.stop()

Tests give it their own state dir, port and scrape jobs (services on free ports, a 1 s scrape interval).
"""

import asyncio
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
from pydantic_settings import BaseSettings, SettingsConfigDict

from windhash_stack.detached_server import DetachedHttpServer
from windhash_stack.errors import StackError
from windhash_stack.processes import launch, port_open
from windhash_stack.prometheus_config import (
    ALERTS_FILE,
    CONFIG_FILE,
    DEFAULT_ALERTMANAGER_PORT,
    DEFAULT_METRICS_PORTS,
    DEFAULT_POSTGRES_EXPORTER_PORT,
    DEFAULT_SCRAPE_INTERVAL,
    ScrapeJob,
    local_jobs,
    prometheus_deploy_dir,
    render_prometheus_config,
)
from windhash_stack.prometheus_install import DEFAULT_PROMETHEUS, ensure_prometheus
from windhash_stack.settings import StackSettings

LOCAL_PROMETHEUS_PORT = 19090
_PROBE_TIMEOUT_S = 3.0


class MonitoringSettings(BaseSettings):
    """Environment `WINDHASH_STACK_*`, e.g. WINDHASH_STACK_PROMETHEUS_PORT."""

    model_config = SettingsConfigDict(env_prefix="WINDHASH_STACK_", extra="ignore")

    prometheus_port: int = LOCAL_PROMETHEUS_PORT
    alertmanager_port: int = DEFAULT_ALERTMANAGER_PORT
    postgres_exporter_port: int = DEFAULT_POSTGRES_EXPORTER_PORT
    # Where Alertmanager sends every alert (a webhook receiver: chat bridge, pager); unset: kept, not sent.
    alert_webhook_url: str | None = None
    # How long Alertmanager gathers a group's first alerts before sending them.
    alert_group_wait: str = "30s"
    prometheus_binary: Path = DEFAULT_PROMETHEUS
    prometheus_retention: str = "15d"
    scrape_interval: str = DEFAULT_SCRAPE_INTERVAL
    ingestor_metrics_port: int = DEFAULT_METRICS_PORTS["ingestor"]
    calculator_metrics_port: int = DEFAULT_METRICS_PORTS["calculator"]
    aggregator_metrics_port: int = DEFAULT_METRICS_PORTS["aggregator"]
    reconciler_metrics_port: int = DEFAULT_METRICS_PORTS["reconciler"]
    api_port: int = DEFAULT_METRICS_PORTS["api"]
    market_metrics_port: int = DEFAULT_METRICS_PORTS["market"]
    crm_port: int = DEFAULT_METRICS_PORTS["crm"]
    fleet_collector_metrics_port: int = DEFAULT_METRICS_PORTS["fleet-collector"]
    fleet_writer_metrics_port: int = DEFAULT_METRICS_PORTS["fleet-writer"]
    fleet_api_port: int = DEFAULT_METRICS_PORTS["fleet-api"]

    def metrics_ports(self) -> dict[str, int]:
        return {
            "ingestor": self.ingestor_metrics_port,
            "calculator": self.calculator_metrics_port,
            "aggregator": self.aggregator_metrics_port,
            "reconciler": self.reconciler_metrics_port,
            "api": self.api_port,
            "market": self.market_metrics_port,
            "crm": self.crm_port,
            "fleet-collector": self.fleet_collector_metrics_port,
            "fleet-writer": self.fleet_writer_metrics_port,
            "fleet-api": self.fleet_api_port,
        }


@dataclass(frozen=True)
class MonitoringReport:
    url: str
    started: bool
    seconds: float
    config_file: Path


class PrometheusServer(DetachedHttpServer):
    name = "prometheus"

    def __init__(
        self,
        settings: StackSettings,
        monitoring: MonitoringSettings | None = None,
        jobs: Sequence[ScrapeJob] | None = None,
        alertmanagers: Sequence[str] = (),
    ) -> None:
        self.settings = settings
        self.monitoring = monitoring or MonitoringSettings()
        self.port = self.monitoring.prometheus_port
        self.jobs = (
            list(jobs) if jobs is not None else local_jobs(settings.host, self.monitoring.metrics_ports())
        )
        self.alertmanagers = list(alertmanagers)

    @property
    def config_file(self) -> Path:
        return self.home / CONFIG_FILE

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def marker(self) -> str:
        return str(self.config_file)  # on its command line

    def render(self) -> None:
        """Write prometheus.yml and the alert rules beside it (the rules are named relative to the config)."""
        self.home.mkdir(parents=True, exist_ok=True)
        self.config_file.write_text(
            render_prometheus_config(
                self.jobs, scrape_interval=self.monitoring.scrape_interval, alertmanagers=self.alertmanagers
            )
        )
        shutil.copyfile(
            prometheus_deploy_dir(self.settings.deploy_dir) / ALERTS_FILE, self.home / ALERTS_FILE
        )

    def command(self, binary: Path) -> list[str]:
        return [
            str(binary),
            f"--config.file={self.config_file}",
            f"--storage.tsdb.path={self.data_dir}",
            f"--storage.tsdb.retention.time={self.monitoring.prometheus_retention}",
            f"--web.listen-address={self.settings.host}:{self.port}",
            # Lets a second `up --monitoring` apply a re-rendered config without a restart.
            "--web.enable-lifecycle",
        ]

    async def start(self) -> MonitoringReport:
        began = time.monotonic()
        binary = await asyncio.to_thread(ensure_prometheus, self.monitoring.prometheus_binary)
        await asyncio.to_thread(self.render)
        if self.running_pid() is not None:
            await self._reload()
            return MonitoringReport(self.url, started=False, seconds=0.0, config_file=self.config_file)
        if port_open(self.settings.host, self.port):
            raise StackError(
                f"Port {self.port} for prometheus is taken by another program: stop it or choose another "
                "port with WINDHASH_STACK_PROMETHEUS_PORT."
            )
        await asyncio.to_thread(
            launch, self.command(binary), log_file=self.log_file, pid_file=self.pid_file, cwd=self.home
        )
        await self._wait_ready()
        return MonitoringReport(
            self.url, started=True, seconds=time.monotonic() - began, config_file=self.config_file
        )

    async def probe(self, timeout_s: float = _PROBE_TIMEOUT_S) -> None:
        async with httpx.AsyncClient(timeout=timeout_s) as client:
            response = await client.get(f"{self.url}/-/ready")
            response.raise_for_status()

    async def _reload(self) -> None:
        async with httpx.AsyncClient(timeout=_PROBE_TIMEOUT_S) as client:
            response = await client.post(f"{self.url}/-/reload")
        if response.status_code != 200:
            raise StackError(
                f"Prometheus rejected its re-rendered config {self.config_file}: {response.text}"
            )
