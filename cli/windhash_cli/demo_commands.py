"""`windhash demo`: the main job. Starts the local stack, the synthetic Elexon, market and fleet simulators
and the services, ingests the bundled sample span, waits until every summary is current and prints what it
found, then the hosting fleet's state once every simulated miner has been read, and the business half: one
curtailment plan run on the simulated fleet, the automatic policy's backtest, and a sample sale in the CRM."""

import asyncio
import json
import os
import signal
import socket
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from pathlib import Path

import asyncpg
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from windhash_common import event_loop
from windhash_common.db_roles import DatabaseRole, dsn_as
from windhash_stack import LocalStack, StackEndpoints, StackSettings

from windhash_cli.demo_crm import run_demo_sale
from windhash_cli.demo_fleet import fleet_environment, print_fleet_summary, start_fleet
from windhash_cli.demo_owner import DemoOwner, ensure_demo_owner
from windhash_cli.demo_plans import backtest_report, plans_environment, run_demo_plan
from windhash_cli.demo_report import summary_tables
from windhash_cli.demo_staff import staff_sessions
from windhash_cli.pipeline_completion import PipelineProgress, pipeline_progress
from windhash_cli.service_processes import WINDHASH, ServiceProcesses, as_service_role, wait_for_http

# Spans the spring clock change (2024-03-31, 46 periods) and the halving (2024-04-20).
DEMO_FIRST = date(2024, 3, 15)
DEMO_LAST = date(2024, 4, 30)
ISO_DATE = "%Y-%m-%d"
console = Console()


# The context services whose HTTP apps the API forwards to (its WINDHASH_API_UPSTREAMS): context → port on
# 127.0.0.1 (defaults; `--market-api-port`, `--crm-port`, `--fleet-api-port` and `--plans-api-port` move
# them). A service joining adds itself here and starts in `_run`, trusting the API as its proxy
# (WINDHASH_API_TRUSTED_PROXIES=127.0.0.1 in its own environment).
DEMO_UPSTREAMS: dict[str, int] = {"market": 9105, "crm": 8084, "fleet": 8086, "plans": 8087}
# The setting that gives each of them its port (the market serves its routes on its metrics port).
DEMO_PORT_SETTINGS: dict[str, str] = {
    "market": "WINDHASH_METRICS_PORT",
    "crm": "WINDHASH_CRM_PORT",
    "fleet": "WINDHASH_FLEET_API_PORT",
    "plans": "WINDHASH_PLANS_API_PORT",
}


def demo(
    once: bool = typer.Option(False, "--once", help="Stop everything after printing the summary table."),
    first: datetime = typer.Option(
        DEMO_FIRST.isoformat(), "--from", formats=["%Y-%m-%d"], help="First date."
    ),
    last: datetime = typer.Option(DEMO_LAST.isoformat(), "--to", formats=["%Y-%m-%d"], help="Last date."),
    api_port: int = typer.Option(8080, help="Port of the API and dashboard."),
    elexon_port: int = typer.Option(18080, help="Port of the synthetic Elexon server."),
    market_port: int = typer.Option(18090, help="Port of the synthetic market server."),
    market_api_port: int = typer.Option(
        DEMO_UPSTREAMS["market"], help="Port of the market service's routes and metrics (behind the API)."
    ),
    crm_port: int = typer.Option(DEMO_UPSTREAMS["crm"], help="Port of the CRM service (behind the API)."),
    fleet_sim_port: int = typer.Option(18091, help="Control port of the synthetic fleet of miners."),
    fleet_api_port: int = typer.Option(
        DEMO_UPSTREAMS["fleet"], help="Port of the fleet's HTTP app (behind the API)."
    ),
    plans_api_port: int = typer.Option(
        DEMO_UPSTREAMS["plans"], help="Port of the curtailment plans' HTTP app (behind the API)."
    ),
    timeout: float = typer.Option(900, help="Seconds to wait for the pipeline to finish."),
) -> None:
    """Run the whole pipeline on the bundled SYNTHETIC sample and serve the dashboard."""
    stack = LocalStack(StackSettings())
    console.print("[bold]Starting the local stack[/] (Kafka, PostgreSQL, DynamoDB Local)…")
    was_running = event_loop.run(stack.status()).healthy
    endpoints = event_loop.run(stack.up())
    upstreams = {"market": market_api_port, "crm": crm_port, "fleet": fleet_api_port, "plans": plans_api_port}
    env = _environment(endpoints, api_port, elexon_port, market_port, upstreams)
    processes = ServiceProcesses(env=env, log_dir=stack.settings.state_dir / "logs" / "demo")
    try:
        ports = (elexon_port, market_port, fleet_sim_port)
        owner = _run(processes, env, first.date(), last.date(), api_port, ports, upstreams, timeout)
        _business_half(processes, env, first.date(), last.date(), api_port, stack.settings.state_dir)
        console.print(
            f"Demo owner: [bold]{owner.email}[/], one-time password [bold]{owner.one_time_password}[/] "
            "(shown once; choose your own at the first login)."
        )
        if not once:
            console.print(
                f"\nDashboard: [bold]http://127.0.0.1:{api_port}/[/]  (log in: Account; Ctrl-C to stop)"
            )
            _wait_for_interrupt(processes)
    finally:
        console.print("Stopping the services…")
        processes.stop_all()
        if once and not was_running:
            event_loop.run(stack.down())


