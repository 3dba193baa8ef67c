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


def render_prometheus_config(
    jobs: Sequence[ScrapeJob],
    *,
    scrape_interval: str = DEFAULT_SCRAPE_INTERVAL,
    evaluation_interval: str | None = None,
    how: str = "local stack",
) -> str:
    """prometheus.yml text. The rule file is named relative to the config, so both must share a directory."""
    lines = [
        _HEADER.format(how=how).rstrip("\n"),
        "global:",
        f"  scrape_interval: {scrape_interval}",
        f"  evaluation_interval: {evaluation_interval or scrape_interval}",
        "rule_files:",
        f"  - {ALERTS_FILE}",
        "scrape_configs:",
    ]
    for job in jobs:
        lines += [
            f"  - job_name: {job.name}",
            f"    metrics_path: {job.metrics_path}",
            "    static_configs:",
            f'      - targets: ["{job.target}"]',
        ]
    return "\n".join(lines) + "\n"


def prometheus_deploy_dir(deploy_dir: Path | None = None) -> Path:
    """deploy/prometheus, next to the stack's deploy/local."""
    return (deploy_dir or default_deploy_dir()).parent / "prometheus"


def write_checked_in_configs(prometheus_dir: Path | None = None) -> list[Path]:
    directory = prometheus_dir or prometheus_deploy_dir()
    docker = directory / "docker"
    docker.mkdir(parents=True, exist_ok=True)
    local_file, compose_file = directory / CONFIG_FILE, docker / CONFIG_FILE
    local_file.write_text(render_prometheus_config(local_jobs(), how="local stack, default ports"))
    compose_file.write_text(render_prometheus_config(compose_jobs(), how="docker-compose"))
    shutil.copyfile(directory / ALERTS_FILE, docker / ALERTS_FILE)
    return [local_file, compose_file, docker / ALERTS_FILE]
