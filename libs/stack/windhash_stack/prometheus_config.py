"""The Prometheus configuration windhash ships: one scrape job per service, plus the alert rules.

The checked-in files are renderings of this module, so the local stack, the integration test (on its own free
ports) and docker-compose scrape the same jobs the same way:

    deploy/prometheus/prometheus.yml          local_jobs()    (the local stack's default ports)
    deploy/prometheus/docker/prometheus.yml   compose_jobs()  (docker-compose service names)
    deploy/prometheus/docker/alerts.yml       a copy of deploy/prometheus/alerts.yml (the compose mount sees
                                              only deploy/prometheus/docker)

`python -m windhash_stack.monitoring_setup render` rewrites all three; tests/unit/test_monitoring_config.py
fails when they drift.
"""

import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from windhash_stack.settings import default_deploy_dir

SERVICE_JOBS = (
    "ingestor",
    "calculator",
    "aggregator",
    "reconciler",
    "api",
    "market",
    "crm",
    "fleet-collector",
    "fleet-writer",
    "fleet-api",
    "plans",
    "plans-api",
)
# The servers' exporters: PostgreSQL's (Debian's prometheus-postgres-exporter) and Kafka's JMX agent.
EXPORTER_JOBS = ("postgres", "kafka")
DEFAULT_POSTGRES_EXPORTER_PORT = 19187
DEFAULT_KAFKA_JMX_EXPORTER_PORT = 19188
DEFAULT_ALERTMANAGER_PORT = 19091
# The ports each service serves /metrics on by default (the API, the CRM and the fleet's HTTP app on their
# HTTP ports).
DEFAULT_METRICS_PORTS: Mapping[str, int] = {
    "ingestor": 9101,
    "calculator": 9102,
    "aggregator": 9103,
    "reconciler": 9104,
    "api": 8080,
    "market": 9105,
    "crm": 8084,
    "fleet-collector": 9106,
    "fleet-writer": 9107,
    "fleet-api": 8086,
    "plans": 9108,
    "plans-api": 8087,
}
ALERTS_FILE = "alerts.yml"
CONFIG_FILE = "prometheus.yml"
DEFAULT_SCRAPE_INTERVAL = "15s"
_HEADER = "# Rendered by windhash_stack.prometheus_config ({how}); edit that module, not this file.\n"


@dataclass(frozen=True)
class ScrapeJob:
    name: str
    target: str
    metrics_path: str = "/metrics"


def local_jobs(host: str = "127.0.0.1", ports: Mapping[str, int] | None = None) -> list[ScrapeJob]:
    """The services on one host: the local stack, or a test on its own free ports."""
    chosen = {**DEFAULT_METRICS_PORTS, **(ports or {})}
    return [ScrapeJob(name, f"{host}:{chosen[name]}") for name in SERVICE_JOBS]


def compose_jobs() -> list[ScrapeJob]:
    """docker-compose: each service is reachable under its service name."""
    return [ScrapeJob(name, f"{name}:{DEFAULT_METRICS_PORTS[name]}") for name in SERVICE_JOBS]


def exporter_jobs(postgres: str, kafka: Sequence[str]) -> list[ScrapeJob]:
    """The PostgreSQL exporter, and every Kafka node's JMX agent (one job, a target per node)."""
    return [ScrapeJob("postgres", postgres), *(ScrapeJob("kafka", target) for target in kafka)]


def local_exporter_jobs(host: str = "127.0.0.1") -> list[ScrapeJob]:
    return exporter_jobs(
        f"{host}:{DEFAULT_POSTGRES_EXPORTER_PORT}", [f"{host}:{DEFAULT_KAFKA_JMX_EXPORTER_PORT}"]
    )


def compose_exporter_jobs() -> list[ScrapeJob]:
    """compose runs the PostgreSQL exporter; its Kafka image has no JMX agent (Kafka panels stay empty)."""
    return exporter_jobs("postgres-exporter:9187", [])


def render_prometheus_config(
    jobs: Sequence[ScrapeJob],
    *,
    scrape_interval: str = DEFAULT_SCRAPE_INTERVAL,
    evaluation_interval: str | None = None,
    how: str = "local stack",
    alertmanagers: Sequence[str] = (),
) -> str:
    """prometheus.yml text. The rule file is named relative to the config, so both must share a directory.
    Jobs of one name (a Kafka cluster's nodes) become one job with a target each."""
    lines = [
        _HEADER.format(how=how).rstrip("\n"),
        "global:",
        f"  scrape_interval: {scrape_interval}",
        f"  evaluation_interval: {evaluation_interval or scrape_interval}",
        "rule_files:",
        f"  - {ALERTS_FILE}",
    ]
    if alertmanagers:
        targets = ", ".join(f'"{target}"' for target in alertmanagers)
        lines += ["alerting:", "  alertmanagers:", "    - static_configs:", f"        - targets: [{targets}]"]
    lines.append("scrape_configs:")
    grouped: dict[str, list[ScrapeJob]] = {}
    for job in jobs:
        grouped.setdefault(job.name, []).append(job)
    for name, same in grouped.items():
        targets = ", ".join(f'"{job.target}"' for job in same)
        lines += [
            f"  - job_name: {name}",
            f"    metrics_path: {same[0].metrics_path}",
            "    static_configs:",
            f"      - targets: [{targets}]",
        ]
    return "\n".join(lines) + "\n"


def render_local_config() -> str:
    """deploy/prometheus/prometheus.yml: the local stack's default ports."""
    return render_prometheus_config(
        [*local_jobs(), *local_exporter_jobs()],
        how="local stack, default ports",
        alertmanagers=[f"127.0.0.1:{DEFAULT_ALERTMANAGER_PORT}"],
    )


def render_compose_config() -> str:
    """deploy/prometheus/docker/prometheus.yml: docker-compose's service names."""
    return render_prometheus_config(
        [*compose_jobs(), *compose_exporter_jobs()], how="docker-compose", alertmanagers=["alertmanager:9093"]
    )


def prometheus_deploy_dir(deploy_dir: Path | None = None) -> Path:
    """deploy/prometheus, next to the stack's deploy/local."""
    return (deploy_dir or default_deploy_dir()).parent / "prometheus"


def write_checked_in_configs(prometheus_dir: Path | None = None) -> list[Path]:
    directory = prometheus_dir or prometheus_deploy_dir()
    docker = directory / "docker"
    docker.mkdir(parents=True, exist_ok=True)
    local_file, compose_file = directory / CONFIG_FILE, docker / CONFIG_FILE
    local_file.write_text(render_local_config())
    compose_file.write_text(render_compose_config())
    shutil.copyfile(directory / ALERTS_FILE, docker / ALERTS_FILE)
    return [local_file, compose_file, docker / ALERTS_FILE]
