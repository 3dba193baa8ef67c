"""What the stack offers its clients, and how healthy each server is."""

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class Server(StrEnum):
    KAFKA = "kafka"
    POSTGRES = "postgres"
    DYNAMODB = "dynamodb"


@dataclass(frozen=True)
class StackEndpoints:
    kafka_bootstrap: str
    postgres_dsn: str
    dynamodb_endpoint: str

    def for_server(self, server: Server) -> str:
        return {
            Server.KAFKA: self.kafka_bootstrap,
            Server.POSTGRES: self.postgres_dsn,
            Server.DYNAMODB: self.dynamodb_endpoint,
        }[server]


@dataclass(frozen=True)
class ServerStatus:
    server: Server
    pid: int | None
    running: bool
    healthy: bool
    endpoint: str
    log_file: str
    detail: str = ""
    name: str = ""
    """kafka-1, kafka-2, ... for the nodes of a Kafka cluster; the server's name otherwise."""


@dataclass(frozen=True)
class StackStatus:
    endpoints: StackEndpoints
    servers: tuple[ServerStatus, ...]

    @property
    def healthy(self) -> bool:
        return all(status.healthy for status in self.servers)

    def to_json(self) -> dict[str, Any]:
        """The shape `windhash stack status --json` prints for scripts."""
        return {
            **asdict(self.endpoints),
            "healthy": self.healthy,
            "servers": {
                (status.name or status.server.value): {
                    "healthy": status.healthy,
                    "running": status.running,
                    "pid": status.pid,
                    "endpoint": status.endpoint,
                    "log_file": status.log_file,
                    "detail": status.detail,
                }
                for status in self.servers
            },
        }


@dataclass(frozen=True)
class UpReport:
    endpoints: StackEndpoints
    started: tuple[Server, ...]
    already_running: tuple[Server, ...]
    first_time_setup: tuple[str, ...]
    seconds: float
    # How long each server took until a real client got an answer (0 for one already running).
    server_seconds: dict[Server, float] = field(default_factory=dict)

    @property
    def cold(self) -> bool:
        return bool(self.first_time_setup)
