"""`windhash stack`: Start, stop and inspect the local stack (Kafka, PostgreSQL, DynamoDB Local)."""

import json
from collections.abc import Coroutine
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from windhash_common import event_loop
from windhash_stack import LocalStack, Server, StackError, StackSettings, StackStatus, UpReport

app = typer.Typer(
    no_args_is_help=True, help="Start, stop and inspect the local stack (Kafka, PostgreSQL, DynamoDB Local)."
)
console = Console()
errors = Console(stderr=True)
T = TypeVar("T")

# A missing prerequisite or a server that will not start is the user's to fix: one sentence, no traceback.
EXIT_STACK_ERROR = 2


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    try:
        return event_loop.run(coroutine)
    except StackError as error:
        errors.print(f"[bold red]error:[/] {error}", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_STACK_ERROR) from None


def _servers(server: Server | None) -> list[Server] | None:
    return [server] if server is not None else None


def _status_table(status: StackStatus) -> Table:
    table = Table(title=f"windhash local stack ({'healthy' if status.healthy else 'NOT healthy'})")
    for column in ("server", "state", "pid", "listens on", "log"):
        table.add_column(column, overflow="fold")
    for server in status.servers:
        state = "[green]healthy[/]" if server.healthy else f"[red]{server.detail}[/]"
        table.add_row(
            server.name or server.server.value,
            state,
            str(server.pid or "-"),
            server.endpoint,
            server.log_file,
        )
    return table


def _print_up(report: UpReport) -> None:
    for server in report.already_running:
        console.print(f"{server.value}: already running")
    for server in report.started:
        console.print(f"{server.value}: [green]started[/] in {report.server_seconds.get(server, 0.0):.1f} s")
    for step in report.first_time_setup:
        console.print(f"  first start: {step}")
    kind = "cold" if report.cold else "warm"
    console.print(f"Stack up in {report.seconds:.1f} s ({kind}).")
    console.print(f"  Kafka bootstrap    {report.endpoints.kafka_bootstrap}")
    if report.endpoints.kafka_bootstrap.count(",") >= 2:
        console.print(
            "  Kafka topics       WINDHASH_TOPIC_REPLICATION_FACTOR=3 WINDHASH_TOPIC_MIN_INSYNC_REPLICAS=2"
        )
    console.print(f"  PostgreSQL DSN     {report.endpoints.postgres_dsn}  (the superuser: stack and tests)")
    console.print(
        "  Services connect as their own roles (windhash_api, windhash_operator, ...): the same DSN with "
        "that user name; the password file holds every role's password."
    )
    console.print(f"  DynamoDB endpoint  {report.endpoints.dynamodb_endpoint}")


@app.command()
def up(
    server: Server | None = typer.Argument(None, help="Start only this server (default: all three)."),
    monitoring: bool = typer.Option(
        False,
        "--monitoring",
        help="Also start Prometheus and Alertmanager (Debian's packages, installed where missing) scraping "
        "the services and the PostgreSQL and Kafka exporters.",
    ),
    brokers: int | None = typer.Option(
        None,
        "--brokers",
        min=1,
        max=5,
        help="Kafka nodes (KRaft, each broker and controller): 3 for replication factor 3 with 2 in sync. "
        "Default: as many as the last `up`, else 1.",
    ),
) -> None:
    """Start the stack (idempotent) and wait until each server answers a real client."""
    settings = StackSettings()
    if brokers is not None:
        settings = settings.model_copy(update={"kafka_brokers": brokers})
    stack = LocalStack(settings)
    with console.status("Starting the local stack (the first start fetches jars from Maven Central)..."):
        report = _run(stack.start(_servers(server)))
    _print_up(report)
    if monitoring:
        with console.status(
            "Starting Prometheus, Alertmanager and the PostgreSQL exporter (Debian's packages)..."
        ):
            watching = _run(stack.start_monitoring())
        state = f"[green]started[/] in {watching.seconds:.1f} s" if watching.started else "already running"
        console.print(f"prometheus: {state} (config {watching.config_file})")
        console.print(f"  Prometheus         {watching.url}")
        console.print(f"  Alertmanager       {stack.watching.alertmanager.url}")
        console.print(f"  PostgreSQL metrics {stack.watching.postgres_exporter.url}/metrics")


@app.command()
def down(
    server: Server | None = typer.Argument(None, help="Stop only this server (default: all three)."),
) -> None:
    """Stop every server the stack started; data stays under the state dir."""
    stack = LocalStack(StackSettings())
    with console.status("Stopping the local stack..."):
        stopped = [each.value for each in _run(stack.stop(_servers(server)))]
        if server is None and _run(stack.stop_monitoring()):
            stopped.append("prometheus")
    if stopped:
        console.print("stopped: " + ", ".join(stopped))
    else:
        console.print("nothing was running")


@app.command()
def restart(server: Server = typer.Argument(..., help="The server to restart.")) -> None:
    """Stop and start one server (the others keep running)."""
    stack = LocalStack(StackSettings())
    with console.status(f"Restarting {server.value}..."):
        _run(stack.restart(server))
    console.print(f"{server.value}: [green]restarted[/]")


@app.command()
def status(
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output for scripts."),
) -> None:
    """Where each server listens and whether a real client gets an answer; exits 1 unless all are healthy."""
    current = _run(LocalStack(StackSettings()).status())
    if as_json:
        typer.echo(json.dumps(current.to_json(), indent=2))
    else:
        console.print(_status_table(current))
        watching = LocalStack(StackSettings()).monitoring
        if watching.running_pid() is not None:
            console.print(f"prometheus: running at {watching.url} (pid {watching.running_pid()})")
    if not current.healthy:
        raise typer.Exit(1)


@app.command()
def logs(
    server: Server | None = typer.Argument(None, help="Only this server's log (default: all three)."),
    lines: int = typer.Option(40, "--lines", "-n", help="How many lines from the end of each log."),
) -> None:
    """Print the end of each server's log file."""
    stack = LocalStack(StackSettings())
    for chosen in _servers(server) or list(Server):
        console.rule(f"{chosen.value}: {stack.server(chosen).log_file}")
        # Plain echo: log lines must not be re-wrapped or colourised by rich.
        typer.echo(stack.logs(chosen, lines) or "(empty)")
