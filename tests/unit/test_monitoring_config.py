"""Monitoring as code, without servers: the Prometheus configs, alert rules and Grafana dashboards agree with
each other and name only metrics the services really export."""

import importlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.metrics_core import Metric
from windhash_stack import StackSettings
from windhash_stack.errors import MissingPrerequisite
from windhash_stack.monitoring_queries import (
    PromQuery,
    alert_queries,
    all_queries,
    metric_names,
    name_patterns,
)
from windhash_stack.prometheus_config import (
    ALERTS_FILE,
    EXPORTER_JOBS,
    SERVICE_JOBS,
    compose_jobs,
    local_jobs,
    prometheus_deploy_dir,
    render_compose_config,
    render_local_config,
    render_prometheus_config,
)
from windhash_stack.prometheus_install import ensure_prometheus
from windhash_stack.prometheus_server import MonitoringSettings, PrometheusServer
from windhash_stack.settings import find_repo_root


def _repo() -> Path:
    root = find_repo_root(Path(__file__).resolve().parent)
    assert root is not None
    return root


REPO = _repo()
PROMETHEUS_DIR = REPO / "deploy" / "prometheus"
GRAFANA_DIR = REPO / "deploy" / "grafana"
DASHBOARDS = GRAFANA_DIR / "dashboards"
# Prometheus's own series, and the process collector of the services on prometheus_client's default registry.
PROMETHEUS_SERIES = {"up", "ALERTS"}
SERVICE_METRICS_MODULES = (
    "windhash_ingestor.metrics",
    "windhash_calculator.metrics",
    "windhash_aggregator.metrics",
    "windhash_reconciler.metrics",
    # What every consumer exports (labelled by consumer and service): the runtime, readiness, the relay.
    "windhash_common.consumer_runtime.metrics",
    "windhash_common.readiness",
    "windhash_common.outbox_relay",
    "windhash_common.outbox_pruning",
    "windhash_market.metrics",
    "windhash_crm.metrics",
    "windhash_common.market_sources.http_fetch",
    "windhash_fleet.metrics",
    "windhash_fleet.writer_metrics",
    "windhash_fleet.api_metrics",
    "windhash_plans.metrics",
)
REQUIRED_ALERTS = {
    "WindhashServiceDown",
    "WindhashIngestFailures",
    "WindhashNoNewData",
    "WindhashConsumerLagGrowing",
    "WindhashDeadLetters",
    "WindhashCompletenessBelowTarget",
}


def _series_names(family: Metric) -> set[str]:
    # A labelled metric without children has no samples yet, so names come from the family and its type.
    if family.type == "counter":
        return {f"{family.name}_total"}
    return {family.name}


def _families(registry: CollectorRegistry) -> Iterator[Metric]:
    yield from registry.collect()


@pytest.fixture(scope="module")
def exported_names() -> set[str]:
    """Every series name the four services export, read from their prometheus_client registries."""
    from windhash_api.forwarding import ForwardingMetrics
    from windhash_api.metrics import RequestMetrics

    for module in SERVICE_METRICS_MODULES:
        importlib.import_module(module)  # registers the module's metrics on the default registry

    api_registry = CollectorRegistry()
    RequestMetrics(api_registry)
    ForwardingMetrics(api_registry)
    names = {name for family in _families(REGISTRY) for name in _series_names(family)}
    names |= {name for family in _families(api_registry) for name in _series_names(family)}
    return names


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def test_checked_in_configs_are_the_renderings() -> None:
    local, compose = render_local_config(), render_compose_config()
    hint = "run `python -m windhash_stack.monitoring_setup render` to rewrite them"
    assert (PROMETHEUS_DIR / "prometheus.yml").read_text() == local, hint
    assert (PROMETHEUS_DIR / "docker" / "prometheus.yml").read_text() == compose, hint
    assert (PROMETHEUS_DIR / "docker" / ALERTS_FILE).read_text() == (
        PROMETHEUS_DIR / ALERTS_FILE
    ).read_text(), hint


