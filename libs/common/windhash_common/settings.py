"""Settings every service shares; each service extends `CommonSettings` with its own `Settings`.

Nothing outside a `Settings` class reads the environment. Every variable is prefixed `WINDHASH_`, and the
defaults point at the local stack that `windhash stack up` starts, so a developer needs no configuration.
"""

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from windhash_common.kafka_connection import KafkaConnection, SaslMechanism
from windhash_common.topics import TopicLayout, Topics

LOCAL_KAFKA_PORT = 19092
LOCAL_POSTGRES_PORT = 15432
LOCAL_DYNAMODB_PORT = 18000
LOCAL_ELEXON_PORT = 18080


class CommonSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WINDHASH_", extra="ignore")

    kafka_bootstrap: str = f"127.0.0.1:{LOCAL_KAFKA_PORT}"
    # SASL/SCRAM: set both to authenticate every Kafka client (the brokers then refuse anonymous ones).
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_sasl_mechanism: SaslMechanism = "SCRAM-SHA-512"
    # TLS to the brokers, checked against this CA bundle (unset: plaintext).
    kafka_ssl_cafile: Path | None = None
    # A role and never a password: the local stack's password file supplies it (`?passfile=` in the DSN, or
    # PGPASSFILE, which `windhash` sets to the local stack's file). Each service runs as its own role
    # (windhash_common.db_roles); by hand, the operator's.
    database_url: str = f"postgresql://windhash_operator@127.0.0.1:{LOCAL_POSTGRES_PORT}/windhash"
    # DynamoDB Local's URL (dummy keys); empty for AWS itself, reached with the standard credential chain
    # (AWS_PROFILE, AWS_ACCESS_KEY_ID, web identity, instance roles: windhash_common.aws_clients).
    dynamodb_endpoint: str | None = f"http://127.0.0.1:{LOCAL_DYNAMODB_PORT}"
    aws_region: str = "eu-west-2"
    difficulty_table: str = "windhash_difficulty"
    # How long a process trusts a difficulty it has read: a stored value can be corrected (`windhash
    # difficulty set`), which waits this long before it recalculates, so no calculator keeps the old value.
    difficulty_cache_seconds: float = Field(default=30.0, ge=0, le=3600)
    topic_prefix: str = "windhash"
    topic_partitions: int = Field(default=6, ge=1)
    # 3 and 2 on a production cluster: a write is acknowledged by 2 of 3 replicas (acks=all), so one broker
    # may fail without losing or refusing a write. 1 and 1 on the local single-broker stack.
    topic_replication_factor: int = Field(default=1, ge=1)
    topic_min_insync_replicas: int = Field(default=1, ge=1)
    # Published and failed outbox rows are deleted this long after they settled (outbox_pruning.py).
    outbox_retention_days: int = Field(default=30, ge=1)
    outbox_prune_interval_seconds: float = Field(default=3600.0, gt=0)
    log_level: str = "INFO"
    log_json: bool = False
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 0

    @property
    def topics(self) -> Topics:
        return Topics(prefix=self.topic_prefix)

    @property
    def topic_layout(self) -> TopicLayout:
        return TopicLayout(
            self.topic_partitions, self.topic_replication_factor, self.topic_min_insync_replicas
        )

    @property
    def kafka(self) -> KafkaConnection:
        return KafkaConnection(
            self.kafka_bootstrap,
            self.kafka_sasl_username,
            self.kafka_sasl_password,
            self.kafka_sasl_mechanism,
            self.kafka_ssl_cafile,
        )
