"""A real Prometheus scraping the services while they ingest, calculate and summarise a day (and the CRM takes
a lead through the API): every target is up, every PromQL expression of the dashboards and alert rules is
valid and answers with data where data is expected, the alerts the scenario provokes fire and the others stay
silent, and promtool accepts the rules.

The scenario provokes, on purpose: one settlement period Elexon keeps failing (ingest failure), one 429
(a retry), one malformed message on the settlement-period topic (a dead letter with its reason), periods of
today and yesterday without a network difficulty (pending difficulty), and so an incomplete yesterday for the
reconciler's self-check (`windhash reconciler`, scraped like the other services) to report.
"""

import asyncio
import json
import os
import random
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import yaml
from aiokafka import AIOKafkaProducer
from windhash_cli.pipeline_completion import pipeline_progress
from windhash_cli.service_processes import WINDHASH, ServiceProcesses, wait_for_http
from windhash_common.access.roles import Role
from windhash_common.accounts.sessions import open_session
from windhash_common.accounts.users import create_user
from windhash_common.audit import Actor, cli_actor
from windhash_common.db_roles import DatabaseRole, dsn_as
from windhash_common.settlement_calendar import settlement_date_of
from windhash_common.topics import Topics
from windhash_elexon_sim import ElexonSimServer, FaultRule
from windhash_fleet.fleet_registry import NewMiner, ensure_site, register_miners
from windhash_fleet_sim.fleet import FleetSpec
from windhash_fleet_sim.server import FleetSimServer
from windhash_fleet_sim.sim_miner import MinerFaults
from windhash_market_sim.faults import FaultRule as MarketFault
from windhash_market_sim.server import MarketSimServer
from windhash_stack import LocalStack, StackEndpoints, StackSettings
from windhash_stack.monitoring_queries import PromQuery, SqlQuery, all_queries
from windhash_stack.ports import free_port
from windhash_stack.prometheus_config import EXPORTER_JOBS, SERVICE_JOBS, local_jobs, prometheus_deploy_dir
from windhash_stack.prometheus_install import ensure_prometheus, promtool_for
from windhash_stack.prometheus_server import MonitoringSettings, PrometheusServer

pytestmark = pytest.mark.integration

DAY = date(2024, 3, 20)  # inside the packaged 2024 difficulty and price files
PROMETHEUS_DIR = prometheus_deploy_dir()
DASHBOARDS = PROMETHEUS_DIR.parent / "grafana" / "dashboards"
# The conditions of these alerts hold in the scenario (those with a `for` are pending, not firing yet).
FIRING = {
    "WindhashIngestFailures",
    "WindhashElexonRequestsFailing",
    "WindhashDeadLetters",
    "WindhashPendingDifficulty",
    "WindhashCompletenessBelowTarget",
    "WindhashMarketSlotsNotTaken",
    "WindhashMarketSourcesFailing",
    "WindhashFleetMinersUnreachable",
}
SILENT = {
    # The servers' exporters are not scraped here: test_alerts_reach_a_webhook.py scrapes them.
    "WindhashPostgresDown",
    "WindhashKafkaUnderReplicated",
    "WindhashMarketSnapshotsStale",
    "WindhashReferenceDataRefused",
    "WindhashServiceDown",
    "WindhashNoNewData",
    "WindhashConsumerLagGrowing",
    "WindhashOutboxBacklog",
    "WindhashNotReady",
    "WindhashSummariesStale",
    "WindhashSummariesSlow",
    "WindhashCrmJobStalled",
    "WindhashCrmServerErrors",
    "WindhashFleetCollectorLagging",
    "WindhashFleetWriterLagging",
    "WindhashFleetPartitionsNotAhead",
    "WindhashFleetRetentionNotApplied",
    "WindhashFleetApiErrors",
    "WindhashPlansMinersPastRecovery",
    "WindhashPlansCommandsOverdue",
    "WindhashPlansWakeupsFailed",
    "WindhashPlansPowerPricesStale",
    "WindhashUnstorablePeriods",
}
JOBS = SERVICE_JOBS
SETTLE_TIMEOUT_S = 240.0


