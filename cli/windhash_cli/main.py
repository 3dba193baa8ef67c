"""The `windhash` command line: one entry point for the stack, the services, the data tools and the demo.

Each command's module is imported only when that command runs: together they import the whole project
(boto, the stack's servers, the API, ...), ~1.4 s of CPU that `windhash ingest range` would otherwise spend
before its first request. `windhash --help` (or an unknown command) still builds the full app.
"""

import importlib
import sys
from typing import Any

import typer
from windhash_common.local_stack_location import use_local_stack_passwords

HELP = "windhash: the Bitcoin that Great Britain's curtailed wind energy could have mined."

# Sub-groups: name → module whose `app` holds the group's commands.
GROUPS = {
    "stack": "stack_commands",
    "db": "db_commands",
    "ingest": "ingest_commands",
    "bmunits": "bmunits_commands",
    "miners": "miners_commands",
    "difficulty": "difficulty_commands",
    "prices": "prices_commands",
    "summaries": "summaries_commands",
    "reconcile": "reconcile_commands",
    "market": "market_commands",
    "fleet": "fleet_commands",
    "plans": "plans_commands",
    "users": "users_commands",
    "audit": "audit_commands",
    "crm": "crm_commands",
    "bench": "bench_commands",
}
# Single commands: name → (module, function).
COMMANDS = {
    "demo": ("demo_commands", "demo"),
    "elexon-sim": ("elexon_commands", "elexon_sim"),
    "market-sim": ("market_sim_commands", "market_sim"),
    "fleet-sim": ("fleet_sim_commands", "fleet_sim"),
    "fleet-api": ("fleet_commands", "fleet_api"),
    "ingestor": ("services_commands", "ingestor"),
    "calculator": ("services_commands", "calculator"),
    "aggregator": ("services_commands", "aggregator"),
    "reconciler": ("services_commands", "reconciler"),
    "api": ("services_commands", "api"),
    "jobs": ("jobs_commands", "jobs"),
    "plans-api": ("plans_commands", "plans_api"),
    "health": ("health_commands", "health"),
    "export": ("export_commands", "export"),
}


def _module(name: str) -> Any:
    return importlib.import_module(f"windhash_cli.{name}")


def build_app(only: str | None = None) -> typer.Typer:
    """The CLI with every command, or with only the command `only` when it names one."""
    if only not in GROUPS and only not in COMMANDS:
        only = None
    app = typer.Typer(no_args_is_help=True, help=HELP)

    @app.callback()
    def _root() -> None:
        # A callback keeps `windhash NAME ...` a group even when only one command is registered.
        pass

    for name, module in GROUPS.items():
        if only in (None, name):
            app.add_typer(_module(module).app, name=name)
    for name, (module, function) in COMMANDS.items():
        if only in (None, name):
            app.command(name)(getattr(_module(module), function))
    return app


def main() -> None:
    use_local_stack_passwords()
    build_app(sys.argv[1] if len(sys.argv) > 1 else None)(prog_name="windhash")


def __getattr__(name: str) -> typer.Typer:
    # `from windhash_cli.main import app` (tests, tools): the full app, built when first asked for.
    if name == "app":
        return build_app()
    raise AttributeError(name)
