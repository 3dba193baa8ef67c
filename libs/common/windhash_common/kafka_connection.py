"""How every windhash Kafka client connects: the bootstrap servers and, optionally, SASL/SCRAM and TLS.

One place turns the settings (`WINDHASH_KAFKA_*`) into the options of each kind of client, so the consumer
runtime, the FastStream publishers, the admin clients and the reconciler's topic reader authenticate the same
way. Without a username the connection is plaintext and anonymous (the local stack's default); with
`WINDHASH_KAFKA_SASL_USERNAME` and `WINDHASH_KAFKA_SASL_PASSWORD` every client authenticates with SCRAM, and
a broker that requires it refuses anonymous producers (`windhash stack up` with
`WINDHASH_STACK_KAFKA_SASL=true`; tests/integration/test_kafka_sasl.py).
"""

import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from faststream.security import BaseSecurity, SASLScram256, SASLScram512
from pydantic import SecretStr

SaslMechanism = Literal["SCRAM-SHA-256", "SCRAM-SHA-512"]


@dataclass(frozen=True)
class KafkaConnection:
    bootstrap: str
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    sasl_mechanism: SaslMechanism = "SCRAM-SHA-512"
    # TLS: on when a CA file is given (the brokers' certificates are checked against it).
    ssl_cafile: Path | None = None

    def __post_init__(self) -> None:
        if (self.sasl_username is None) != (self.sasl_password is None):
            raise ValueError("Kafka SASL needs both a username and a password, or neither")

    @property
    def servers(self) -> list[str]:
        """The bootstrap servers one by one (`host:port,host:port`: clients want them as a list)."""
        return [server.strip() for server in self.bootstrap.split(",") if server.strip()]

    @property
    def authenticated(self) -> bool:
        return self.sasl_username is not None

    @property
    def security_protocol(self) -> str:
        tls = self.ssl_cafile is not None
        if self.authenticated:
            return "SASL_SSL" if tls else "SASL_PLAINTEXT"
        return "SSL" if tls else "PLAINTEXT"

    def ssl_context(self) -> ssl.SSLContext | None:
        if self.ssl_cafile is None:
            return None
        return ssl.create_default_context(cafile=str(self.ssl_cafile))

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments for aiokafka's consumer, producer and admin client."""
        options: dict[str, Any] = {
            "bootstrap_servers": self.servers,
            "security_protocol": self.security_protocol,
        }
        if self.ssl_cafile is not None:
            options["ssl_context"] = self.ssl_context()
        if self.sasl_username is not None and self.sasl_password is not None:
            options |= {
                "sasl_mechanism": self.sasl_mechanism,
                "sasl_plain_username": self.sasl_username,
                "sasl_plain_password": self.sasl_password.get_secret_value(),
            }
        return options

    def faststream_security(self) -> BaseSecurity | None:
        """The same, as FastStream's `security=` of a KafkaBroker."""
        context = self.ssl_context()
        if self.sasl_username is None or self.sasl_password is None:
            return BaseSecurity(ssl_context=context) if context is not None else None
        scram = SASLScram512 if self.sasl_mechanism == "SCRAM-SHA-512" else SASLScram256
        return scram(self.sasl_username, self.sasl_password.get_secret_value(), ssl_context=context)


KafkaTarget = KafkaConnection | str
"""A connection, or bare bootstrap servers (plaintext, anonymous: the local stack and most tests)."""


def as_connection(target: KafkaTarget) -> KafkaConnection:
    return target if isinstance(target, KafkaConnection) else KafkaConnection(target)
