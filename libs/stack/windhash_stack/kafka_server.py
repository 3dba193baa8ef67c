"""Apache Kafka 4.x in KRaft combined mode (broker and controller in one JVM), one node or a cluster.

One node by default. `windhash stack up --brokers 3` (or WINDHASH_STACK_KAFKA_BROKERS=3) runs three nodes from
the same jars, each a voter of the controller quorum and a broker: node N listens on the Kafka port + 2(N-1)
and the controller port + 2(N-1); internal topics get 3 replicas with 2 in sync, so one node may die without
losing a write. A cluster lives in its own folders (`kafka-NofM`) beside the single node's (`kafka`).

With WINDHASH_STACK_KAFKA_SASL=true the client listener requires SASL/SCRAM-SHA-512 (anonymous clients are
refused); the controller listener stays plaintext on the loopback address. The SCRAM user is created when the
storage is formatted (every format adds it, so SASL can be turned on later); its generated password is kept in
<state_dir>/kafka-credentials (mode 0600) and given to clients by `LocalStack.kafka_connection`.
"""

import asyncio
import base64
import os
import subprocess
import uuid
from dataclasses import dataclass, replace
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient
from windhash_common.kafka_connection import KafkaConnection, SaslMechanism

from windhash_stack.endpoints import Server
from windhash_stack.errors import StackError
from windhash_stack.jars import ensure_jars, jars_current
from windhash_stack.postgres_credentials import ensure_credentials
from windhash_stack.prerequisites import find_java, find_maven
from windhash_stack.server_base import ManagedServer
from windhash_stack.settings import StackSettings

SASL_MECHANISM: SaslMechanism = "SCRAM-SHA-512"
_PORT_STEP = 2


@dataclass(frozen=True)
class KafkaNodePorts:
    client: int
    controller: int


def node_ports(settings: StackSettings, node: int) -> KafkaNodePorts:
    offset = _PORT_STEP * (node - 1)
    return KafkaNodePorts(settings.kafka_port + offset, settings.kafka_controller_port + offset)


def kafka_credentials_file(settings: StackSettings) -> Path:
    return settings.state_dir / "kafka-credentials"


def kafka_connection(settings: StackSettings, brokers: int) -> KafkaConnection:
    """How a client reaches this stack's Kafka: every node's address, and the SCRAM user when required."""
    bootstrap = ",".join(
        f"{settings.host}:{node_ports(settings, node).client}" for node in range(1, brokers + 1)
    )
    if not settings.kafka_sasl:
        return KafkaConnection(bootstrap)
    user = settings.kafka_sasl_username
    password = ensure_credentials(kafka_credentials_file(settings), [user]).passwords[user]
    return KafkaConnection(bootstrap, user, password, SASL_MECHANISM)


def _replicas(brokers: int) -> dict[str, str]:
    replicas, in_sync = str(min(3, brokers)), str(min(2, brokers))
    return {
        "default.replication.factor": replicas,
        "min.insync.replicas": in_sync,
        "offsets.topic.replication.factor": replicas,
        "transaction.state.log.replication.factor": replicas,
        "transaction.state.log.min.isr": in_sync,
        "share.coordinator.state.topic.replication.factor": replicas,
        "share.coordinator.state.topic.min.isr": in_sync,
    }


def _listeners(settings: StackSettings, node: int) -> dict[str, str]:
    host, ports = settings.host, node_ports(settings, node)
    client = "SASL_PLAINTEXT" if settings.kafka_sasl else "PLAINTEXT"
    listeners = {
        "listeners": f"{client}://{host}:{ports.client},CONTROLLER://{host}:{ports.controller}",
        "advertised.listeners": f"{client}://{host}:{ports.client}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": client,
        "listener.security.protocol.map": f"{client}:{client},CONTROLLER:PLAINTEXT",
    }
    if settings.kafka_sasl:
        user = settings.kafka_sasl_username
        password = kafka_connection(settings, 1).sasl_password
        assert password is not None
        listeners |= {
            "sasl.enabled.mechanisms": SASL_MECHANISM,
            "sasl.mechanism.inter.broker.protocol": SASL_MECHANISM,
            # The brokers talk to each other as the same SCRAM user.
            "listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config": (
                "org.apache.kafka.common.security.scram.ScramLoginModule required "
                f'username="{user}" password="{password.get_secret_value()}";'
            ),
        }
    return listeners


