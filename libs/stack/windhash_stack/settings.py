"""Where the local stack keeps its state and which ports it listens on (env prefix `WINDHASH_STACK_`)."""

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from windhash_common.settings import LOCAL_DYNAMODB_PORT, LOCAL_KAFKA_PORT, LOCAL_POSTGRES_PORT

LOCAL_KAFKA_CONTROLLER_PORT = LOCAL_KAFKA_PORT + 1
STATE_DIR_NAME = ".windhash"


def find_repo_root(start: Path) -> Path | None:
    """The checkout this package was loaded from (nearest ancestor holding pyproject.toml and libs/)."""
    for candidate in (start, *start.parents):
        if (candidate / "pyproject.toml").is_file() and (candidate / "libs").is_dir():
            return candidate
    return None


def _checkout_root() -> Path:
    # Anchored to the checkout rather than the CWD, so `windhash stack` finds the same stack from any
    # directory; an installed (non-editable) copy has no checkout around it and falls back to the CWD.
    return find_repo_root(Path(__file__).resolve().parent) or Path.cwd()


def default_state_dir() -> Path:
    return _checkout_root() / STATE_DIR_NAME


def default_deploy_dir() -> Path:
    """The checked-in Maven projects (deploy/local/{kafka,dynamodb}/pom.xml) and the Kafka log4j2 config."""
    return _checkout_root() / "deploy" / "local"


class StackSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WINDHASH_STACK_", extra="ignore")

    state_dir: Path = Field(default_factory=default_state_dir)
    deploy_dir: Path = Field(default_factory=default_deploy_dir)
    # Where fetched jars are cached; defaults to <state_dir>/jars. A second stack can share the first one's.
    jars_dir: Path | None = None
    host: str = "127.0.0.1"
    kafka_port: int = LOCAL_KAFKA_PORT
    kafka_controller_port: int = LOCAL_KAFKA_CONTROLLER_PORT
    postgres_port: int = LOCAL_POSTGRES_PORT
    dynamodb_port: int = LOCAL_DYNAMODB_PORT
    postgres_user: str = "windhash"
    postgres_database: str = "windhash"
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
