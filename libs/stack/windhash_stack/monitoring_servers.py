"""Alertmanager and the PostgreSQL exporter of `windhash stack up --monitoring`: Debian's binaries run as
plain processes like Prometheus, state under <state_dir>/<name>.

Alertmanager receives Prometheus's alerts and routes them to a webhook (WINDHASH_STACK_ALERT_WEBHOOK_URL;
without one it keeps them, visible on its own page and API, and sends them nowhere). The PostgreSQL exporter
reads the local stack's server statistics as its superuser (local only: a deployment gives it a role with
`pg_monitor`). Kafka's metrics come from the JMX exporter agent inside each Kafka node (kafka_server.py).
"""

import asyncio
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from windhash_stack.detached_server import DetachedHttpServer
from windhash_stack.errors import StackError
from windhash_stack.kafka_server import KafkaServer
from windhash_stack.processes import launch, port_open, stop_tree
from windhash_stack.prometheus_config import ScrapeJob, exporter_jobs, local_jobs
from windhash_stack.prometheus_install import ensure_debian_binary
from windhash_stack.prometheus_server import MonitoringReport, MonitoringSettings, PrometheusServer
from windhash_stack.settings import StackSettings

ALERTMANAGER_BINARY = Path("/usr/bin/prometheus-alertmanager")
POSTGRES_EXPORTER_BINARY = Path("/usr/bin/prometheus-postgres-exporter")


def render_alertmanager_config(webhook_url: str | None, group_wait: str = "30s") -> str:
    """Every alert to one receiver: the webhook when there is one, else none (kept, shown, not sent)."""
    receiver = ["  - name: windhash"]
    if webhook_url:
        receiver += ["    webhook_configs:", f'      - url: "{webhook_url}"', "        send_resolved: true"]
    return (
        "\n".join(
            [
                "# Rendered by windhash_stack.monitoring_servers; edit that module, not this file.",
                "route:",
                "  receiver: windhash",
                "  group_by: [alertname, job]",
                f"  group_wait: {group_wait}",
                "  group_interval: 1m",
                "  repeat_interval: 4h",
                "receivers:",
                *receiver,
            ]
        )
        + "\n"
    )


@dataclass
class DebianServer(DetachedHttpServer):
    """One monitoring process: a Debian binary with its flags, started detached, probed over HTTP."""

    settings: StackSettings
    name: str
    binary: Path
    package: str
    port: int
    ready_path: str
    env: dict[str, str] | None = None

    def arguments(self) -> list[str]:
        raise NotImplementedError

    def prepare(self) -> None:
        """Files the server reads (its config), written before every start."""

    @property
    def marker(self) -> str:
        return f"--web.listen-address={self.settings.host}:{self.port}"

    async def start(self) -> bool:
        """Start unless running (then re-read the config); True when it was started."""
        binary = await asyncio.to_thread(ensure_debian_binary, self.binary, self.package, self.name)
        self.home.mkdir(parents=True, exist_ok=True)
        self.prepare()
        if self.running_pid() is not None:
            await self.reload()
            return False
        if port_open(self.settings.host, self.port):
            raise StackError(f"Port {self.port} for {self.name} is taken by another program.")
        command = [str(binary), *self.arguments()]
        await asyncio.to_thread(
            launch, command, log_file=self.log_file, pid_file=self.pid_file, cwd=self.home, env=self.env
        )
        await self._wait_ready()
        return True

    async def reload(self) -> None:
        pid = self.running_pid()
        if pid is not None:
            await asyncio.to_thread(stop_tree, pid, signal.SIGHUP, 0.0)

    async def probe(self) -> None:
        async with httpx.AsyncClient(timeout=3.0) as client:
            (await client.get(f"{self.url}{self.ready_path}")).raise_for_status()


@dataclass
class AlertmanagerServer(DebianServer):
    webhook_url: str | None = None
    group_wait: str = "30s"

    @property
    def config_file(self) -> Path:
        return self.home / "alertmanager.yml"

    def prepare(self) -> None:
        self.config_file.write_text(render_alertmanager_config(self.webhook_url, self.group_wait))

    def arguments(self) -> list[str]:
        return [
            f"--config.file={self.config_file}",
            f"--storage.path={self.home / 'data'}",
            self.marker,
            "--cluster.listen-address=",  # one instance: no gossip port
        ]


@dataclass
class PostgresExporter(DebianServer):
    # The superuser's DSN, asked at start (the stack's password file is made when PostgreSQL first starts).
    superuser_dsn: Callable[[], str] = lambda: ""
    passfile: Path = Path()

    def prepare(self) -> None:
        dsn = self.superuser_dsn().split("?")[0] + "?sslmode=disable"
        self.env = {"DATA_SOURCE_NAME": dsn, "PGPASSFILE": str(self.passfile), "PATH": "/usr/bin:/bin"}

    def arguments(self) -> list[str]:
        return [self.marker]


def alertmanager(
    settings: StackSettings, port: int, webhook_url: str | None, group_wait: str
) -> AlertmanagerServer:
    return AlertmanagerServer(
        settings, "alertmanager", ALERTMANAGER_BINARY, "prometheus-alertmanager", port, "/-/ready",
        webhook_url=webhook_url, group_wait=group_wait,
    )  # fmt: skip


def postgres_exporter(
    settings: StackSettings, port: int, superuser_dsn: Callable[[], str], passfile: Path
) -> PostgresExporter:
    return PostgresExporter(
        settings, "postgres-exporter", POSTGRES_EXPORTER_BINARY, "prometheus-postgres-exporter", port,
        "/metrics", superuser_dsn=superuser_dsn, passfile=passfile,
    )  # fmt: skip


class LocalMonitoring:
    """Prometheus, Alertmanager and the PostgreSQL exporter of one local stack, started and stopped together;
    Prometheus scrapes the services, the exporter and every Kafka node's JMX agent."""

    def __init__(
        self,
        settings: StackSettings,
        kafka_nodes: Sequence[KafkaServer],
        superuser_dsn: Callable[[], str],
        monitoring: MonitoringSettings | None = None,
        services: Sequence[ScrapeJob] | None = None,
    ) -> None:
        """`services`: the service jobs to scrape (default: every service on its configured port)."""
        watch = monitoring or MonitoringSettings()
        host = settings.host
        self.alertmanager = alertmanager(
            settings, watch.alertmanager_port, watch.alert_webhook_url, watch.alert_group_wait
        )
        self.postgres_exporter = postgres_exporter(
            settings, watch.postgres_exporter_port, superuser_dsn, settings.postgres_passfile
        )
        kafka = [f"{host}:{node.jmx_exporter_port}" for node in kafka_nodes if node.jmx_exporter_port]
        self.prometheus = PrometheusServer(
            settings,
            watch,
            jobs=[
                *(local_jobs(host, watch.metrics_ports()) if services is None else services),
                *exporter_jobs(f"{host}:{watch.postgres_exporter_port}", kafka),
            ],
            alertmanagers=[f"{host}:{watch.alertmanager_port}"],
        )

    async def start(self) -> MonitoringReport:
        await self.alertmanager.start()
        await self.postgres_exporter.start()
        return await self.prometheus.start()

    async def stop(self) -> bool:
        """True when Prometheus was running."""
        stopped = await self.prometheus.stop()
        await self.postgres_exporter.stop()
        await self.alertmanager.stop()
        return stopped
