"""A single-node Apache Kafka 4.x broker in KRaft combined mode (broker and controller in one JVM)."""

import asyncio
import base64
import subprocess
import uuid
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient

from windhash_stack.endpoints import Server
from windhash_stack.errors import StackError
from windhash_stack.jars import ensure_jars, jars_current
from windhash_stack.prerequisites import find_java, find_maven
from windhash_stack.server_base import ManagedServer
from windhash_stack.settings import StackSettings

_NODE_ID = 1


def render_server_properties(settings: StackSettings, log_dir: Path) -> str:
    host = settings.host
    properties = {
        "process.roles": "broker,controller",
        "node.id": str(_NODE_ID),
        "controller.quorum.voters": f"{_NODE_ID}@{host}:{settings.kafka_controller_port}",
        "listeners": f"PLAINTEXT://{host}:{settings.kafka_port},CONTROLLER://{host}:{settings.kafka_controller_port}",
        "advertised.listeners": f"PLAINTEXT://{host}:{settings.kafka_port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "log.dirs": str(log_dir),
        "num.partitions": "3",
        # One broker: every internal topic must make do with a single replica.
        "offsets.topic.replication.factor": "1",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        # Fewer offsets partitions than the default 50: the first consumer group creates them all, on 2 cores.
        "offsets.topic.num.partitions": "6",
        # Tests start consumer groups constantly; the default 3 s rebalance delay would only slow them down.
        "group.initial.rebalance.delay.ms": "0",
        "delete.topic.enable": "true",
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
    server = Server.KAFKA

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
        return self.settings.kafka_port

    @property
    def endpoint(self) -> str:
        return f"{self.settings.host}:{self.settings.kafka_port}"

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
        if not jars_current(self.settings.deploy_dir / "kafka" / "pom.xml", self.jars):
            find_maven()

    def prepare(self) -> list[str]:
        steps = []
        self.home.mkdir(parents=True, exist_ok=True)
        if ensure_jars(self.settings.deploy_dir / "kafka" / "pom.xml", self.jars):
            steps.append("fetched Kafka jars")
        # Rendered on every start so changed ports take effect; the storage itself is formatted only once.
        self.properties_file.write_text(render_server_properties(self.settings, self.data_dir))
        if not (self.data_dir / "meta.properties").is_file():
            self._format_storage()
            steps.append("formatted Kafka storage")
        return steps

    def _format_storage(self) -> None:
        command = [
            *self._java(),
            "kafka.tools.StorageTool",
            "format",
            "--cluster-id",
            new_cluster_id(),
            "--config",
            str(self.properties_file),
            "--ignore-formatted",
        ]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise StackError(f"Formatting Kafka storage failed:\n{result.stdout}{result.stderr}")

    def command(self) -> list[str]:
        return [*self._java(), "kafka.Kafka", str(self.properties_file)]

    async def probe(self, timeout_s: float) -> None:
        admin = AIOKafkaAdminClient(
            bootstrap_servers=self.endpoint, request_timeout_ms=int(timeout_s * 1000), retry_backoff_ms=100
        )
        try:
            await asyncio.wait_for(admin.start(), timeout_s)
            await asyncio.wait_for(admin.list_topics(), timeout_s)
        finally:
            await admin.close()
