"""Where the local stack keeps its state and which ports it listens on (env prefix `WINDHASH_STACK_`)."""

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict
from windhash_common.local_stack_location import (
    STATE_DIR_NAME,
    LocalStackLocation,
    checkout_root,
    default_state_dir,
    find_repo_root,
)
from windhash_common.settings import LOCAL_DYNAMODB_PORT, LOCAL_KAFKA_PORT, LOCAL_POSTGRES_PORT

__all__ = ["STATE_DIR_NAME", "StackSettings", "default_state_dir", "find_repo_root"]

LOCAL_KAFKA_CONTROLLER_PORT = LOCAL_KAFKA_PORT + 1


def default_deploy_dir() -> Path:
    """The checked-in Maven projects (deploy/local/{kafka,dynamodb}/pom.xml) and the Kafka log4j2 config."""
    return checkout_root() / "deploy" / "local"


class StackSettings(LocalStackLocation):
    model_config = SettingsConfigDict(env_prefix="WINDHASH_STACK_", extra="ignore")

    deploy_dir: Path = Field(default_factory=default_deploy_dir)
    # Where fetched jars are cached; defaults to <state_dir>/jars. A second stack can share the first one's.
    jars_dir: Path | None = None
    host: str = "127.0.0.1"
    kafka_port: int = LOCAL_KAFKA_PORT
    kafka_controller_port: int = LOCAL_KAFKA_CONTROLLER_PORT
    # Nodes of the Kafka cluster (`stack up --brokers N`); None: as many as the last `up` started, else 1.
    # Node N listens on kafka_port + 2(N-1) and kafka_controller_port + 2(N-1).
    kafka_brokers: int | None = Field(default=None, ge=1, le=5)
    # Require SASL/SCRAM-SHA-512 from every Kafka client (kafka_server.py); the password is generated.
    kafka_sasl: bool = False
    kafka_sasl_username: str = "windhash"
    # Prometheus's JMX exporter agent in each Kafka node (node N on this port + N - 1); None: no agent.
    kafka_jmx_exporter_port: int | None = 19188
    postgres_port: int = LOCAL_POSTGRES_PORT
    dynamodb_port: int = LOCAL_DYNAMODB_PORT
    postgres_user: str = "windhash"
    postgres_database: str = "windhash"
    # Server libraries to preload (`shared_preload_libraries`), e.g. "pg_stat_statements" for a profiled
    # bench (`windhash bench --profile`); none by default.
    postgres_preload: str = ""
    # The OS account PostgreSQL runs under when we are root (postgres refuses to run as root).
    postgres_os_user: str = "windhash-pg"
    # The machines have 2 cores and several JVMs share them: keep heaps small.
    kafka_heap: str = "512m"
    dynamodb_heap: str = "256m"
    # C1 only: on 2 busy cores it halves JVM start-up (Kafka ~9 s → ~4.5 s) and these servers carry test-sized
    # loads, where C2's peak throughput does not matter. Set to "" for benchmarks against the local stack.
    jvm_options: str = "-XX:TieredStopAtLevel=1"
    startup_timeout_s: float = 180.0
    stop_timeout_s: float = 30.0

    @property
    def jars_root(self) -> Path:
        return self.jars_dir or self.state_dir / "jars"

    def with_port_offset(self, offset: int, state_dir: Path) -> "StackSettings":
        """A second, independent stack (e.g. for a test that must stop its own servers)."""
        return self.model_copy(
            update={
                "state_dir": state_dir,
                "jars_dir": self.jars_root,
                "kafka_port": self.kafka_port + offset,
                "kafka_controller_port": self.kafka_controller_port + offset,
                "postgres_port": self.postgres_port + offset,
                "dynamodb_port": self.dynamodb_port + offset,
            }
        )