def _environment(
    endpoints: StackEndpoints, api_port: int, elexon_port: int, market_port: int, upstreams: dict[str, int]
) -> dict[str, str]:
    # The operator's role for the CLI steps; each service runs as its own (service_processes).
    urls = {context: f"http://127.0.0.1:{port}" for context, port in upstreams.items()}
    return {
        **fleet_environment(upstreams["fleet"]),
        "WINDHASH_API_UPSTREAMS": json.dumps(urls),
        "WINDHASH_EXPLORER_URL": f"http://127.0.0.1:{market_port}",
        "WINDHASH_PRICE_API_URL": f"http://127.0.0.1:{market_port}",
        "WINDHASH_MARKET_BACKFILL_HOURS": "24",
        "WINDHASH_KAFKA_BOOTSTRAP": endpoints.kafka_bootstrap,
        "WINDHASH_DATABASE_URL": dsn_as(endpoints.postgres_dsn, DatabaseRole.OPERATOR),
        "WINDHASH_DYNAMODB_ENDPOINT": endpoints.dynamodb_endpoint,
        "WINDHASH_ELEXON_BASE_URL": f"http://127.0.0.1:{elexon_port}/bmrs/api/v1",
        "WINDHASH_API_PORT": str(api_port),
    }


def _context_service_env(context: str, port: int) -> dict[str, str]:
    """A context service on its demo port, believing the API (its only client) as its proxy."""
    return {
        DEMO_PORT_SETTINGS[context]: str(port),
        "WINDHASH_API_TRUSTED_PROXIES": "127.0.0.1",
    }


def _run(
    processes: ServiceProcesses,
    env: dict[str, str],
    first: date,
    last: date,
    api_port: int,
    sim_ports: tuple[int, int, int],
    upstreams: dict[str, int],
    timeout: float,
) -> DemoOwner:
    elexon_port, market_port, fleet_sim_port = sim_ports
    _require_free_port(api_port, "the API", "--api-port")
    _require_free_port(elexon_port, "the synthetic Elexon server", "--elexon-port")
    _require_free_port(market_port, "the synthetic market server", "--market-port")
    for context, port in upstreams.items():
        options = {"market": "--market-api-port", "fleet": "--fleet-api-port", "plans": "--plans-api-port"}
        option = options.get(context, f"--{context}-port")
        _require_free_port(port, f"the {context} service", option)
    _require_free_port(fleet_sim_port, "the synthetic fleet's control API", "--fleet-sim-port")
    processes.start("elexon-sim", "elexon-sim", "--port", str(elexon_port))
    processes.start("market-sim", "market-sim", "--port", str(market_port))
    wait_for_http(f"http://127.0.0.1:{elexon_port}/bmrs/api/v1/reference/bmunits/all", 60, processes)
    wait_for_http(f"http://127.0.0.1:{market_port}/_sim/health", 60, processes)
    as_owner = {"WINDHASH_DATABASE_URL": dsn_as(env["WINDHASH_DATABASE_URL"], DatabaseRole.OWNER)}
    subprocess.run([*WINDHASH, "db", "migrate"], env={**_os_env(), **env, **as_owner}, check=True)
    for step in (["difficulty", "load"], ["prices", "load"]):
        subprocess.run([*WINDHASH, *step], env={**_os_env(), **env}, check=True)
    owner = event_loop.run(ensure_demo_owner(env["WINDHASH_DATABASE_URL"]))
    processes.start("calculator")
    processes.start("aggregator")
    processes.start("api")
    # Snapshots, hashprice and indicators from the synthetic market server; its routes behind the API.
    processes.start("market", extra_env=_context_service_env("market", upstreams["market"]))
    processes.start("crm", extra_env=_context_service_env("crm", upstreams["crm"]))  # behind the API
    start_fleet(processes, env, fleet_sim_port, _os_env())
    # Curtailment plans: the worker (executor, automatic policy, power prices from the synthetic Elexon) and
    # its HTTP app behind the API's /api/v1/plans/...
    processes.start("plans", extra_env=plans_environment())
    processes.start("plans-api", extra_env=_context_service_env("plans", upstreams["plans"]))
    wait_for_http(f"http://127.0.0.1:{api_port}/health", 60, processes)
    for port in upstreams.values():
        wait_for_http(f"http://127.0.0.1:{port}/ready", 60, processes)
    console.print(f"[bold]Ingesting[/] {first} to {last} from the synthetic Elexon server…")
    ingest = subprocess.run(
        [*WINDHASH, "ingest", "range", first.isoformat(), last.isoformat()],
        env=as_service_role("ingest", {**_os_env(), **env}),
    )
    if ingest.returncode != 0:
        raise typer.Exit(ingest.returncode)
    progress = event_loop.run(
        _wait_until_complete(processes, env["WINDHASH_DATABASE_URL"], first, last, timeout)
    )
    console.print(
        f"Pipeline complete: {progress.periods_calculated} periods calculated, "
        f"{progress.periods_pending_difficulty} pending difficulty, "
        f"{progress.days_summarised} days summarised."
    )
    for table in event_loop.run(_tables(env["WINDHASH_DATABASE_URL"], first, last)):
        console.print(table)
    event_loop.run(_wait_for_market_snapshot(processes, env["WINDHASH_DATABASE_URL"], 120))
    # The market's routes through the single origin, as the dashboard's market panel reads them.
    wait_for_http(f"http://127.0.0.1:{api_port}/api/v1/market/snapshots/latest", 60, processes)
    subprocess.run([*WINDHASH, "market", "hashprice"], env={**_os_env(), **env}, check=True)
    print_fleet_summary(console, processes, env["WINDHASH_DATABASE_URL"], upstreams["fleet"])
    return owner


