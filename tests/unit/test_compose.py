"""docker-compose.yml cannot run here (no Docker engine); this checks that it describes the same system the
local stack runs, and the deployment rules: every windhash service's WINDHASH_* variables are fields of its
Settings; each service connects as its own database role; every service restarts and has a healthcheck; no
password has a default; nothing is published beyond the loopback address; every image is pinned."""

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic_settings import BaseSettings
from typer.testing import CliRunner
from windhash_aggregator.settings import AggregatorSettings
from windhash_api.settings import ApiSettings
from windhash_calculator.settings import CalculatorSettings
from windhash_cli.db_commands import app as db_app
from windhash_cli.db_commands import compose_password_variables
from windhash_common.db_roles import COMMAND_ROLES
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
# The HTTP services (the API, the CRM, the fleet's and the plans' apps) answer /health on their own port; the
# workers on their metrics port.
HTTP_SERVICES = {"api", "crm", "fleet-api", "plans-api"}
WORKERS = sorted(set(SERVICE_SETTINGS) - HTTP_SERVICES)
# An exact release (PostgreSQL's are major.minor): never `latest` or a bare major version.
PINNED = re.compile(r"^[a-z0-9./-]+:v?\d+\.\d+(\.\d+)?$")


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
def test_every_service_connects_as_its_own_role_with_a_required_password(
    compose: dict[str, Any], service: str
) -> None:
    variables = compose["services"][service]["environment"]
    role = COMMAND_ROLES[COMMANDS.get(service, [service])[0]].value
    password = f"WINDHASH_PG_{role.removeprefix('windhash_').upper()}_PASSWORD"
    required = f"${{{password}:?run windhash db passwords --env-file .env}}"
    assert variables["WINDHASH_DATABASE_URL"] == f"postgresql://{role}:{required}@postgres:5432/windhash"
    if service in WORKERS:
        assert variables["WINDHASH_KAFKA_BOOTSTRAP"] == "kafka:9092"
        assert variables["WINDHASH_METRICS_HOST"] == "0.0.0.0"
        assert variables["WINDHASH_METRICS_PORT"], "windhash health (the healthcheck) asks the metrics port"


def test_every_service_restarts_and_has_a_healthcheck(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        if name == "init":
            assert service["restart"] == "no" and service["healthcheck"] == {"disable": True}
            continue
        assert service["restart"] == "unless-stopped", name
        assert service["healthcheck"]["test"], name
    for worker in WORKERS:
        assert compose["services"][worker]["healthcheck"]["test"] == ["CMD", "windhash", "health"]


def test_no_password_has_a_default_and_the_generator_writes_every_one(
    compose: dict[str, Any], tmp_path: Path
) -> None:
    text = COMPOSE.read_text()
    required = set(re.findall(r"\$\{(WINDHASH_[A-Z_]+_PASSWORD):\?", text))
    assert not re.findall(r"\$\{[A-Z_]*PASSWORD(:?-)", text), "a password with a default"
    assert "windhash:windhash@" not in text
    assert required == set(compose_password_variables())
    env_file = tmp_path / ".env"
    result = CliRunner().invoke(db_app, ["passwords", "--env-file", str(env_file)])
    assert result.exit_code == 0, result.output
    written = dict(line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line)
    assert set(written) == required and len(set(written.values())) == len(written)
    assert env_file.stat().st_mode & 0o777 == 0o600
    again = CliRunner().invoke(db_app, ["passwords", "--env-file", str(env_file)])
    assert again.exit_code == 2, "an existing file is never overwritten silently"


def test_every_image_is_pinned_to_a_release(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        image = service["image"]
        assert PINNED.match(image), f"{name}: {image} is not pinned to a release"


def test_the_init_job_provisions_roles_migrates_as_the_owner_and_loads_reference_data(
    compose: dict[str, Any],
) -> None:
    init = compose["services"]["init"]
    script = init["command"][0]
    steps = ["windhash db roles", "windhash db migrate", "windhash bmunits sync", "windhash difficulty load",
             "windhash prices load"]  # fmt: skip
    assert [script.index(step) for step in steps] == sorted(script.index(step) for step in steps)
    migrate_step = script.split("windhash db migrate")[0].rsplit("&&", 1)[-1]
    assert "postgresql://windhash_owner:" in migrate_step
    for worker in [*WORKERS, *HTTP_SERVICES]:
        assert compose["services"][worker]["depends_on"]["init"] == {
            "condition": "service_completed_successfully"
        }


def test_the_servers_and_monitoring_are_all_there(compose: dict[str, Any]) -> None:
    assert {
        "kafka", "postgres", "dynamodb", "prometheus", "alertmanager", "grafana", "postgres-exporter",
        "elexon-sim", "market-sim",
    } <= set(compose["services"])  # fmt: skip
    kafka = compose["services"]["kafka"]["environment"]
    assert kafka["KAFKA_PROCESS_ROLES"] == "broker,controller", "Kafka runs in KRaft combined mode"


def test_mounted_monitoring_files_exist(compose: dict[str, Any]) -> None:
    for service in ("prometheus", "grafana", "alertmanager"):
        for volume in compose["services"][service]["volumes"]:
            source = volume.split(":")[0]
            assert (COMPOSE.parent / source).exists(), f"{service} mounts {source}, which is missing"