def test_promtool_accepts_the_rules_their_unit_tests_and_the_configs() -> None:
    promtool = str(promtool_for(ensure_prometheus()))
    for command in (
        [promtool, "check", "rules", str(PROMETHEUS_DIR / "alerts.yml")],
        [promtool, "test", "rules", str(PROMETHEUS_DIR / "alerts_test.yml")],
        [promtool, "check", "config", str(PROMETHEUS_DIR / "prometheus.yml")],
        [promtool, "check", "config", str(PROMETHEUS_DIR / "docker" / "prometheus.yml")],
    ):
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        assert result.returncode == 0, f"{' '.join(command[1:])}:\n{result.stdout}{result.stderr}"


async def test_monitoring_starts_once_reloads_and_stops_with_the_stack(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A stack of its own with no core server running: `down` must still stop its Prometheus.
    monkeypatch.setenv("WINDHASH_STACK_PROMETHEUS_PORT", str(free_port()))
    monkeypatch.setenv("WINDHASH_STACK_ALERTMANAGER_PORT", str(free_port()))
    monkeypatch.setenv("WINDHASH_STACK_POSTGRES_EXPORTER_PORT", str(free_port()))
    local = LocalStack(StackSettings(state_dir=tmp_path / "state"))
    first = await local.start_monitoring()
    try:
        assert first.started
        pid = local.monitoring.running_pid()
        assert pid is not None
        again = await local.start_monitoring()  # re-renders the config and reloads, no second process
        assert not again.started and local.monitoring.running_pid() == pid
        async with httpx.AsyncClient(base_url=first.url) as client:
            loaded = yaml.safe_load((await client.get("/api/v1/status/config")).json()["data"]["yaml"])
            rules = (await client.get("/api/v1/rules")).json()["data"]["groups"]
        assert [job["job_name"] for job in loaded["scrape_configs"]] == [*SERVICE_JOBS, *EXPORTER_JOBS]
        assert loaded["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == [
            local.watching.alertmanager.url.removeprefix("http://")
        ]
        assert {group["name"] for group in rules} >= {"windhash-availability", "windhash-ingest"}
    finally:
        await local.down()
    assert local.monitoring.running_pid() is None
    assert local.watching.alertmanager.running_pid() is None
    assert local.watching.postgres_exporter.running_pid() is None
    assert (tmp_path / "state" / "prometheus" / "data").is_dir()


@dataclass
class Ports:
    ingestor: int = field(default_factory=free_port)
    calculator: int = field(default_factory=free_port)
    aggregator: int = field(default_factory=free_port)
    api: int = field(default_factory=free_port)
    reconciler: int = field(default_factory=free_port)
    market: int = field(default_factory=free_port)
    crm: int = field(default_factory=free_port)
    fleet_collector: int = field(default_factory=free_port)
    fleet_writer: int = field(default_factory=free_port)
    fleet_api: int = field(default_factory=free_port)
    plans: int = field(default_factory=free_port)
    plans_api: int = field(default_factory=free_port)
    prometheus: int = field(default_factory=free_port)

    def metrics(self) -> dict[str, int]:
        return {job: getattr(self, job.replace("-", "_")) for job in JOBS}


@pytest.fixture
def sim() -> Iterator[ElexonSimServer]:
    with ElexonSimServer() as server:
        yesterday = settlement_date_of(datetime.now(UTC)) - timedelta(days=1)
        # Period 1 of yesterday fails on every attempt; period 2 is throttled once and then served.
        server.add_fault(FaultRule(kind="status", status=500, date=yesterday, period=1, times=None))
        server.add_fault(FaultRule(kind="status", status=429, retry_after=0.1, date=yesterday, period=2))
        yield server


@pytest.fixture
def market_sim() -> Iterator[MarketSimServer]:
    with MarketSimServer() as server:
        # The live price fails once (a missed slot, a source error), then is zero once (a refused slot).
        server.add_fault(MarketFault(kind="status", endpoint="price", status=500))
        server.add_fault(MarketFault(kind="value", endpoint="price", field="usd", value=0))
        yield server


@pytest.fixture
def fleet_sim() -> Iterator[FleetSimServer]:
    """Twenty miners, two offline from the start (10 % unreachable: WindhashFleetMinersUnreachable)."""
    base = f"127.{random.randint(64, 250)}.{random.randint(0, 200)}.1"
    spec = FleetSpec(miners=20, base_address=base, seed=11)
    with FleetSimServer(spec) as server:
        for miner in server.miners[:2]:
            server.set_faults(miner.serial, MinerFaults(offline=True))
        yield server


async def _register_fleet(dsn: str, topics: Topics, sim: FleetSimServer) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        actor = Actor("test")
        site_id = await ensure_site(connection, topics, actor, "Observed site (SYNTHETIC)", "-", Decimal(1))
        miners = [NewMiner(miner.serial, miner.model.name, miner.host, miner.port) for miner in sim.miners]
        await register_miners(connection, topics, site_id, miners, actor)
    finally:
        await connection.close()


def _start_fleet(processes: ServiceProcesses, ports: Ports) -> None:
    collector = {
        "WINDHASH_FLEET_POLL_INTERVAL_S": "2",
        "WINDHASH_FLEET_RPC_TIMEOUT_S": "1",
        "WINDHASH_METRICS_PORT": str(ports.fleet_collector),
    }
    processes.start("fleet-collector", "fleet", "collector", extra_env=collector)
    writer = {"WINDHASH_FLEET_WRITER_METRICS_PORT": str(ports.fleet_writer)}
    processes.start("fleet-writer", "fleet", "writer", extra_env=writer)
    processes.start("fleet-api", "fleet-api", extra_env={"WINDHASH_FLEET_API_PORT": str(ports.fleet_api)})


@pytest.fixture
async def prometheus(tmp_path: Path) -> AsyncIterator[tuple[PrometheusServer, Ports]]:
    ports = Ports()
    server = PrometheusServer(
        StackSettings(state_dir=tmp_path / "state"),
        MonitoringSettings(prometheus_port=ports.prometheus, scrape_interval="1s"),
        jobs=local_jobs(ports=ports.metrics()),
    )
    await server.start()
    try:
        yield server, ports
    finally:
        await server.stop()


def _run_cli(env: dict[str, str], *args: str) -> None:
    result = subprocess.run([*WINDHASH, *args], env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"windhash {' '.join(args)}:\n{result.stdout}{result.stderr}"


async def _publish_malformed(
    bootstrap: str, topic: str, value: bytes = b'{"settlement_date": "not json'
) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topic, value, key=b"2024-03-20:1")
    finally:
        await producer.stop()


async def _a_crm_change(dsn: str, api_port: int) -> None:
    """A salesperson adds a lead through the API: the forwarding, the CRM's requests, audited changes and
    events have data."""
    operator = await asyncpg.connect(dsn_as(dsn, DatabaseRole.OPERATOR))
    try:
        async with operator.transaction():
            user = await create_user(
                operator, Topics(), cli_actor(), email="sales@example.com", name="sales", role=Role.USER,
                client_id=None, password_hash="not a hash: this account never logs in",
                must_change_password=False, access_until=None,
            )  # fmt: skip
        token, _ = await open_session(operator, user["id"], timedelta(hours=1), "127.0.0.1", "observability")
    finally:
        await operator.close()
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{api_port}") as client:
        lead = {"name": "Ann", "email": "ann@northwind.example", "source": "referral"}
        response = await client.post(
            "/api/v1/crm/leads", json=lead, headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 201, response.text


async def _wait_for_day(dsn: str, processes: ServiceProcesses) -> None:
    connection = await asyncpg.connect(dsn)
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    try:
        while not (progress := await pipeline_progress(connection, DAY, DAY)).complete or (
            progress.periods_calculated == 0
        ):
            processes.check_alive()
            assert time.monotonic() < deadline, f"the pipeline did not finish {DAY}: {progress}"
            await asyncio.sleep(0.5)
    finally:
        await connection.close()


class PromApi:
    def __init__(self, url: str) -> None:
        self.client = httpx.AsyncClient(base_url=url, timeout=10)

    async def query(self, expr: str) -> dict[str, Any]:
        response = await self.client.get("/api/v1/query", params={"query": expr})
        answer: dict[str, Any] = response.json()
        return answer

    async def get(self, path: str) -> Any:
        response = await self.client.get(path)
        response.raise_for_status()
        return response.json()["data"]


@dataclass
class Verdict:
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def reads_an_exporter(query: PromQuery) -> bool:
    """The servers' panels: test_alerts_reach_a_webhook.py runs their exporters and checks them."""
    return any(f'job="{job}"' in query.expr for job in EXPORTER_JOBS)


async def _check_everything(api: PromApi, promql: list[PromQuery]) -> Verdict:
    problems: list[str] = []
    targets = (await api.get("/api/v1/targets"))["activeTargets"]
    health = {target["labels"]["job"]: target["health"] for target in targets}
    if health != dict.fromkeys(JOBS, "up"):
        problems.append(f"targets not all up: {health}")
    for query in promql:
        answer = await api.query(query.concrete())
        where = f"{query.source} {query.name}: {query.concrete()}"
        if answer["status"] != "success":
            problems.append(f"invalid: {where}: {answer.get('error')}")
            continue
        has_data = bool(answer["data"]["result"])
        if query.kind in ("panel", "record") and not has_data and not reads_an_exporter(query):
            problems.append(f"no data: {where}")
        if query.kind == "alert" and query.name in FIRING and not has_data:
            problems.append(f"should fire: {where}")
        if query.kind == "alert" and query.name in SILENT and has_data:
            problems.append(f"should be silent: {where}: {answer['data']['result']}")
    rules = [rule for group in (await api.get("/api/v1/rules"))["groups"] for rule in group["rules"]]
    problems += [
        f"rule {rule['name']} is {rule['health']}: {rule.get('lastError')}"
        for rule in rules
        if rule["health"] != "ok"
    ]
    return Verdict(problems)


async def _settled(api: PromApi, promql: list[PromQuery], processes: ServiceProcesses) -> Verdict:
    """Scrapes and rule evaluations run on their own clock: poll until all checks hold, or say what fails."""
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    while True:
        processes.check_alive()
        verdict = await _check_everything(api, promql)
        if verdict.ok or time.monotonic() > deadline:
            return verdict
        await asyncio.sleep(2)


async def _run_business_sql(dsn: str, queries: list[SqlQuery]) -> list[str]:
    """The business dashboard's SQL with Grafana's macros filled in the way Grafana fills them."""
    connection = await asyncpg.connect(dsn)
    problems = []
    try:
        models = await connection.fetch("SELECT name FROM miner_models WHERE active ORDER BY name")
        chosen = ",".join(f"'{row['name']}'" for row in models)
        for query in queries:
            sql = query.sql.replace("$model", chosen)
            sql = sql.replace("$__timeFilter(", "__timefilter(")
            while "__timefilter(" in sql:
                start = sql.index("__timefilter(")
                end = sql.index(")", start)
                column = sql[start + len("__timefilter(") : end]
                between = f"{column} BETWEEN '2024-03-01T00:00:00Z' AND '2024-03-31T23:59:59Z'"
                sql = sql[:start] + between + sql[end + 1 :]
            try:
                rows = await connection.fetch(sql)
            except asyncpg.PostgresError as error:
                problems.append(f"invalid SQL in {query.name}: {error}")
                continue
            if not rows or all(value is None for value in rows[0].values()):
                problems.append(f"no data: {query.name}")
    finally:
        await connection.close()
    return problems


async def test_prometheus_scrapes_the_pipeline_and_every_query_answers(
    stack: StackEndpoints,
    service_env: dict[str, str],
    sim: ElexonSimServer,
    market_sim: MarketSimServer,
    fleet_sim: FleetSimServer,
    prometheus: tuple[PrometheusServer, Ports],
    tmp_path: Path,
) -> None:
    server, ports = prometheus
    env = {
        **service_env,
        "WINDHASH_ELEXON_BASE_URL": sim.base_url,
        "WINDHASH_ELEXON_MAX_RETRIES": "1",
        "WINDHASH_ELEXON_BACKOFF_INITIAL_SECONDS": "0.05",
        "WINDHASH_ELEXON_BACKOFF_MAX_SECONDS": "0.2",
        "WINDHASH_FOLLOW_REVISION_DAYS": "0",
        "WINDHASH_API_PORT": str(ports.api),
        # The API forwards /api/v1/crm/..., /api/v1/market/..., /api/v1/fleet/... and
        # /api/v1/plans/... to their services (they believe it).
        "WINDHASH_API_UPSTREAMS": json.dumps(
            {
                "crm": f"http://127.0.0.1:{ports.crm}",
                "market": f"http://127.0.0.1:{ports.market}",
                "fleet": f"http://127.0.0.1:{ports.fleet_api}",
                "plans": f"http://127.0.0.1:{ports.plans_api}",
            }
        ),
        # Own consumer groups: sharing the default ones with other test sessions means endless rebalances.
        "WINDHASH_CALCULATOR_GROUP": f"observability-calculator-{service_env['WINDHASH_TOPIC_PREFIX']}",
        "WINDHASH_AGGREGATOR_GROUP": f"observability-aggregator-{service_env['WINDHASH_TOPIC_PREFIX']}",
    }
    cli_env = {**os.environ, **env}
    _run_cli(cli_env, "difficulty", "load")
    _run_cli(cli_env, "prices", "load")
    processes = ServiceProcesses(env=env, log_dir=tmp_path / "logs")
    try:
        for name in ("calculator", "aggregator", "ingestor"):
            processes.start(name, extra_env={"WINDHASH_METRICS_PORT": str(ports.metrics()[name])})
        processes.start("api")
        market = {
            "WINDHASH_EXPLORER_URL": market_sim.url,
            "WINDHASH_PRICE_API_URL": market_sim.url,
            "WINDHASH_SOURCE_ATTEMPTS": "1",
            "WINDHASH_MARKET_POLL_SECONDS": "1",
            "WINDHASH_MARKET_BACKFILL_HOURS": "1",
            "WINDHASH_METRICS_PORT": str(ports.market),
        }
        processes.start("market", extra_env=market)
        crm = {
            "WINDHASH_CRM_PORT": str(ports.crm),
            "WINDHASH_CRM_JOB_INTERVAL_SECONDS": "1",
            "WINDHASH_API_TRUSTED_PROXIES": "127.0.0.1",
        }
        processes.start("crm", extra_env=crm)
        topics = Topics(prefix=service_env["WINDHASH_TOPIC_PREFIX"])
        await _register_fleet(service_env["WINDHASH_DATABASE_URL"], topics, fleet_sim)
        _start_fleet(processes, ports)
        plans = {"WINDHASH_METRICS_PORT": str(ports.plans), "WINDHASH_PLANS_API_PORT": str(ports.plans_api)}
        processes.start("plans", extra_env=plans)
        processes.start("plans-api", extra_env=plans)
        fleet_health = f"http://127.0.0.1:{ports.fleet_api}/health"
        await asyncio.to_thread(wait_for_http, fleet_health, 60, processes)
        await asyncio.to_thread(wait_for_http, f"http://127.0.0.1:{ports.api}/health", 60, processes)
        await asyncio.to_thread(wait_for_http, f"http://127.0.0.1:{ports.crm}/ready", 60, processes)
        await _a_crm_change(service_env["WINDHASH_DATABASE_URL"], ports.api)
        await asyncio.to_thread(wait_for_http, f"http://127.0.0.1:{ports.plans_api}/health", 60, processes)
        await _publish_malformed(stack.kafka_bootstrap, topics.settlement_periods)
        # A reading with a negative power: the telemetry writer dead-letters it (WindhashDeadLetters).
        await _publish_malformed(stack.kafka_bootstrap, topics.miner_telemetry, b'{"power_w": -1}')
        await asyncio.to_thread(_run_cli, cli_env, "ingest", "date", DAY.isoformat())
        await _wait_for_day(service_env["WINDHASH_DATABASE_URL"], processes)
        self_check = {"WINDHASH_SELF_CHECK_DAYS": "1", "WINDHASH_SELF_CHECK_PREVIOUS_MONTH": "false"}
        processes.start(
            "reconciler", extra_env={**self_check, "WINDHASH_METRICS_PORT": str(ports.reconciler)}
        )
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{ports.api}") as client:
            for path in (
                "/api/v1/status",
                "/health",
                "/ready",
                "/no-such-page",
                "/api/v1/market/status",
                "/api/v1/fleet/overview",
                "/api/v1/plans/",
            ):
                await client.get(path)

        promql, sql = all_queries(PROMETHEUS_DIR, DASHBOARDS)
        assert {query.name for query in promql if query.kind == "alert"} == FIRING | SILENT
        api = PromApi(server.url)
        try:
            verdict = await _settled(api, promql, processes)
        finally:
            await api.client.aclose()
        assert verdict.ok, "\n".join(verdict.problems)
        assert await _run_business_sql(service_env["WINDHASH_DATABASE_URL"], sql) == []
    except BaseException:
        for service in processes.services.values():
            print(f"--- {service.name}\n{service.log_tail(30)}")
        raise
    finally:
        processes.stop_all()