def _business_half(
    processes: ServiceProcesses, env: dict[str, str], first: date, last: date, api_port: int, state_dir: Path
) -> None:
    """A curtailment plan on the simulated fleet (the backtest replayed while it holds) and a sample sale,
    made by the demo's staff at the API."""
    plans_env = as_service_role("plans", {**_os_env(), **env})
    with ThreadPoolExecutor(max_workers=1) as background:
        backtest = background.submit(backtest_report, plans_env, first, last, console.width)
        with staff_sessions(f"http://127.0.0.1:{api_port}", env["WINDHASH_DATABASE_URL"]) as staff:
            run_demo_plan(console, staff, processes)
            console.out(backtest.result(), end="", highlight=False)
            run_demo_sale(console, staff, state_dir / "demo" / "invoices")


async def _wait_for_market_snapshot(processes: ServiceProcesses, dsn: str, seconds: float) -> None:
    connection = await asyncpg.connect(dsn)
    deadline = time.monotonic() + seconds
    try:
        while not await connection.fetchval("SELECT EXISTS (SELECT 1 FROM market_analytics)"):
            processes.check_alive()
            if time.monotonic() > deadline:
                raise TimeoutError(f"the market service took no snapshot within {seconds:.0f} s")
            await asyncio.sleep(0.5)
    finally:
        await connection.close()


async def _wait_until_complete(
    processes: ServiceProcesses, dsn: str, first: date, last: date, seconds: float
) -> PipelineProgress:
    connection = await asyncpg.connect(dsn)
    deadline = time.monotonic() + seconds
    try:
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(),
            console=console,
        ) as bar:
            task = bar.add_task("calculating and summarising", total=None)
            while True:
                processes.check_alive()
                progress = await pipeline_progress(connection, first, last)
                bar.update(
                    task,
                    total=progress.periods_expected,
                    completed=progress.periods_calculated + progress.periods_pending_difficulty,
                )
                if progress.complete:
                    return progress
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the pipeline did not finish within {seconds:.0f} s: {progress}")
                await asyncio.sleep(0.5)
    finally:
        await connection.close()


async def _tables(dsn: str, first: date, last: date) -> list[Table]:
    connection = await asyncpg.connect(dsn)
    try:
        return await summary_tables(connection, first, last)
    finally:
        await connection.close()


def _wait_for_interrupt(processes: ServiceProcesses) -> None:
    stop = False

    def _stop(*_: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, _stop)
    try:
        while not stop:
            processes.check_alive()
            time.sleep(1)
    except KeyboardInterrupt:
        pass


def _require_free_port(port: int, what: str, option: str) -> None:
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            console.print(f"[red]Port {port} is taken; {what} needs it. Pass another with {option}.[/]")
            raise typer.Exit(2)


def _os_env() -> dict[str, str]:
    return dict(os.environ)