@pytest.mark.parametrize(
    ("path", "targets"),
    [
        (
            "prometheus.yml",
            [
                "127.0.0.1:9101",
                "127.0.0.1:9102",
                "127.0.0.1:9103",
                "127.0.0.1:9104",
                "127.0.0.1:8080",
                "127.0.0.1:9105",
                "127.0.0.1:8084",
                "127.0.0.1:9106",
                "127.0.0.1:9107",
                "127.0.0.1:8086",
                "127.0.0.1:9108",
                "127.0.0.1:8087",
                "127.0.0.1:19187",
                "127.0.0.1:19188",
            ],
        ),
        (
            "docker/prometheus.yml",
            [
                "ingestor:9101",
                "calculator:9102",
                "aggregator:9103",
                "reconciler:9104",
                "api:8080",
                "market:9105",
                "crm:8084",
                "fleet-collector:9106",
                "fleet-writer:9107",
                "fleet-api:8086",
                "plans:9108",
                "plans-api:8087",
                "postgres-exporter:9187",
            ],
        ),
    ],
)
def test_configs_scrape_every_service_and_load_the_rules(path: str, targets: list[str]) -> None:
    config = _yaml(PROMETHEUS_DIR / path)
    jobs = {job["job_name"]: job["static_configs"][0]["targets"] for job in config["scrape_configs"]}
    assert list(jobs) == [*SERVICE_JOBS, *EXPORTER_JOBS][: len(jobs)]
    assert [target for listed in jobs.values() for target in listed] == targets
    assert config["rule_files"] == [ALERTS_FILE]
    assert len(config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"]) == 1
    assert (PROMETHEUS_DIR / Path(path).parent / ALERTS_FILE).is_file()


def test_rendered_config_takes_a_test_s_ports_and_interval() -> None:
    text = render_prometheus_config(
        local_jobs(ports={"calculator": 40123, "api": 40124}), scrape_interval="1s"
    )
    config = yaml.safe_load(text)
    assert config["global"] == {"scrape_interval": "1s", "evaluation_interval": "1s"}
    targets = {job["job_name"]: job["static_configs"][0]["targets"] for job in config["scrape_configs"]}
    assert targets["calculator"] == ["127.0.0.1:40123"]
    assert targets["api"] == ["127.0.0.1:40124"]
    assert targets["ingestor"] == ["127.0.0.1:9101"]


def test_compose_mounts_what_the_configs_expect() -> None:
    compose = _yaml(REPO / "docker-compose.yml")["services"]
    assert "./deploy/prometheus/docker:/etc/prometheus:ro" in compose["prometheus"]["volumes"]
    assert "./deploy/grafana/dashboards:/var/lib/grafana/dashboards:ro" in compose["grafana"]["volumes"]
    for job in SERVICE_JOBS[:3]:
        port = compose[job]["environment"]["WINDHASH_METRICS_PORT"]
        assert f"{job}:{port}" in [scrape.target for scrape in compose_jobs()]
    provider = _yaml(GRAFANA_DIR / "provisioning" / "dashboards" / "windhash.yml")["providers"][0]
    assert provider["options"]["path"] == "/var/lib/grafana/dashboards"


def test_alert_rules_cover_the_operators_questions() -> None:
    rules = {
        rule["alert"]: rule
        for group in _yaml(PROMETHEUS_DIR / ALERTS_FILE)["groups"]
        for rule in group["rules"]
        if "alert" in rule
    }
    assert set(rules) >= REQUIRED_ALERTS
    for name, rule in rules.items():
        assert rule["labels"]["severity"] in {"warning", "critical"}, name
        assert rule["annotations"]["summary"] and rule["annotations"]["description"], name
    assert rules["WindhashCompletenessBelowTarget"]["for"] == "1d"


def _recorded(promql: list[PromQuery]) -> dict[str, set[str]]:
    """Recorded series of alerts.yml and the metrics each is made of."""
    return {query.name: metric_names(query.expr) for query in promql if query.kind == "record"}


def test_every_query_names_only_exported_metrics(exported_names: set[str]) -> None:
    promql, _ = all_queries(PROMETHEUS_DIR, DASHBOARDS)
    known = exported_names | PROMETHEUS_SERIES | set(_recorded(promql))
    unknown = {
        (query.source, query.name, name)
        for query in promql
        for name in metric_names(query.expr)
        if name not in known and not name.startswith("process_")
    }
    assert not unknown, "queries name metrics no service exports (renamed?)"
    assert not [query.name for query in promql if name_patterns(query.expr)], (
        "select metrics by name, not regex"
    )


def test_every_service_metric_is_read_from_its_own_job() -> None:
    # A process started through the windhash CLI exports, at zero, the metrics of every module it imports: a
    # selector without its job would mix those zeros in (and clash in rate() over several metric names).
    promql, _ = all_queries(PROMETHEUS_DIR, DASHBOARDS)
    selector = re.compile(r"\b(windhash_(ingestor|calculator|aggregator|api|market)_[a-z0-9_]+)(\{[^}]*\})?")
    unscoped = {
        (query.name, match.group(1))
        for query in promql
        for match in selector.finditer(query.expr)
        if f'job="{match.group(2)}"' not in (match.group(3) or "")
    }
    assert not unscoped


def test_every_windhash_metric_is_on_a_dashboard(exported_names: set[str]) -> None:
    promql, _ = all_queries(PROMETHEUS_DIR, DASHBOARDS)
    recorded = _recorded(promql)
    on_dashboards = {name for query in promql if query.kind == "panel" for name in metric_names(query.expr)}
    on_dashboards |= {name for record in on_dashboards & set(recorded) for name in recorded[record]}
    windhash_metrics = {name for name in exported_names if name.startswith("windhash_")}
    assert windhash_metrics - on_dashboards == set()


def _dashboard(name: str) -> dict[str, Any]:
    board: dict[str, Any] = json.loads((DASHBOARDS / name).read_text())
    return board


@pytest.mark.parametrize(
    "name", ["pipeline-health.json", "business.json", "market.json", "fleet.json", "plans.json"]
)
def test_dashboards_are_well_formed_and_use_provisioned_datasources(name: str) -> None:
    datasources = _yaml(GRAFANA_DIR / "provisioning" / "datasources" / "prometheus.yml")["datasources"]
    provisioned = {source["uid"]: source["type"] for source in datasources}
    board = _dashboard(name)
    assert board["uid"].startswith("windhash-")
    ids = [panel["id"] for panel in board["panels"]]
    assert len(ids) == len(set(ids))
    for panel in board["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        if panel["type"] == "row":
            continue
        assert panel["targets"], panel["title"]
        for target in [panel, *panel["targets"]]:
            source = target["datasource"]
            assert provisioned.get(source["uid"]) == source["type"], panel["title"]
        for target in panel["targets"]:
            assert ("expr" in target) != ("rawSql" in target), panel["title"]


def test_business_dashboard_shows_curtailment_btc_and_value_by_day_and_model() -> None:
    _, sql = all_queries(PROMETHEUS_DIR, DASHBOARDS)
    business = " ".join(query.sql for query in sql if query.source == "business.json")
    for needed in ("curtailment_daily", "bitcoin_daily", "energy_mwh", "btc", "value_gbp", "miner_model"):
        assert needed in business
    assert "$model" in business and "$__timeFilter" in business


def test_alert_queries_read_every_rule() -> None:
    names = {query.name for query in alert_queries(PROMETHEUS_DIR / ALERTS_FILE)}
    assert names >= REQUIRED_ALERTS


def test_prometheus_runs_on_its_port_with_storage_under_the_state_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WINDHASH_STACK_PROMETHEUS_PORT", "29090")
    monkeypatch.setenv("WINDHASH_STACK_CALCULATOR_METRICS_PORT", "29102")
    server = PrometheusServer(StackSettings(state_dir=tmp_path), MonitoringSettings())
    command = server.command(Path("/usr/bin/prometheus"))
    assert f"--config.file={tmp_path / 'prometheus' / 'prometheus.yml'}" in command
    assert f"--storage.tsdb.path={tmp_path / 'prometheus' / 'data'}" in command
    assert "--web.listen-address=127.0.0.1:29090" in command
    server.render()
    rendered = yaml.safe_load(server.config_file.read_text())
    targets = {job["job_name"]: job["static_configs"][0]["targets"] for job in rendered["scrape_configs"]}
    assert targets["calculator"] == ["127.0.0.1:29102"]
    assert (server.home / ALERTS_FILE).read_text() == (prometheus_deploy_dir() / ALERTS_FILE).read_text()


def test_missing_prometheus_without_apt_is_one_clear_sentence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("windhash_stack.prometheus_install.shutil.which", lambda _name: None)
    with pytest.raises(MissingPrerequisite) as raised:
        ensure_prometheus(tmp_path / "no-prometheus")
    message = str(raised.value)
    assert "apt-get install prometheus" in message
    assert "\n" not in message