def render_server_properties(settings: StackSettings, log_dir: Path, node: int = 1, brokers: int = 1) -> str:
    voters = ",".join(
        f"{each}@{settings.host}:{node_ports(settings, each).controller}" for each in range(1, brokers + 1)
    )
    properties = {
        "process.roles": "broker,controller",
        "node.id": str(node),
        "controller.quorum.voters": voters,
        **_listeners(settings, node),
        "log.dirs": str(log_dir),
        "num.partitions": "3",
        **_replicas(brokers),
        # Fewer offsets partitions than the default 50: the first consumer group creates them all, on 2 cores.
        "offsets.topic.num.partitions": "6",
        # Tests start consumer groups constantly; the default 3 s rebalance delay would only slow them down.
        "group.initial.rebalance.delay.ms": "0",
        "delete.topic.enable": "true",
        # Retention enforced within seconds of a segment expiring (the default looks every 5 minutes): the
        # compacted-topic test shows a delete-policy topic losing old periods, the compacted one keeping them.
        "log.retention.check.interval.ms": "5000",
    }
    return "".join(f"{key}={value}\n" for key, value in properties.items())


def new_cluster_id() -> str:
    """A KRaft cluster id: 16 random bytes, URL-safe base64, unpadded (like `kafka-storage random-uuid`).

    Like Kafka's own `Uuid.randomUuid`, an id starting with "-" is drawn again: the storage tool's argument
    parser would read it as an option (1 id in 64 did, and failed the stack's start).
    """
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


