"""The direction of the arrows, over the whole tree: libs/ imports no service and not the CLI; a service
imports no other service and not the CLI; only cli/ (the entry point above them all) imports services.

Read from the source with `ast`, so an import inside a function counts as much as one at the top."""

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest
from windhash_stack.settings import find_repo_root

ROOT = find_repo_root(Path(__file__).resolve().parent) or Path(__file__).resolve().parents[2]
SERVICES = {
    path.name: next(path.glob("windhash_*")).name for path in (ROOT / "services").iterdir() if path.is_dir()
}
SERVICE_PACKAGES = set(SERVICES.values())
CLI_PACKAGE = "windhash_cli"


def imported_packages(path: Path) -> Iterator[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module.split(".")[0]


def violations(folder: Path, forbidden: set[str]) -> list[str]:
    return [
        f"{path.relative_to(folder)}:{line} imports {package}"
        for path in sorted(folder.rglob("*.py"))
        for line, package in imported_packages(path)
        if package in forbidden
    ]


def test_the_services_are_where_the_rule_expects_them() -> None:
    assert {"ingestor", "calculator", "aggregator", "reconciler", "api"} <= set(SERVICES)
    assert (ROOT / "cli" / CLI_PACKAGE).is_dir() and not (ROOT / "libs" / "cli").exists()


def test_no_module_under_libs_imports_a_service_or_the_cli() -> None:
    assert violations(ROOT / "libs", SERVICE_PACKAGES | {CLI_PACKAGE}) == []


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_no_service_imports_another_service_or_the_cli(service: str) -> None:
    others = (SERVICE_PACKAGES - {SERVICES[service]}) | {CLI_PACKAGE}
    assert violations(ROOT / "services" / service, others) == []


def test_the_rule_sees_an_import_inside_a_function(tmp_path: Path) -> None:
    (tmp_path / "late.py").write_text(
        "def f() -> None:\n    from windhash_calculator.handler import SERVICE\n"
    )
    (tmp_path / "fine.py").write_text("import decimal\nfrom windhash_common import money\n")
    assert violations(tmp_path, SERVICE_PACKAGES) == ["late.py:2 imports windhash_calculator"]


SHIPPED = ("libs", "services", "cli")


def kafka_constructions(path: Path) -> Iterator[tuple[int, str, bool]]:
    """Calls of Kafka client constructors: (line, name, whether the connection's options are passed)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            if name in {"AIOKafkaProducer", "AIOKafkaConsumer", "AIOKafkaAdminClient", "KafkaBroker"}:
                uses_options = any(
                    keyword.arg is None and "client_options" in ast.unparse(keyword.value)
                    for keyword in node.keywords
                )
                yield node.lineno, name, uses_options


def test_every_kafka_client_connects_through_the_one_connection_and_every_producer_is_the_durable_one() -> (
    None
):
    """acks=all with idempotence (kafka_broker.py) for every producer, and SASL/TLS from the settings
    (kafka_connection.py) for every client: no client of the shipped code is built any other way."""
    found = []
    for top in SHIPPED:
        for path in sorted((ROOT / top).rglob("*.py")):
            relative = str(path.relative_to(ROOT))
            for line, name, uses_options in kafka_constructions(path):
                if name == "AIOKafkaProducer":
                    found.append(f"{relative}:{line} builds its own producer")
                elif name == "KafkaBroker" and not relative.endswith("windhash_common/kafka_broker.py"):
                    found.append(f"{relative}:{line} builds its own FastStream broker")
                elif name != "KafkaBroker" and not uses_options:
                    found.append(f"{relative}:{line} builds {name} without the connection's options")
    assert found == []
