"""Monitoring that reaches someone: the calculator stops, and Prometheus's WindhashServiceDown alert arrives
at a webhook through Alertmanager, as `windhash stack up --monitoring` wires them (Debian's Prometheus,
Alertmanager and PostgreSQL exporter, Kafka's JMX exporter agent). The servers' dashboard panels answer with
data from the exporters on the way.

A stack of the test's own (its Kafka runs the JMX agent on a free port), the real rule (`for: 2m`), a 1 s
scrape and evaluation interval, and a webhook receiver on a free port of this process.
"""

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from windhash_cli.service_processes import ServiceProcesses, wait_for_http
from windhash_common.db import migrate_database
from windhash_common.topics import Topics, ensure_topics
from windhash_stack import LocalStack
from windhash_stack.monitoring_queries import all_queries
from windhash_stack.monitoring_servers import LocalMonitoring
from windhash_stack.ports import free_port
from windhash_stack.prometheus_config import EXPORTER_JOBS, ScrapeJob, prometheus_deploy_dir
from windhash_stack.prometheus_server import MonitoringSettings
from windhash_testing.dedicated_stack import dedicated_stack

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

PROMETHEUS_DIR = prometheus_deploy_dir()
DASHBOARDS = PROMETHEUS_DIR.parent / "grafana" / "dashboards"


class Webhook:
    """A local receiver of Alertmanager's webhook notifications (JSON bodies), as a chat bridge would be."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                received.append(json.loads(body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/alerts"

    def firing(self, alertname: str, job: str) -> bool:
        return any(
            alert["status"] == "firing"
            and alert["labels"].get("alertname") == alertname
            and alert["labels"].get("job") == job
            for message in self.received
            for alert in message["alerts"]
        )


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    receiver = Webhook()
    yield receiver
    receiver.server.shutdown()


@pytest.fixture(scope="module")
async def monitored_stack() -> AsyncIterator[LocalStack]:
    async with dedicated_stack("alerts", kafka_jmx_exporter_port=free_port()) as stack:
        yield stack


async def eventually(check: Any, what: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(1.0)


async def test_stopping_the_calculator_sends_an_alert_to_the_webhook(
    monitored_stack: LocalStack, webhook: Webhook, tmp_path: Path
) -> None:
    endpoints = monitored_stack.endpoints
    await migrate_database(endpoints.postgres_dsn)
    await ensure_topics(endpoints.kafka_bootstrap, Topics("alerts"), 3)
    metrics_port = free_port()
    settings = MonitoringSettings(
        prometheus_port=free_port(),
        alertmanager_port=free_port(),
        postgres_exporter_port=free_port(),
        scrape_interval="1s",
        alert_webhook_url=webhook.url,
        alert_group_wait="1s",
    )
    monitoring = LocalMonitoring(
        monitored_stack.settings,
        monitored_stack.kafka_nodes,
        lambda: endpoints.postgres_dsn,
        settings,
        services=[ScrapeJob("calculator", f"127.0.0.1:{metrics_port}")],
    )
    env = {
        "WINDHASH_KAFKA_BOOTSTRAP": endpoints.kafka_bootstrap,
        "WINDHASH_DATABASE_URL": endpoints.postgres_dsn,
        "WINDHASH_DYNAMODB_ENDPOINT": endpoints.dynamodb_endpoint,
        "WINDHASH_TOPIC_PREFIX": "alerts",
        "WINDHASH_TOPIC_PARTITIONS": "3",
        "WINDHASH_METRICS_PORT": str(metrics_port),
    }
    processes = ServiceProcesses(env=env, log_dir=tmp_path)
    await monitoring.start()
    try:
        processes.start("calculator")
        await asyncio.to_thread(wait_for_http, f"http://127.0.0.1:{metrics_port}/ready", 120, processes)
        async with httpx.AsyncClient(base_url=monitoring.prometheus.url, timeout=10) as prometheus:

            async def servers_panels_answer() -> bool:
                promql, _ = all_queries(PROMETHEUS_DIR, DASHBOARDS)
                for query in promql:
                    if query.kind == "panel" and any(f'job="{job}"' in query.expr for job in EXPORTER_JOBS):
                        answer = (
                            await prometheus.get("/api/v1/query", params={"query": query.concrete()})
                        ).json()
                        if not answer["data"]["result"]:
                            return False
                return True

            await eventually(servers_panels_answer, "the exporters' panels to answer", 120)
        assert not webhook.received, f"an alert before anything failed: {webhook.received}"

        processes.stop_all()
        # `for: 2m` of the real rule, then Alertmanager's group wait.
        await eventually(lambda: _firing(webhook), "WindhashServiceDown at the webhook", 300)
    finally:
        processes.stop_all()
        await monitoring.stop()


async def _firing(webhook: Webhook) -> bool:
    return webhook.firing("WindhashServiceDown", "calculator")
