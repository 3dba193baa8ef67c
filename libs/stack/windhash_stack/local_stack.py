"""The local stack as a whole: start, stop, restart and inspect Kafka, PostgreSQL and DynamoDB Local.

The API is async (the health probes are real asyncio clients); the CLI wraps it in `asyncio.run`:

    stack = LocalStack(StackSettings())
    endpoints = await stack.up()          # idempotent; waits until every server answers a real client
    await stack.restart(Server.KAFKA)     # one server alone, e.g. for chaos tests (also stop/start/kill)
    await stack.kill(Server.KAFKA, node=2)  # one node of a 3-broker cluster (`--brokers 3`), then start_node
    status = await stack.status()
    await stack.down()                    # stops every server this state dir started
    await stack.start_monitoring()        # optional: Prometheus scraping the services (`down` stops it too)
"""

import asyncio
import contextlib
import fcntl
import signal
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from pathlib import Path

from windhash_common.kafka_connection import KafkaConnection

from windhash_stack.dynamodb_server import DynamoDbServer
from windhash_stack.endpoints import Server, ServerStatus, StackEndpoints, StackStatus, UpReport
from windhash_stack.errors import StackError
from windhash_stack.kafka_server import KafkaServer, kafka_connection
from windhash_stack.leases import Leases
from windhash_stack.monitoring_servers import LocalMonitoring
from windhash_stack.postgres_server import PostgresServer
from windhash_stack.processes import exit_status, is_alive, launch, port_open, read_pid, stop_tree, tail
from windhash_stack.prometheus_server import MonitoringReport
from windhash_stack.server_base import ManagedServer
from windhash_stack.settings import StackSettings

_PROBE_TIMEOUT_S = 3.0
_POLL_S = 0.25


@dataclass(frozen=True)
class _StartOutcome:
    started: bool
    steps: list[str]
    seconds: float


