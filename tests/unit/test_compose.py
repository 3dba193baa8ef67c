"""docker-compose.yml cannot run here (no Docker engine); this checks that it describes the same system:
every windhash service's WINDHASH_* variables are fields of that service's Settings."""

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic_settings import BaseSettings
from windhash_aggregator.settings import AggregatorSettings
from windhash_api.settings import ApiSettings
from windhash_calculator.settings import CalculatorSettings
from windhash_crm.settings import CrmSettings
from windhash_fleet.settings import FleetSettings
from windhash_ingestor.settings import IngestorSettings
from windhash_market.settings import MarketSettings
from windhash_plans.settings import PlansSettings
from windhash_reconciler.settings import ReconcilerSettings

COMPOSE = Path(__file__).parents[2] / "docker-compose.yml"
# The settings each service reads; the reconciler's re-fetching runs the ingestor's code (and settings).
SERVICE_SETTINGS: dict[str, tuple[type[BaseSettings], ...]] = {
    "ingestor": (IngestorSettings,),
    "calculator": (CalculatorSettings,),
    "aggregator": (AggregatorSettings,),
    "reconciler": (ReconcilerSettings, IngestorSettings),
    "api": (ApiSettings,),
    "market": (MarketSettings,),
    "crm": (CrmSettings,),
    "fleet-collector": (FleetSettings,),
    "fleet-writer": (FleetSettings,),
    "fleet-api": (FleetSettings,),
    "plans": (PlansSettings,),
    "plans-api": (PlansSettings,),
}
# `windhash <command...>` each service runs, where it is not `windhash <service>`.
COMMANDS = {"fleet-collector": ["fleet", "collector"], "fleet-writer": ["fleet", "writer"]}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def env_names(classes: tuple[type[BaseSettings], ...]) -> set[str]:
    return {
        f"{settings.model_config.get('env_prefix', '')}{name}".upper()
        for settings in classes
        for name in settings.model_fields
    }


@pytest.mark.parametrize("service", sorted(SERVICE_SETTINGS))
def test_every_variable_is_a_setting_of_its_service(compose: dict[str, Any], service: str) -> None:
    definition = compose["services"][service]
    assert definition["command"] == COMMANDS.get(service, [service]), "each service runs its windhash command"
    variables = set(definition["environment"])
    unknown = variables - env_names(SERVICE_SETTINGS[service])
    assert not unknown, f"{service} sets variables its Settings do not read: {sorted(unknown)}"


@pytest.mark.parametrize("service", sorted(SERVICE_SETTINGS))
def test_every_service_is_pointed_at_the_compose_servers(compose: dict[str, Any], service: str) -> None:
    variables = compose["services"][service]["environment"]
    assert variables["WINDHASH_DATABASE_URL"].startswith(
        "postgresql://windhash:${WINDHASH_POSTGRES_PASSWORD:?"
    )
    assert variables["WINDHASH_DATABASE_URL"].endswith("}@postgres:5432/windhash")
    if service != "api":
        assert variables["WINDHASH_KAFKA_BOOTSTRAP"] == "kafka:9092"
        assert variables["WINDHASH_METRICS_HOST"] == "0.0.0.0"


def test_the_servers_and_monitoring_are_all_there(compose: dict[str, Any]) -> None:
    assert {"kafka", "postgres", "dynamodb", "prometheus", "grafana", "elexon-sim", "market-sim"} <= set(
        compose["services"]
    )
    kafka = compose["services"]["kafka"]["environment"]
    assert kafka["KAFKA_PROCESS_ROLES"] == "broker,controller", "Kafka runs in KRaft combined mode"


def test_mounted_monitoring_files_exist(compose: dict[str, Any]) -> None:
    for service in ("prometheus", "grafana"):
        for volume in compose["services"][service]["volumes"]:
            source = volume.split(":")[0]
            assert (COMPOSE.parent / source).exists(), f"{service} mounts {source}, which is missing"
