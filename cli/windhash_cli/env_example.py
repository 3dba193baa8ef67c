"""`.env.example`: every setting of every service, generated from the Settings classes (one home for each).

    python -m windhash_cli.env_example --write     # rewrite .env.example at the checkout's root

tests/unit/test_env_example.py fails when the file and the classes differ. Every line is commented out: the
value shown is the default, which applies when the variable is unset; secrets (SecretStr) show no value.
"""

import sys
from collections.abc import Iterator
from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import BaseSettings
from windhash_aggregator.settings import AggregatorSettings
from windhash_api.settings import ApiSettings
from windhash_calculator.settings import CalculatorSettings
from windhash_common.settings import CommonSettings
from windhash_crm.settings import CrmSettings
from windhash_fleet.settings import FleetSettings
from windhash_ingestor.settings import IngestorSettings
from windhash_market.settings import MarketSettings
from windhash_plans.settings import PlansSettings
from windhash_reconciler.settings import ReconcilerSettings
from windhash_stack.prometheus_server import MonitoringSettings
from windhash_stack.settings import StackSettings, find_repo_root

# Who reads what: the shared settings first, then each service's own, then the local stack's.
SETTINGS: tuple[tuple[str, type[BaseSettings]], ...] = (
    ("every service and command", CommonSettings),
    ("ingestor (windhash ingestor, windhash ingest)", IngestorSettings),
    ("calculator", CalculatorSettings),
    ("aggregator", AggregatorSettings),
    ("reconciler (windhash reconciler, windhash reconcile)", ReconcilerSettings),
    ("api", ApiSettings),
    ("market (windhash market; the prices and difficulty commands)", MarketSettings),
    ("fleet (windhash fleet collector, windhash fleet writer, windhash fleet-api)", FleetSettings),
    ("curtailment plans (windhash plans, windhash plans-api)", PlansSettings),
    ("crm (windhash crm)", CrmSettings),
    ("the local stack (windhash stack)", StackSettings),
    ("the local stack's monitoring (windhash stack up --monitoring)", MonitoringSettings),
)
HEADER = """# Every setting of windhash, generated from the Settings classes by
# `python -m windhash_cli.env_example --write` (tests/unit/test_env_example.py keeps it complete). Each line
# shows the default; uncomment and set what differs. Secrets show no value: give them through your secret
# store (compose secrets, Kubernetes Secrets), never in a committed file. AWS credentials are the standard
# chain's (AWS_PROFILE, AWS_ACCESS_KEY_ID, ... or an instance or pod role), not windhash settings.
"""


def env_name(settings: type[BaseSettings], field: str) -> str:
    return f"{settings.model_config.get('env_prefix', '')}{field}".upper()


def shown_default(settings: type[BaseSettings], field: str) -> str:
    info = settings.model_fields[field]
    if info.annotation is SecretStr or "SecretStr" in str(info.annotation):
        return ""
    if info.default_factory is not None:
        if field in ("state_dir", "deploy_dir"):
            return "<the checkout>/.windhash" if field == "state_dir" else "<the checkout>/deploy/local"
        value = info.default_factory()  # type: ignore[call-arg]
    else:
        value = info.default
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(str(item) for item in value)
    return str(value)


def entries() -> Iterator[tuple[str, str, str, str]]:
    """(section, variable, default, description) for every field: each variable where it is first read, and
    again in a later section whose default differs (WINDHASH_METRICS_PORT is 9102 for the calculator)."""
    seen: dict[str, str] = {}
    for section, settings in SETTINGS:
        for field, info in settings.model_fields.items():
            name, default = env_name(settings, field), shown_default(settings, field)
            if seen.get(name) == default:
                continue
            seen[name] = default
            yield section, name, default, info.description or ""


def render() -> str:
    lines = [HEADER.rstrip("\n")]
    current = None
    for section, name, default, description in entries():
        if section != current:
            lines += ["", f"# ---- {section}"]
            current = section
        if description:
            lines.append(f"# {description}")
        lines.append(f"#{name}={default}")
    return "\n".join(lines) + "\n"


def env_example_path() -> Path:
    root = find_repo_root(Path(__file__).resolve().parent) or Path.cwd()
    return root / ".env.example"


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        env_example_path().write_text(render())
        print(f"wrote {env_example_path()}")
    else:
        sys.stdout.write(render())