class LocalStack:
    def __init__(self, settings: StackSettings | None = None) -> None:
        self.settings = settings or StackSettings()
        self.brokers = self.settings.kafka_brokers or self._recorded_brokers() or 1
        self.kafka_nodes = [
            KafkaServer(self.settings, node, self.brokers) for node in range(1, self.brokers + 1)
        ]
        self._servers: dict[Server, ManagedServer] = {
            Server.KAFKA: self.kafka_nodes[0],
            Server.POSTGRES: PostgresServer(self.settings),
            Server.DYNAMODB: DynamoDbServer(self.settings),
        }
        self.last_up: UpReport | None = None
        postgres = self._servers[Server.POSTGRES]
        assert isinstance(postgres, PostgresServer)
        self.watching = LocalMonitoring(self.settings, self.kafka_nodes, lambda: postgres.endpoint)
        self.monitoring = self.watching.prometheus

    @property
    def kafka_connection(self) -> KafkaConnection:
        """The bootstrap servers of every node, with the SCRAM user when the stack requires SASL."""
        return kafka_connection(self.settings, self.brokers)

    @property
    def _brokers_file(self) -> Path:
        return self.settings.state_dir / "kafka-brokers"

    def _recorded_brokers(self) -> int | None:
        try:
            return int(self._brokers_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None

    def _members(self, server: Server) -> list[ManagedServer]:
        """The processes that make up `server`: every node of a Kafka cluster, one server otherwise."""
        if server is Server.KAFKA and self.brokers > 1:
            return list(self.kafka_nodes)
        return [self._servers[server]]

    @property
    def endpoints(self) -> StackEndpoints:
        return StackEndpoints(
            kafka_bootstrap=self.kafka_connection.bootstrap,
            postgres_dsn=self._servers[Server.POSTGRES].endpoint,
            dynamodb_endpoint=self._servers[Server.DYNAMODB].endpoint,
        )

    def server(self, server: Server) -> ManagedServer:
        return self._servers[server]

    async def up(self) -> StackEndpoints:
        """Start whatever is not running and wait until all three answer; `last_up` keeps the details."""
        return (await self.start()).endpoints

    async def start(self, servers: Iterable[Server] | None = None) -> UpReport:
        chosen = list(servers) if servers is not None else list(Server)
        began = time.monotonic()
        for server in chosen:
            self._servers[server].check_prerequisites()
        async with self._locked():
            if Server.KAFKA in chosen:
                self._brokers_file.parent.mkdir(parents=True, exist_ok=True)
                self._brokers_file.write_text(f"{self.brokers}\n")
            results = await asyncio.gather(*(self._start_members(s) for s in chosen), return_exceptions=True)
        errors = [result for result in results if isinstance(result, BaseException)]
        if errors:
            # A half-started stack would only leak servers: what this call started is stopped again.
            started = [
                server
                for server, result in zip(chosen, results, strict=True)
                if isinstance(result, _StartOutcome) and result.started
            ]
            if started:
                await self.stop(started)
            raise errors[0]
        outcomes = {
            server: result
            for server, result in zip(chosen, results, strict=True)
            if not isinstance(result, BaseException)
        }
        report = UpReport(
            endpoints=self.endpoints,
            started=tuple(server for server, outcome in outcomes.items() if outcome.started),
            already_running=tuple(server for server, outcome in outcomes.items() if not outcome.started),
            first_time_setup=tuple(step for outcome in outcomes.values() for step in outcome.steps),
            seconds=time.monotonic() - began,
            server_seconds={server: outcome.seconds for server, outcome in outcomes.items()},
        )
        self.last_up = report
        return report

    async def down(self) -> list[Server]:
        """Stop every server of this state dir, Prometheus too; returns the core servers that were running."""
        stopped = await self.stop()
        await self.stop_monitoring()
        return stopped

    async def start_monitoring(self) -> MonitoringReport:
        """Start Alertmanager, the PostgreSQL exporter and Prometheus (installing Debian's packages where
        missing), Prometheus scraping the services' ports and the exporters and alerting Alertmanager."""
        async with self._locked():
            return await self.watching.start()

    async def stop_monitoring(self) -> bool:
        async with self._locked():
            return await self.watching.stop()

    async def stop(self, servers: Iterable[Server] | None = None) -> list[Server]:
        chosen = list(servers) if servers is not None else list(Server)
        async with self._locked():
            stopped = await asyncio.gather(*(self._stop_members(s) for s in chosen))
        return [server for server, was_running in zip(chosen, stopped, strict=True) if was_running]

    async def kill(self, server: Server, node: int | None = None) -> bool:
        """SIGKILL one server (or one Kafka node) and its children, as a crash would; True if it ran."""
        members = self._members(server) if node is None else [self.kafka_nodes[node - 1]]
        killed = False
        async with self._locked():
            for managed in members:
                pid = self._running_pid(managed)
                if pid is not None:
                    await asyncio.to_thread(stop_tree, pid, signal.SIGKILL, self.settings.stop_timeout_s)
                    killed = True
                managed.pid_file.unlink(missing_ok=True)
        return killed

    async def start_node(self, node: int) -> None:
        """Start one Kafka node again (after `kill(Server.KAFKA, node)`) and wait until it answers."""
        async with self._locked():
            await self._start_one(self.kafka_nodes[node - 1])

    async def restart(self, server: Server) -> None:
        await self.stop([server])
        await self.start([server])

    async def lease(self) -> UpReport:
        """`start()` for a test session sharing this state dir with others; pair it with `release()`."""
        leases = Leases(self.settings.state_dir)
        leases.take()
        try:
            report = await self.start()
        except BaseException:
            async with self._locked():
                leases.drop()
            raise
        if report.started:
            async with self._locked():
                leases.record_started(report.started)
        return report

    async def release(self) -> list[Server]:
        """Give up this process's lease; the last session out stops the servers that test sessions started."""
        leases = Leases(self.settings.state_dir)
        async with self._locked():
            leases.drop()
            if leases.others_alive():
                return []
            started = sorted(leases.started())
            leases.forget_started()
            stopped = await asyncio.gather(*(self._stop_members(s) for s in started))
        return [server for server, was_running in zip(started, stopped, strict=True) if was_running]

    async def status(self) -> StackStatus:
        members = [managed for server in Server for managed in self._members(server)]
        statuses = await asyncio.gather(*(self._status_one(managed) for managed in members))
        return StackStatus(endpoints=self.endpoints, servers=tuple(statuses))

    def logs(self, server: Server, lines: int = 40) -> str:
        members = self._members(server)
        if len(members) == 1:
            return tail(members[0].log_file, lines)
        return "\n".join(f"--- {managed.name}\n{tail(managed.log_file, lines)}" for managed in members)

    def pids(self) -> dict[Server, int]:
        """The pids of the servers running now (for tests that check nothing is left behind)."""
        found = {}
        for server, managed in self._servers.items():
            pid = read_pid(managed.pid_file)
            if pid is not None and is_alive(pid, managed.marker):
                found[server] = pid
        return found

    def node_pids(self) -> dict[str, int]:
        """Every running process of the stack by name (kafka-2 and so on for a cluster's nodes)."""
        found = {}
        for server in Server:
            for managed in self._members(server):
                pid = self._running_pid(managed)
                if pid is not None:
                    found[managed.name] = pid
        return found

    @contextlib.asynccontextmanager
    async def _locked(self) -> AsyncIterator[None]:
        # Developers and test sessions share one state dir: only one may start or stop servers at a time.
        self.settings.state_dir.mkdir(parents=True, exist_ok=True)
        with (self.settings.state_dir / "stack.lock").open("w") as lock_file:
            await asyncio.to_thread(fcntl.flock, lock_file.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock_file.fileno(), fcntl.LOCK_UN)

    def _running_pid(self, managed: ManagedServer) -> int | None:
        pid = read_pid(managed.pid_file)
        return pid if pid is not None and is_alive(pid, managed.marker) else None

    async def _start_members(self, server: Server) -> "_StartOutcome":
        outcomes = await asyncio.gather(
            *(self._start_one(managed) for managed in self._members(server)), return_exceptions=True
        )
        errors = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
        if errors:
            await self._stop_members(server)
            raise errors[0]
        done = [outcome for outcome in outcomes if isinstance(outcome, _StartOutcome)]
        return _StartOutcome(
            started=any(outcome.started for outcome in done),
            steps=[step for outcome in done for step in outcome.steps],
            seconds=max(outcome.seconds for outcome in done),
        )

    async def _stop_members(self, server: Server) -> bool:
        stopped = await asyncio.gather(*(self._stop_one(managed) for managed in self._members(server)))
        return any(stopped)

    async def _start_one(self, managed: ManagedServer) -> "_StartOutcome":
        began = time.monotonic()
        if self._running_pid(managed) is not None:
            await self._wait_healthy(managed)
            steps = await managed.configure(self.settings.startup_timeout_s)
            return _StartOutcome(started=False, steps=steps, seconds=0.0)
        if port_open(self.settings.host, managed.port):
            name = managed.server.value.upper()
            raise StackError(
                f"Port {managed.port} for {managed.name} is taken by another program: "
                f"stop it or choose another port with WINDHASH_STACK_{name}_PORT."
            )
        steps = await asyncio.to_thread(managed.prepare)
        await asyncio.to_thread(
            launch,
            managed.command(),
            log_file=managed.log_file,
            pid_file=managed.pid_file,
            cwd=managed.cwd,
            run_as=managed.run_as(),
        )
        try:
            await self._wait_healthy(managed)
            steps += await managed.configure(self.settings.startup_timeout_s)
        except BaseException:
            await self._stop_one(managed)  # one that never answered must not hold its port for the next try
            raise
        return _StartOutcome(started=True, steps=steps, seconds=time.monotonic() - began)

    async def _wait_healthy(self, managed: ManagedServer) -> None:
        deadline = time.monotonic() + self.settings.startup_timeout_s
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            pid = read_pid(managed.pid_file)
            if pid is None or not is_alive(pid, managed.marker):
                how = (exit_status(pid) if pid is not None else None) or "exited"
                raise StackError(
                    f"{managed.server.value} {how} while starting; the end of {managed.log_file}:\n"
                    f"{tail(managed.log_file, 25)}"
                )
            # Until the port opens a client would only log connection errors.
            if port_open(self.settings.host, managed.port):
                try:
                    await managed.probe(_PROBE_TIMEOUT_S)
                    return
                except Exception as error:  # any client failure just means "not ready yet"
                    last_error = error
            await asyncio.sleep(_POLL_S)
        raise StackError(
            f"{managed.server.value} did not answer within {self.settings.startup_timeout_s:.0f} s "
            f"(last error: {last_error!r}); the end of {managed.log_file}:\n{tail(managed.log_file, 25)}"
        )

    async def _stop_one(self, managed: ManagedServer) -> bool:
        pid = self._running_pid(managed)
        if pid is not None:
            await asyncio.to_thread(stop_tree, pid, managed.graceful_signal, self.settings.stop_timeout_s)
        managed.pid_file.unlink(missing_ok=True)
        return pid is not None

    async def _status_one(self, managed: ManagedServer) -> ServerStatus:
        pid = self._running_pid(managed)
        healthy, detail = False, "not running"
        if pid is not None:
            try:
                await managed.probe(_PROBE_TIMEOUT_S)
                healthy, detail = True, "ok"
            except Exception as error:  # reported, not raised: status must describe a sick stack too
                detail = f"running but not answering: {error!r}"
        return ServerStatus(
            server=managed.server,
            name=managed.name,
            pid=pid,
            running=pid is not None,
            healthy=healthy,
            endpoint=managed.endpoint,
            log_file=str(managed.log_file),
            detail=detail,
        )
