"""Settings every service shares; each service extends `CommonSettings` with its own `Settings`.

Nothing outside a `Settings` class reads the environment. Every variable is prefixed `WINDHASH_`, and the
defaults point at the local stack that `windhash stack up` starts, so a developer needs no configuration.
"""

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from windhash_common.topics import Topics

LOCAL_KAFKA_PORT = 19092
LOCAL_POSTGRES_PORT = 15432
LOCAL_DYNAMODB_PORT = 18000
LOCAL_ELEXON_PORT = 18080


class CommonSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WINDHASH_", extra="ignore")

    kafka_bootstrap: str = f"127.0.0.1:{LOCAL_KAFKA_PORT}"
    # A role and never a password: the local stack's password file supplies it (`?passfile=` in the DSN, or
    # PGPASSFILE, which `windhash` sets to the local stack's file). Each service runs as its own role
    # (windhash_common.db_roles); by hand, the operator's.
    database_url: str = f"postgresql://windhash_operator@127.0.0.1:{LOCAL_POSTGRES_PORT}/windhash"
    dynamodb_endpoint: str = f"http://127.0.0.1:{LOCAL_DYNAMODB_PORT}"
    aws_region: str = "eu-west-2"
    # DynamoDB Local accepts any credentials; real AWS takes the standard AWS_* variables instead.
    aws_access_key_id: str = "windhash"
    aws_secret_access_key: str = "windhash"
    difficulty_table: str = "windhash_difficulty"
    # How long a process trusts a difficulty it has read: a stored value can be corrected (`windhash
    # difficulty set`), which waits this long before it recalculates, so no calculator keeps the old value.
    difficulty_cache_seconds: float = Field(default=30.0, ge=0, le=3600)
    topic_prefix: str = "windhash"
    topic_partitions: int = 6
    log_level: str = "INFO"
    log_json: bool = False
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 0

    @property
    def topics(self) -> Topics:
        return Topics(prefix=self.topic_prefix)
