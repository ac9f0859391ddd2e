"""Settings common to every service, read from `MTP_*` environment variables."""

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class CommonSettings(BaseSettings):
    """What every service needs to reach the broker, the database and the directory."""

    model_config = SettingsConfigDict(env_prefix="MTP_", extra="ignore")

    kafka_bootstrap: str = Field("127.0.0.1:9092", description="Kafka bootstrap servers, comma-separated.")
    database_url: str = Field("postgresql://postgres@127.0.0.1:5432/mtp", description="PostgreSQL DSN.")
    directory: Path | None = Field(
        None,
        description="The directory YAML file: who is who, their API key hashes and webhook secrets. "
        "Required: a service without one refuses to start.",
    )
    allow_example_directory: bool = Field(
        False,
        description="Start even though the directory holds the repository's published example keys or "
        "secrets. For a trial on one machine only; never where anything else can reach the services.",
    )
    topic_namespace: str = Field("", description="Prefix for topic and consumer-group names (tests).")
    topic_partitions: int = Field(
        12,
        ge=1,
        description="Partitions for topics this system creates (up to as many instances of a service share the work).",
    )
    kafka_fetch_max_wait_ms: int = Field(20, ge=2, description="Consumer poll wait; keep small on Tansu.")
    kafka_commit_interval_seconds: float = Field(
        1.0,
        gt=0,
        description="How often a consumer commits the offsets it has applied. Events applied since the "
        "last commit are read again after a crash and skipped as repeats.",
    )
    kafka_session_timeout_ms: int = Field(10_000, ge=1_000, description="Consumer group session timeout.")
    kafka_linger_ms: int = Field(
        0,
        ge=0,
        description="Producer batching delay. Relays hand the producer every row they read at once, so "
        "those rows travel together anyway; a delay would only add latency.",
    )
    kafka_enable_idempotence: bool = Field(False, description="Idempotent producer (real Kafka only).")
    db_pool_max: int = Field(10, ge=2, description="Largest database pool size per process.")
    log_level: str = Field("info", description="debug, info, warning or error.")
    http_host: str = Field("127.0.0.1", description="Interface the service's HTTP server listens on.")