class KafkaServer(ManagedServer):
    """Node `node` of a cluster of `brokers` (1 of 1: the single node the stack runs by default)."""

    server = Server.KAFKA

    def __init__(self, settings: StackSettings, node: int = 1, brokers: int = 1) -> None:
        super().__init__(settings)
        self.node, self.brokers = node, brokers

    @property
    def name(self) -> str:
        return "kafka" if self.brokers == 1 else f"kafka-{self.node}"

    @property
    def home(self) -> Path:
        if self.brokers == 1:
            return self.settings.state_dir / "kafka"
        return self.settings.state_dir / f"kafka-{self.node}of{self.brokers}"

    @property
    def jars(self) -> Path:
        return self.settings.jars_root / "kafka"

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def properties_file(self) -> Path:
        return self.home / "server.properties"

    @property
    def marker(self) -> str:
        return str(self.properties_file)

    @property
    def port(self) -> int:
        return node_ports(self.settings, self.node).client

    @property
    def endpoint(self) -> str:
        return f"{self.settings.host}:{self.port}"

    @property
    def cluster_id_file(self) -> Path:
        # Every node of a cluster is formatted with the same id.
        return self.settings.state_dir / f"kafka-{self.brokers}.cluster-id"

    @property
    def jmx_exporter_port(self) -> int | None:
        first = self.settings.kafka_jmx_exporter_port
        return None if first is None else first + self.node - 1

    @property
    def jmx_exporter_jars(self) -> Path:
        return self.settings.jars_root / "jmx-exporter"

    def _agent(self) -> list[str]:
        """Prometheus's JMX exporter inside the JVM, serving /metrics on its own port."""
        if self.jmx_exporter_port is None:
            return []
        [jar] = sorted(self.jmx_exporter_jars.glob("jmx_prometheus_javaagent-*.jar"))
        rules = self.settings.deploy_dir / "kafka" / "jmx-exporter.yml"
        return [f"-javaagent:{jar}={self.settings.host}:{self.jmx_exporter_port}:{rules}"]

    def _java(self) -> list[str]:
        return [
            str(find_java()),
            f"-Xmx{self.settings.kafka_heap}",
            "-Xms128m",
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            "-Djava.awt.headless=true",
            *self.settings.jvm_options.split(),
            f"-Dlog4j2.configurationFile={self.settings.deploy_dir / 'kafka' / 'log4j2.xml'}",
            "-cp",
            f"{self.jars}/*",
        ]

    def check_prerequisites(self) -> None:
        find_java()
        exporter_pom = self.settings.deploy_dir / "jmx-exporter" / "pom.xml"
        if not jars_current(self.settings.deploy_dir / "kafka" / "pom.xml", self.jars) or (
            self.jmx_exporter_port is not None and not jars_current(exporter_pom, self.jmx_exporter_jars)
        ):
            find_maven()

    def prepare(self) -> list[str]:
        steps = []
        self.home.mkdir(parents=True, exist_ok=True)
        if ensure_jars(self.settings.deploy_dir / "kafka" / "pom.xml", self.jars):
            steps.append("fetched Kafka jars")
        exporter_pom = self.settings.deploy_dir / "jmx-exporter" / "pom.xml"
        if self.jmx_exporter_port is not None and ensure_jars(exporter_pom, self.jmx_exporter_jars):
            steps.append("fetched the JMX exporter agent")
        # Rendered on every start so changed ports take effect; the storage itself is formatted only once.
        self.properties_file.write_text(
            render_server_properties(self.settings, self.data_dir, self.node, self.brokers)
        )
        self.properties_file.chmod(0o600)  # it holds the SCRAM password when SASL is on
        if not (self.data_dir / "meta.properties").is_file():
            self._format_storage()
            steps.append(f"formatted the storage of {self.name}")
        return steps

    def _cluster_id(self) -> str:
        if self.brokers == 1:
            return new_cluster_id()
        if not self.cluster_id_file.is_file():
            # The nodes prepare concurrently: each offers an id and the first linked into place wins (a link
            # never replaces a file, and the file is whole before it is linked), so every node reads one id.
            offered = self.cluster_id_file.with_name(f"{self.cluster_id_file.name}.{os.getpid()}.{self.node}")
            offered.write_text(new_cluster_id())
            try:
                os.link(offered, self.cluster_id_file)
            except FileExistsError:
                pass
            finally:
                offered.unlink()
        return self.cluster_id_file.read_text().strip()

    def _format_storage(self) -> None:
        user = self.settings.kafka_sasl_username
        password = ensure_credentials(kafka_credentials_file(self.settings), [user]).passwords[user]
        command = [
            *self._java(),
            "kafka.tools.StorageTool",
            "format",
            "--cluster-id",
            self._cluster_id(),
            "--config",
            str(self.properties_file),
            "--ignore-formatted",
            "--add-scram",
            f"{SASL_MECHANISM}=[name={user},password={password.get_secret_value()}]",
        ]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise StackError(f"Formatting Kafka storage failed:\n{result.stdout}{result.stderr}")

    def command(self) -> list[str]:
        java = self._java()
        return [*java[:1], *self._agent(), *java[1:], "kafka.Kafka", str(self.properties_file)]

    async def probe(self, timeout_s: float) -> None:
        # This node alone: its own address, the cluster's credentials.
        connection = replace(kafka_connection(self.settings, 1), bootstrap=self.endpoint)
        admin = AIOKafkaAdminClient(
            **connection.client_options(), request_timeout_ms=int(timeout_s * 1000), retry_backoff_ms=100
        )
        try:
            await asyncio.wait_for(admin.start(), timeout_s)
            await asyncio.wait_for(admin.list_topics(), timeout_s)
        finally:
            await admin.close()
