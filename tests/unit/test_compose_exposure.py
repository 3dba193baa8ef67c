"""docker-compose.yml publishes nothing beyond localhost by default and carries no default password: every
published port is bound to 127.0.0.1 (another address only when WINDHASH_PUBLISH_HOST says so), and every
password is required from the environment (`${NAME:?...}`: compose refuses to start without it), never
written in the file."""

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

COMPOSE = Path(__file__).parents[2] / "docker-compose.yml"
REQUIRED = re.compile(r"^\$\{(WINDHASH_[A-Z_]+):\?[^}]+\}$")
PUBLISHED = re.compile(r"^\$\{WINDHASH_PUBLISH_HOST:-127\.0\.0\.1\}:\d+:\d+$")


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return dict(loaded["services"])


def test_every_published_port_is_bound_to_localhost_by_default(services: dict[str, Any]) -> None:
    published = [(name, port) for name, service in services.items() for port in service.get("ports", [])]
    assert published, "the API, Prometheus and Grafana are published"
    for name, port in published:
        assert isinstance(port, str) and PUBLISHED.match(port), f"{name} publishes {port!r} beyond localhost"


def _environment(service: dict[str, Any]) -> dict[str, str]:
    environment = service.get("environment", {})
    return {str(key): str(value) for key, value in environment.items()}


def test_no_password_is_written_in_the_file(services: dict[str, Any]) -> None:
    passwords = {
        (name, key): value
        for name, service in services.items()
        for key, value in _environment(service).items()
        if "PASSWORD" in key
    }
    assert ("postgres", "POSTGRES_PASSWORD") in passwords
    assert ("grafana", "GF_SECURITY_ADMIN_PASSWORD") in passwords, "Grafana's image would default to admin"
    for where, value in passwords.items():
        assert REQUIRED.match(value), f"{where} has a default or literal password: {value!r}"


def test_the_services_reach_postgres_with_the_required_password(services: dict[str, Any]) -> None:
    for name in ("ingestor", "calculator", "aggregator", "api"):
        url = _environment(services[name])["WINDHASH_DATABASE_URL"]
        user_info = url.split("//", 1)[1].split("@", 1)[0]
        _, password = user_info.split(":", 1)
        assert REQUIRED.match(password), f"{name} connects with {password!r}"
